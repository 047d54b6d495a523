//! `/metrics`: the last audit served, and how the audits went, as metric
//! families (the README's "serve" section lists them).
//!
//! A fact not read has no sample: a gauge at 0 would say "nothing to do".
//! It has a sample in `rhombus_audit_client_fact_unknown` instead, with
//! the kind of error, so that an alert can tell "none offline" from "not
//! known".

use super::exposition::{Exposition, Format, Kind};
use super::{Served, Snapshot};
use crate::facts::{ErrorKind, FACTS};

/// Every metric's name starts with this.
pub const PREFIX: &str = "rhombus_audit_";

/// The exposition of `snapshot` in `format`.
pub fn render(snapshot: &Snapshot, format: Format) -> String {
    let mut out = Exposition::new(format);
    audits(&mut out, snapshot);
    if let Some(served) = &snapshot.served {
        served_audit(&mut out, served);
        client_facts(&mut out, served);
        unknown_facts(&mut out, served);
        pool(&mut out, served);
    }
    out.finish()
}

fn name(suffix: &str) -> String {
    format!("{PREFIX}{suffix}")
}

/// Seconds since the epoch, as the timestamps' gauges give them.
fn seconds(at: chrono::DateTime<chrono::Utc>) -> f64 {
    at.timestamp_millis() as f64 / 1000.0
}

/// How the audits went: counted, the last one's outcome, and when.
fn audits(out: &mut Exposition, snapshot: &Snapshot) {
    out.family(
        &name("audits"),
        Kind::Counter,
        "Audits finished since the start, by result: success (served, even with facts \
         unknown) or failure (nothing served from it: the client listing was not read).",
    )
    .sample(&[("result", "success")], snapshot.successes)
    .sample(&[("result", "failure")], snapshot.failures);
    let Some(last) = &snapshot.last_attempt else {
        return;
    };
    let success = u64::from(last.failure.is_none());
    out.family(
        &name("last_audit_success"),
        Kind::Gauge,
        "1 if the last audit finished succeeded and is the one served, 0 if it failed and \
         an older one (or none) is served.",
    )
    .sample(&[], success);
    out.family(
        &name("last_audit_timestamp_seconds"),
        Kind::Gauge,
        "When the last audit finished, successful or not (Unix time).",
    )
    .sample(&[], seconds(last.finished_at));
    if let Some(failure) = &last.failure {
        out.family(
            &name("last_audit_failure"),
            Kind::Gauge,
            "1, labelled by why the last audit failed (an error kind, as the records name \
             them).",
        )
        .sample(&[("kind", failure.kind.name())], 1u64);
    }
}

/// The audit served: when, how long, what it took.
fn served_audit(out: &mut Exposition, served: &Served) {
    let gauges: [(&str, &str, f64); 7] = [
        (
            "last_success_timestamp_seconds",
            "When the audit served finished (Unix time).",
            seconds(served.finished_at),
        ),
        (
            "duration_seconds",
            "How long the audit served took.",
            served.duration.as_secs_f64(),
        ),
        (
            "requests",
            "HTTP requests the audit served sent (each attempt of each call).",
            served.counts.requests as f64,
        ),
        (
            "retries",
            "Requests the audit served sent again after a failed attempt.",
            served.counts.retries as f64,
        ),
        (
            "rate_limited_responses",
            "Answers with status 429 the audit served got.",
            served.counts.rate_limited as f64,
        ),
        (
            "clients",
            "Clients in the audit served.",
            served.audit.clients.len() as f64,
        ),
        (
            "clients_incomplete",
            "Clients of the audit served with at least one fact unknown.",
            served.audit.incomplete() as f64,
        ),
    ];
    for (suffix, help, value) in gauges {
        out.family(&name(suffix), Kind::Gauge, help)
            .sample(&[], value);
    }
}

/// One family per fact, a sample per client whose fact was read; and each
/// client's completeness.
fn client_facts(out: &mut Exposition, served: &Served) {
    for spec in FACTS {
        let help = format!(
            "{} per client: {}, from {}. No sample when not read (see {PREFIX}client_fact_unknown).",
            spec.field,
            spec.counts.replace('`', ""),
            spec.source.operation(),
        );
        let mut family = out.family(&name(&format!("client_{}", spec.field)), Kind::Gauge, &help);
        for client in &served.audit.clients {
            if let Some(value) = client.value(spec.fact) {
                family.sample(&client_labels(client), value);
            }
        }
    }
    let mut complete = out.family(
        &name("client_complete"),
        Kind::Gauge,
        "1 if every fact of the client was read, else 0.",
    );
    for client in &served.audit.clients {
        complete.sample(&client_labels(client), u64::from(client.complete()));
    }
}

