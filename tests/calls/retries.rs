//! What is retried and what never is: `429` for every operation (after
//! `Retry-After`, in seconds or as a date), `5xx`, timeouts and lost
//! connections for reads only (also while the body comes in), all within
//! the call's deadline, each retry logged. State-changing operations of
//! other shapes are in `fixture_spec.rs`.

use super::*;

/// A 429 with `Retry-After: 1`, then 200.
#[tokio::test]
async fn a_429_with_retry_after_waits_that_long_then_succeeds() {
    let server = Server::start(|n, _| match n {
        0 => Action::Raw(response(
            429,
            &[("retry-after", "1"), ("content-type", "text/plain")],
            "Too Many Requests",
        )),
        _ => Action::Raw(ok_body()),
    })
    .await;
    let result = summary(&client(&server.url, RetryPolicy::default())).await;
    assert_eq!(result.expect("succeeds").location_count, Some(3));
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    let gap = seen[1].at - seen[0].at;
    assert!(gap >= Duration::from_secs(1), "retried after {gap:?}");
    assert!(gap < Duration::from_secs(3), "waited too long: {gap:?}");
}

/// A 429 without `Retry-After`: backoff, then success.
#[tokio::test]
async fn a_429_without_retry_after_backs_off_then_succeeds() {
    let server = Server::start(|n, _| match n {
        0 | 1 => Action::Raw(response(
            429,
            &[("content-type", "text/plain")],
            "slow down",
        )),
        _ => Action::Raw(ok_body()),
    })
    .await;
    let result = summary(&client(&server.url, fast())).await;
    assert_eq!(result.expect("succeeds").location_count, Some(3));
    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    // Backoff of 20 ms then 40 ms, each with up to half of it as jitter.
    assert!(seen[1].at - seen[0].at >= Duration::from_millis(10));
    assert!(seen[2].at - seen[1].at >= Duration::from_millis(20));
}

/// A 429 every time: gives up within the deadline, rate limited.
#[tokio::test]
async fn a_429_every_time_gives_up_within_the_deadline() {
    let server = Server::start(|_, _| {
        Action::Raw(response(429, &[("retry-after", "1")], "Too Many Requests"))
    })
    .await;
    let deadline = Duration::from_millis(2500);
    let start = Instant::now();
    let result = summary(&client(
        &server.url,
        RetryPolicy::default().deadline(deadline),
    ))
    .await;
    let elapsed = start.elapsed();
    let Err(Error::RateLimited {
        operation,
        retry_after,
        attempts,
        ref body,
    }) = result
    else {
        panic!("expected RateLimited, got {result:?}");
    };
    assert_eq!(operation, "getClientSummaryInfo");
    assert_eq!(retry_after, Some(Duration::from_secs(1)));
    assert_eq!(body.text(), "Too Many Requests");
    // Sent at 0 s, 1 s, 2 s; a third wait would end past 2.5 s.
    assert_eq!(attempts, 3);
    assert_eq!(server.requests(), 3);
    assert!(elapsed < deadline, "took {elapsed:?}");
}

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
    let result = summary(&client(&server.url, fast())).await;
    assert_eq!(result.expect("succeeds").location_count, Some(3));
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    let gap = seen[1].at - seen[0].at;
    // A date has whole seconds: 3 s ahead is between 2 and 3 s from now.
    assert!(gap >= Duration::from_millis(1900), "retried after {gap:?}");
    assert!(gap < Duration::from_secs(4), "waited {gap:?}");
}

/// A 503 on a read-only operation is retried.
#[tokio::test]
async fn a_503_on_a_read_only_operation_is_retried() {
    let server = Server::start(|n, _| match n {
        0 => Action::Raw(response(
            503,
            &[("content-type", "text/plain")],
            "unavailable",
        )),
        _ => Action::Raw(ok_body()),
    })
    .await;
    let result = summary(&client(&server.url, fast())).await;
    assert_eq!(result.expect("succeeds").location_count, Some(3));
    assert_eq!(server.requests(), 2);
}

/// An HTML 502 page (a gateway's), retried as a 5xx, then returned.
#[tokio::test]
async fn a_gateway_html_502_is_retried_then_returned_with_its_page() {
    let page = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>";
    let server = Server::start(move |_, _| {
        Action::Raw(response(502, &[("content-type", "text/html")], page))
    })
    .await;
    let result = summary(&client(&server.url, fast().max_attempts(2))).await;
    let Err(Error::Http {
        status,
        attempts,
        ref body,
        ..
    }) = result
    else {
        panic!("expected Http, got {result:?}");
    };
    assert_eq!(status.as_u16(), 502);
    assert_eq!(attempts, 2);
    assert_eq!(body.text(), page);
    assert_eq!(server.requests(), 2);
}

