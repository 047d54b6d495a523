//! The audit: the partner's clients, each one's facts gathered by the calls
//! made inside it, and the license pool against what the clients need.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use futures_util::StreamExt;
use rhombus_partner::areas::camera::types::{
    CameraGetMinimalCameraStateListWsRequest, DeviceHealthStatusDetailsEnum, DeviceStatusEnum,
    MinimalDeviceStateType,
};
use rhombus_partner::areas::door::types::{DoorDoorHealthEnum, DoorGetMinimalDoorStatesWsRequest};
use rhombus_partner::areas::event::types::EventGetPolicyAlertsV2wsRequest;
use rhombus_partner::areas::license::types::LicenseGetDeviceLicensesWsRequest;
use rhombus_partner::areas::user::types::UserGetUsersInOrgWsRequest;
use rhombus_partner::types::{
    PartnerGetPartnerClientsWsRequest, PartnerMspGetLicensePoolWsRequest,
};
use rhombus_partner::{Client, Error, OrgClient, TransportKind};
use tokio::task::JoinSet;
use tracing::Instrument as _;

use crate::devices::{DeviceKind, Problem, ProblemDevice};
use crate::facts::{
    ErrorKind, FACTS, Fact, FactError, Source, compare_versions, older_than_newest,
};

/// Policy alerts are counted over this many days back.
pub const ALERT_WINDOW_DAYS: i64 = 7;
/// Licenses ending within this many days are counted.
pub const LICENSE_WINDOW_DAYS: i64 = 30;
/// The page size asked of `getPolicyAlertsV2`.
pub const ALERT_PAGE: usize = 100;
/// A client's alerts are read over at most this many pages; a server that
/// goes on past them is reported, not followed forever.
pub const MAX_ALERT_PAGES: usize = 1_000;

/// What a fact is: its count, or why it is unknown.
pub type Reading = Result<u64, FactError>;

/// One row of the audit: a client, and each of its facts, read or not.
#[derive(Debug, Clone)]
pub struct ClientAudit {
    pub uuid: String,
    pub name: String,
    /// Every fact of [`FACTS`].
    pub facts: BTreeMap<Fact, Reading>,
    /// Licenses ending or on trial, by product: what the pool must cover
    /// (empty when the licenses were not read).
    pub needs: BTreeMap<String, u64>,
    /// Cameras by `firmwareVersion`, when every camera has one.
    pub firmware: Option<BTreeMap<String, u64>>,
    /// The cameras and doors with a problem, cameras first, each in the
    /// answer's order; a kind whose call failed has none here (its count,
    /// [`DeviceKind::count`], is unknown).
    pub problem_devices: Vec<ProblemDevice>,
}

impl ClientAudit {
    /// A client of whom nothing was read, for `error`.
    fn unread(uuid: String, name: String, error: FactError) -> ClientAudit {
        let facts = (FACTS.iter())
            .map(|s| (s.fact, Err(error.clone())))
            .collect();
        ClientAudit {
            uuid,
            name,
            facts,
            needs: BTreeMap::new(),
            firmware: None,
            problem_devices: Vec::new(),
        }
    }

    /// The fact's count, if it was read.
    pub fn value(&self, fact: Fact) -> Option<u64> {
        self.facts.get(&fact).and_then(|r| r.as_ref().ok().copied())
    }

    /// Whether every fact was read.
    pub fn complete(&self) -> bool {
        self.facts.values().all(Result::is_ok)
    }

    /// Whether no fact was read.
    pub fn nothing_read(&self) -> bool {
        self.facts.values().all(Result::is_err)
    }

    /// Why facts are unknown: each error once, with the facts it leaves
    /// unknown, in the order of [`FACTS`].
    pub fn errors(&self) -> Vec<(Vec<Fact>, &FactError)> {
        let mut errors: Vec<(Vec<Fact>, &FactError)> = Vec::new();
        for spec in FACTS {
            let Some(Err(error)) = self.facts.get(&spec.fact) else {
                continue;
            };
            match errors.iter_mut().find(|(_, e)| *e == error) {
                Some((facts, _)) => facts.push(spec.fact),
                None => errors.push((vec![spec.fact], error)),
            }
        }
        errors
    }

    /// Whether the partner has something to do here: a problem fact above
    /// 0, or a fact unknown.
    pub fn has_problem(&self) -> bool {
        !self.complete()
            || (FACTS.iter())
                .filter(|s| s.problem)
                .any(|s| self.value(s.fact).is_some_and(|n| n > 0))
    }
}

/// A product of the license pool against the clients' needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolLine {
    pub product: String,
    pub display_name: Option<String>,
    /// Licenses in the pool, assigned to no client.
    pub unassigned: u64,
    /// Licenses of the audited clients ending or on trial.
    pub needed: u64,
}

impl PoolLine {
    /// What the pool lacks to cover the need.
    pub fn short(&self) -> u64 {
        self.needed.saturating_sub(self.unassigned)
    }
}

/// The whole audit.
#[derive(Debug, Clone)]
pub struct Audit {
    pub generated_at: DateTime<Utc>,
    /// The base URL of the account audited.
    pub base_url: String,
    /// The partner's own organization, as the client listing names it
    /// ([`partner_org`]).
    pub partner_org: Option<String>,
    /// In the plan's order; see [`Audit::sort`].
    pub clients: Vec<ClientAudit>,
    /// The pool, or why it could not be read.
    pub pool: Result<Vec<PoolLine>, FactError>,
    /// Whether the audit was stopped (Ctrl-C) before every client was
    /// audited.
    pub interrupted: bool,
    /// The clients not audited then, `(uuid, name)`.
    pub not_audited: Vec<(String, String)>,
    /// The `--clients` entries the audit was limited to, as given; `None`
    /// when it audited every client of the listing.
    pub clients_selected: Option<Vec<String>>,
}

