//! A fake Rhombus API on loopback, playing a partner's fleet: what the
//! audit runs against without an API key, and what its tests and
//! benchmark run against. It answers the calls the audit makes the way the
//! real API does: `401` without the partner's key, `403` inside a client
//! that refuses partner access, alerts in pages, and, when asked, a
//! latency on every answer and `429` with `Retry-After`.

mod fleet;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub use fleet::{
    BUSY, FakeAnswer, FakeCall, FakeCamera, FakeClient, FakeFleet, FakeLicense, LICENSES_FAIL,
    NEW_FIRMWARE, OLD_FIRMWARE, PoolProduct, REFUSING, USERS_EMPTY,
};

/// The key the fake server accepts.
pub const FAKE_API_KEY: &str = "demo-partner-key";
/// The most policy alerts one page holds, whatever `maxResults` asks.
pub const MAX_ALERTS_PER_PAGE: usize = 100;

/// How the fake server answers, beyond its fleet.
#[derive(Debug, Clone, Default)]
pub struct FakeOptions {
    /// Added to every answer.
    pub latency: Duration,
    /// Every this-many-th client (the first, the n+1-th, ...) is rate
    /// limited: each of its calls is answered `429` with `Retry-After: 1`
    /// once, then served.
    pub rate_limit_every: Option<usize>,
}

/// A running fake server; it stops when dropped.
pub struct FakeServer {
    server: MockServer,
    state: Arc<State>,
}

impl FakeServer {
    /// Starts a server on a free loopback port.
    pub async fn start(fleet: FakeFleet, options: FakeOptions) -> FakeServer {
        let state = Arc::new(State::new(fleet, options, Utc::now()));
        let server = MockServer::builder()
            .disable_request_recording()
            .start()
            .await;
        Mock::given(wiremock::matchers::any())
            .respond_with(Responder(state.clone()))
            .mount(&server)
            .await;
        FakeServer { server, state }
    }

    /// The base URL to give the client.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// Requests answered so far, refusals included.
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::Relaxed)
    }

    /// Requests answered `429` so far.
    pub fn rate_limited(&self) -> usize {
        self.state.rate_limited.load(Ordering::Relaxed)
    }
}

struct State {
    fleet: FakeFleet,
    index: HashMap<String, usize>,
    options: FakeOptions,
    /// When the server started: license ends and alert times count from it.
    started: DateTime<Utc>,
    requests: AtomicUsize,
    rate_limited: AtomicUsize,
    /// The (client, path) pairs already answered `429` once.
    limited_once: Mutex<HashSet<(usize, String)>>,
}

impl State {
    fn new(fleet: FakeFleet, options: FakeOptions, started: DateTime<Utc>) -> State {
        let index = (fleet.clients.iter().enumerate())
            .map(|(n, client)| (client.uuid.clone(), n))
            .collect();
        State {
            fleet,
            index,
            options,
            started,
            requests: AtomicUsize::new(0),
            rate_limited: AtomicUsize::new(0),
            limited_once: Mutex::new(HashSet::new()),
        }
    }

