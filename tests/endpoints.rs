//! The two documented partner endpoints against a real HTTP server on
//! loopback: what goes on the wire, and how the documented responses decode.
//! Then the managed service provider's operations against the examples'
//! fake server, through the checked client.

// Request bodies are built as `Default` and then field by field: unlike a
// struct literal, that keeps compiling when a generated struct gains a field
// or `#[non_exhaustive]`.
#![allow(clippy::field_reassign_with_default)]

use rhombus_partner::types::{
    LicenseGetDeviceLicensesForClientOrgWsRequest, PartnerGetClientSummaryInfoWsRequest,
};
use rhombus_partner::{AuthScheme, Client, Error, RetryPolicy};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "test-key-5f2c";
const SUMMARY: &str = "/api/partner/getClientSummaryInfo";
const LICENSES: &str = "/api/partner/getDeviceLicensesForOrg";

/// The example response on the getClientSummaryInfo documentation page.
fn documented_summary() -> Value {
    json!({
        "accountOwner": {
            "accessibleRhombusApps": [],
            "accountOwner": true,
            "bypassSaml": true,
            "changePasswordOnLogin": true,
            "createdAtMillis": 123,
            "deleted": true,
            "email": "<string>",
            "emailCaseSensitive": "<string>",
            "emailVerified": true,
            "firstName": "<string>",
            "lastName": "<string>",
            "mfaEnabled": true,
            "name": "<string>",
            "orgUserCustomizationFlags": {},
            "orgUuid": "AAAAAAAAAAAAAAAAAAAAAA",
            "passwordSet": true,
            "rhombusUserUuid": "AAAAAAAAAAAAAAAAAAAAAA",
            "updatedAtMillis": 123,
            "uuid": "AAAAAAAAAAAAAAAAAAAAAA"
        },
        "clientDeviceStatusMap": {},
        "error": false,
        "errorMsg": "<string>",
        "licenseV2Enabled": true,
        "locationCount": 3,
        "manuallySendLicenseExpirationEmailEnabled": false,
        "recentPolicyAlertCount": 5,
        "warningMsg": "<string>"
    })
}

/// The example response on the getDeviceLicensesForOrg documentation page.
fn documented_licenses() -> Value {
    json!({
        "deviceLicenses": [{
            "claimKeyUuid": "AAAAAAAAAAAAAAAAAAAAAA",
            "createdOn": "2023-11-07T05:31:56Z",
            "deviceUuid": "AAAAAAAAAAAAAAAAAAAAAA",
            "features": [{"enabled": true, "name": "<string>"}],
            "firstAssignedDate": "2023-11-07T05:31:56Z",
            "maxDeleteDate": "2023-11-07T05:31:56Z",
            "orgUuid": "AAAAAAAAAAAAAAAAAAAAAA",
            "priorClaimKeyUuid": "AAAAAAAAAAAAAAAAAAAAAA",
            "productCode": "<string>",
            "trial": true,
            "updatedOn": "2023-11-07T05:31:56Z",
            "uuid": "AAAAAAAAAAAAAAAAAAAAAA"
        }]
    })
}

/// A server answering `endpoint` with `body`, and 404 for anything else.
async fn serve(endpoint: &str, status: u16, body: Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(endpoint))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(&server)
        .await;
    server
}

fn client(server: &MockServer) -> Client {
    Client::builder()
        .api_key(KEY)
        .base_url(server.uri())
        // One request per call; retries are tested in calls/retries.rs.
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("valid configuration")
}

/// A throwaway client certificate: the certificate schemes need one to build,
/// though plain HTTP never presents it.
fn identity_pem() -> String {
    let cert = rcgen::generate_simple_self_signed(vec!["client".to_owned()]).expect("rcgen");
    format!("{}{}", cert.cert.pem(), cert.signing_key.serialize_pem())
}

/// The one request the server saw.
async fn only_request(server: &MockServer) -> wiremock::Request {
    let mut requests = server.received_requests().await.expect("recording is on");
    assert_eq!(requests.len(), 1, "expected exactly one request");
    requests.remove(0)
}

fn header<'a>(request: &'a wiremock::Request, name: &str) -> Option<&'a str> {
    request
        .headers
        .get(name)
        .map(|v| v.to_str().expect("ASCII header"))
}

