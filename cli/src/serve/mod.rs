//! `rhombus-audit serve`: audits on an interval and serves the last audit
//! that finished, as metrics (`/metrics`), as an HTML page (`/`) and as a
//! health check (`/healthz`), until SIGTERM or Ctrl-C.
//!
//! The audit loop and the HTTP server share one [`Snapshot`], replaced
//! whole after each audit; a scrape takes the current one and never waits
//! for an audit. The audit loop writes both formats of a snapshot before
//! it publishes it, so a scrape copies bytes already written.

pub mod exposition;
pub mod metrics;
pub mod page;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use clap::builder::TypedValueParser as _;
use rhombus_partner::{Client, ClientBuilder, RequestCounts};

use crate::audit::{self, Audit, AuditError, Plan, SortBy};
use crate::config::RegionName;
use crate::diff::Change;
use crate::facts::ErrorKind;
use exposition::Format;

/// The command line of `serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// The address to serve on, e.g. 127.0.0.1:9187 (port 0: a free one;
    /// the first line on stdout says which).
    #[arg(long, value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Time from the start of one audit to the start of the next, e.g.
    /// 90s, 5m, 1h. An audit that takes longer is followed by the next at
    /// once.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_interval)]
    pub interval: Duration,
    /// Audit the partner account of [profiles.NAME] in the config file,
    /// instead of RHOMBUS_API_KEY's.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// The config file (as for the audit).
    #[arg(long, value_name = "PATH", requires = "profile")]
    pub config: Option<PathBuf>,
    /// The API's region, for RHOMBUS_API_KEY's account or a profile's.
    #[arg(long, value_enum, value_name = "REGION")]
    pub region: Option<RegionName>,
    /// Audit only these clients: UUIDs or names, comma-separated, @FILE
    /// (one a line) or - (standard input, read once at the start).
    #[arg(long, value_delimiter = ',', value_name = "CLIENT,...|@FILE|-",
          value_parser = clap::builder::NonEmptyStringValueParser::new().try_map(crate::clients::trim_entry))]
    pub clients: Vec<String>,
    /// Requests in flight at once, across all clients.
    #[arg(long, value_name = "N", default_value_t = ClientBuilder::DEFAULT_MAX_CONCURRENT_REQUESTS,
          value_parser = clap::value_parser!(u16).range(1..).map(usize::from))]
    pub concurrency: usize,
    /// No note about the fake server.
    #[arg(long, short)]
    pub quiet: bool,
    /// Log more on stderr: -v each retry and each audit, -vv every attempt.
    #[arg(long, short, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// The shortest interval: shorter would audit back to back and say so
/// less clearly than `1s`.
const MIN_INTERVAL: Duration = Duration::from_secs(1);

fn parse_interval(text: &str) -> Result<Duration, String> {
    let interval = humantime::parse_duration(text.trim()).map_err(|e| e.to_string())?;
    if interval < MIN_INTERVAL {
        return Err(format!(
            "at least {}",
            humantime::format_duration(MIN_INTERVAL)
        ));
    }
    Ok(interval)
}

/// The audit served, with what it took and what changed since the one
/// served before it.
#[derive(Debug)]
pub struct Served {
    pub audit: Audit,
    pub finished_at: DateTime<Utc>,
    pub duration: Duration,
    /// The requests, retries and `429`s it took.
    pub counts: RequestCounts,
    /// `None` for the first audit served.
    pub changes: Option<Vec<Change>>,
}

/// An audit that finished, successful or not.
#[derive(Debug, Clone)]
pub struct LastAttempt {
    pub finished_at: DateTime<Utc>,
    /// Why nothing was served from it.
    pub failure: Option<Failure>,
}

#[derive(Debug, Clone)]
pub struct Failure {
    pub kind: ErrorKind,
    pub message: String,
}

impl Failure {
    fn of(error: &AuditError) -> Failure {
        let kind = match error {
            AuditError::Listing(e) => ErrorKind::of(e),
            AuditError::UnknownClients(_) => ErrorKind::NotFound,
        };
        Failure {
            kind,
            message: error.to_string(),
        }
    }
}

/// Everything the endpoints show, as of the last audit that finished.
#[derive(Debug)]
pub struct Snapshot {
    pub served: Option<Arc<Served>>,
    pub last_attempt: Option<LastAttempt>,
    pub successes: u64,
    pub failures: u64,
    pub interval: Duration,
    /// The exposition in each format, written on first asking.
    rendered: [OnceLock<Bytes>; 2],
}

