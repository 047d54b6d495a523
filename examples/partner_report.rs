//! Prints a report on one client organization: its summary and its device
//! licenses, through both partner endpoints.
//!
//! Without `RHOMBUS_API_KEY` it starts a fake Rhombus server on loopback and
//! reports on its demo client. With `RHOMBUS_API_KEY` set it calls the real
//! API (configured as `Client::from_env` documents) and reports on the client
//! organization given as the first argument:
//!
//! ```sh
//! cargo run --example partner_report
//! RHOMBUS_API_KEY=... cargo run --example partner_report -- <client-org-uuid>
//! ```

mod support;

use std::error::Error;

use rhombus_partner::Client;
use rhombus_partner::types::{
    LicenseGetDeviceLicensesForClientOrgWsRequest, PartnerGetClientSummaryInfoWsRequest,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // Keeps the fake server alive until the report is printed.
    let _fake_server;
    let (client, org) = if std::env::var_os("RHOMBUS_API_KEY").is_some() {
        let org = std::env::args().nth(1).ok_or(
            "usage: partner_report <client-org-uuid> (the client organization to report on)",
        )?;
        (Client::from_env()?, org)
    } else {
        let server = support::start().await;
        println!(
            "RHOMBUS_API_KEY is not set: using a fake Rhombus server at {}",
            server.uri()
        );
        let client = Client::builder()
            .api_key(support::DEMO_API_KEY)
            .base_url(server.uri())
            .build()?;
        _fake_server = server;
        (client, support::DEMO_CLIENT_ORG.to_owned())
    };

    // `checked()`: a `200` with `"error": true` is an `Error::Api`, so there
    // is no flag left to look at; 429s and (for these reads) 5xx are retried.
    let summary = client
        .checked()
        .get_client_summary_info(&PartnerGetClientSummaryInfoWsRequest {
            client_org_uuid: Some(org.clone()),
        })
        .await?
        .into_inner();
    let licenses = client
        .checked()
        .get_device_licenses_for_org(&LicenseGetDeviceLicensesForClientOrgWsRequest {
            org_uuid: Some(org.clone()),
        })
        .await?
        .into_inner();

    if let Some(warning) = &summary.warning_msg {
        println!("warning from Rhombus: {warning}");
    }

    println!("\nClient organization {org}");
    if let Some(owner) = &summary.account_owner {
        println!(
            "  account owner     {} <{}>, MFA {}",
            owner.name.as_deref().unwrap_or("?"),
            owner.email.as_deref().unwrap_or("?"),
            on_off(owner.mfa_enabled)
        );
    }
    println!("  locations         {}", number(summary.location_count));
    println!(
        "  policy alerts     {} recent",
        number(summary.recent_policy_alert_count)
    );
    println!("  license v2        {}", on_off(summary.license_v2_enabled));

    println!("\n  devices           connected / operational / total");
    for (device_type, counts) in summary.client_device_status_map.iter().flatten() {
        let count = |name: &str| counts.get(name).and_then(|v| v.as_i64()).unwrap_or(0);
        println!(
            "    {device_type:<15} {:>9} / {:>11} / {:>5}",
            count("connectedCount"),
            count("operationalCount"),
            count("totalCount")
        );
    }

    let licenses = licenses.device_licenses.unwrap_or_default();
    println!("\n  device licenses   {}", licenses.len());
    for license in &licenses {
        let features: Vec<&str> = license
            .features
            .iter()
            .flatten()
            .filter(|f| f.enabled == Some(true))
            .filter_map(|f| f.name.as_deref())
            .collect();
        println!(
            "    {:<12} device {:<24} assigned {}{}  features: {}",
            license.product_code.as_deref().unwrap_or("?"),
            license.device_uuid.as_deref().unwrap_or("(unassigned)"),
            license
                .first_assigned_date
                .map_or_else(|| "never".to_owned(), |d| d.date_naive().to_string()),
            if license.trial == Some(true) {
                " (trial)"
            } else {
                ""
            },
            if features.is_empty() {
                "none".to_owned()
            } else {
                features.join(", ")
            }
        );
    }
    Ok(())
}

fn on_off(flag: Option<bool>) -> &'static str {
    match flag {
        Some(true) => "on",
        Some(false) => "off",
        None => "unknown",
    }
}

fn number(value: Option<i32>) -> String {
    value.map_or_else(|| "unknown".to_owned(), |n| n.to_string())
}