/// What to audit, and how much at once.
#[derive(Debug, Clone)]
pub struct Plan {
    pub now: DateTime<Utc>,
    /// Client UUIDs, or names in any case; all clients when empty.
    pub only: Vec<String>,
    /// Clients audited at once; their calls share the client's in-flight
    /// limit.
    pub clients_at_once: usize,
    /// The order of the audit's rows.
    pub sort: SortBy,
}

/// Why the audit could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot list the partner's clients: {}", explain(.0))]
    Listing(#[source] Error),
    #[error(
        "no client matches {}: give client UUIDs or names as the listing has them \
         (run without --clients to see them all)",
        .0.join(", ")
    )]
    UnknownClients(Vec<String>),
}

/// How a streamed audit ended: everything but the clients' records, which
/// went one by one to the caller as each client finished.
#[derive(Debug, Clone)]
pub struct Ending {
    /// The base URL of the account audited.
    pub base_url: String,
    /// The partner's own organization, as the client listing names it
    /// ([`partner_org`]).
    pub partner_org: Option<String>,
    /// Clients the listing gave (after `--clients`).
    pub total: usize,
    /// The pool, or why it could not be read (the clients' needs not yet
    /// added: see [`Tally::pool`]).
    pub pool: Result<Vec<PoolLine>, FactError>,
    /// Whether the audit was stopped before every client was audited.
    pub interrupted: bool,
    /// The clients not audited when it was stopped, `(uuid, name)` in the
    /// listing's order (empty unless `interrupted`).
    pub not_audited: Vec<(String, String)>,
    /// The plan's `--clients` entries; `None` when every client was
    /// audited.
    pub clients_selected: Option<Vec<String>>,
}

/// Runs the audit, giving each client's record to `each(record, done,
/// total)` as the client finishes, so that nothing needs to keep them.
/// When `stop` completes (Ctrl-C), the clients in progress are dropped and
/// the audit ends at once, saying which clients were not audited.
pub async fn stream(
    partner: &Client,
    plan: &Plan,
    stop: impl Future<Output = ()>,
    mut each: impl FnMut(ClientAudit, usize, usize),
) -> Result<Ending, AuditError> {
    let (clients, partner_org) = list_clients(partner).await?;
    let clients = select(clients, &plan.only)?;
    let pool = tokio::spawn(pool(partner.clone()));
    let total = clients.len();
    let mut pending = clients.into_iter().enumerate();
    let mut running = JoinSet::new();
    let mut in_progress = BTreeMap::new();
    let (mut done, mut interrupted) = (0, false);
    tokio::pin!(stop);
    let mut turn = tokio::time::interval(PACED_TURN);
    turn.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let mut started = 0;
        while room_for_another(
            plan.clients_at_once,
            &Loop::now(partner, running.len(), started, pending.len()),
        ) {
            let Some((n, (uuid, name))) = pending.next() else {
                break;
            };
            started += 1;
            in_progress.insert(n, (uuid.clone(), name.clone()));
            running.spawn(numbered_audit(partner, plan.now, n, uuid, name));
        }
        let finished = tokio::select! {
            biased;
            () = &mut stop => { interrupted = true; break }
            finished = running.join_next() => finished,
            _ = turn.tick(), if partner.pacing().is_on() => continue,
        };
        let Some(finished) = finished else { break };
        let (n, client) = finished.expect("a client's audit panicked");
        in_progress.remove(&n);
        done += 1;
        each(client, done, total);
    }
    running.abort_all();
    let pool = pool_read(pool, interrupted).await;
    let not_audited = in_progress.into_values().chain(pending.map(|(_, c)| c));
    Ok(Ending {
        base_url: partner.base_url().to_owned(),
        partner_org,
        total,
        pool,
        interrupted,
        not_audited: if interrupted {
            not_audited.collect()
        } else {
            Vec::new()
        },
        clients_selected: (!plan.only.is_empty()).then(|| plan.only.clone()),
    })
}

/// The audit of the `n`-th client, in its span, numbered.
fn numbered_audit(
    partner: &Client,
    now: DateTime<Utc>,
    n: usize,
    uuid: String,
    name: String,
) -> impl Future<Output = (usize, ClientAudit)> + use<> {
    let (partner, span) = (partner.clone(), client_span(&uuid, &name));
    async move { (n, audit_client(&partner, uuid, name, now).await) }.instrument(span)
}

/// The pool read alongside the audit; given up, unread, when the audit was
/// interrupted before it came.
async fn pool_read(
    pool: tokio::task::JoinHandle<Result<Vec<PoolLine>, FactError>>,
    interrupted: bool,
) -> Result<Vec<PoolLine>, FactError> {
    if interrupted && !pool.is_finished() {
        pool.abort();
        return Err(pool_interrupted());
    }
    pool.await.expect("the pool's reading panicked")
}

/// How many more clients may run at once once the partner's requests are
/// paced (`ClientBuilder::pacing`), per client of `Plan::clients_at_once`.
pub const PACED_CLIENTS_PER_SLOT: usize = 32;
/// Paced, the most clients started in one turn of the loop, and how often
/// it turns without a client finishing: the requests of clients just
/// started are not queued yet when the next is considered.
const PACED_STARTS_PER_TURN: usize = 4;
const PACED_TURN: std::time::Duration = std::time::Duration::from_millis(10);
/// Paced, clients start while fewer requests than
/// `Plan::clients_at_once` over this (rounded up) wait for a slot: a short queue keeps
/// the slots busy without holding a request whose turn came.
const PACED_QUEUE_SHARE: usize = 4;
/// Paced, once no more than this many times as many clients are left as
/// are running, the rest start at once (2 was no faster in the pacing
/// bench, and took half as much memory again).
const PACED_ENDGAME: usize = 1;

