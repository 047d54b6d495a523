//! The certificate schemes (`partner-api`, `api`): the API key plus a client
//! certificate presented in the TLS handshake (mutual TLS).
//!
//! Without `RHOMBUS_API_KEY` it makes a throwaway CA and client certificate
//! in-process, puts a TLS front that requires a client certificate before the
//! fake Rhombus server, and calls it twice: with the certificate (answered)
//! and without it (refused in the handshake). With `RHOMBUS_API_KEY` set it
//! calls the real API with the certificate and key in the PEM file given as
//! the first argument (scheme `partner-api`, or `RHOMBUS_AUTH_SCHEME` when
//! that names a certificate scheme):
//!
//! ```sh
//! cargo run --example mtls
//! RHOMBUS_API_KEY=... cargo run --example mtls -- <identity.pem> <client-org-uuid>
//! ```

use std::error::Error;

use rhombus_fake::tls::{Certificates, start_front};
use rhombus_fake::{DEMO_CLIENT, FAKE_API_KEY, FakeFleet, FakeOptions, FakeServer};
use rhombus_partner::types::PartnerGetClientSummaryInfoWsRequest;
use rhombus_partner::{AuthScheme, Client, ClientBuilder};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    if std::env::var_os("RHOMBUS_API_KEY").is_some() {
        return against_the_real_api().await;
    }

    let fake = FakeServer::start(FakeFleet::demo(), FakeOptions::default()).await;
    let certificates = Certificates::generate()?;
    let url = start_front(&certificates, fake.address()).await?;
    println!("RHOMBUS_API_KEY is not set: using a fake Rhombus server behind mutual TLS at {url}");

    // The certificate scheme, with the client certificate and its key in one
    // PEM; the extra root is only needed because the CA is a throwaway one.
    let client = Client::builder()
        .api_key(FAKE_API_KEY)
        .scheme(AuthScheme::PartnerApi)
        .identity(certificates.client_identity_pem.as_bytes())
        .add_root_certificate(certificates.ca_pem.as_bytes())
        .base_url(&url)
        .build()?;
    let summary = client
        .get_client_summary_info(&request(DEMO_CLIENT))
        .await?;
    println!(
        "\nwith the client certificate ({}): {} locations in {}",
        client.scheme(),
        summary.location_count.unwrap_or(0),
        DEMO_CLIENT
    );

    // A token scheme sends no certificate, and this server requires one.
    let without = Client::builder()
        .api_key(FAKE_API_KEY)
        .scheme(AuthScheme::PartnerApiToken)
        .add_root_certificate(certificates.ca_pem.as_bytes())
        .base_url(&url)
        .build()?;
    match without.get_client_summary_info(&request(DEMO_CLIENT)).await {
        Ok(_) => return Err("the server answered a client without a certificate".into()),
        Err(error) => println!("without a client certificate: refused, as expected ({error})"),
    }

    // `build()` checks the pairing of scheme and certificate up front.
    let error = Client::builder()
        .api_key(FAKE_API_KEY)
        .scheme(AuthScheme::PartnerApi)
        .build()
        .expect_err("a certificate scheme needs an identity");
    println!("a certificate scheme without a certificate does not build: {error}");
    Ok(())
}

async fn against_the_real_api() -> Result<(), Box<dyn Error>> {
    let usage = "usage: mtls <identity.pem> <client-org-uuid> \
                 (the PEM holds the client certificate and its private key)";
    let mut args = std::env::args().skip(1);
    let identity_path = args.next().ok_or(usage)?;
    let org = args.next().ok_or(usage)?;
    let identity =
        std::fs::read(&identity_path).map_err(|e| format!("cannot read {identity_path}: {e}"))?;

    let mut builder = ClientBuilder::from_env()?;
    if std::env::var("RHOMBUS_AUTH_SCHEME").map_or(true, |s| {
        !s.parse::<AuthScheme>()
            .is_ok_and(AuthScheme::uses_certificate)
    }) {
        builder = builder.scheme(AuthScheme::PartnerApi);
    }
    let client = builder.identity(identity).build()?;
    let summary = client.get_client_summary_info(&request(&org)).await?;
    println!(
        "{}: {} locations in {org}",
        client.scheme(),
        summary
            .location_count
            .map_or_else(|| "unknown".to_owned(), |n| n.to_string())
    );
    Ok(())
}

fn request(org: &str) -> PartnerGetClientSummaryInfoWsRequest {
    PartnerGetClientSummaryInfoWsRequest::default().with_client_org_uuid(org)
}
