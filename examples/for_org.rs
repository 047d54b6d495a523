//! A partner and one of its client organizations: a partner-level call
//! names the client in its body (here `getDeviceLicensesForOrg`) and sends
//! no `x-auth-org`; `Client::for_org` gives the handle whose area clients
//! (features `camera`, `door`, ..., `fleet`) act inside the organization,
//! sending `x-auth-org`, sharing the connection pool.
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

use std::error::Error;

use rhombus_fake::{DEMO_CLIENT, FAKE_API_KEY, FakeFleet, FakeOptions, FakeServer};
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
        // Requests recorded, to show below what went on the wire.
        let options = FakeOptions {
            record_requests: true,
            ..FakeOptions::default()
        };
        let server = FakeServer::start(FakeFleet::demo(), options).await;
        println!(
            "RHOMBUS_API_KEY is not set: using a fake Rhombus server at {}",
            server.uri()
        );
        let partner = Client::builder()
            .api_key(FAKE_API_KEY)
            .base_url(server.uri())
            .build()?;
        fake = Some(server);
        (partner, DEMO_CLIENT.to_owned())
    };

    // The partner's client acts on no organization; the handle acts inside
    // `org` (its area clients need the area features).
    let acting = partner.for_org(&org)?;
    println!("handle from for_org: org {:?}", acting.org_uuid());

    let request = LicenseGetDeviceLicensesForClientOrgWsRequest::default().with_org_uuid(&*org);
    let licenses = partner
        .get_device_licenses_for_org(&request)
        .await?
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
        // What went on the wire: a partner-level call sends no org header.
        if let Some(last) = server.received().last() {
            let org_header = last.header("x-auth-org").unwrap_or("(none)");
            println!("\nthe fake server saw x-auth-org: {org_header}");
        }

        // An organization that is not one of the partner's clients.
        let stranger = LicenseGetDeviceLicensesForClientOrgWsRequest::default()
            .with_org_uuid("nOtOnEoFoUrClIeNtS0000w");
        match partner.get_device_licenses_for_org(&stranger).await {
            Ok(_) => return Err("the fake server let a partner act on a stranger".into()),
            Err(error) => println!("acting on another organization: refused ({error})"),
        }
    }
    Ok(())
}