/// The connection is reset before any response. A read-only call
/// is retried (here up to 3 attempts) and then reports the transport error.
#[tokio::test]
async fn a_reset_before_any_response_is_retried_for_a_read() {
    let server = Server::start(|_, _| Action::Reset).await;
    let result = summary(&client(&server.url, fast().max_attempts(3))).await;
    let Err(Error::Transport { kind, attempts, .. }) = &result else {
        panic!("expected Transport, got {result:?}");
    };
    assert_eq!(*kind, TransportKind::Connection, "{result:?}");
    assert_eq!(*attempts, 3);
    assert_eq!(server.requests(), 3);

    // A reset once, then an answer: the read succeeds.
    let server = Server::start(|n, _| {
        if n == 0 {
            Action::Reset
        } else {
            Action::Raw(ok_body())
        }
    })
    .await;
    let result = summary(&client(&server.url, fast())).await;
    assert_eq!(result.expect("succeeds").location_count, Some(3));
    assert_eq!(server.requests(), 2);
}

/// Nothing listens: `Transport { kind: Connect }`; a read is sent as often
/// as the policy allows, a call with retries off once.
#[tokio::test]
async fn a_refused_connection_is_connect_and_retried_for_a_read() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    drop(listener);
    for (policy, sent) in [(fast().max_attempts(3), 3), (RetryPolicy::none(), 1)] {
        let client = Client::builder()
            .api_key(KEY)
            .base_url(&url)
            .retry_policy(policy)
            .build()
            .expect("valid configuration");
        let result = summary(&client).await;
        let Err(Error::Transport { kind, attempts, .. }) = &result else {
            panic!("expected Transport, got {result:?}");
        };
        assert_eq!((*kind, *attempts), (TransportKind::Connect, sent));
        assert!(
            result
                .unwrap_err()
                .to_string()
                .contains("could not connect"),
            "the message says what happened"
        );
    }
}

/// A response slower than the timeout.
#[tokio::test]
async fn an_answer_slower_than_the_timeout_is_a_typed_timeout() {
    let server = Server::start(|_, _| Action::Delay(Duration::from_secs(3), ok_body())).await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(&server.url)
        .timeout(Duration::from_millis(200))
        .retry_policy(fast().max_attempts(2))
        .build()
        .expect("valid configuration");
    let start = Instant::now();
    let result = summary(&client).await;
    let Err(Error::Transport { kind, attempts, .. }) = &result else {
        panic!("expected Transport, got {result:?}");
    };
    assert_eq!(*kind, TransportKind::Timeout);
    assert_eq!(*attempts, 2, "a read-only call is retried after a timeout");
    assert_eq!(server.requests(), 2);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert!(result.unwrap_err().to_string().contains("timed out"));
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
    let client = common::client::with_timeout(&server.url, fast(), Duration::from_millis(300));
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
    let client =
        common::client::with_timeout(&server.url, RetryPolicy::none(), Duration::from_millis(300));
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
        let client = common::client::with_timeout(&server.url, fast(), Duration::from_millis(500));
        let read = guarded(summary(&client)).await;
        assert_eq!(
            read.map(|r| r.location_count).ok(),
            Some(Some(3)),
            "{ending:?}: a read is retried"
        );
        assert_eq!(server.requests(), 2, "{ending:?}");

        let server = Server::start(move |_, _| cut_body(ending)).await;
        let client = common::client::with_timeout(&server.url, fast(), Duration::from_millis(500));
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

/// `RetryPolicy::none()` sends a throttled read once.
#[tokio::test]
async fn retries_can_be_turned_off() {
    let server =
        Server::start(|_, _| Action::Raw(response(429, &[("retry-after", "1")], ""))).await;
    let result = summary(&client(&server.url, RetryPolicy::none())).await;
    assert!(
        matches!(result, Err(Error::RateLimited { attempts: 1, .. })),
        "{result:?}"
    );
    assert_eq!(server.requests(), 1);
}

/// Each attempt's timeout is cut to what is left of the deadline: with a
/// 30 s request timeout and a 500 ms deadline, a server that answers after
/// 10 s ends the call at the deadline, with no retry (none fits).
#[tokio::test]
async fn an_attempt_ends_at_the_deadline_not_at_the_request_timeout() {
    let server = Server::start(|_, _| Action::Delay(Duration::from_secs(10), ok_body())).await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(&server.url)
        .timeout(Duration::from_secs(30))
        .retry_policy(RetryPolicy::default().deadline(Duration::from_millis(500)))
        .build()
        .expect("valid configuration");
    let start = Instant::now();
    let result = summary(&client).await;
    let elapsed = start.elapsed();
    assert!(
        matches!(
            result,
            Err(Error::Transport {
                kind: TransportKind::Timeout,
                attempts: 1,
                ..
            })
        ),
        "{result:?}"
    );
    assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
    // Far below the server's 10 s: the generous margin is for a busy machine.
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert_eq!(server.requests(), 1);
}

/// A retry that would pass the deadline is not made, and the INFO line
/// says so with the wait that was asked.
#[tokio::test]
async fn a_retry_past_the_deadline_is_logged_and_not_made() {
    use tracing_subscriber::layer::SubscriberExt;
    let recorder = common::recorder::Recorder::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(recorder.clone()));
    // Another test's thread may have met the library's callsites first,
    // with no subscriber: their cached interest is made anew with this one.
    tracing::callsite::rebuild_interest_cache();

    let server =
        Server::start(|_, _| Action::Raw(response(429, &[("retry-after", "30")], ""))).await;
    let policy = RetryPolicy::default().deadline(Duration::from_secs(5));
    let result = summary(&client(&server.url, policy)).await;
    assert!(
        matches!(result, Err(Error::RateLimited { attempts: 1, .. })),
        "{result:?}"
    );
    assert_eq!(server.requests(), 1);

    let spans = recorder.spans();
    let [span] = spans.as_slice() else {
        panic!("expected one span, got {spans:?}");
    };
    assert_eq!(span.fields["attempt"], "1");
    assert_eq!(span.fields["status"], "429");
    let info: Vec<_> = recorder
        .events()
        .into_iter()
        .filter(|event| event.level == tracing::Level::INFO)
        .collect();
    let [line] = info.as_slice() else {
        panic!("expected one INFO line, got {info:?}");
    };
    assert_eq!(
        line.message,
        "not retrying: the wait would pass the call's deadline"
    );
    assert_eq!(line.fields["attempt"], "1");
    assert_eq!(line.fields["wait_ms"], "30000");
    assert_eq!(line.fields["reason"], "rate limited (429)");
}

