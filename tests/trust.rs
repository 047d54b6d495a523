//! Trust under a hostile server, on loopback: where the key goes when the
//! server redirects, how much of an answer is read, whether a value the
//! caller keeps can stall the client, and which settings or server values
//! could make a call panic. `127.0.0.2` stands for another host.

mod common;

use std::time::{Duration, Instant, SystemTime};

use common::{Action, Server, json, response};
use rhombus_partner::types::{
    PartnerGetClientSummaryInfoWsRequest, PartnerGetClientSummaryInfoWsResponse,
};
use rhombus_partner::{
    BodyTooLarge, Client, ClientBuilder, Error, GeneratedError, RetryPolicy, TransportKind,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const KEY: &str = "trust-test-key-0b7e42";
const PATH: &str = "/api/partner/getClientSummaryInfo";
/// A hang fails the test instead of blocking CI.
const GUARD: Duration = Duration::from_secs(30);

fn fast() -> RetryPolicy {
    RetryPolicy::default().backoff(Duration::from_millis(20), Duration::from_millis(100))
}

fn client(url: &str) -> Client {
    Client::builder()
        .api_key(KEY)
        .base_url(url)
        .retry_policy(fast())
        .timeout(Duration::from_secs(5))
        .build()
        .expect("valid configuration")
}

async fn summary(client: &Client) -> Result<PartnerGetClientSummaryInfoWsResponse, Error> {
    client
        .checked()
        .get_client_summary_info(&PartnerGetClientSummaryInfoWsRequest::default())
        .await
        .map(rhombus_partner::ResponseValue::into_inner)
}

async fn plain(
    client: &Client,
) -> Result<PartnerGetClientSummaryInfoWsResponse, GeneratedError<()>> {
    client
        .get_client_summary_info(&PartnerGetClientSummaryInfoWsRequest::default())
        .await
        .map(rhombus_partner::ResponseValue::into_inner)
}

async fn guarded<F: Future>(test: F) -> F::Output {
    tokio::time::timeout(GUARD, test)
        .await
        .expect("the call hung: a slot or a read never ended")
}

fn ok_body() -> Vec<u8> {
    json(200, r#"{"locationCount": 3}"#)
}

// ---------------------------------------------------------------------------
// Redirects: the key goes to the configured origin and nowhere else
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_redirect_is_not_followed_so_another_host_or_port_never_sees_the_key() {
    let other_host = Server::start_on("127.0.0.2", |_, _| Action::Raw(ok_body())).await;
    let other_port = Server::start(|_, _| Action::Raw(ok_body())).await;
    for target in [&other_host.url, &other_port.url] {
        for status in [301, 302, 303, 307, 308] {
            let location = format!("{target}{PATH}");
            let sent = location.clone();
            let origin = Server::start(move |_, _| {
                Action::Raw(response(status, &[("location", &sent)], ""))
            })
            .await;
            let client = client(&origin.url);

            let result = summary(&client).await;
            let Err(Error::Redirect {
                status: seen,
                location: Some(ref named),
                ..
            }) = result
            else {
                panic!("expected Redirect, got {result:?}");
            };
            assert_eq!(seen.as_u16(), status);
            assert_eq!(named, &location);
            let message = result.unwrap_err().to_string();
            assert!(message.contains(&location), "{message}");
            assert!(message.contains("not followed"), "{message}");

            // The plain method returns the redirect as it came.
            match plain(&client).await {
                Err(GeneratedError::UnexpectedResponse(answer)) => {
                    assert_eq!(answer.status().as_u16(), status);
                }
                other => panic!("expected the redirect itself, got {other:?}"),
            }
            assert_eq!(origin.requests(), 2, "sent once per call, never again");
            assert!(origin.seen().iter().all(|s| s.head.contains(KEY)));
        }
    }
    assert_eq!(other_host.requests(), 0, "the other host saw a request");
    assert_eq!(other_port.requests(), 0, "the other port saw a request");
}

#[tokio::test]
async fn a_redirect_to_the_same_origin_is_not_followed_either() {
    let origin = Server::start(|n, _| match n {
        0 => Action::Raw(response(307, &[("location", "/api/partner/elsewhere")], "")),
        _ => Action::Raw(ok_body()),
    })
    .await;
    let result = summary(&client(&origin.url)).await;
    assert!(
        matches!(&result, Err(Error::Redirect { location: Some(l), .. }) if l == "/api/partner/elsewhere"),
        "{result:?}"
    );
    assert_eq!(origin.requests(), 1);
}

/// A TLS origin that redirects every request to `location`.
async fn tls_redirecting_origin(location: String) -> (String, String) {
    let ca = common::ca::TestCa::new("trust test CA").expect("CA");
    let acceptor = common::tls_acceptor(&ca);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "https://localhost:{}",
        listener.local_addr().expect("address").port()
    );
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                continue;
            };
            let mut head = [0u8; 4096];
            let _ = tls.read(&mut head).await;
            let answer = response(301, &[("location", &location)], "");
            let _ = tls.write_all(&answer).await;
            let _ = tls.shutdown().await;
        }
    });
    (url, ca.pem())
}

