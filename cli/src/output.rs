//! The audit as a table for people, and as JSON or CSV for tools: one
//! record per client, its fields named by [`FACTS`] and documented in the
//! README.
//!
//! A record has, in this order: `client_uuid`, `client_name`, `complete`,
//! each fact of [`FACTS`] (a count, or `null` / an empty cell when
//! unknown), `problem_devices` (the cameras and doors with a problem) and
//! `errors` (why each unknown fact is unknown).

use std::fmt::Write as _;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use chrono::{DateTime, Utc};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::audit::{
    ALERT_WINDOW_DAYS, Audit, ClientAudit, Ending, FleetFirmware, LICENSE_WINDOW_DAYS, PoolLine,
    Tally, Total,
};
use crate::devices::ProblemDevice;
use crate::facts::{ErrorKind, FACTS, Fact, FactError, FactSpec};

/// The version of the `--json` document's shape; it grows when a field
/// changes meaning or goes, not when one is added.
pub const SCHEMA_VERSION: u32 = 2;

/// What the outputs show.
#[derive(Debug, Clone, Copy, Default)]
pub struct View<'a> {
    /// Names and UUIDs whole, and every fact as a column of the table
    /// (unless `columns` chooses them).
    pub wide: bool,
    /// The facts the table shows as columns (`--columns`), in [`FACTS`]'s
    /// order; `None`: the default ones, or every one under `wide`. The
    /// records (JSON, CSV) always hold every fact.
    pub columns: Option<&'a [Fact]>,
    /// Only the clients with something to do
    /// ([`ClientAudit::has_problem`]); the totals stay the fleet's.
    pub problems: bool,
}

impl View<'_> {
    fn clients<'a>(&self, audit: &'a Audit) -> impl Iterator<Item = &'a ClientAudit> {
        let problems = self.problems;
        (audit.clients.iter()).filter(move |c| !problems || c.has_problem())
    }

    fn columns(&self) -> impl Iterator<Item = &'static FactSpec> {
        let (wide, chosen) = (self.wide, self.columns);
        FACTS.iter().filter(move |s| match chosen {
            Some(chosen) => chosen.contains(&s.fact),
            None => wide || s.default,
        })
    }

    /// Whether some facts are not columns of the table.
    fn hides_columns(&self) -> bool {
        self.columns().count() < FACTS.len()
    }
}

/// Why one or more facts are unknown, as a record lists it.
#[derive(Debug, Serialize)]
struct ErrorRecord<'a> {
    facts: Vec<&'static str>,
    operation: &'static str,
    kind: ErrorKind,
    status: Option<u16>,
    message: &'a str,
}

fn error_records(client: &ClientAudit) -> Vec<ErrorRecord<'_>> {
    (client.errors().into_iter())
        .map(|(facts, error)| ErrorRecord {
            facts: facts.iter().map(|f| f.spec().field).collect(),
            operation: error.operation,
            kind: error.kind,
            status: error.status,
            message: &error.message,
        })
        .collect()
}

/// One client, as `--json` gives it: its fields in the documented order
/// (under `--ndjson`, after `"kind": "client"`).
struct ClientRecord<'a> {
    client: &'a ClientAudit,
    kind: Option<&'static str>,
}

impl<'a> ClientRecord<'a> {
    fn of(client: &'a ClientAudit) -> ClientRecord<'a> {
        ClientRecord { client, kind: None }
    }
}

impl Serialize for ClientRecord<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let client = self.client;
        let mut map = serializer.serialize_map(Some(FACTS.len() + 6))?;
        if let Some(kind) = self.kind {
            map.serialize_entry("kind", kind)?;
        }
        map.serialize_entry("client_uuid", &client.uuid)?;
        map.serialize_entry("client_name", &client.name)?;
        map.serialize_entry("complete", &client.complete())?;
        for spec in FACTS {
            map.serialize_entry(spec.field, &client.value(spec.fact))?;
        }
        map.serialize_entry("problem_devices", &client.problem_devices)?;
        map.serialize_entry("errors", &error_records(client))?;
        map.end()
    }
}

