//! What changed between two audits of one partner (`rhombus-audit diff
//! OLD.json NEW.json`), over two documents in memory: a [`Snapshot`] is
//! read from an audit's `--json` text ([`Snapshot::parse`]) or taken of an
//! [`Audit`] ([`Snapshot::of`]), and [`diff`] compares two of them. Nothing
//! here reads a file or prints.
//!
//! The rules, per client (matched by UUID):
//! - a client added or removed; a client newly refusing partner access
//!   (every fact unknown, each for `forbidden`), or let in again: that
//!   alone is said of it, since nothing else can be compared;
//! - facts known before and unknown now (with why), or the other way:
//!   said as such, never as a count gone to or from 0 (missing is never
//!   zero);
//! - each camera or door whose problems changed, by UUID and name: the
//!   problems it has now and had not, those it had and has not, and
//!   whether it is back to health (no problem left). Only problems whose
//!   fact is known in both audits are compared, and only devices of a kind
//!   whose count is known in both;
//! - the licenses ending within 30 days, when the count changed;
//! - the policy alerts of the last 7 days, when they moved by more than
//!   [`Rules::alerts_threshold_percent`] of the earlier count and by at
//!   least [`ALERTS_MIN_CHANGE`].

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::audit::{Audit, ClientAudit};
use crate::devices::{DeviceKind, Problem, ProblemDevice};
use crate::facts::{ErrorKind, FACTS, Fact};
use crate::output::SCHEMA_VERSION;

/// The version of the diff's `--json` document.
pub const DIFF_SCHEMA_VERSION: u32 = 1;
/// The default of [`Rules::alerts_threshold_percent`] (`--alerts-threshold`).
pub const DEFAULT_ALERTS_THRESHOLD: u32 = 50;
/// Policy alerts must move by at least this many to be reported, so that a
/// quiet client going from 1 alert to 3 is not news.
pub const ALERTS_MIN_CHANGE: u64 = 5;

/// The partner account an audit is of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partner {
    pub base_url: String,
    /// The partner's own organization, as the client listing names it;
    /// `None` when it names none.
    pub org_uuid: Option<String>,
}

impl Partner {
    /// Whether two audits are of the same account: by organization when
    /// both name one, else by base URL (the most either can say).
    pub fn same_as(&self, other: &Partner) -> bool {
        match (&self.org_uuid, &other.org_uuid) {
            (Some(a), Some(b)) => a == b,
            _ => self.base_url == other.base_url,
        }
    }
}

impl std::fmt::Display for Partner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.org_uuid {
            Some(org) => write!(f, "organization {org:?} at {}", self.base_url),
            None => write!(f, "{} (no organization named)", self.base_url),
        }
    }
}

/// Why facts of a client are unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unread {
    pub facts: Vec<Fact>,
    pub kind: ErrorKind,
    pub status: Option<u16>,
    pub message: String,
}

/// A client as an audit saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSnapshot {
    pub uuid: String,
    pub name: String,
    /// Every fact of [`FACTS`]: its count, or `None` when unknown.
    pub facts: BTreeMap<Fact, Option<u64>>,
    /// Why the unknown facts are unknown.
    pub errors: Vec<Unread>,
    pub problem_devices: Vec<ProblemDevice>,
}

impl ClientSnapshot {
    /// The fact's count, if known.
    pub fn value(&self, fact: Fact) -> Option<u64> {
        self.facts.get(&fact).copied().flatten()
    }

    fn known(&self, fact: Fact) -> bool {
        self.value(fact).is_some()
    }

    /// Whether the client keeps the partner out: nothing read, and every
    /// reason `forbidden`.
    pub fn refusing(&self) -> bool {
        FACTS.iter().all(|s| !self.known(s.fact))
            && !self.errors.is_empty()
            && self.errors.iter().all(|e| e.kind == ErrorKind::Forbidden)
    }

    fn reason(&self, fact: Fact) -> Option<&Unread> {
        self.errors.iter().find(|e| e.facts.contains(&fact))
    }

    /// The snapshot of a client audited in this process (a streamed
    /// audit keeps no [`Audit`], but its records).
    pub fn of(client: &ClientAudit) -> ClientSnapshot {
        let errors = (client.errors().into_iter())
            .map(|(facts, error)| Unread {
                facts,
                kind: error.kind,
                status: error.status,
                message: error.message.clone(),
            })
            .collect();
        ClientSnapshot {
            uuid: client.uuid.clone(),
            name: client.name.clone(),
            facts: FACTS
                .iter()
                .map(|s| (s.fact, client.value(s.fact)))
                .collect(),
            errors,
            problem_devices: client.problem_devices.clone(),
        }
    }
}

/// An audit, as the diff compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The audit's `generated_at`, as written.
    pub generated_at: String,
    pub partner: Partner,
    /// Whether the audit was limited with `--clients`: then a client it
    /// does not hold is outside it, neither added nor removed.
    pub selected: bool,
    pub clients: Vec<ClientSnapshot>,
}

