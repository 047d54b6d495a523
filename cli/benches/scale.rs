//! The audit at scale: the real `rhombus-audit` binary, run as a child
//! process against a fake Rhombus API in this process, over a generated
//! fleet (1,000 clients by default) whose every answer takes 50 ms.
//!
//! Each round runs two scenarios, each on a fresh server: `plain`, and
//! `limited`, where every tenth client answers each of its calls once with
//! `429` and `Retry-After: 1`. Per run: the child's wall time, the calls the
//! server answered, the bound those calls set (calls × latency / in-flight
//! limit: the time if the limit were always full), the wall time against
//! it, and the child's peak resident set. Then medians and spreads.
//!
//! `cargo bench -p rhombus-audit --bench scale`; environment:
//! `SCALE_ROUNDS` (3), `SCALE_CLIENTS` (1000), `SCALE_LATENCY_MS` (50),
//! `SCALE_CONCURRENCY` (the binary's default; passed as `--concurrency`).

use std::io::Write as _;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use rhombus_fake::{FAKE_API_KEY, FakeFleet, FakeOptions, FakeServer};
use rhombus_partner::ClientBuilder;
use serde_json::Value;
use tokio::runtime::Runtime;

/// The wall time against the bound this benchmark aims at.
const TARGET_RATIO: f64 = 1.15;
/// In the `limited` scenario, every this-many-th client is rate limited.
const RATE_LIMIT_EVERY: usize = 10;

/// What to run, from the environment.
struct Settings {
    rounds: usize,
    clients: usize,
    latency: Duration,
    /// `--concurrency` for the child; `None` leaves the binary's default.
    concurrency: Option<usize>,
}

impl Settings {
    fn from_env() -> Settings {
        Settings {
            rounds: env_or("SCALE_ROUNDS", 3),
            clients: env_or("SCALE_CLIENTS", 1000),
            latency: Duration::from_millis(env_or("SCALE_LATENCY_MS", 50)),
            concurrency: std::env::var("SCALE_CONCURRENCY")
                .ok()
                .map(|v| v.parse().expect("SCALE_CONCURRENCY is a number")),
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

fn env_or<T: FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a number")),
        Err(_) => default,
    }
}

/// One audit, as measured.
struct Run {
    wall: Duration,
    calls: usize,
    rate_limited: usize,
    peak_rss_kib: u64,
}

/// What the child left behind.
struct Child {
    wall: Duration,
    status: ExitStatus,
    stdout: String,
    peak_rss_kib: u64,
}

/// The first argument that makes this binary the reaper ([`reap`]).
const REAP: &str = "--reap";
/// What separates the audit's stdout from the reaper's figures.
const TRAILER: &str = "\nscale-reaped: ";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, reaper, program, rest @ ..] = &args[..]
        && reaper == REAP
    {
        reap(program, rest);
    }
    let settings = Settings::from_env();
    assert!(settings.rounds > 0, "SCALE_ROUNDS is at least 1");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    println!(
        "scale: {} clients, {} ms per answer, {} in flight, {} rounds (plain, then every \
         {RATE_LIMIT_EVERY}th client rate limited)",
        settings.clients,
        settings.latency.as_millis(),
        settings.in_flight(),
        settings.rounds,
    );
    let mut rounds = Vec::with_capacity(settings.rounds);
    for round in 1..=settings.rounds {
        let plain = scenario(&runtime, &settings, None);
        print_run(round, "plain", &settings, &plain, None);
        let limited = scenario(&runtime, &settings, Some(RATE_LIMIT_EVERY));
        print_run(round, "limited", &settings, &limited, Some(&plain));
        rounds.push((plain, limited));
    }
    summary(&settings, &rounds);
}

