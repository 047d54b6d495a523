//! `rhombus-audit serve`, as a child process on loopback: its metrics read
//! by `promtool` and by a real Prometheus server, its page rendered by a
//! headless Chromium, its health check, a failed audit, and its end on
//! SIGTERM or Ctrl-C.
//!
//! `promtool`, `prometheus` and `chromium` come from Debian's packages
//! (`.ci/run` installs them). Without one, its test skips with a message,
//! except under `CI=true`, where it fails.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rhombus_audit::serve::exposition::Format;
use rhombus_fake::{FAKE_API_KEY, FakeFleet, FakeOptions, FakeServer, NAMES_VARIABLE, REFUSING};
use tokio::runtime::Runtime;

/// Acme Logistics, one camera offline.
const ACME: &str = "dEmOcLiEnToRgUuId00001w";
/// Bayside Dental Group: nothing to do.
const BAYSIDE: &str = "dEmOcLiEnToRgUuId00002w";
/// Cedar Ridge School District: three cameras offline.
const CEDAR: &str = "dEmOcLiEnToRgUuId00003w";
/// Delta Storage Units.
const DELTA: &str = "dEmOcLiEnToRgUuId00004w";

/// The names a hostile client could choose: a quote and a backslash, a
/// line feed, and markup.
const QUOTED: &str = "a\"b\\c";
const TWO_LINES: &str = "Night\nShift";
const MARKUP: &str = "<script>alert(1)</script> & Co";

fn hostile_names() -> String {
    serde_json::json!({ ACME: QUOTED, BAYSIDE: TWO_LINES, DELTA: MARKUP }).to_string()
}

/// A `serve` child; killed when dropped if still running.
struct Serve {
    child: Child,
    address: SocketAddr,
}

impl Serve {
    /// Starts `serve --listen 127.0.0.1:0` with `args` and only the
    /// Rhombus variables in `env`; waits for its address on stdout.
    fn start(args: &[&str], env: &[(&str, &str)]) -> Serve {
        let mut command = Command::new(env!("CARGO_BIN_EXE_rhombus-audit"));
        command.args(["serve", "--listen", "127.0.0.1:0", "--quiet"]);
        command.args(args);
        for name in [
            "RHOMBUS_API_KEY",
            "RHOMBUS_BASE_URL",
            "RHOMBUS_AUTH_SCHEME",
            NAMES_VARIABLE,
        ] {
            command.env_remove(name);
        }
        command.envs(env.iter().copied());
        command.stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = command.spawn().expect("the binary runs");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the first line is read");
        let address = (line.trim().strip_prefix("http://"))
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("the first line is the address, not {line:?}"));
        Serve { child, address }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    fn get(&self, path: &str) -> Answer {
        get(self.address, path, None)
    }

    /// Waits until `/healthz` says an audit is served.
    fn wait_for_audit(&self) {
        wait_until(Duration::from_secs(60), "an audit is served", || {
            self.get("/healthz").body.contains("serving the audit of")
        });
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Waits for the child to exit, at most `limit`.
    fn wait(&mut self, limit: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("the child is waited for") {
                return status;
            }
            assert!(
                start.elapsed() < limit,
                "serve did not exit within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
struct Answer {
    status: u16,
    headers: String,
    body: String,
}

impl Answer {
    fn content_type(&self) -> String {
        (self.headers.lines())
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-type")
                    .then(|| value.trim().to_owned())
            })
            .unwrap_or_default()
    }
}

/// A GET over a fresh connection (HTTP/1.1, `Connection: close`).
fn get(address: SocketAddr, path: &str, accept: Option<&str>) -> Answer {
    let mut stream = TcpStream::connect(address).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("a timeout");
    let accept = accept.map_or(String::new(), |a| format!("Accept: {a}\r\n"));
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {address}\r\n{accept}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("sent");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let raw = String::from_utf8(raw).expect("UTF-8");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a head and a body");
    let status = (head.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status");
    Answer {
        status,
        headers: head.to_owned(),
        body: body.to_owned(),
    }
}

fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "waited {limit:?} for: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The tool's path, or `None` (and a message) when it is not installed;
/// under `CI=true` a missing tool fails the test.
fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        let message =
            format!("{name} is not installed (Debian: apt-get install prometheus chromium)");
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
        eprintln!("skipped: {message}");
    }
    found
}

/// A sample's line of the Prometheus exposition, by its name and labels
/// as written.
fn sample<'a>(text: &'a str, name_and_labels: &str) -> Option<&'a str> {
    (text.lines())
        .find(|l| l.starts_with(name_and_labels) && l[name_and_labels.len()..].starts_with(' '))
        .map(|l| l[name_and_labels.len()..].trim())
}

