//! The audit: the partner's clients, each one's facts gathered by the calls
//! made inside it, and the license pool against what the clients need.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use futures_util::StreamExt;
use rhombus_partner::areas::camera::types::{
    CameraGetMinimalCameraStateListWsRequest, DeviceStatusEnum,
};
use rhombus_partner::areas::door::types::DoorGetMinimalDoorStatesWsRequest;
use rhombus_partner::areas::event::types::EventGetPolicyAlertsV2wsRequest;
use rhombus_partner::areas::license::types::LicenseGetDeviceLicensesWsRequest;
use rhombus_partner::areas::user::types::UserGetUsersInOrgWsRequest;
use rhombus_partner::types::{
    PartnerGetPartnerClientsWsRequest, PartnerMspGetLicensePoolWsRequest,
};
use rhombus_partner::{Client, Error, OrgClient};
use tokio::task::JoinSet;

/// Policy alerts are counted over this many days back.
pub const ALERT_WINDOW_DAYS: i64 = 7;
/// Licenses ending within this many days are counted.
pub const LICENSE_WINDOW_DAYS: i64 = 30;
/// The page size asked of `getPolicyAlertsV2`.
pub const ALERT_PAGE: usize = 100;
/// A client's alerts are read over at most this many pages; a server that
/// goes on past them is reported, not followed forever.
pub const MAX_ALERT_PAGES: usize = 1_000;

/// One client's facts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientFacts {
    pub cameras: u64,
    /// `connectionStatus` `RED`.
    pub cameras_offline: u64,
    /// `ORANGE` or `YELLOW`.
    pub cameras_degraded: u64,
    /// A status the API does not list, or none.
    pub cameras_unknown_status: u64,
    pub doors: u64,
    pub policy_alerts_7d: u64,
    pub users: u64,
    pub licenses_ending_30d: u64,
    pub licenses_trial: u64,
    /// Licenses ending or on trial, by product: what the pool must cover.
    pub needs: BTreeMap<String, u64>,
}

/// One row of the audit: a client, and its facts or why there are none.
#[derive(Debug, Clone)]
pub struct ClientAudit {
    pub uuid: String,
    pub name: String,
    pub outcome: Result<ClientFacts, String>,
}

/// A product of the license pool against the clients' needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolLine {
    pub product: String,
    pub display_name: Option<String>,
    /// Licenses in the pool, assigned to no client.
    pub unassigned: u64,
    /// Licenses of the audited clients ending or on trial.
    pub needed: u64,
}

impl PoolLine {
    /// What the pool lacks to cover the need.
    pub fn short(&self) -> u64 {
        self.needed.saturating_sub(self.unassigned)
    }
}

/// The whole audit.
#[derive(Debug, Clone)]
pub struct Audit {
    pub generated_at: DateTime<Utc>,
    /// In the plan's order; see [`Audit::sort`].
    pub clients: Vec<ClientAudit>,
    /// The pool, or why it could not be read.
    pub pool: Result<Vec<PoolLine>, String>,
}

/// What to audit, and how much at once.
#[derive(Debug, Clone)]
pub struct Plan {
    pub now: DateTime<Utc>,
    /// Client UUIDs, or names in any case; all clients when empty.
    pub only: Vec<String>,
    /// Clients audited at once; their calls share the client's in-flight
    /// limit.
    pub clients_at_once: usize,
    /// The order of the audit's rows.
    pub sort: SortBy,
}

/// Why the audit could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot list the partner's clients: {}", explain(.0))]
    Listing(#[source] Error),
    #[error(
        "no client matches {}: give client UUIDs or names as the listing has them \
         (run without --clients to see them all)",
        .0.join(", ")
    )]
    UnknownClients(Vec<String>),
}

/// Runs the audit. `progress(done, total)` is called as each client is done.
pub async fn run(
    partner: &Client,
    plan: &Plan,
    mut progress: impl FnMut(usize, usize),
) -> Result<Audit, AuditError> {
    let clients = select(list_clients(partner).await?, &plan.only)?;
    let pool = tokio::spawn(pool(partner.clone()));
    let total = clients.len();
    let mut pending = clients.into_iter();
    let mut running = JoinSet::new();
    let mut done = Vec::with_capacity(total);
    loop {
        while running.len() < plan.clients_at_once.max(1) {
            let Some((uuid, name)) = pending.next() else {
                break;
            };
            let (partner, now) = (partner.clone(), plan.now);
            running.spawn(async move {
                let outcome = audit_client(&partner, &uuid, now).await;
                ClientAudit {
                    uuid,
                    name,
                    outcome,
                }
            });
        }
        let Some(finished) = running.join_next().await else {
            break;
        };
        done.push(finished.expect("a client's audit panicked"));
        progress(done.len(), total);
    }
    let pool = pool.await.expect("the pool's reading panicked");
    let mut audit = Audit::new(plan.now, done, pool);
    audit.sort(plan.sort);
    Ok(audit)
}