/// A client the audit did not get to (it was interrupted).
#[derive(Serialize)]
struct NotAudited<'a> {
    client_uuid: &'a str,
    client_name: &'a str,
}

fn not_audited(clients: &[(String, String)]) -> Vec<NotAudited<'_>> {
    (clients.iter())
        .map(|(uuid, name)| NotAudited {
            client_uuid: uuid,
            client_name: name,
        })
        .collect()
}

/// The totals, one entry per fact in the order of [`FACTS`].
struct Totals(Vec<Total>);

#[derive(Serialize)]
struct TotalRecord {
    sum: u64,
    unknown_clients: usize,
}

impl Serialize for Totals {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for total in &self.0 {
            let record = TotalRecord {
                sum: total.sum,
                unknown_clients: total.unknown,
            };
            map.serialize_entry(total.fact.spec().field, &record)?;
        }
        map.end()
    }
}

/// A product of the pool, as `--json` gives it.
#[derive(Debug, Serialize)]
struct PoolRecord<'a> {
    product_code: &'a str,
    display_name: Option<&'a str>,
    unassigned: u64,
    needed: u64,
    short: u64,
}

/// The fleet's cameras against the newest firmware among them.
#[derive(Serialize)]
struct FirmwareRecord {
    newest: Option<String>,
    cameras_not_on_newest: u64,
    unknown_clients: usize,
}

impl From<FleetFirmware> for FirmwareRecord {
    fn from(f: FleetFirmware) -> FirmwareRecord {
        FirmwareRecord {
            newest: f.newest,
            cameras_not_on_newest: f.cameras_not_on_newest,
            unknown_clients: f.unknown_clients,
        }
    }
}

/// The partner account audited: its base URL and its own organization
/// (`null` when the listing names none), never its key.
#[derive(Serialize)]
struct Partner<'a> {
    base_url: &'a str,
    org_uuid: Option<&'a str>,
}

/// The whole `--json` document.
#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    generated_at: String,
    partner: Partner<'a>,
    /// `--problems`: the clients without a problem are left out.
    problems_only: bool,
    /// `--clients`: the entries given; `null` when every client was audited.
    clients_selected: Option<&'a [String]>,
    complete: bool,
    /// Only when the audit was interrupted (`true`), with `not_audited`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    interrupted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_audited: Option<Vec<NotAudited<'a>>>,
    totals: Totals,
    fleet_firmware: FirmwareRecord,
    clients: Vec<ClientRecord<'a>>,
    license_pool: Option<Vec<PoolRecord<'a>>>,
    license_pool_error: Option<&'a FactError>,
}

fn pool_records(pool: &Result<Vec<PoolLine>, FactError>) -> Option<Vec<PoolRecord<'_>>> {
    let lines = pool.as_ref().ok()?;
    Some(
        (lines.iter())
            .map(|l| PoolRecord {
                product_code: &l.product,
                display_name: l.display_name.as_deref(),
                unassigned: l.unassigned,
                needed: l.needed,
                short: l.short(),
            })
            .collect(),
    )
}

/// `--json`: one document, its `clients` one record per client.
pub fn json(audit: &Audit, view: View) -> String {
    let tally = audit.tally();
    let document = Document {
        schema_version: SCHEMA_VERSION,
        generated_at: audit.generated_at.to_rfc3339(),
        partner: Partner {
            base_url: &audit.base_url,
            org_uuid: audit.partner_org.as_deref(),
        },
        problems_only: view.problems,
        clients_selected: audit.clients_selected.as_deref(),
        complete: audit.complete(),
        interrupted: audit.interrupted,
        not_audited: (audit.interrupted).then(|| not_audited(&audit.not_audited)),
        totals: Totals(tally.totals.clone()),
        fleet_firmware: tally.fleet_firmware().into(),
        clients: view.clients(audit).map(ClientRecord::of).collect(),
        license_pool: pool_records(&audit.pool),
        license_pool_error: audit.pool.as_ref().err(),
    };
    pretty(&document)
}