#[tokio::test]
async fn https_redirected_to_http_sends_nothing_in_clear_text() {
    let clear = Server::start(|_, _| Action::Raw(ok_body())).await;
    let port = clear.url.rsplit(':').next().expect("port").to_owned();
    let location = format!("http://localhost:{port}{PATH}");
    let (origin, ca) = tls_redirecting_origin(location.clone()).await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(&origin)
        .add_root_certificate(ca)
        .retry_policy(fast())
        .build()
        .expect("valid configuration");
    let result = guarded(summary(&client)).await;
    assert!(
        matches!(&result, Err(Error::Redirect { location: Some(l), .. }) if *l == location),
        "{result:?}"
    );
    assert_eq!(clear.requests(), 0, "the key went out over plain HTTP");
}

// ---------------------------------------------------------------------------
// Bodies: bounded, with a typed error past the limit
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_success_body_announced_past_the_limit_is_not_read() {
    const GIB: u64 = 1 << 30;
    let server = Server::start(|_, _| Action::Huge {
        status: 200,
        total: GIB,
    })
    .await;
    let client = client(&server.url);
    let result = guarded(summary(&client)).await;
    let Err(Error::BodyTooLarge {
        operation,
        ref source,
    }) = result
    else {
        panic!("expected BodyTooLarge, got {result:?}");
    };
    assert_eq!(operation, "getClientSummaryInfo");
    assert_eq!(source.status().as_u16(), 200);
    assert_eq!(source.limit(), 64 << 20, "the documented default");
    assert_eq!(source.announced(), Some(GIB));
    assert_eq!(source.read(), 0);
    let message = result.unwrap_err().to_string();
    assert!(message.contains("max_response_bytes"), "{message}");
    assert_eq!(server.requests(), 1, "a too-large answer is not retried");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sent = server.huge_bytes_sent();
    assert!(sent < 16 << 20, "the server wrote {sent} bytes");
}

#[tokio::test]
async fn an_endless_success_body_stops_at_the_limit_and_drops_the_connection() {
    let server = Server::start(|_, _| Action::Endless { status: 200 }).await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(&server.url)
        .max_response_bytes(1 << 20)
        .timeout(Duration::from_secs(20))
        .build()
        .expect("valid configuration");
    let result = guarded(summary(&client)).await;
    let Err(Error::BodyTooLarge { ref source, .. }) = result else {
        panic!("expected BodyTooLarge (not a timeout), got {result:?}");
    };
    assert_eq!(source.limit(), 1 << 20);
    assert!(source.read() > 1 << 20, "{source:?}");
    assert_eq!(source.announced(), None);
    // The client hung up: the server could not go on writing.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = server.huge_bytes_sent();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        server.huge_bytes_sent(),
        sent,
        "the server is still writing"
    );
    assert!(sent < 32 << 20, "the server wrote {sent} bytes");

    // The plain method fails the same way, the limit in its source chain.
    let error = guarded(plain(&client)).await.expect_err("too large");
    let GeneratedError::ResponseBodyError(ref source) = error else {
        panic!("expected ResponseBodyError, got {error:?}");
    };
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(source);
    let mut found = None;
    while let Some(inner) = cause {
        found = found.or(inner.downcast_ref::<BodyTooLarge>());
        cause = inner.source();
    }
    assert_eq!(found.expect("BodyTooLarge in the chain").limit(), 1 << 20);
}

