//! `--ndjson`, Ctrl-C, the table's widths and UUIDs, `--sort offline` and
//! the log's client spans, run as a user runs them: the binary as a child
//! process against the fake server started here.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use rhombus_fake::{FAKE_API_KEY, FakeCamera, FakeFleet, FakeOptions, FakeServer};
use serde_json::Value;
use unicode_width::UnicodeWidthStr;

/// The binary, set to audit the fake server's account.
fn command(server: &FakeServer, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rhombus-audit"));
    command.args(args).env_remove("RHOMBUS_AUTH_SCHEME");
    command.env("RHOMBUS_API_KEY", FAKE_API_KEY);
    command.env("RHOMBUS_BASE_URL", server.uri());
    command
}

/// Runs it to the end, off the runtime (the server must keep answering).
async fn audit(server: &FakeServer, args: &[&str]) -> Output {
    let mut command = command(server, args);
    tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
        .await
        .expect("waited for")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

fn lines(output: &Output) -> Vec<Value> {
    (text(&output.stdout).lines())
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn ndjson_is_a_line_per_client_then_a_summary_with_the_json_totals() {
    let server = FakeServer::start(FakeFleet::demo(), FakeOptions::default()).await;
    let output = audit(&server, &["--ndjson", "-q"]).await;
    assert_eq!(output.status.code(), Some(1), "the demo is incomplete");
    let lines = lines(&output);
    let (summary, clients) = lines.split_last().expect("lines");
    assert_eq!(clients.len(), 12);
    assert!(clients.iter().all(|c| c["kind"] == "client"));
    assert_eq!(summary["kind"], "summary");
    assert_eq!(summary["interrupted"], false);
    assert_eq!(summary["clients_audited"], 12);
    let json = audit(&server, &["--json", "-q"]).await;
    let document: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    for field in [
        "totals",
        "fleet_firmware",
        "license_pool",
        "complete",
        "clients_selected",
    ] {
        assert_eq!(summary[field], document[field], "{field}");
    }
    let mut record = clients[0].clone();
    record.as_object_mut().expect("an object").remove("kind");
    let uuid = &record["client_uuid"];
    let same = (document["clients"].as_array().expect("clients").iter())
        .find(|c| &c["client_uuid"] == uuid);
    assert_eq!(Some(&record), same, "the record --json gives");
    let both = audit(&server, &["--ndjson", "--json"]).await;
    assert_eq!(both.status.code(), Some(2));
}

/// A fleet slow enough to interrupt: 40 clients, 2 at once, 150 ms an
/// answer (each client's alerts take several pages for some).
async fn slow_server() -> FakeServer {
    let options = FakeOptions {
        latency: Duration::from_millis(150),
        ..FakeOptions::default()
    };
    FakeServer::start(FakeFleet::generated(40), options).await
}

/// Starts the audit, waits until `ready` says so of its stdout read so far
/// (or `wait`), sends SIGINT, and returns its exit status and whole output.
async fn interrupt(server: &FakeServer, args: &[&str], wait: Duration) -> (Option<i32>, String) {
    let mut command = command(server, args);
    command.stdout(Stdio::piped()).stderr(Stdio::null());
    let ndjson = args.contains(&"--ndjson");
    tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().expect("the binary starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
        let mut seen = String::new();
        if ndjson {
            // Two clients finished, then Ctrl-C.
            for _ in 0..2 {
                stdout.read_line(&mut seen).expect("a line");
            }
        } else {
            std::thread::sleep(wait);
        }
        // SAFETY: the child's pid, not yet waited for.
        let sent = unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        assert_eq!(sent, 0);
        stdout.read_to_string(&mut seen).expect("the rest");
        (child.wait().expect("it ends").code(), seen)
    })
    .await
    .expect("waited for")
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_prints_the_clients_done_and_exits_130() {
    let server = slow_server().await;
    let args = ["--ndjson", "-q", "--concurrency", "2"];
    let (code, out) = interrupt(&server, &args, Duration::ZERO).await;
    assert_eq!(code, Some(130), "{out}");
    let lines: Vec<Value> = (out.lines())
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let (summary, clients) = lines.split_last().expect("lines");
    assert!(
        clients.len() >= 2 && clients.len() < 40,
        "{}",
        clients.len()
    );
    assert_eq!(summary["kind"], "summary");
    assert_eq!(summary["interrupted"], true);
    assert_eq!(summary["complete"], false);
    assert_eq!(summary["clients_audited"], clients.len());
    let not_audited = summary["not_audited"].as_array().expect("a list");
    assert_eq!(clients.len() + not_audited.len(), 40);

    let args = ["--json", "-q", "--concurrency", "2"];
    let (code, out) = interrupt(&server, &args, Duration::from_millis(2500)).await;
    assert_eq!(code, Some(130), "{out}");
    let document: Value = serde_json::from_str(&out).expect("a JSON document");
    let done = document["clients"].as_array().expect("clients").len();
    let left = document["not_audited"]
        .as_array()
        .expect("not_audited")
        .len();
    assert!(done >= 1 && done + left == 40, "{done} + {left}");
    assert_eq!(document["interrupted"], true);

    let args = ["-q", "--concurrency", "2"];
    let (code, out) = interrupt(&server, &args, Duration::from_millis(2500)).await;
    assert_eq!(code, Some(130), "{out}");
    assert!(out.contains("INTERRUPTED (Ctrl-C)"), "{out}");
    assert!(out.contains("Not audited (interrupted)"), "{out}");
}

/// A generated fleet of `n`, with these names for its first clients.
fn named(n: usize, names: &[&str]) -> FakeFleet {
    let mut fleet = FakeFleet::generated(n);
    for (client, name) in fleet.clients.iter_mut().zip(names) {
        client.name = (*name).to_owned();
    }
    fleet
}

#[tokio::test(flavor = "multi_thread")]
async fn the_table_aligns_double_width_names_and_tells_same_names_apart() {
    let long = "A client whose name goes on well past thirty columns";
    let fleet = named(4, &["東京オフィス", "Same Name", "Same Name", long]);
    let server = FakeServer::start(fleet.clone(), FakeOptions::default()).await;
    let output = audit(&server, &["-q"]).await;
    let table = text(&output.stdout);
    let rows: Vec<&str> = (table.lines())
        .skip_while(|l| !l.starts_with("----"))
        .skip(1)
        .take_while(|l| !l.starts_with("----"))
        .collect();
    assert_eq!(rows.len(), 4, "{table}");
    let widths: Vec<usize> = rows.iter().map(|r| r.width()).collect();
    assert!(
        widths.iter().all(|w| *w == widths[0]),
        "{widths:?}\n{table}"
    );
    assert!(
        rows.iter().any(|r| r.starts_with("東京オフィス ")),
        "{table}"
    );
    let short = |n: usize| {
        let uuid = &fleet.clients[n].uuid;
        uuid[uuid.len() - 8..].to_owned()
    };
    let same: Vec<&&str> = rows.iter().filter(|r| r.starts_with("Same Name")).collect();
    assert!(
        same[0].contains(&short(1)) && same[1].contains(&short(2)),
        "{table}"
    );
    assert!(
        rows.iter()
            .any(|r| r.contains("A client whose name goes on w… ")),
        "{table}"
    );

    let wide = audit(&server, &["-q", "--wide"]).await;
    let table = text(&wide.stdout);
    assert!(table.contains(long), "{table}");
    assert!(
        table.contains(&fleet.clients[0].uuid),
        "full UUIDs: {table}"
    );
}

fn camera(connection: &str) -> FakeCamera {
    FakeCamera {
        connection: connection.to_owned(),
        health: "NONE".to_owned(),
        firmware_behind: false,
        updating: false,
        unnamed: false,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sort_offline_counts_offline_cameras_only() {
    let mut fleet = named(2, &["Many degraded", "More offline"]);
    fleet.clients[0].cameras = [vec![camera("RED")], vec![camera("ORANGE"); 5]].concat();
    fleet.clients[1].cameras = vec![camera("RED"), camera("RED"), camera("GREEN")];
    let server = FakeServer::start(fleet, FakeOptions::default()).await;
    let output = audit(&server, &["--json", "--sort", "offline"]).await;
    let document: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let names: Vec<&str> = (document["clients"].as_array().expect("clients").iter())
        .map(|c| c["client_name"].as_str().expect("a name"))
        .collect();
    assert_eq!(names, ["More offline", "Many degraded"]);
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_rhombus-audit"))
        .arg("--help")
        .output()
        .expect("help");
    let help = text(&help.stdout);
    assert!(help.contains("degraded cameras do not"), "{help}");
}

#[tokio::test(flavor = "multi_thread")]
async fn each_log_line_about_a_client_names_it_and_fields_do_not_pile_up() {
    let options = FakeOptions {
        rate_limit_every: Some(1),
        ..FakeOptions::default()
    };
    let server = FakeServer::start(FakeFleet::generated(2), options).await;
    let output = audit(&server, &["--json", "-vv", "--concurrency", "2"]).await;
    assert_eq!(output.status.code(), Some(0));
    let log = text(&output.stderr);
    // The calls made inside the clients (not the listing, not the pool).
    let inside = [
        "getMinimalCameraStateList",
        "getMinimalDoorStateList",
        "getPolicyAlertsV2",
        "getUsersInOrg",
        "getDeviceLicenses",
    ];
    let calls: Vec<&str> = (log.lines())
        .filter(|l| l.contains("attempt=") && inside.iter().any(|op| l.contains(op)))
        .collect();
    assert!(calls.iter().any(|l| l.contains("retrying")), "{log}");
    assert!(calls.iter().any(|l| l.contains("status=429")), "{log}");
    for line in &calls {
        assert!(line.contains("client{client_org=fLeEtClIeNt"), "{line}");
        assert!(line.contains("client_name=\"Client 0000"), "{line}");
        assert_eq!(line.matches("attempt=").count(), 1, "{line}");
        assert!(line.matches("status=").count() <= 1, "{line}");
    }
}

/// The audit's peak resident set, in KiB, as `/usr/bin/time` reports it
/// (the audit is its child, not ours: a child of this process would count
/// this process's memory from before its `exec`).
fn peak_rss_kib(server: &FakeServer, args: &[&str]) -> u64 {
    let mut command = Command::new("/usr/bin/time");
    command.args(["-f", "%M", env!("CARGO_BIN_EXE_rhombus-audit")]);
    command.args(args).env_remove("RHOMBUS_AUTH_SCHEME");
    command.env("RHOMBUS_API_KEY", FAKE_API_KEY);
    command.env("RHOMBUS_BASE_URL", server.uri());
    let output = command.stdout(Stdio::null()).output().expect("time runs");
    let stderr = text(&output.stderr);
    let last = stderr.lines().last().expect("time's line");
    last.trim().parse().expect("KiB")
}

/// Measures, not checks: `cargo test -p rhombus-audit --test stream --
/// --ignored --nocapture peak`. The peak resident set of each output over
/// a generated fleet (`PEAK_CLIENTS`, 1,000 by default).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement; run by hand"]
async fn peak_memory_of_ndjson_against_json() {
    let clients = std::env::var("PEAK_CLIENTS").map_or(1000, |n| n.parse().expect("a number"));
    let server = FakeServer::start(FakeFleet::generated(clients), FakeOptions::default()).await;
    let server = std::sync::Arc::new(server);
    for output in ["--ndjson", "--json", "--csv", "--wide", "--ndjson"] {
        let server = server.clone();
        let kib = tokio::task::spawn_blocking(move || peak_rss_kib(&server, &[output, "-q"]))
            .await
            .expect("waited for");
        println!("{clients} clients, {output}: peak RSS {kib} KiB");
    }
}
