//! `/`: the last audit as one HTML page for a wall screen. Clients with
//! something to do come first; what changed since the audit served before
//! is marked. No script: the page reloads itself (`<meta refresh>`). Every
//! text from the server (client names, errors) goes through maud, which
//! escapes what it interpolates.

use std::collections::BTreeMap;

use maud::{DOCTYPE, Markup, html};

use super::{Served, Snapshot};
use crate::audit::{Audit, ClientAudit};
use crate::diff::{self, Change, What};
use crate::diff_output::line;
use crate::facts::{FACTS, FactSpec};

/// What changed from `previous` to `current`: the changes
/// `rhombus-audit diff` finds between the two (its rules, one
/// implementation), each client's in the diff's order. Two audits of one
/// serve name one partner; if the listing ever named another, nothing is
/// marked rather than a wrong change.
pub fn changes_since(previous: &Audit, current: &Audit) -> Vec<Change> {
    let (old, new) = (diff::Snapshot::of(previous), diff::Snapshot::of(current));
    diff::diff(&old, &new, diff::Rules::default()).map_or_else(|_| Vec::new(), |d| d.changes)
}

/// The whole page.
pub fn render(snapshot: &Snapshot) -> String {
    let refresh = snapshot.interval.as_secs().clamp(5, 300);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="refresh" content=(refresh);
                title { "rhombus-audit" }
                style { (STYLE) }
            }
            body {
                h1 { "Rhombus fleet audit" }
                (status(snapshot))
                @if let Some(served) = &snapshot.served {
                    @if served.changes.as_ref().is_some_and(|c| !c.is_empty()) {
                        p { span.mark { "● " } "changed since the audit served before (what changed: the last column)" }
                    }
                    (clients(served))
                    (removed(served))
                }
            }
        }
    }
    .into_string()
}

const STYLE: &str = "body{font-family:sans-serif;background:#111;color:#eee;margin:1em}\
table{border-collapse:collapse;width:100%}th,td{padding:.3em .6em;border-bottom:1px solid #333;\
text-align:right}th:first-child,td:first-child{text-align:left}\
tr.problem td:first-child{border-left:.4em solid #e44}tr.changed{background:#332}\
.unknown{color:#fa0}.bad{color:#f66;font-weight:bold}td.what{text-align:left;color:#ff0}\
.failed{background:#611;padding:.5em}.mark{color:#ff0}td.unknown{text-align:left}";

/// When the audit served finished, and whether the last one failed.
fn status(snapshot: &Snapshot) -> Markup {
    let failure = (snapshot.last_attempt.as_ref())
        .and_then(|last| Some((last.finished_at, last.failure.as_ref()?)));
    html! {
        @match &snapshot.served {
            None => p { "No audit has finished yet: the first one is running." },
            Some(served) => p {
                "Audit of " (served.finished_at.format("%Y-%m-%d %H:%M:%S UTC"))
                " (" (served.audit.clients.len()) " clients, "
                (format!("{:.1}", served.duration.as_secs_f64())) " s); next every "
                (humantime::format_duration(snapshot.interval)) "."
            },
        }
        @if let Some((at, failure)) = failure {
            p.failed {
                "The audit of " (at.format("%Y-%m-%d %H:%M:%S UTC")) " failed ("
                (failure.kind.name()) "): " (failure.message)
                @if snapshot.served.is_some() { " The page shows the last audit that succeeded." }
            }
        }
    }
}

/// The facts the page shows: the table's default columns.
fn columns() -> impl Iterator<Item = &'static FactSpec> {
    FACTS.iter().filter(|s| s.default)
}

/// The clients' table: those with something to do first, then by name.
fn clients(served: &Served) -> Markup {
    let mut rows: Vec<&ClientAudit> = served.audit.clients.iter().collect();
    rows.sort_by_cached_key(|c| (!c.has_problem(), c.name.to_lowercase(), c.uuid.clone()));
    let mut changed: BTreeMap<&str, Vec<&What>> = BTreeMap::new();
    for change in served.changes.iter().flatten() {
        changed
            .entry(change.client_uuid.as_str())
            .or_default()
            .push(&change.what);
    }
    html! {
        table {
            thead { tr {
                th { "client" }
                @for spec in columns() { th { (spec.header) } }
                th { "not read" }
                th { "changed" }
            } }
            tbody {
                @for client in rows {
                    (row(client, changed.get(client.uuid.as_str()).map_or(&[][..], Vec::as_slice)))
                }
            }
        }
    }
}