#[tokio::test]
async fn max_response_bytes_is_the_exact_limit() {
    const LIMIT: usize = 1000;
    // A valid answer of exactly `length` bytes.
    let body_of = |length: usize| {
        let mut body = r#"{"locationCount": 3}"#.to_owned();
        body.insert_str(1, &" ".repeat(length - body.len()));
        body
    };
    for (length, fits) in [(LIMIT, true), (LIMIT + 1, false)] {
        let body = body_of(length);
        let server = Server::start(move |_, _| Action::Raw(json(200, &body))).await;
        let client = Client::builder()
            .api_key(KEY)
            .base_url(&server.url)
            .max_response_bytes(LIMIT)
            .build()
            .expect("valid configuration");
        let result = summary(&client).await;
        if fits {
            assert_eq!(result.expect("fits").location_count, Some(3));
        } else {
            let Err(Error::BodyTooLarge { ref source, .. }) = result else {
                panic!("expected BodyTooLarge, got {result:?}");
            };
            assert_eq!(source.limit(), LIMIT as u64);
            assert_eq!(source.announced(), Some(length as u64));
        }
    }
}

// ---------------------------------------------------------------------------
// Slots: nothing a caller keeps holds one
// ---------------------------------------------------------------------------

#[tokio::test]
async fn forty_kept_plain_errors_do_not_exhaust_the_32_slots() {
    let server = Server::start(|_, _| Action::Raw(response(403, &[], "no"))).await;
    let client = client(&server.url);
    let calls: Vec<_> = (0..40)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { plain(&client).await })
        })
        .collect();
    // Every result is kept until all have come back.
    let mut kept = Vec::new();
    let start = Instant::now();
    for call in calls {
        kept.push(guarded(call).await.expect("the task"));
    }
    println!("40 plain calls to a 403, all kept: {:?}", start.elapsed());
    assert_eq!(kept.len(), 40);
    for result in &kept {
        assert!(
            matches!(result, Err(GeneratedError::UnexpectedResponse(r)) if r.status().as_u16() == 403),
            "{result:?}"
        );
    }
    assert_eq!(server.requests(), 40);
}

#[tokio::test]
async fn with_every_slot_in_a_kept_error_the_next_call_still_runs() {
    let server = Server::start(|n, _| match n {
        0..4 => Action::Raw(response(403, &[], "no")),
        _ => Action::Raw(ok_body()),
    })
    .await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(&server.url)
        .max_concurrent_requests(4)
        .build()
        .expect("valid configuration");
    let mut kept = Vec::new();
    for _ in 0..2 {
        kept.push(plain(&client).await.map(drop).map_err(|e| e.to_string()));
    }
    let checked_kept = (summary(&client).await, summary(&client).await);
    assert!(matches!(checked_kept.0, Err(Error::Forbidden { .. })));
    assert!(kept.iter().all(Result::is_err));
    let next = guarded(summary(&client)).await;
    assert_eq!(next.expect("a slot was free").location_count, Some(3));
    assert_eq!(server.requests(), 5);
}

