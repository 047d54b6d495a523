//! The audit against a fake Rhombus that limits every organization with a
//! token bucket (issue 29): learned pacing (the default) against today's
//! fixed concurrency (`--no-pacing`), interleaved in the same run.
//!
//! The real `rhombus-audit` binary (`--json --quiet`), run as a child
//! process (through the reaper of `child/`, as `scale` does) against the
//! fake served from this process, over `FakeFleet::generated(1000)`, every
//! answer delayed 50 ms, each organization (and the partner itself) behind
//! a bucket of the given rate and burst, which the client is not told.
//! Each round runs, for each bucket, paced and unpaced (in alternating
//! order), each on a fresh server. Per run:
//!
//! - wall: the child's, from its spawn to its reaping;
//! - calls: what the buckets admitted (the calls the audit needs), and
//!   the `429`s answered besides, as a share of all requests;
//! - bound: the larger of the rate bound (for each bucket, the calls it
//!   admitted beyond its burst over its rate: the least time the buckets
//!   need to admit them; the largest over the buckets) and the latency
//!   bound (calls × latency / in-flight limit);
//! - wall / bound (target for the paced audit: at most 1.15, with at most
//!   2 % of requests answered `429`), and the child's peak RSS.
//!
//! `cargo bench -p rhombus-audit --bench pacing`; environment:
//! `PACING_ROUNDS` (2), `PACING_CLIENTS` (1000), `PACING_LATENCY_MS` (50),
//! `PACING_BUCKETS` (`2/2,10/3`: rate per second / burst, comma-separated),
//! `PACING_BASELINE` (1; 0 runs the paced audits alone).

mod child;

use std::time::Duration;

use child::{check_document, env_or, mib, run_audit, spread};
use rhombus_fake::{FakeBucket, FakeFleet, FakeOptions, FakeServer};
use rhombus_partner::ClientBuilder;
use tokio::runtime::Runtime;

/// The paced audit's targets: wall over the bound, and `429`s over all
/// requests.
const TARGET_RATIO: f64 = 1.15;
const TARGET_LIMITED: f64 = 0.02;

struct Settings {
    rounds: usize,
    clients: usize,
    latency: Duration,
    buckets: Vec<FakeBucket>,
    /// Whether the unpaced audits run too.
    baseline: bool,
}

impl Settings {
    fn from_env() -> Settings {
        let buckets = std::env::var("PACING_BUCKETS").unwrap_or_else(|_| "2/2,10/3".into());
        Settings {
            rounds: env_or("PACING_ROUNDS", 2),
            clients: env_or("PACING_CLIENTS", 1000),
            latency: Duration::from_millis(env_or("PACING_LATENCY_MS", 50)),
            buckets: buckets.split(',').map(parse_bucket).collect(),
            baseline: env_or("PACING_BASELINE", 1) != 0,
        }
    }
}

/// `RATE/BURST`.
fn parse_bucket(text: &str) -> FakeBucket {
    let (rate, burst) = (text.trim().split_once('/'))
        .unwrap_or_else(|| panic!("PACING_BUCKETS: {text:?} is not RATE/BURST"));
    let number = |n: &str| -> f64 {
        (n.parse()).unwrap_or_else(|_| panic!("PACING_BUCKETS: {n:?} is not a number"))
    };
    FakeBucket {
        rate: number(rate),
        burst: number(burst),
    }
}

/// One audit, as measured.
struct Run {
    wall: Duration,
    /// Calls the buckets admitted.
    admitted: usize,
    /// Requests answered `429`.
    limited: usize,
    /// The least time the buckets need to admit what they admitted.
    rate_bound: Duration,
    peak_rss_kib: u64,
}

impl Run {
    /// The latency bound: the in-flight limit always full.
    fn latency_bound(&self, settings: &Settings) -> Duration {
        let in_flight = ClientBuilder::DEFAULT_MAX_CONCURRENT_REQUESTS as u32;
        settings.latency * self.admitted as u32 / in_flight
    }

    fn bound(&self, settings: &Settings) -> Duration {
        self.rate_bound.max(self.latency_bound(settings))
    }

    fn ratio(&self, settings: &Settings) -> f64 {
        self.wall.as_secs_f64() / self.bound(settings).as_secs_f64()
    }

    fn limited_share(&self) -> f64 {
        self.limited as f64 / (self.admitted + self.limited) as f64
    }
}