fn labels(uuid: &str, name: &str) -> String {
    format!("{{client_uuid=\"{uuid}\",client_name=\"{name}\"}}")
}

#[test]
fn every_fact_read_is_a_gauge_and_a_fact_not_read_has_no_sample_but_an_unknown_one() {
    let serve = Serve::start(&[], &[]);
    serve.wait_for_audit();
    let answer = serve.get("/metrics");
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.content_type(),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = &answer.body;
    let acme = labels(ACME, "Acme Logistics");
    let offline = format!("rhombus_audit_client_cameras_offline{acme}");
    assert_eq!(sample(text, &offline), Some("1"), "{text}");
    assert_eq!(
        sample(text, &format!("rhombus_audit_client_cameras{acme}")),
        Some("12")
    );
    // The client refusing partner access: no fact read, none exported as 0.
    let refusing = labels(REFUSING, "Granite Manufacturing");
    assert!(!text.contains(&format!("rhombus_audit_client_cameras{refusing}")));
    let unknown = format!(
        "rhombus_audit_client_fact_unknown{{client_uuid=\"{REFUSING}\",\
         client_name=\"Granite Manufacturing\",fact=\"cameras_offline\",kind=\"forbidden\"}}"
    );
    assert_eq!(sample(text, &unknown), Some("1"));
    assert_eq!(
        sample(text, &format!("rhombus_audit_client_complete{refusing}")),
        Some("0")
    );
    // The client whose user call answers `{}`: its users missing.
    assert!(text.contains("fact=\"users\",kind=\"missing\"} 1"));
    assert_eq!(
        sample(text, "rhombus_audit_unknown_facts{kind=\"forbidden\"}"),
        Some("21")
    );
    assert_eq!(sample(text, "rhombus_audit_last_audit_success"), Some("1"));
    assert_eq!(
        sample(text, "rhombus_audit_audits_total{result=\"success\"}"),
        Some("1")
    );
    assert_eq!(sample(text, "rhombus_audit_clients"), Some("12"));
    assert!(sample(text, "rhombus_audit_duration_seconds").is_some());
    assert!(sample(text, "rhombus_audit_last_success_timestamp_seconds").is_some());
    assert!(text.contains("# TYPE rhombus_audit_audits_total counter\n"));
    assert!(
        text.contains("# HELP rhombus_audit_client_cameras_offline cameras_offline per client")
    );
}

#[test]
fn the_requests_retries_and_429s_of_the_audit_served_are_those_the_api_answered() {
    let runtime = Runtime::new().expect("a runtime");
    let limited = FakeOptions {
        rate_limit_every: Some(3),
        ..FakeOptions::default()
    };
    let server = runtime.block_on(FakeServer::start(FakeFleet::demo(), limited));
    let uri = server.uri();
    let env = [
        ("RHOMBUS_API_KEY", FAKE_API_KEY),
        ("RHOMBUS_BASE_URL", uri.as_str()),
    ];
    let serve = Serve::start(&["--interval", "1h"], &env);
    serve.wait_for_audit();
    let text = serve.get("/metrics").body;
    let count = |name| sample(&text, name).and_then(|v| v.parse::<usize>().ok());
    assert_eq!(
        count("rhombus_audit_requests"),
        Some(server.requests()),
        "{text}"
    );
    assert_eq!(
        count("rhombus_audit_rate_limited_responses"),
        Some(server.rate_limited())
    );
    assert!(server.rate_limited() > 0);
    // Each 429 was retried (and so was the failing license call's 500).
    assert!(count("rhombus_audit_retries") >= Some(server.rate_limited()));
}