// ---------------------------------------------------------------------------
// Retries: Retry-After dates, timeouts while reading, no overflow
// ---------------------------------------------------------------------------

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    // The date is taken when the 429 is sent, not when the test starts: on
    // a loaded machine, setting up can take longer than a second.
    let server = Server::start(move |n, _| match n {
        0 => {
            let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3));
            Action::Raw(response(429, &[("retry-after", &date)], ""))
        }
        _ => Action::Raw(ok_body()),
    })
    .await;
    let result = summary(&client(&server.url)).await;
    assert_eq!(result.expect("succeeds").location_count, Some(3));
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    let gap = seen[1].at - seen[0].at;
    // A date has whole seconds: 3 s ahead is between 2 and 3 s from now.
    assert!(gap >= Duration::from_millis(1900), "retried after {gap:?}");
    assert!(gap < Duration::from_secs(4), "waited {gap:?}");
}

#[tokio::test]
async fn a_timeout_while_reading_the_body_of_a_read_only_call_is_retried() {
    let answer = ok_body();
    let split = answer.len() - 5;
    let server = Server::start(move |n, _| match n {
        0 => Action::Stall(
            answer[..split].to_vec(),
            Duration::from_secs(3),
            answer[split..].to_vec(),
        ),
        _ => Action::Raw(answer.clone()),
    })
    .await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(&server.url)
        .timeout(Duration::from_millis(300))
        .retry_policy(fast())
        .build()
        .expect("valid configuration");
    let result = guarded(summary(&client)).await;
    assert_eq!(result.expect("the retry succeeds").location_count, Some(3));
    assert_eq!(server.requests(), 2);

    // Without retries the same stall is a typed timeout.
    let server = Server::start(move |_, _| {
        let answer = ok_body();
        Action::Stall(
            answer[..10].to_vec(),
            Duration::from_secs(3),
            answer[10..].to_vec(),
        )
    })
    .await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(&server.url)
        .timeout(Duration::from_millis(300))
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("valid configuration");
    let result = guarded(summary(&client)).await;
    assert!(
        matches!(
            result,
            Err(Error::Transport {
                kind: TransportKind::Timeout,
                ..
            })
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn extreme_settings_and_server_values_do_not_panic() {
    let ok = Server::start(|_, _| Action::Raw(ok_body())).await;
    let unbounded = Client::builder()
        .api_key(KEY)
        .base_url(&ok.url)
        .timeout(Duration::MAX)
        .connect_timeout(Duration::MAX)
        .retry_policy(RetryPolicy::default().deadline(Duration::MAX))
        .build()
        .expect("valid configuration");
    assert_eq!(
        guarded(summary(&unbounded))
            .await
            .expect("ok")
            .location_count,
        Some(3)
    );

    // The largest Retry-After, honoured up to the largest cap: the wait
    // would pass the deadline, so the call ends at once.
    let throttled = Server::start(|_, _| {
        Action::Raw(response(
            429,
            &[("retry-after", "18446744073709551615")],
            "",
        ))
    })
    .await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(&throttled.url)
        .retry_policy(
            RetryPolicy::default()
                .max_retry_after(Duration::MAX)
                .deadline(Duration::from_secs(5)),
        )
        .build()
        .expect("valid configuration");
    let result = guarded(summary(&client)).await;
    let Err(Error::RateLimited { retry_after, .. }) = &result else {
        panic!("expected RateLimited, got {result:?}");
    };
    assert_eq!(*retry_after, Some(Duration::from_secs(u64::MAX)));
    assert!(!result.unwrap_err().to_string().is_empty());
    assert_eq!(throttled.requests(), 1);

    // The longest backoff after a 503.
    let failing = Server::start(|_, _| Action::Raw(response(503, &[], ""))).await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(&failing.url)
        .retry_policy(
            RetryPolicy::default()
                .backoff(Duration::MAX, Duration::MAX)
                .deadline(Duration::from_secs(5)),
        )
        .build()
        .expect("valid configuration");
    let result = guarded(summary(&client)).await;
    assert!(
        matches!(&result, Err(Error::Http { status, .. }) if status.as_u16() == 503),
        "{result:?}"
    );
    assert_eq!(failing.requests(), 1);
}

// ---------------------------------------------------------------------------
// A connection that ends while the body comes in
// ---------------------------------------------------------------------------

/// A `200` promising 100 bytes of body that sends 20, then ends the
/// connection as `ending` says, or stalls past the client's timeout.
fn cut_body(ending: Option<common::Ending>) -> Action {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n";
    let first = format!("{head}{{\"locationCount\": 3, ").into_bytes();
    match ending {
        Some(ending) => Action::Cut(first, ending),
        None => Action::Stall(first, Duration::from_secs(3), Vec::new()),
    }
}

async fn create(client: &Client) -> Result<(), Error> {
    client
        .checked()
        .create_partner_client(
            &rhombus_partner::types::PartnerCreatePartnerClientWsRequest::default(),
        )
        .await
        .map(drop)
}

#[tokio::test]
async fn a_connection_lost_mid_body_is_retried_for_a_read_and_not_for_a_change() {
    use common::Ending;
    for ending in [Some(Ending::Reset), Some(Ending::Close), None] {
        let server = Server::start(move |n, _| match n {
            0 => cut_body(ending),
            _ => Action::Raw(ok_body()),
        })
        .await;
        let client = Client::builder()
            .api_key(KEY)
            .base_url(&server.url)
            .timeout(Duration::from_millis(500))
            .retry_policy(fast())
            .build()
            .expect("valid configuration");
        let read = guarded(summary(&client)).await;
        assert_eq!(
            read.map(|r| r.location_count).ok(),
            Some(Some(3)),
            "{ending:?}: a read is retried"
        );
        assert_eq!(server.requests(), 2, "{ending:?}");

        let server = Server::start(move |_, _| cut_body(ending)).await;
        let client = Client::builder()
            .api_key(KEY)
            .base_url(&server.url)
            .timeout(Duration::from_millis(500))
            .retry_policy(fast())
            .build()
            .expect("valid configuration");
        let change = guarded(create(&client)).await;
        let Err(Error::Transport { kind, attempts, .. }) = &change else {
            panic!("{ending:?}: expected Transport, got {change:?}");
        };
        let expected = match ending {
            None => TransportKind::Timeout,
            Some(_) => TransportKind::Connection,
        };
        assert_eq!((*kind, *attempts), (expected, 1), "{ending:?}");
        assert_eq!(server.requests(), 1, "{ending:?}: a change is sent once");
    }
}

// ---------------------------------------------------------------------------
// Statuses the operation does not declare
// ---------------------------------------------------------------------------

/// The API declares `200` alone; another 2xx is a status the generated
/// code has no type for, reported as `Http` with the status, never
/// decoded as if it were the declared answer.
#[tokio::test]
async fn an_undeclared_2xx_is_http_with_its_status() {
    for status in [201, 202, 204] {
        let body = if status == 204 {
            ""
        } else {
            r#"{"locationCount": 3}"#
        };
        let server = Server::start(move |_, _| Action::Raw(json(status, body))).await;
        let result = guarded(summary(&client(&server.url))).await;
        let Err(Error::Http {
            status: got,
            attempts,
            ..
        }) = &result
        else {
            panic!("{status}: expected Http, got {result:?}");
        };
        assert_eq!((got.as_u16(), *attempts), (status, 1));
        assert_eq!(server.requests(), 1, "{status} is not retried");
    }
}

// ---------------------------------------------------------------------------
// Server certificates the client refuses
// ---------------------------------------------------------------------------

/// A TLS server on 127.0.0.1 presenting `leaf`, counting the connections
/// (so the handshakes) it was offered. Its URL names `localhost`.
async fn tls_server(
    leaf: &common::ca::Leaf,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let acceptor = common::tls_acceptor_for(leaf);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "https://localhost:{}",
        listener.local_addr().expect("address").port()
    );
    let handshakes = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = handshakes.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    let _ = tls.write_all(&ok_body()).await;
                }
            });
        }
    });
    (url, handshakes)
}

