//! The audit as a table for people, and as JSON or CSV for tools: one
//! record per client, with the field names documented in the README
//! (`ClientRecord`), which only grow.

use std::fmt::Write as _;

use serde::Serialize;

use crate::audit::{ALERT_WINDOW_DAYS, Audit, ClientAudit, ClientFacts, LICENSE_WINDOW_DAYS};

/// One client, as `--json` and `--csv` give it. A client not audited has
/// `audited: false`, its `error`, and no counts.
#[derive(Debug, Serialize)]
pub struct ClientRecord<'a> {
    pub client_uuid: &'a str,
    pub client_name: &'a str,
    pub audited: bool,
    pub error: Option<&'a str>,
    pub cameras: Option<u64>,
    pub cameras_offline: Option<u64>,
    pub cameras_degraded: Option<u64>,
    pub cameras_unknown_status: Option<u64>,
    pub doors: Option<u64>,
    pub policy_alerts_7d: Option<u64>,
    pub users: Option<u64>,
    pub licenses_ending_30d: Option<u64>,
    pub licenses_trial: Option<u64>,
}

impl<'a> ClientRecord<'a> {
    fn new(client: &'a ClientAudit) -> ClientRecord<'a> {
        let facts = client.outcome.as_ref().ok();
        let field = |get: fn(&ClientFacts) -> u64| facts.map(get);
        ClientRecord {
            client_uuid: &client.uuid,
            client_name: &client.name,
            audited: facts.is_some(),
            error: client.outcome.as_ref().err().map(String::as_str),
            cameras: field(|f| f.cameras),
            cameras_offline: field(|f| f.cameras_offline),
            cameras_degraded: field(|f| f.cameras_degraded),
            cameras_unknown_status: field(|f| f.cameras_unknown_status),
            doors: field(|f| f.doors),
            policy_alerts_7d: field(|f| f.policy_alerts_7d),
            users: field(|f| f.users),
            licenses_ending_30d: field(|f| f.licenses_ending_30d),
            licenses_trial: field(|f| f.licenses_trial),
        }
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

/// The whole `--json` document.
#[derive(Debug, Serialize)]
struct Document<'a> {
    generated_at: String,
    complete: bool,
    clients: Vec<ClientRecord<'a>>,
    license_pool: Option<Vec<PoolRecord<'a>>>,
    license_pool_error: Option<&'a str>,
}

/// `--json`: one document, its `clients` one record per client.
pub fn json(audit: &Audit) -> String {
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
        generated_at: audit.generated_at.to_rfc3339(),
        complete: audit.complete(),
        clients: audit.clients.iter().map(ClientRecord::new).collect(),
        license_pool: pool,
        license_pool_error: audit.pool.as_ref().err().map(String::as_str),
    };
    let mut text = serde_json::to_string_pretty(&document).expect("the records serialize");
    text.push('\n');
    text
}

/// `--csv`: a header line, then one line per client. A text cell that a
/// spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`,
/// a tab or a carriage return) gets a leading `'`: names come from the
/// server, and a client names itself.
pub fn csv(audit: &Audit) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for client in &audit.clients {
        let (name, error) = (
            inert(&client.name),
            client.outcome.as_ref().err().map(|e| inert(e)),
        );
        let record = ClientRecord {
            client_name: &name,
            error: error.as_deref(),
            ..ClientRecord::new(client)
        };
        writer
            .serialize(record)
            .expect("writing to memory succeeds");
    }
    let bytes = writer.into_inner().expect("writing to memory succeeds");
    String::from_utf8(bytes).expect("the records are UTF-8")
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

/// The table: one row per client, the totals, the license pool against
/// the need, and what to do about the clients not audited.
pub fn table(audit: &Audit) -> String {
    let mut out = String::new();
    let date = audit.generated_at.format("%Y-%m-%d %H:%M UTC");
    let audited = audit.clients.len() - audit.failed();
    let _ = writeln!(
        out,
        "Fleet audit, {date}: {audited} of {} client organizations audited\n",
        audit.clients.len()
    );
    let header = format!(
        "{:<NAME_WIDTH$} {:>7} {:>7} {:>8} {:>7} {:>5} {:>10} {:>5} {:>10} {:>6}",
        "client",
        "cameras",
        "offline",
        "degraded",
        "unknown",
        "doors",
        "alerts 7d",
        "users",
        "ending 30d",
        "trial"
    );
    let rule = "-".repeat(header.len());
    let _ = writeln!(out, "{header}\n{rule}");
    for client in &audit.clients {
        match &client.outcome {
            Ok(facts) => row(&mut out, &client.name, facts),
            Err(error) => {
                let (name, error) = (cut(&client.name), printable(error));
                let _ = writeln!(out, "{name:<NAME_WIDTH$} error: {error}");
            }
        }
    }
    let _ = writeln!(out, "{rule}");
    row(
        &mut out,
        &format!("total ({audited} audited)"),
        &audit.totals(),
    );
    let _ = writeln!(
        out,
        "\nOffline: connectionStatus RED; degraded: ORANGE or YELLOW; unknown: a status this \
         version does not list. Alerts: the last {ALERT_WINDOW_DAYS} days. Ending: within \
         {LICENSE_WINDOW_DAYS} days."
    );
    pool(&mut out, audit);
    if audit.failed() > 0 {
        let _ = writeln!(
            out,
            "\n{} client(s) not audited; the reason is on their row.",
            audit.failed()
        );
    }
    out
}

fn row(out: &mut String, name: &str, f: &ClientFacts) {
    let _ = writeln!(
        out,
        "{:<NAME_WIDTH$} {:>7} {:>7} {:>8} {:>7} {:>5} {:>10} {:>5} {:>10} {:>6}",
        cut(name),
        f.cameras,
        f.cameras_offline,
        f.cameras_degraded,
        f.cameras_unknown_status,
        f.doors,
        f.policy_alerts_7d,
        f.users,
        f.licenses_ending_30d,
        f.licenses_trial
    );
}

fn pool(out: &mut String, audit: &Audit) {
    let _ = writeln!(
        out,
        "\nLicense pool (unassigned) against the licenses ending or on trial:"
    );
    let lines = match &audit.pool {
        Ok(lines) => lines,
        Err(error) => {
            let _ = writeln!(out, "  not read: {error}");
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