/// Why a text is not an audit the diff can compare.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("not a complete JSON document ({0}); a file cut short or not `rhombus-audit --json`'s")]
    NotJson(#[source] serde_json::Error),
    #[error("not a `rhombus-audit --json` document: it has no `schema_version`")]
    NotAnAudit,
    #[error(
        "schema_version {found}, but this rhombus-audit reads {SCHEMA_VERSION}: run the audit \
         again with this rhombus-audit"
    )]
    SchemaVersion { found: Value },
    #[error("an audit that did not run (`fatal`: {0}), so there is nothing to compare")]
    Fatal(String),
    #[error(
        "an interrupted audit (`interrupted`: true): the clients it did not reach would show as \
         removed; run the audit again to the end"
    )]
    Interrupted,
    #[error(
        "an audit made with --problems: the clients without a problem are left out and would \
         show as removed; run the audit again without --problems"
    )]
    ProblemsOnly,
    #[error(
        "it has no `{0}`: it was written by an older rhombus-audit; run the audit again with \
         this one"
    )]
    Older(&'static str),
    #[error("not the documented shape: {0}")]
    Shape(String),
}

/// A client record as `--json` writes it (the facts are read by name).
#[derive(Deserialize)]
struct RawClient {
    client_uuid: String,
    client_name: String,
    problem_devices: Option<Vec<ProblemDevice>>,
    errors: Vec<RawUnread>,
}

#[derive(Deserialize)]
struct RawUnread {
    facts: Vec<String>,
    kind: ErrorKind,
    status: Option<u16>,
    message: String,
}

#[derive(Deserialize)]
struct RawDocument {
    generated_at: String,
    partner: Partner,
    /// Absent from documents written before it: read as an audit of every
    /// client, as they were read then (a diff with such an audit made with
    /// `--clients` shows the clients it left out as removed or added).
    #[serde(default)]
    clients_selected: Option<Vec<String>>,
    clients: Vec<Value>,
}

fn shape(error: impl std::fmt::Display) -> DocumentError {
    DocumentError::Shape(error.to_string())
}

impl Snapshot {
    /// The snapshot of an audit made in this process.
    pub fn of(audit: &Audit) -> Snapshot {
        Snapshot {
            generated_at: audit.generated_at.to_rfc3339(),
            partner: Partner {
                base_url: audit.base_url.clone(),
                org_uuid: audit.partner_org.clone(),
            },
            selected: audit.clients_selected.is_some(),
            clients: audit.clients.iter().map(ClientSnapshot::of).collect(),
        }
    }

    /// Reads an audit's `--json` document. Refuses, saying why, whatever
    /// would make a wrong diff: another schema version, a document cut
    /// short, an audit that did not run, was interrupted or left clients
    /// out (`--problems`), one written before the records named their
    /// problem devices.
    pub fn parse(text: &str) -> Result<Snapshot, DocumentError> {
        let document: Value = serde_json::from_str(text).map_err(DocumentError::NotJson)?;
        usable(&document)?;
        let raw: RawDocument = serde_json::from_value(document).map_err(shape)?;
        let clients = (raw.clients.iter()).map(client).collect::<Result<_, _>>()?;
        Ok(Snapshot {
            generated_at: raw.generated_at,
            partner: raw.partner,
            selected: raw.clients_selected.is_some(),
            clients,
        })
    }
}

/// Whether the document is one the diff can compare (before its shape is
/// read).
fn usable(document: &Value) -> Result<(), DocumentError> {
    let found = document
        .get("schema_version")
        .ok_or(DocumentError::NotAnAudit)?;
    if found.as_u64() != Some(u64::from(SCHEMA_VERSION)) {
        let found = found.clone();
        return Err(DocumentError::SchemaVersion { found });
    }
    if let Some(fatal) = document.get("fatal") {
        let message = fatal.get("message").and_then(Value::as_str).unwrap_or("");
        return Err(DocumentError::Fatal(message.to_owned()));
    }
    if document.get("interrupted") == Some(&Value::Bool(true)) {
        return Err(DocumentError::Interrupted);
    }
    match document.get("problems_only") {
        None => return Err(DocumentError::Older("problems_only")),
        Some(Value::Bool(true)) => return Err(DocumentError::ProblemsOnly),
        Some(_) => {}
    }
    if document.pointer("/partner/org_uuid").is_none() {
        return Err(DocumentError::Older("partner.org_uuid"));
    }
    Ok(())
}

/// A client record; every fact must be there, a count or `null`.
fn client(record: &Value) -> Result<ClientSnapshot, DocumentError> {
    let raw: RawClient = serde_json::from_value(record.clone()).map_err(shape)?;
    let problem_devices = raw
        .problem_devices
        .ok_or(DocumentError::Older("problem_devices"))?;
    Ok(ClientSnapshot {
        facts: facts(record, &raw.client_uuid)?,
        errors: raw
            .errors
            .into_iter()
            .map(unread)
            .collect::<Result<_, _>>()?,
        uuid: raw.client_uuid,
        name: raw.client_name,
        problem_devices,
    })
}