#[tokio::test]
async fn sends_each_scheme_with_key_and_json_body() {
    for scheme in AuthScheme::ALL {
        let server = serve(SUMMARY, 200, json!({})).await;
        let mut builder = Client::builder()
            .api_key(KEY)
            .scheme(scheme)
            .base_url(server.uri());
        if scheme.uses_certificate() {
            builder = builder.identity(identity_pem());
        }
        let client = builder.build().expect("valid configuration");
        client
            .get_client_summary_info(
                &PartnerGetClientSummaryInfoWsRequest::default()
                    .with_client_org_uuid("AAAAAAAAAAAAAAAAAAAAAA"),
            )
            .await
            .expect("call succeeds");

        let request = only_request(&server).await;
        assert_eq!(request.method.as_str(), "POST");
        assert_eq!(request.url.path(), SUMMARY);
        assert_eq!(header(&request, "x-auth-scheme"), Some(scheme.as_str()));
        assert_eq!(header(&request, "x-auth-apikey"), Some(KEY));
        assert_eq!(header(&request, "x-auth-org"), None, "no org was set");
        assert_eq!(header(&request, "content-type"), Some("application/json"));
        assert_eq!(header(&request, "accept"), Some("application/json"));
        assert_eq!(
            header(&request, "user-agent"),
            Some(concat!("rhombus-partner/", env!("CARGO_PKG_VERSION")))
        );
        let body: Value = serde_json::from_slice(&request.body).expect("JSON body");
        assert_eq!(body, json!({"clientOrgUuid": "AAAAAAAAAAAAAAAAAAAAAA"}));
    }
}

#[tokio::test]
async fn none_fields_are_left_out_of_the_body() {
    let server = serve(LICENSES, 200, json!({})).await;
    client(&server)
        .get_device_licenses_for_org(&LicenseGetDeviceLicensesForClientOrgWsRequest::default())
        .await
        .expect("call succeeds");
    let request = only_request(&server).await;
    assert_eq!(request.url.path(), LICENSES);
    let body: Value = serde_json::from_slice(&request.body).expect("JSON body");
    assert_eq!(body, json!({}));
}

/// A partner-level call never carries `x-auth-org`, also through a client
/// that has made org-scoped handles: its body names the client.
#[tokio::test]
async fn partner_calls_never_send_the_org_header() {
    let server = serve(LICENSES, 200, json!({})).await;
    let base = client(&server);
    let acting = base.for_org("cLiEnToRg0000000000001").expect("valid org");
    assert_eq!(acting.org_uuid(), "cLiEnToRg0000000000001");
    let body = LicenseGetDeviceLicensesForClientOrgWsRequest::default()
        .with_org_uuid("cLiEnToRg0000000000001");
    base.get_device_licenses_for_org(&body)
        .await
        .expect("call succeeds");
    let request = only_request(&server).await;
    assert_eq!(header(&request, "x-auth-org"), None);
    assert_eq!(header(&request, "x-auth-apikey"), Some(KEY));
}

#[tokio::test]
async fn decodes_the_documented_summary_field_by_field() {
    let server = serve(SUMMARY, 200, documented_summary()).await;
    let response = client(&server)
        .get_client_summary_info(&PartnerGetClientSummaryInfoWsRequest::default())
        .await
        .expect("call succeeds");
    let summary = response;

    let owner = summary.account_owner.expect("accountOwner");
    assert_eq!(owner.accessible_rhombus_apps, Some(vec![]));
    assert_eq!(owner.account_owner, Some(true));
    assert_eq!(owner.bypass_saml, Some(true));
    assert_eq!(owner.change_password_on_login, Some(true));
    assert_eq!(owner.created_at_millis, Some(123_i64));
    assert_eq!(owner.deleted, Some(true));
    assert_eq!(owner.email.as_deref(), Some("<string>"));
    assert_eq!(owner.email_case_sensitive.as_deref(), Some("<string>"));
    assert_eq!(owner.email_verified, Some(true));
    assert_eq!(owner.first_name.as_deref(), Some("<string>"));
    assert_eq!(owner.last_name.as_deref(), Some("<string>"));
    assert_eq!(owner.mfa_enabled, Some(true));
    assert_eq!(owner.name.as_deref(), Some("<string>"));
    assert_eq!(owner.org_user_customization_flags.map(|m| m.len()), Some(0));
    assert_eq!(owner.org_uuid.as_deref(), Some("AAAAAAAAAAAAAAAAAAAAAA"));
    assert_eq!(owner.password_set, Some(true));
    assert_eq!(
        owner.rhombus_user_uuid.as_deref(),
        Some("AAAAAAAAAAAAAAAAAAAAAA")
    );
    assert_eq!(owner.updated_at_millis, Some(123_i64));
    assert_eq!(owner.uuid.as_deref(), Some("AAAAAAAAAAAAAAAAAAAAAA"));

    assert_eq!(summary.client_device_status_map.map(|m| m.len()), Some(0));
    assert_eq!(summary.error, Some(false));
    assert_eq!(summary.error_msg.as_deref(), Some("<string>"));
    assert_eq!(summary.license_v2_enabled, Some(true));
    assert_eq!(summary.location_count, Some(3_i32));
    assert_eq!(
        summary.manually_send_license_expiration_email_enabled,
        Some(false)
    );
    assert_eq!(summary.recent_policy_alert_count, Some(5_i32));
    assert_eq!(summary.warning_msg.as_deref(), Some("<string>"));
}

