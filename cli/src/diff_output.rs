//! The diff ([`crate::diff`]) as a table for people and as one JSON
//! document for programs. Neither prints: the command does.

use std::fmt::Write as _;

use serde::Serialize;

use crate::devices::{Problem, UNNAMED};
use crate::diff::{Change, DIFF_SCHEMA_VERSION, Diff, Partner, What};
use crate::facts::ErrorKind;
use crate::output::printable;

/// The diff's `--json` document.
#[derive(Serialize)]
struct Document<'a> {
    diff_schema_version: u32,
    old_generated_at: &'a str,
    new_generated_at: &'a str,
    partner: &'a Partner,
    alerts_threshold_percent: u32,
    changes: &'a [Change],
}

/// `--json`: one document, `changes` one record per change.
pub fn json(diff: &Diff) -> String {
    let document = Document {
        diff_schema_version: DIFF_SCHEMA_VERSION,
        old_generated_at: &diff.old_generated_at,
        new_generated_at: &diff.new_generated_at,
        partner: &diff.partner,
        alerts_threshold_percent: diff.rules.alerts_threshold_percent,
        changes: &diff.changes,
    };
    let mut text = serde_json::to_string_pretty(&document).expect("the diff serializes");
    text.push('\n');
    text
}

/// The table: nothing at all when nothing changed (as `diff` prints
/// nothing); else a title, then each client's name and UUID with a line
/// per change.
pub fn table(diff: &Diff) -> String {
    let mut out = String::new();
    if diff.changes.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "Changes from the audit of {} to that of {}:",
        printable(&diff.old_generated_at),
        printable(&diff.new_generated_at)
    );
    let mut client: Option<(&str, &str)> = None;
    for change in &diff.changes {
        let this = (change.client_uuid.as_str(), change.client_name.as_str());
        if client != Some(this) {
            let _ = writeln!(out, "\n{} ({})", printable(this.1), printable(this.0));
            client = Some(this);
        }
        let _ = writeln!(out, "  {}", line(&change.what));
    }
    out
}

/// A change in words.
pub fn line(what: &What) -> String {
    match what {
        What::ClientAdded => "client added".to_owned(),
        What::ClientRemoved => "client removed (no longer in the listing)".to_owned(),
        What::ClientRenamed { old_name } => format!("renamed (was {})", printable(old_name)),
        What::AccessRefused => "now refuses partner access (every call forbidden)".to_owned(),
        What::AccessRestored => "lets the partner in again".to_owned(),
        What::FactsUnknown {
            facts,
            kind,
            status,
            message,
        } => format!(
            "known before, unknown now: {} ({})",
            facts.join(", "),
            reason(*kind, *status, message.as_deref())
        ),
        What::FactsKnown { facts } => {
            format!("unknown before, known now: {}", facts.join(", "))
        }
        What::Device {
            device,
            started,
            stopped,
            healthy,
        } => {
            let name = device.name.as_deref().map_or(UNNAMED.to_owned(), printable);
            let mut said = Vec::new();
            if !started.is_empty() {
                said.push(format!("now {}", names(started)));
            }
            if *healthy {
                said.push(format!("back to health (was {})", names(stopped)));
            } else if !stopped.is_empty() {
                said.push(format!("no longer {}", names(stopped)));
            }
            let uuid = printable(&device.uuid);
            format!(
                "{} {name} ({uuid}): {}",
                device.kind.name(),
                said.join("; ")
            )
        }
        What::LicensesEnding { old, new } => {
            format!("licenses ending within 30 days: {old} -> {new}")
        }
        What::PolicyAlerts { old, new } => {
            format!("policy alerts of the last 7 days: {old} -> {new}")
        }
    }
}

fn names(problems: &[Problem]) -> String {
    let names: Vec<&str> = problems.iter().map(|p| p.name()).collect();
    names.join(", ")
}

/// Why facts are unknown now: `kind (HTTP status): message`.
fn reason(kind: Option<ErrorKind>, status: Option<u16>, message: Option<&str>) -> String {
    let kind = kind.map_or("no reason given", ErrorKind::name);
    let status = status.map_or(String::new(), |s| format!(" (HTTP {s})"));
    let message = message.map_or(String::new(), |m| format!(": {}", printable(m)));
    format!("{kind}{status}{message}")
}
