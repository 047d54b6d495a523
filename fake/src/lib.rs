//! A fake Rhombus partner API on loopback: one demo partner (or a generated
//! fleet of any size), answered at the wire level the way the real API
//! answers. The examples, the library's tests, the audit's demo (without an
//! API key), the audit's tests and benchmark all run against it, and the
//! `rhombus-fake` binary serves it on a port for your own code.
//!
//! It does not depend on `rhombus-partner`: it is written from the API's
//! documentation, so that running the library against it tests the
//! library.
//!
//! What it plays:
//! - `401` without the key [`FAKE_API_KEY`] (and an `x-auth-scheme`);
//! - `403` for an organization that is not a client of the partner, or a
//!   client that turned partner access off ([`REFUSING`] in the demo),
//!   whether named in `x-auth-org` or in the body;
//! - the partner endpoints: the client listing (`getClients`,
//!   `getClientsV2`), `getClientSummaryInfo`, `getDeviceLicensesForOrg` and
//!   the managed service provider's endpoints ([`msp`]);
//! - inside a client (`x-auth-org`): cameras with their health, firmware,
//!   values the API does not list and missing fields, doors, policy alerts
//!   in pages, users and device licenses;
//! - on request ([`FakeOptions`]), a latency on every answer and `429`
//!   with `Retry-After`: crudely (once per call of every n-th client), or
//!   from a token bucket per organization ([`FakeBucket`]), as the real
//!   API limits;
//! - a fleet that changes while the server runs ([`FakeServer::change`]):
//!   a camera going offline, a door in error, a client added, removed or
//!   refusing, as a test between two audits needs.
//!
//! Every answer about a client is worked out from one model, [`FakeFleet`],
//! so they agree: the camera count of a client's summary is the length of
//! its camera state list, its licenses sit on its devices, the pool counts
//! what the clients hold.
//!
//! ```no_run
//! # async fn demo() {
//! use rhombus_fake::{FAKE_API_KEY, FakeFleet, FakeOptions, FakeServer};
//! let server = FakeServer::start(FakeFleet::demo(), FakeOptions::default()).await;
//! println!("{} answers the key {FAKE_API_KEY}", server.uri());
//! # }
//! ```

#![warn(missing_docs)]

mod answers;
mod fleet;
pub mod msp;
#[cfg(feature = "tls")]
pub mod tls;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub use fleet::{
    BUSY, DEMO_CLIENT, FakeAnswer, FakeCall, FakeCamera, FakeClient, FakeFleet, FakeLicense,
    LICENSES_FAIL, NEW_FIRMWARE, OLD_FIRMWARE, PoolProduct, REFUSING, USERS_EMPTY,
};

/// The variable a test sets to rename demo clients for `rhombus-audit`'s
/// demo: a JSON object from client UUID to name (see
/// [`FakeFleet::renamed`]). Unset, the demo keeps its own names.
pub const NAMES_VARIABLE: &str = "RHOMBUS_FAKE_CLIENT_NAMES";

/// The key the fake server accepts (`x-auth-apikey`).
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
    /// A token bucket per organization (the `x-auth-org` of a call inside
    /// a client, the partner's own for a partner-level call): a call that
    /// finds its bucket empty is answered `429` with `Retry-After`, the
    /// whole seconds until a token is back (at least 1).
    pub bucket: Option<FakeBucket>,
    /// Keep every request, for [`FakeServer::received`]. Off by default:
    /// a benchmark's hundred thousand requests would stay in memory.
    pub record_requests: bool,
}

/// The size of each organization's token bucket ([`FakeOptions::bucket`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FakeBucket {
    /// Tokens added per second.
    pub rate: f64,
    /// The most tokens a bucket holds; a new bucket is full.
    pub burst: f64,
}

/// One organization's bucket.
#[derive(Debug, Clone, Copy)]
struct Tokens {
    tokens: f64,
    at: Instant,
    /// Calls it admitted.
    admitted: usize,
}

impl FakeBucket {
    /// Takes a token at `now` from `tokens` (made full if `None`): `Ok`,
    /// or the `Retry-After` in whole seconds.
    fn take(&self, tokens: &mut Option<Tokens>, now: Instant) -> Result<(), u64> {
        let bucket = tokens.get_or_insert(Tokens {
            tokens: self.burst,
            at: now,
            admitted: 0,
        });
        let refill = now.saturating_duration_since(bucket.at).as_secs_f64() * self.rate;
        bucket.tokens = (bucket.tokens + refill).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            bucket.admitted += 1;
            return Ok(());
        }
        let seconds = ((1.0 - bucket.tokens) / self.rate).ceil();
        Err(if seconds.is_finite() {
            (seconds as u64).max(1)
        } else {
            u64::MAX
        })
    }
}

/// A request the server received (with [`FakeOptions::record_requests`]).
#[derive(Debug, Clone)]
pub struct ReceivedRequest {
    /// The URL's path, e.g. `/api/partner/getClientsV2`.
    pub path: String,
    /// The headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body as sent.
    pub body: Vec<u8>,
}

