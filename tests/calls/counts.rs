//! `Client::request_counts`: the requests, retries and `429`s of a client,
//! counted where they are sent, against what a loopback server saw.

use rhombus_partner::RequestCounts;

use super::*;

/// The counts of `client` since `before`, as a tuple to compare at a
/// glance: requests, retries, `429`s.
fn since(client: &Client, before: RequestCounts) -> (u64, u64, u64) {
    let counts = client.request_counts() - before;
    (counts.requests, counts.retries, counts.rate_limited)
}

/// A server answering the first request `429` (without `Retry-After`),
/// then `200`.
async fn limited_then_ok() -> Server {
    Server::start(|n, _| match n {
        0 => Action::Raw(response(429, &[], "")),
        _ => Action::Raw(ok_body()),
    })
    .await
}

/// A `429`, then a `200`: one call, two requests, the second a retry, one
/// `429`, as many requests as the server saw.
#[tokio::test]
async fn a_429_then_a_200_counts_two_requests_one_retry_and_one_429() {
    let server = limited_then_ok().await;
    let client = client(&server.url, fast());
    assert_eq!(client.request_counts(), RequestCounts::default());
    guarded(summary(&client)).await.expect("the retry succeeds");
    assert_eq!(since(&client, RequestCounts::default()), (2, 1, 1));
    assert_eq!(server.requests(), 2);
}

/// A request that got no answer (the connection reset) was still sent,
/// and its retry counts as one, with no `429` among them.
#[tokio::test]
async fn a_request_without_an_answer_counts_and_its_retry_too() {
    let server = Server::start(|n, _| match n {
        0 => Action::Reset,
        _ => Action::Raw(ok_body()),
    })
    .await;
    let client = client(&server.url, fast());
    guarded(summary(&client)).await.expect("the retry succeeds");
    assert_eq!(since(&client, RequestCounts::default()), (2, 1, 0));
}

/// Calls through a clone count in the client it was cloned from, and a
/// later reading minus an earlier one is what happened in between.
#[tokio::test]
async fn a_clone_counts_into_the_same_counts() {
    let server = Server::start(|_, _| Action::Raw(ok_body())).await;
    let client = client(&server.url, fast());
    guarded(summary(&client)).await.expect("the first call");
    let before = client.request_counts();
    guarded(summary(&client.clone())).await.expect("a call");
    assert_eq!(since(&client, before), (1, 0, 0));
    assert_eq!(since(&client, RequestCounts::default()), (2, 0, 0));
}

/// A call held back by its deadline (pacing would send it after a `429`'s
/// `Retry-After`, past the deadline) sent nothing and counts nothing.
#[tokio::test]
async fn a_call_held_back_by_its_deadline_counts_nothing() {
    let server = Server::start(|n, _| match n {
        0 => Action::Raw(response(429, &[("retry-after", "2")], "")),
        _ => Action::Raw(ok_body()),
    })
    .await;
    let policy = RetryPolicy::none().deadline(Duration::from_secs(1));
    let client = client(&server.url, policy);
    let limited = guarded(summary(&client)).await;
    assert!(matches!(limited, Err(Error::RateLimited { .. })));
    let before = client.request_counts();
    assert_eq!(since(&client, RequestCounts::default()), (1, 0, 1));
    let held = guarded(summary(&client)).await;
    assert!(
        matches!(held, Err(Error::RateLimited { attempts: 0, .. })),
        "{held:?}"
    );
    assert_eq!(client.request_counts(), before, "nothing was sent");
    assert_eq!(server.requests(), 1);
}

/// The calls of a `for_org` handle's area client count in the partner
/// client's counts, with the partner's own.
#[cfg(feature = "door")]
#[tokio::test]
async fn a_for_org_handles_calls_count_in_the_partner_clients_counts() {
    let server = limited_then_ok().await;
    let client = client(&server.url, fast());
    let door = client.for_org("ORG").expect("a valid org").door();
    let request = Default::default();
    let listed = guarded(door.get_minimal_door_state_list(&request)).await;
    listed.expect("the retry succeeds");
    assert_eq!(since(&client, RequestCounts::default()), (2, 1, 1));
    guarded(summary(&client)).await.expect("a partner call");
    assert_eq!(since(&client, RequestCounts::default()), (3, 1, 1));
}
