//! Pacing (`ClientBuilder::pacing`) against servers on loopback: the fake
//! Rhombus enforcing a token bucket on the partner's own calls, which a
//! paced client meets once and a client without pacing bursts into again
//! and again; and a `429`'s `Retry-After` holding back the next call.

use rhombus_fake::{DEMO_CLIENT, FakeBucket, FakeFleet, FakeOptions, FakeServer};
use rhombus_partner::Pacing;

use super::*;
use crate::common::client::builder;

/// Calls at once in the burst.
const BURST: usize = 6;

/// `BURST` partner-level calls at once through a client with `pacing`,
/// against a fake whose partner bucket admits 2 calls a second, one at
/// once, answering after 200 ms: the calls' results, the requests and the
/// `429`s it answered.
async fn burst_into_bucket(pacing: Pacing) -> (Vec<Result<(), Error>>, usize, usize) {
    let options = FakeOptions {
        bucket: Some(FakeBucket {
            rate: 2.0,
            burst: 1.0,
        }),
        // Every answer late enough that all the calls are sent before the
        // first 429 comes back.
        latency: Duration::from_millis(200),
        ..FakeOptions::default()
    };
    let server = FakeServer::start(FakeFleet::demo(), options).await;
    let client = Client::builder()
        .api_key(rhombus_fake::FAKE_API_KEY)
        .base_url(server.uri())
        .pacing(pacing)
        .build()
        .expect("valid configuration");
    let calls = (0..BURST).map(|_| {
        let client = client.clone();
        tokio::spawn(async move {
            let request =
                PartnerGetClientSummaryInfoWsRequest::default().with_client_org_uuid(DEMO_CLIENT);
            client.get_client_summary_info(&request).await.map(drop)
        })
    });
    let mut results = Vec::new();
    for call in calls.collect::<Vec<_>>() {
        results.push(call.await.expect("the call's task"));
    }
    (results, server.requests(), server.rate_limited())
}

/// Paced, only the first burst is answered `429` (5 of the 6: the bucket
/// holds one call): every retry then waits its turn, one a second, and
/// all succeed. Without pacing the retries burst in again each second,
/// 5 + 4 + 3 + 2 + 1 `429`s, and one call runs out of attempts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paced_client_meets_the_bucket_once_a_client_without_pacing_again_and_again() {
    let (paced, requests, limited) = guarded(burst_into_bucket(Pacing::learned())).await;
    assert!(paced.iter().all(Result::is_ok), "{paced:?}");
    assert_eq!(limited, BURST - 1, "{requests} requests");
    assert_eq!(requests, 2 * BURST - 1);

    let (unpaced, requests, limited) = guarded(burst_into_bucket(Pacing::off())).await;
    let failed: Vec<&Error> = unpaced.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        matches!(failed[..], [Error::RateLimited { attempts: 5, .. }]),
        "{failed:?}"
    );
    assert_eq!(limited, 5 + 4 + 3 + 2 + 1, "{requests} requests");
}

/// A server answering the first request `429` with `Retry-After: 2`, then
/// `200`.
async fn limited_once() -> Server {
    Server::start(|n, _| match n {
        0 => Action::Raw(response(429, &[("retry-after", "2")], "")),
        _ => Action::Raw(ok_body()),
    })
    .await
}

/// After a `429` with `Retry-After: 2`, the next call (another call, not a
/// retry) is not sent before the 2 s have passed; without pacing, at once.
#[tokio::test]
async fn a_429_holds_the_next_call_until_its_retry_after() {
    for (pacing, held) in [(Pacing::learned(), true), (Pacing::off(), false)] {
        let server = limited_once().await;
        let client = builder(&server.url, RetryPolicy::none())
            .pacing(pacing)
            .build()
            .expect("valid configuration");
        let first = guarded(summary(&client)).await;
        assert!(matches!(first, Err(Error::RateLimited { .. })), "{first:?}");
        guarded(summary(&client)).await.expect("the second call");
        let seen = server.seen();
        let gap = seen[1].at - seen[0].at;
        let waited = gap >= Duration::from_secs(2);
        assert_eq!(waited, held, "{pacing:?}: sent {gap:?} after the 429");
        assert!(gap < Duration::from_secs(4), "{gap:?}");
    }
}

/// A call whose turn would come after its deadline is not sent: it ends
/// at once, rate limited, after no attempt, with the wait left.
#[tokio::test]
async fn a_call_held_back_past_its_deadline_ends_rate_limited_unsent() {
    let server = limited_once().await;
    let policy = RetryPolicy::none().deadline(Duration::from_secs(1));
    let client = client(&server.url, policy);
    assert!(matches!(
        summary(&client).await,
        Err(Error::RateLimited { .. })
    ));
    let start = Instant::now();
    let held = guarded(summary(&client)).await;
    assert!(start.elapsed() < Duration::from_millis(500), "it waited");
    let Err(Error::RateLimited {
        attempts: 0,
        retry_after: Some(wait),
        ..
    }) = held
    else {
        panic!("{held:?}");
    };
    assert!(
        wait > Duration::from_secs(1) && wait <= Duration::from_secs(2),
        "{wait:?}"
    );
    assert_eq!(server.requests(), 1, "the held call was not sent");
}

/// No `429`, nothing learned: the client reports no rate, and the default
/// is pacing on.
#[tokio::test]
async fn pacing_is_on_by_default_and_learns_only_from_a_429() {
    let server = Server::start(|_, _| Action::Raw(ok_body())).await;
    let client = client(&server.url, RetryPolicy::none());
    assert_eq!(client.pacing(), Pacing::learned());
    for _ in 0..20 {
        summary(&client).await.expect("a call");
    }
    assert_eq!(
        (client.learned_rate(), client.learned_burst()),
        (None, None)
    );
    let server = limited_once().await;
    let client = self::client(&server.url, RetryPolicy::none());
    let _ = summary(&client).await;
    assert_eq!(client.learned_rate(), Some(0.5), "one call per Retry-After");
    assert_eq!(client.learned_burst(), Some(1), "one call at once");
}
