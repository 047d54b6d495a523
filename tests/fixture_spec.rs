//! A client generated from `tests/fixtures/state-and-enums.json` (by
//! `build.rs`, through the same `codegen::generate` as the library): a
//! fragment with what the real one lacks, state-changing operations and
//! string enums. Its hooks are the library's own, reached through the same
//! generated glue as the library's client (`rhombus_partner::__private`),
//! with the read-only flags generated from the fixture.

mod common;

use std::time::Duration;

use common::{Action, Server, json, response};
use rhombus_partner::{Error, Operation, RetryPolicy, TransportKind};

#[allow(dead_code, clippy::all, clippy::pedantic)]
mod fixture {
    include!(concat!(env!("OUT_DIR"), "/fixtures/state-and-enums.rs"));
}

use fixture::types;

fn client(server: &Server) -> fixture::Client {
    client_to(&server.url, Duration::from_secs(5))
}

/// A fixture client for `url` with this request timeout, fast retries and
/// up to 5 attempts.
fn client_to(url: &str, timeout: Duration) -> fixture::Client {
    let policy =
        RetryPolicy::default().backoff(Duration::from_millis(20), Duration::from_millis(100));
    let builder = rhombus_partner::Client::builder()
        .api_key("fixture-test-key")
        .base_url(url)
        .timeout(timeout)
        .retry_policy(policy);
    let (url, http, state) =
        rhombus_partner::__private::build_parts(builder).expect("valid configuration");
    fixture::Client::new_with_client(&url, http, state)
}

#[test]
fn read_only_comes_from_the_extension_and_its_absence_means_state_changing() {
    let all: Vec<Operation> = fixture::operations::ALL.to_vec();
    let find = |id: &str| all.iter().find(|op| op.id == id).expect("operation");
    assert!(find("getClients").read_only);
    assert!(
        !find("deleteClient").read_only,
        "x-rhombus-read-only: false"
    );
    assert!(!find("createPartnerClient").read_only, "no extension");
    assert_eq!(find("deleteClient").method, "delete_client");
    // And the real spec marks its reads, and only those.
    let real = |id: &str| {
        Operation::all()
            .iter()
            .find(|op| op.id == id)
            .expect("operation")
    };
    assert!(real("getClientSummaryInfo").read_only);
    assert!(real("getDeviceLicensesForOrg").read_only);
    assert!(!real("createPartnerClient").read_only);
    assert!(!real("deletePartnerClient").read_only);
    assert_eq!(Operation::all().len(), 32);
}

/// A 503 on a state-changing operation: exactly one request.
#[tokio::test]
async fn a_503_on_a_state_changing_operation_is_not_retried() {
    let server = Server::start(|_, _| Action::Raw(response(503, &[], "unavailable"))).await;
    let client = client(&server);
    let result = client
        .delete_client(
            &types::PartnerDeleteClientWsRequest::default()
                .with_client_org_uuid("AAAAAAAAAAAAAAAAAAAAAA"),
        )
        .await;
    let Err(Error::Http {
        operation,
        status,
        attempts,
        ..
    }) = result
    else {
        panic!("expected Http, got {result:?}");
    };
    assert_eq!(
        (operation, status.as_u16(), attempts),
        ("deleteClient", 503, 1)
    );
    assert_eq!(server.requests(), 1);

    // The same for an operation without the extension.
    let server = Server::start(|_, _| Action::Raw(response(500, &[], "oops"))).await;
    let result = client_create(&server).await;
    assert!(
        matches!(result, Err(Error::Http { attempts: 1, .. })),
        "{result:?}"
    );
    assert_eq!(server.requests(), 1);
}

async fn client_create(
    server: &Server,
) -> Result<types::PartnerCreatePartnerClientWsResponse, Error> {
    client(server)
        .create_partner_client(
            &types::PartnerCreatePartnerClientWsRequest::default().with_name("New client"),
        )
        .await
}