/// Whether another client may start, `now`.
///
/// Until the API answers 429 and pacing starts: `clients_at_once`.
/// Paced, a client waits for its organization's turns without holding a
/// request slot (with 5 calls, two at once and then two a second, it
/// lasts about 1.5 s instead of one answer's time), so clients start, up
/// to [`PACED_CLIENTS_PER_SLOT`] times as many, while few requests wait
/// for a slot ([`PACED_QUEUE_SHARE`]): the slots stay busy, and a request
/// whose turn came does not then wait long for a slot (which would bunch
/// it with its organization's next). Once no more than [`PACED_ENDGAME`]
/// times as many clients are left as are running, the rest start at once
/// (up to the most): a client started last still needs
/// its organization's turns after it starts, and started early its calls
/// fill the slots its elders leave free, instead of trailing alone at the
/// end.
fn room_for_another(clients_at_once: usize, now: &Loop) -> bool {
    let at_once = clients_at_once.max(1);
    let most = at_once.saturating_mul(PACED_CLIENTS_PER_SLOT);
    match now.paced {
        false => now.running < at_once,
        true if now.pending <= PACED_ENDGAME * now.running => now.running < most,
        true => {
            now.running < most
                && now.started < PACED_STARTS_PER_TURN
                && now.queued < at_once.div_ceil(PACED_QUEUE_SHARE)
        }
    }
}

/// What the audit's loop knows when it considers starting a client.
struct Loop {
    /// Clients running.
    running: usize,
    /// Clients started in this turn of the loop.
    started: usize,
    /// Clients not started yet.
    pending: usize,
    /// Requests waiting for a request slot (`Client::queued_requests`).
    queued: usize,
    /// Whether pacing started (`Client::learned_rate`).
    paced: bool,
}

impl Loop {
    fn now(partner: &Client, running: usize, started: usize, pending: usize) -> Loop {
        Loop {
            running,
            started,
            pending,
            queued: partner.queued_requests(),
            paced: partner.learned_rate().is_some(),
        }
    }
}

/// The span each client's calls are made in, so that every log line
/// about them names the client (a WARN span: the API's warnings, logged
/// without -v, name it too). Control characters are escaped.
fn client_span(uuid: &str, name: &str) -> tracing::Span {
    tracing::warn_span!("client", client_org = %uuid.escape_debug(), client_name = ?name)
}

/// The pool when the audit was stopped before it was read.
fn pool_interrupted() -> FactError {
    FactError {
        operation: POOL,
        kind: ErrorKind::Transport,
        status: None,
        message: "not read: the audit was interrupted first".to_owned(),
    }
}

/// Runs the audit and keeps every record (the table, `--json` and
/// `--csv` need them all). `progress(done, total)` is called as each
/// client is done.
pub async fn run(
    partner: &Client,
    plan: &Plan,
    stop: impl Future<Output = ()>,
    mut progress: impl FnMut(usize, usize),
) -> Result<Audit, AuditError> {
    let mut clients = Vec::new();
    let ending = stream(partner, plan, stop, |client, done, total| {
        clients.push(client);
        progress(done, total);
    })
    .await?;
    let mut audit = Audit::new(plan.now, clients, ending.pool);
    audit.base_url = ending.base_url;
    audit.partner_org = ending.partner_org;
    audit.interrupted = ending.interrupted;
    audit.not_audited = ending.not_audited;
    audit.clients_selected = ending.clients_selected;
    audit.sort(plan.sort);
    Ok(audit)
}

/// `getClientsV2`: every client's `(uuid, name)`, in the listing's order,
/// and the partner's own organization ([`partner_org`]).
async fn list_clients(
    partner: &Client,
) -> Result<(Vec<(String, String)>, Option<String>), AuditError> {
    let listing = partner
        .get_partner_clients_v2(&PartnerGetPartnerClientsWsRequest::default())
        .await
        .map_err(AuditError::Listing)?;
    let listed = listing.clients.unwrap_or_default();
    let org = partner_org(listed.iter().map(|c| c.authority_uuid.as_deref()));
    // A client listed without a UUID is kept, with an empty one: it gets
    // an error row rather than vanishing from the audit.
    let clients = (listed.into_iter())
        .map(|c| {
            let uuid = c.client_org_uuid.unwrap_or_default();
            let name = (c.client_org_name).unwrap_or_else(|| format!("(unnamed {uuid})"));
            (uuid, name)
        })
        .collect();
    Ok((clients, org))
}

/// The partner's own organization: the `authorityUuid` most clients of
/// the listing give (the organization with authority over a client, the
/// partner itself but for a client another organization manages), the
/// least by text on a tie; `None` when no client gives one. No call
/// answers the partner's own UUID (`getPartnerOrgProfile` has none), and
/// the key must never stand for the account.
pub fn partner_org<'a>(authorities: impl Iterator<Item = Option<&'a str>>) -> Option<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for authority in authorities.flatten().filter(|a| !a.is_empty()) {
        *counts.entry(authority).or_default() += 1;
    }
    // Ties go to the first by text: `max_by_key` keeps the last maximum.
    let most = counts.iter().rev().max_by_key(|(_, n)| **n)?;
    Some(most.0.to_string())
}

/// The clients `only` names (by UUID, or name in any case), or all of them.
fn select(
    clients: Vec<(String, String)>,
    only: &[String],
) -> Result<Vec<(String, String)>, AuditError> {
    if only.is_empty() {
        return Ok(clients);
    }
    let named = |wanted: &String, (uuid, name): &(String, String)| {
        uuid == wanted || name.to_lowercase() == wanted.to_lowercase()
    };
    let unknown: Vec<String> = (only.iter())
        .filter(|wanted| !clients.iter().any(|client| named(wanted, client)))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(AuditError::UnknownClients(unknown));
    }
    Ok(clients
        .into_iter()
        .filter(|client| only.iter().any(|wanted| named(wanted, client)))
        .collect())
}

