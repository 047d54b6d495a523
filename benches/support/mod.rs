//! Shared by the benchmarks: a minimal HTTP/1.1 server on loopback, the
//! three per-call cases set up against it, test data, and the ratio report
//! that compares each case with its baseline.

#![allow(dead_code)] // Each benchmark uses part of this.

use std::path::PathBuf;

use rhombus_partner::types::PartnerGetClientSummaryInfoWsRequest;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Serves `body` as the JSON answer to every request, keeping connections
/// alive. Deliberately bare (no routing, no recording), so that the server
/// adds as little as possible to what is compared: the clients.
pub async fn serve(body: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let address = listener.local_addr().expect("local address");
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let response: &'static [u8] = Box::leak([head.as_bytes(), body].concat().into_boxed_slice());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(connection(socket, response));
        }
    });
    format!("http://{address}")
}

async fn connection(mut socket: TcpStream, response: &'static [u8]) {
    let mut buffer: Vec<u8> = Vec::with_capacity(16 * 1024);
    loop {
        // Answer every complete request in the buffer, then read more.
        while let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let body_length = content_length(&buffer[..end]);
            let total = end + 4 + body_length;
            if buffer.len() < total {
                break;
            }
            buffer.drain(..total);
            if socket.write_all(response).await.is_err() {
                return;
            }
        }
        match socket.read_buf(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// [`serve`] on a thread of its own (with its own current-thread runtime),
/// so that the caller's runtime, and callgrind's count of the calling
/// thread, hold only the client's work.
pub fn serve_on_own_thread(body: &'static [u8]) -> String {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("loopback-server".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("server runtime");
            runtime.block_on(async {
                sender.send(serve(body).await).expect("report the address");
                std::future::pending::<()>().await
            })
        })
        .expect("server thread");
    receiver.recv().expect("server address")
}

/// One way of making the `getClientSummaryInfo` call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    /// `reqwest` + `serde` by hand (`benches/baseline`): the baseline.
    Handwritten,
    /// The generated method, `client.get_client_summary_info(..)`: the one
    /// way to call the operation.
    Generated,
}

impl Case {
    pub const ALL: [Case; 2] = [Case::Handwritten, Case::Generated];

    pub fn name(self) -> &'static str {
        match self {
            Case::Handwritten => "handwritten",
            Case::Generated => "generated",
        }
    }

    pub fn from_name(name: &str) -> Option<Case> {
        Case::ALL.into_iter().find(|case| case.name() == name)
    }
}

const KEY: &str = "bench-key";
const ORG: &str = "AAAAAAAAAAAAAAAAAAAAAA";

/// The generated client and the handwritten one, configured alike, with
/// the request body each sends.
pub struct SummaryCalls {
    generated: rhombus_partner::Client,
    handwritten: rhombus_partner_baseline::Client,
    generated_body: PartnerGetClientSummaryInfoWsRequest,
    handwritten_body: rhombus_partner_baseline::SummaryRequest,
}

impl SummaryCalls {
    /// Both clients against `base_url`. Call from inside a Tokio runtime.
    pub fn new(base_url: &str) -> SummaryCalls {
        // Both send the same headers (`api-version` is the fragment's
        // `info.version`, "1.0", as the baseline's).
        let generated = rhombus_partner::Client::builder()
            .api_key(KEY)
            .base_url(base_url)
            .build()
            .expect("client builds");
        // The same settings the builder applies by default.
        let http = reqwest::Client::builder()
            .user_agent(concat!("rhombus-partner/", env!("CARGO_PKG_VERSION")))
            .timeout(std::time::Duration::from_secs(30))
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()
            .expect("reqwest client");
        let handwritten =
            rhombus_partner_baseline::Client::new(base_url, http, KEY).expect("baseline builds");
        SummaryCalls {
            generated,
            handwritten,
            generated_body: PartnerGetClientSummaryInfoWsRequest::default()
                .with_client_org_uuid(ORG),
            handwritten_body: rhombus_partner_baseline::SummaryRequest {
                client_org_uuid: Some(ORG.into()),
            },
        }
    }

    /// One call of `case`; returns the decoded `locationCount`, so that the
    /// cases can be checked to decode the same answer.
    pub async fn call(&self, case: Case) -> Option<i32> {
        match case {
            Case::Handwritten => {
                self.handwritten
                    .get_client_summary_info(&self.handwritten_body)
                    .await
                    .expect("handwritten call")
                    .location_count
            }
            Case::Generated => {
                self.generated
                    .get_client_summary_info(&self.generated_body)
                    .await
                    .expect("generated call")
                    .location_count
            }
        }
    }

