//! What the audit benchmarks share: the real `rhombus-audit` binary run as
//! a child process (through a reaper, for its own peak RSS), its document
//! checked, and medians with their spread.

// Each benchmark uses part of this module.
#![allow(dead_code)]

use std::io::Write as _;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use rhombus_fake::FAKE_API_KEY;
use serde_json::Value;

/// The first argument that makes a benchmark's binary the reaper ([`reap`]).
const REAP: &str = "--reap";
/// What separates the audit's stdout from the reaper's figures.
const TRAILER: &str = "\nscale-reaped: ";

/// What the child left behind.
pub struct Child {
    pub wall: Duration,
    pub status: ExitStatus,
    pub stdout: String,
    pub peak_rss_kib: u64,
}

/// Becomes the reaper, and never returns, if the command line asks for it;
/// each benchmark's `main` calls this first.
pub fn reap_if_asked() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, reaper, program, rest @ ..] = &args[..]
        && reaper == REAP
    {
        reap(program, rest);
    }
}

pub fn env_or<T: FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a number")),
        Err(_) => default,
    }
}

/// Runs the binary against `uri` with `args` through `--reap` (see
/// [`reap`]).
pub fn run_audit(uri: &str, args: &[&str]) -> Child {
    let this = std::env::current_exe().expect("the bench knows its own path");
    let mut command = Command::new(this);
    command.args([REAP, env!("CARGO_BIN_EXE_rhombus-audit")]);
    command.args(args);
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

/// `BENCH --reap PROGRAM ARGS..`: runs PROGRAM with this process's stdio
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
/// `clients` complete records: `--json`'s document, or `--ndjson`'s lines
/// (one per client, then the summary).
pub fn check_document(child: &Child, clients: usize) {
    let text = &child.stdout;
    assert!(
        child.status.success(),
        "the audit exited with {}; its stdout began: {:.2000}",
        child.status,
        text
    );
    let (complete, records) = match serde_json::from_str::<Value>(text) {
        Ok(mut document) => {
            let records = document["clients"].take();
            let records = records.as_array().expect("a `clients` array").clone();
            (document["complete"].clone(), records)
        }
        Err(_) => {
            let mut lines: Vec<Value> = (text.lines())
                .map(|line| serde_json::from_str(line).expect("each line is JSON"))
                .collect();
            let summary = lines.pop().expect("a summary line");
            assert_eq!(summary["kind"], "summary");
            (summary["complete"].clone(), lines)
        }
    };
    assert_eq!(complete, Value::Bool(true), "the audit is not complete");
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

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// `median (min-max)`, with `digits` decimals.
pub fn spread(mut values: Vec<f64>, digits: usize) -> String {
    values.sort_by(f64::total_cmp);
    let (min, max) = (values[0], values[values.len() - 1]);
    format!(
        "{:.digits$} ({min:.digits$}-{max:.digits$})",
        median(values)
    )
}

pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}