/// Each refused certificate ends the call at the first handshake, as
/// `Transport { kind: Tls }` whose message says what was wrong with it;
/// the same with either TLS backend (CI runs this file with each).
#[tokio::test]
async fn a_refused_server_certificate_is_tls_after_one_handshake() {
    use common::ca::{Leaf, TestCa};
    let ca = TestCa::new("trust test CA").expect("CA");
    // What rustls and OpenSSL each say of the certificate, lowercased.
    let cases: [(&str, Leaf, [&str; 2]); 3] = [
        (
            "self-signed",
            Leaf::self_signed(&["localhost"]).expect("certificate"),
            ["unknownissuer", "self-signed certificate"],
        ),
        (
            "for another host",
            ca.issue_server_for(&["api.example.com"])
                .expect("certificate"),
            ["not valid for name", "hostname mismatch"],
        ),
        (
            "expired",
            ca.issue_expired_server().expect("certificate"),
            ["expired", "has expired"],
        ),
    ];
    for (case, leaf, said) in cases {
        let (url, handshakes) = tls_server(&leaf).await;
        let client = Client::builder()
            .api_key(KEY)
            .base_url(&url)
            .add_root_certificate(ca.pem())
            .retry_policy(fast())
            .build()
            .expect("valid configuration");
        let result = guarded(summary(&client)).await;
        let Err(Error::Transport {
            kind,
            attempts,
            message,
            ..
        }) = &result
        else {
            panic!("{case}: expected Transport, got {result:?}");
        };
        assert_eq!((*kind, *attempts), (TransportKind::Tls, 1), "{case}");
        assert!(
            said.iter()
                .any(|words| message.to_lowercase().contains(words)),
            "{case}: the message does not say what is wrong: {message}"
        );
        let shown = result.as_ref().unwrap_err().to_string();
        assert!(shown.contains("TLS handshake refused"), "{shown}");
        assert_eq!(
            handshakes.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "{case}: handshakes"
        );
    }
}

