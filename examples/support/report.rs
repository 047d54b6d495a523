//! The partner report: every client organization with its locations,
//! device counts, recent policy alerts and the licenses that need a
//! decision, gathered concurrently and rendered as one table.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};

use chrono::{DateTime, Duration, Utc};
use rhombus_partner::types::{
    DeviceLicenseType, LicenseGetDeviceLicensesForClientOrgWsRequest,
    PartnerGetClientSummaryInfoWsRequest, PartnerGetPartnerClientsWsRequest,
};
use rhombus_partner::{Client, Error};
use tokio::task::JoinSet;

/// Licenses ending within this many days are listed.
pub const EXPIRY_WINDOW_DAYS: i64 = 30;
/// With more clients than this, progress is shown on stderr.
pub const PROGRESS_ABOVE: usize = 8;

/// What the report says about one client organization.
#[derive(Debug)]
pub struct ClientRow {
    pub name: String,
    pub uuid: String,
    pub outcome: Result<ClientFacts, String>,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct ClientFacts {
    pub locations: i64,
    pub connected: i64,
    pub operational: i64,
    pub total: i64,
    pub policy_alerts: i64,
    pub flagged: Vec<FlaggedLicense>,
}

/// A license that needs a decision: a trial, or one ending soon.
#[derive(Debug, Clone, PartialEq)]
pub struct FlaggedLicense {
    pub product: String,
    pub device: String,
    pub trial: bool,
    /// The license's end (`maxDeleteDate`), when it falls in the window.
    pub ends: Option<DateTime<Utc>>,
}

/// The whole report.
#[derive(Debug)]
pub struct Report {
    pub generated: DateTime<Utc>,
    /// Sorted by client name.
    pub rows: Vec<ClientRow>,
}

/// Lists the partner's clients and gathers each one's facts. Every call
/// runs at once; the client's in-flight limit (`max_concurrent_requests`)
/// holds them to what it allows. A client whose calls fail gets an error
/// row; the others are reported all the same.
/// `progress(done, total)` is called as each client is done, when there
/// are more than [`PROGRESS_ABOVE`].
pub async fn gather(
    client: &Client,
    now: DateTime<Utc>,
    mut progress: impl FnMut(usize, usize),
) -> Result<Report, Error> {
    let listing = client
        .checked()
        .get_partner_clients(&PartnerGetPartnerClientsWsRequest::default())
        .await?
        .into_inner();
    let clients: Vec<(String, String)> = listing
        .clients
        .unwrap_or_default()
        .into_iter()
        .filter_map(|c| {
            let uuid = c.client_org_uuid?;
            Some((c.client_org_name.unwrap_or_else(|| uuid.clone()), uuid))
        })
        .collect();

    let mut tasks = JoinSet::new();
    for (name, uuid) in clients.iter().cloned() {
        let client = client.clone();
        tasks.spawn(async move {
            let outcome = facts(&client, &uuid, now).await;
            ClientRow {
                name,
                uuid,
                outcome,
            }
        });
    }
    let show_progress = clients.len() > PROGRESS_ABOVE;
    let mut rows = Vec::with_capacity(clients.len());
    while let Some(row) = tasks.join_next().await {
        rows.push(row.expect("a report task panicked"));
        if show_progress {
            progress(rows.len(), clients.len());
        }
    }
    rows.sort_by_key(|row| row.name.to_lowercase());
    Ok(Report {
        generated: now,
        rows,
    })
}

/// One client's summary and licenses, both asked for at once: partner-level
/// calls, which name the client in their bodies (no `x-auth-org`).
async fn facts(partner: &Client, org: &str, now: DateTime<Utc>) -> Result<ClientFacts, String> {
    let summary_request = PartnerGetClientSummaryInfoWsRequest::default().with_client_org_uuid(org);
    let licenses_request =
        LicenseGetDeviceLicensesForClientOrgWsRequest::default().with_org_uuid(org);
    let checked = partner.checked();
    let (summary, licenses) = tokio::join!(
        checked.get_client_summary_info(&summary_request),
        checked.get_device_licenses_for_org(&licenses_request),
    );
    let describe = |e: Error| e.to_string();
    let summary = summary.map_err(describe)?.into_inner();
    let licenses = licenses.map_err(describe)?.into_inner();

    let mut facts = ClientFacts {
        locations: summary.location_count.unwrap_or(0).into(),
        policy_alerts: summary.recent_policy_alert_count.unwrap_or(0).into(),
        ..ClientFacts::default()
    };
    for counts in summary
        .client_device_status_map
        .iter()
        .flat_map(|m| m.values())
    {
        facts.connected += i64::from(counts.connected_count.unwrap_or(0));
        facts.operational += i64::from(counts.operational_count.unwrap_or(0));
        facts.total += i64::from(counts.total_count.unwrap_or(0));
    }
    let window_end = now + Duration::days(EXPIRY_WINDOW_DAYS);
    facts.flagged = licenses
        .device_licenses
        .unwrap_or_default()
        .iter()
        .filter_map(|license| flag(license, window_end))
        .collect();
    Ok(facts)
}

fn flag(license: &DeviceLicenseType, window_end: DateTime<Utc>) -> Option<FlaggedLicense> {
    let trial = license.trial == Some(true);
    let ends = license.max_delete_date.filter(|end| *end <= window_end);
    (trial || ends.is_some()).then(|| FlaggedLicense {
        product: license.product_code.clone().unwrap_or_else(|| "?".into()),
        device: license
            .device_uuid
            .clone()
            .unwrap_or_else(|| "(unassigned)".into()),
        trial,
        ends,
    })
}

impl Report {
    /// Sum of every reported client's facts.
    pub fn totals(&self) -> ClientFacts {
        let mut sum = ClientFacts::default();
        for facts in self.rows.iter().filter_map(|r| r.outcome.as_ref().ok()) {
            sum.locations += facts.locations;
            sum.connected += facts.connected;
            sum.operational += facts.operational;
            sum.total += facts.total;
            sum.policy_alerts += facts.policy_alerts;
            sum.flagged.extend(facts.flagged.iter().cloned());
        }
        sum
    }

