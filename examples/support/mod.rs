//! A fake Rhombus API on loopback, so that the examples run without an
//! account or network. It answers like the real one: 401 without the auth
//! headers, and canned data for each partner endpoint.
// Each example uses only part of this module.
#![allow(dead_code)]

pub mod demo;
pub mod report;
pub mod tls;

use chrono::Utc;
use serde_json::Value;
use wiremock::matchers::{header_exists, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// The key the examples use against the fake server.
pub const DEMO_API_KEY: &str = "demo-partner-key";
/// The client organization the single-organization examples act on.
pub const DEMO_CLIENT_ORG: &str = demo::FIRST;

/// Starts the fake server; it stops when the returned value is dropped.
pub async fn start() -> MockServer {
    let server = MockServer::start().await;
    // Acting on an organization that is not one of the partner's clients,
    // or on one that has turned partner access off (`x-auth-org`, e.g. from
    // `Client::for_org`, or the organization named in the body), is
    // forbidden; mounted first, it wins over the endpoints' mocks of the
    // same priority.
    Mock::given(method("POST"))
        .and(|request: &Request| {
            let header = request
                .headers
                .get("x-auth-org")
                .and_then(|org| org.to_str().ok());
            header
                .into_iter()
                .chain(body_org(request).as_deref())
                .any(|org| demo::client(org).is_none_or(|client| !client.access_allowed))
        })
        .respond_with(ResponseTemplate::new(403).set_body_string("Forbidden"))
        .with_priority(1)
        .mount(&server)
        .await;
    type Answer = fn(&demo::DemoClient) -> Value;
    let endpoints: [(&str, Answer); 2] = [
        ("/api/partner/getClientSummaryInfo", demo::summary),
        ("/api/partner/getDeviceLicensesForOrg", |client| {
            demo::device_licenses(client, Utc::now())
        }),
    ];
    for (endpoint, answer) in endpoints {
        Mock::given(method("POST"))
            .and(path(endpoint))
            .and(header_exists("x-auth-apikey"))
            .and(header_exists("x-auth-scheme"))
            .respond_with(move |request: &Request| {
                // The organization asked about: the body's, or else the
                // one the client acts for.
                let org = body_org(request).or_else(|| {
                    request
                        .headers
                        .get("x-auth-org")
                        .and_then(|org| org.to_str().ok())
                        .map(str::to_owned)
                });
                let client = demo::client(org.as_deref().unwrap_or(DEMO_CLIENT_ORG))
                    .expect("unknown organizations are refused above");
                ResponseTemplate::new(200).set_body_json(answer(client))
            })
            .with_priority(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/api/partner/getClients"))
        .and(header_exists("x-auth-apikey"))
        .and(header_exists("x-auth-scheme"))
        .respond_with(ResponseTemplate::new(200).set_body_json(demo::clients_listing()))
        .with_priority(1)
        .mount(&server)
        .await;
    // Anything else, including a call without credentials, is refused the
    // way the real API refuses it.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_string("Unauthorized"))
        .with_priority(10)
        .mount(&server)
        .await;
    server
}

/// The organization a request body names (`clientOrgUuid` or `orgUuid`).
fn body_org(request: &Request) -> Option<String> {
    let body: Value = serde_json::from_slice(&request.body).ok()?;
    ["clientOrgUuid", "orgUuid"]
        .iter()
        .find_map(|key| body.get(key)?.as_str().map(str::to_owned))
}
