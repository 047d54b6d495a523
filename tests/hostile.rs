//! The client against a hostile server on loopback: each case asserts the
//! typed result and how many requests the server saw. Waits are short
//! through the `RetryPolicy`, except where the API's own minimum (a 1 s
//! `Retry-After`) is the point.
//!
//! State-changing operations are in `fixture_spec.rs`: the real fragment has
//! only read-only ones.

mod common;

use std::time::{Duration, Instant};

use common::client::{KEY, client, fast};
use common::{Action, Captured, Server, json, response};
use rhombus_partner::types::PartnerGetClientSummaryInfoWsRequest;
use rhombus_partner::{ApiStatus, Client, Error, RetryPolicy, TransportKind};

async fn summary(
    client: &Client,
) -> Result<rhombus_partner::types::PartnerGetClientSummaryInfoWsResponse, Error> {
    client
        .checked()
        .get_client_summary_info(&PartnerGetClientSummaryInfoWsRequest::default())
        .await
        .map(rhombus_partner::ResponseValue::into_inner)
}

fn ok_body() -> Vec<u8> {
    json(200, r#"{"locationCount": 3}"#)
}

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

/// Truncated JSON on a 200.
#[tokio::test]
async fn truncated_json_is_a_decode_error_with_the_start_of_the_body() {
    let server = Server::start(|_, _| {
        Action::Raw(json(200, r#"{"locationCount": 3, "accountOwner": {"na"#))
    })
    .await;
    let result = summary(&client(&server.url, fast())).await;
    let Err(Error::Decode {
        status,
        ref body,
        ref source,
        ..
    }) = result
    else {
        panic!("expected Decode, got {result:?}");
    };
    assert_eq!(status.as_u16(), 200);
    assert!(source.is_eof(), "{source}");
    assert!(body.text().starts_with(r#"{"locationCount""#));
    assert_eq!(server.requests(), 1);
}

/// An empty body with 200.
#[tokio::test]
async fn an_empty_200_is_a_decode_error() {
    let server = Server::start(|_, _| Action::Raw(json(200, ""))).await;
    let result = summary(&client(&server.url, fast())).await;
    let Err(Error::Decode {
        ref body,
        ref source,
        ..
    }) = result
    else {
        panic!("expected Decode, got {result:?}");
    };
    assert!(body.is_empty());
    assert!(source.is_eof());
    assert_eq!(server.requests(), 1);
}

/// A 200 with `"error": true` and `errorMsg`.
#[tokio::test]
async fn a_200_with_error_true_is_an_api_error_on_the_checked_path_only() {
    let body =
        r#"{"error": true, "errorMsg": "Client org not found", "warningMsg": "check the uuid"}"#;
    let server = Server::start(move |_, _| Action::Raw(json(200, body))).await;
    let client = client(&server.url, fast());
    let result = summary(&client).await;
    let Err(Error::Api {
        operation,
        ref message,
        ref warning,
        ..
    }) = result
    else {
        panic!("expected Api, got {result:?}");
    };
    assert_eq!(operation, "getClientSummaryInfo");
    assert_eq!(message.as_deref(), Some("Client org not found"));
    assert_eq!(warning.as_deref(), Some("check the uuid"));
    assert!(
        result
            .unwrap_err()
            .to_string()
            .contains("Client org not found")
    );
    assert_eq!(server.requests(), 1);

    // The plain generated method still returns the body as it came.
    let plain = client
        .get_client_summary_info(&PartnerGetClientSummaryInfoWsRequest::default())
        .await
        .expect("the plain method does not look at the flag")
        .into_inner();
    assert_eq!(plain.api_error(), Some(true));
    assert_eq!(server.requests(), 2);
}

/// A 200 with `warningMsg`: success, the warning reachable and
/// logged.
#[tokio::test]
async fn a_200_with_a_warning_succeeds_and_logs_it() {
    let (captured, _guard) = Captured::install(tracing::Level::WARN);

    let body = r#"{"locationCount": 1, "warningMsg": "license expires in 3 days"}"#;
    let server = Server::start(move |_, _| Action::Raw(json(200, body))).await;
    let summary = summary(&client(&server.url, fast()))
        .await
        .expect("a warning is not an error");
    assert_eq!(summary.warning_message(), Some("license expires in 3 days"));
    assert_eq!(summary.location_count, Some(1));
    assert_eq!(server.requests(), 1);
    let log = captured.text();
    assert!(log.contains("WARN"), "{log}");
    assert!(log.contains("license expires in 3 days"), "{log}");
    assert!(log.contains("getClientSummaryInfo"), "{log}");
}

/// 401, and 403 with an empty body; neither is retried.
#[tokio::test]
async fn a_401_and_an_empty_403_are_typed_and_not_retried() {
    let server = Server::start(|_, _| Action::Raw(response(401, &[], "Unauthorized"))).await;
    let result = summary(&client(&server.url, fast())).await;
    let Err(Error::Unauthorized { ref body, .. }) = result else {
        panic!("expected Unauthorized, got {result:?}");
    };
    assert_eq!(body.text(), "Unauthorized");
    assert!(
        result
            .unwrap_err()
            .to_string()
            .contains("check the API key")
    );
    assert_eq!(server.requests(), 1);

    let server = Server::start(|_, _| Action::Raw(response(403, &[], ""))).await;
    let result = summary(&client(&server.url, fast())).await;
    let Err(Error::Forbidden { ref body, .. }) = result else {
        panic!("expected Forbidden, got {result:?}");
    };
    assert!(body.is_empty());
    assert_eq!(server.requests(), 1);
}

/// (fields; enums are in `fixture_spec.rs`): unknown fields, `null`
/// and missing fields decode.
#[tokio::test]
async fn unknown_null_and_missing_fields_decode() {
    let body = r#"{"locationCount": 2, "brandNewField": {"a": [1, 2]}, "accountOwner": null,
                   "clientDeviceStatusMap": {"NEW_DEVICE_TYPE": {"whatever": true}}}"#;
    let server = Server::start(move |_, _| Action::Raw(json(200, body))).await;
    let summary = summary(&client(&server.url, fast()))
        .await
        .expect("decodes");
    assert_eq!(summary.location_count, Some(2));
    assert!(summary.account_owner.is_none());
    assert!(
        summary.recent_policy_alert_count.is_none(),
        "missing is None"
    );
    assert!(
        summary
            .client_device_status_map
            .expect("map")
            .contains_key("NEW_DEVICE_TYPE")
    );
    assert_eq!(server.requests(), 1);
}

/// Invalid UTF-8 inside a JSON string: a decode error, no panic.
#[tokio::test]
async fn invalid_utf8_in_a_string_is_a_decode_error() {
    let mut body = br#"{"accountOwner": {"name": "Ada "#.to_vec();
    body.extend_from_slice(&[0xff, 0xfe, 0xc3]);
    body.extend_from_slice(br#""}}"#);
    let server = Server::start(move |_, _| {
        Action::Raw(response(
            200,
            &[("content-type", "application/json")],
            &body,
        ))
    })
    .await;
    let result = summary(&client(&server.url, fast())).await;
    let Err(Error::Decode {
        ref body,
        ref source,
        ..
    }) = result
    else {
        panic!("expected Decode, got {result:?}");
    };
    assert!(source.to_string().contains("invalid unicode"), "{source}");
    assert!(
        body.text().contains('\u{FFFD}'),
        "lossy preview: {:?}",
        body.text()
    );
    assert_eq!(server.requests(), 1);
}

/// A 100 MB error body: the error keeps 64 KiB, and the client
/// stops reading (the server could not send the rest).
#[tokio::test]
async fn a_100_mb_error_body_is_cut_at_64_kib_and_not_read_on() {
    const TOTAL: u64 = 100 * 1024 * 1024;
    let server = Server::start(|_, _| Action::Huge {
        status: 400,
        total: TOTAL,
    })
    .await;
    let result = summary(&client(&server.url, fast())).await;
    let Err(Error::Http {
        status, ref body, ..
    }) = result
    else {
        panic!("expected Http, got {result:?}");
    };
    assert_eq!(status.as_u16(), 400);
    assert_eq!(body.text().len(), rhombus_partner::BODY_PREVIEW_LIMIT);
    assert!(body.is_truncated());
    assert!(
        result.unwrap_err().to_string().len() < 2_000,
        "Display stays short"
    );
    // Let the server notice the closed connection.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sent = server.huge_bytes_sent();
    assert!(
        sent < 16 * 1024 * 1024,
        "the server wrote {sent} bytes: the client kept reading"
    );
    println!("100 MB error body: the server managed to write {sent} of {TOTAL} bytes");
    assert_eq!(server.requests(), 1);
}

/// A malformed request answered `{"msg": ...}` with 400: not retried, the
/// message in the preview.
#[tokio::test]
async fn malformed_request_msg_body() {
    let server =
        Server::start(|_, _| Action::Raw(json(400, r#"{"msg": "Could not parse request body"}"#)))
            .await;
    let result = summary(&client(&server.url, fast())).await;
    let Err(Error::Http {
        status, ref body, ..
    }) = result
    else {
        panic!("expected Http, got {result:?}");
    };
    assert_eq!(status.as_u16(), 400);
    assert!(body.text().contains("Could not parse request body"));
    assert!(result.unwrap_err().to_string().contains("malformed"));
    assert_eq!(server.requests(), 1);
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

/// A wrong type in a 2xx body, on the checked path: `Decode`, with the
/// status and the start of the body, after one request.
#[tokio::test]
async fn a_wrong_type_in_a_200_is_a_decode_error_on_the_checked_path() {
    let server =
        Server::start(|_, _| Action::Raw(json(200, r#"{"locationCount": "three"}"#))).await;
    let result = summary(&client(&server.url, fast())).await;
    let Err(Error::Decode {
        operation,
        status,
        ref body,
        ref source,
    }) = result
    else {
        panic!("expected Decode, got {result:?}");
    };
    assert_eq!((operation, status.as_u16()), ("getClientSummaryInfo", 200));
    assert_eq!(body.text(), r#"{"locationCount": "three"}"#);
    assert!(source.is_data(), "{source}");
    assert_eq!(server.requests(), 1);
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

/// The call's span and the INFO retry lines, by value: a 503, then a 429
/// asking for 1 s, then an answer.
#[tokio::test]
async fn the_call_span_and_the_retry_lines_carry_their_values() {
    use tracing_subscriber::layer::SubscriberExt;
    let recorder = common::recorder::Recorder::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(recorder.clone()));

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

/// A retry that would pass the deadline is not made, and the INFO line
/// says so with the wait that was asked.
#[tokio::test]
async fn a_retry_past_the_deadline_is_logged_and_not_made() {
    use tracing_subscriber::layer::SubscriberExt;
    let recorder = common::recorder::Recorder::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(recorder.clone()));

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
