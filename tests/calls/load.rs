//! The in-flight limit under load, counted by a loopback server that sees
//! every request from when it is read until it is answered.
//!
//! 1,000 concurrent calls through one `Client`: all succeed, at most 32
//! (the default limit) are in flight at once, and so the server sees a
//! bounded number of TCP connections. Without the limit, the same burst
//! opened 345 connections here.

use std::time::{Duration, Instant};

use crate::common::{Action, Server, json};
use rhombus_partner::Client;
use rhombus_partner::types::PartnerGetClientSummaryInfoWsRequest;

const CALLS: usize = 1_000;

/// A server that answers every call after a little latency, so that calls
/// really overlap.
async fn slow_server(latency: Duration) -> Server {
    Server::start(move |_, _| Action::Delay(latency, json(200, r#"{"locationCount": 1}"#))).await
}

/// Sends every call at once, each through one of `clients` in turn, and
/// checks that all succeed.
async fn burst(clients: &[Client], calls: usize) {
    let tasks: Vec<_> = (0..calls)
        .map(|i| {
            let client = clients[i % clients.len()].clone();
            tokio::spawn(async move {
                client
                    .get_client_summary_info(
                        &PartnerGetClientSummaryInfoWsRequest::default()
                            .with_client_org_uuid(format!("org-{i}")),
                    )
                    .await
                    .map(|v| v.location_count)
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.expect("task").expect("call succeeds"), Some(1));
    }
}

fn client(server: &Server, limit: Option<usize>) -> Client {
    let builder = Client::builder()
        .api_key("load-test-key")
        .base_url(&server.url);
    match limit {
        Some(limit) => builder.max_concurrent_requests(limit),
        None => builder,
    }
    .build()
    .expect("valid configuration")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_calls_use_bounded_connections() {
    let server = slow_server(Duration::from_millis(2)).await;
    let start = Instant::now();
    burst(&[client(&server, None)], CALLS).await;
    let elapsed = start.elapsed();

    assert_eq!(server.requests(), CALLS, "one request per call, no retries");
    let connections = server.connections();
    let most_open = server.max_open_connections();
    let most_in_flight = server.max_in_flight();
    println!(
        "load: {CALLS} calls in {elapsed:?}, {connections} TCP connections, at most {most_open} \
         open and {most_in_flight} requests in flight at once"
    );
    // The default limit is never passed (that it is reached exactly is
    // checked below with a slower server and a smaller limit).
    assert!(most_in_flight <= 32, "{most_in_flight} requests in flight");
    // Connections follow from the requests in flight, though not exactly:
    // the connection pool races a new connection against a busy one coming
    // free, and the loser stays in the pool.
    assert!(
        connections <= 64,
        "{connections} connections for {CALLS} calls"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_of_3_allows_exactly_3_requests_in_flight() {
    let server = slow_server(Duration::from_millis(20)).await;
    burst(&[client(&server, Some(3))], 40).await;
    assert_eq!(server.requests(), 40);
    assert_eq!(server.max_in_flight(), 3);
}

/// The area clients of `for_org` handles share the partner client's limit
/// with it.
#[cfg(feature = "door")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn for_org_handles_share_the_limit() {
    let server = slow_server(Duration::from_millis(20)).await;
    let client = client(&server, Some(3));
    let doors: Vec<_> = ["A", "B", "C", "D"]
        .iter()
        .map(|org| client.for_org(org).expect("a valid org").door())
        .collect();
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let door = doors[i % doors.len()].clone();
            tokio::spawn(async move {
                let request = Default::default();
                door.get_minimal_door_state_list(&request).await.map(|_| ())
            })
        })
        .collect();
    burst(&[client], 8).await;
    for task in tasks {
        task.await.expect("task").expect("call succeeds");
    }
    assert_eq!(server.requests(), 48);
    assert_eq!(
        server.max_in_flight(),
        3,
        "four org handles and their partner client, one limit of 3 between them"
    );
}