/// Every fact of a record: a count, or `None` for `null`; a fact left out
/// is an error, not unknown, since the audit writes every one.
fn facts(record: &Value, uuid: &str) -> Result<BTreeMap<Fact, Option<u64>>, DocumentError> {
    let mut facts = BTreeMap::new();
    for spec in FACTS {
        let value = match record.get(spec.field) {
            None => return Err(shape(format!("client {uuid:?} has no `{}`", spec.field))),
            Some(Value::Null) => None,
            Some(count) => Some(count.as_u64().ok_or_else(|| {
                shape(format!("client {uuid:?}: `{}` is not a count", spec.field))
            })?),
        };
        facts.insert(spec.fact, value);
    }
    Ok(facts)
}

/// An entry of a record's `errors`, its facts by name.
fn unread(raw: RawUnread) -> Result<Unread, DocumentError> {
    let facts = (raw.facts.iter())
        .map(|f| Fact::by_field(f).map_err(shape))
        .collect::<Result<_, _>>()?;
    Ok(Unread {
        facts,
        kind: raw.kind,
        status: raw.status,
        message: raw.message,
    })
}

/// What the diff reports beyond what changed in kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Policy alerts are reported when they move by more than this
    /// percentage of the earlier count (and by at least
    /// [`ALERTS_MIN_CHANGE`]).
    pub alerts_threshold_percent: u32,
}

impl Default for Rules {
    fn default() -> Rules {
        Rules {
            alerts_threshold_percent: DEFAULT_ALERTS_THRESHOLD,
        }
    }
}

/// Why two audits cannot be compared.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("audits of different partner accounts: the first of {old}, the second of {new}")]
    DifferentPartner { old: Partner, new: Partner },
}

/// A device, as a change names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceRef {
    pub kind: DeviceKind,
    pub uuid: String,
    /// `None`: the server gave it no name.
    pub name: Option<String>,
}

/// What changed of a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum What {
    ClientAdded,
    ClientRemoved,
    /// The listing names the client otherwise; the change's `client_name`
    /// is the name now.
    ClientRenamed {
        old_name: String,
    },
    /// Every fact unknown now, each for `forbidden`.
    AccessRefused,
    /// Refusing before, not now.
    AccessRestored,
    /// Known before, unknown now; why, from the later audit.
    FactsUnknown {
        facts: Vec<&'static str>,
        kind: Option<ErrorKind>,
        status: Option<u16>,
        message: Option<String>,
    },
    /// Unknown before, known now.
    FactsKnown {
        facts: Vec<&'static str>,
    },
    /// A device's problems changed.
    Device {
        device: DeviceRef,
        /// Problems it has now and had not.
        started: Vec<Problem>,
        /// Problems it had and has not.
        stopped: Vec<Problem>,
        /// No problem left: back to health (or gone from the client).
        healthy: bool,
    },
    #[serde(rename = "licenses_ending_30d")]
    LicensesEnding {
        old: u64,
        new: u64,
    },
    #[serde(rename = "policy_alerts_7d")]
    PolicyAlerts {
        old: u64,
        new: u64,
    },
}

/// One change, of one client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub client_uuid: String,
    pub client_name: String,
    #[serde(flatten)]
    pub what: What,
}

/// What changed from one audit to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    pub old_generated_at: String,
    pub new_generated_at: String,
    /// The later audit's account.
    pub partner: Partner,
    pub rules: Rules,
    /// By client name (any case), then UUID; a client's in the order of
    /// [`What`].
    pub changes: Vec<Change>,
}

/// What changed from `old` to `new`, or why they cannot be compared.
pub fn diff(old: &Snapshot, new: &Snapshot, rules: Rules) -> Result<Diff, DiffError> {
    if !old.partner.same_as(&new.partner) {
        return Err(DiffError::DifferentPartner {
            old: old.partner.clone(),
            new: new.partner.clone(),
        });
    }
    let (before, after) = (by_uuid(old), by_uuid(new));
    let mut changes = Vec::new();
    for client in &new.clients {
        let whats = match before.get(client.uuid.as_str()) {
            Some(earlier) => client_changes(earlier, client, rules),
            // Outside the earlier audit's --clients: not new to the fleet.
            None if old.selected => vec![],
            None => vec![What::ClientAdded],
        };
        changes.extend(whats.into_iter().map(|what| change(client, what)));
    }
    if !new.selected {
        (old.clients.iter())
            .filter(|c| !after.contains_key(c.uuid.as_str()))
            .for_each(|c| changes.push(change(c, What::ClientRemoved)));
    }
    changes.sort_by_cached_key(|c| (c.client_name.to_lowercase(), c.client_uuid.clone()));
    Ok(Diff {
        old_generated_at: old.generated_at.clone(),
        new_generated_at: new.generated_at.clone(),
        partner: new.partner.clone(),
        rules,
        changes,
    })
}

/// The audit's clients by UUID; of two with one UUID, the first.
fn by_uuid(audit: &Snapshot) -> BTreeMap<&str, &ClientSnapshot> {
    (audit.clients.iter().rev())
        .map(|c| (c.uuid.as_str(), c))
        .collect()
}

