//! Both partner endpoints against a real HTTP server on loopback: what goes on
//! the wire, and how the documented responses decode.

use rhombus_partner::types::{
    LicenseGetDeviceLicensesForClientOrgWsRequest, PartnerGetClientSummaryInfoWsRequest,
};
use rhombus_partner::{AuthScheme, Client, GeneratedError as Error, RetryPolicy};
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
        "error": true,
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
        // One request per call; retries are tested in hostile.rs.
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
            .get_client_summary_info(&PartnerGetClientSummaryInfoWsRequest {
                client_org_uuid: Some("AAAAAAAAAAAAAAAAAAAAAA".into()),
            })
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
    let body = LicenseGetDeviceLicensesForClientOrgWsRequest {
        org_uuid: Some("cLiEnToRg0000000000001".into()),
    };
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
    assert_eq!(response.status().as_u16(), 200);
    let summary = response.into_inner();

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
    assert_eq!(summary.error, Some(true));
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
        .expect("call succeeds")
        .into_inner();
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
        .into_inner()
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
        .expect("lenient decoding")
        .into_inner();
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
        .into_inner()
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
        let Err(Error::UnexpectedResponse(response)) = result else {
            panic!("status {status}: expected UnexpectedResponse, got {result:?}");
        };
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(response.text().await.expect("body"), body);
    }
}

#[tokio::test]
async fn a_wrong_type_is_a_decode_error_not_a_panic() {
    let server = serve(SUMMARY, 200, json!({"locationCount": "three"})).await;
    let result = client(&server)
        .get_client_summary_info(&PartnerGetClientSummaryInfoWsRequest::default())
        .await;
    assert!(
        matches!(result, Err(Error::InvalidResponsePayload(ref bytes, _)) if bytes.starts_with(b"{")),
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
