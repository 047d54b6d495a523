//! A fake Rhombus API on loopback, so that the examples run without an
//! account or network. It answers like the real one: 401 without the auth
//! headers, and canned data for each partner endpoint.
// Each example uses only part of this module.
#![allow(dead_code)]

pub mod tls;

use serde_json::{Value, json};
use wiremock::matchers::{header_exists, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The key the examples use against the fake server.
pub const DEMO_API_KEY: &str = "demo-partner-key";
/// The client organization the fake server knows about.
pub const DEMO_CLIENT_ORG: &str = "dEmOcLiEnToRgUuId00001w";

/// Starts the fake server; it stops when the returned value is dropped.
pub async fn start() -> MockServer {
    let server = MockServer::start().await;
    // Acting on an organization that is not one of the partner's clients
    // (`x-auth-org`, e.g. from `Client::for_org`) is forbidden; mounted
    // first, it wins over the endpoints' mocks of the same priority.
    Mock::given(method("POST"))
        .and(|request: &wiremock::Request| {
            request
                .headers
                .get("x-auth-org")
                .is_some_and(|org| org != DEMO_CLIENT_ORG)
        })
        .respond_with(ResponseTemplate::new(403).set_body_string("Forbidden"))
        .with_priority(1)
        .mount(&server)
        .await;
    for (endpoint, body) in [
        ("/api/partner/getClientSummaryInfo", client_summary()),
        ("/api/partner/getDeviceLicensesForOrg", device_licenses()),
    ] {
        Mock::given(method("POST"))
            .and(path(endpoint))
            .and(header_exists("x-auth-apikey"))
            .and(header_exists("x-auth-scheme"))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .with_priority(1)
            .mount(&server)
            .await;
    }
    // Anything else, including a call without credentials, is refused the
    // way the real API refuses it.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_string("Unauthorized"))
        .with_priority(10)
        .mount(&server)
        .await;
    server
}

fn client_summary() -> Value {
    json!({
        "accountOwner": {
            "accessibleRhombusApps": ["CONSOLE"],
            "accountOwner": true,
            "createdAtMillis": 1_699_334_716_000_i64,
            "email": "owner@client.example",
            "emailVerified": true,
            "firstName": "Ada",
            "lastName": "Owner",
            "mfaEnabled": true,
            "name": "Ada Owner",
            "orgUuid": DEMO_CLIENT_ORG,
            "uuid": "dEmOoWnErUsErUuId00001w"
        },
        "clientDeviceStatusMap": {
            "CAMERA": {"connectedCount": 11, "operationalCount": 11, "totalCount": 12},
            "DOOR_CONTROLLER": {"connectedCount": 2, "operationalCount": 2, "totalCount": 2}
        },
        "error": false,
        "licenseV2Enabled": true,
        "locationCount": 3,
        "manuallySendLicenseExpirationEmailEnabled": false,
        "recentPolicyAlertCount": 5
    })
}

fn device_licenses() -> Value {
    let license = |n: u32, product: &str, trial: bool| {
        json!({
            "claimKeyUuid": format!("dEmOcLaImKeY{n:010}w"),
            "createdOn": "2025-01-07T05:31:56Z",
            "deviceUuid": format!("dEmOdEvIcE{n:012}w"),
            "features": [
                {"enabled": true, "name": "VIDEO_RETENTION_30_DAYS"},
                {"enabled": !trial, "name": "PEOPLE_SEARCH"}
            ],
            "firstAssignedDate": "2025-01-08T09:00:00Z",
            "maxDeleteDate": "2028-01-08T09:00:00Z",
            "orgUuid": DEMO_CLIENT_ORG,
            "productCode": product,
            "trial": trial,
            "updatedOn": "2026-03-01T12:00:00Z",
            "uuid": format!("dEmOlIcEnSe{n:011}w")
        })
    };
    json!({
        "deviceLicenses": [
            license(1, "LIC-CAM-3Y", false),
            license(2, "LIC-CAM-3Y", false),
            license(3, "LIC-DC-1Y", true)
        ]
    })
}