fn change(client: &ClientSnapshot, what: What) -> Change {
    Change {
        client_uuid: client.uuid.clone(),
        client_name: client.name.clone(),
        what,
    }
}

/// What changed of a client in both audits.
fn client_changes(old: &ClientSnapshot, new: &ClientSnapshot, rules: Rules) -> Vec<What> {
    // The listing gives the name, refusing or not.
    let mut whats: Vec<What> = (old.name != new.name)
        .then(|| What::ClientRenamed {
            old_name: old.name.clone(),
        })
        .into_iter()
        .collect();
    match (old.refusing(), new.refusing()) {
        (false, true) => whats.push(What::AccessRefused),
        (true, false) => whats.push(What::AccessRestored),
        (true, true) => {}
        (false, false) => whats.extend(compared(old, new, rules)),
    }
    whats
}

/// What changed of a client that let the partner in both times.
fn compared(old: &ClientSnapshot, new: &ClientSnapshot, rules: Rules) -> Vec<What> {
    let mut whats = knowledge(old, new);
    for kind in [DeviceKind::Camera, DeviceKind::Door] {
        whats.extend(devices(old, new, kind));
    }
    whats.extend(licenses(old, new));
    whats.extend(alerts(old, new, rules));
    whats
}

/// The facts known before and unknown now, grouped by why; then those
/// unknown before and known now.
fn knowledge(old: &ClientSnapshot, new: &ClientSnapshot) -> Vec<What> {
    let mut lost: Vec<(Option<&Unread>, Vec<&'static str>)> = Vec::new();
    let mut found = Vec::new();
    for spec in FACTS {
        match (old.known(spec.fact), new.known(spec.fact)) {
            (true, false) => {
                let reason = new.reason(spec.fact);
                match lost.iter_mut().find(|(r, _)| *r == reason) {
                    Some((_, facts)) => facts.push(spec.field),
                    None => lost.push((reason, vec![spec.field])),
                }
            }
            (false, true) => found.push(spec.field),
            _ => {}
        }
    }
    let mut whats: Vec<What> = (lost.into_iter())
        .map(|(reason, facts)| What::FactsUnknown {
            facts,
            kind: reason.map(|r| r.kind),
            status: reason.and_then(|r| r.status),
            message: reason.map(|r| r.message.clone()),
        })
        .collect();
    if !found.is_empty() {
        whats.push(What::FactsKnown { facts: found });
    }
    whats
}

/// The devices of `kind` whose problems changed, the later audit's first
/// (in its order), then those only the earlier one lists.
fn devices<'a>(old: &'a ClientSnapshot, new: &'a ClientSnapshot, kind: DeviceKind) -> Vec<What> {
    if !(old.known(kind.count()) && new.known(kind.count())) {
        return Vec::new();
    }
    // A problem whose count is unknown on either side cannot be compared.
    let comparable: BTreeSet<Problem> = (Problem::ALL.into_iter())
        .filter(|p| old.known(p.fact()) && new.known(p.fact()))
        .collect();
    // A device without a UUID cannot be followed from one audit to the next.
    let listed = |c: &'a ClientSnapshot| -> BTreeMap<&'a str, &'a ProblemDevice> {
        (c.problem_devices.iter().rev())
            .filter(|d| d.kind == kind)
            .filter_map(|d| Some((d.uuid.as_deref()?, d)))
            .collect()
    };
    let (before, after) = (listed(old), listed(new));
    let order = (new.problem_devices.iter())
        .chain(&old.problem_devices)
        .filter(|d| d.kind == kind)
        .filter_map(|d| d.uuid.as_deref());
    let mut seen = BTreeSet::new();
    let mut whats = Vec::new();
    for uuid in order {
        if seen.insert(uuid) {
            let (had, has) = (before.get(uuid).copied(), after.get(uuid).copied());
            whats.extend(device(uuid, had, has, &comparable));
        }
    }
    whats
}

/// A device's change, if its comparable problems changed.
fn device(
    uuid: &str,
    old: Option<&ProblemDevice>,
    new: Option<&ProblemDevice>,
    comparable: &BTreeSet<Problem>,
) -> Option<What> {
    let problems = |d: Option<&ProblemDevice>| -> BTreeSet<Problem> {
        (d.map(|d| d.problems.as_slice()).unwrap_or_default().iter())
            .filter(|p| comparable.contains(p))
            .copied()
            .collect()
    };
    let (had, has) = (problems(old), problems(new));
    let started: Vec<Problem> = has.difference(&had).copied().collect();
    let stopped: Vec<Problem> = had.difference(&has).copied().collect();
    if started.is_empty() && stopped.is_empty() {
        return None;
    }
    let named = new.or(old)?;
    Some(What::Device {
        device: DeviceRef {
            kind: named.kind,
            uuid: uuid.to_owned(),
            name: named.name.clone(),
        },
        started,
        stopped,
        healthy: new.is_none(),
    })
}

/// The licenses ending within 30 days, when known in both and changed.
fn licenses(old: &ClientSnapshot, new: &ClientSnapshot) -> Option<What> {
    let fact = Fact::LicensesEnding30d;
    let (old, new) = (old.value(fact)?, new.value(fact)?);
    (old != new).then_some(What::LicensesEnding { old, new })
}

