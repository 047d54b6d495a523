//! Peak memory with a 1 GiB answer: the process (client and server alike)
//! stays under 256 MiB, whether the body is announced with a
//! `Content-Length` or streamed without end. Alone in its test binary, so
//! that the peak is this test's.

mod common;

use std::time::Duration;

use common::{Action, Server};
use rhombus_partner::types::PartnerGetClientSummaryInfoWsRequest;
use rhombus_partner::{Client, Error};

const GIB: u64 = 1 << 30;
const CEILING_KIB: u64 = 256 * 1024;

/// The process's peak resident set (`VmHWM`), in KiB; `None` off Linux.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test]
async fn a_1_gib_answer_keeps_the_process_under_256_mib() {
    for action in [
        || Action::Huge {
            status: 200,
            total: GIB,
        },
        || Action::Endless { status: 200 },
        || Action::Huge {
            status: 500,
            total: GIB,
        },
    ] {
        let server = Server::start(move |_, _| action()).await;
        let client = Client::builder()
            .api_key("memory-test-key-5e1d")
            .base_url(&server.url)
            .timeout(Duration::from_secs(60))
            .build()
            .expect("valid configuration");
        let result = tokio::time::timeout(
            Duration::from_secs(60),
            client.get_client_summary_info(&PartnerGetClientSummaryInfoWsRequest::default()),
        )
        .await
        .expect("the call ends");
        assert!(
            matches!(result, Err(Error::BodyTooLarge { .. } | Error::Http { .. })),
            "{result:?}"
        );
        println!(
            "after {:?}: server wrote {} MiB; peak RSS {:?} KiB",
            result.map(drop).map_err(|e| e.to_string()),
            server.huge_bytes_sent() >> 20,
            peak_rss_kib()
        );
    }
    match peak_rss_kib() {
        Some(peak) => assert!(peak < CEILING_KIB, "peak RSS {peak} KiB"),
        None => println!("skipped the RSS check: no /proc/self/status here"),
    }
}