    /// The size in bytes of each case's call future, which is moved (copied)
    /// each time it is passed on by value before it is first polled.
    pub fn future_sizes(&self) -> [(Case, usize); 2] {
        [
            (
                Case::Handwritten,
                std::mem::size_of_val(
                    &self
                        .handwritten
                        .get_client_summary_info(&self.handwritten_body),
                ),
            ),
            (
                Case::Generated,
                std::mem::size_of_val(
                    &self.generated.get_client_summary_info(&self.generated_body),
                ),
            ),
        ]
    }

    /// Every case once, asserting that all decode the same answer.
    pub async fn check_all_agree(&self) {
        let mut answers = Vec::new();
        for case in Case::ALL {
            answers.push(self.call(case).await);
        }
        assert!(answers[0].is_some(), "the answer has a locationCount");
        assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    }
}

fn content_length(head: &[u8]) -> usize {
    String::from_utf8_lossy(head)
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0)
}

/// A `getDeviceLicensesForOrg` response with `count` licenses of the
/// documented shape.
pub fn licenses_json(count: usize) -> Vec<u8> {
    let licenses: Vec<serde_json::Value> = (0..count)
        .map(|i| {
            serde_json::json!({
                "claimKeyUuid": format!("cLaImKeY{i:014}"),
                "createdOn": "2025-01-08T10:15:30Z",
                "deviceUuid": format!("dEvIcE{i:016}"),
                "features": [
                    { "enabled": true, "name": "VIDEO_RETENTION_30_DAYS" },
                    { "enabled": i % 2 == 0, "name": "PEOPLE_SEARCH" }
                ],
                "firstAssignedDate": "2025-01-08T10:15:30Z",
                "maxDeleteDate": "2026-01-08T00:00:00Z",
                "orgUuid": "oRgUuId000000000000001",
                "priorClaimKeyUuid": null,
                "productCode": "LIC-CAM-3Y",
                "trial": i % 10 == 0,
                "updatedOn": "2025-02-01T08:00:00.250Z",
                "uuid": format!("lIcEnSe{i:015}")
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({ "deviceLicenses": licenses })).expect("serializes")
}

/// The documented `getClientSummaryInfo` response.
pub const SUMMARY_JSON: &[u8] = br#"{"accountOwner":{"accessibleRhombusApps":[],"accountOwner":true,"bypassSaml":false,"changePasswordOnLogin":false,"createdAtMillis":1700000000000,"deleted":false,"email":"owner@client.example","emailCaseSensitive":"owner@client.example","emailVerified":true,"firstName":"Ada","lastName":"Owner","mfaEnabled":true,"name":"Ada Owner","orgUserCustomizationFlags":{},"orgUuid":"AAAAAAAAAAAAAAAAAAAAAA","passwordSet":true,"rhombusUserUuid":"AAAAAAAAAAAAAAAAAAAAAA","updatedAtMillis":1700000000000,"uuid":"AAAAAAAAAAAAAAAAAAAAAA"},"clientDeviceStatusMap":{"CAMERA":{"connectedCount":11,"operationalCount":11,"totalCount":12}},"error":false,"errorMsg":null,"licenseV2Enabled":true,"locationCount":3,"manuallySendLicenseExpirationEmailEnabled":false,"recentPolicyAlertCount":5,"warningMsg":null}"#;

fn criterion_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("criterion")
}

/// The median criterion measured for `group/name` in this run, in ns.
fn median_ns(group: &str, name: &str) -> Option<f64> {
    let path = criterion_dir()
        .join(group)
        .join(name)
        .join("new/estimates.json");
    let estimates: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    estimates["median"]["point_estimate"].as_f64()
}

/// Prints each case's median against the baseline's, with the target.
pub fn report_ratios(group: &str, baseline: &str, cases: &[(&str, f64)]) {
    let Some(base) = median_ns(group, baseline) else {
        println!("{group}: no estimate for the baseline `{baseline}` (filtered out?)");
        return;
    };
    println!(
        "\n{group}: medians against `{baseline}` ({:.1} µs)",
        base / 1000.0
    );
    for (name, target) in cases {
        match median_ns(group, name) {
            Some(median) => {
                let ratio = median / base;
                let verdict = if ratio <= *target { "meets" } else { "MISSES" };
                println!(
                    "  {name:<28} {:>10.1} µs  ratio {ratio:.3}  ({verdict} the target {target:.2})",
                    median / 1000.0
                );
            }
            None => println!("  {name:<28} not measured in this run"),
        }
    }
}