/// The week's policy alerts, when known in both and moved beyond the
/// threshold.
fn alerts(old: &ClientSnapshot, new: &ClientSnapshot, rules: Rules) -> Option<What> {
    let fact = Fact::PolicyAlerts7d;
    let (old, new) = (old.value(fact)?, new.value(fact)?);
    let moved = old.abs_diff(new);
    let beyond =
        u128::from(moved) * 100 > u128::from(rules.alerts_threshold_percent) * u128::from(old);
    (moved >= ALERTS_MIN_CHANGE && beyond).then_some(What::PolicyAlerts { old, new })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::PoolLine;
    use crate::facts::FactError;
    use crate::output::{View, json};
    use proptest::prelude::*;

    fn client(uuid: &str) -> ClientSnapshot {
        ClientSnapshot {
            uuid: uuid.to_owned(),
            name: format!("Client {uuid}"),
            facts: FACTS.iter().map(|s| (s.fact, Some(0))).collect(),
            errors: Vec::new(),
            problem_devices: Vec::new(),
        }
    }

    fn snapshot(clients: Vec<ClientSnapshot>) -> Snapshot {
        Snapshot {
            generated_at: "2026-12-06T08:00:00+00:00".to_owned(),
            partner: Partner {
                base_url: "https://api2.rhombussystems.com".to_owned(),
                org_uuid: Some("partner".to_owned()),
            },
            selected: false,
            clients,
        }
    }

    fn camera(uuid: &str, name: Option<&str>, problems: &[Problem]) -> ProblemDevice {
        ProblemDevice {
            kind: DeviceKind::Camera,
            uuid: Some(uuid.to_owned()),
            name: name.map(str::to_owned),
            problems: problems.to_vec(),
        }
    }

    /// Leaves `facts` unknown for `kind`.
    fn unread(client: &mut ClientSnapshot, facts: &[Fact], kind: ErrorKind) {
        for fact in facts {
            client.facts.insert(*fact, None);
        }
        client.errors.push(Unread {
            facts: facts.to_vec(),
            kind,
            status: Some(500),
            message: "broken".to_owned(),
        });
    }

    fn whats(old: Vec<ClientSnapshot>, new: Vec<ClientSnapshot>) -> Vec<What> {
        let diff = diff(&snapshot(old), &snapshot(new), Rules::default()).expect("one partner");
        diff.changes.into_iter().map(|c| c.what).collect()
    }

    fn named(uuid: &str, name: Option<&str>) -> DeviceRef {
        DeviceRef {
            kind: DeviceKind::Camera,
            uuid: uuid.to_owned(),
            name: name.map(str::to_owned),
        }
    }

    #[test]
    fn a_camera_newly_offline_or_back_to_health_is_named() {
        let mut old = client("a");
        old.problem_devices = vec![
            camera("c1", Some("Lobby"), &[Problem::NotRecording]),
            camera("c2", None, &[Problem::FirmwareBehind]),
        ];
        let mut new = client("a");
        new.problem_devices = vec![
            camera("c1", Some("Lobby"), &[Problem::Offline]),
            camera(
                "c3",
                Some("Dock"),
                &[Problem::Offline, Problem::NotRecording],
            ),
        ];
        let device = |uuid, name, started: &[Problem], stopped: &[Problem], healthy| What::Device {
            device: named(uuid, name),
            started: started.to_vec(),
            stopped: stopped.to_vec(),
            healthy,
        };
        assert_eq!(
            whats(vec![old], vec![new]),
            [
                device(
                    "c1",
                    Some("Lobby"),
                    &[Problem::Offline],
                    &[Problem::NotRecording],
                    false
                ),
                device(
                    "c3",
                    Some("Dock"),
                    &[Problem::Offline, Problem::NotRecording],
                    &[],
                    false
                ),
                device("c2", None, &[], &[Problem::FirmwareBehind], true),
            ]
        );
    }

    #[test]
    fn a_door_newly_in_error_is_named() {
        let mut new = client("a");
        let door = ProblemDevice::of(
            DeviceKind::Door,
            Some("d1".into()),
            Some("Front".into()),
            vec![Problem::Unhealthy],
        );
        new.problem_devices.extend(door);
        let [
            What::Device {
                device, started, ..
            },
        ] = &whats(vec![client("a")], vec![new])[..]
        else {
            panic!("one device change");
        };
        assert_eq!(
            (device.kind, device.uuid.as_str()),
            (DeviceKind::Door, "d1")
        );
        assert_eq!(started, &[Problem::Unhealthy]);
    }

    #[test]
    fn a_fact_gone_unknown_is_said_so_never_as_a_count_gone_to_zero() {
        let mut old = client("a");
        old.facts.insert(Fact::LicensesEnding30d, Some(2));
        let mut new = client("a");
        unread(
            &mut new,
            &[Fact::LicensesEnding30d, Fact::LicensesTrial],
            ErrorKind::Server,
        );
        let unknown = What::FactsUnknown {
            facts: vec!["licenses_ending_30d", "licenses_trial"],
            kind: Some(ErrorKind::Server),
            status: Some(500),
            message: Some("broken".to_owned()),
        };
        assert_eq!(whats(vec![old.clone()], vec![new.clone()]), [unknown]);
        let known = What::FactsKnown {
            facts: vec!["licenses_ending_30d", "licenses_trial"],
        };
        assert_eq!(whats(vec![new], vec![old]), [known]);
    }

    #[test]
    fn devices_are_not_back_to_health_when_their_list_is_unknown_now() {
        let mut old = client("a");
        old.problem_devices = vec![camera("c1", None, &[Problem::Offline])];
        let mut new = client("a");
        let cameras: Vec<Fact> = crate::facts::Source::Cameras.facts().collect();
        unread(&mut new, &cameras, ErrorKind::Transport);
        let changes = whats(vec![old], vec![new]);
        assert!(
            matches!(&changes[..], [What::FactsUnknown { .. }]),
            "{changes:?}"
        );
    }

    #[test]
    fn a_problem_whose_count_was_unknown_is_not_new() {
        let mut old = client("a");
        unread(
            &mut old,
            &[Fact::CamerasNotOnNewestFirmware],
            ErrorKind::Missing,
        );
        let mut new = client("a");
        new.problem_devices = vec![camera("c1", None, &[Problem::NotOnNewestFirmware])];
        let changes = whats(vec![old], vec![new]);
        assert!(
            matches!(&changes[..], [What::FactsKnown { .. }]),
            "{changes:?}"
        );
    }

    #[test]
    fn clients_added_removed_refusing_and_let_in_again() {
        let mut refusing = client("r");
        let every: Vec<Fact> = FACTS.iter().map(|s| s.fact).collect();
        unread(&mut refusing, &every, ErrorKind::Forbidden);
        let old = vec![client("gone"), client("r"), client("s")];
        let new = vec![client("new"), refusing.clone(), client("s")];
        assert_eq!(
            whats(old, new),
            [What::ClientRemoved, What::ClientAdded, What::AccessRefused]
        );
        assert_eq!(
            whats(vec![refusing], vec![client("r")]),
            [What::AccessRestored]
        );
    }

    /// An audit limited with `--clients` holds only its clients: a client
    /// outside either audit's selection is neither added nor removed, and
    /// a client in both is compared as always.
    #[test]
    fn a_client_outside_a_selection_is_neither_added_nor_removed() {
        let mut offline = client("s");
        offline.problem_devices = vec![camera("c1", None, &[Problem::Offline])];
        let whole = snapshot(vec![client("gone"), client("s"), client("t")]);
        let mut some = snapshot(vec![offline, client("new")]);
        some.selected = true;
        let changed = |old: &Snapshot, new: &Snapshot| -> Vec<(String, &str)> {
            let diff = diff(old, new, Rules::default()).expect("one partner");
            let what = |what: What| match what {
                What::ClientAdded => "added",
                What::ClientRemoved => "removed",
                _ => "changed",
            };
            (diff.changes.into_iter())
                .map(|c| (c.client_uuid, what(c.what)))
                .collect()
        };
        let pairs = |pairs: &[(&str, &'static str)]| -> Vec<(String, &'static str)> {
            pairs.iter().map(|(u, w)| (u.to_string(), *w)).collect()
        };
        // A selection after the whole fleet: "new" is new to the fleet and
        // "s" changed; "gone" and "t" are outside the selection, not
        // removed.
        let forth = pairs(&[("new", "added"), ("s", "changed")]);
        assert_eq!(changed(&whole, &some), forth);
        // The whole fleet after a selection: "new" has left the fleet, "s"
        // changed back; "gone" and "t" were outside it, not added.
        let back = pairs(&[("new", "removed"), ("s", "changed")]);
        assert_eq!(changed(&some, &whole), back);
    }

    #[test]
    fn a_renamed_client_is_said_so_before_its_other_changes() {
        let mut renamed = client("a");
        renamed.name = "Acme Logistics (North)".into();
        renamed.problem_devices = vec![camera("c1", None, &[Problem::Offline])];
        let changes = whats(vec![client("a")], vec![renamed.clone()]);
        assert!(
            matches!(&changes[..], [What::ClientRenamed { old_name }, What::Device { .. }] if old_name == "Client a"),
            "{changes:?}"
        );
        let mut refusing = renamed;
        let every: Vec<Fact> = FACTS.iter().map(|s| s.fact).collect();
        unread(&mut refusing, &every, ErrorKind::Forbidden);
        let changes = whats(vec![client("a")], vec![refusing]);
        assert!(
            matches!(
                &changes[..],
                [What::ClientRenamed { .. }, What::AccessRefused]
            ),
            "{changes:?}"
        );
    }

    fn alerts_moved(old: u64, new: u64, percent: u32) -> bool {
        let with = |n| {
            let mut c = client("a");
            c.facts.insert(Fact::PolicyAlerts7d, Some(n));
            snapshot(vec![c])
        };
        let rules = Rules {
            alerts_threshold_percent: percent,
        };
        let diff = diff(&with(old), &with(new), rules).expect("one partner");
        !diff.changes.is_empty()
    }

    #[test]
    fn alerts_are_reported_beyond_the_threshold_only() {
        assert!(!alerts_moved(10, 15, 50), "50% is not beyond 50%");
        assert!(alerts_moved(10, 16, 50));
        assert!(alerts_moved(20, 9, 50), "down by 55%");
        assert!(!alerts_moved(2, 6, 50), "up 200%, but by fewer than 5");
        assert!(alerts_moved(0, 5, 50));
        assert!(!alerts_moved(10, 16, 100));
        assert!(alerts_moved(u64::MAX - 10, u64::MAX, 0), "no overflow");
        assert!(!alerts_moved(u64::MAX - 10, u64::MAX, 50));
    }

    #[test]
    fn licenses_crossing_the_30_day_window_either_way() {
        let with = |n| {
            let mut c = client("a");
            c.facts.insert(Fact::LicensesEnding30d, Some(n));
            c
        };
        let up = What::LicensesEnding { old: 1, new: 3 };
        assert_eq!(whats(vec![with(1)], vec![with(3)]), [up]);
        let down = What::LicensesEnding { old: 3, new: 0 };
        assert_eq!(whats(vec![with(3)], vec![with(0)]), [down]);
    }

    #[test]
    fn another_partner_account_is_refused() {
        let (a, mut b) = (snapshot(vec![]), snapshot(vec![]));
        b.partner.org_uuid = Some("another".into());
        let refused = diff(&a, &b, Rules::default());
        assert!(matches!(refused, Err(DiffError::DifferentPartner { .. })));
        b.partner.org_uuid = a.partner.org_uuid.clone();
        b.partner.base_url = "http://127.0.0.1:1".into();
        assert!(diff(&a, &b, Rules::default()).is_ok(), "one organization");
        b.partner.org_uuid = None;
        assert!(
            diff(&a, &b, Rules::default()).is_err(),
            "no organization, other URLs"
        );
    }

    /// An audit of two clients: one with a camera offline and a door in
    /// error, one whose licenses were not read.
    fn audit() -> Audit {
        let mut one = ClientAudit {
            uuid: "a".into(),
            name: "A".into(),
            facts: FACTS.iter().map(|s| (s.fact, Ok(1))).collect(),
            needs: BTreeMap::new(),
            firmware: None,
            problem_devices: vec![camera("c1", None, &[Problem::Offline])],
        };
        let mut two = one.clone();
        two.uuid = "b".into();
        two.problem_devices.extend(ProblemDevice::of(
            DeviceKind::Door,
            Some("d".into()),
            Some("Door".into()),
            vec![Problem::Unhealthy],
        ));
        let error = FactError::missing("license/getDeviceLicenses", "deviceLicenses");
        one.facts.insert(Fact::LicensesTrial, Err(error.clone()));
        one.facts.insert(Fact::LicensesEnding30d, Err(error));
        Audit {
            generated_at: chrono::Utc::now(),
            base_url: "http://x".into(),
            partner_org: Some("p".into()),
            clients: vec![one, two],
            pool: Ok(Vec::<PoolLine>::new()),
            interrupted: false,
            not_audited: Vec::new(),
            clients_selected: None,
        }
    }

    #[test]
    fn a_document_reads_back_as_the_audit_it_was_written_from() {
        let audit = audit();
        let read = Snapshot::parse(&json(&audit, View::default())).expect("a document");
        assert_eq!(read, Snapshot::of(&audit));
    }

    /// The audit's document, changed by `edit`, read.
    fn edited(edit: impl FnOnce(&mut Value)) -> Result<Snapshot, DocumentError> {
        let mut document: Value =
            serde_json::from_str(&json(&audit(), View::default())).expect("JSON");
        edit(&mut document);
        Snapshot::parse(&document.to_string())
    }

    #[test]
    fn a_document_that_would_make_a_wrong_diff_is_refused_saying_why() {
        let refused = |edit: fn(&mut Value)| edited(edit).expect_err("refused").to_string();
        assert!(refused(|d| d["schema_version"] = 3.into()).contains("schema_version 3"));
        assert!(refused(|d| d["interrupted"] = true.into()).contains("interrupted"));
        assert!(refused(|d| d["problems_only"] = true.into()).contains("--problems"));
        let older = refused(|d| {
            d["clients"][1]
                .as_object_mut()
                .map(|r| r.remove("problem_devices"));
        });
        assert!(older.contains("older rhombus-audit"), "{older}");
        let lacking = refused(|d| {
            d["clients"][0].as_object_mut().map(|r| r.remove("users"));
        });
        assert!(lacking.contains("has no `users`"), "{lacking}");
        let text = json(&audit(), View::default());
        let cut = Snapshot::parse(&text[..text.len() / 2]).expect_err("cut short");
        assert!(matches!(cut, DocumentError::NotJson(_)), "{cut}");
        let fatal = crate::output::fatal_json(Some(ErrorKind::Forbidden), "no");
        assert!(matches!(
            Snapshot::parse(&fatal),
            Err(DocumentError::Fatal(_))
        ));
    }

    #[test]
    fn a_document_cut_anywhere_is_refused_not_misread() {
        let text = json(&audit(), View::default());
        let whole = text.trim_end().len();
        for cut in (0..whole).filter(|n| text.is_char_boundary(*n)) {
            let read = Snapshot::parse(&text[..cut]);
            assert!(
                matches!(read, Err(DocumentError::NotJson(_))),
                "cut at {cut}"
            );
        }
    }

    fn arbitrary_device() -> impl Strategy<Value = ProblemDevice> {
        let camera_problems = proptest::sample::subsequence(&Problem::ALL[..5], 1..=5);
        (
            0..5usize,
            any::<bool>(),
            proptest::option::of("[A-Za-z ]{0,6}"),
            camera_problems,
        )
            .prop_map(|(n, door, name, problems)| ProblemDevice {
                kind: if door {
                    DeviceKind::Door
                } else {
                    DeviceKind::Camera
                },
                uuid: Some(format!("d{n}")),
                name,
                problems: if door {
                    vec![Problem::Unhealthy]
                } else {
                    problems
                },
            })
    }

    fn arbitrary_client(uuid: String) -> impl Strategy<Value = ClientSnapshot> {
        let facts = proptest::collection::vec(proptest::option::of(0..4u64), FACTS.len());
        let kind = proptest::sample::select(vec![ErrorKind::Forbidden, ErrorKind::Server]);
        let devices = proptest::collection::vec(arbitrary_device(), 0..4);
        (facts, kind, devices).prop_map(move |(values, kind, devices)| {
            let mut client = client(&uuid);
            client.facts = FACTS.iter().map(|s| s.fact).zip(values).collect();
            let unknown: Vec<Fact> = (client.facts.iter())
                .filter(|(_, v)| v.is_none())
                .map(|(f, _)| *f)
                .collect();
            if !unknown.is_empty() {
                unread(&mut client, &unknown, kind);
            }
            // One record per device, as an audit lists them.
            let mut seen = BTreeSet::new();
            client.problem_devices = (devices.into_iter())
                .filter(|d| seen.insert(d.uuid.clone()))
                .collect();
            client
        })
    }

    fn arbitrary_snapshot() -> impl Strategy<Value = Snapshot> {
        proptest::sample::subsequence(vec!["a", "b", "c", "d", "e"], 0..=5)
            .prop_flat_map(|uuids| {
                (uuids.into_iter())
                    .map(|u| arbitrary_client(u.to_owned()))
                    .collect::<Vec<_>>()
            })
            .prop_map(snapshot)
    }

    proptest! {
        #[test]
        fn any_text_is_read_or_refused_without_a_panic(text in "\\PC{0,200}") {
            let _ = Snapshot::parse(&text);
        }

        #[test]
        fn the_same_audit_twice_changes_nothing(a in arbitrary_snapshot()) {
            let same = diff(&a, &a, Rules::default()).expect("one partner");
            prop_assert!(same.changes.is_empty(), "{:?}", same.changes);
        }

        #[test]
        /// Backwards, a diff's changes are reversed: a client added is
        /// removed, a problem started stops (the alerts' threshold is a
        /// share of the earlier count, so they are left out).
        fn what_starts_one_way_stops_the_other(a in arbitrary_snapshot(), b in arbitrary_snapshot()) {
            let forth = diff(&a, &b, Rules::default()).expect("one partner").changes;
            let back = diff(&b, &a, Rules::default()).expect("one partner").changes;
            let flip = |what: &What| match what {
                What::ClientAdded => What::ClientRemoved,
                What::ClientRemoved => What::ClientAdded,
                What::AccessRefused => What::AccessRestored,
                What::AccessRestored => What::AccessRefused,
                What::Device { device, started, stopped, .. } => What::Device {
                    device: DeviceRef { name: None, ..device.clone() },
                    started: stopped.clone(),
                    stopped: started.clone(),
                    healthy: false,
                },
                What::LicensesEnding { old, new } => What::LicensesEnding { old: *new, new: *old },
                other => other.clone(),
            };
            let shape = |what: &What| match what {
                What::Device { device, started, stopped, .. } => What::Device {
                    device: DeviceRef { name: None, ..device.clone() },
                    started: started.clone(),
                    stopped: stopped.clone(),
                    healthy: false,
                },
                other => other.clone(),
            };
            let compared = |c: &&Change| !matches!(
                c.what,
                What::FactsUnknown { .. } | What::FactsKnown { .. } | What::PolicyAlerts { .. }
            );
            let mut forth: Vec<(String, String)> = forth.iter()
                .filter(compared)
                .map(|c| (c.client_uuid.clone(), format!("{:?}", flip(&c.what))))
                .collect();
            let mut back: Vec<(String, String)> = back.iter()
                .filter(compared)
                .map(|c| (c.client_uuid.clone(), format!("{:?}", shape(&c.what))))
                .collect();
            forth.sort();
            back.sort();
            prop_assert_eq!(forth, back);
        }
    }
}