/// For a state-changing operation, a reset is not retried (the
/// request may have been processed).
#[tokio::test]
async fn reset_on_state_changing_operation_is_not_retried() {
    let server = Server::start(|_, _| Action::Reset).await;
    let result = client_create(&server).await;
    assert!(
        matches!(result, Err(Error::Transport { attempts: 1, .. })),
        "{result:?}"
    );
    assert_eq!(server.requests(), 1);
}

/// A timeout, before the answer or while its body is read, on a
/// state-changing operation: exactly one request.
#[tokio::test]
async fn a_timeout_on_a_state_changing_operation_is_not_retried() {
    let answer = json(200, r#"{"clientOrgUuid": "NEW"}"#);
    let split = answer.len() - 5;
    let slow_head = Action::Delay(Duration::from_secs(3), answer.clone());
    let slow_body = Action::Stall(
        answer[..split].to_vec(),
        Duration::from_secs(3),
        answer[split..].to_vec(),
    );
    for (case, action) in [("head", slow_head), ("body", slow_body)] {
        let action = std::sync::Mutex::new(Some(action));
        let server = Server::start(move |_, _| {
            action
                .lock()
                .expect("lock")
                .take()
                .unwrap_or_else(|| Action::Raw(json(200, "{}")))
        })
        .await;
        let result = client_to(&server.url, Duration::from_millis(300))
            .create_partner_client(&types::PartnerCreatePartnerClientWsRequest::default())
            .await;
        assert!(
            matches!(
                result,
                Err(Error::Transport {
                    kind: TransportKind::Timeout,
                    attempts: 1,
                    ..
                })
            ),
            "slow {case}: {result:?}"
        );
        assert_eq!(server.requests(), 1, "slow {case}");
    }
}

/// A refused connection on a state-changing operation: one attempt; the
/// same on the fixture's read-only operation is retried.
#[tokio::test]
async fn a_refused_connection_is_retried_only_for_a_read_only_operation() {
    let url = refused_url().await;
    let client = client_to(&url, Duration::from_secs(5));
    let result = client
        .create_partner_client(&types::PartnerCreatePartnerClientWsRequest::default())
        .await;
    assert!(
        matches!(
            result,
            Err(Error::Transport {
                kind: TransportKind::Connect,
                attempts: 1,
                ..
            })
        ),
        "{result:?}"
    );
    let result = client
        .get_clients(&types::PartnerGetClientsWsRequest::default())
        .await;
    assert!(
        matches!(
            result,
            Err(Error::Transport {
                kind: TransportKind::Connect,
                attempts: 5,
                ..
            })
        ),
        "{result:?}"
    );
}

/// A loopback URL where nothing listens: a port just bound and freed.
async fn refused_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    format!("http://{address}")
}

/// The fixture's read-only operation is retried after a 5xx, through the
/// same hook: the flag, not the hook, makes the difference.
#[tokio::test]
async fn a_503_on_the_fixtures_read_only_operation_is_retried() {
    let server = Server::start(|n, _| match n {
        0 => Action::Raw(response(503, &[], "unavailable")),
        _ => Action::Raw(json(200, "{}")),
    })
    .await;
    client(&server)
        .get_clients(&types::PartnerGetClientsWsRequest::default())
        .await
        .expect("succeeds after the 503");
    assert_eq!(server.requests(), 2);
}