/// One client's facts: five calls inside it, at once (the alerts in
/// pages). Each call gives its facts or leaves them unknown, whatever the
/// others do.
async fn audit_client(
    partner: &Client,
    uuid: String,
    name: String,
    now: DateTime<Utc>,
) -> ClientAudit {
    let listing_error = |kind, message: String| FactError {
        operation: LISTING,
        kind,
        status: None,
        message,
    };
    if uuid.is_empty() {
        let message = "the client listing gives this client no clientOrgUuid, so no call can \
                       be made inside it";
        let error = listing_error(ErrorKind::Missing, message.to_owned());
        return ClientAudit::unread(uuid, name, error);
    }
    let org = match partner.for_org(&uuid) {
        Ok(org) => org,
        Err(e) => {
            return ClientAudit::unread(
                uuid,
                name,
                listing_error(ErrorKind::Decode, e.to_string()),
            );
        }
    };
    let (
        (cameras, firmware, mut problem_devices),
        (doors, door_problems),
        alerts,
        users,
        (licenses, needs),
    ) = tokio::join!(
        cameras(&org),
        doors(&org),
        policy_alerts(&org, now),
        users(&org),
        licenses(&org, now),
    );
    let facts = [cameras, doors, alerts, users, licenses]
        .into_iter()
        .flatten()
        .collect();
    problem_devices.extend(door_problems);
    ClientAudit {
        uuid,
        name,
        facts,
        needs,
        firmware,
        problem_devices,
    }
}

/// The operation that lists the clients, as errors name it.
pub const LISTING: &str = "partner/getClientsV2";

/// What a failed call leaves unknown: every fact of `source`.
fn failed(source: Source, error: &Error) -> Vec<(Fact, Reading)> {
    unknown(source, fact_error(source.operation(), error))
}

/// Every fact of `source`, unknown for `error`.
fn unknown(source: Source, error: FactError) -> Vec<(Fact, Reading)> {
    source.facts().map(|f| (f, Err(error.clone()))).collect()
}

/// A library error as the records give it.
pub fn fact_error(operation: &'static str, error: &Error) -> FactError {
    FactError {
        operation,
        kind: ErrorKind::of(error),
        status: error.status().map(|s| s.as_u16()),
        message: explain(error),
    }
}

/// A list's length as `source`'s one fact, or unknown when the answer
/// lacks the list.
fn counted<T>(source: Source, list: Option<Vec<T>>, field: &str) -> Vec<(Fact, Reading)> {
    match list {
        Some(list) => source.facts().map(|f| (f, Ok(list.len() as u64))).collect(),
        None => unknown(source, FactError::missing(source.operation(), field)),
    }
}

async fn users(org: &OrgClient) -> Vec<(Fact, Reading)> {
    let request = UserGetUsersInOrgWsRequest::default();
    match org.user().get_users_in_org(&request).await {
        Ok(answer) => counted(Source::Users, answer.users, "users"),
        Err(e) => failed(Source::Users, &e),
    }
}

/// The door facts, and the doors in error.
async fn doors(org: &OrgClient) -> (Vec<(Fact, Reading)>, Vec<ProblemDevice>) {
    let request = DoorGetMinimalDoorStatesWsRequest::default();
    let answer = match org.door().get_minimal_door_state_list(&request).await {
        Ok(answer) => answer,
        Err(e) => return (failed(Source::Doors, &e), Vec::new()),
    };
    let Some(doors) = answer.door_states else {
        let error = FactError::missing(Source::Doors.operation(), "doorStates");
        return (unknown(Source::Doors, error), Vec::new());
    };
    let mut counts = BTreeMap::from([
        (Fact::Doors, doors.len() as u64),
        (Fact::DoorsUnhealthy, 0),
        (Fact::DoorsHealthUnknown, 0),
    ]);
    let mut in_error = Vec::new();
    for door in doors {
        let fact = match door.health {
            Some(DoorDoorHealthEnum::Green) => continue,
            Some(DoorDoorHealthEnum::Red) => Fact::DoorsUnhealthy,
            _ => Fact::DoorsHealthUnknown,
        };
        *counts.entry(fact).or_default() += 1;
        let problems = match fact {
            Fact::DoorsUnhealthy => vec![Problem::Unhealthy],
            _ => Vec::new(),
        };
        // A door state has no `uuid` of its own: its sensor's stands for it.
        in_error.extend(ProblemDevice::of(
            DeviceKind::Door,
            door.sensor_uuid,
            door.name,
            problems,
        ));
    }
    let facts = counts.into_iter().map(|(f, n)| (f, Ok(n))).collect();
    (facts, in_error)
}

/// What [`cameras`] gives: the facts, the cameras by firmware version
/// (when every camera gives one), the cameras with a problem.
type CameraReading = (
    Vec<(Fact, Reading)>,
    Option<BTreeMap<String, u64>>,
    Vec<ProblemDevice>,
);

/// The camera facts, the cameras by firmware version when every camera
/// gives one, and the cameras with a problem.
async fn cameras(org: &OrgClient) -> CameraReading {
    let request = CameraGetMinimalCameraStateListWsRequest::default();
    let answer = match org.camera().get_minimal_camera_state_list(&request).await {
        Ok(answer) => answer,
        Err(e) => return (failed(Source::Cameras, &e), None, Vec::new()),
    };
    let Some(states) = answer.camera_states else {
        let error = FactError::missing(Source::Cameras.operation(), "cameraStates");
        return (unknown(Source::Cameras, error), None, Vec::new());
    };
    let mut firmware = Some(BTreeMap::new());
    for camera in &states {
        match (&mut firmware, &camera.firmware_version) {
            (Some(versions), Some(version)) => *versions.entry(version.clone()).or_default() += 1,
            _ => firmware = None,
        }
    }
    let problem_cameras = problem_cameras(&states);
    (camera_facts(&states), firmware, problem_cameras)
}