#[test]
fn a_profile_and_clients_choose_what_is_audited_as_for_the_table() {
    let runtime = Runtime::new().expect("a runtime");
    let server = runtime.block_on(FakeServer::start(quick_demo(), FakeOptions::default()));
    let dir = tempfile::tempdir().expect("a directory");
    let config = dir.path().join("config.toml");
    let profile = format!(
        "[profiles.noc]\napi_key_env = \"SERVE_TEST_KEY\"\nbase_url = \"{}\"\n",
        server.uri()
    );
    std::fs::write(&config, profile).expect("written");
    let config = config.display().to_string();
    let args = [
        "--profile",
        "noc",
        "--config",
        &config,
        "--clients",
        "acme logistics, dEmOcLiEnToRgUuId00003w",
    ];
    let serve = Serve::start(&args, &[("SERVE_TEST_KEY", FAKE_API_KEY)]);
    serve.wait_for_audit();
    let text = serve.get("/metrics").body;
    assert_eq!(sample(&text, "rhombus_audit_clients"), Some("2"), "{text}");
    assert!(text.contains(&format!("client_uuid=\"{CEDAR}\"")));
    assert!(!text.contains(&format!("client_uuid=\"{BAYSIDE}\"")));
    assert!(server.requests() > 0, "the profile's server was audited");
}

#[test]
fn openmetrics_is_served_when_the_accept_header_asks_for_it() {
    let serve = Serve::start(&[], &[]);
    serve.wait_for_audit();
    let accept = "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3";
    let answer = get(serve.address, "/metrics", Some(accept));
    assert_eq!(
        answer.content_type(),
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(answer.body.ends_with("\n# EOF\n"), "{}", answer.body);
    assert!(
        answer
            .body
            .contains("# TYPE rhombus_audit_audits counter\n")
    );
    assert!(
        answer
            .body
            .contains("rhombus_audit_audits_total{result=\"success\"} 1\n")
    );
    let plain = get(serve.address, "/metrics", Some("text/plain"));
    assert!(!plain.body.contains("# EOF"));
}

#[test]
fn promtool_accepts_the_exposition_with_hostile_client_names() {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    let names = hostile_names();
    let serve = Serve::start(&[], &[(NAMES_VARIABLE, &names)]);
    serve.wait_for_audit();
    let text = serve.get("/metrics").body;
    assert!(text.contains(r#"client_name="a\"b\\c""#), "{text}");
    assert!(text.contains(r#"client_name="Night\nShift""#));
    let mut check = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs");
    let mut stdin = check.stdin.take().expect("stdin");
    stdin.write_all(text.as_bytes()).expect("written");
    drop(stdin);
    let output = check.wait_with_output().expect("promtool ends");
    assert!(
        output.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A free loopback port (bound, then let go).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("an address").port()
}

/// A URL's query component, percent-encoded.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// A child killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_prometheus_server_scrapes_the_offline_camera_gauges_by_uuid_and_by_a_hostile_name() {
    let Some(prometheus) = tool("prometheus") else {
        return;
    };
    let names = hostile_names();
    let serve = Serve::start(&[], &[(NAMES_VARIABLE, &names)]);
    let dir = tempfile::tempdir().expect("a directory");
    let config = dir.path().join("prometheus.yml");
    let (recorder, accept) = accept_recorder();
    let scrape = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: audit\n    \
         static_configs:\n      - targets: ['{}']\n  - job_name: accept\n    \
         static_configs:\n      - targets: ['{recorder}']\n",
        serve.address
    );
    std::fs::write(&config, scrape).expect("written");
    let port = free_port();
    let server = Command::new(prometheus)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus runs");
    let _server = Killed(server);
    let address: SocketAddr = format!("127.0.0.1:{port}").parse().expect("an address");
    let query = |promql: &str| -> Option<String> {
        let path = format!("/api/v1/query?query={}", encode(promql));
        let answer = TcpStream::connect(address)
            .ok()
            .map(|_| get(address, &path, None))?;
        let document: serde_json::Value = serde_json::from_str(&answer.body).ok()?;
        let value = document.pointer("/data/result/0/value/1")?;
        value.as_str().map(str::to_owned)
    };
    let cedar = format!("rhombus_audit_client_cameras_offline{{client_uuid=\"{CEDAR}\"}}");
    let mut offline = None;
    wait_until(Duration::from_secs(90), "Prometheus has the gauge", || {
        offline = query(&cedar);
        offline.is_some()
    });
    assert_eq!(offline.as_deref(), Some("3"));
    // The name with a quote and a backslash, written in PromQL's own
    // escapes: what Prometheus read is the name itself.
    let by_name = r#"rhombus_audit_client_cameras_offline{client_name="a\"b\\c"}"#;
    assert_eq!(query(by_name).as_deref(), Some("1"));
    assert_eq!(query("up{job=\"audit\"}").as_deref(), Some("1"));
    // What Prometheus read was OpenMetrics: it asks for it first.
    let accept = accept
        .recv_timeout(Duration::from_secs(30))
        .expect("a scrape");
    assert_eq!(
        Format::negotiate(Some(&accept)),
        Format::OpenMetrics,
        "{accept}"
    );
}

/// A scrape target on loopback that answers one metric and sends each
/// scrape's `Accept` header to the receiver.
fn accept_recorder() -> (SocketAddr, std::sync::mpsc::Receiver<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let address = listener.local_addr().expect("an address");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut accept = String::new();
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("accept")
                {
                    accept = value.trim().to_owned();
                }
                line.clear();
            }
            let answer = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n\
                          Content-Length: 4\r\nConnection: close\r\n\r\nx 1\n";
            let _ = (&stream).write_all(answer.as_bytes());
            if sender.send(accept).is_err() {
                return;
            }
        }
    });
    (address, receiver)
}

