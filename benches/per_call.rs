//! One call on loopback: the generated client against the handwritten
//! `reqwest` + `serde` call of the same endpoint with the same headers and
//! body (the baseline), both on identically configured `reqwest` clients,
//! against a bare keep-alive server. Target: median ratio at most 1.05.
//!
//! `generated` is the one way to call an operation (retry policy,
//! in-flight limit, `error: true` check, bounded and scrubbed answers).
//!
//! criterion measures the cases one after the other, so machine drift
//! lands between them; `benches/interleaved.rs` alternates them instead.
//!
//! `cargo bench --bench per_call`

mod support;

use criterion::Criterion;
use support::{Case, SummaryCalls};

const GROUP: &str = "per-call-getClientSummaryInfo";

fn per_call(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let base_url = runtime.block_on(support::serve(support::SUMMARY_JSON));
    let calls = runtime.block_on(async { SummaryCalls::new(&base_url) });
    // All decode the same answer before anything is timed.
    runtime.block_on(calls.check_all_agree());

    let mut group = c.benchmark_group(GROUP);
    for case in Case::ALL {
        group.bench_function(case.name(), |b| {
            b.to_async(&runtime).iter(|| calls.call(case))
        });
    }
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    per_call(&mut criterion);
    criterion.final_summary();
    support::report_ratios(GROUP, "handwritten", &[("generated", 1.05)]);
}