/// The call's span and the INFO retry lines, by value: a 503, then a 429
/// asking for 1 s, then an answer.
#[tokio::test]
async fn the_call_span_and_the_retry_lines_carry_their_values() {
    use tracing_subscriber::layer::SubscriberExt;
    let recorder = common::recorder::Recorder::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(recorder.clone()));
    // Another test's thread may have met the library's callsites first,
    // with no subscriber: their cached interest is made anew with this one.
    tracing::callsite::rebuild_interest_cache();

    let server = Server::start(|n, _| match n {
        0 => Action::Raw(response(503, &[], "unavailable")),
        1 => Action::Raw(response(429, &[("retry-after", "1")], "slow down")),
        _ => Action::Raw(ok_body()),
    })
    .await;
    let start = Instant::now();
    summary(&client(&server.url, fast()))
        .await
        .expect("succeeds");
    let elapsed = start.elapsed();

    let spans = recorder.spans();
    let [span] = spans.as_slice() else {
        panic!("expected one span, got {spans:?}");
    };
    assert_eq!(span.name, "rhombus_partner.call");
    let field = |name: &str| span.fields.get(name).map(String::as_str);
    assert_eq!(field("operation"), Some("getClientSummaryInfo"));
    assert_eq!(field("read_only"), Some("true"));
    assert_eq!(field("attempt"), Some("3"));
    assert_eq!(field("status"), Some("200"));
    let duration: u128 = field("duration_ms")
        .expect("duration_ms")
        .parse()
        .expect("a number");
    assert!(
        (1000..=elapsed.as_millis()).contains(&duration),
        "{duration} ms, the call took {elapsed:?}"
    );

    let retries: Vec<_> = recorder
        .events()
        .into_iter()
        .filter(|event| event.level == tracing::Level::INFO)
        .collect();
    let [server_error, rate_limited] = retries.as_slice() else {
        panic!("expected two INFO lines, got {retries:?}");
    };
    for line in [server_error, rate_limited] {
        assert_eq!(line.message, "retrying");
        assert_eq!(line.span, Some("rhombus_partner.call"));
    }
    let value = |line: &common::recorder::EventRecord, name: &str| line.fields[name].clone();
    assert_eq!(value(server_error, "attempt"), "1");
    assert_eq!(value(server_error, "reason"), "server error");
    // Backoff of 20 ms with jitter: between 10 and 20 ms.
    let backoff: u64 = value(server_error, "wait_ms").parse().expect("a number");
    assert!((10..=20).contains(&backoff), "{backoff}");
    assert_eq!(value(rate_limited, "attempt"), "2");
    assert_eq!(value(rate_limited, "reason"), "rate limited (429)");
    assert_eq!(value(rate_limited, "wait_ms"), "1000");
}