#[test]
fn chromium_renders_the_page_clients_with_something_to_do_first_and_names_as_text() {
    let Some(chromium) = tool("chromium") else {
        return;
    };
    let names = hostile_names();
    let serve = Serve::start(&[], &[(NAMES_VARIABLE, &names)]);
    serve.wait_for_audit();
    let profile = tempfile::tempdir().expect("a directory");
    let output = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--dump-dom", &serve.url("/")])
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&output.stdout);
    assert!(dom.contains("Cedar Ridge School District"), "{dom}");
    assert!(dom.contains("Ironwood Hotels"));
    // The table's default columns, and the default interval.
    assert!(dom.contains("fw behind") && dom.contains("ending 30d"));
    assert!(dom.contains("every 5m"));
    // The names are text: the quote as is, the markup escaped, no script.
    assert!(dom.contains(QUOTED));
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"));
    assert!(!dom.contains("<script"), "the page has no script");
    // Cedar Ridge has cameras offline; Kestrel Credit Union nothing to do.
    let cedar = dom.find("Cedar Ridge").expect("Cedar Ridge");
    let kestrel = dom.find("Kestrel Credit Union").expect("Kestrel");
    assert!(
        cedar < kestrel,
        "the clients with something to do come first"
    );
    // A fact not read shows as `?`, with why.
    assert!(dom.contains("forbidden"));
}

/// The demo without its broken calls, whose retries make an audit take
/// seconds: an audit of it takes a few milliseconds.
fn quick_demo() -> FakeFleet {
    let mut fleet = FakeFleet::demo();
    fleet.clients.iter_mut().for_each(|c| c.broken.clear());
    fleet
}

/// The quick demo with Acme Logistics' first camera offline too.
fn acme_one_more_offline() -> FakeFleet {
    let mut fleet = quick_demo();
    fleet.clients[0].cameras[0].connection = "RED".to_owned();
    fleet
}

#[test]
fn a_failed_audit_keeps_the_last_one_served_and_the_next_marks_what_changed() {
    let runtime = Runtime::new().expect("a runtime");
    let server = runtime.block_on(FakeServer::start(quick_demo(), FakeOptions::default()));
    let (uri, address) = (server.uri(), server.address());
    let env = [
        ("RHOMBUS_API_KEY", FAKE_API_KEY),
        ("RHOMBUS_BASE_URL", uri.as_str()),
    ];
    let serve = Serve::start(&["--interval", "3s"], &env);
    serve.wait_for_audit();
    let acme = format!(
        "rhombus_audit_client_cameras_offline{}",
        labels(ACME, "Acme Logistics")
    );
    assert_eq!(sample(&serve.get("/metrics").body, &acme), Some("1"));
    // The API goes away right after an audit, not during one, which would
    // leave every fact of that audit unknown.
    let successes = || {
        let text = serve.get("/metrics").body;
        sample(&text, "rhombus_audit_audits_total{result=\"success\"}").map(str::to_owned)
    };
    let first = successes();
    wait_until(Duration::from_secs(10), "the next audit", || {
        successes() != first
    });
    {
        let _context = runtime.enter();
        drop(server);
    }
    wait_until(Duration::from_secs(60), "an audit fails", || {
        sample(
            &serve.get("/metrics").body,
            "rhombus_audit_last_audit_success",
        ) == Some("0")
    });
    let text = serve.get("/metrics").body;
    assert_eq!(
        sample(&text, &acme),
        Some("1"),
        "the last audit is still served"
    );
    assert_eq!(
        sample(
            &text,
            "rhombus_audit_last_audit_failure{kind=\"transport\"}"
        ),
        Some("1")
    );
    assert!(sample(&text, "rhombus_audit_last_success_timestamp_seconds").is_some());
    assert!(serve.get("/").body.contains("failed (transport)"));
    assert!(serve.get("/healthz").status == 200);
    // The API is back, with one more camera offline.
    let _server = runtime
        .block_on(FakeServer::start_on(
            address,
            acme_one_more_offline(),
            FakeOptions::default(),
        ))
        .expect("the same port again");
    wait_until(Duration::from_secs(60), "an audit succeeds again", || {
        sample(&serve.get("/metrics").body, &acme) == Some("2")
    });
    let page = serve.get("/").body;
    // What changed, in the diff's words: the camera named.
    assert!(page.contains(": now offline"), "{page}");
    assert!(!page.contains("failed ("));
}

