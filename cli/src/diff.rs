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

    fn of(client: &ClientAudit) -> ClientSnapshot {
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
            facts: FACTS.iter().map(|s| (s.fact, client.value(s.fact))).collect(),
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
        let clients = (raw.clients.iter())
            .map(client)
            .collect::<Result<_, _>>()?;
        Ok(Snapshot {
            generated_at: raw.generated_at,
            partner: raw.partner,
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
    let mut facts = BTreeMap::new();
    for spec in FACTS {
        let value = match record.get(spec.field) {
            None => return Err(shape(format!("client {:?} has no `{}`", raw.client_uuid, spec.field))),
            Some(Value::Null) => None,
            Some(count) => Some(count.as_u64().ok_or_else(|| {
                shape(format!("client {:?}: `{}` is not a count", raw.client_uuid, spec.field))
            })?),
        };
        facts.insert(spec.fact, value);
    }
    let errors = (raw.errors.into_iter())
        .map(|e| {
            let facts = (e.facts.iter())
                .map(|f| Fact::by_field(f).map_err(shape))
                .collect::<Result<_, _>>()?;
            Ok(Unread {
                facts,
                kind: e.kind,
                status: e.status,
                message: e.message,
            })
        })
        .collect::<Result<_, DocumentError>>()?;
    Ok(ClientSnapshot {
        uuid: raw.client_uuid,
        name: raw.client_name,
        facts,
        errors,
        problem_devices,
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
    FactsKnown { facts: Vec<&'static str> },
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
    LicensesEnding { old: u64, new: u64 },
    #[serde(rename = "policy_alerts_7d")]
    PolicyAlerts { old: u64, new: u64 },
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
    let by_uuid = |s: &Snapshot| -> BTreeMap<String, ClientSnapshot> {
        (s.clients.iter().rev())
            .map(|c| (c.uuid.clone(), c.clone()))
            .collect()
    };
    let (before, after) = (by_uuid(old), by_uuid(new));
    let mut changes = Vec::new();
    for client in &new.clients {
        let whats = match before.get(&client.uuid) {
            Some(earlier) => client_changes(earlier, client, rules),
            None => vec![What::ClientAdded],
        };
        changes.extend(whats.into_iter().map(|what| change(client, what)));
    }
    (old.clients.iter())
        .filter(|c| !after.contains_key(&c.uuid))
        .for_each(|c| changes.push(change(c, What::ClientRemoved)));
    changes.sort_by_cached_key(|c| (c.client_name.to_lowercase(), c.client_uuid.clone()));
    Ok(Diff {
        old_generated_at: old.generated_at.clone(),
        new_generated_at: new.generated_at.clone(),
        partner: new.partner.clone(),
        rules,
        changes,
    })
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
    match (old.refusing(), new.refusing()) {
        (false, true) => return vec![What::AccessRefused],
        (true, false) => return vec![What::AccessRestored],
        (true, true) => return Vec::new(),
        (false, false) => {}
    }
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
fn devices(old: &ClientSnapshot, new: &ClientSnapshot, kind: DeviceKind) -> Vec<What> {
    if !(old.known(kind.count()) && new.known(kind.count())) {
        return Vec::new();
    }
    // A problem whose count is unknown on either side cannot be compared.
    let comparable: BTreeSet<Problem> = (Problem::ALL.into_iter())
        .filter(|p| old.known(p.fact()) && new.known(p.fact()))
        .collect();
    let listed = |c: &ClientSnapshot| -> BTreeMap<String, ProblemDevice> {
        (c.problem_devices.iter().rev())
            .filter(|d| d.kind == kind)
            .filter_map(|d| Some((d.uuid.clone()?, d.clone())))
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
            whats.extend(device(uuid, before.get(uuid), after.get(uuid), &comparable));
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
    let beyond = u128::from(moved) * 100 > u128::from(rules.alerts_threshold_percent) * u128::from(old);
    (moved >= ALERTS_MIN_CHANGE && beyond).then_some(What::PolicyAlerts { old, new })
}