fn main() {
    child::reap_if_asked();
    let settings = Settings::from_env();
    assert!(settings.rounds > 0, "PACING_ROUNDS is at least 1");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    println!(
        "pacing: {} clients, {} ms per answer, {} in flight, {} rounds",
        settings.clients,
        settings.latency.as_millis(),
        ClientBuilder::DEFAULT_MAX_CONCURRENT_REQUESTS,
        settings.rounds,
    );
    // runs[bucket][paced as usize]
    let mut runs: Vec<[Vec<Run>; 2]> = settings
        .buckets
        .iter()
        .map(|_| Default::default())
        .collect();
    for round in 1..=settings.rounds {
        for (n, bucket) in settings.buckets.iter().enumerate() {
            // Alternating which goes first, so that neither always runs
            // on a machine the other just warmed.
            let order = match round % 2 {
                1 => [true, false],
                _ => [false, true],
            };
            for paced in order {
                if !paced && !settings.baseline {
                    continue;
                }
                let run = audit(&runtime, &settings, *bucket, paced);
                print_run(round, &settings, bucket, paced, &run);
                runs[n][usize::from(paced)].push(run);
            }
        }
    }
    summary(&settings, &runs);
}

/// One audit against a fresh server behind `bucket`.
fn audit(runtime: &Runtime, settings: &Settings, bucket: FakeBucket, paced: bool) -> Run {
    let options = FakeOptions {
        latency: settings.latency,
        bucket: Some(bucket),
        ..FakeOptions::default()
    };
    let fleet = FakeFleet::generated(settings.clients);
    let server = runtime.block_on(FakeServer::start(fleet, options));
    let mut args = vec!["--json", "--quiet"];
    if !paced {
        args.push("--no-pacing");
    }
    let child = run_audit(&server.uri(), &args);
    check_document(&child, settings.clients);
    let admitted = server.admitted_by_bucket();
    let most = admitted.values().copied().max().unwrap_or(0);
    let beyond_burst = (most as f64 - bucket.burst).max(0.0);
    let run = Run {
        wall: child.wall,
        admitted: admitted.values().sum(),
        limited: server.rate_limited(),
        rate_bound: Duration::from_secs_f64(beyond_burst / bucket.rate),
        peak_rss_kib: child.peak_rss_kib,
    };
    // The server stops when dropped, within the runtime it started on.
    let _context = runtime.enter();
    drop(server);
    run
}

fn name(bucket: &FakeBucket, paced: bool) -> String {
    let mode = if paced { "paced" } else { "unpaced" };
    format!("{}/s burst {} {mode}", bucket.rate, bucket.burst)
}

fn print_run(round: usize, settings: &Settings, bucket: &FakeBucket, paced: bool, run: &Run) {
    println!(
        "round {round} {:<22} wall {:>6.2} s  calls {:>5}  429s {:>5} ({:>5.2} %)  rate bound \
         {:>5.2} s  latency bound {:>5.2} s  ratio {:.3}  peak RSS {:>5.1} MiB",
        name(bucket, paced),
        run.wall.as_secs_f64(),
        run.admitted,
        run.limited,
        100.0 * run.limited_share(),
        run.rate_bound.as_secs_f64(),
        run.latency_bound(settings).as_secs_f64(),
        run.ratio(settings),
        mib(run.peak_rss_kib),
    );
}

fn summary(settings: &Settings, runs: &[[Vec<Run>; 2]]) {
    println!("\nmedians over {} rounds (min-max):", settings.rounds);
    for (bucket, [unpaced, paced]) in settings.buckets.iter().zip(runs) {
        for (runs, is_paced) in [(paced, true), (unpaced, false)] {
            if runs.is_empty() {
                continue;
            }
            let of = |field: &dyn Fn(&Run) -> f64, digits| {
                spread(runs.iter().map(field).collect(), digits)
            };
            println!(
                "  {:<22} wall {} s  bound {} s  ratio {}  429s {} %  peak RSS {} MiB",
                name(bucket, is_paced),
                of(&|r| r.wall.as_secs_f64(), 2),
                of(&|r| r.bound(settings).as_secs_f64(), 2),
                of(&|r| r.ratio(settings), 3),
                of(&|r| 100.0 * r.limited_share(), 2),
                of(&|r| mib(r.peak_rss_kib), 1),
            );
        }
        let ratio = child::median(paced.iter().map(|r| r.ratio(settings)).collect());
        let limited = child::median(paced.iter().map(Run::limited_share).collect());
        let met = ratio <= TARGET_RATIO && limited <= TARGET_LIMITED;
        println!(
            "    paced: ratio {ratio:.3} (target at most {TARGET_RATIO}), 429s {:.2} % (at most \
             {} %): {}",
            100.0 * limited,
            100.0 * TARGET_LIMITED,
            if met { "met" } else { "NOT met" }
        );
    }
}
