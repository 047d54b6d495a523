//! When a call is sent again, and how long to wait: the API rate limits per
//! organization and answers throttled calls with `429` and `Retry-After`,
//! and a state-changing call must never be repeated by accident.
//!
//! - `429` means the call was not processed, so every operation is retried,
//!   after `Retry-After` (at least 1 s, at most [`RetryPolicy::max_retry_after`])
//!   or, without one, after exponential backoff with jitter.
//! - `5xx`, timeouts and connection failures are retried only for read-only
//!   operations (`x-rhombus-read-only: true` in the spec); a state-changing
//!   operation is sent once and its error returned.
//! - All attempts of one call, waits included, fit in the policy's deadline.
//!
//! Each call runs in one `tracing` span with its operation id, attempt,
//! status and duration; no header or body is recorded.

use std::cell::Cell;
use std::time::{Duration, Instant};

use reqwest::{Request, Response, StatusCode};
use tracing::Instrument;

/// The least a `Retry-After` is taken to mean: the API's own minimum.
const MIN_RETRY_AFTER: Duration = Duration::from_secs(1);

/// How calls are retried. [`RetryPolicy::default`] is what a built client
/// uses; [`RetryPolicy::none`] sends every call once.
///
/// ```
/// use std::time::Duration;
/// use rhombus_partner::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .max_attempts(3)
///     .deadline(Duration::from_secs(20));
/// assert_eq!(policy.attempts(), 3);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
    deadline: Duration,
}

impl Default for RetryPolicy {
    /// 5 attempts, backoff from 500 ms doubling to at most 30 s,
    /// `Retry-After` honored up to 60 s, and 120 s for the whole call.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
            deadline: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// No retries: every call is sent once, whatever the answer.
    pub fn none() -> Self {
        RetryPolicy::default().max_attempts(1)
    }

    /// How many times a call may be sent in all, the first time included
    /// (at least 1). Default 5.
    #[must_use]
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The first backoff and the most any backoff may grow to. Backoff is
    /// used where no `Retry-After` was sent; it doubles per attempt, with
    /// random jitter of up to half. Default 500 ms and 30 s.
    #[must_use]
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// The longest `Retry-After` honored; longer ones are cut to it (and
    /// `Retry-After` is never taken as less than 1 s). Default 60 s.
    #[must_use]
    pub fn max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max.max(MIN_RETRY_AFTER);
        self
    }

    /// The time one call may take, all attempts and waits included. No
    /// retry starts that would end its wait past the deadline, and each
    /// attempt's timeout is cut to what is left. Default 120 s.
    #[must_use]
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// How many times a call may be sent in all.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The wait before attempt `attempt + 1`, after a failure of attempt
    /// `attempt` (1-based) that named no `Retry-After`.
    fn backoff_after(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(16);
        let full = self
            .initial_backoff
            .saturating_mul(1 << exponent)
            .min(self.max_backoff);
        // Equal jitter: between half and all of it, so that clients
        // throttled together do not come back together.
        let half = full / 2;
        half + half.mul_f64(fastrand::f64())
    }

    /// The wait a 429 asks for: `Retry-After` in seconds, else backoff.
    fn rate_limit_wait(&self, response: &Response, attempt: u32) -> Duration {
        match retry_after(response) {
            Some(wait) => wait.clamp(MIN_RETRY_AFTER, self.max_retry_after),
            None => self.backoff_after(attempt),
        }
    }

    /// Sends `request` under this policy and returns the last answer. The
    /// generated client's `exec` hook calls this for every operation, with
    /// `read_only` from the spec; `timeout` is the client's per-request
    /// timeout, which each attempt keeps unless the deadline is nearer.
    #[doc(hidden)]
    pub async fn send(
        &self,
        http: &reqwest::Client,
        request: Request,
        call: Call,
    ) -> reqwest::Result<Response> {
        self.send_limited(http, request, call, None).await
    }

    /// [`send`](Self::send), holding a permit of `limit` during each
    /// attempt (not during the waits between attempts).
    pub(crate) async fn send_limited(
        &self,
        http: &reqwest::Client,
        request: Request,
        call: Call,
        limit: Option<&std::sync::Arc<tokio::sync::Semaphore>>,
    ) -> reqwest::Result<Response> {
        let span = tracing::info_span!(
            "rhombus_partner.call",
            operation = call.operation,
            read_only = call.read_only,
            attempt = tracing::field::Empty,
            status = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        self.send_in_span(http, request, call, limit)
            .instrument(span)
            .await
    }

    async fn send_in_span(
        &self,
        http: &reqwest::Client,
        request: Request,
        call: Call,
        limit: Option<&std::sync::Arc<tokio::sync::Semaphore>>,
    ) -> reqwest::Result<Response> {
        let span = tracing::Span::current();
        let start = Instant::now();
        let deadline = start + self.deadline;
        let mut template = Some(request);
        let mut attempt = 0;
        loop {
            attempt += 1;
            span.record("attempt", attempt);
            let _ = ATTEMPTS.try_with(|count| count.set(attempt));
            let Some(request) = template.take() else {
                unreachable!("the loop continues only with a request to send");
            };
            // A body that cannot be cloned (a stream) allows one attempt.
            let (mut sending, next) = match request.try_clone() {
                Some(copy) => (copy, Some(request)),
                None => (request, None),
            };
            let left = deadline.saturating_duration_since(Instant::now());
            *sending.timeout_mut() = Some(call.timeout.map_or(left, |t| t.min(left)));
            let permit = match limit {
                Some(limit) => crate::concurrency::acquire(limit).await,
                None => None,
            };
            let sent = Instant::now();
            let result = match (http.execute(sending).await, permit) {
                (Ok(response), Some(permit)) => {
                    Ok(crate::concurrency::hold_until_body_read(response, permit))
                }
                (result, _) => result,
            };
            let elapsed = sent.elapsed();
            match &result {
                Ok(response) => {
                    span.record("status", response.status().as_u16());
                    tracing::debug!(
                        attempt,
                        status = response.status().as_u16(),
                        elapsed_ms = elapsed.as_millis() as u64,
                        "response"
                    );
                }
                Err(error) => {
                    tracing::debug!(
                        attempt,
                        elapsed_ms = elapsed.as_millis() as u64,
                        error = %transport_summary(error),
                        "no response"
                    );
                }
            }

            let wait = match &result {
                Ok(r) if r.status() == StatusCode::TOO_MANY_REQUESTS => {
                    Some((self.rate_limit_wait(r, attempt), "rate limited (429)"))
                }
                Ok(r) if r.status().is_server_error() && call.read_only => {
                    Some((self.backoff_after(attempt), "server error"))
                }
                Err(e) if call.read_only && is_transient(e) => {
                    Some((self.backoff_after(attempt), "transport failure"))
                }
                _ => None,
            };
            let retry = match wait {
                Some((wait, reason)) if next.is_some() && attempt < self.max_attempts => {
                    if Instant::now() + wait < deadline {
                        Some((wait, reason))
                    } else {
                        tracing::info!(
                            attempt,
                            wait_ms = wait.as_millis() as u64,
                            reason,
                            "not retrying: the wait would pass the call's deadline"
                        );
                        None
                    }
                }
                _ => None,
            };
            let Some((wait, reason)) = retry else {
                span.record("duration_ms", start.elapsed().as_millis() as u64);
                return result;
            };
            tracing::info!(
                attempt,
                wait_ms = wait.as_millis() as u64,
                reason,
                "retrying"
            );
            // Frees the connection (or closes it) before waiting.
            drop(result);
            tokio::time::sleep(wait).await;
            template = next;
        }
    }
}

