//! The requests an audit takes, counted from the library's own log: the
//! library keeps no counts a caller can read, but logs each attempt of a
//! call (`response`, with its `status`, or `no response`) at DEBUG and
//! each retry (`retrying`) at INFO. A tracing layer that listens to those
//! events, whatever the verbosity of the log on stderr, counts them
//! without changing the library's API.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::Context;

/// The library's log target (its module paths).
const LIBRARY: &str = "rhombus_partner";

/// Requests, retries and `429` answers, counted since the start.
#[derive(Debug, Default)]
pub struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
}

/// The counts at one moment; the difference of two is what happened
/// between them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Requests sent (each attempt of each call), answered or not.
    pub requests: u64,
    /// Attempts made again after a failed one.
    pub retries: u64,
    /// Answers with status `429`.
    pub rate_limited: u64,
}

impl Counters {
    pub fn now(&self) -> Counts {
        Counts {
            requests: self.requests.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
        }
    }
}

impl std::ops::Sub for Counts {
    type Output = Counts;

    fn sub(self, earlier: Counts) -> Counts {
        Counts {
            requests: self.requests.saturating_sub(earlier.requests),
            retries: self.retries.saturating_sub(earlier.retries),
            rate_limited: self.rate_limited.saturating_sub(earlier.rate_limited),
        }
    }
}

/// The layer counting into `counters`, listening to the library's DEBUG
/// events only (its own filter: the log on stderr keeps its level).
pub fn layer<S>(counters: Arc<Counters>) -> impl Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let filter = Targets::new().with_target(LIBRARY, tracing::Level::DEBUG);
    Counting(counters).with_filter(filter)
}

struct Counting(Arc<Counters>);

impl<S: tracing::Subscriber> Layer<S> for Counting {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut seen = Seen::default();
        event.record(&mut seen);
        let counters = &self.0;
        match seen.message.as_str() {
            "response" => {
                counters.requests.fetch_add(1, Ordering::Relaxed);
                if seen.status == Some(429) {
                    counters.rate_limited.fetch_add(1, Ordering::Relaxed);
                }
            }
            "no response" => {
                counters.requests.fetch_add(1, Ordering::Relaxed);
            }
            "retrying" => {
                counters.retries.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

/// The fields of an event this layer reads.
#[derive(Default)]
struct Seen {
    message: String,
    status: Option<u64>,
}

impl Visit for Seen {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "status" {
            self.status = Some(value);
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if field.name() == "status" {
            self.status = u64::try_from(value).ok();
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            value.clone_into(&mut self.message);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        // A message written as a literal comes as `format_args!`, whose
        // Debug is the text itself.
        if field.name() == "message" {
            self.message = format!("{value:?}");
        }
    }
}
