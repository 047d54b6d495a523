//! How an answer becomes a value or a typed error: bodies that do not
//! decode, `"error": true`, warnings, `401`/`403`, lenient decoding, and
//! statuses the operation does not declare.

use super::*;

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

/// A wrong type in a 2xx body: `Decode`, with the status and the start of
/// the body, after one request.
#[tokio::test]
async fn a_wrong_type_in_a_200_is_a_decode_error() {
    let server =
        Server::start(|_, _| Action::Raw(json(200, r#"{"locationCount": "three"}"#))).await;
    let result = summary(&client(&server.url, fast())).await;
    let Err(Error::Decode {
        operation,
        status,
        attempts,
        ref body,
        ref source,
    }) = result
    else {
        panic!("expected Decode, got {result:?}");
    };
    assert_eq!((operation, status.as_u16()), ("getClientSummaryInfo", 200));
    assert_eq!(attempts, 1);
    assert_eq!(body.text(), r#"{"locationCount": "three"}"#);
    assert!(source.is_data(), "{source}");
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

/// A 200 with `"error": true` and `errorMsg`.
#[tokio::test]
async fn a_200_with_error_true_is_an_api_error() {
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
        let result = guarded(summary(&client(&server.url, fast()))).await;
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