    fn answer(&self, request: &Request) -> ResponseTemplate {
        let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
        if header("x-auth-apikey") != Some(FAKE_API_KEY) || header("x-auth-scheme").is_none() {
            return ResponseTemplate::new(401).set_body_string("Unauthorized");
        }
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let path = request.url.path();
        if let Some(partner_call) = path.strip_prefix("/api/partner/") {
            return match partner_call {
                "getClientsV2" => ok(self.clients_listing()),
                "license/getPool" => ok(self.license_pool()),
                _ => ResponseTemplate::new(404),
            };
        }
        // Inside a client organization: the one in `x-auth-org`.
        let Some(n) = header("x-auth-org").and_then(|org| self.index.get(org).copied()) else {
            return forbidden();
        };
        let client = &self.fleet.clients[n];
        if !client.access_allowed {
            return forbidden();
        }
        if self.limits(n, path) {
            self.rate_limited.fetch_add(1, Ordering::Relaxed);
            return ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_string("Too Many Requests");
        }
        if let Some((_, answer)) = client.broken.iter().find(|(call, _)| call.path() == path) {
            return match answer {
                FakeAnswer::Status(status) => {
                    ResponseTemplate::new(*status).set_body_string("Internal Server Error")
                }
                FakeAnswer::Empty => ok(json!({})),
            };
        }
        match path {
            "/api/camera/getMinimalCameraStateList" => ok(cameras(client)),
            "/api/door/getMinimalDoorStateList" => ok(doors(client)),
            "/api/event/getPolicyAlertsV2" => ok(self.alerts_page(client, &body)),
            "/api/user/getUsersInOrg" => ok(users(client)),
            "/api/license/getDeviceLicenses" => ok(self.device_licenses(client)),
            _ => ResponseTemplate::new(404),
        }
    }

    /// Whether this call of client `n` is answered `429` (once per path).
    fn limits(&self, n: usize, path: &str) -> bool {
        let Some(every) = self.options.rate_limit_every else {
            return false;
        };
        if every == 0 || !n.is_multiple_of(every) {
            return false;
        }
        let mut limited = self.limited_once.lock().unwrap_or_else(|e| e.into_inner());
        limited.insert((n, path.to_owned()))
    }

    /// `getClientsV2`: every client, with the counts the listing carries.
    fn clients_listing(&self) -> Value {
        let clients: Vec<Value> = (self.fleet.clients.iter())
            .map(|c| {
                json!({
                    "clientOrgUuid": c.uuid,
                    "clientOrgName": c.name,
                    "clientAccessAllowed": c.access_allowed,
                    "totalCameras": c.cameras.len(),
                    "createdAtMillis": 1_699_334_716_000_i64,
                    "managedByMsp": true,
                    "deactivated": false
                })
            })
            .collect();
        json!({ "clients": clients, "error": false })
    }

    /// `license/getPool`: the pool's unassigned licenses by product, and
    /// what each client holds.
    fn license_pool(&self) -> Value {
        let products: Vec<Value> = (self.fleet.pool.iter())
            .map(|p| {
                let held: Vec<Value> = (self.fleet.clients.iter())
                    .filter_map(|c| {
                        let count = c.licenses.iter().filter(|l| l.product == p.product).count();
                        (count > 0).then(|| {
                            json!({ "clientOrgUuid": c.uuid, "clientOrgName": c.name,
                                    "count": count, "assignedToDevices": count })
                        })
                    })
                    .collect();
                json!({
                    "productCode": p.product,
                    "displayName": p.display_name,
                    "heldByPool": p.unassigned,
                    "heldByClients": held
                })
            })
            .collect();
        json!({ "products": products, "error": false })
    }

    /// `getPolicyAlertsV2`: the client's alerts newest first, within
    /// `afterTimestampMs`..`beforeTimestampMs`, after the cursor
    /// (`lastTimestampMs`, `lastUuid`), at most a page.
    fn alerts_page(&self, client: &FakeClient, body: &Value) -> Value {
        let field = |name: &str| body.get(name).and_then(Value::as_i64);
        let after = field("afterTimestampMs").unwrap_or(i64::MIN);
        let before = field("beforeTimestampMs").unwrap_or(i64::MAX);
        let cursor = field("lastTimestampMs").map(|ms| {
            let uuid = body.get("lastUuid").and_then(Value::as_str).unwrap_or("");
            (ms, uuid.to_owned())
        });
        let page = (field("maxResults")
            .unwrap_or(MAX_ALERTS_PER_PAGE as i64)
            .max(1) as usize)
            .min(MAX_ALERTS_PER_PAGE);
        let alerts: Vec<Value> = self
            .alerts(client)
            .filter(|(ms, _)| *ms >= after && *ms <= before)
            .filter(|(ms, uuid)| cursor.as_ref().is_none_or(|c| (*ms, uuid) < (c.0, &c.1)))
            .take(page)
            .map(|(ms, uuid)| json!({ "uuid": uuid, "timestampMs": ms, "orgUuid": client.uuid }))
            .collect();
        json!({ "policyAlerts": alerts, "error": false })
    }

