//! The Monday-morning report of a Rhombus partner: every client
//! organization, with its locations, device status counts (connected /
//! operational / total), recent policy alerts, and the licenses that are
//! trials or end within 30 days; a sorted table with totals. The calls run
//! concurrently, within the client's in-flight limit; a client whose calls
//! fail gets an error line instead of stopping the report.
//!
//! Without `RHOMBUS_API_KEY` it starts a fake Rhombus server on loopback
//! that plays a demo partner with a dozen clients (one refuses access, one
//! has licenses running out). With `RHOMBUS_API_KEY` set it calls the real
//! API, configured as `Client::from_env` documents:
//!
//! ```sh
//! cargo run --example partner_report
//! RHOMBUS_API_KEY=... cargo run --example partner_report
//! ```
//!
//! The Partner API gives a device license no end date of its own; the
//! report takes `maxDeleteDate`, the last day the license is held, as its
//! end.

mod support;

use std::error::Error;

use chrono::Utc;
use rhombus_partner::Client;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // Keeps the fake server alive until the report is printed.
    let _fake_server;
    let client = if std::env::var_os("RHOMBUS_API_KEY").is_some() {
        Client::from_env()?
    } else {
        let server = support::start().await;
        eprintln!(
            "RHOMBUS_API_KEY is not set: using a fake Rhombus server at {} (a demo partner)",
            server.uri()
        );
        let client = Client::builder()
            .api_key(support::DEMO_API_KEY)
            .base_url(server.uri())
            .build()?;
        _fake_server = server;
        client
    };

    let report =
        support::report::gather(&client, Utc::now(), support::report::progress_on_stderr).await?;
    print!("{}", report.render());
    Ok(())
}
