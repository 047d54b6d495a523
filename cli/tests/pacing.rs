//! The audit against a fake Rhombus that limits each organization with a
//! token bucket (2 calls at once, 2 a second; every client makes 5 calls):
//! paced (the default) it meets the limit while the rate is learned and
//! rarely after; with `--no-pacing` every client bursts into it.

mod common;

use common::{run_async, stdout};
use rhombus_fake::{FAKE_API_KEY, FakeBucket, FakeFleet, FakeOptions, FakeServer};
use serde_json::Value;

const CLIENTS: usize = 100;

/// Audits `CLIENTS` generated clients behind buckets with `args`: the
/// requests the server answered and the `429`s among them.
async fn audit_behind_buckets(args: &[&str]) -> (usize, usize) {
    let options = FakeOptions {
        bucket: Some(FakeBucket {
            rate: 2.0,
            burst: 2.0,
        }),
        ..FakeOptions::default()
    };
    let server = FakeServer::start(FakeFleet::generated(CLIENTS), options).await;
    let uri = server.uri();
    let env = [
        ("RHOMBUS_API_KEY", FAKE_API_KEY),
        ("RHOMBUS_BASE_URL", &uri),
    ];
    let output = run_async(&[&["--json", "-q"], args].concat(), &env).await;
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text:.2000}");
    let document: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(document["complete"], Value::Bool(true));
    (server.requests(), server.rate_limited())
}

#[tokio::test(flavor = "multi_thread")]
async fn paced_the_audit_rarely_meets_the_limit_unpaced_it_bursts_into_it() {
    let (requests, limited) = audit_behind_buckets(&[]).await;
    let paced = limited as f64 / requests as f64;
    let (requests, limited) = audit_behind_buckets(&["--no-pacing"]).await;
    let unpaced = limited as f64 / requests as f64;
    eprintln!("429s: paced {paced:.3}, unpaced {unpaced:.3}");
    // Unpaced, each client's 5 calls at once meet a bucket of 2: 3 of its
    // first 5 are answered 429.
    assert!(unpaced > 0.3, "unpaced: {limited} of {requests}");
    // Paced, the first calls (before the first 429 came back) are sent
    // unpaced, the rest at the rate learned.
    assert!(paced < 0.1, "paced: {paced:.3}");
}

/// The most organizations whose requests interleave: for each, the span
/// from its first request to its last, in the order the server received
/// them; the most spans over one request.
fn most_orgs_at_once(server: &FakeServer) -> usize {
    let orgs: Vec<String> = (server.received().iter())
        .filter_map(|request| request.header("x-auth-org").map(str::to_owned))
        .collect();
    let mut spans: std::collections::HashMap<&str, (usize, usize)> = Default::default();
    for (n, org) in orgs.iter().enumerate() {
        spans.entry(org).or_insert((n, n)).1 = n;
    }
    (0..orgs.len())
        .map(|n| {
            spans
                .values()
                .filter(|(a, b)| (*a..=*b).contains(&n))
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// With `--concurrency 1`, one client at a time while nothing is limited;
/// once the API has answered 429 and pacing started, up to 32 (a paced
/// client waits for its turns without holding the one request slot).
#[tokio::test(flavor = "multi_thread")]
async fn once_paced_the_audit_runs_32_times_as_many_clients_at_once() {
    for (bucket, most) in [((1000.0, 1000.0), 1..=1), ((2.0, 2.0), 2..=32)] {
        let options = FakeOptions {
            bucket: Some(FakeBucket {
                rate: bucket.0,
                burst: bucket.1,
            }),
            record_requests: true,
            ..FakeOptions::default()
        };
        let server = FakeServer::start(FakeFleet::generated(40), options).await;
        let uri = server.uri();
        let env = [
            ("RHOMBUS_API_KEY", FAKE_API_KEY),
            ("RHOMBUS_BASE_URL", &uri),
        ];
        let output = run_async(&["--json", "-q", "--concurrency", "1"], &env).await;
        assert_eq!(output.status.code(), Some(0), "{:.2000}", stdout(&output));
        let at_once = most_orgs_at_once(&server);
        assert!(most.contains(&at_once), "{bucket:?}: {at_once} at once");
    }
}
