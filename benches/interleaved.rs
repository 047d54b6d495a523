//! Per call, interleaved: the handwritten baseline and the generated
//! method take turns in small rounds against one
//! loopback server, so that drift of the machine lands on all three alike.
//! Each round times `--calls` calls of each case (in an order that rotates
//! from round to round); the ratio to the handwritten call is taken per
//! round, and its median and spread (p10-p90) over `--rounds` rounds are
//! printed. Target: median at most 1.05 for both.
//!
//! The client runs on a current-thread Tokio runtime, and by default the
//! server too: one thread, no wake-ups across threads, so less spread (the
//! server's share of each call, the same for all cases, is then in every
//! time). `--server-thread` puts the server on a thread of its own.
//!
//! `cargo bench --bench interleaved [-- --rounds 2000 --calls 10 --server-thread]`

mod support;

use std::time::{Duration, Instant};

use support::{Case, SummaryCalls};

const TARGET: f64 = 1.05;

struct Options {
    rounds: usize,
    calls: usize,
    warm_up: usize,
    /// The server on a thread of its own rather than on the client's
    /// runtime.
    server_thread: bool,
}

/// `--rounds N` and `--calls N`; anything else (such as the `--bench`
/// cargo passes) is ignored.
fn options() -> Options {
    let mut options = Options {
        rounds: 2000,
        calls: 10,
        warm_up: 200,
        server_thread: false,
    };
    let args: Vec<String> = std::env::args().collect();
    options.server_thread = args.iter().any(|arg| arg == "--server-thread");
    for pair in args.windows(2) {
        let value = || -> usize {
            pair[1]
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .unwrap_or_else(|| panic!("{} takes a positive number", pair[0]))
        };
        match pair[0].as_str() {
            "--rounds" => options.rounds = value(),
            "--calls" => options.calls = value(),
            _ => {}
        }
    }
    options
}

/// The value below which `share` of the sorted `values` lie.
fn quantile(sorted: &[f64], share: f64) -> f64 {
    let index = ((sorted.len() - 1) as f64 * share).round() as usize;
    sorted[index]
}

fn summary(values: &mut [f64]) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    (
        quantile(values, 0.5),
        quantile(values, 0.1),
        quantile(values, 0.9),
    )
}

fn main() {
    let options = options();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let base_url = if options.server_thread {
        support::serve_on_own_thread(support::SUMMARY_JSON)
    } else {
        runtime.block_on(support::serve(support::SUMMARY_JSON))
    };
    let calls = runtime.block_on(async { SummaryCalls::new(&base_url) });
    runtime.block_on(async {
        calls.check_all_agree().await;
        for _ in 0..options.warm_up {
            for case in Case::ALL {
                calls.call(case).await;
            }
        }
    });

    let time = |case: Case| -> Duration {
        runtime.block_on(async {
            let start = Instant::now();
            for _ in 0..options.calls {
                calls.call(case).await;
            }
            start.elapsed() / options.calls as u32
        })
    };
    // Per case, the time per call of each round.
    let mut per_call: [Vec<f64>; 2] = Default::default();
    let mut ratios: [Vec<f64>; 1] = Default::default();
    for round in 0..options.rounds {
        let mut this_round = [0.0; 2];
        for turn in 0..Case::ALL.len() {
            let index = (round + turn) % Case::ALL.len();
            this_round[index] = time(Case::ALL[index]).as_secs_f64() * 1e6;
        }
        for (index, micros) in this_round.iter().enumerate() {
            per_call[index].push(*micros);
        }
        ratios[0].push(this_round[1] / this_round[0]);
    }

    println!(
        "per call, interleaved: {} rounds of {} calls per case (getClientSummaryInfo, loopback, server {})",
        options.rounds,
        options.calls,
        if options.server_thread {
            "on its own thread"
        } else {
            "on the client's thread"
        }
    );
    for (index, case) in Case::ALL.iter().enumerate() {
        let (median, p10, p90) = summary(&mut per_call[index]);
        println!(
            "  {:<12} median {median:>7.1} µs  (p10 {p10:.1}, p90 {p90:.1})",
            case.name()
        );
    }
    for (index, case) in [Case::Generated].iter().enumerate() {
        let (median, p10, p90) = summary(&mut ratios[index]);
        let verdict = if median <= TARGET { "meets" } else { "MISSES" };
        println!(
            "  {:<7}/ handwritten  ratio per round: median {median:.3}  (p10 {p10:.3}, p90 {p90:.3})  {verdict} the target {TARGET:.2}",
            case.name()
        );
    }
}