/// What [`RetryPolicy::send`] needs to know about a call.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct Call {
    /// The `operationId`, for the span.
    pub operation: &'static str,
    /// Whether the spec marks the operation read-only.
    pub read_only: bool,
    /// The client's per-request timeout.
    pub timeout: Option<Duration>,
}

tokio::task_local! {
    /// How many requests the current checked call has sent.
    static ATTEMPTS: Cell<u32>;
}

/// Runs `call`, returning its output and how many requests it sent.
pub(crate) async fn counting_attempts<F: Future>(call: F) -> (F::Output, u32) {
    ATTEMPTS
        .scope(Cell::new(0), async {
            let output = call.await;
            (output, ATTEMPTS.with(Cell::get))
        })
        .await
}

/// Errors after which a read can simply be repeated: not a TLS handshake
/// that was refused (a certificate problem), which would fail again.
fn is_transient(error: &reqwest::Error) -> bool {
    (error.is_connect() || error.is_timeout() || error.is_request() || error.is_body())
        && !is_tls_rejection(error)
}

/// TLS failures reach us as an `InvalidData` I/O error in the chain.
fn is_tls_rejection(error: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        if inner
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::InvalidData)
        {
            return true;
        }
        source = inner.source();
    }
    false
}

/// One line about a transport error, with its causes.
pub(crate) fn transport_summary(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// `Retry-After` in seconds (the form the API sends); an HTTP date or
/// garbage counts as absent.
pub(crate) fn retry_after(response: &Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?;
    let seconds: u64 = value.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let policy =
            RetryPolicy::default().backoff(Duration::from_millis(100), Duration::from_millis(350));
        for _ in 0..100 {
            let first = policy.backoff_after(1);
            assert!((50..=100).contains(&first.as_millis()), "{first:?}");
            let second = policy.backoff_after(2);
            assert!((100..=200).contains(&second.as_millis()), "{second:?}");
            let later = policy.backoff_after(10);
            assert!((175..=350).contains(&later.as_millis()), "{later:?}");
        }
    }

    #[test]
    fn none_sends_once() {
        assert_eq!(RetryPolicy::none().attempts(), 1);
        assert_eq!(RetryPolicy::default().max_attempts(0).attempts(), 1);
        assert_eq!(RetryPolicy::default().attempts(), 5);
    }
}
