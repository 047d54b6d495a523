//! `rhombus-audit` run as a user runs it: a child process, its table, JSON
//! and CSV parsed, its exit status read, against the fake server it embeds
//! or one started here.

use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::time::Duration;

use rhombus_audit::fake::{BUSY, FAKE_API_KEY, FakeClient, FakeFleet, FakeOptions, FakeServer};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The fields of a client record, in order, as the README documents them.
const FIELDS: [&str; 13] = [
    "client_uuid",
    "client_name",
    "audited",
    "error",
    "cameras",
    "cameras_offline",
    "cameras_degraded",
    "cameras_unknown_status",
    "doors",
    "policy_alerts_7d",
    "users",
    "licenses_ending_30d",
    "licenses_trial",
];

/// Runs the binary with `args` and only the `env` given of Rhombus' own.
fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rhombus-audit"));
    command.args(args);
    for name in ["RHOMBUS_API_KEY", "RHOMBUS_BASE_URL", "RHOMBUS_AUTH_SCHEME"] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    command.output().expect("the binary runs")
}

/// Runs it from async code, where a server of this process must keep
/// answering meanwhile.
async fn run_async(args: &[&str], env: &[(&str, &str)]) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run(&args, &env)
    })
    .await
    .expect("the child process is waited for")
}

/// Runs the audit of the fake server's account, with its key.
async fn audit_fake(server: &FakeServer, args: &[&str]) -> Output {
    let uri = server.uri();
    let env = [
        ("RHOMBUS_API_KEY", FAKE_API_KEY),
        ("RHOMBUS_BASE_URL", &uri),
    ];
    run_async(args, &env).await
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

/// What the audit must find in a client of the fake fleet, in the order
/// of the counts in [`FIELDS`] (from `cameras`).
fn expected(client: &FakeClient) -> [u64; 9] {
    let status = |wanted: &[&str]| {
        client
            .cameras
            .iter()
            .filter(|s| wanted.contains(&s.as_str()))
            .count() as u64
    };
    let known = status(&["GREEN", "RED", "ORANGE", "YELLOW"]);
    [
        client.cameras.len() as u64,
        status(&["RED"]),
        status(&["ORANGE", "YELLOW"]),
        client.cameras.len() as u64 - known,
        client.doors as u64,
        client.alerts_last_week as u64,
        client.users as u64,
        client.licenses.iter().filter(|l| l.days_left <= 30).count() as u64,
        client.licenses.iter().filter(|l| l.trial).count() as u64,
    ]
}

/// The table's client rows: name, and counts or an error.
fn table_rows(table: &str) -> Vec<(String, Result<Vec<u64>, String>)> {
    let rule = |line: &str| line.starts_with("----");
    let lines: Vec<&str> = table.lines().collect();
    let first = lines
        .iter()
        .position(|l| rule(l))
        .expect("a rule under the header");
    let last = lines
        .iter()
        .rposition(|l| rule(l))
        .expect("a rule over the totals");
    (lines[first + 1..last].iter().chain([&lines[last + 1]]))
        .map(|line| {
            let (name, rest) = line.split_at(30);
            let rest = rest.trim();
            let counts = match rest.strip_prefix("error: ") {
                Some(error) => Err(error.to_owned()),
                None => Ok(rest
                    .split_whitespace()
                    .map(|n| n.parse().expect("a count"))
                    .collect()),
            };
            (name.trim().to_owned(), counts)
        })
        .collect()
}

#[test]
fn without_a_key_it_audits_the_demo_partner_with_one_error_row_and_exits_1() {
    let output = run(&[], &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("RHOMBUS_API_KEY is not set"));
    let table = stdout(&output);
    let rows = table_rows(&table);
    let (totals, rows) = rows.split_last().expect("a totals row");

    let fleet = FakeFleet::demo();
    let mut names: Vec<&str> = fleet.clients.iter().map(|c| c.name.as_str()).collect();
    names.sort_by_key(|name| name.to_lowercase());
    let shown: Vec<&str> = rows.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(shown, names, "every client, sorted by name");

    let mut sum = [0; 9];
    for (name, counts) in rows {
        let client = fleet
            .clients
            .iter()
            .find(|c| &c.name == name)
            .expect("a demo client");
        match counts {
            Ok(counts) => {
                assert_eq!(counts[..], expected(client), "{name}");
                sum.iter_mut().zip(counts).for_each(|(s, c)| *s += c);
            }
            Err(error) => {
                assert!(!client.access_allowed, "{name}: {error}");
                assert!(error.contains("partner access refused (403)"), "{error}");
                assert!(
                    error.contains("ask the client to allow partner access"),
                    "{error}"
                );
            }
        }
    }
    assert_eq!(totals.0, "total (11 audited)");
    assert_eq!(totals.1.as_ref().expect("totals")[..], sum);
    assert!(table.contains("1 client(s) not audited"), "{table}");
}

#[test]
fn the_demo_covers_what_the_audit_looks_for() {
    let fleet = FakeFleet::demo();
    let sum = |n: usize| fleet.clients.iter().map(|c| expected(c)[n]).sum::<u64>();
    // Offline, degraded and unknown cameras; ending licenses and trials.
    for n in [1, 2, 3, 7, 8] {
        assert!(sum(n) > 0, "count {} is never above 0", FIELDS[4 + n]);
    }
    let busy = fleet.client(BUSY).expect("the busy client");
    assert!(busy.alerts_last_week > 2 * rhombus_audit::audit::ALERT_PAGE);
}

#[test]
fn json_has_one_documented_record_per_client_and_the_pool() {
    let output = run(&["--json"], &[]);
    assert_eq!(output.status.code(), Some(1));
    let document: Value = serde_json::from_str(&stdout(&output)).expect("stdout is JSON");
    assert_eq!(document["complete"], false);
    let fleet = FakeFleet::demo();
    let records = document["clients"].as_array().expect("a clients array");
    assert_eq!(records.len(), fleet.clients.len());
    for record in records {
        let keys: Vec<&str> = record
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut documented = FIELDS.to_vec();
        documented.sort_unstable();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(keys, documented);
        let client = fleet
            .client(record["client_uuid"].as_str().expect("a uuid"))
            .expect("known");
        assert_eq!(record["client_name"], client.name.as_str());
        assert_eq!(record["audited"], client.access_allowed);
        let counts: Vec<Option<u64>> = FIELDS[4..].iter().map(|f| record[f].as_u64()).collect();
        if client.access_allowed {
            assert_eq!(record["error"], Value::Null);
            let counts: Vec<u64> = counts.into_iter().map(|c| c.expect("a count")).collect();
            assert_eq!(counts[..], expected(client), "{}", client.name);
        } else {
            assert!(record["error"].as_str().expect("an error").contains("403"));
            assert!(
                counts.iter().all(Option::is_none),
                "no counts for a client not audited"
            );
        }
    }
    let pool = document["license_pool"].as_array().expect("a pool");
    let line = |code: &str| {
        pool.iter()
            .find(|p| p["product_code"] == code)
            .expect(code)
            .clone()
    };
    let need = |code: &str| {
        (fleet.clients.iter().filter(|c| c.access_allowed))
            .flat_map(|c| &c.licenses)
            .filter(|l| l.product == code && (l.trial || l.days_left <= 30))
            .count() as u64
    };
    for product in &fleet.pool {
        let line = line(&product.product);
        assert_eq!(line["unassigned"], product.unassigned);
        assert_eq!(line["needed"], need(&product.product));
        let short = need(&product.product).saturating_sub(product.unassigned as u64);
        assert_eq!(line["short"], short, "{}", product.product);
    }
}

#[test]
fn csv_has_the_documented_header_and_one_line_per_client() {
    let output = run(&["--csv", "--sort", "offline"], &[]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, FIELDS);
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a record")).collect();
    let fleet = FakeFleet::demo();
    assert_eq!(records.len(), fleet.clients.len());
    let mut last_unhealthy = u64::MAX;
    for record in &records {
        let client = fleet.client(&record[0]).expect("a demo client");
        if record[2] == *"false" {
            assert!(record[3].contains("403"));
            assert!((4..13).all(|n| record[n].is_empty()), "empty counts");
            assert_eq!(
                record,
                records.last().expect("rows"),
                "the error row sorts last"
            );
            continue;
        }
        let counts: Vec<u64> = (4..13)
            .map(|n| record[n].parse().expect("a count"))
            .collect();
        assert_eq!(counts[..], expected(client));
        let unhealthy = counts[1] + counts[2];
        assert!(unhealthy <= last_unhealthy, "--sort offline: most first");
        last_unhealthy = unhealthy;
    }
}

#[test]
fn clients_audits_a_subset_by_uuid_or_name_and_refuses_unknown_ones() {
    let fleet = FakeFleet::demo();
    let (first, second) = (&fleet.clients[0], &fleet.clients[1]);
    let wanted = format!("{},{}", first.uuid, second.name.to_uppercase());
    let output = run(&["--json", "--clients", &wanted], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let document: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(document["complete"], true);
    let uuids: Vec<&str> = (document["clients"].as_array().expect("clients").iter())
        .map(|r| r["client_uuid"].as_str().expect("uuid"))
        .collect();
    assert_eq!(uuids, [first.uuid.as_str(), second.uuid.as_str()]);

    let output = run(&["--clients", "Acme Logistics,,Bayside Dental Group"], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("a value is required for '--clients"));

    let output = run(&["--clients", "Nobody Inc,Acme Logistics"], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let error = stderr(&output);
    assert!(error.contains("no client matches Nobody Inc:"), "{error}");
    assert!(!error.contains("Acme"), "{error}");
}

#[test]
fn help_names_the_outputs_and_the_exit_statuses_and_bad_arguments_exit_2() {
    let output = run(&["--help"], &[]);
    assert_eq!(output.status.code(), Some(0));
    let help = stdout(&output);
    for promise in [
        "--json",
        "--csv",
        "--clients",
        "--concurrency",
        "--sort",
        "Exit status: 0",
    ] {
        assert!(help.contains(promise), "{promise} in\n{help}");
    }
    for args in [
        &["--concurrency", "0"][..],
        &["--json", "--csv"],
        &["--sort", "size"],
    ] {
        let output = run(args, &[]);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn quiet_drops_the_note_and_an_empty_key_or_a_base_url_without_a_key_says_what_to_set() {
    let quiet = run(&["--quiet"], &[]);
    assert_eq!(quiet.status.code(), Some(1));
    assert!(quiet.stderr.is_empty(), "no note about the fake server");
    let output = run(&[], &[("RHOMBUS_API_KEY", " ")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("RHOMBUS_API_KEY is set but empty"));
    let output = run(&[], &[("RHOMBUS_BASE_URL", "http://127.0.0.1:9")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("RHOMBUS_BASE_URL is set but RHOMBUS_API_KEY is not"));
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_key_it_audits_that_account_and_a_refused_key_audits_nothing() {
    let server = FakeServer::start(FakeFleet::generated(30), FakeOptions::default()).await;
    let output = audit_fake(&server, &["--json"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let document: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(document["clients"].as_array().expect("clients").len(), 30);
    assert!(
        stderr(&output).is_empty(),
        "no note about a fake server: {}",
        stderr(&output)
    );

    let (key, uri) = ("wrong-key-5d1c9e", server.uri());
    let output = run_async(&[], &[("RHOMBUS_API_KEY", key), ("RHOMBUS_BASE_URL", &uri)]).await;
    assert_eq!(output.status.code(), Some(3));
    assert!(output.stdout.is_empty());
    let error = stderr(&output);
    assert!(
        error.contains("the API key was refused (401): check RHOMBUS_API_KEY"),
        "{error}"
    );
    assert!(!error.contains(key), "{error}");

    // Nothing listens on the discard port.
    let closed = [
        ("RHOMBUS_API_KEY", key),
        ("RHOMBUS_BASE_URL", "http://127.0.0.1:9"),
    ];
    let output = run_async(&[], &closed).await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stderr(&output).contains("cannot list the partner's clients"));
}

#[tokio::test(flavor = "multi_thread")]
async fn api_warnings_are_logged_and_formula_names_are_inert_in_csv_only() {
    let answer = serde_json::json!({ "warningMsg": "this call goes away in May" });
    let name = "=HYPERLINK(\"http://x.example\")";
    let server = one_client_server(name, ResponseTemplate::new(200).set_body_json(answer)).await;
    let output = audit_of(&server, &["--csv"]).await;
    assert_eq!(output.status.code(), Some(0));
    let log = stderr(&output);
    assert!(
        log.contains("WARN") && log.contains("this call goes away in May"),
        "{log}"
    );
    let text = stdout(&output);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let record = reader.records().next().expect("a record").expect("parses");
    assert_eq!(&record[1], format!("'{name}"));
    let output = audit_of(&server, &["--json"]).await;
    let document: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(document["clients"][0]["client_name"], name);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_listed_without_a_uuid_gets_an_error_row() {
    let answer = ResponseTemplate::new(200).set_body_json(serde_json::json!({}));
    let server = one_client_server("Fine Co", answer).await;
    let listing = serde_json::json!({ "clients": [
        { "clientOrgUuid": ORG, "clientOrgName": "Fine Co" },
        { "clientOrgName": "Ghost Ltd" }
    ] });
    let listing = ResponseTemplate::new(200).set_body_json(listing);
    answer_instead(&server, "/api/partner/getClientsV2", listing).await;
    let output = audit_of(&server, &["--json"]).await;
    assert_eq!(output.status.code(), Some(1));
    let document: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    let records = document["clients"].as_array().expect("clients");
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["audited"], true);
    assert_eq!(records[1]["client_name"], "Ghost Ltd");
    let error = records[1]["error"].as_str().expect("an error");
    assert!(error.contains("no clientOrgUuid"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pool_that_cannot_be_read_is_said_and_the_audit_is_incomplete() {
    let answer = ResponseTemplate::new(200).set_body_json(serde_json::json!({}));
    let server = one_client_server("Fine Co", answer).await;
    answer_instead(
        &server,
        "/api/partner/license/getPool",
        ResponseTemplate::new(403),
    )
    .await;
    let output = audit_of(&server, &["--json"]).await;
    assert_eq!(output.status.code(), Some(1));
    let document: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(document["clients"][0]["audited"], true);
    assert_eq!(document["license_pool"], Value::Null);
    assert!(
        document["license_pool_error"]
            .as_str()
            .expect("an error")
            .contains("403")
    );
}

/// A partner whose one client, `ORG`, is answered by `respond` for every
/// call made inside it.
async fn one_client_server(name: &str, inside: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    let listing = serde_json::json!({
        "clients": [{ "clientOrgUuid": ORG, "clientOrgName": name }], "error": false
    });
    Mock::given(path("/api/partner/getClientsV2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(listing))
        .mount(&server)
        .await;
    Mock::given(path("/api/partner/license/getPool"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"products": []})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(inside)
        .mount(&server)
        .await;
    server
}

const ORG: &str = "hOsTiLeClIeNtOrGuUiD0w";

/// Answers `endpoint` with `answer` from now on, whatever it answered.
async fn answer_instead(server: &MockServer, endpoint: &str, answer: ResponseTemplate) {
    (Mock::given(path(endpoint))
        .respond_with(answer)
        .with_priority(1))
    .mount(server)
    .await;
}

async fn audit_of(server: &MockServer, args: &[&str]) -> Output {
    let uri = server.uri();
    run_async(
        args,
        &[("RHOMBUS_API_KEY", "k-1"), ("RHOMBUS_BASE_URL", &uri)],
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_rate_limited_past_the_retries_gets_a_row_saying_what_to_do() {
    let limited = ResponseTemplate::new(429).insert_header("retry-after", "0");
    let server = one_client_server("Busy Bee", limited).await;
    let output = audit_of(&server, &[]).await;
    assert_eq!(output.status.code(), Some(1));
    let rows = table_rows(&stdout(&output));
    let error = rows[0].1.as_ref().expect_err("an error row");
    assert!(error.contains("rate limited by Rhombus (429)"), "{error}");
    assert!(error.contains("lower --concurrency"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_that_lift_leave_every_client_audited() {
    let options = FakeOptions {
        rate_limit_every: Some(3),
        ..FakeOptions::default()
    };
    let server = FakeServer::start(FakeFleet::generated(12), options.clone()).await;
    let output = audit_fake(&server, &["--json"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        !stderr(&output).contains("retrying"),
        "retries are logged with -v only"
    );
    assert_eq!(
        server.rate_limited(),
        4 * 5,
        "each call of 4 clients limited once"
    );

    let server = FakeServer::start(FakeFleet::generated(12), options).await;
    let verbose = audit_fake(&server, &["--json", "-v"]).await;
    assert_eq!(verbose.status.code(), Some(0));
    let log = stderr(&verbose);
    assert!(log.contains("retrying") && log.contains("429"), "{log}");
    let debug = audit_fake(&server, &["--json", "-vv"]).await;
    let log = stderr(&debug);
    let attempts = log
        .lines()
        .filter(|l| l.contains("response") && l.contains("attempt=1"))
        .count();
    assert!(
        attempts >= 12 * 5,
        "every attempt at -vv: {attempts} in\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_server_gets_error_rows_not_a_hang_and_its_text_is_escaped() {
    // Full pages of the same alert: the cursor never moves.
    let alert = serde_json::json!({ "uuid": "a1", "timestampMs": 1 });
    let page = serde_json::json!({ "policyAlerts": vec![alert; rhombus_audit::audit::ALERT_PAGE] });
    let server = one_client_server(
        "\u{1b}[2JEvil\u{7}",
        ResponseTemplate::new(200).set_body_json(page),
    )
    .await;
    let output = tokio::time::timeout(Duration::from_secs(60), audit_of(&server, &[]))
        .await
        .expect("the audit ends");
    assert_eq!(output.status.code(), Some(1));
    let table = stdout(&output);
    assert!(
        !table.contains('\u{1b}') && !table.contains('\u{7}'),
        "{table:?}"
    );
    let rows = table_rows(&table);
    assert_eq!(rows[0].0, "\\u{1b}[2JEvil\\u{7}");
    let error = rows[0].1.as_ref().expect_err("an error row");
    assert!(error.contains("does not move the cursor"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn camera_states_the_api_does_not_list_are_counted_apart() {
    let states: Vec<Value> = ["GREEN", "RED", "PURPLE", "YELLOW"]
        .iter()
        .map(|s| serde_json::json!({ "connectionStatus": s }))
        .chain([serde_json::json!({})])
        .collect();
    let answer = serde_json::json!({ "cameraStates": states });
    let server = one_client_server(
        "Odd Cameras",
        ResponseTemplate::new(200).set_body_json(answer),
    )
    .await;
    let output = audit_of(&server, &["--csv"]).await;
    let text = stdout(&output);
    let record = csv::Reader::from_reader(text.as_bytes())
        .deserialize::<BTreeMap<String, String>>()
        .next()
        .expect("a record")
        .expect("parses");
    assert_eq!(output.status.code(), Some(0), "{record:?}");
    let count = |field: &str| record[field].parse::<u64>().expect(field);
    assert_eq!(
        [
            count("cameras"),
            count("cameras_offline"),
            count("cameras_degraded"),
            count("cameras_unknown_status")
        ],
        [5, 1, 1, 2]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_run_on_a_terminal_shows_a_progress_bar_and_a_pipe_gets_none() {
    let options = FakeOptions {
        latency: Duration::from_millis(40),
        ..FakeOptions::default()
    };
    let server = FakeServer::start(FakeFleet::generated(60), options).await;
    let piped = audit_fake(&server, &["--concurrency", "4"]).await;
    assert_eq!(piped.status.code(), Some(0));
    assert!(stderr(&piped).is_empty(), "{:?}", stderr(&piped));

    // `script` gives the child a terminal; its output is the terminal's.
    let on_terminal = |flags: &str| {
        let command = format!(
            "RHOMBUS_API_KEY={FAKE_API_KEY} RHOMBUS_BASE_URL={} {} --concurrency 4 {flags} >/dev/null",
            server.uri(),
            env!("CARGO_BIN_EXE_rhombus-audit")
        );
        tokio::task::spawn_blocking(move || {
            Command::new("script")
                .args(["-qec", &command, "/dev/null"])
                .output()
        })
    };
    let Ok(shown) = on_terminal("").await.expect("waited for") else {
        eprintln!("skipped the terminal half: `script` (util-linux) is not installed");
        return;
    };
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.contains("clients audited"), "{shown:?}");
    let quiet = on_terminal("--quiet")
        .await
        .expect("waited for")
        .expect("ran before");
    assert!(
        quiet.stdout.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&quiet.stdout)
    );
}