#[tokio::test]
async fn decodes_the_status_map_by_device_type() {
    let body = json!({"clientDeviceStatusMap": {
        "CAMERA": {"connectedCount": 11, "totalCount": 12},
        "DOOR_CONTROLLER": {"connectedCount": 2, "totalCount": 2}
    }});
    let server = serve(SUMMARY, 200, body).await;
    let summary = client(&server)
        .get_client_summary_info(&PartnerGetClientSummaryInfoWsRequest::default())
        .await
        .expect("call succeeds");
    let map = summary.client_device_status_map.expect("map");
    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["CAMERA", "DOOR_CONTROLLER"],
        "keys come back in order"
    );
    assert_eq!(map["CAMERA"].total_count, Some(12));
}

#[tokio::test]
async fn decodes_the_documented_licenses_field_by_field() {
    let server = serve(LICENSES, 200, documented_licenses()).await;
    let licenses = client(&server)
        .get_device_licenses_for_org(&LicenseGetDeviceLicensesForClientOrgWsRequest::default())
        .await
        .expect("call succeeds")
        .device_licenses
        .expect("deviceLicenses");
    assert_eq!(licenses.len(), 1);
    let license = &licenses[0];
    let documented_time = "2023-11-07T05:31:56Z"
        .parse::<chrono::DateTime<chrono::Utc>>()
        .expect("RFC 3339");
    assert_eq!(
        license.claim_key_uuid.as_deref(),
        Some("AAAAAAAAAAAAAAAAAAAAAA")
    );
    assert_eq!(license.created_on, Some(documented_time));
    assert_eq!(
        license.device_uuid.as_deref(),
        Some("AAAAAAAAAAAAAAAAAAAAAA")
    );
    let features = license.features.as_ref().expect("features");
    assert_eq!(features.len(), 1);
    assert_eq!(features[0].enabled, Some(true));
    assert_eq!(features[0].name.as_deref(), Some("<string>"));
    assert_eq!(license.first_assigned_date, Some(documented_time));
    assert_eq!(license.max_delete_date, Some(documented_time));
    assert_eq!(license.org_uuid.as_deref(), Some("AAAAAAAAAAAAAAAAAAAAAA"));
    assert_eq!(
        license.prior_claim_key_uuid.as_deref(),
        Some("AAAAAAAAAAAAAAAAAAAAAA")
    );
    assert_eq!(license.product_code.as_deref(), Some("<string>"));
    assert_eq!(license.trial, Some(true));
    assert_eq!(license.updated_on, Some(documented_time));
    assert_eq!(license.uuid.as_deref(), Some("AAAAAAAAAAAAAAAAAAAAAA"));
}

