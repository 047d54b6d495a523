//! The audit at scale: the real `rhombus-audit` binary, run as a child
//! process against a fake Rhombus API in this process, over a generated
//! fleet (1,000 clients by default) whose every answer takes 50 ms.
//!
//! Each round runs the scenarios `SCALE_SCENARIOS` names (default
//! `plain,limited`), each on a fresh server: `plain` (`--json`), `ndjson`
//! (the same, with `--ndjson`: records streamed, none kept), and `limited`
//! (`--json`), where every tenth client answers each of its calls once
//! with `429` and `Retry-After: 1`. Per run: the child's wall time, the calls the
//! server answered, the bound those calls set (calls × latency / in-flight
//! limit: the time if the limit were always full), the wall time against
//! it, and the child's peak resident set. Then medians and spreads.
//!
//! `cargo bench -p rhombus-audit --bench scale`; environment:
//! `SCALE_ROUNDS` (3), `SCALE_CLIENTS` (1000), `SCALE_LATENCY_MS` (50),
//! `SCALE_CONCURRENCY` (the binary's default; passed as `--concurrency`),
//! `SCALE_SCENARIOS` (`plain,limited`), `SCALE_TARGET` (1.15: the ratio to
//! the bound the plain run aims at).

mod child;

use std::time::Duration;

use child::{Child, check_document, env_or, median, mib, run_audit, spread};
use rhombus_fake::{FakeFleet, FakeOptions, FakeServer};
use rhombus_partner::ClientBuilder;
use tokio::runtime::Runtime;

/// In the `limited` scenario, every this-many-th client is rate limited.
const RATE_LIMIT_EVERY: usize = 10;

/// What to run, from the environment.
struct Settings {
    rounds: usize,
    clients: usize,
    latency: Duration,
    /// `--concurrency` for the child; `None` leaves the binary's default.
    concurrency: Option<usize>,
    scenarios: Vec<Scenario>,
    /// The wall time against the bound the plain run aims at.
    target: f64,
}

/// One way to run the audit.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Plain,
    Ndjson,
    Limited,
}

impl Scenario {
    fn parse(name: &str) -> Scenario {
        match name.trim() {
            "plain" => Scenario::Plain,
            "ndjson" => Scenario::Ndjson,
            "limited" => Scenario::Limited,
            other => panic!("SCALE_SCENARIOS: {other:?} is not plain, ndjson or limited"),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Scenario::Plain => "plain",
            Scenario::Ndjson => "ndjson",
            Scenario::Limited => "limited",
        }
    }

    fn output(self) -> &'static str {
        match self {
            Scenario::Ndjson => "--ndjson",
            Scenario::Plain | Scenario::Limited => "--json",
        }
    }

    fn rate_limit_every(self) -> Option<usize> {
        (self == Scenario::Limited).then_some(RATE_LIMIT_EVERY)
    }
}

impl Settings {
    fn from_env() -> Settings {
        let scenarios = std::env::var("SCALE_SCENARIOS").unwrap_or_else(|_| "plain,limited".into());
        Settings {
            rounds: env_or("SCALE_ROUNDS", 3),
            clients: env_or("SCALE_CLIENTS", 1000),
            latency: Duration::from_millis(env_or("SCALE_LATENCY_MS", 50)),
            concurrency: std::env::var("SCALE_CONCURRENCY")
                .ok()
                .map(|v| v.parse().expect("SCALE_CONCURRENCY is a number")),
            scenarios: scenarios.split(',').map(Scenario::parse).collect(),
            target: env_or("SCALE_TARGET", 1.15),
        }
    }

    /// The in-flight limit the child runs with.
    fn in_flight(&self) -> usize {
        self.concurrency
            .unwrap_or(ClientBuilder::DEFAULT_MAX_CONCURRENT_REQUESTS)
    }

    /// The least wall time `calls` can take: the in-flight limit always
    /// full, each call taking exactly the latency.
    fn bound(&self, calls: usize) -> Duration {
        self.latency * calls as u32 / self.in_flight() as u32
    }
}

/// One audit, as measured.
struct Run {
    wall: Duration,
    calls: usize,
    rate_limited: usize,
    peak_rss_kib: u64,
}

fn main() {
    child::reap_if_asked();
    let settings = Settings::from_env();
    assert!(settings.rounds > 0, "SCALE_ROUNDS is at least 1");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let names: Vec<&str> = settings.scenarios.iter().map(|s| s.name()).collect();
    println!(
        "scale: {} clients, {} ms per answer, {} in flight, {} rounds of {} (limited: every \
         {RATE_LIMIT_EVERY}th client rate limited)",
        settings.clients,
        settings.latency.as_millis(),
        settings.in_flight(),
        settings.rounds,
        names.join(", "),
    );
    let mut runs: Vec<Vec<Run>> = settings.scenarios.iter().map(|_| Vec::new()).collect();
    for round in 1..=settings.rounds {
        for (n, scenario) in settings.scenarios.iter().enumerate() {
            let run = scenario_run(&runtime, &settings, *scenario);
            print_run(round, scenario.name(), &settings, &run);
            runs[n].push(run);
        }
    }
    summary(&settings, &runs);
}

