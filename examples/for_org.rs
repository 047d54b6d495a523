//! A partner acting on one of its client organizations: `Client::for_org`
//! makes a copy of the client that sends `x-auth-org` with every request,
//! sharing the connection pool, so calls that take no organization in their
//! body (here `getDeviceLicensesForOrg` with an empty request) apply to it.
//!
//! Without `RHOMBUS_API_KEY` it runs against the fake Rhombus server on
//! loopback, which knows one client organization and forbids others. With
//! `RHOMBUS_API_KEY` set it calls the real API on the organization given as
//! the first argument:
//!
//! ```sh
//! cargo run --example for_org
//! RHOMBUS_API_KEY=... cargo run --example for_org -- <client-org-uuid>
//! ```

mod support;

use std::error::Error;

use rhombus_partner::Client;
use rhombus_partner::types::LicenseGetDeviceLicensesForClientOrgWsRequest;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let mut fake = None;
    let (partner, org) = if std::env::var_os("RHOMBUS_API_KEY").is_some() {
        let org = std::env::args()
            .nth(1)
            .ok_or("usage: for_org <client-org-uuid> (the client organization to act on)")?;
        (Client::from_env()?, org)
    } else {
        let server = support::start().await;
        println!(
            "RHOMBUS_API_KEY is not set: using a fake Rhombus server at {}",
            server.uri()
        );
        let partner = Client::builder()
            .api_key(support::DEMO_API_KEY)
            .base_url(server.uri())
            .build()?;
        fake = Some(server);
        (partner, support::DEMO_CLIENT_ORG.to_owned())
    };

    // The partner's client acts on no organization; the copy acts on `org`.
    let acting = partner.for_org(&org)?;
    println!(
        "partner client: org {:?}; copy from for_org: org {:?}",
        partner.org(),
        acting.org()
    );

    let licenses = acting
        .get_device_licenses_for_org(&LicenseGetDeviceLicensesForClientOrgWsRequest::default())
        .await?
        .into_inner()
        .device_licenses
        .unwrap_or_default();
    println!("\n{} device licenses in {org}:", licenses.len());
    for license in &licenses {
        println!(
            "  {:<12} {}",
            license.product_code.as_deref().unwrap_or("?"),
            license.device_uuid.as_deref().unwrap_or("(unassigned)")
        );
    }

    if let Some(server) = &fake {
        // What went on the wire: the org header came from `for_org`.
        let requests = server.received_requests().await.unwrap_or_default();
        if let Some(last) = requests.last() {
            let org_header = last
                .headers
                .get("x-auth-org")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("(none)");
            println!("\nthe fake server saw x-auth-org: {org_header}");
        }

        // An organization that is not one of the partner's clients.
        let stranger = partner.for_org("nOtOnEoFoUrClIeNtS0000w")?;
        match stranger
            .get_device_licenses_for_org(&LicenseGetDeviceLicensesForClientOrgWsRequest::default())
            .await
        {
            Ok(_) => return Err("the fake server let a partner act on a stranger".into()),
            Err(error) => println!("acting on another organization: refused ({error})"),
        }
    }
    Ok(())
}