#[tokio::test]
async fn tolerates_missing_null_and_unknown_fields() {
    let body = json!({
        "accountOwner": null,
        "clientDeviceStatusMap": null,
        "locationCount": null,
        "someFieldAddedLater": {"nested": [1, 2, 3]},
        "recentPolicyAlertCount": 2
    });
    let server = serve(SUMMARY, 200, body).await;
    let summary = client(&server)
        .get_client_summary_info(&PartnerGetClientSummaryInfoWsRequest::default())
        .await
        .expect("lenient decoding");
    assert!(summary.account_owner.is_none());
    assert!(summary.client_device_status_map.is_none());
    assert_eq!(summary.location_count, None);
    assert_eq!(summary.recent_policy_alert_count, Some(2));
    assert_eq!(summary.error, None, "a missing field is None");

    let body = json!({"deviceLicenses": [{"features": null, "trial": null, "newThing": true}, {}]});
    let server = serve(LICENSES, 200, body).await;
    let licenses = client(&server)
        .get_device_licenses_for_org(&LicenseGetDeviceLicensesForClientOrgWsRequest::default())
        .await
        .expect("lenient decoding")
        .device_licenses
        .expect("deviceLicenses");
    assert_eq!(licenses.len(), 2);
    assert!(
        licenses
            .iter()
            .all(|l| l.features.is_none() && l.trial.is_none())
    );
}

#[tokio::test]
async fn non_2xx_is_an_error_with_status_and_body() {
    for (status, body) in [
        (400, "bad request"),
        (403, ""),
        (500, "internal error"),
        (503, "down"),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(status).set_body_string(body))
            .mount(&server)
            .await;
        let result = client(&server)
            .get_client_summary_info(&PartnerGetClientSummaryInfoWsRequest::default())
            .await;
        let Err(error) = result else {
            panic!("status {status}: expected an error, got {result:?}");
        };
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(error.body().map(|b| b.text()), Some(body));
    }
}

#[tokio::test]
async fn a_wrong_type_is_a_decode_error_not_a_panic() {
    let server = serve(SUMMARY, 200, json!({"locationCount": "three"})).await;
    let result = client(&server)
        .get_client_summary_info(&PartnerGetClientSummaryInfoWsRequest::default())
        .await;
    assert!(
        matches!(result, Err(Error::Decode { ref body, .. }) if body.text().starts_with('{')),
        "got {result:?}"
    );
}

#[tokio::test]
async fn base_url_with_path_prefix_and_trailing_slash() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/proxy{SUMMARY}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(format!("{}/proxy/", server.uri()))
        .build()
        .expect("valid configuration");
    client
        .get_client_summary_info(&PartnerGetClientSummaryInfoWsRequest::default())
        .await
        .expect("the prefix is kept and the slash not doubled");
}

// ---------------------------------------------------------------------------
// The managed service provider's operations, against the fake Rhombus
// (`rhombus_fake`, its `msp` module), through the checked client. Request
// bodies are built field by field from `Default` (those without fields from
// an empty map) and answers read from the decoded types, as a user of the
// crate would.
// ---------------------------------------------------------------------------

use rhombus_fake::{DEMO_CLIENT, FAKE_API_KEY, FakeFleet, FakeOptions, FakeServer, REFUSING, msp};
use rhombus_partner::types;

/// A client of the fake server (the demo partner, requests recorded), and
/// the server (kept alive with it).
async fn demo_client() -> (FakeServer, Client) {
    let options = FakeOptions {
        record_requests: true,
        ..FakeOptions::default()
    };
    let server = FakeServer::start(FakeFleet::demo(), options).await;
    let client = Client::builder()
        .api_key(FAKE_API_KEY)
        .base_url(server.uri())
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("valid configuration");
    (server, client)
}

/// The pool's licenses `org` holds (its licenses but the trials), as its
/// license listing gives them: `(license UUID, device UUID)`.
async fn held_licenses(client: &Client, org: &str) -> Vec<(String, String)> {
    let request =
        types::LicenseGetDeviceLicensesForClientOrgWsRequest::default().with_org_uuid(org);
    let licenses = client
        .get_device_licenses_for_org(&request)
        .await
        .expect("the client's licenses")
        .device_licenses
        .expect("deviceLicenses");
    (licenses.into_iter())
        .filter(|l| l.trial == Some(false))
        .map(|l| (l.uuid.expect("uuid"), l.device_uuid.expect("on a device")))
        .collect()
}

/// `"error": true` from the fake server, on the checked path: `Error::Api`
/// with its message.
fn api_message<T: std::fmt::Debug>(result: Result<T, rhombus_partner::Error>) -> String {
    match result {
        Err(rhombus_partner::Error::Api { message, .. }) => message.unwrap_or_default(),
        other => panic!("expected Error::Api, got {other:?}"),
    }
}