/// One audit against a fresh server.
fn scenario_run(runtime: &Runtime, settings: &Settings, scenario: Scenario) -> Run {
    let options = FakeOptions {
        latency: settings.latency,
        rate_limit_every: scenario.rate_limit_every(),
        ..FakeOptions::default()
    };
    let fleet = FakeFleet::generated(settings.clients);
    let server = runtime.block_on(FakeServer::start(fleet, options));
    let (calls, limited) = (server.requests(), server.rate_limited());
    let child = audit(&server.uri(), settings, scenario);
    check_document(&child, settings.clients);
    let run = Run {
        wall: child.wall,
        calls: server.requests() - calls,
        rate_limited: server.rate_limited() - limited,
        peak_rss_kib: child.peak_rss_kib,
    };
    // The server stops when dropped, within the runtime it started on.
    let _context = runtime.enter();
    drop(server);
    run
}

/// The audit of `scenario` against `uri`.
fn audit(uri: &str, settings: &Settings, scenario: Scenario) -> Child {
    let concurrency = settings.concurrency.map(|n| n.to_string());
    let mut args = vec![scenario.output(), "--quiet"];
    if let Some(n) = &concurrency {
        args.extend(["--concurrency", n]);
    }
    run_audit(uri, &args)
}

fn print_run(round: usize, name: &str, settings: &Settings, run: &Run) {
    println!(
        "round {round} {name:<7} wall {:>6.2} s  calls {:>5}  429s {:>4}  bound {:>6.2} s  \
         ratio {}  peak RSS {:>5.1} MiB",
        run.wall.as_secs_f64(),
        run.calls,
        run.rate_limited,
        settings.bound(run.calls).as_secs_f64(),
        ratio_text(ratio_to_bound(settings, run)),
        mib(run.peak_rss_kib),
    );
}

/// Wall time over the bound; `None` without latency (no bound).
fn ratio_to_bound(settings: &Settings, run: &Run) -> Option<f64> {
    let bound = settings.bound(run.calls).as_secs_f64();
    (bound > 0.0).then(|| run.wall.as_secs_f64() / bound)
}

fn ratio_text(ratio: Option<f64>) -> String {
    ratio.map_or_else(|| "    -".to_owned(), |r| format!("{r:.3}"))
}

fn summary(settings: &Settings, runs: &[Vec<Run>]) {
    println!("\nmedians over {} rounds (min-max):", settings.rounds);
    for (scenario, runs) in settings.scenarios.iter().zip(runs) {
        print_medians(settings, scenario.name(), runs);
    }
    let of = |wanted| (settings.scenarios.iter()).position(|s| *s == wanted);
    if let (Some(plain), Some(limited)) = (of(Scenario::Plain), of(Scenario::Limited)) {
        let pairs = runs[plain].iter().zip(&runs[limited]);
        let wall = |run: &Run| run.wall.as_secs_f64();
        let slowdowns = pairs.clone().map(|(p, l)| wall(l) / wall(p)).collect();
        let later = pairs.map(|(p, l)| wall(l) - wall(p)).collect();
        println!(
            "  limited / plain {}  later by {} s",
            spread(slowdowns, 3),
            spread(later, 2)
        );
    }
    for scenario in [Scenario::Plain, Scenario::Ndjson] {
        let Some(n) = of(scenario) else { continue };
        let ratios: Vec<f64> = (runs[n].iter())
            .filter_map(|run| ratio_to_bound(settings, run))
            .collect();
        if ratios.is_empty() {
            continue;
        }
        let median = median(ratios);
        let verdict = if median <= settings.target {
            "met"
        } else {
            "NOT met"
        };
        println!(
            "  {} ratio to bound {median:.3}: target at most {} {verdict}",
            scenario.name(),
            settings.target
        );
    }
}

fn print_medians(settings: &Settings, name: &str, runs: &[Run]) {
    let of = |field: fn(&Run) -> f64, digits| spread(runs.iter().map(field).collect(), digits);
    let ratios: Vec<f64> = (runs.iter())
        .filter_map(|run| ratio_to_bound(settings, run))
        .collect();
    let ratio = if ratios.is_empty() {
        "-".to_owned()
    } else {
        spread(ratios, 3)
    };
    println!(
        "  {name:<7} wall {} s  ratio to bound {ratio}  peak RSS {} MiB  calls {}  429s {}",
        of(|r| r.wall.as_secs_f64(), 2),
        of(|r| mib(r.peak_rss_kib), 1),
        of(|r| r.calls as f64, 0),
        of(|r| r.rate_limited as f64, 0),
    );
}