#[test]
fn healthz_is_200_before_the_first_audit_and_metrics_then_have_no_fact() {
    let runtime = Runtime::new().expect("a runtime");
    let slow = FakeOptions {
        latency: Duration::from_secs(3),
        ..FakeOptions::default()
    };
    let server = runtime.block_on(FakeServer::start(FakeFleet::demo(), slow));
    let uri = server.uri();
    let env = [
        ("RHOMBUS_API_KEY", FAKE_API_KEY),
        ("RHOMBUS_BASE_URL", uri.as_str()),
    ];
    let serve = Serve::start(&[], &env);
    let health = serve.get("/healthz");
    assert_eq!(health.status, 200);
    assert!(
        health.body.contains("no audit has finished yet"),
        "{}",
        health.body
    );
    let text = serve.get("/metrics").body;
    assert!(!text.contains("rhombus_audit_client_"), "{text}");
    assert!(!text.contains("rhombus_audit_last_audit_success"));
    assert_eq!(
        sample(&text, "rhombus_audit_audits_total{result=\"success\"}"),
        Some("0")
    );
    assert!(serve.get("/").body.contains("No audit has finished yet"));
}

#[test]
fn sigterm_answers_the_scrape_in_flight_then_exits_0() {
    let delay = [("RHOMBUS_AUDIT_TEST_SCRAPE_DELAY_MS", "1500")];
    let mut serve = Serve::start(&[], &delay);
    serve.wait_for_audit();
    let address = serve.address;
    let scrape = std::thread::spawn(move || get(address, "/metrics", None));
    std::thread::sleep(Duration::from_millis(500));
    serve.signal("-TERM");
    let answer = scrape.join().expect("the scrape ends");
    assert_eq!(answer.status, 200);
    assert!(answer.body.contains("rhombus_audit_client_cameras_offline"));
    assert_eq!(serve.wait(Duration::from_secs(10)).code(), Some(0));
}

#[test]
fn ctrl_c_during_an_audit_drops_it_and_exits_0() {
    let runtime = Runtime::new().expect("a runtime");
    let slow = FakeOptions {
        latency: Duration::from_secs(5),
        ..FakeOptions::default()
    };
    let server = runtime.block_on(FakeServer::start(quick_demo(), slow));
    let uri = server.uri();
    let env = [
        ("RHOMBUS_API_KEY", FAKE_API_KEY),
        ("RHOMBUS_BASE_URL", uri.as_str()),
    ];
    let mut serve = Serve::start(&[], &env);
    assert!(
        serve
            .get("/healthz")
            .body
            .contains("no audit has finished yet")
    );
    let start = Instant::now();
    serve.signal("-INT");
    assert_eq!(serve.wait(Duration::from_secs(10)).code(), Some(0));
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "the audit was not waited for"
    );
}

#[test]
fn a_bad_interval_an_address_in_use_or_an_empty_key_exits_2() {
    for interval in ["soon", "500ms"] {
        let output = Command::new(env!("CARGO_BIN_EXE_rhombus-audit"))
            .args(["serve", "--listen", "127.0.0.1:0", "--interval", interval])
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(2), "--interval {interval}");
    }
    let output = Command::new(env!("CARGO_BIN_EXE_rhombus-audit"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("RHOMBUS_API_KEY", "")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("RHOMBUS_API_KEY is set but empty"));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let address = taken.local_addr().expect("an address").to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_rhombus-audit"))
        .args(["serve", "--quiet", "--listen", &address])
        .env_remove("RHOMBUS_API_KEY")
        .env_remove("RHOMBUS_BASE_URL")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot listen on"));
}