#[tokio::test]
async fn msp_profile_says_the_partner_is_a_verified_msp() {
    let (_server, client) = demo_client().await;
    let profile = client
        .get_partner_org_profile(&types::PartnerMspGetPartnerOrgProfileWsRequest::default())
        .await
        .expect("the profile");
    assert_eq!(profile.msp, Some(true));
    assert_eq!(profile.msp_status.as_deref(), Some("ACTIVE"));
    assert_eq!(profile.msp_since, Some(1_735_689_600_000));
    let functions = profile.functionality_list.expect("functionalityList");
    assert!(functions.contains(&types::PartnerFunctionalityEnum::MspAdministration));
    assert!(functions.contains(&types::PartnerFunctionalityEnum::LicenseAdministration));
}

#[tokio::test]
async fn msp_claim_keys_of_the_partner_org_are_listed() {
    let (_server, client) = demo_client().await;
    let keys = client
        .get_claim_keys_for_partner_org(
            &types::LicenseClaimkeyGetClaimKeysForPartnerOrgWsRequest::default(),
        )
        .await
        .expect("the claim keys")
        .claim_keys
        .expect("claimKeys");
    let uuids: Vec<&str> = keys
        .iter()
        .filter_map(|k| k.claim_key_uuid.as_deref())
        .collect();
    let expected: Vec<&str> = msp::UNCLAIMED_KEYS.iter().map(|k| k.1).collect();
    assert_eq!(uuids, expected);
    assert_eq!(keys[0].po_number.as_deref(), Some("PO-2026-0412"));
    assert_eq!(keys[0].contract_end_date.as_deref(), Some("2029-04-30"));
}

#[tokio::test]
async fn msp_license_pool_counts_what_the_pool_and_each_client_hold() {
    let (_server, client) = demo_client().await;
    let pool = client
        .get_license_pool(&types::PartnerMspGetLicensePoolWsRequest::default())
        .await
        .expect("the pool");
    let products = pool.products.expect("products");
    let fleet = FakeFleet::demo();
    assert_eq!(products.len(), fleet.pool.len());
    let cameras = products
        .iter()
        .find(|p| p.product_code.as_deref() == Some("LIC-CAM-3Y"))
        .expect("LIC-CAM-3Y");
    let held = cameras.held_by_clients.as_ref().expect("heldByClients");
    // Every client holding three-year camera licenses, with its count.
    let held_counts: Vec<(&str, i32)> = held
        .iter()
        .map(|h| (h.client_org_name.as_deref().unwrap(), h.count.unwrap()))
        .collect();
    assert_eq!(held_counts[0], ("Acme Logistics", 2));
    let holders = (fleet.clients.iter())
        .filter(|c| (c.licenses.iter()).any(|l| l.product == "LIC-CAM-3Y" && !l.trial))
        .count();
    assert_eq!(held_counts.len(), holders, "{held_counts:?}");
    assert_eq!(holders, 10, "Elm Street and Lakeside hold none");
    let with_clients: i32 = held.iter().filter_map(|h| h.count).sum();
    assert_eq!(cameras.held_by_pool, Some(14));
    assert_eq!(cameras.owned, Some(14 + with_clients));
    assert!(held.iter().all(|h| h.assigned_to_devices == h.count));
    // Delta Storage's one-year camera licenses end in 6 days.
    let one_year = products
        .iter()
        .find(|p| p.product_code.as_deref() == Some("LIC-CAM-1Y"))
        .expect("LIC-CAM-1Y");
    assert_eq!(one_year.expiring_within90d, Some(3));
    let unclaimed = pool.unclaimed_keys.expect("unclaimedKeys");
    assert_eq!(unclaimed.len(), msp::UNCLAIMED_KEYS.len());
}