/// `--ndjson`'s line for a client: `"kind": "client"`, then the record
/// `--json` gives.
pub fn ndjson_client(client: &ClientAudit) -> String {
    let record = ClientRecord {
        client,
        kind: Some("client"),
    };
    let mut line = serde_json::to_string(&record).expect("the records serialize");
    line.push('\n');
    line
}

/// `--ndjson`'s last line: `"kind": "summary"`, the document's fields but
/// the clients, and how many clients were listed and audited.
#[derive(Serialize)]
struct Summary<'a> {
    kind: &'static str,
    schema_version: u32,
    generated_at: String,
    partner: Partner<'a>,
    clients_selected: Option<&'a [String]>,
    complete: bool,
    interrupted: bool,
    clients_listed: usize,
    clients_audited: usize,
    not_audited: Vec<NotAudited<'a>>,
    totals: Totals,
    fleet_firmware: FirmwareRecord,
    license_pool: Option<Vec<PoolRecord<'a>>>,
    license_pool_error: Option<&'a FactError>,
}

/// `--ndjson`'s summary line, from what was kept of the clients.
pub fn ndjson_summary(generated_at: DateTime<Utc>, ending: &Ending, tally: &Tally) -> String {
    let pool = (ending.pool.clone()).map(|lines| tally.pool(lines));
    let complete = tally.incomplete == 0 && pool.is_ok() && !ending.interrupted;
    let summary = Summary {
        kind: "summary",
        schema_version: SCHEMA_VERSION,
        generated_at: generated_at.to_rfc3339(),
        partner: Partner {
            base_url: &ending.base_url,
            org_uuid: ending.partner_org.as_deref(),
        },
        clients_selected: ending.clients_selected.as_deref(),
        complete,
        interrupted: ending.interrupted,
        clients_listed: ending.total,
        clients_audited: tally.clients,
        not_audited: not_audited(&ending.not_audited),
        totals: Totals(tally.totals.clone()),
        fleet_firmware: tally.fleet_firmware().into(),
        license_pool: pool_records(&pool),
        license_pool_error: pool.as_ref().err(),
    };
    let mut line = serde_json::to_string(&summary).expect("the summary serializes");
    line.push('\n');
    line
}

/// `--json` when nothing could be audited: `complete: false` and the
/// `fatal` error.
pub fn fatal_json(kind: Option<ErrorKind>, message: &str) -> String {
    let document = serde_json::json!({
        "schema_version": SCHEMA_VERSION,
        "complete": false,
        "fatal": { "kind": kind, "message": message },
    });
    pretty(&document)
}

/// `--ndjson` when nothing could be audited: one line, `"kind": "fatal"`,
/// then the fields `--json` gives.
pub fn fatal_ndjson(kind: Option<ErrorKind>, message: &str) -> String {
    let line = serde_json::json!({
        "kind": "fatal",
        "schema_version": SCHEMA_VERSION,
        "complete": false,
        "fatal": { "kind": kind, "message": message },
    });
    format!("{line}\n")
}

fn pretty(document: &impl Serialize) -> String {
    let mut text = serde_json::to_string_pretty(document).expect("the records serialize");
    text.push('\n');
    text
}

