//! Generation time against fragment size, through the spec-to-code step
//! that build.rs runs (`codegen::generate`: check, progenitor, syn repair,
//! prettyplease, for every artifact: the client, the test client and the
//! mock helpers). Criterion reports operations per second for each size, so
//! flat (linear) growth shows as equal throughput.
//!
//! Sizes: the checked-in fragment (2 operations) always; with the upstream
//! snapshot in `../shared/upstream`, its partner fragment (29), five API
//! areas (about 320) and the whole document (about 1,260).
//!
//! `cargo bench -p xtask --bench generation`

use std::path::Path;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use xtask::project::{FRAGMENT, project_root};
use xtask::{codegen, refresh, source};

const SNAPSHOT: &str = "../shared/upstream/rhombus-openapi-2025-08-05.json";

/// `(label, operations, fragment text)` for each size.
fn fragments() -> Vec<(&'static str, usize, String)> {
    let root = project_root();
    let checked_in = std::fs::read_to_string(root.join(FRAGMENT)).expect("spec/partner.json");
    let mut out = vec![("checked-in", 2, checked_in)];
    let snapshot = root.join(SNAPSHOT);
    if !snapshot.is_file() {
        eprintln!(
            "skipped the upstream sizes: {} is absent",
            snapshot.display()
        );
        return out;
    }
    let from = snapshot.to_string_lossy().into_owned();
    let upstream = source::load(&from).expect("the snapshot loads");
    let sizes: [(&str, &[&str]); 3] = [
        ("partner", &["/api/partner/"]),
        (
            "five-areas",
            &[
                "/api/partner/",
                "/api/accesscontrol/",
                "/api/camera/",
                "/api/event/",
                "/api/policy/",
            ],
        ),
        ("whole-document", &["/api/"]),
    ];
    for (label, prefixes) in sizes {
        let prefixes: Vec<String> = prefixes.iter().map(|p| (*p).to_owned()).collect();
        // The fragments are inputs to the generator here; type-checking
        // each (minutes for the whole document) measures nothing of it.
        let fragment =
            refresh::refresh(&upstream, &prefixes, &from, false).expect("the refresh succeeds");
        out.push((label, fragment.operations, fragment.text));
    }
    out
}

fn generation(c: &mut Criterion) {
    let mut group = c.benchmark_group("generate");
    group.sample_size(10);
    for (label, operations, text) in fragments() {
        group.throughput(Throughput::Elements(operations as u64));
        group.bench_with_input(
            BenchmarkId::new(label, format!("{operations} operations")),
            &text,
            |b, text| {
                // What a default build pays: generate, then render the client.
                b.iter(|| {
                    codegen::generate(Path::new("bench.json"), text)
                        .and_then(|artifacts| artifacts.client())
                        .expect("generates")
                });
            },
        );
    }
    group.finish();
}

criterion_group!(benches, generation);
criterion_main!(benches);