impl ReceivedRequest {
    /// The value of header `name` (lower case), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        (self.headers.iter())
            .find(|(n, _)| n == name)
            .map(|(_, value)| value.as_str())
    }
}

/// A running fake server; it stops when dropped.
pub struct FakeServer {
    server: MockServer,
    state: Arc<State>,
}

impl FakeServer {
    /// Starts a server on a free loopback port.
    pub async fn start(fleet: FakeFleet, options: FakeOptions) -> FakeServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        Self::serve(listener, fleet, options).await
    }

    /// Starts a server listening on `address` (port 0: a free one).
    pub async fn start_on(
        address: SocketAddr,
        fleet: FakeFleet,
        options: FakeOptions,
    ) -> std::io::Result<FakeServer> {
        let listener = std::net::TcpListener::bind(address)?;
        Ok(Self::serve(listener, fleet, options).await)
    }

    async fn serve(
        listener: std::net::TcpListener,
        fleet: FakeFleet,
        options: FakeOptions,
    ) -> FakeServer {
        let state = Arc::new(State::new(fleet, options, Utc::now()));
        // wiremock's own recording keeps whole requests of every call; the
        // server records its own, only when asked.
        let server = MockServer::builder()
            .listener(listener)
            .disable_request_recording()
            .start()
            .await;
        Mock::given(wiremock::matchers::any())
            .respond_with(Responder(state.clone()))
            .mount(&server)
            .await;
        FakeServer { server, state }
    }

    /// The base URL to give the client, e.g. `http://127.0.0.1:43817`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The address the server listens on.
    pub fn address(&self) -> SocketAddr {
        *self.server.address()
    }

    /// Requests answered so far, refusals included.
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::Relaxed)
    }

    /// Requests answered `429` so far.
    pub fn rate_limited(&self) -> usize {
        self.state.rate_limited.load(Ordering::Relaxed)
    }

    /// With [`FakeOptions::bucket`], the calls each bucket admitted so far
    /// (`None`: the partner's own), `429`s not counted.
    pub fn admitted_by_bucket(&self) -> HashMap<Option<String>, usize> {
        (lock(&self.state.buckets).iter())
            .map(|(key, tokens)| (key.clone(), tokens.admitted))
            .collect()
    }

    /// The requests received so far, in order; empty unless
    /// [`FakeOptions::record_requests`] is set.
    pub fn received(&self) -> Vec<ReceivedRequest> {
        lock(&self.state.received).clone()
    }

    /// The fleet it plays now (a copy: [`FakeServer::change`] changes it).
    pub fn fleet(&self) -> FakeFleet {
        read(&self.state.model).fleet.clone()
    }

    /// Changes the fleet while the server runs: every answer from then on
    /// is worked out from the changed fleet (a client added or removed is
    /// in the listing, a client whose `access_allowed` is turned off is
    /// refused). License ends and alert times still count from the
    /// server's start.
    pub fn change(&self, change: impl FnOnce(&mut FakeFleet)) {
        let mut model = self.state.model.write().unwrap_or_else(|e| e.into_inner());
        change(&mut model.fleet);
        model.index = Model::index(&model.fleet);
    }
}

/// A read lock whose writer panicked is still usable: a change is made in
/// one closure, and the index is rebuilt after it.
fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

/// The fleet, and where each client is in it.
struct Model {
    fleet: FakeFleet,
    index: HashMap<String, usize>,
}

impl Model {
    fn new(fleet: FakeFleet) -> Model {
        let index = Model::index(&fleet);
        Model { fleet, index }
    }

    fn index(fleet: &FakeFleet) -> HashMap<String, usize> {
        (fleet.clients.iter().enumerate())
            .map(|(n, client)| (client.uuid.clone(), n))
            .collect()
    }

    /// The client `uuid`, if it lets the partner in; `None` for a stranger
    /// or a client that refuses.
    fn allowed(&self, uuid: &str) -> Option<usize> {
        let n = *self.index.get(uuid)?;
        self.fleet.clients[n].access_allowed.then_some(n)
    }
}

/// A lock whose holder panicked is still usable: what it guards is only
/// added to.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

struct State {
    /// Read by every answer, written by [`FakeServer::change`].
    model: RwLock<Model>,
    options: FakeOptions,
    /// When the server started: license ends and alert times count from it.
    started: DateTime<Utc>,
    requests: AtomicUsize,
    rate_limited: AtomicUsize,
    /// The (client, path) pairs already answered `429` once.
    limited_once: Mutex<HashSet<(usize, String)>>,
    /// Each organization's tokens, with [`FakeOptions::bucket`].
    buckets: Mutex<HashMap<Option<String>, Tokens>>,
    received: Mutex<Vec<ReceivedRequest>>,
}

/// The keys under which a request body names an organization to act on.
const ORG_KEYS: [&str; 4] = [
    "clientOrgUuid",
    "orgUuid",
    "fromClientOrgUuid",
    "toClientOrgUuid",
];