/// The cameras with a problem, in the answer's order. Behind the
/// client's newest firmware only when every camera gives its version (as
/// the fact, unknown otherwise).
fn problem_cameras(states: &[MinimalDeviceStateType]) -> Vec<ProblemDevice> {
    let versions: Option<Vec<&str>> = (states.iter())
        .map(|c| c.firmware_version.as_deref())
        .collect();
    let newest = versions.and_then(|v| v.into_iter().max_by(|a, b| compare_versions(a, b)));
    (states.iter())
        .filter_map(|camera| {
            let behind = match (newest, camera.firmware_version.as_deref()) {
                (Some(newest), Some(version)) => compare_versions(version, newest).is_lt(),
                _ => false,
            };
            let problems = [connection_fact(camera), health_fact(camera)]
                .into_iter()
                .flatten()
                .filter_map(camera_problem)
                .chain(behind.then_some(Problem::NotOnNewestFirmware))
                .collect();
            ProblemDevice::of(
                DeviceKind::Camera,
                camera.uuid.clone(),
                camera.name.clone(),
                problems,
            )
        })
        .collect()
}

/// The device problem a camera fact is, if it is one.
fn camera_problem(fact: Fact) -> Option<Problem> {
    Problem::ALL.into_iter().find(|p| p.fact() == fact)
}

/// The camera facts of a client's `cameraStates`.
fn camera_facts(states: &[MinimalDeviceStateType]) -> Vec<(Fact, Reading)> {
    let mut counts: BTreeMap<Fact, u64> = Source::Cameras.facts().map(|f| (f, 0)).collect();
    counts.insert(Fact::Cameras, states.len() as u64);
    for camera in states {
        for fact in [connection_fact(camera), health_fact(camera)]
            .into_iter()
            .flatten()
        {
            *counts.entry(fact).or_default() += 1;
        }
    }
    let mut facts: Vec<(Fact, Reading)> = counts.into_iter().map(|(f, n)| (f, Ok(n))).collect();
    for (fact, reading) in &mut facts {
        match fact {
            Fact::CamerasNotOnNewestFirmware => *reading = firmware_behind(states),
            Fact::CamerasUpdatingFirmware => *reading = firmware_updating(states),
            _ => {}
        }
    }
    facts
}

/// What a camera's `connectionStatus` counts as, if anything.
fn connection_fact(camera: &MinimalDeviceStateType) -> Option<Fact> {
    match &camera.connection_status {
        Some(DeviceStatusEnum::Green) => None,
        Some(DeviceStatusEnum::Red) => Some(Fact::CamerasOffline),
        Some(DeviceStatusEnum::Orange | DeviceStatusEnum::Yellow) => Some(Fact::CamerasDegraded),
        // A value this version does not list, or none at all.
        _ => Some(Fact::CamerasUnknownStatus),
    }
}

/// What a camera's `healthStatusDetails` counts as, if anything.
fn health_fact(camera: &MinimalDeviceStateType) -> Option<Fact> {
    use DeviceHealthStatusDetailsEnum as Health;
    Some(match &camera.health_status_details {
        Some(Health::None) => return None,
        Some(Health::NotRecording) => Fact::CamerasNotRecording,
        Some(Health::FirmwareBehind) => Fact::CamerasFirmwareBehind,
        Some(Health::LinkSpeedLow) => Fact::CamerasLinkSpeedLow,
        Some(Health::MalfunctioningModules) => Fact::CamerasMalfunctioning,
        Some(Health::Disconnected) => Fact::CamerasDisconnected,
        Some(Health::Calibrating) => Fact::CamerasCalibrating,
        Some(Health::Delayed) => Fact::CamerasDelayed,
        _ => Fact::CamerasHealthUnknown,
    })
}

/// Cameras not on the client's newest `firmwareVersion`; unknown if a
/// camera has none.
fn firmware_behind(states: &[MinimalDeviceStateType]) -> Reading {
    if states.iter().any(|c| c.firmware_version.is_none()) {
        let operation = Source::Cameras.operation();
        return Err(FactError::missing(
            operation,
            "cameraStates[].firmwareVersion",
        ));
    }
    let versions = states.iter().filter_map(|c| c.firmware_version.as_deref());
    Ok(older_than_newest(versions))
}

/// Cameras updating their firmware; unknown if a camera does not say.
fn firmware_updating(states: &[MinimalDeviceStateType]) -> Reading {
    let said: Option<Vec<bool>> = states
        .iter()
        .map(|c| c.firmware_update_in_progress)
        .collect();
    match said {
        Some(updating) => Ok(updating.into_iter().filter(|u| *u).count() as u64),
        None => Err(FactError::missing(
            Source::Cameras.operation(),
            "cameraStates[].firmwareUpdateInProgress",
        )),
    }
}

/// The alerts of the last [`ALERT_WINDOW_DAYS`], every page of them: the
/// library's stream follows the last alert's timestamp and uuid, ends on a
/// short page, and stops on a cursor that does not move or past
/// [`MAX_ALERT_PAGES`], both of which make the count wrong, so unknown. A
/// page without `policyAlerts` leaves the count unknown too.
async fn policy_alerts(org: &OrgClient, now: DateTime<Utc>) -> Vec<(Fact, Reading)> {
    let after = (now - Duration::days(ALERT_WINDOW_DAYS)).timestamp_millis();
    let request = EventGetPolicyAlertsV2wsRequest::default()
        .with_after_timestamp_ms(after)
        .with_before_timestamp_ms(now.timestamp_millis())
        .with_max_results(ALERT_PAGE as i32);
    let events = org.event();
    let mut pages = events
        .get_policy_alerts_v2_pages(request)
        .max_pages(MAX_ALERT_PAGES);
    let mut counted = 0;
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(page) => page,
            Err(e) => return failed(Source::Alerts, &e),
        };
        let Some(alerts) = page.policy_alerts else {
            let error = FactError::missing(Source::Alerts.operation(), "policyAlerts");
            return unknown(Source::Alerts, error);
        };
        // A server may answer past the window; those are not this week's.
        counted += (alerts.iter())
            .filter(|a| a.timestamp_ms.is_none_or(|ms| ms >= after))
            .count() as u64;
    }
    vec![(Fact::PolicyAlerts7d, Ok(counted))]
}

