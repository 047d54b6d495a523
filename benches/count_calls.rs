//! Instruction counting: runs `<calls>` `getClientSummaryInfo` calls of one
//! case after a warm-up, for `valgrind --tool=callgrind`. Counting the same
//! case with N and 2N calls and dividing the difference by N subtracts the
//! setup (runtime, clients, connection, warm-up); `benches/callgrind.sh`
//! does that for all three cases. The client runs on a current-thread
//! runtime on the main thread and the server on a thread of its own, so
//! callgrind's `--separate-threads=yes` count of the main thread is the
//! client's work alone.
//!
//! `target/release/deps/count_calls-* <handwritten|generated> <calls>`
//! (`cargo bench --bench count_calls` just checks that it runs).

mod support;

use support::{Case, SummaryCalls};

/// Calls of each case before counting starts: connection set up, lazy
/// statics initialized, allocator warm.
const WARM_UP: usize = 100;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cases, calls) = match args.as_slice() {
        [case, calls] => {
            let case = Case::from_name(case)
                .unwrap_or_else(|| panic!("unknown case {case:?}: handwritten or generated"));
            let calls: usize = calls.parse().expect("<calls> is a number");
            (vec![case], calls)
        }
        // `cargo bench` passes `--bench`: run everything briefly.
        _ => (Case::ALL.to_vec(), 10),
    };
    let base_url = support::serve_on_own_thread(support::SUMMARY_JSON);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let summary = SummaryCalls::new(&base_url);
        summary.check_all_agree().await;
        for (case, bytes) in summary.future_sizes() {
            println!("{}: the call's future is {bytes} bytes", case.name());
        }
        for case in cases {
            for _ in 0..WARM_UP + calls {
                summary.call(case).await;
            }
            println!(
                "{}: {} calls after {WARM_UP} to warm up",
                case.name(),
                calls
            );
        }
    });
}
