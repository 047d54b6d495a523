//! `serve` over time: the real `rhombus-audit serve` as a child process,
//! auditing a generated fleet (1,000 clients by default, every answer
//! 50 ms late) on a fake Rhombus API in this process, once per interval
//! (1 minute by default) for 10 intervals, while a thread here scrapes
//! `/metrics` again and again.
//!
//! Two figures, each with its aim:
//! - memory stays flat: the child's resident set at the end of the last
//!   interval within 10 % of its resident set at the end of the second (the
//!   first holds one audit, every later one two at most: the one served
//!   and the one being made);
//! - a scrape is answered within 50 ms while an audit runs: max and p99
//!   of the scrapes made while the fake was answering the audit's calls.
//!
//! `cargo bench -p rhombus-audit --bench serve`; environment (as
//! `scale.rs` takes its own): `SERVE_CLIENTS` (1000), `SERVE_LATENCY_MS`
//! (50), `SERVE_INTERVAL_S` (60), `SERVE_INTERVALS` (10),
//! `SERVE_SCRAPE_PAUSE_MS` (100, between one scrape's end and the next).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rhombus_fake::{FAKE_API_KEY, FakeFleet, FakeOptions, FakeServer};

/// The aims.
const RSS_GROWTH_LIMIT: f64 = 0.10;
const SCRAPE_LIMIT: Duration = Duration::from_millis(50);

struct Settings {
    clients: usize,
    latency: Duration,
    interval: Duration,
    intervals: u32,
    scrape_pause: Duration,
}

impl Settings {
    fn from_env() -> Settings {
        Settings {
            clients: env_or("SERVE_CLIENTS", 1000),
            latency: Duration::from_millis(env_or("SERVE_LATENCY_MS", 50)),
            interval: Duration::from_secs(env_or("SERVE_INTERVAL_S", 60)),
            intervals: env_or("SERVE_INTERVALS", 10),
            scrape_pause: Duration::from_millis(env_or("SERVE_SCRAPE_PAUSE_MS", 100)),
        }
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

/// One scrape: how long it took, and whether the fake was answering the
/// audit's calls meanwhile.
struct Scrape {
    took: Duration,
    during_audit: bool,
}

fn main() {
    let settings = Settings::from_env();
    assert!(settings.intervals >= 2, "SERVE_INTERVALS is at least 2");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let options = FakeOptions {
        latency: settings.latency,
        ..FakeOptions::default()
    };
    let fleet = FakeFleet::generated(settings.clients);
    let server = Arc::new(runtime.block_on(FakeServer::start(fleet, options)));
    println!(
        "serve: {} clients, {} ms per answer, every {} s for {} intervals, a scrape every {} ms",
        settings.clients,
        settings.latency.as_millis(),
        settings.interval.as_secs(),
        settings.intervals,
        settings.scrape_pause.as_millis(),
    );
    let (mut child, address) = start_serve(&server.uri(), settings.interval);
    let stop = Arc::new(AtomicBool::new(false));
    let scraper = {
        let (server, stop, pause) = (server.clone(), stop.clone(), settings.scrape_pause);
        std::thread::spawn(move || scrape_until(address, &server, &stop, pause))
    };
    let started = Instant::now();
    let mut rss = Vec::new();
    for n in 1..=settings.intervals {
        // Just before the next audit starts: the audit of this interval
        // served, the next not begun.
        let end = settings.interval * n - Duration::from_millis(500);
        std::thread::sleep(end.saturating_sub(started.elapsed()));
        let kib = rss_kib(child.id());
        println!(
            "interval {n:>2}: RSS {:.1} MiB, {} requests answered so far",
            kib as f64 / 1024.0,
            server.requests()
        );
        rss.push(kib);
    }
    stop.store(true, Ordering::Relaxed);
    let scrapes = scraper.join().expect("the scraper ends");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().expect("serve is waited for");
    report(&rss, &scrapes);
    println!("serve exited with {status} after SIGTERM");
    let _context = runtime.enter();
    drop(server);
}

/// Starts `serve` against `uri`; its address from its first line.
fn start_serve(uri: &str, interval: Duration) -> (Child, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rhombus-audit"))
        .args(["serve", "--quiet", "--listen", "127.0.0.1:0", "--interval"])
        .arg(format!("{}s", interval.as_secs()))
        .env("RHOMBUS_API_KEY", FAKE_API_KEY)
        .env("RHOMBUS_BASE_URL", uri)
        .env_remove("RHOMBUS_AUTH_SCHEME")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the address line");
    let address = (line.trim().strip_prefix("http://"))
        .and_then(|a| a.parse().ok())
        .expect("the first line is the address");
    (child, address)
}

/// The resident set of `pid` now, in KiB (`VmRSS`).
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc is read");
    (status.lines())
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS is there")
}

/// Scrapes `/metrics` until `stop`, each scrape timed and marked as made
/// during an audit when the fake answered requests meanwhile.
fn scrape_until(
    address: SocketAddr,
    server: &FakeServer,
    stop: &AtomicBool,
    pause: Duration,
) -> Vec<Scrape> {
    let mut scrapes = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let before = server.requests();
        let start = Instant::now();
        let size = scrape(address);
        let took = start.elapsed();
        // An audit in progress: requests before, during and after.
        std::thread::sleep(pause);
        let during_audit = server.requests() > before;
        if size > 0 {
            scrapes.push(Scrape { took, during_audit });
        }
    }
    scrapes
}

/// One `GET /metrics`; the body's length (0 when refused).
fn scrape(address: SocketAddr) -> usize {
    let Ok(mut stream) = TcpStream::connect(address) else {
        return 0;
    };
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return 0;
    }
    let mut body = Vec::new();
    let _ = stream.read_to_end(&mut body);
    body.len()
}

fn report(rss: &[u64], scrapes: &[Scrape]) {
    let (second, last) = (rss[1] as f64, rss[rss.len() - 1] as f64);
    let growth = (last - second) / second;
    let verdict = |ok: bool| if ok { "met" } else { "NOT MET" };
    println!(
        "memory: RSS {:.1} MiB after the 2nd interval, {:.1} MiB after the last: {:+.1} % \
         (aim: within {:.0} %: {})",
        second / 1024.0,
        last / 1024.0,
        growth * 100.0,
        RSS_GROWTH_LIMIT * 100.0,
        verdict(growth.abs() <= RSS_GROWTH_LIMIT)
    );
    for (name, during) in [("during an audit", true), ("between audits", false)] {
        let mut took: Vec<Duration> = (scrapes.iter())
            .filter(|s| s.during_audit == during)
            .map(|s| s.took)
            .collect();
        if took.is_empty() {
            println!("scrapes {name}: none");
            continue;
        }
        took.sort();
        let p99 = took[(took.len() * 99 / 100).min(took.len() - 1)];
        let max = took[took.len() - 1];
        let aim = if during {
            format!(
                " (aim: max within {} ms: {})",
                SCRAPE_LIMIT.as_millis(),
                verdict(max <= SCRAPE_LIMIT)
            )
        } else {
            String::new()
        };
        println!(
            "scrapes {name}: {}, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms{aim}",
            took.len(),
            ms(took[took.len() / 2]),
            ms(p99),
            ms(max),
        );
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