/// `getClientsV2`: every client's `(uuid, name)`, in the listing's order.
async fn list_clients(partner: &Client) -> Result<Vec<(String, String)>, AuditError> {
    let listing = partner
        .get_partner_clients_v2(&PartnerGetPartnerClientsWsRequest::default())
        .await
        .map_err(AuditError::Listing)?;
    // A client listed without a UUID is kept, with an empty one: it gets
    // an error row rather than vanishing from the audit.
    Ok((listing.clients.unwrap_or_default().into_iter())
        .map(|c| {
            let uuid = c.client_org_uuid.unwrap_or_default();
            let name = (c.client_org_name).unwrap_or_else(|| format!("(unnamed {uuid})"));
            (uuid, name)
        })
        .collect())
}

/// The clients `only` names (by UUID, or name in any case), or all of them.
fn select(
    clients: Vec<(String, String)>,
    only: &[String],
) -> Result<Vec<(String, String)>, AuditError> {
    if only.is_empty() {
        return Ok(clients);
    }
    let named = |wanted: &String, (uuid, name): &(String, String)| {
        uuid == wanted || name.to_lowercase() == wanted.to_lowercase()
    };
    let unknown: Vec<String> = (only.iter())
        .filter(|wanted| !clients.iter().any(|client| named(wanted, client)))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(AuditError::UnknownClients(unknown));
    }
    Ok(clients
        .into_iter()
        .filter(|client| only.iter().any(|wanted| named(wanted, client)))
        .collect())
}

/// One client's facts: five calls inside it, at once (the alerts in pages).
async fn audit_client(
    partner: &Client,
    uuid: &str,
    now: DateTime<Utc>,
) -> Result<ClientFacts, String> {
    if uuid.is_empty() {
        return Err(
            "the client listing gives this client no clientOrgUuid, so no call can \
                    be made inside it"
                .to_owned(),
        );
    }
    let org = partner.for_org(uuid).map_err(|e| e.to_string())?;
    let (cameras, doors, alerts, users, licenses) = tokio::join!(
        cameras(&org),
        doors(&org),
        policy_alerts(&org, now),
        users(&org),
        licenses(&org, now),
    );
    let mut facts = cameras?;
    facts.doors = doors?;
    facts.policy_alerts_7d = alerts?;
    facts.users = users?;
    let licenses = licenses?;
    facts.licenses_ending_30d = licenses.ending;
    facts.licenses_trial = licenses.trial;
    facts.needs = licenses.needs;
    Ok(facts)
}

async fn doors(org: &OrgClient) -> Result<u64, String> {
    let doors = org
        .door()
        .get_minimal_door_state_list(&DoorGetMinimalDoorStatesWsRequest::default())
        .await
        .map_err(|e| explain(&e))?
        .door_states;
    Ok(doors.map_or(0, |d| d.len() as u64))
}

async fn users(org: &OrgClient) -> Result<u64, String> {
    let users = org
        .user()
        .get_users_in_org(&UserGetUsersInOrgWsRequest::default())
        .await
        .map_err(|e| explain(&e))?
        .users;
    Ok(users.map_or(0, |u| u.len() as u64))
}

async fn cameras(org: &OrgClient) -> Result<ClientFacts, String> {
    let states = org
        .camera()
        .get_minimal_camera_state_list(&CameraGetMinimalCameraStateListWsRequest::default())
        .await
        .map_err(|e| explain(&e))?
        .camera_states
        .unwrap_or_default();
    let mut facts = ClientFacts {
        cameras: states.len() as u64,
        ..ClientFacts::default()
    };
    for camera in states {
        match camera.connection_status {
            Some(DeviceStatusEnum::Green) => {}
            Some(DeviceStatusEnum::Red) => facts.cameras_offline += 1,
            Some(DeviceStatusEnum::Orange | DeviceStatusEnum::Yellow) => {
                facts.cameras_degraded += 1
            }
            // A value this version does not list, or none at all.
            _ => facts.cameras_unknown_status += 1,
        }
    }
    Ok(facts)
}

