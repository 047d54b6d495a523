//! 1,000 concurrent calls through one `Client` on loopback: all succeed, and
//! the server sees a bounded number of TCP connections. The client's
//! in-flight limit (32 by default) bounds them; a few more than 32 can be
//! opened because the connection pool races a new connection against a busy
//! one becoming free, so the bound asserted is twice the limit. Without the
//! limit, the same burst opened 345 connections here.

mod common;

use std::time::{Duration, Instant};

use common::{Action, Server, json};
use rhombus_partner::Client;
use rhombus_partner::types::PartnerGetClientSummaryInfoWsRequest;

const CALLS: usize = 1_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_calls_use_bounded_connections() {
    // A little latency, so that calls really overlap.
    let server = Server::start(|_, _| {
        Action::Delay(
            Duration::from_millis(2),
            json(200, r#"{"locationCount": 1}"#),
        )
    })
    .await;
    let client = Client::builder()
        .api_key("load-test-key")
        .base_url(&server.url)
        .build()
        .expect("valid configuration");

    let start = Instant::now();
    let calls: Vec<_> = (0..CALLS)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .checked()
                    .get_client_summary_info(&PartnerGetClientSummaryInfoWsRequest {
                        client_org_uuid: Some(format!("org-{i}")),
                    })
                    .await
                    .map(|v| v.into_inner().location_count)
            })
        })
        .collect();
    let mut succeeded = 0;
    for call in calls {
        assert_eq!(call.await.expect("task").expect("call succeeds"), Some(1));
        succeeded += 1;
    }
    let elapsed = start.elapsed();

    assert_eq!(succeeded, CALLS);
    assert_eq!(server.requests(), CALLS, "one request per call, no retries");
    let connections = server.connections();
    let most_open = server.max_open_connections();
    println!(
        "load: {CALLS} calls in {elapsed:?}, {connections} TCP connections, at most {most_open} open at once"
    );
    assert!(
        connections <= 64,
        "{connections} connections for {CALLS} calls"
    );
    assert!(most_open <= 64, "{most_open} connections open at once");
}
