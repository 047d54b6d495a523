//! `/`: the last audit as one HTML page for a wall screen. Clients with
//! something to do come first; what changed since the audit served before
//! is marked. No script: the page reloads itself (`<meta refresh>`). Every
//! text from the server (client names, errors) goes through maud, which
//! escapes what it interpolates.

use std::collections::BTreeMap;

use maud::{DOCTYPE, Markup, html};

use super::{Served, Snapshot};
use crate::audit::{Audit, ClientAudit};
use crate::facts::{FACTS, Fact, FactSpec};

/// What changed for one client between two audits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientChange {
    /// Not in the previous audit.
    Added { uuid: String, name: String },
    /// Gone from the listing since the previous audit.
    Removed { uuid: String, name: String },
    /// Facts whose reading changed: `(fact, before, now)`, `None` for not
    /// read.
    Changed {
        uuid: String,
        facts: Vec<(Fact, Option<u64>, Option<u64>)>,
    },
}

/// What changed per client from `previous` to `current`, comparing each
/// fact's reading (a count, or not read). Clients are matched by UUID.
// The `diff` subcommand's module compares audits in depth; this one
// function is what the page needs, to be switched to it.
pub fn changed_clients(previous: &Audit, current: &Audit) -> Vec<ClientChange> {
    let before: BTreeMap<&str, &ClientAudit> = (previous.clients.iter())
        .map(|c| (c.uuid.as_str(), c))
        .collect();
    let mut changes = Vec::new();
    for client in &current.clients {
        let Some(old) = before.get(client.uuid.as_str()) else {
            changes.push(ClientChange::Added {
                uuid: client.uuid.clone(),
                name: client.name.clone(),
            });
            continue;
        };
        let facts: Vec<_> = (FACTS.iter())
            .map(|s| (s.fact, old.value(s.fact), client.value(s.fact)))
            .filter(|(_, was, is)| was != is)
            .collect();
        if !facts.is_empty() {
            changes.push(ClientChange::Changed {
                uuid: client.uuid.clone(),
                facts,
            });
        }
    }
    let now: std::collections::BTreeSet<&str> =
        current.clients.iter().map(|c| c.uuid.as_str()).collect();
    for old in &previous.clients {
        if !now.contains(old.uuid.as_str()) {
            changes.push(ClientChange::Removed {
                uuid: old.uuid.clone(),
                name: old.name.clone(),
            });
        }
    }
    changes
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
                        p { span.mark { "● " } "changed since the audit served before (was: the count then)" }
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
.unknown{color:#fa0}.bad{color:#f66;font-weight:bold}.was{color:#999;font-size:.8em}\
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
    let changed: BTreeMap<&str, &ClientChange> = (served.changes.iter().flatten())
        .filter_map(|change| match change {
            ClientChange::Added { uuid, .. } | ClientChange::Changed { uuid, .. } => {
                Some((uuid.as_str(), change))
            }
            ClientChange::Removed { .. } => None,
        })
        .collect();
    html! {
        table {
            thead { tr {
                th { "client" }
                @for spec in columns() { th { (spec.header) } }
                th { "not read" }
            } }
            tbody {
                @for client in rows {
                    (row(client, changed.get(client.uuid.as_str()).copied()))
                }
            }
        }
    }
}

fn row(client: &ClientAudit, change: Option<&ClientChange>) -> Markup {
    let mut class = Vec::new();
    if client.has_problem() {
        class.push("problem");
    }
    if change.is_some() {
        class.push("changed");
    }
    let was = |fact: Fact| match change {
        Some(ClientChange::Changed { facts, .. }) => (facts.iter())
            .find(|(f, _, _)| *f == fact)
            .map(|(_, was, _)| was.map_or("?".to_owned(), |n| n.to_string())),
        _ => None,
    };
    html! {
        tr class=(class.join(" ")) {
            td {
                @if change.is_some() { span.mark { "● " } }
                (client.name)
                @if matches!(change, Some(ClientChange::Added { .. })) { " (new)" }
            }
            @for spec in columns() {
                td {
                    @match client.value(spec.fact) {
                        Some(n) if spec.problem && n > 0 => span.bad { (n) },
                        Some(n) => (n),
                        None => span.unknown { "?" },
                    }
                    @if let Some(was) = was(spec.fact) { " " span.was { "was " (was) } }
                }
            }
            td.unknown {
                @for (facts, error) in client.errors() {
                    div { (facts.len()) " fact(s), " (error.kind.name()) ": " (error.message) }
                }
            }
        }
    }
}

/// The clients the previous audit had and this one has not.
fn removed(served: &Served) -> Markup {
    let gone: Vec<&str> = (served.changes.iter().flatten())
        .filter_map(|change| match change {
            ClientChange::Removed { name, .. } => Some(name.as_str()),
            _ => None,
        })
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

    fn client(uuid: &str, name: &str, offline: Reading) -> ClientAudit {
        let mut facts: BTreeMap<Fact, Reading> = FACTS.iter().map(|s| (s.fact, Ok(0))).collect();
        facts.insert(Fact::CamerasOffline, offline);
        ClientAudit {
            uuid: uuid.into(),
            name: name.into(),
            facts,
            needs: BTreeMap::new(),
            firmware: None,
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
        }
    }

    #[test]
    fn a_changed_count_a_fact_no_longer_read_and_clients_come_and_gone_are_changes() {
        let refused = crate::facts::FactError::missing("op", "field");
        let previous = audit(vec![
            client("a", "A", Ok(1)),
            client("b", "B", Ok(2)),
            client("c", "C", Ok(0)),
            client("gone", "Gone", Ok(0)),
        ]);
        let current = audit(vec![
            client("a", "A", Ok(1)),
            client("b", "B", Ok(3)),
            client("c", "C", Err(refused)),
            client("new", "New", Ok(0)),
        ]);
        let changes = changed_clients(&previous, &current);
        assert_eq!(
            changes,
            [
                ClientChange::Changed {
                    uuid: "b".into(),
                    facts: vec![(Fact::CamerasOffline, Some(2), Some(3))]
                },
                ClientChange::Changed {
                    uuid: "c".into(),
                    facts: vec![(Fact::CamerasOffline, Some(0), None)]
                },
                ClientChange::Added {
                    uuid: "new".into(),
                    name: "New".into()
                },
                ClientChange::Removed {
                    uuid: "gone".into(),
                    name: "Gone".into()
                },
            ]
        );
        assert!(changed_clients(&current, &current).is_empty());
    }

    #[test]
    fn the_page_marks_changed_new_and_gone_clients_and_escapes_names() {
        let previous = audit(vec![
            client("b", "B", Ok(2)),
            client("gone", "Gone <i>", Ok(0)),
        ]);
        let current = audit(vec![
            client("b", "B", Ok(3)),
            client("new", "<b>New</b>", Ok(0)),
        ]);
        let changes = changed_clients(&previous, &current);
        let mut snapshot = Snapshot::new(std::time::Duration::from_secs(60));
        snapshot.served = Some(std::sync::Arc::new(Served {
            audit: current,
            finished_at: chrono::Utc::now(),
            duration: std::time::Duration::from_secs(1),
            counts: Default::default(),
            changes: Some(changes),
        }));
        let page = render(&snapshot);
        assert!(page.contains("was 2") && page.contains("● "), "{page}");
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