/// One audit against a fresh server.
fn scenario(runtime: &Runtime, settings: &Settings, rate_limit_every: Option<usize>) -> Run {
    let options = FakeOptions {
        latency: settings.latency,
        rate_limit_every,
        ..FakeOptions::default()
    };
    let fleet = FakeFleet::generated(settings.clients);
    let server = runtime.block_on(FakeServer::start(fleet, options));
    let (calls, limited) = (server.requests(), server.rate_limited());
    let child = run_audit(&server.uri(), settings.concurrency);
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

/// Runs the binary against `uri` through `--reap` (see [`reap`]).
fn run_audit(uri: &str, concurrency: Option<usize>) -> Child {
    let this = std::env::current_exe().expect("the bench knows its own path");
    let mut command = Command::new(this);
    command.args([
        REAP,
        env!("CARGO_BIN_EXE_rhombus-audit"),
        "--json",
        "--quiet",
    ]);
    if let Some(n) = concurrency {
        command.args(["--concurrency", &n.to_string()]);
    }
    command
        .env("RHOMBUS_API_KEY", FAKE_API_KEY)
        .env("RHOMBUS_BASE_URL", uri)
        .env_remove("RHOMBUS_AUTH_SCHEME")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let output = command.output().expect("the reaper runs");
    assert!(
        output.status.success(),
        "the reaper failed: {}",
        output.status
    );
    let text = String::from_utf8(output.stdout).expect("the audit's stdout is UTF-8");
    let (document, trailer) = (text.rsplit_once(TRAILER)).expect("the reaper's trailer");
    let fields: Vec<i64> = (trailer.split_whitespace())
        .map(|f| f.parse().expect("the trailer holds numbers"))
        .collect();
    let [wall_ns, rss_kib, status] = fields[..] else {
        panic!("the trailer holds three numbers: {trailer:?}");
    };
    Child {
        wall: Duration::from_nanos(wall_ns.try_into().expect("a wall time is positive")),
        status: ExitStatus::from_raw(i32::try_from(status).expect("a wait status fits")),
        stdout: document.to_owned(),
        peak_rss_kib: rss_kib.try_into().expect("a peak RSS is positive"),
    }
}

/// `scale --reap PROGRAM ARGS..`: runs PROGRAM with this process's stdio
/// and environment, reaps it with `wait4`, and appends its wall time, peak
/// resident set and wait status to stdout, after [`TRAILER`].
///
/// Why a process between: Linux gives a child spawned with `vfork` (as std
/// does) the spawner's peak RSS as its own floor (`exec` keeps the old
/// memory's peak in `ru_maxrss`), and the bench grows to ~50 MiB with its
/// servers, more than the audit itself. This small process spawns the
/// audit instead, so `ru_maxrss` is the audit's.
fn reap(program: &str, args: &[String]) -> ! {
    let started = Instant::now();
    let child = (Command::new(program).args(args).spawn()).expect("the audit binary starts");
    let (status, usage) = wait4(child.id());
    let wall = started.elapsed();
    print!(
        "{TRAILER}{} {} {}",
        wall.as_nanos(),
        usage.ru_maxrss,
        status.into_raw()
    );
    std::io::stdout().flush().expect("the trailer is written");
    std::process::exit(0)
}

/// Reaps `pid`, with its resource usage.
fn wait4(pid: u32) -> (ExitStatus, libc::rusage) {
    let pid = libc::pid_t::try_from(pid).expect("a pid fits pid_t");
    let mut status = 0;
    // SAFETY: an all-zero `rusage` is a valid value of that plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `status` and `usage` are valid for writes for the call;
        // `pid` is our own child, not yet reaped (std's `Child` never waited).
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            return (ExitStatus::from_raw(status), usage);
        }
        let error = std::io::Error::last_os_error();
        assert!(
            error.kind() == std::io::ErrorKind::Interrupted,
            "wait4 on the audit failed: {error}"
        );
    }
}