    pub fn failed(&self) -> usize {
        self.rows.iter().filter(|r| r.outcome.is_err()).count()
    }

    /// The table, the totals, the failures and the licenses to act on.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let date = self.generated.date_naive();
        let _ = writeln!(
            out,
            "Partner report, {date}: {} client organizations\n",
            self.rows.len()
        );
        let header = format!(
            "{:<30} {:>9} {:>9} {:>11} {:>7} {:>6} {:>7} {:>8}",
            "client",
            "locations",
            "connected",
            "operational",
            "devices",
            "alerts",
            "trials",
            "ending"
        );
        let _ = writeln!(out, "{header}\n{}", "-".repeat(header.len()));
        let line = |out: &mut String, name: &str, f: &ClientFacts| {
            let trials = f.flagged.iter().filter(|l| l.trial).count();
            let ending = f.flagged.iter().filter(|l| l.ends.is_some()).count();
            let _ = writeln!(
                out,
                "{:<30} {:>9} {:>9} {:>11} {:>7} {:>6} {:>7} {:>8}",
                truncate(name, 30),
                f.locations,
                f.connected,
                f.operational,
                f.total,
                f.policy_alerts,
                trials,
                ending
            );
        };
        for row in &self.rows {
            match &row.outcome {
                Ok(facts) => line(&mut out, &row.name, facts),
                Err(error) => {
                    let _ = writeln!(out, "{:<30} error: {error}", truncate(&row.name, 30));
                }
            }
        }
        let _ = writeln!(out, "{}", "-".repeat(header.len()));
        let reported = self.rows.len() - self.failed();
        line(
            &mut out,
            &format!("total ({reported} reported)"),
            &self.totals(),
        );
        if self.failed() > 0 {
            let _ = writeln!(
                out,
                "\n{} client(s) could not be reported; their error is on their row.",
                self.failed()
            );
        }

        let _ = writeln!(
            out,
            "\nLicenses to act on (trials, or ending within {EXPIRY_WINDOW_DAYS} days):"
        );
        let mut flagged: Vec<(&str, &FlaggedLicense)> = self
            .rows
            .iter()
            .filter_map(|r| Some((r.name.as_str(), r.outcome.as_ref().ok()?)))
            .flat_map(|(name, f)| f.flagged.iter().map(move |l| (name, l)))
            .collect();
        // Soonest end first; trials without an end in the window last.
        flagged.sort_by_key(|(name, l)| (l.ends.is_none(), l.ends, *name));
        if flagged.is_empty() {
            let _ = writeln!(out, "  none");
        }
        for (name, license) in flagged {
            let when = match license.ends {
                Some(end) => {
                    let days = (end - self.generated).num_days();
                    format!("ends {} (in {days} days)", end.date_naive())
                }
                None => "ends later".to_owned(),
            };
            let _ = writeln!(
                out,
                "  {:<30} {:<14} {:<6} {:<26} device {}",
                truncate(name, 30),
                license.product,
                if license.trial { "trial" } else { "" },
                when,
                license.device
            );
        }
        out
    }
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        text.chars().take(width - 1).chain(['…']).collect()
    }
}

/// Progress on stderr: one line rewritten in place on a terminal, only the
/// last count otherwise (a log keeps one line, not one per client).
pub fn progress_on_stderr(done: usize, total: usize) {
    let mut stderr = std::io::stderr();
    if stderr.is_terminal() {
        let _ = write!(stderr, "\rchecked {done}/{total} clients");
        if done == total {
            let _ = writeln!(stderr);
        }
        let _ = stderr.flush();
    } else if done == total {
        let _ = writeln!(stderr, "checked {done}/{total} clients");
    }
}