/// A 429 means "not processed": even a state-changing call is sent again.
#[tokio::test]
async fn state_changing_operation_is_retried_after_429_only() {
    let server = Server::start(|n, _| match n {
        0 => Action::Raw(response(
            429,
            &[("content-type", "text/plain")],
            "throttled",
        )),
        _ => Action::Raw(json(200, r#"{"clientOrgUuid": "NEW"}"#)),
    })
    .await;
    let created = client_create(&server)
        .await
        .expect("succeeds after the 429");
    assert_eq!(created.client_org_uuid.as_deref(), Some("NEW"));
    assert_eq!(server.requests(), 2);
    let seen = server.seen();
    assert_eq!(seen[0].body, seen[1].body, "the same request, sent again");

    // Throttled every time: sent as often as the policy allows (5).
    let server = Server::start(|_, _| Action::Raw(response(429, &[], "throttled"))).await;
    let result = client_create(&server).await;
    assert!(
        matches!(result, Err(Error::RateLimited { attempts: 5, .. })),
        "{result:?}"
    );
    assert_eq!(server.requests(), 5);
}

/// An unknown enum value and unknown fields decode, and the
/// unknown value is kept and survives a round trip.
#[tokio::test]
async fn an_unknown_enum_value_is_kept_and_round_trips() {
    let body = r#"{"clients": [
        {"name": "a", "deviceType": "CAMERA", "tier": "GOLD"},
        {"name": "b", "deviceType": "DRONE_DOCK", "tier": "PLATINUM", "addedLater": 1},
        {"name": "c", "deviceType": null}
    ], "responseStatus": "SOMETHING_NEW", "unknownTopLevel": [1]}"#;
    let server = Server::start(move |_, _| Action::Raw(json(200, body))).await;
    let response = client(&server)
        .get_clients(&types::PartnerGetClientsWsRequest::default())
        .await
        .expect("decodes");
    let clients = response.clients.clone().expect("clients");
    assert_eq!(clients[0].device_type, Some(types::DeviceTypeEnum::Camera));
    assert_eq!(
        clients[1].device_type,
        Some(types::DeviceTypeEnum::Unknown("DRONE_DOCK".into()))
    );
    assert_eq!(
        clients[1].tier,
        Some(types::PartnerClientTypeTier::Unknown("PLATINUM".into()))
    );
    assert_eq!(clients[2].device_type, None);
    assert_eq!(
        clients[1]
            .device_type
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("DRONE_DOCK")
    );
    assert_eq!(
        rhombus_partner::ApiStatus::response_status(&response).as_deref(),
        Some("SOMETHING_NEW")
    );

    // Round trip: the unknown value goes back out as it came.
    let again = serde_json::to_value(&clients[1]).expect("serializes");
    assert_eq!(again["deviceType"], "DRONE_DOCK");
    assert_eq!(again["tier"], "PLATINUM");
    let back: types::PartnerClientType = serde_json::from_value(again).expect("decodes");
    assert_eq!(back.device_type, clients[1].device_type);
    assert_eq!(server.requests(), 1);
}

/// Requests send exactly the known values, and parsing a string for a
/// request accepts only those.
#[tokio::test]
async fn requests_send_known_enum_values() {
    let server = Server::start(|_, _| Action::Raw(json(200, "{}"))).await;
    client(&server)
        .get_clients(
            &types::PartnerGetClientsWsRequest::default()
                .with_device_type(types::DeviceTypeEnum::DoorController),
        )
        .await
        .expect("succeeds");
    let body: serde_json::Value = serde_json::from_slice(&server.seen()[0].body).expect("JSON");
    assert_eq!(body, serde_json::json!({"deviceType": "DOOR_CONTROLLER"}));
    assert!("DRONE_DOCK".parse::<types::DeviceTypeEnum>().is_err());
    assert_eq!(
        "AUDIO_GATEWAY".parse::<types::DeviceTypeEnum>().ok(),
        Some(types::DeviceTypeEnum::AudioGateway)
    );
}

/// `error: true` on a state-changing operation is an `Api` error, with the
/// `responseStatus` kept.
#[tokio::test]
async fn error_true_with_response_status() {
    let server = Server::start(|_, _| {
        Action::Raw(json(
            200,
            r#"{"error": true, "errorMsg": "Client has devices", "responseStatus": "FAILED"}"#,
        ))
    })
    .await;
    let result = client(&server)
        .delete_client(&types::PartnerDeleteClientWsRequest::default())
        .await;
    let Err(Error::Api {
        operation,
        message,
        response_status,
        ..
    }) = result
    else {
        panic!("expected Api, got {result:?}");
    };
    assert_eq!(operation, "deleteClient");
    assert_eq!(message.as_deref(), Some("Client has devices"));
    assert_eq!(response_status.as_deref(), Some("FAILED"));
    assert_eq!(server.requests(), 1);
}