/// The alerts of the last [`ALERT_WINDOW_DAYS`], every page of them: the
/// library's stream follows the last alert's timestamp and uuid, ends on a
/// short page, and stops on a cursor that does not move or past
/// [`MAX_ALERT_PAGES`], both of which make the count wrong, so an error row.
async fn policy_alerts(org: &OrgClient, now: DateTime<Utc>) -> Result<u64, String> {
    let after = (now - Duration::days(ALERT_WINDOW_DAYS)).timestamp_millis();
    let request = EventGetPolicyAlertsV2wsRequest::default()
        .with_after_timestamp_ms(after)
        .with_before_timestamp_ms(now.timestamp_millis())
        .with_max_results(ALERT_PAGE as i32);
    let events = org.event();
    let mut alerts = events
        .get_policy_alerts_v2_items(request)
        .max_pages(MAX_ALERT_PAGES);
    let mut counted = 0;
    while let Some(alert) = alerts.next().await {
        let alert = alert.map_err(|e| explain(&e))?;
        // A server may answer past the window; those are not this week's.
        counted += u64::from(alert.timestamp_ms.is_none_or(|ms| ms >= after));
    }
    Ok(counted)
}

/// A client's licenses that need a decision.
#[derive(Debug, Default)]
struct LicenseCounts {
    /// Ending within [`LICENSE_WINDOW_DAYS`].
    ending: u64,
    trial: u64,
    /// Ending or on trial, by product.
    needs: BTreeMap<String, u64>,
}

/// `license/getDeviceLicenses`, counted against the window from `now`.
async fn licenses(org: &OrgClient, now: DateTime<Utc>) -> Result<LicenseCounts, String> {
    let licenses = org
        .license()
        .get_device_licenses(&LicenseGetDeviceLicensesWsRequest::default())
        .await
        .map_err(|e| explain(&e))?
        .device_licenses
        .unwrap_or_default();
    let window_end = now + Duration::days(LICENSE_WINDOW_DAYS);
    let mut counts = LicenseCounts::default();
    for license in licenses {
        let ends = license.max_delete_date.is_some_and(|end| end <= window_end);
        let on_trial = license.trial == Some(true);
        counts.ending += u64::from(ends);
        counts.trial += u64::from(on_trial);
        if ends || on_trial {
            let product = license
                .product_code
                .unwrap_or_else(|| "(no product code)".into());
            *counts.needs.entry(product).or_insert(0) += 1;
        }
    }
    Ok(counts)
}

/// `license/getPool`: the unassigned licenses by product.
async fn pool(partner: Client) -> Result<Vec<PoolLine>, String> {
    let products = partner
        .get_license_pool(&PartnerMspGetLicensePoolWsRequest::default())
        .await
        .map_err(|e| explain(&e))?
        .products
        .unwrap_or_default();
    Ok((products.into_iter())
        .map(|p| PoolLine {
            product: p.product_code.unwrap_or_else(|| "(no product code)".into()),
            display_name: p.display_name,
            unassigned: p.held_by_pool.unwrap_or(0).max(0) as u64,
            needed: 0,
        })
        .collect())
}

/// What a failed call means for the audit, and what to do about it.
pub fn explain(error: &Error) -> String {
    let operation = error.operation();
    match error {
        Error::CursorStuck { page, .. } => format!(
            "{operation}: page {page} is full but its last item does not move the cursor (no \
             timestamp or uuid, or the same as the page before); the count would be wrong, so \
             this client is not audited"
        ),
        Error::TooManyPages { limit, .. } => format!(
            "{operation}: more than {limit} pages of up to {ALERT_PAGE} in {ALERT_WINDOW_DAYS} \
             days; stopped reading"
        ),
        Error::Forbidden { .. } => format!(
            "{operation}: partner access refused (403): the client has turned partner access \
             off, or is no longer the partner's; ask the client to allow partner access"
        ),
        Error::Unauthorized { .. } => format!(
            "{operation}: the API key was refused (401): check RHOMBUS_API_KEY, and set \
             RHOMBUS_AUTH_SCHEME to the key's kind (partner-api-token for a partner key)"
        ),
        Error::RateLimited { attempts, .. } => format!(
            "{operation}: rate limited by Rhombus (429) after {attempts} attempt(s): run the \
             audit again later, or with a lower --concurrency"
        ),
        other => other.report(),
    }
}

impl Audit {
    fn new(
        generated_at: DateTime<Utc>,
        clients: Vec<ClientAudit>,
        pool: Result<Vec<PoolLine>, String>,
    ) -> Audit {
        let mut audit = Audit {
            generated_at,
            clients,
            pool,
        };
        audit.add_needs_to_pool();
        audit
    }

    /// Adds the clients' needs to the pool's lines (a product needed but
    /// not in the pool gets a line of its own).
    fn add_needs_to_pool(&mut self) {
        let Ok(pool) = &mut self.pool else { return };
        for facts in self.clients.iter().filter_map(|c| c.outcome.as_ref().ok()) {
            for (product, needed) in &facts.needs {
                match pool.iter_mut().find(|line| &line.product == product) {
                    Some(line) => line.needed += needed,
                    None => pool.push(PoolLine {
                        product: product.clone(),
                        needed: *needed,
                        ..PoolLine::default()
                    }),
                }
            }
        }
        pool.sort_by(|a, b| a.product.cmp(&b.product));
    }

