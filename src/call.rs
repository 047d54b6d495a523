//! A call, from the request a generated method built to the value or the
//! [`Error`] it returns: authentication headers, the attempts one after
//! another as the retry policy decides (all within the call's deadline and
//! in one `tracing` span, `rhombus_partner.call`, with the operation id,
//! attempt, status and duration; no header or body is recorded), then the
//! last outcome classified and decoded. Everything a call learns on the way
//! (how many requests it sent, whether it ran out of time waiting for a
//! slot) is a local of [`attempts`], and becomes part of its error there.

use std::time::Instant;

use reqwest::Request;
use tracing::Instrument;

use crate::attempt::{Attempted, Guards, attempt};
use crate::classify::{Class, asked_wait, classify, conclude};
use crate::client::ClientState;
use crate::decode::{Decode, check_body};
#[cfg(rhombus_download)]
use crate::download::Download;
use crate::error::{BodyPreview, Error, error_chain};
use crate::operation::Operation;
use crate::pacing::Feedback;
use crate::response::{Answer, Outcome, ReadLimits};
use crate::retry::{Next, RetryPolicy};

/// The request a generated method built, or why it could not build one.
#[doc(hidden)]
pub type Built = Result<Request, progenitor_client::Error<()>>;

/// Sends the request of `operation` with `state`'s key (and org, inside a
/// client organization) through `http`, and decodes an answer whose status
/// the spec `declared` with `decoder`: what every generated method returns.
#[doc(hidden)]
pub async fn call<D: Decode>(
    state: &ClientState,
    http: &reqwest::Client,
    request: Built,
    operation: &'static Operation,
    declared: fn(u16) -> bool,
    decoder: D,
) -> Result<D::Output, Error> {
    let exchange = Exchange {
        state,
        http,
        operation,
        declared,
        download: false,
    };
    let (answer, attempts) = send(exchange, exchange.authorized(request)?).await?;
    let status = answer.status;
    let body = answer.body;
    let value = decoder
        .decode(body.clone())
        .map_err(|source| Error::Decode {
            operation: operation.id,
            status,
            attempts,
            body: BodyPreview::new(&body, false),
            source,
        })?;
    check_body(operation.id, attempts, value)
}

/// Sends the request of `operation`, whose success body is not JSON, as
/// [`call`] does, and hands the body over unread once a success answer's
/// head came: retries happen only before that. A JSON answer is the API's
/// envelope instead: one that says `"error": true` is [`Error::Api`], any
/// other is handed over as it came.
#[doc(hidden)]
#[cfg(rhombus_download)]
pub async fn download(
    state: &ClientState,
    http: &reqwest::Client,
    request: Built,
    operation: &'static Operation,
    declared: fn(u16) -> bool,
) -> Result<Download, Error> {
    let exchange = Exchange {
        state,
        http,
        operation,
        declared,
        download: true,
    };
    let (answer, attempts) = send(exchange, exchange.authorized(request)?).await?;
    if answer.unread.is_none() {
        // A JSON answer, read whole: the API's envelope, which may say
        // that the export failed.
        crate::decode::check_envelope(operation.id, attempts, &answer.body)?;
    }
    Ok(Download::new(
        operation.id,
        attempts,
        answer,
        state.max_response_bytes,
        state.scrubber.clone(),
    ))
}

/// What the attempts of one call share.
#[derive(Clone, Copy)]
struct Exchange<'a> {
    state: &'a ClientState,
    http: &'a reqwest::Client,
    operation: &'static Operation,
    /// The statuses the spec declares for the operation's value.
    declared: fn(u16) -> bool,
    /// Whether a success body is left for the caller to read.
    download: bool,
}

impl Exchange<'_> {
    /// The generated method's request, with the key (and org) on it.
    fn authorized(&self, request: Built) -> Result<Request, Error> {
        let mut request = request.map_err(|source| invalid_request(self.operation.id, source))?;
        self.state.auth.apply(request.headers_mut());
        Ok(request)
    }
}

/// Sends `request` under the client's retry policy and limits, in the
/// call's span: the success answer and how many requests it took, or the
/// error the call ends with.
fn send(
    exchange: Exchange<'_>,
    request: Request,
) -> impl Future<Output = Result<(Answer, u32), Error>> {
    let operation = exchange.operation;
    let span = tracing::info_span!(
        "rhombus_partner.call",
        operation = operation.id,
        read_only = operation.read_only,
        attempt = tracing::field::Empty,
        status = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
    );
    attempts(exchange, request).instrument(span)
}