/// Fails loudly unless the audit exited 0 with a complete document of
/// `clients` complete records.
fn check_document(child: &Child, clients: usize) {
    let text = &child.stdout;
    assert!(
        child.status.success(),
        "the audit exited with {}; its stdout began: {:.2000}",
        child.status,
        text
    );
    let document: Value = serde_json::from_str(text).expect("the audit's stdout is JSON");
    assert_eq!(
        document["complete"],
        Value::Bool(true),
        "the audit is not complete"
    );
    let records = document["clients"]
        .as_array()
        .expect("the document has a `clients` array");
    assert_eq!(records.len(), clients, "one record per client");
    let failed: Vec<&Value> = (records.iter())
        .filter(|r| r["complete"] != Value::Bool(true))
        .collect();
    assert!(
        failed.is_empty(),
        "{} clients not complete, the first: {}",
        failed.len(),
        failed[0]
    );
}

fn print_run(round: usize, name: &str, settings: &Settings, run: &Run, plain: Option<&Run>) {
    let mut line = format!(
        "round {round} {name:<7} wall {:>6.2} s  calls {:>5}  429s {:>4}  bound {:>6.2} s  \
         ratio {}  peak RSS {:>5.1} MiB",
        run.wall.as_secs_f64(),
        run.calls,
        run.rate_limited,
        settings.bound(run.calls).as_secs_f64(),
        ratio_text(ratio_to_bound(settings, run)),
        mib(run.peak_rss_kib),
    );
    if let Some(plain) = plain {
        line += &format!(
            "  vs plain {:.3} ({:+.2} s)",
            slowdown(plain, run),
            run.wall.as_secs_f64() - plain.wall.as_secs_f64()
        );
    }
    println!("{line}");
}

/// Wall time over the bound; `None` without latency (no bound).
fn ratio_to_bound(settings: &Settings, run: &Run) -> Option<f64> {
    let bound = settings.bound(run.calls).as_secs_f64();
    (bound > 0.0).then(|| run.wall.as_secs_f64() / bound)
}

fn ratio_text(ratio: Option<f64>) -> String {
    ratio.map_or_else(|| "    -".to_owned(), |r| format!("{r:.3}"))
}

fn slowdown(plain: &Run, limited: &Run) -> f64 {
    limited.wall.as_secs_f64() / plain.wall.as_secs_f64()
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn summary(settings: &Settings, rounds: &[(Run, Run)]) {
    println!("\nmedians over {} rounds (min-max):", rounds.len());
    let plain: Vec<&Run> = rounds.iter().map(|(plain, _)| plain).collect();
    let limited: Vec<&Run> = rounds.iter().map(|(_, limited)| limited).collect();
    print_medians(settings, "plain", &plain);
    print_medians(settings, "limited", &limited);
    let wall = |run: &Run| run.wall.as_secs_f64();
    let slowdowns = rounds.iter().map(|(p, l)| slowdown(p, l)).collect();
    let later = rounds.iter().map(|(p, l)| wall(l) - wall(p)).collect();
    println!(
        "  limited / plain {}  later by {} s",
        spread(slowdowns, 3),
        spread(later, 2)
    );
    let plain_ratios: Vec<f64> = (plain.iter())
        .filter_map(|run| ratio_to_bound(settings, run))
        .collect();
    if !plain_ratios.is_empty() {
        let median = median(plain_ratios);
        let verdict = if median <= TARGET_RATIO {
            "met"
        } else {
            "NOT met"
        };
        println!("  plain ratio to bound {median:.3}: target at most {TARGET_RATIO} {verdict}");
    }
}

fn print_medians(settings: &Settings, name: &str, runs: &[&Run]) {
    let of =
        |field: fn(&Run) -> f64, digits| spread(runs.iter().map(|r| field(r)).collect(), digits);
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

/// `median (min-max)`, with `digits` decimals.
fn spread(mut values: Vec<f64>, digits: usize) -> String {
    values.sort_by(f64::total_cmp);
    let (min, max) = (values[0], values[values.len() - 1]);
    format!(
        "{:.digits$} ({min:.digits$}-{max:.digits$})",
        median(values)
    )
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}