/// `license/getDeviceLicenses`, counted against the window from `now`;
/// with the licenses ending or on trial by product.
async fn licenses(
    org: &OrgClient,
    now: DateTime<Utc>,
) -> (Vec<(Fact, Reading)>, BTreeMap<String, u64>) {
    let request = LicenseGetDeviceLicensesWsRequest::default();
    let licenses = match org.license().get_device_licenses(&request).await {
        Ok(answer) => answer.device_licenses,
        Err(e) => return (failed(Source::Licenses, &e), BTreeMap::new()),
    };
    let Some(licenses) = licenses else {
        let error = FactError::missing(Source::Licenses.operation(), "deviceLicenses");
        return (unknown(Source::Licenses, error), BTreeMap::new());
    };
    let window_end = now + Duration::days(LICENSE_WINDOW_DAYS);
    let (mut ending, mut trial, mut needs) = (0, 0, BTreeMap::new());
    for license in licenses {
        let ends = license.max_delete_date.is_some_and(|end| end <= window_end);
        let on_trial = license.trial == Some(true);
        ending += u64::from(ends);
        trial += u64::from(on_trial);
        if ends || on_trial {
            let product = license
                .product_code
                .unwrap_or_else(|| "(no product code)".into());
            *needs.entry(product).or_insert(0) += 1;
        }
    }
    let facts = vec![
        (Fact::LicensesEnding30d, Ok(ending)),
        (Fact::LicensesTrial, Ok(trial)),
    ];
    (facts, needs)
}

/// `license/getPool`: the unassigned licenses by product.
async fn pool(partner: Client) -> Result<Vec<PoolLine>, FactError> {
    let products = partner
        .get_license_pool(&PartnerMspGetLicensePoolWsRequest::default())
        .await
        .map_err(|e| fact_error(POOL, &e))?
        .products
        .ok_or_else(|| FactError::missing(POOL, "products"))?;
    Ok((products.into_iter())
        .map(|p| PoolLine {
            product: p.product_code.unwrap_or_else(|| "(no product code)".into()),
            display_name: p.display_name,
            unassigned: p.held_by_pool.unwrap_or(0).max(0) as u64,
            needed: 0,
        })
        .collect())
}

/// The operation that reads the pool, as errors name it.
pub const POOL: &str = "partner/license/getPool";

/// What a failed call means for the audit, and what to do about it.
pub fn explain(error: &Error) -> String {
    let operation = error.operation();
    match error {
        Error::CursorStuck { page, .. } => format!(
            "{operation}: page {page} is full but its last item does not move the cursor (no \
             timestamp or uuid, or the same as the page before); the count would be wrong, so \
             this client is not audited"
        ),
        Error::TooManyPages { limit, .. } => format!(
            "{operation}: more than {limit} pages of up to {ALERT_PAGE} in {ALERT_WINDOW_DAYS} \
             days; stopped reading"
        ),
        Error::Forbidden { .. } => format!(
            "{operation}: partner access refused (403): the client has turned partner access \
             off, or is no longer the partner's; ask the client to allow partner access"
        ),
        Error::Unauthorized { .. } => format!(
            "{operation}: the API key was refused (401): check the key (RHOMBUS_API_KEY, or \
             the profile's api_key_env, api_key_file or api_key_command) and its kind \
             (RHOMBUS_AUTH_SCHEME, or the profile's scheme; partner-api-token for a partner key)"
        ),
        Error::Transport {
            kind: TransportKind::Tls,
            ..
        } => format!(
            "{operation}: the TLS handshake was refused: check the base URL (RHOMBUS_BASE_URL, \
             --region, or the profile's base_url and region), the CA the server's certificate \
             needs (the profile's root_certificate_file) and, for a certificate scheme \
             (partner-api), the client certificate (the profile's identity_file)"
        ),
        Error::RateLimited { attempts, .. } => format!(
            "{operation}: rate limited by Rhombus (429) after {attempts} attempt(s): run the \
             audit again later, or with a lower --concurrency"
        ),
        other if html_page(other) => html_advice(other),
        other => other.report(),
    }
}

/// Whether the error's body is an HTML page (a proxy's, a gateway's or a
/// web server's error page) rather than the API's JSON.
fn html_page(error: &Error) -> bool {
    let Some(body) = error.body() else {
        return false;
    };
    let text = body.text();
    text.trim_start().starts_with('<') || text.to_ascii_lowercase().contains("<html")
}

/// What an HTML answer means: not the API's (whose answers are JSON), so
/// neither a spec to refresh nor an API to wait for.
fn html_advice(error: &Error) -> String {
    let status = (error.status()).map_or_else(String::new, |s| format!(" (HTTP {})", s.as_u16()));
    let text = error.body().map_or("", |b| b.text()).trim_start();
    let mut start: String = text.chars().take(80).collect();
    if start.len() < text.len() {
        start.push_str("...");
    }
    format!(
        "{}: the answer{status} is an HTML page, not the API's JSON, so something other than \
         the Rhombus API answered: check the base URL (RHOMBUS_BASE_URL, --region, or the \
         profile's base_url and region) and any proxy or gateway on the way (HTTPS_PROXY); \
         the page starts {start:?}",
        error.operation()
    )
}