    /// The client's alerts, newest first: a week's spread over the last
    /// seven days, the older ones an hour apart from eight days back.
    fn alerts(&self, client: &FakeClient) -> impl Iterator<Item = (i64, String)> {
        const HOUR_MS: i64 = 3_600_000;
        let now = self.started.timestamp_millis();
        let week = client.alerts_last_week as i64;
        let recent = (0..week).map(move |k| now - HOUR_MS - k * (6 * 24 * HOUR_MS) / week.max(1));
        let older =
            (0..client.alerts_older as i64).map(move |k| now - 8 * 24 * HOUR_MS - k * HOUR_MS);
        let org = &client.uuid[..8];
        recent
            .chain(older)
            .enumerate()
            .map(move |(k, ms)| (ms, format!("{org}AlErT{k:09}w")))
    }

    /// `license/getDeviceLicenses`, with ends counted from the start.
    fn device_licenses(&self, client: &FakeClient) -> Value {
        let licenses: Vec<Value> = (client.licenses.iter().enumerate())
            .map(|(n, l)| {
                let end = self.started + chrono::Duration::days(l.days_left);
                json!({
                    "uuid": format!("{}LiC{n:04}", &client.uuid[..15]),
                    "orgUuid": client.uuid,
                    "productCode": l.product,
                    "trial": l.trial,
                    "state": "CLAIMED",
                    "maxDeleteDate": end.to_rfc3339()
                })
            })
            .collect();
        json!({ "deviceLicenses": licenses, "error": false })
    }
}

fn cameras(client: &FakeClient) -> Value {
    let states: Vec<Value> = (client.cameras.iter().enumerate())
        .map(|(n, camera)| {
            let firmware = match camera.firmware_behind {
                true => OLD_FIRMWARE,
                false => NEW_FIRMWARE,
            };
            let health = match camera.connection.as_str() {
                "GREEN" if camera.health == "NONE" => "GREEN",
                "GREEN" => "YELLOW",
                other => other,
            };
            json!({ "uuid": format!("{}CaM{n:04}", &client.uuid[..15]),
                    "name": format!("Camera {}", n + 1), "connectionStatus": camera.connection,
                    "healthStatus": health, "healthStatusDetails": camera.health,
                    "firmwareVersion": firmware,
                    "firmwareUpdateInProgress": camera.updating })
        })
        .collect();
    json!({ "cameraStates": states, "error": false })
}

fn doors(client: &FakeClient) -> Value {
    let states: Vec<Value> = (client.doors.iter().enumerate())
        .map(|(n, health)| {
            let details = if health == "RED" {
                "NO_HEARTBEAT"
            } else {
                "NONE"
            };
            json!({ "uuid": format!("{}DoR{n:04}", &client.uuid[..15]),
                    "name": format!("Door {}", n + 1), "health": health,
                    "healthDetails": details })
        })
        .collect();
    json!({ "doorStates": states, "error": false })
}

fn users(client: &FakeClient) -> Value {
    let users: Vec<Value> = (0..client.users)
        .map(|n| {
            json!({ "uuid": format!("{}UsR{n:04}", &client.uuid[..15]),
                    "orgUuid": client.uuid, "email": format!("user{n}@client.example") })
        })
        .collect();
    json!({ "users": users, "error": false })
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn forbidden() -> ResponseTemplate {
    ResponseTemplate::new(403).set_body_string("Forbidden")
}

struct Responder(Arc<State>);

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.requests.fetch_add(1, Ordering::Relaxed);
        self.0.answer(request).set_delay(self.0.options.latency)
    }
}
