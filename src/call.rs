//! A call: its attempts one after another, as the retry policy decides,
//! all within the call's deadline and in one `tracing` span
//! (`rhombus_partner.call`, with the operation id, attempt, status and
//! duration; no header or body is recorded). What became of the call is
//! one [`CallReport`], which the loop alone writes.

use std::cell::Cell;
use std::time::{Duration, Instant};

use reqwest::{Request, Response, StatusCode};
use tracing::Instrument;

use crate::attempt::{Attempted, Guards, attempt};
use crate::error::{Error, error_chain};
use crate::retry::{Next, RetryPolicy};

/// What the loop needs to know about a call.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Call {
    /// The `operationId`, for the span and the report.
    pub operation: &'static str,
    /// Whether the spec marks the operation read-only.
    pub read_only: bool,
    /// The client's per-request timeout.
    pub timeout: Option<Duration>,
}

/// How a call went, besides its answer: what a checked call's error
/// reports, and what the plain methods say of a call that never got a slot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct CallReport {
    /// The `operationId`.
    pub operation: &'static str,
    /// How many requests were sent.
    pub sent: u32,
    /// How long the call had run when the deadline passed while it waited
    /// for a free request slot; `None` if it did not.
    pub out_of_time: Option<Duration>,
}

impl CallReport {
    /// The error of a call that never got a slot before its deadline; the
    /// one description of it, for the checked and the plain methods.
    pub(crate) fn queue_timeout(&self) -> Option<Error> {
        Some(Error::QueueTimeout {
            operation: self.operation,
            waited: self.out_of_time?,
            attempts: self.sent,
        })
    }
}

/// Sends `request` under `policy` and `guards`, in the call's span. Not an
/// `async fn`, so the loop's future is not wrapped in one more layer.
pub(crate) fn send<'a>(
    policy: &'a RetryPolicy,
    http: &'a reqwest::Client,
    request: Request,
    call: Call,
    guards: Guards<'a>,
) -> impl Future<Output = reqwest::Result<Response>> + 'a {
    let span = tracing::info_span!(
        "rhombus_partner.call",
        operation = call.operation,
        read_only = call.read_only,
        attempt = tracing::field::Empty,
        status = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
    );
    attempts(policy, http, request, call, guards).instrument(span)
}

/// The attempts of one call, until one is final.
async fn attempts(
    policy: &RetryPolicy,
    http: &reqwest::Client,
    request: Request,
    call: Call,
    guards: Guards<'_>,
) -> reqwest::Result<Response> {
    let span = tracing::Span::current();
    let start = Instant::now();
    // A deadline too far to represent is no deadline.
    let deadline = start.checked_add(policy.call_deadline());
    let mut report = CallReport {
        operation: call.operation,
        ..CallReport::default()
    };
    let mut sending = request;
    loop {
        let number = report.sent + 1;
        span.record("attempt", number);
        // A copy for the next attempt, if there may be one (see
        // BENCHMARKS.md for its cost); a body that cannot be copied (a
        // stream) allows one attempt.
        let kept = (number < policy.attempts())
            .then(|| sending.try_clone())
            .flatten();
        let result = match attempt(http, sending, guards, call.timeout, deadline).await {
            Attempted::Sent(result) => result,
            Attempted::OutOfTime => {
                report.out_of_time = Some(start.elapsed());
                return Ok(end(
                    &span,
                    start,
                    report,
                    QueueTimedOut(report).into_response(),
                ));
            }
        };
        report.sent = number;
        log_attempt(&span, number, &result);
        match (policy.next(&result, call.read_only, number, deadline), kept) {
            (Next::Retry { wait, reason }, Some(kept)) => {
                let wait_ms = wait.as_millis() as u64;
                tracing::info!(attempt = number, wait_ms, reason, "retrying");
                drop(result);
                tokio::time::sleep(wait).await;
                sending = kept;
            }
            _ => return end(&span, start, report, result),
        }
    }
}

/// An attempt's outcome, at DEBUG.
fn log_attempt(span: &tracing::Span, number: u32, result: &reqwest::Result<Response>) {
    match result {
        Ok(response) => {
            span.record("status", response.status().as_u16());
            tracing::debug!(
                attempt = number,
                status = response.status().as_u16(),
                "response"
            );
        }
        Err(error) => {
            tracing::debug!(attempt = number, error = %error_chain(error), "no response");
        }
    }
}

/// Ends the call: its duration in the span, its report published.
fn end<T>(span: &tracing::Span, start: Instant, report: CallReport, outcome: T) -> T {
    // Fields are evaluated even for a span nobody listens to.
    if !span.is_disabled() {
        span.record("duration_ms", start.elapsed().as_millis() as u64);
    }
    if let Some(waited) = report.out_of_time {
        tracing::info!(
            attempts = report.sent,
            waited_ms = waited.as_millis() as u64,
            "the deadline passed while waiting for a free request slot"
        );
    }
    publish(report);
    outcome
}

/// The stand-in answer the exec hook returns for a call that never got a
/// slot: progenitor's hook can only return an answer or a `reqwest::Error`,
/// and no `reqwest::Error` can be made here. It carries the report; the
/// `post` hook turns it into an error before the generated code looks at
/// the status, so no caller ever sees this answer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct QueueTimedOut(pub CallReport);

impl QueueTimedOut {
    fn into_response(self) -> Response {
        let mut response = http::Response::new(reqwest::Body::from(Vec::new()));
        *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        response.extensions_mut().insert(self);
        Response::from(response)
    }
}

tokio::task_local! {
    /// Where the loop publishes its report for the checked call around it.
    static REPORT: Cell<Option<CallReport>>;
}

fn publish(report: CallReport) {
    let _ = REPORT.try_with(|cell| cell.set(Some(report)));
}

/// Runs `f` (one poll of a call) where the loop can publish its report into
/// `report`. The report lives in the caller's future between polls, and is
/// in scope only while the call is polled, so no `async` layer has to hold
/// a second copy of the call (see `checked::Finish`).
pub(crate) fn with_report<R>(report: &mut Option<CallReport>, f: impl FnOnce() -> R) -> R {
    REPORT.sync_scope(Cell::new(*report), || {
        let output = f();
        *report = REPORT.with(Cell::get);
        output
    })
}