impl Snapshot {
    pub fn new(interval: Duration) -> Snapshot {
        Snapshot {
            served: None,
            last_attempt: None,
            successes: 0,
            failures: 0,
            interval,
            rendered: Default::default(),
        }
    }

    /// The next snapshot, after an audit that ended with `outcome`.
    fn after(&self, outcome: Result<Served, Failure>, finished_at: DateTime<Utc>) -> Snapshot {
        let (served, failure, successes, failures) = match outcome {
            Ok(served) => (Some(Arc::new(served)), None, 1, 0),
            Err(failure) => (self.served.clone(), Some(failure), 0, 1),
        };
        Snapshot {
            served,
            last_attempt: Some(LastAttempt {
                finished_at,
                failure,
            }),
            successes: self.successes + successes,
            failures: self.failures + failures,
            interval: self.interval,
            rendered: Default::default(),
        }
    }

    /// The exposition in `format`.
    pub fn exposition(&self, format: Format) -> Bytes {
        let slot = &self.rendered[usize::from(format == Format::OpenMetrics)];
        slot.get_or_init(|| Bytes::from(metrics::render(self, format)))
            .clone()
    }
}

/// The snapshot the endpoints read, replaced whole by the audit loop.
#[derive(Clone)]
struct Shared {
    snapshot: Arc<Mutex<Arc<Snapshot>>>,
    /// Before each scrape is answered (a test's, [`SCRAPE_DELAY_VARIABLE`]).
    scrape_delay: Option<Duration>,
}

impl Shared {
    fn get(&self) -> Arc<Snapshot> {
        // Only ever replaced whole: a panic elsewhere leaves a whole one.
        (self.snapshot.lock())
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set(&self, snapshot: Snapshot) {
        *(self.snapshot.lock()).unwrap_or_else(|e| e.into_inner()) = Arc::new(snapshot);
    }
}

/// Why `serve` could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Clients(String),
    #[error("the HTTP server stopped: {0}")]
    Server(#[source] std::io::Error),
    /// The audit loop ended (it panicked): serving its last audit forever
    /// would hide that, so the server stops for its supervisor to restart.
    #[error("the audits stopped (a bug: see the message above); stopping the server")]
    AuditsStopped,
}

impl ServeError {
    /// The exit status: 2 for what the command line or the configuration
    /// got wrong, 1 for a server that stopped.
    pub fn exit_status(&self) -> u8 {
        match self {
            ServeError::Listen { .. } | ServeError::Clients(_) => 2,
            ServeError::Server(_) | ServeError::AuditsStopped => 1,
        }
    }
}

/// Keeps a long-running `serve` from growing on glibc. Every interval it
/// writes a few megabytes of exposition and frees the last ones; glibc's
/// malloc raises its mmap threshold (and its trim threshold with it) each
/// time such a mapped block is freed, after which those blocks come from
/// the per-thread arenas, which keep what they held: the benchmark's
/// resident set grew by 58 % over ten audits of 1,000 clients, then
/// stayed. A fixed threshold (glibc's default, 128 KiB) turns that
/// adjustment off, and the same run stays within 4 % (BENCHMARKS.md,
/// "Issue 29: serve").
pub fn keep_memory_flat() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const MMAP_THRESHOLD: libc::c_int = 128 * 1024;
        // SAFETY: mallopt only sets a malloc parameter, under malloc's own
        // lock; it returns 0 when refused, which leaves the default.
        let _ = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) };
    }
}