fn client_labels(client: &crate::audit::ClientAudit) -> [(&'static str, &str); 2] {
    [("client_uuid", &client.uuid), ("client_name", &client.name)]
}

/// The facts not read: one sample per client and fact, with the error's
/// kind; and their number by kind, over the fleet.
fn unknown_facts(out: &mut Exposition, served: &Served) {
    let mut by_kind = [0u64; ErrorKind::ALL.len()];
    let mut family = out.family(
        &name("client_fact_unknown"),
        Kind::Gauge,
        "1 for each fact of a client that was not read, labelled by the fact and the kind of \
         error; the fact's own gauge has no sample for that client.",
    );
    for client in &served.audit.clients {
        for spec in FACTS {
            let Some(Err(error)) = client.facts.get(&spec.fact) else {
                continue;
            };
            if let Some(n) = ErrorKind::ALL.iter().position(|k| *k == error.kind) {
                by_kind[n] += 1;
            }
            let [uuid, name] = client_labels(client);
            let labels = [
                uuid,
                name,
                ("fact", spec.field),
                ("kind", error.kind.name()),
            ];
            family.sample(&labels, 1u64);
        }
    }
    let mut totals = out.family(
        &name("unknown_facts"),
        Kind::Gauge,
        "Facts not read in the audit served (one per client and fact), by kind of error.",
    );
    for (kind, count) in ErrorKind::ALL.iter().zip(by_kind) {
        totals.sample(&[("kind", kind.name())], count);
    }
}

/// A count of a pool's line.
type PoolColumn = fn(&crate::audit::PoolLine) -> u64;

/// The license pool against the clients' needs, or why it is unknown.
fn pool(out: &mut Exposition, served: &Served) {
    let lines = match &served.audit.pool {
        Ok(lines) => lines,
        Err(error) => {
            out.family(
                &name("pool_unknown"),
                Kind::Gauge,
                "1 when the license pool was not read, labelled by the kind of error.",
            )
            .sample(&[("kind", error.kind.name())], 1u64);
            return;
        }
    };
    let columns: [(&str, &str, PoolColumn); 2] = [
        (
            "pool_unassigned",
            "Licenses in the partner's pool assigned to no client, by product.",
            |l| l.unassigned,
        ),
        (
            "pool_needed",
            "Licenses of the clients ending within 30 days or on trial, by product.",
            |l| l.needed,
        ),
    ];
    for (suffix, help, value) in columns {
        let mut family = out.family(&name(suffix), Kind::Gauge, help);
        for line in lines {
            family.sample(&[("product", &line.product)], value(line));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::audit::{Audit, ClientAudit, Reading};
    use crate::facts::{Fact, FactError};
    use crate::serve::{Failure, LastAttempt};

    /// A snapshot that writes every family: a client with a fact not
    /// read, the pool not read, the last audit failed.
    fn every_family() -> Snapshot {
        let mut facts: BTreeMap<Fact, Reading> = FACTS.iter().map(|s| (s.fact, Ok(1))).collect();
        facts.insert(
            Fact::Users,
            Err(FactError::missing("user/getUsersInOrg", "users")),
        );
        let client = ClientAudit {
            uuid: "u".into(),
            name: "n".into(),
            facts,
            needs: BTreeMap::new(),
            firmware: None,
            problem_devices: Vec::new(),
        };
        let audit = |pool| Audit {
            generated_at: chrono::Utc::now(),
            base_url: String::new(),
            clients: vec![client.clone()],
            pool,
            interrupted: false,
            not_audited: Vec::new(),
            clients_selected: None,
            partner_org: None,
        };
        let served = |pool| Served {
            audit: audit(pool),
            finished_at: chrono::Utc::now(),
            duration: Duration::from_secs(1),
            counts: Default::default(),
            changes: None,
        };
        let mut snapshot = Snapshot::new(Duration::from_secs(60));
        snapshot.served = Some(Arc::new(served(Err(FactError::missing(
            "pool", "products",
        )))));
        snapshot.last_attempt = Some(LastAttempt {
            finished_at: chrono::Utc::now(),
            failure: Some(Failure {
                kind: ErrorKind::Transport,
                message: "down".into(),
            }),
        });
        let read_pool = render(
            &Snapshot {
                served: Some(Arc::new(served(Ok(
                    vec![crate::audit::PoolLine::default()],
                )))),
                ..Snapshot::new(Duration::from_secs(60))
            },
            Format::Prometheus,
        );
        assert!(read_pool.contains("rhombus_audit_pool_unassigned{product=\"\"} 0"));
        snapshot
    }

    fn families(text: &str) -> Vec<String> {
        (text.lines())
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split(' ').next())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn a_fact_not_read_has_an_unknown_sample_and_no_gauge() {
        let text = render(&every_family(), Format::Prometheus);
        assert!(
            text.contains("rhombus_audit_client_cameras{client_uuid=\"u\",client_name=\"n\"} 1")
        );
        assert!(!text.contains("rhombus_audit_client_users{"));
        assert!(text.contains(
            "rhombus_audit_client_fact_unknown{client_uuid=\"u\",client_name=\"n\",fact=\"users\",kind=\"missing\"} 1"
        ));
        assert!(text.contains("rhombus_audit_pool_unknown{kind=\"missing\"} 1"));
        assert!(text.contains("rhombus_audit_last_audit_failure{kind=\"transport\"} 1"));
        assert!(text.contains("rhombus_audit_last_audit_success 0"));
    }

    /// The README's `serve` section names every family the exposition can
    /// have (a fact's family by the pattern and the facts' table above it).
    #[test]
    fn the_readme_names_every_metric_family() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
        let readme = std::fs::read_to_string(path).expect("the README");
        let start = readme.find("### `serve`").expect("the serve section");
        let section = &readme[start..];
        let section = &section[..section[4..].find("\n## ").map_or(section.len(), |n| n + 4)];
        let mut with_openmetrics = families(&render(&every_family(), Format::OpenMetrics));
        with_openmetrics.extend(families(&render(&every_family(), Format::Prometheus)));
        for family in with_openmetrics {
            let fact = FACTS
                .iter()
                .find(|s| family == format!("{PREFIX}client_{}", s.field));
            if fact.is_some() {
                assert!(section.contains("`rhombus_audit_client_<fact>`"));
                continue;
            }
            let family = family.trim_end_matches("_total");
            assert!(
                section.contains(&format!("`{family}")),
                "the README lacks {family}"
            );
        }
    }
}
