//! The audit as a table for people, and as JSON or CSV for tools: one
//! record per client, its fields named by [`FACTS`] and documented in the
//! README.
//!
//! A record has, in this order: `client_uuid`, `client_name`, `complete`,
//! each fact of [`FACTS`] (a count, or `null` / an empty cell when
//! unknown), and `errors` (why each unknown fact is unknown).

use std::fmt::Write as _;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::audit::{
    ALERT_WINDOW_DAYS, Audit, ClientAudit, FleetFirmware, LICENSE_WINDOW_DAYS, Total,
};
use crate::facts::{ErrorKind, FACTS, Fact, FactError, FactSpec};

/// The version of the `--json` document's shape; it grows when a field
/// changes meaning or goes, not when one is added.
pub const SCHEMA_VERSION: u32 = 2;

/// What the outputs show.
#[derive(Debug, Clone, Copy, Default)]
pub struct View {
    /// Every fact as a column of the table, not only the default ones.
    pub wide: bool,
    /// Only the clients with something to do
    /// ([`ClientAudit::has_problem`]); the totals stay the fleet's.
    pub problems: bool,
}

impl View {
    fn clients<'a>(&self, audit: &'a Audit) -> impl Iterator<Item = &'a ClientAudit> {
        let problems = self.problems;
        (audit.clients.iter()).filter(move |c| !problems || c.has_problem())
    }

    fn columns(&self) -> impl Iterator<Item = &'static FactSpec> {
        let wide = self.wide;
        FACTS.iter().filter(move |s| wide || s.default)
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

/// One client, as `--json` gives it: its fields in the documented order.
struct ClientRecord<'a>(&'a ClientAudit);

impl Serialize for ClientRecord<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let client = self.0;
        let mut map = serializer.serialize_map(Some(FACTS.len() + 4))?;
        map.serialize_entry("client_uuid", &client.uuid)?;
        map.serialize_entry("client_name", &client.name)?;
        map.serialize_entry("complete", &client.complete())?;
        for spec in FACTS {
            map.serialize_entry(spec.field, &client.value(spec.fact))?;
        }
        map.serialize_entry("errors", &error_records(client))?;
        map.end()
    }
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

#[derive(Serialize)]
struct Partner<'a> {
    base_url: &'a str,
}

/// The whole `--json` document.
#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    generated_at: String,
    partner: Partner<'a>,
    complete: bool,
    totals: Totals,
    fleet_firmware: FirmwareRecord,
    clients: Vec<ClientRecord<'a>>,
    license_pool: Option<Vec<PoolRecord<'a>>>,
    license_pool_error: Option<&'a FactError>,
}

/// `--json`: one document, its `clients` one record per client.
pub fn json(audit: &Audit, view: View) -> String {
    let pool = audit.pool.as_ref().ok().map(|lines| {
        (lines.iter())
            .map(|l| PoolRecord {
                product_code: &l.product,
                display_name: l.display_name.as_deref(),
                unassigned: l.unassigned,
                needed: l.needed,
                short: l.short(),
            })
            .collect()
    });
    let document = Document {
        schema_version: SCHEMA_VERSION,
        generated_at: audit.generated_at.to_rfc3339(),
        partner: Partner {
            base_url: &audit.base_url,
        },
        complete: audit.complete(),
        totals: Totals(audit.totals()),
        fleet_firmware: audit.fleet_firmware().into(),
        clients: view.clients(audit).map(ClientRecord).collect(),
        license_pool: pool,
        license_pool_error: audit.pool.as_ref().err(),
    };
    pretty(&document)
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

fn pretty(document: &impl Serialize) -> String {
    let mut text = serde_json::to_string_pretty(document).expect("the records serialize");
    text.push('\n');
    text
}

/// `--csv`: a header line, then one line per client, its fields those of
/// the JSON record (`errors` as one text: `facts: kind (HTTP status):
/// message`, joined by ` | `). A text cell that a spreadsheet would run as
/// a formula (it starts with `=`, `+`, `-`, `@`, a tab or a carriage
/// return) gets a leading `'`: names come from the server, and a client
/// names itself.
pub fn csv(audit: &Audit, view: View) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = ["client_uuid", "client_name", "complete"]
        .into_iter()
        .chain(FACTS.iter().map(|s| s.field))
        .chain(["errors"]);
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
            .chain([inert(&errors_text(client))]);
        writer.write_record(record).expect("writing to memory");
    }
    let bytes = writer.into_inner().expect("writing to memory succeeds");
    String::from_utf8(bytes).expect("the records are UTF-8")
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

const NAME_WIDTH: usize = 30;

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
    let header = cells(view, "client", |s| s.header.to_owned());
    let rule = "-".repeat(header.len());
    let _ = writeln!(out, "{header}\n{rule}");
    let mut notes = Vec::new();
    for client in view.clients(audit) {
        let mut line = cells(view, &cut(&client.name), |s| match client.value(s.fact) {
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
    let sums = cells(view, &format!("total ({total} clients)"), |s| {
        let total = totals.iter().find(|t| t.fact == s.fact);
        total.map_or(0, |t| t.sum).to_string()
    });
    let _ = writeln!(out, "{rule}\n{sums}");
    fleet_firmware(&mut out, &audit.fleet_firmware());
    legend(&mut out, view);
    footnotes(&mut out, &notes, &totals, view);
    pool(&mut out, audit);
    out
}

/// A row: the name, then a cell per column, each as wide as its header.
fn cells(view: View, name: &str, cell: impl Fn(&FactSpec) -> String) -> String {
    let mut line = format!("{name:<NAME_WIDTH$}");
    for spec in view.columns() {
        let width = spec.header.len().max(5);
        let _ = write!(line, " {:>width$}", cell(spec));
    }
    line
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
    if !view.wide {
        let _ = writeln!(out, "  (--wide shows every column)");
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

/// The name cut to the column, with an ellipsis when it is longer.
fn cut(text: &str) -> String {
    let text = printable(text);
    if text.chars().count() <= NAME_WIDTH {
        text
    } else {
        text.chars().take(NAME_WIDTH - 1).chain(['…']).collect()
    }
}

/// The text with control characters escaped (`\u{1b}`): names and errors
/// come from the server, and a terminal would obey them.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| match c.is_control() {
            true => c.escape_unicode().to_string(),
            false => c.to_string(),
        })
        .collect()
}