/// `--csv`: a header line, then one line per client, its fields those of
/// the JSON record (`problem_devices` as one text: `kind name (uuid):
/// problem,problem`, and `errors` as one text: `facts: kind (HTTP status):
/// message`, each joined by ` | `). A text cell that a spreadsheet would run as
/// a formula (it starts with `=`, `+`, `-`, `@`, a tab or a carriage
/// return) gets a leading `'`: names come from the server, and a client
/// names itself.
pub fn csv(audit: &Audit, view: View) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = ["client_uuid", "client_name", "complete"]
        .into_iter()
        .chain(FACTS.iter().map(|s| s.field))
        .chain(["problem_devices", "errors"]);
    writer.write_record(header).expect("writing to memory");
    for client in view.clients(audit) {
        let counts = FACTS.iter().map(|s| match client.value(s.fact) {
            Some(n) => n.to_string(),
            None => String::new(),
        });
        let record = [client.uuid.clone(), inert(&client.name)]
            .into_iter()
            .chain([client.complete().to_string()])
            .chain(counts)
            .chain([inert(&devices_text(&client.problem_devices))])
            .chain([inert(&errors_text(client))]);
        writer.write_record(record).expect("writing to memory");
    }
    let bytes = writer.into_inner().expect("writing to memory succeeds");
    String::from_utf8(bytes).expect("the records are UTF-8")
}

/// A client's problem devices in one line of text: `kind name (uuid):
/// problem,problem`, joined by ` | ` (a device without a name: `(name
/// unknown)`, without a UUID: `?`), as the diff's table names devices.
pub fn devices_text(devices: &[ProblemDevice]) -> String {
    let devices: Vec<String> = (devices.iter())
        .map(|d| {
            let problems: Vec<&str> = d.problems.iter().map(|p| p.name()).collect();
            let uuid = d.uuid.as_deref().unwrap_or("?");
            format!(
                "{} {} ({uuid}): {}",
                d.kind.name(),
                d.shown_name(),
                problems.join(",")
            )
        })
        .collect();
    devices.join(" | ")
}

/// A client's errors in one line of text.
fn errors_text(client: &ClientAudit) -> String {
    let errors: Vec<String> = (client.errors().into_iter())
        .map(|(facts, error)| {
            let names: Vec<&str> = facts.iter().map(|f| f.spec().field).collect();
            format!("{}: {}", names.join(","), error_text(error))
        })
        .collect();
    errors.join(" | ")
}

/// `kind (HTTP status): message`.
fn error_text(error: &FactError) -> String {
    match error.status {
        Some(status) => format!("{} (HTTP {status}): {}", error.kind.name(), error.message),
        None => format!("{}: {}", error.kind.name(), error.message),
    }
}

/// The text, with a `'` before it if a spreadsheet would take it for a
/// formula.
fn inert(text: &str) -> String {
    match text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        true => format!("'{text}"),
        false => text.to_owned(),
    }
}

/// The name column's width in the default table (in terminal columns), and
/// the least one under `--wide`, which shows names whole.
const NAME_WIDTH: usize = 30;
/// The UUID column's width in the default table: its last characters (a
/// Rhombus UUID is random throughout; the fake fleets' share a beginning).
const SHORT_UUID: usize = 8;

/// The widths of the table's first two columns, in terminal columns.
#[derive(Debug, Clone, Copy)]
struct Layout {
    name: usize,
    uuid: usize,
    wide: bool,
}

impl Layout {
    fn of(audit: &Audit, view: View) -> Layout {
        if !view.wide {
            return Layout {
                name: NAME_WIDTH,
                uuid: SHORT_UUID,
                wide: false,
            };
        }
        let widest = |text: fn(&ClientAudit) -> &str| {
            (view.clients(audit))
                .map(|c| printable(text(c)).width())
                .max()
                .unwrap_or(0)
        };
        Layout {
            name: widest(|c| &c.name).max(NAME_WIDTH),
            uuid: widest(|c| &c.uuid).max(SHORT_UUID),
            wide: true,
        }
    }

    /// The client's name and UUID cells, each exactly its column's width.
    fn client(&self, client: &ClientAudit) -> (String, String) {
        let uuid = printable(&client.uuid);
        let uuid = match self.wide {
            true => uuid,
            false => {
                let skip = uuid.chars().count().saturating_sub(SHORT_UUID);
                uuid.chars().skip(skip).collect()
            }
        };
        (fit(&client.name, self.name), pad(&uuid, self.uuid))
    }
}

