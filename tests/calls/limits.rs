//! What bounds a call: body sizes, request slots (nothing a caller keeps
//! holds one, and what calls report sending is what the server saw), and
//! settings or server values at their extremes.

use super::*;

#[tokio::test]
async fn a_success_body_announced_past_the_limit_is_not_read() {
    const GIB: u64 = 1 << 30;
    let server = Server::start(|_, _| Action::Huge {
        status: 200,
        total: GIB,
    })
    .await;
    let client = client(&server.url, fast());
    let result = guarded(summary(&client)).await;
    let Err(Error::BodyTooLarge {
        operation,
        too_large: ref source,
        ..
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
    let Err(Error::BodyTooLarge {
        too_large: ref source,
        ..
    }) = result
    else {
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
            let Err(Error::BodyTooLarge {
                too_large: ref source,
                ..
            }) = result
            else {
                panic!("expected BodyTooLarge, got {result:?}");
            };
            assert_eq!(source.limit(), LIMIT as u64);
            assert_eq!(source.announced(), Some(length as u64));
        }
    }
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

#[tokio::test]
async fn forty_kept_errors_do_not_exhaust_the_32_slots() {
    let server = Server::start(|_, _| Action::Raw(response(403, &[], "no"))).await;
    let client = client(&server.url, fast());
    let calls: Vec<_> = (0..40)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { summary(&client).await })
        })
        .collect();
    // Every result is kept until all have come back.
    let mut kept = Vec::new();
    let start = Instant::now();
    for call in calls {
        kept.push(guarded(call).await.expect("the task"));
    }
    println!("40 calls to a 403, all kept: {:?}", start.elapsed());
    assert_eq!(kept.len(), 40);
    for result in &kept {
        assert!(matches!(result, Err(Error::Forbidden { .. })), "{result:?}");
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
        kept.push(summary(&client).await.map(drop));
    }
    let checked_kept = (summary(&client).await, summary(&client).await);
    assert!(matches!(checked_kept.0, Err(Error::Forbidden { .. })));
    assert!(kept.iter().all(Result::is_err));
    let next = guarded(summary(&client)).await;
    assert_eq!(next.expect("a slot was free").location_count, Some(3));
    assert_eq!(server.requests(), 5);
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
