//! A fake Rhombus API on loopback, so that the examples run without an
//! account or network. It answers like the real one: 401 without the auth
//! headers, and canned data for each partner endpoint it plays (the client
//! listing, a client's summary and licenses, and the managed service
//! provider's endpoints in `msp`).
// Each example uses only part of this module.
#![allow(dead_code)]

pub mod demo;
pub mod msp;
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
                .map(str::to_owned)
                .chain(body_orgs(request))
                .any(|org| demo::client(&org).is_none_or(|client| !client.access_allowed))
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
    // The managed service provider's endpoints (under /api/partner/), each
    // answered from the request body: a JSON answer, or a refusal with its
    // status.
    type Handler = fn(&Value) -> Result<Value, u16>;
    let msp_endpoints: [(&str, Handler); 11] = [
        ("deactivateClient", |b| Ok(msp::deactivate_client(b))),
        ("getClaimKeysForPartnerOrg", |b| Ok(msp::claim_keys(b))),
        ("getPartnerOrgProfile", |b| Ok(msp::profile(b))),
        ("hardware/getInventory", |b| Ok(msp::hardware_inventory(b))),
        ("hardware/moveToClient", |b| Ok(msp::move_to_client(b))),
        ("license/assignToClient", |b| Ok(msp::assign_to_client(b))),
        ("license/claimToPool", |b| Ok(msp::claim_to_pool(b))),
        ("license/getClaimKeyByCode", msp::claim_key_by_code),
        ("license/getPool", |b| Ok(msp::license_pool(b))),
        ("license/reclaimFromClient", |b| {
            Ok(msp::reclaim_from_client(b))
        }),
        ("updateManagedClientPolicy", |b| Ok(msp::update_policy(b))),
    ];
    for (endpoint, handler) in msp_endpoints {
        Mock::given(method("POST"))
            .and(path(format!("/api/partner/{endpoint}")))
            .and(header_exists("x-auth-apikey"))
            .and(header_exists("x-auth-scheme"))
            .respond_with(move |request: &Request| {
                let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
                match handler(&body) {
                    Ok(answer) => ResponseTemplate::new(200).set_body_json(answer),
                    Err(403) => ResponseTemplate::new(403).set_body_string("Forbidden"),
                    Err(status) => ResponseTemplate::new(status),
                }
            })
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

/// The keys under which a request body names an organization to act on.
const ORG_KEYS: [&str; 4] = [
    "clientOrgUuid",
    "orgUuid",
    "fromClientOrgUuid",
    "toClientOrgUuid",
];

/// The organization a request body names (`clientOrgUuid` or `orgUuid`).
fn body_org(request: &Request) -> Option<String> {
    body_orgs(request).into_iter().next()
}

/// Every organization a request body names (a hardware move names two).
fn body_orgs(request: &Request) -> Vec<String> {
    let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
        return Vec::new();
    };
    ORG_KEYS
        .iter()
        .filter_map(|key| body.get(key)?.as_str().map(str::to_owned))
        .collect()
}
