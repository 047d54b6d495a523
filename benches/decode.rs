//! Decoding a `getDeviceLicensesForOrg` response with 10,000 licenses:
//! the generated types against a handwritten serde struct (the baseline)
//! and against `serde_json::Value`. Target: at most 1.10 against the
//! handwritten struct.
//!
//! `cargo bench --bench decode`

mod support;

use criterion::{Criterion, Throughput};
use rhombus_partner::types::LicenseGetDeviceLicensesForClientOrgWsResponse as Generated;
use rhombus_partner_baseline::LicensesResponse as Handwritten;

const LICENSES: usize = 10_000;
const GROUP: &str = "decode-10000-licenses";

fn decode(c: &mut Criterion) {
    let body = support::licenses_json(LICENSES);
    // The three decode the same data.
    let generated: Generated = serde_json::from_slice(&body).expect("generated decodes");
    let handwritten: Handwritten = serde_json::from_slice(&body).expect("handwritten decodes");
    assert_eq!(generated.device_licenses.map(|l| l.len()), Some(LICENSES));
    assert_eq!(handwritten.device_licenses.map(|l| l.len()), Some(LICENSES));

    let mut group = c.benchmark_group(GROUP);
    // Each sample decodes megabytes; 20 samples keep a run under a minute.
    group.sample_size(20);
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("handwritten", |b| {
        b.iter(|| serde_json::from_slice::<Handwritten>(&body).expect("decodes"))
    });
    group.bench_function("generated", |b| {
        b.iter(|| serde_json::from_slice::<Generated>(&body).expect("decodes"))
    });
    group.bench_function("serde_json-value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(&body).expect("decodes"))
    });
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    decode(&mut criterion);
    criterion.final_summary();
    support::report_ratios(
        GROUP,
        "handwritten",
        &[("generated", 1.10), ("serde_json-value", f64::INFINITY)],
    );
}