// ---------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------

#[tokio::test]
async fn the_largest_in_flight_limit_is_taken_as_the_documented_maximum() {
    let server = Server::start(|_, _| Action::Raw(ok_body())).await;
    for max in [
        usize::MAX,
        usize::MAX / 2,
        ClientBuilder::MAX_CONCURRENT_REQUESTS,
    ] {
        let client = Client::builder()
            .api_key(KEY)
            .base_url(&server.url)
            .max_concurrent_requests(max)
            .build()
            .expect("any limit builds");
        let summary = guarded(summary(&client)).await.expect("the call runs");
        assert_eq!(summary.location_count, Some(3));
    }
    assert_eq!(ClientBuilder::MAX_CONCURRENT_REQUESTS, usize::MAX >> 3);
}

/// One slot, five calls at once, a 500 ms deadline and a server that takes
/// 450 ms: what the calls report sending is what the server saw. A call
/// that got its slot with (almost) no time left sent nothing, and says so
/// as a `QueueTimeout`, not as a transport timeout of a request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_calls_report_sending_is_what_the_server_saw() {
    let server = Server::start(|_, _| Action::Delay(Duration::from_millis(450), ok_body())).await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(&server.url)
        .max_concurrent_requests(1)
        .retry_policy(RetryPolicy::none().deadline(Duration::from_millis(500)))
        .build()
        .expect("valid configuration");
    let calls: Vec<_> = (0..5)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { summary(&client).await })
        })
        .collect();
    let (mut reported, mut queued) = (0, 0);
    for call in calls {
        match guarded(call).await.expect("the call ran") {
            Ok(_) => reported += 1,
            Err(Error::Transport { attempts, .. }) => reported += attempts,
            Err(Error::QueueTimeout { attempts, .. }) => {
                reported += attempts;
                queued += 1;
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(reported as usize, server.requests());
    assert!(
        queued >= 3,
        "at most two calls got a slot in time: {queued} queued"
    );
}