#[tokio::test]
async fn msp_a_claim_key_is_looked_up_then_claimed_into_the_pool() {
    let (_server, client) = demo_client().await;
    let checked = &client;
    let (code, uuid, _) = msp::UNCLAIMED_KEYS[0];

    let mut lookup = types::LicenseClaimkeyGetClaimKeyByCodeWsRequest::default();
    lookup.claim_code = Some(code.into());
    let key = checked
        .get_pool_claim_key_by_code(&lookup)
        .await
        .expect("an unclaimed key is shown")
        .claim_key
        .expect("claimKey");
    assert_eq!(key.uuid.as_deref(), Some(uuid));
    assert_eq!(key.state, Some(types::ClaimKeyStateEnum::Created));
    assert_eq!(key.type_, Some(types::ClaimKeyTypeEnum::New));
    assert_eq!(key.trial, Some(false));
    assert_eq!(
        key.end_date,
        Some("2029-04-30T23:59:59Z".parse().expect("RFC 3339"))
    );

    // Its answer has no `error` field: an unknown code finds no key, and a
    // key redeemed elsewhere is a 403.
    lookup.claim_code = Some("NOT-A-CODE".into());
    let none = checked
        .get_pool_claim_key_by_code(&lookup)
        .await
        .expect("an answer");
    assert!(none.claim_key.is_none());
    lookup.claim_code = Some(msp::CLAIMED_ELSEWHERE.into());
    let result = checked.get_pool_claim_key_by_code(&lookup).await;
    assert!(
        matches!(result, Err(rhombus_partner::Error::Forbidden { .. })),
        "{result:?}"
    );

    let mut claim = types::PartnerMspClaimLicensesToPoolWsRequest::default();
    claim.claim_code = Some(code.into());
    let claimed = checked
        .claim_licenses_to_pool(&claim)
        .await
        .expect("the key is claimed");
    assert_eq!(claimed.claim_key_uuid.as_deref(), Some(uuid));
    assert_eq!(claimed.error, Some(false));

    claim.claim_code = Some("NOT-A-CODE".into());
    let refused = api_message(checked.claim_licenses_to_pool(&claim).await);
    assert!(refused.contains("NOT-A-CODE"), "{refused}");
}