/// The table: one row per client (`?` for a fact not read, and a note
/// number), the totals, what each column counts, the notes, and the
/// license pool against the need.
pub fn table(audit: &Audit, view: View) -> String {
    let mut out = String::new();
    let date = audit.generated_at.format("%Y-%m-%d %H:%M UTC");
    let total = audit.clients.len();
    let _ = writeln!(
        out,
        "Fleet audit, {date}: {} of {total} client organizations with every fact read\n",
        total - audit.incomplete()
    );
    interrupted(&mut out, audit);
    let layout = Layout::of(audit, view);
    let header = cells(view, layout, "client", "uuid", |s| s.header.to_owned());
    let rule = "-".repeat(header.width());
    let _ = writeln!(out, "{header}\n{rule}");
    let mut notes = Vec::new();
    for client in view.clients(audit) {
        let (name, uuid) = layout.client(client);
        let mut line = cells(view, layout, &name, &uuid, |s| match client.value(s.fact) {
            Some(n) => n.to_string(),
            None => "?".to_owned(),
        });
        if !client.complete() {
            notes.push(client);
            let _ = write!(line, " [{}]", notes.len());
        }
        let _ = writeln!(out, "{line}");
    }
    let totals = audit.totals();
    let label = format!("total ({total} clients)");
    let sums = cells(view, layout, &label, "", |s| {
        let total = totals.iter().find(|t| t.fact == s.fact);
        total.map_or(0, |t| t.sum).to_string()
    });
    let _ = writeln!(out, "{rule}\n{sums}");
    fleet_firmware(&mut out, &audit.fleet_firmware());
    legend(&mut out, view);
    footnotes(&mut out, &notes, &totals, view);
    pool(&mut out, audit);
    not_audited_list(&mut out, audit);
    out
}

/// A row: the name and the UUID padded to their columns, then a cell per
/// column, each as wide as its header.
fn cells(
    view: View,
    layout: Layout,
    name: &str,
    uuid: &str,
    cell: impl Fn(&FactSpec) -> String,
) -> String {
    let mut line = format!("{} {}", pad(name, layout.name), pad(uuid, layout.uuid));
    for spec in view.columns() {
        let width = spec.header.len().max(5);
        let _ = write!(line, " {:>width$}", cell(spec));
    }
    line
}

/// Under the title, when the audit was interrupted: how far it got.
fn interrupted(out: &mut String, audit: &Audit) {
    if !audit.interrupted {
        return;
    }
    let done = audit.clients.len();
    let _ = writeln!(
        out,
        "INTERRUPTED (Ctrl-C): {done} of {} clients audited; the {} not audited are listed at \
         the end, and the totals leave them out.\n",
        done + audit.not_audited.len(),
        audit.not_audited.len()
    );
}

/// At the end, when the audit was interrupted: the clients not audited.
fn not_audited_list(out: &mut String, audit: &Audit) {
    if !audit.interrupted {
        return;
    }
    let _ = writeln!(
        out,
        "\nNot audited (interrupted), {} client(s):",
        audit.not_audited.len()
    );
    for (uuid, name) in &audit.not_audited {
        let _ = writeln!(out, "  {} ({})", printable(name), printable(uuid));
    }
}

/// The fleet's cameras against the newest firmware among them.
fn fleet_firmware(out: &mut String, firmware: &FleetFirmware) {
    let Some(newest) = &firmware.newest else {
        return;
    };
    let _ = write!(
        out,
        "\nFirmware: the fleet's newest is {}; {} camera(s) run an older one",
        printable(newest),
        firmware.cameras_not_on_newest
    );
    if firmware.unknown_clients > 0 {
        let _ = write!(out, " ({} client(s) unknown)", firmware.unknown_clients);
    }
    let _ = writeln!(out, "; camera models may have firmware lines of their own.");
}

