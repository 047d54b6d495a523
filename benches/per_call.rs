//! One call on loopback: the generated client against the handwritten
//! `reqwest` + `serde` call of the same endpoint with the same headers and
//! body (the baseline), both on identically configured `reqwest` clients,
//! against a bare keep-alive server. Target: median ratio at most 1.05.
//!
//! `checked` is the call path the README teaches (`client.checked()...`:
//! retry policy, in-flight limit, `error: true` check, bounded error
//! bodies); `plain` is progenitor's generated method alone.
//!
//! `cargo bench --bench per_call`

mod support;

use criterion::Criterion;
use rhombus_partner::Client;
use rhombus_partner::types::PartnerGetClientSummaryInfoWsRequest;

const GROUP: &str = "per-call-getClientSummaryInfo";
const KEY: &str = "bench-key";
const ORG: &str = "AAAAAAAAAAAAAAAAAAAAAA";

fn per_call(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let base_url = runtime.block_on(support::serve(support::SUMMARY_JSON));

    let generated = Client::builder()
        .api_key(KEY)
        .base_url(&base_url)
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
        rhombus_partner_baseline::Client::new(&base_url, http, KEY).expect("baseline builds");

    let generated_body = PartnerGetClientSummaryInfoWsRequest {
        client_org_uuid: Some(ORG.into()),
    };
    let handwritten_body = rhombus_partner_baseline::SummaryRequest {
        client_org_uuid: Some(ORG.into()),
    };
    // Both decode the same answer before anything is timed.
    runtime.block_on(async {
        let a = generated
            .checked()
            .get_client_summary_info(&generated_body)
            .await
            .expect("generated call");
        let b = handwritten
            .get_client_summary_info(&handwritten_body)
            .await
            .expect("handwritten call");
        assert_eq!(a.into_inner().location_count, b.location_count);
    });

    let mut group = c.benchmark_group(GROUP);
    group.bench_function("handwritten", |b| {
        b.to_async(&runtime).iter(|| async {
            handwritten
                .get_client_summary_info(&handwritten_body)
                .await
                .expect("call")
        })
    });
    group.bench_function("checked", |b| {
        b.to_async(&runtime).iter(|| async {
            generated
                .checked()
                .get_client_summary_info(&generated_body)
                .await
                .expect("call")
        })
    });
    group.bench_function("plain", |b| {
        b.to_async(&runtime).iter(|| async {
            generated
                .get_client_summary_info(&generated_body)
                .await
                .expect("call")
        })
    });
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    per_call(&mut criterion);
    criterion.final_summary();
    support::report_ratios(GROUP, "handwritten", &[("checked", 1.05), ("plain", 1.05)]);
}