    /// Whether every client was audited and the pool read.
    pub fn complete(&self) -> bool {
        self.failed() == 0 && self.pool.is_ok()
    }

    /// Clients whose audit failed.
    pub fn failed(&self) -> usize {
        self.clients.iter().filter(|c| c.outcome.is_err()).count()
    }

    /// The sum of the audited clients' facts.
    pub fn totals(&self) -> ClientFacts {
        let mut sum = ClientFacts::default();
        for f in self.clients.iter().filter_map(|c| c.outcome.as_ref().ok()) {
            sum.cameras += f.cameras;
            sum.cameras_offline += f.cameras_offline;
            sum.cameras_degraded += f.cameras_degraded;
            sum.cameras_unknown_status += f.cameras_unknown_status;
            sum.doors += f.doors;
            sum.policy_alerts_7d += f.policy_alerts_7d;
            sum.users += f.users;
            sum.licenses_ending_30d += f.licenses_ending_30d;
            sum.licenses_trial += f.licenses_trial;
        }
        sum
    }

    /// Orders the rows: by name, or by a count, largest first (then by
    /// name); clients not audited come last, by name.
    pub fn sort(&mut self, by: SortBy) {
        let key = |c: &ClientAudit| {
            let count = match (&c.outcome, by) {
                (_, SortBy::Name) | (Err(_), _) => 0,
                (Ok(f), SortBy::Offline) => f.cameras_offline + f.cameras_degraded,
                (Ok(f), SortBy::Alerts) => f.policy_alerts_7d,
                (Ok(f), SortBy::Licenses) => f.licenses_ending_30d + f.licenses_trial,
            };
            let last = by != SortBy::Name && c.outcome.is_err();
            (last, Reverse(count), c.name.to_lowercase(), c.uuid.clone())
        };
        self.clients.sort_by_cached_key(key);
    }
}

/// The orders `--sort` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SortBy {
    /// By client name.
    Name,
    /// Most cameras offline or degraded first.
    Offline,
    /// Most policy alerts first.
    Alerts,
    /// Most licenses ending or on trial first.
    Licenses,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, offline: u64, alerts: u64, trial: u64) -> ClientAudit {
        let facts = ClientFacts {
            cameras_offline: offline,
            policy_alerts_7d: alerts,
            licenses_trial: trial,
            ..ClientFacts::default()
        };
        ClientAudit {
            uuid: name.to_lowercase(),
            name: name.to_owned(),
            outcome: Ok(facts),
        }
    }

    fn sorted(by: SortBy) -> Vec<String> {
        let failed = ClientAudit {
            uuid: "a".into(),
            name: "Aardvark".into(),
            outcome: Err("refused".into()),
        };
        let clients = vec![
            row("b", 1, 9, 0),
            failed,
            row("C", 5, 0, 2),
            row("d", 1, 3, 7),
        ];
        let mut audit = Audit::new(Utc::now(), clients, Ok(Vec::new()));
        audit.sort(by);
        audit.clients.into_iter().map(|c| c.name).collect()
    }

    #[test]
    fn each_order_puts_the_largest_count_first_and_clients_not_audited_last() {
        assert_eq!(sorted(SortBy::Name), ["Aardvark", "b", "C", "d"]);
        assert_eq!(sorted(SortBy::Offline), ["C", "b", "d", "Aardvark"]);
        assert_eq!(sorted(SortBy::Alerts), ["b", "d", "C", "Aardvark"]);
        assert_eq!(sorted(SortBy::Licenses), ["d", "C", "b", "Aardvark"]);
    }

    #[test]
    fn the_pool_gets_a_line_for_a_product_needed_that_it_lacks() {
        let mut needy = row("n", 0, 0, 0);
        if let Ok(facts) = &mut needy.outcome {
            facts.needs = BTreeMap::from([("A".to_owned(), 3), ("B".to_owned(), 1)]);
        }
        let pool = vec![PoolLine {
            product: "A".into(),
            unassigned: 1,
            ..PoolLine::default()
        }];
        let audit = Audit::new(Utc::now(), vec![needy], Ok(pool));
        let lines = audit.pool.expect("read");
        let got: Vec<(&str, u64, u64, u64)> = (lines.iter())
            .map(|l| (l.product.as_str(), l.unassigned, l.needed, l.short()))
            .collect();
        assert_eq!(got, [("A", 1, 3, 2), ("B", 0, 1, 1)]);
    }
}
