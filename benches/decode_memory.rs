//! Peak memory of decoding a `getDeviceLicensesForOrg` response with
//! 10,000 licenses (4.7 MB): the generated types against the handwritten
//! serde struct (the baseline) and `serde_json::Value`. Each case runs in a
//! child process of its own, which reads the body from a file (so that
//! making the test data does not count), decodes it once and reports its
//! peak resident set (`VmHWM`) before and after; the difference is what
//! the decoded value took at its peak. It then times 10 more decodes
//! (median), for the time beside the memory; `cargo bench --bench decode`
//! is the careful time comparison.
//!
//! `cargo bench --bench decode_memory`

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use rhombus_partner::types::LicenseGetDeviceLicensesForClientOrgWsResponse as Generated;
use rhombus_partner_baseline::LicensesResponse as Handwritten;

const LICENSES: usize = 10_000;
const CASES: [&str; 3] = ["handwritten", "generated", "serde_json-value"];
const TIMED_DECODES: usize = 10;

/// The process's peak resident set so far, in KiB.
fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

fn decode(case: &str, body: &[u8]) -> Box<dyn std::any::Any> {
    match case {
        "handwritten" => Box::new(serde_json::from_slice::<Handwritten>(body).expect("decodes")),
        "generated" => Box::new(serde_json::from_slice::<Generated>(body).expect("decodes")),
        "serde_json-value" => {
            Box::new(serde_json::from_slice::<serde_json::Value>(body).expect("decodes"))
        }
        other => panic!("unknown case {other:?}"),
    }
}

/// In the child: one case, printed as `before after median_ms`.
fn child(case: &str, body_file: &Path) {
    let body = std::fs::read(body_file).expect("read the body");
    let before = peak_kib();
    let decoded = decode(case, &body);
    let after = peak_kib();
    drop(decoded);
    let mut times: Vec<f64> = (0..TIMED_DECODES)
        .map(|_| {
            let start = Instant::now();
            drop(decode(case, &body));
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!("{before} {after} {:.2}", times[TIMED_DECODES / 2]);
}

fn body_file() -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    dir.join("decode-memory-licenses.json")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, case, file] = args.as_slice()
        && flag == "--child"
    {
        return child(case, Path::new(file));
    }
    let file = body_file();
    let body = support::licenses_json(LICENSES);
    std::fs::write(&file, &body).expect("write the body");
    println!(
        "decoding {LICENSES} licenses ({} bytes), one child process per case:",
        body.len()
    );
    let mut baseline = None;
    for case in CASES {
        let output = Command::new(std::env::current_exe().expect("own path"))
            .args(["--child", case])
            .arg(&file)
            .output()
            .expect("run the child");
        assert!(output.status.success(), "{case}: {output:?}");
        let text = String::from_utf8_lossy(&output.stdout);
        let fields: Vec<f64> = text
            .split_whitespace()
            .map(|f| f.parse().expect("a number"))
            .collect();
        let [before, after, millis] = fields[..] else {
            panic!("{case}: unexpected output {text:?}");
        };
        let decoded = after - before;
        let (base_peak, base_decoded) = *baseline.get_or_insert((after, decoded));
        println!(
            "  {case:<17} peak RSS {:>6.1} MiB ({:.3} of handwritten); decoded value at its peak {:>6.1} MiB ({:.3}); decode {millis:.1} ms",
            after / 1024.0,
            after / base_peak,
            decoded / 1024.0,
            decoded / base_decoded,
        );
    }
}