/// What each column counts, from [`FACTS`].
fn legend(out: &mut String, view: View) {
    let _ = writeln!(
        out,
        "\nAlerts: the last {ALERT_WINDOW_DAYS} days. Ending: within {LICENSE_WINDOW_DAYS} days. \
         Totals add the counts read. Columns:"
    );
    for spec in view.columns() {
        let counts = spec.counts.replace('`', "");
        let operation = spec.source.operation();
        let _ = writeln!(out, "  {:<10} {counts} ({operation})", spec.header);
    }
    if view.hides_columns() {
        let _ = writeln!(
            out,
            "  (--wide shows every column, --columns the ones named)"
        );
    }
}

/// The notes: why each `?` is there, client by client.
fn footnotes(out: &mut String, notes: &[&ClientAudit], totals: &[Total], view: View) {
    let unknown: Vec<String> = (view.columns())
        .filter_map(|s| totals.iter().find(|t| t.fact == s.fact))
        .filter(|t| t.unknown > 0)
        .map(|t| format!("{} ({})", t.fact.spec().header, t.unknown))
        .collect();
    if notes.is_empty() && unknown.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n? not read:");
    for (n, client) in notes.iter().enumerate() {
        let name = printable(&client.name);
        let errors = client.errors();
        let one_kind = errors.iter().all(|(_, e)| e.kind == errors[0].1.kind);
        if client.nothing_read() && one_kind {
            // The same refusal from each call: said once.
            let (_, first) = errors[0].clone();
            let _ = writeln!(out, "  [{}] {name}: nothing read: {}", n + 1, note(first));
            continue;
        }
        for (facts, error) in errors {
            let headers: Vec<&str> = facts.iter().map(|f| column(*f)).collect();
            let _ = writeln!(
                out,
                "  [{}] {name}: {}: {}",
                n + 1,
                headers.join(", "),
                note(error)
            );
        }
    }
    if !unknown.is_empty() {
        let _ = writeln!(
            out,
            "  totals leave out, per column (clients): {}",
            unknown.join(", ")
        );
    }
}

fn column(fact: Fact) -> &'static str {
    fact.spec().header
}

fn note(error: &FactError) -> String {
    printable(&error_text(error))
}

fn pool(out: &mut String, audit: &Audit) {
    let _ = writeln!(
        out,
        "\nLicense pool (unassigned) against the licenses ending or on trial:"
    );
    let lines = match &audit.pool {
        Ok(lines) => lines,
        Err(error) => {
            let _ = writeln!(out, "  not read: {}", note(error));
            return;
        }
    };
    let _ = writeln!(
        out,
        "  {:<14} {:>10} {:>6} {:>5}",
        "product", "unassigned", "needed", "short"
    );
    for line in lines {
        let _ = writeln!(
            out,
            "  {:<14} {:>10} {:>6} {:>5}",
            printable(&line.product),
            line.unassigned,
            line.needed,
            line.short()
        );
    }
}

/// The text padded with spaces to `width` terminal columns (a
/// double-width character takes two).
fn pad(text: &str, width: usize) -> String {
    let spaces = width.saturating_sub(text.width());
    format!("{text}{}", " ".repeat(spaces))
}

/// The name, control characters escaped, cut to `width` terminal columns
/// with an ellipsis when it is wider, and padded to them.
fn fit(text: &str, width: usize) -> String {
    let text = printable(text);
    if text.width() <= width {
        return pad(&text, width);
    }
    let mut cut = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        used += w;
        cut.push(c);
    }
    cut.push('…');
    pad(&cut, width)
}

/// The text with control characters escaped (`\u{1b}`): names and errors
/// come from the server, and a terminal would obey them.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| match c.is_control() {
            true => c.escape_unicode().to_string(),
            false => c.to_string(),
        })
        .collect()
}
