//! The `rhombus-fake` binary as a user runs it: on port 0, its first line
//! the base URL, then real requests against it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Kills the child when the test ends, passed or not.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary with `args`; its base URL and the rest of what it said.
fn start(args: &[&str]) -> (Running, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rhombus-fake"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let running = Running(child);
    let mut lines = BufReader::new(stdout).lines();
    let url = lines.next().expect("a first line").expect("UTF-8");
    let rest: Vec<String> = lines.take(5).map(|line| line.expect("UTF-8")).collect();
    (running, url, rest.join("\n"))
}

async fn post(url: &str, path: &str, key: &str) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .post(format!("{url}{path}"))
        .header("x-auth-scheme", "partner-api-token")
        .header("x-auth-apikey", key)
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("the fake answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

#[tokio::test]
async fn the_first_line_is_the_url_and_the_demo_is_served_there() {
    let (_running, url, usage) = start(&[]);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(!url.ends_with(":0"), "{url}");
    // How to use it: the variables the library and the audit read.
    assert!(
        usage.contains(&format!("RHOMBUS_BASE_URL={url}")),
        "{usage}"
    );
    assert!(
        usage.contains(&format!("RHOMBUS_API_KEY={}", rhombus_fake::FAKE_API_KEY)),
        "{usage}"
    );

    let (status, listing) = post(
        &url,
        "/api/partner/getClientsV2",
        rhombus_fake::FAKE_API_KEY,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(listing["clients"].as_array().map(Vec::len), Some(12));
    let (status, _) = post(&url, "/api/partner/getClientsV2", "not-the-key").await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn clients_plays_a_generated_fleet() {
    let (_running, url, _) = start(&["--clients", "30", "--latency-ms", "1"]);
    let (status, listing) = post(
        &url,
        "/api/partner/getClientsV2",
        rhombus_fake::FAKE_API_KEY,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(listing["clients"].as_array().map(Vec::len), Some(30));
}

/// `--bucket-rate` and `--bucket-burst`: the partner's own calls meet a
/// token bucket of that size, whose `429` says when a token is back.
#[tokio::test]
async fn bucket_flags_limit_the_partner_with_a_token_bucket() {
    let (_running, url, _) = start(&["--bucket-rate", "0.5", "--bucket-burst", "2"]);
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..3 {
        let response = reqwest::Client::new()
            .post(format!("{url}/api/partner/getClientsV2"))
            .header("x-auth-scheme", "partner-api-token")
            .header("x-auth-apikey", rhombus_fake::FAKE_API_KEY)
            .json(&serde_json::json!({}))
            .send()
            .await
            .expect("the fake answers");
        statuses.push(response.status().as_u16());
        if let Some(value) = response.headers().get("retry-after") {
            retry_after = Some(value.to_str().expect("ASCII").to_owned());
        }
    }
    // Two tokens, then a 429 until the next one, two seconds away at 0.5/s.
    assert_eq!(statuses, [200, 200, 429]);
    assert_eq!(retry_after.as_deref(), Some("2"));
}