impl State {
    fn new(fleet: FakeFleet, options: FakeOptions, started: DateTime<Utc>) -> State {
        State {
            model: RwLock::new(Model::new(fleet)),
            options,
            started,
            requests: AtomicUsize::new(0),
            rate_limited: AtomicUsize::new(0),
            limited_once: Mutex::new(HashSet::new()),
            buckets: Mutex::new(HashMap::new()),
            received: Mutex::new(Vec::new()),
        }
    }

    fn answer(&self, request: &Request) -> ResponseTemplate {
        let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
        // The key is checked before anything else, as the real API does.
        if header("x-auth-apikey") != Some(FAKE_API_KEY) || header("x-auth-scheme").is_none() {
            return ResponseTemplate::new(401).set_body_string("Unauthorized");
        }
        if request.method != wiremock::http::Method::POST {
            return ResponseTemplate::new(405);
        }
        if let Err(seconds) = self.take_token(header("x-auth-org")) {
            self.rate_limited.fetch_add(1, Ordering::Relaxed);
            return ResponseTemplate::new(429)
                .insert_header("retry-after", seconds.to_string().as_str())
                .set_body_string("Too Many Requests");
        }
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let path = request.url.path();
        let model = read(&self.model);
        if let Some(partner_call) = path.strip_prefix("/api/partner/") {
            return self.partner(&model, partner_call, header("x-auth-org"), &body);
        }
        // Inside a client organization: the one in `x-auth-org`.
        let Some(n) = header("x-auth-org").and_then(|org| model.allowed(org)) else {
            return forbidden();
        };
        let client = &model.fleet.clients[n];
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
            "/api/camera/getMinimalCameraStateList" => ok(answers::cameras(client)),
            "/api/door/getMinimalDoorStateList" => ok(answers::doors(client)),
            "/api/event/getPolicyAlertsV2" => ok(answers::alerts_page(client, self.started, &body)),
            "/api/user/getUsersInOrg" => ok(answers::users(client)),
            "/api/license/getDeviceLicenses" => ok(answers::device_licenses(client, self.started)),
            _ => ResponseTemplate::new(404),
        }
    }

    /// A partner-level call (`/api/partner/...`).
    fn partner(
        &self,
        model: &Model,
        call: &str,
        org_header: Option<&str>,
        body: &Value,
    ) -> ResponseTemplate {
        // Acting on an organization that is not a client, or on one that
        // keeps the partner out, is forbidden, whether the organization is
        // in `x-auth-org` or in the body (a hardware move names two).
        let named: Vec<&str> = (org_header.into_iter())
            .chain(ORG_KEYS.iter().filter_map(|key| body.get(key)?.as_str()))
            .collect();
        if named.iter().any(|org| model.allowed(org).is_none()) {
            return forbidden();
        }
        // The organization a per-client call is about: the body's, else the
        // one the client acts for.
        let about = named
            .first()
            .map(|org| &model.fleet.clients[model.index[*org]]);
        let per_client = |answer: fn(&FakeClient, DateTime<Utc>) -> Value| match about {
            Some(client) => ok(answer(client, self.started)),
            None => ok(msp::refused("name the client organization (clientOrgUuid)")),
        };
        match call {
            "getClients" | "getClientsV2" => ok(answers::clients_listing(&model.fleet)),
            "getClientSummaryInfo" => per_client(answers::summary),
            "getDeviceLicensesForOrg" => per_client(answers::device_licenses),
            _ => match msp::answer(&model.fleet, self.started, call, body) {
                Some(Ok(answer)) => ok(answer),
                Some(Err(403)) => forbidden(),
                Some(Err(status)) => ResponseTemplate::new(status),
                None => ResponseTemplate::new(404),
            },
        }
    }

    /// A token of `org`'s bucket (`None`: the partner's own), or the
    /// `Retry-After` in seconds; always `Ok` without a bucket.
    fn take_token(&self, org: Option<&str>) -> Result<(), u64> {
        let Some(bucket) = self.options.bucket else {
            return Ok(());
        };
        let mut buckets = lock(&self.buckets);
        let key = org.map(str::to_owned);
        let mut tokens = buckets.get(&key).copied();
        let taken = bucket.take(&mut tokens, Instant::now());
        if let Some(tokens) = tokens {
            buckets.insert(key, tokens);
        }
        taken
    }

    /// Whether this call of client `n` is answered `429` (once per path).
    fn limits(&self, n: usize, path: &str) -> bool {
        let Some(every) = self.options.rate_limit_every else {
            return false;
        };
        if every == 0 || !n.is_multiple_of(every) {
            return false;
        }
        lock(&self.limited_once).insert((n, path.to_owned()))
    }
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
        let state = &self.0;
        state.requests.fetch_add(1, Ordering::Relaxed);
        if state.options.record_requests {
            let headers = (request.headers.iter())
                .map(|(name, value)| {
                    let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                    (name.as_str().to_owned(), value)
                })
                .collect();
            lock(&state.received).push(ReceivedRequest {
                path: request.url.path().to_owned(),
                headers,
                body: request.body.clone(),
            });
        }
        state.answer(request).set_delay(state.options.latency)
    }
}