impl Audit {
    fn new(
        generated_at: DateTime<Utc>,
        clients: Vec<ClientAudit>,
        pool: Result<Vec<PoolLine>, FactError>,
    ) -> Audit {
        let pool = pool.map(|pool| Audit::tally_of(&clients).pool(pool));
        Audit {
            generated_at,
            base_url: String::new(),
            partner_org: None,
            clients,
            pool,
            interrupted: false,
            not_audited: Vec::new(),
            clients_selected: None,
        }
    }

    fn tally_of(clients: &[ClientAudit]) -> Tally {
        let mut tally = Tally::default();
        clients.iter().for_each(|c| tally.add(c));
        tally
    }

    /// What the totals need of the clients.
    pub fn tally(&self) -> Tally {
        Audit::tally_of(&self.clients)
    }

    /// Whether every fact of every client was read, and the pool (and the
    /// audit was not interrupted).
    pub fn complete(&self) -> bool {
        self.incomplete() == 0 && self.pool.is_ok() && !self.interrupted
    }

    /// Clients with a fact unknown.
    pub fn incomplete(&self) -> usize {
        self.clients.iter().filter(|c| !c.complete()).count()
    }

    /// Per fact, in the order of [`FACTS`]: the sum of the clients' known
    /// counts, and how many clients it is unknown for.
    pub fn totals(&self) -> Vec<Total> {
        self.tally().totals
    }

    /// The fleet's cameras against the newest firmware among them.
    pub fn fleet_firmware(&self) -> FleetFirmware {
        self.tally().fleet_firmware()
    }

    /// Orders the rows: by name, or by a count, largest first (then by
    /// name); clients for whom that count is unknown come last, by name.
    pub fn sort(&mut self, by: SortBy) {
        let key = |c: &ClientAudit| {
            let facts: &[Fact] = match by {
                SortBy::Name => &[],
                SortBy::Offline => &[Fact::CamerasOffline],
                SortBy::Alerts => &[Fact::PolicyAlerts7d],
                SortBy::Licenses => &[Fact::LicensesEnding30d, Fact::LicensesTrial],
            };
            let count: Option<u64> = facts.iter().map(|f| c.value(*f)).sum();
            let last = by != SortBy::Name && count.is_none();
            let count = count.unwrap_or(0);
            (last, Reverse(count), c.name.to_lowercase(), c.uuid.clone())
        };
        self.clients.sort_by_cached_key(key);
    }
}

/// What the totals, the fleet's firmware and the pool's need take of the
/// clients, added one client at a time: `--ndjson` keeps this, not the
/// records, so its memory does not grow with the fleet (but for the
/// products and firmware versions seen).
#[derive(Debug, Clone)]
pub struct Tally {
    /// Clients added.
    pub clients: usize,
    /// Clients with a fact unknown.
    pub incomplete: usize,
    /// Per fact, in the order of [`FACTS`].
    pub totals: Vec<Total>,
    /// Licenses ending or on trial, by product.
    needs: BTreeMap<String, u64>,
    /// Cameras by firmware version, of the clients whose versions are all
    /// known.
    firmware: BTreeMap<String, u64>,
    firmware_unknown: usize,
}

impl Default for Tally {
    fn default() -> Tally {
        Tally {
            clients: 0,
            incomplete: 0,
            totals: (FACTS.iter())
                .map(|s| Total {
                    fact: s.fact,
                    sum: 0,
                    unknown: 0,
                })
                .collect(),
            needs: BTreeMap::new(),
            firmware: BTreeMap::new(),
            firmware_unknown: 0,
        }
    }
}

impl Tally {
    /// Adds a client.
    pub fn add(&mut self, client: &ClientAudit) {
        self.clients += 1;
        self.incomplete += usize::from(!client.complete());
        for total in &mut self.totals {
            match client.value(total.fact) {
                Some(n) => total.sum += n,
                None => total.unknown += 1,
            }
        }
        for (product, n) in &client.needs {
            *self.needs.entry(product.clone()).or_default() += n;
        }
        match &client.firmware {
            Some(versions) => (versions.iter())
                .for_each(|(v, n)| *self.firmware.entry(v.clone()).or_default() += n),
            None => self.firmware_unknown += 1,
        }
    }

    /// The fleet's cameras against the newest firmware among them.
    pub fn fleet_firmware(&self) -> FleetFirmware {
        let newest = (self.firmware.keys())
            .max_by(|a, b| compare_versions(a, b))
            .cloned();
        let older = |(version, n): (&String, &u64)| match &newest {
            Some(newest) if compare_versions(version, newest).is_lt() => *n,
            _ => 0,
        };
        FleetFirmware {
            cameras_not_on_newest: self.firmware.iter().map(older).sum(),
            newest,
            unknown_clients: self.firmware_unknown,
        }
    }

    /// The pool's lines with the clients' needs added (a product needed
    /// but not in the pool gets a line of its own), by product.
    pub fn pool(&self, mut pool: Vec<PoolLine>) -> Vec<PoolLine> {
        for (product, needed) in &self.needs {
            match pool.iter_mut().find(|line| &line.product == product) {
                Some(line) => line.needed += needed,
                None => pool.push(PoolLine {
                    product: product.clone(),
                    needed: *needed,
                    ..PoolLine::default()
                }),
            }
        }
        pool.sort_by(|a, b| a.product.cmp(&b.product));
        pool
    }
}

/// The fleet's cameras against the newest firmware any of them runs (a
/// hint: camera models may have firmware lines of their own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetFirmware {
    /// The newest `firmwareVersion` of the cameras read, by
    /// [`compare_versions`].
    pub newest: Option<String>,
    /// Cameras on an older version.
    pub cameras_not_on_newest: u64,
    /// Clients whose cameras' versions are not all known.
    pub unknown_clients: usize,
}

/// A fact over the whole fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Total {
    pub fact: Fact,
    /// The sum of the clients' known counts.
    pub sum: u64,
    /// The clients for whom the fact is unknown.
    pub unknown: usize,
}