#[tokio::test]
async fn msp_pool_licenses_are_assigned_to_a_client_within_what_the_pool_holds() {
    let (server, client) = demo_client().await;
    let checked = &client;
    let mut body = types::PartnerMspAssignLicensesToClientWsRequest::default();
    body.client_org_uuid = Some(DEMO_CLIENT.into());
    body.product_code = Some("LIC-CAM-3Y".into());
    body.quantity = Some(3);
    body.request_id = Some("assign-0001".into());
    let answer = checked
        .assign_licenses_to_client(&body)
        .await
        .expect("three of fourteen");
    let moved = answer.moved.expect("moved");
    assert_eq!(moved.len(), 3);
    assert!(moved.iter().all(|uuid| uuid.is_some()));
    assert_eq!(answer.failed.map(|f| f.len()), Some(0));
    // The request id and the rest went on the wire as JSON.
    let requests = server.received();
    let sent: Value = serde_json::from_slice(&requests[0].body).expect("JSON body");
    assert_eq!(
        sent,
        json!({
            "clientOrgUuid": DEMO_CLIENT,
            "productCode": "LIC-CAM-3Y",
            "quantity": 3,
            "requestId": "assign-0001"
        })
    );

    body.quantity = Some(15);
    let refused = api_message(checked.assign_licenses_to_client(&body).await);
    assert!(refused.contains("holds 14"), "{refused}");

    // A client that keeps the partner out is refused before any of this.
    body.client_org_uuid = Some(REFUSING.into());
    body.quantity = Some(1);
    let result = checked.assign_licenses_to_client(&body).await;
    assert!(
        matches!(result, Err(rhombus_partner::Error::Forbidden { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn msp_licenses_on_devices_are_reclaimed_only_when_forced() {
    let (_server, client) = demo_client().await;
    let checked = &client;
    let held = held_licenses(&client, DEMO_CLIENT).await;
    let mut body = types::PartnerMspReclaimLicensesFromClientWsRequest::default();
    body.client_org_uuid = Some(DEMO_CLIENT.into());
    body.product_code = Some("LIC-CAM-3Y".into());
    body.quantity = Some(2);
    body.request_id = Some("reclaim-0001".into());

    let answer = checked
        .reclaim_licenses_from_client(&body)
        .await
        .expect("an answer");
    assert_eq!(answer.reclaimed.map(|r| r.len()), Some(0));
    let skipped = answer.skipped.expect("skipped");
    assert_eq!(skipped.len(), 2);
    assert_eq!(skipped[0].license_uuid.as_deref(), Some(held[0].0.as_str()));
    assert!(
        skipped[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("forceUnassign")
    );

    body.force_unassign = Some(true);
    let answer = checked
        .reclaim_licenses_from_client(&body)
        .await
        .expect("an answer");
    let reclaimed: Vec<String> = answer
        .reclaimed
        .expect("reclaimed")
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(reclaimed, [held[0].0.clone(), held[1].0.clone()]);
    let devices: Vec<String> = answer
        .unassigned_devices
        .expect("unassignedDevices")
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(devices, [held[0].1.clone(), held[1].1.clone()]);

    // By UUID: one of the client's, one that is not.
    let mut by_uuid = types::PartnerMspReclaimLicensesFromClientWsRequest::default();
    by_uuid.client_org_uuid = Some(DEMO_CLIENT.into());
    by_uuid.force_unassign = Some(true);
    by_uuid.license_uuids = Some(vec![Some(held[1].0.clone()), Some("nOtAlIcEnSe".into())]);
    let answer = checked
        .reclaim_licenses_from_client(&by_uuid)
        .await
        .expect("an answer");
    assert_eq!(answer.reclaimed, Some(vec![Some(held[1].0.clone())]));
    let skipped = answer.skipped.expect("skipped");
    assert_eq!(skipped[0].license_uuid.as_deref(), Some("nOtAlIcEnSe"));
}

#[tokio::test]
async fn msp_hardware_inventory_and_a_move_serial_by_serial() {
    let (_server, client) = demo_client().await;
    let checked = &client;
    let units = checked
        .get_hardware_inventory(&types::PartnerMspGetHardwareInventoryWsRequest::default())
        .await
        .expect("the inventory")
        .units
        .expect("units");
    assert_eq!(units.len(), msp::HARDWARE.len());
    let controller = units
        .iter()
        .find(|u| u.serial.as_deref() == Some("RDC-DC20-0001"))
        .expect("the door controller");
    assert_eq!(controller.door_bound, Some(true));
    assert_eq!(
        controller.model,
        Some(types::HardwareVariationEnum::DoorControllerDc20)
    );
    assert_eq!(
        controller.hardware_type,
        Some(types::DeviceTypeEnum::DoorController)
    );
    assert_eq!(
        controller.current_org_name.as_deref(),
        Some("Acme Logistics")
    );
    assert_eq!(controller.license_state.as_deref(), Some("CLAIMED"));
    let spare = units
        .iter()
        .find(|u| u.registered == Some(false))
        .expect("an unregistered unit");
    assert_eq!(spare.current_org_uuid, None);
    assert_eq!(spare.license_state, None);

    let mut body = types::PartnerMspMoveHardwareToClientWsRequest::default();
    body.from_client_org_uuid = Some(DEMO_CLIENT.into());
    body.to_client_org_uuid = Some("dEmOcLiEnToRgUuId00002w".into());
    body.move_license = Some(true);
    body.serials = Some(
        ["RCAM-R230-0001", "RDC-DC20-0001", "RCAM-R120-0001"]
            .map(|s| Some(s.to_owned()))
            .to_vec(),
    );
    let answer = checked
        .move_hardware_to_client(&body)
        .await
        .expect("an answer per serial");
    assert_eq!(answer.moved, Some(vec![Some("RCAM-R230-0001".to_owned())]));
    let blocked = answer.blocked.expect("blocked");
    assert_eq!(blocked[0].serial.as_deref(), Some("RDC-DC20-0001"));
    let bindings = blocked[0].bindings.as_ref().expect("bindings");
    assert_eq!(bindings[0].name.as_deref(), Some("Loading dock"));
    assert_eq!(bindings[0].type_.as_deref(), Some("DOOR"));
    let failed = answer.failed.expect("failed");
    assert_eq!(failed[0].serial.as_deref(), Some("RCAM-R120-0001"));

    // Moving to a client that keeps the partner out is refused.
    body.to_client_org_uuid = Some(REFUSING.into());
    let result = checked.move_hardware_to_client(&body).await;
    assert!(
        matches!(result, Err(rhombus_partner::Error::Forbidden { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn msp_deactivating_a_client_names_what_stands_in_the_way() {
    let (_server, client) = demo_client().await;
    let checked = &client;
    let fleet = FakeFleet::demo();
    let acme = fleet.client(DEMO_CLIENT).expect("demo client");
    let held = held_licenses(&client, DEMO_CLIENT).await;
    let mut body = types::PartnerMspDeactivateClientWsRequest::default();
    body.client_org_uuid = Some(DEMO_CLIENT.into());
    body.confirm_name = Some("Acme".into());
    let refused = api_message(checked.deactivate_client(&body).await);
    assert!(refused.contains("confirmName"), "{refused}");

    body.confirm_name = Some(acme.name.clone());
    let answer = checked.deactivate_client(&body).await.expect("an answer");
    assert_eq!(answer.deactivated, Some(false));
    assert_eq!(
        answer.error_code.as_deref(),
        Some("DEVICES_STILL_REGISTERED")
    );
    let devices = answer.blocked_by_devices.expect("blockedByDevices");
    // Its cameras and its doors' controllers.
    assert_eq!(devices.len(), acme.cameras.len() + acme.doors.len());
    assert!(
        devices
            .iter()
            .all(|d| d.serial.is_some() && d.device_uuid.is_some())
    );
    let licenses = answer.blocked_by_licenses.expect("blockedByLicenses");
    assert_eq!(licenses.len(), held.len());
    assert_eq!(answer.reclaimed_licenses, Some(0));
}

#[tokio::test]
async fn msp_managed_client_policy_is_stored_as_sent() {
    let (_server, client) = demo_client().await;
    let checked = &client;
    for assignable in [false, true] {
        let mut body = types::PartnerMspUpdateManagedClientPolicyWsRequest::default();
        body.client_org_uuid = Some(DEMO_CLIENT.into());
        body.client_super_admin_assignable = Some(assignable);
        let policy = checked
            .update_managed_client_policy(&body)
            .await
            .expect("the policy")
            .policy
            .expect("policy");
        assert_eq!(policy.client_super_admin_assignable, Some(assignable));
    }
    let mut empty = types::PartnerMspUpdateManagedClientPolicyWsRequest::default();
    empty.client_org_uuid = Some(DEMO_CLIENT.into());
    let refused = api_message(checked.update_managed_client_policy(&empty).await);
    assert!(refused.contains("clientSuperAdminAssignable"), "{refused}");
}

/// The client listing carries the new managed-client fields.
#[tokio::test]
async fn msp_the_client_listing_says_which_clients_the_msp_manages() {
    let (_server, client) = demo_client().await;
    let mut body = types::PartnerGetPartnerClientsWsRequest::default();
    body.include_deactivated = Some(true);
    let clients = client
        .get_partner_clients(&body)
        .await
        .expect("the listing")
        .clients
        .expect("clients");
    assert_eq!(clients.len(), 12);
    assert!(clients.iter().all(|c| c.managed_by_msp == Some(true)
        && c.deactivated == Some(false)
        && c.client_super_admin_assignable == Some(true)));
}

/// Each new operation is played by the fake server: with the demo key, a
/// `200` with a JSON answer, here the refusal of a body that names nothing
/// (`"error": true`, or no claim key for the lookup).
#[tokio::test]
async fn msp_every_new_operation_is_played_by_the_fake_server() {
    let (server, _client) = demo_client().await;
    let http = reqwest::Client::new();
    for path in [
        "deactivateClient",
        "getClaimKeysForPartnerOrg",
        "getPartnerOrgProfile",
        "hardware/getInventory",
        "hardware/moveToClient",
        "license/assignToClient",
        "license/claimToPool",
        "license/getClaimKeyByCode",
        "license/getPool",
        "license/reclaimFromClient",
        "updateManagedClientPolicy",
    ] {
        let response = http
            .post(format!("{}/api/partner/{path}", server.uri()))
            .header("x-auth-scheme", "partner-api-token")
            .header("x-auth-apikey", FAKE_API_KEY)
            .json(&json!({}))
            .send()
            .await
            .expect("the fake server answers");
        assert_eq!(response.status().as_u16(), 200, "{path}");
        let body: Value = response.json().await.expect("JSON");
        assert!(body.is_object(), "{path}: {body}");
    }
}