/// The attempts of one call, until one is final.
async fn attempts(exchange: Exchange<'_>, request: Request) -> Result<(Answer, u32), Error> {
    let Exchange {
        state,
        operation,
        download,
        ..
    } = exchange;
    let span = tracing::Span::current();
    let start = Instant::now();
    let policy = &state.retry;
    // A deadline too far to represent is no deadline.
    let deadline = start.checked_add(policy.call_deadline());
    let guards = guards(state, download);
    let mut sending = request;
    let mut sent = 0;
    loop {
        let number = sent + 1;
        span.record("attempt", number);
        // A copy for the next attempt, if there may be one (see
        // BENCHMARKS.md for its cost); a body that cannot be copied (a
        // stream) allows one attempt.
        let kept = (number < policy.attempts())
            .then(|| sending.try_clone())
            .flatten();
        let one = One {
            request: sending,
            guards,
            deadline,
            start,
            sent,
        };
        let (outcome, class) = match one_attempt(exchange, one).await {
            Ok(attempted) => attempted,
            Err(error) => {
                end(&span, start);
                return Err(error);
            }
        };
        sent = number;
        log_attempt(&span, number, &outcome);
        let asked = asked_wait(&outcome);
        match (
            policy.next(class, asked, operation.read_only, number, deadline),
            kept,
        ) {
            (Next::Retry { wait, reason }, Some(kept)) => {
                let wait_ms = wait.as_millis() as u64;
                tracing::info!(attempt = number, wait_ms, %reason, "retrying");
                drop(outcome);
                tokio::time::sleep(wait).await;
                sending = kept;
            }
            _ => {
                end(&span, start);
                return conclude(operation.id, outcome, class, sent).map(|answer| (answer, sent));
            }
        }
    }
}

/// One attempt of a call, and what it needs besides the [`Exchange`].
struct One<'a> {
    request: Request,
    guards: Guards<'a>,
    deadline: Option<Instant>,
    /// When the call started.
    start: Instant,
    /// Requests the call sent before.
    sent: u32,
}

/// Makes `one` attempt: its outcome and class, the pacing told of it
/// before its slot is free (so that the request that takes the slot next
/// is paced by what this answer taught); or, when nothing could be sent,
/// the error the call ends with.
async fn one_attempt(exchange: Exchange<'_>, one: One<'_>) -> Result<(Outcome, Class), Error> {
    let Exchange { state, http, .. } = exchange;
    let operation = exchange.operation.id;
    let attempted = attempt(http, one.request, one.guards, state.timeout, one.deadline).await;
    let (outcome, grant, slot) = match attempted {
        Attempted::Sent {
            outcome,
            grant,
            slot,
        } => (outcome, grant, slot),
        Attempted::OutOfTime => return Err(queue_timeout(operation, one.start, one.sent)),
        Attempted::Held { wait } => return Err(held_back(operation, wait, one.sent)),
    };
    let class = classify(&outcome, exchange.declared);
    state
        .counters
        .sent(one.sent > 0, class == Class::RateLimited);
    let feedback = pacing_feedback(class, asked_wait(&outcome), &state.retry);
    state.pacer.feedback(state.org(), &grant, feedback);
    drop(slot);
    Ok((outcome, class))
}

/// What guards the attempts of a call with `state`; `download`: a success
/// body is left for the caller.
fn guards(state: &ClientState, download: bool) -> Guards<'_> {
    Guards {
        pacer: &state.pacer,
        org: state.org(),
        in_flight: Some(&state.in_flight),
        queued: &state.queued,
        read: ReadLimits {
            max_body: state.max_response_bytes,
            scrubber: state.scrubber.as_ref(),
            unread_success: download,
        },
    }
}

/// What a call that never got a request slot before its deadline ends with.
fn queue_timeout(operation: &'static str, start: Instant, sent: u32) -> Error {
    let waited = start.elapsed();
    tracing::info!(
        attempts = sent,
        waited_ms = waited.as_millis() as u64,
        "the deadline passed while waiting for a free request slot"
    );
    Error::QueueTimeout {
        operation,
        waited,
        attempts: sent,
    }
}

/// What an attempt of `class`, whose answer `asked` for a wait, tells the
/// pacing: a `429` closes its organization for the `Retry-After` the retry
/// policy honours.
fn pacing_feedback(
    class: Class,
    asked: Option<std::time::Duration>,
    policy: &RetryPolicy,
) -> Feedback {
    match class {
        Class::Success => Feedback::Success,
        Class::RateLimited => Feedback::RateLimited(policy.honoured_retry_after(asked)),
        _ => Feedback::Other,
    }
}

/// What a call ends with when pacing would hold its next request back
/// past the deadline: rate limited, without sending it.
fn held_back(operation: &'static str, wait: std::time::Duration, sent: u32) -> Error {
    tracing::info!(
        attempts = sent,
        wait_ms = wait.as_millis() as u64,
        "not sending: pacing holds the organization's requests back past the call's deadline"
    );
    Error::RateLimited {
        operation,
        retry_after: Some(wait),
        attempts: sent,
        body: BodyPreview::new(&[], false),
    }
}

/// An attempt's outcome, at DEBUG.
fn log_attempt(span: &tracing::Span, number: u32, outcome: &Outcome) {
    match outcome {
        Ok(answer) => {
            span.record("status", answer.status.as_u16());
            tracing::debug!(
                attempt = number,
                status = answer.status.as_u16(),
                "response"
            );
        }
        Err(failure) => {
            tracing::debug!(attempt = number, error = %failure, "no response");
        }
    }
}

/// Ends the call's span with its duration.
fn end(span: &tracing::Span, start: Instant) {
    // Fields are evaluated even for a span nobody listens to.
    if !span.is_disabled() {
        span.record("duration_ms", start.elapsed().as_millis() as u64);
    }
}

fn invalid_request(operation: &'static str, error: progenitor_client::Error<()>) -> Error {
    use progenitor_client::Error as Building;
    let source: Box<dyn std::error::Error + Send + Sync> = match error {
        Building::CommunicationError(source) => Box::new(source),
        Building::InvalidRequest(message) => message.into(),
        other => error_chain(&other).into(),
    };
    Error::InvalidRequest { operation, source }
}