/// Serves until SIGTERM or Ctrl-C, auditing `partner` every interval.
/// Returns when the server has answered the requests in flight.
pub async fn run(options: &Options, partner: Client) -> Result<(), ServeError> {
    keep_memory_flat();
    let only = crate::clients::expand(&options.clients, &mut std::io::stdin().lock())
        .map_err(ServeError::Clients)?;
    let listener = (tokio::net::TcpListener::bind(options.listen).await).map_err(|source| {
        ServeError::Listen {
            address: options.listen,
            source,
        }
    })?;
    let address = listener.local_addr().map_err(ServeError::Server)?;
    // The first line on stdout alone is the address, for a script (or a
    // test) that asked for port 0.
    println!("http://{address}");
    let shared = Shared {
        snapshot: Arc::new(Mutex::new(Arc::new(Snapshot::new(options.interval)))),
        scrape_delay: (std::env::var(SCRAPE_DELAY_VARIABLE).ok())
            .and_then(|ms| ms.parse().ok())
            .map(Duration::from_millis),
    };
    let auditing = tokio::spawn(audit_loop(
        partner,
        only,
        options.concurrency,
        shared.clone(),
    ));
    let audits = auditing.abort_handle();
    let (audits_ended, ended) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        // The loop never returns: it ended only if it panicked.
        let _ = auditing.await;
        let _ = audits_ended.send(());
    });
    let app = Router::new()
        .route("/metrics", get(metrics_endpoint))
        .route("/healthz", get(healthz))
        .route("/", get(page_endpoint))
        .with_state(shared);
    let audits_stopped = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = {
        let audits_stopped = audits_stopped.clone();
        async move {
            tokio::select! {
                () = shutdown_signal() => {}
                Ok(()) = ended => audits_stopped.store(true, std::sync::atomic::Ordering::Relaxed),
            }
        }
    };
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await;
    audits.abort();
    served.map_err(ServeError::Server)?;
    match audits_stopped.load(std::sync::atomic::Ordering::Relaxed) {
        true => Err(ServeError::AuditsStopped),
        false => Ok(()),
    }
}

/// Audits now, then every interval after each start, publishing each
/// outcome.
async fn audit_loop(partner: Client, only: Vec<String>, concurrency: usize, shared: Shared) {
    let interval = shared.get().interval;
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let plan = Plan {
            now: Utc::now(),
            only: only.clone(),
            clients_at_once: concurrency,
            sort: SortBy::Name,
        };
        // The client, and its counts, live across audits: what they grew
        // by meanwhile is this audit's.
        let (start, before) = (Instant::now(), partner.request_counts());
        let result = audit::run(&partner, &plan, std::future::pending(), |_, _| {}).await;
        let (duration, counts) = (start.elapsed(), partner.request_counts() - before);
        let current = shared.get();
        let outcome = match result {
            Ok(audit) => {
                let changes = (current.served.as_ref())
                    .map(|previous| page::changes_since(&previous.audit, &audit));
                tracing::info!(clients = audit.clients.len(), ?duration, "audit served");
                Ok(Served {
                    audit,
                    finished_at: Utc::now(),
                    duration,
                    counts,
                    changes,
                })
            }
            Err(error) => {
                tracing::warn!("audit failed, still serving the last one: {error}");
                Err(Failure::of(&error))
            }
        };
        let next = current.after(outcome, Utc::now());
        // Written here, off the endpoints, so that no scrape waits for it.
        let next = tokio::task::spawn_blocking(move || {
            next.exposition(Format::Prometheus);
            next.exposition(Format::OpenMetrics);
            next
        })
        .await;
        match next {
            Ok(next) => shared.set(next),
            Err(error) => tracing::error!("writing the metrics failed: {error}"),
        }
    }
}

/// Completes on SIGTERM or Ctrl-C (SIGINT).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// A delay before each scrape is answered, for the test of a scrape in
/// flight at SIGTERM: without it the scrape is over before the signal.
const SCRAPE_DELAY_VARIABLE: &str = "RHOMBUS_AUDIT_TEST_SCRAPE_DELAY_MS";

async fn metrics_endpoint(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    if let Some(delay) = shared.scrape_delay {
        tokio::time::sleep(delay).await;
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let format = Format::negotiate(accept);
    let body = shared.get().exposition(format);
    ([(header::CONTENT_TYPE, format.content_type())], body).into_response()
}

/// 200 as long as the process serves, whether or not an audit has
/// finished (the body says which): an audit failing is for the metrics to
/// say, not a reason to restart the server.
async fn healthz(State(shared): State<Shared>) -> Response {
    let snapshot = shared.get();
    let text = match &snapshot.served {
        None => "ok: serving; no audit has finished yet\n".to_owned(),
        Some(served) => format!(
            "ok: serving the audit of {}\n",
            served.finished_at.to_rfc3339()
        ),
    };
    (StatusCode::OK, text).into_response()
}

async fn page_endpoint(State(shared): State<Shared>) -> Response {
    let html = page::render(&shared.get());
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}