/// The orders `--sort` offers. A count sorts largest first, then by name;
/// the clients for whom that count is unknown come last, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SortBy {
    /// By client name, in any case (then by UUID).
    Name,
    /// Most cameras offline (`connectionStatus` RED) first; degraded
    /// cameras do not count.
    Offline,
    /// Most policy alerts of the last 7 days first.
    Alerts,
    /// Most licenses ending within 30 days or on trial (the two added)
    /// first.
    Licenses,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_start_by_slots_then_by_queue_then_all_at_the_end() {
        let at = |running, started, pending, queued, paced| Loop {
            running,
            started,
            pending,
            queued,
            paced,
        };
        // Unpaced: one client a slot.
        assert!(room_for_another(32, &at(31, 0, 900, 0, false)));
        assert!(!room_for_another(32, &at(32, 0, 900, 0, false)));
        // Paced: a few a turn, while few requests wait for a slot.
        assert!(room_for_another(32, &at(300, 3, 900, 7, true)));
        assert!(!room_for_another(32, &at(300, 4, 900, 0, true)));
        assert!(!room_for_another(32, &at(300, 0, 900, 8, true)));
        // With one slot, while nothing waits for it.
        assert!(room_for_another(1, &at(5, 0, 900, 0, true)));
        assert!(!room_for_another(1, &at(5, 0, 900, 1, true)));
        // No more left than running: all start.
        assert!(room_for_another(32, &at(300, 50, 300, 500, true)));
        assert!(!room_for_another(32, &at(300, 50, 301, 500, true)));
        // Never more than 32 a slot.
        assert!(!room_for_another(32, &at(1024, 0, 10, 0, true)));
    }

    fn row(name: &str, offline: u64, alerts: u64, trial: u64) -> ClientAudit {
        let mut facts: BTreeMap<Fact, Reading> = FACTS.iter().map(|s| (s.fact, Ok(0))).collect();
        facts.insert(Fact::CamerasOffline, Ok(offline));
        facts.insert(Fact::PolicyAlerts7d, Ok(alerts));
        facts.insert(Fact::LicensesTrial, Ok(trial));
        ClientAudit {
            uuid: name.to_lowercase(),
            name: name.to_owned(),
            facts,
            needs: BTreeMap::new(),
            firmware: None,
            problem_devices: Vec::new(),
        }
    }

    fn refused() -> FactError {
        FactError {
            operation: Source::Cameras.operation(),
            kind: ErrorKind::Forbidden,
            status: Some(403),
            message: "refused".into(),
        }
    }

    fn sorted(by: SortBy) -> Vec<String> {
        let failed = ClientAudit::unread("a".into(), "Aardvark".into(), refused());
        let clients = vec![
            row("b", 1, 9, 0),
            failed,
            row("C", 5, 0, 2),
            row("d", 1, 3, 7),
        ];
        let mut audit = Audit::new(Utc::now(), clients, Ok(Vec::new()));
        audit.sort(by);
        audit.clients.into_iter().map(|c| c.name).collect()
    }

    #[test]
    fn each_order_puts_the_largest_count_first_and_clients_not_audited_last() {
        assert_eq!(sorted(SortBy::Name), ["Aardvark", "b", "C", "d"]);
        assert_eq!(sorted(SortBy::Offline), ["C", "b", "d", "Aardvark"]);
        assert_eq!(sorted(SortBy::Alerts), ["b", "d", "C", "Aardvark"]);
        assert_eq!(sorted(SortBy::Licenses), ["d", "C", "b", "Aardvark"]);
    }

    #[test]
    fn the_partner_is_the_authority_most_clients_name() {
        let org = |list: &[Option<&str>]| partner_org(list.iter().copied());
        assert_eq!(org(&[]), None);
        assert_eq!(org(&[None, Some("")]), None);
        assert_eq!(
            org(&[Some("b"), None, Some("a"), Some("b")]).as_deref(),
            Some("b")
        );
        assert_eq!(org(&[Some("b"), Some("a")]).as_deref(), Some("a"));
    }

    #[test]
    fn the_pool_gets_a_line_for_a_product_needed_that_it_lacks() {
        let mut needy = row("n", 0, 0, 0);
        needy.needs = BTreeMap::from([("A".to_owned(), 3), ("B".to_owned(), 1)]);
        let pool = vec![PoolLine {
            product: "A".into(),
            unassigned: 1,
            ..PoolLine::default()
        }];
        let audit = Audit::new(Utc::now(), vec![needy], Ok(pool));
        let lines = audit.pool.expect("read");
        let got: Vec<(&str, u64, u64, u64)> = (lines.iter())
            .map(|l| (l.product.as_str(), l.unassigned, l.needed, l.short()))
            .collect();
        assert_eq!(got, [("A", 1, 3, 2), ("B", 0, 1, 1)]);
    }

    #[test]
    fn a_failed_call_leaves_its_facts_unknown_and_the_others_read() {
        let mut client = row("c", 2, 0, 0);
        for fact in Source::Licenses.facts() {
            client.facts.insert(fact, Err(refused()));
        }
        assert!(!client.complete() && client.has_problem());
        assert_eq!(client.value(Fact::CamerasOffline), Some(2));
        assert_eq!(client.value(Fact::LicensesTrial), None);
        let errors = client.errors();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].0, [Fact::LicensesEnding30d, Fact::LicensesTrial]);
        let audit = Audit::new(Utc::now(), vec![client, row("d", 1, 0, 0)], Ok(Vec::new()));
        let totals = audit.totals();
        let offline = totals.iter().find(|t| t.fact == Fact::CamerasOffline);
        assert_eq!(offline.map(|t| (t.sum, t.unknown)), Some((3, 0)));
        let trial = totals.iter().find(|t| t.fact == Fact::LicensesTrial);
        assert_eq!(trial.map(|t| (t.sum, t.unknown)), Some((0, 1)));
    }
}