/// One client's row; `changes`: what changed of it since the audit
/// served before.
fn row(client: &ClientAudit, changes: &[&What]) -> Markup {
    let mut class = Vec::new();
    if client.has_problem() {
        class.push("problem");
    }
    if !changes.is_empty() {
        class.push("changed");
    }
    let added = changes.iter().any(|what| matches!(what, What::ClientAdded));
    html! {
        tr class=(class.join(" ")) {
            td {
                @if !changes.is_empty() { span.mark { "● " } }
                (client.name)
                @if added { " (new)" }
            }
            @for spec in columns() {
                td {
                    @match client.value(spec.fact) {
                        Some(n) if spec.problem && n > 0 => span.bad { (n) },
                        Some(n) => (n),
                        None => span.unknown { "?" },
                    }
                }
            }
            td.unknown {
                @for (facts, error) in client.errors() {
                    div { (facts.len()) " fact(s), " (error.kind.name()) ": " (error.message) }
                }
            }
            td.what {
                @for what in changes.iter().filter(|w| !matches!(w, What::ClientAdded)) {
                    div { (line(what)) }
                }
            }
        }
    }
}

/// The clients the previous audit had and this one has not.
fn removed(served: &Served) -> Markup {
    let gone: Vec<&str> = (served.changes.iter().flatten())
        .filter(|change| matches!(change.what, What::ClientRemoved))
        .map(|change| change.client_name.as_str())
        .collect();
    html! {
        @if !gone.is_empty() {
            p.changed { "No longer listed since the previous audit: " (gone.join(", ")) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Reading;
    use crate::facts::Fact;

    fn client(uuid: &str, name: &str, offline: Reading) -> ClientAudit {
        let mut facts: BTreeMap<Fact, Reading> = FACTS.iter().map(|s| (s.fact, Ok(0))).collect();
        facts.insert(Fact::CamerasOffline, offline);
        ClientAudit {
            uuid: uuid.into(),
            name: name.into(),
            facts,
            needs: BTreeMap::new(),
            firmware: None,
            problem_devices: Vec::new(),
        }
    }

    fn audit(clients: Vec<ClientAudit>) -> Audit {
        Audit {
            generated_at: chrono::Utc::now(),
            base_url: String::new(),
            clients,
            pool: Ok(Vec::new()),
            interrupted: false,
            not_audited: Vec::new(),
            clients_selected: None,
            partner_org: None,
        }
    }

    #[test]
    fn the_page_marks_changed_new_and_gone_clients_and_escapes_names() {
        let refused = crate::facts::FactError::missing("op", "field");
        let previous = audit(vec![
            client("b", "B", Ok(2)),
            client("gone", "Gone <i>", Ok(0)),
        ]);
        let current = audit(vec![
            client("b", "B", Err(refused)),
            client("new", "<b>New</b>", Ok(0)),
        ]);
        let changes = changes_since(&previous, &current);
        assert!(changes_since(&current, &current).is_empty());
        let mut snapshot = Snapshot::new(std::time::Duration::from_secs(60));
        snapshot.served = Some(std::sync::Arc::new(Served {
            audit: current,
            finished_at: chrono::Utc::now(),
            duration: std::time::Duration::from_secs(1),
            counts: Default::default(),
            changes: Some(changes),
        }));
        let page = render(&snapshot);
        // The diff's words, in the client's row.
        assert!(page.contains("● "), "{page}");
        assert!(
            page.contains("known before, unknown now: cameras_offline"),
            "{page}"
        );
        assert!(page.contains("&lt;b&gt;New&lt;/b&gt; (new)"));
        assert!(page.contains("No longer listed since the previous audit: Gone &lt;i&gt;"));
        assert!(!page.contains("<b>New") && !page.contains("<script"));
        assert!(page.contains(r#"<meta http-equiv="refresh" content="60">"#));
        snapshot.interval = std::time::Duration::from_secs(3600);
        assert!(
            render(&snapshot).contains(r#"content="300""#),
            "at least every 5 minutes"
        );
    }
}
