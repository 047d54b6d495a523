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
//! This module decides *whether* and *when* ([`RetryPolicy::next`]); an
//! attempt is made in `attempt.rs`, and the attempts are strung together in
//! `call.rs`.

use std::fmt;
use std::time::{Duration, Instant};

use crate::attempt::MIN_ATTEMPT_TIME;
use crate::classify::{Class, MIN_RETRY_AFTER};

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
        half.saturating_add(half.mul_f64(fastrand::f64()))
    }

    /// How long to wait before retrying after attempt `attempt` failed:
    /// the `Retry-After` the answer `asked` for (within the floor and the
    /// cap), else backoff.
    fn wait_before_retry(&self, asked: Option<Duration>, attempt: u32) -> Duration {
        match asked {
            Some(wait) => wait.clamp(MIN_RETRY_AFTER, self.max_retry_after),
            None => self.backoff_after(attempt),
        }
    }

    /// How long a `429` that `asked` for a wait keeps its organization
    /// closed: its `Retry-After` within the floor and the cap, as a retry
    /// honours it (the floor without one).
    pub(crate) fn honoured_retry_after(&self, asked: Option<Duration>) -> Duration {
        asked
            .unwrap_or(MIN_RETRY_AFTER)
            .clamp(MIN_RETRY_AFTER, self.max_retry_after)
    }

    /// The time one call may take.
    pub(crate) fn call_deadline(&self) -> Duration {
        self.deadline
    }

    /// What follows attempt `attempt` (1-based) of a call that ends at
    /// `deadline`, whose outcome was of `class` and `asked` for a wait:
    /// another attempt, after a wait, or nothing. A retry must leave time
    /// for its attempt after the wait.
    pub(crate) fn next(
        &self,
        class: Class,
        asked: Option<Duration>,
        read_only: bool,
        attempt: u32,
        deadline: Option<Instant>,
    ) -> Next {
        let Some(reason) = retry_reason(class, read_only) else {
            return Next::Stop;
        };
        if attempt >= self.max_attempts {
            return Next::Stop;
        }
        let wait = self.wait_before_retry(asked, attempt);
        if !ends_before(
            Instant::now(),
            wait.saturating_add(MIN_ATTEMPT_TIME),
            deadline,
        ) {
            tracing::info!(
                attempt,
                wait_ms = wait.as_millis() as u64,
                %reason,
                "not retrying: the wait would pass the call's deadline"
            );
            return Next::Stop;
        }
        Next::Retry { wait, reason }
    }
}

/// What follows an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Another attempt, after `wait`, for `reason`.
    Retry { wait: Duration, reason: Reason },
    /// None: the attempt's outcome is the call's.
    Stop,
}

/// Why an attempt is worth repeating.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reason {
    /// `429`: the call was not processed, so any operation may be repeated.
    RateLimited,
    /// A `5xx` on a read-only operation.
    ServerError,
    /// A transient transport failure on a read-only operation.
    Transport,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reason::RateLimited => "rate limited (429)",
            Reason::ServerError => "server error",
            Reason::Transport => "transport failure",
        })
    }
}

/// Whether an attempt's outcome may be repeated, and why; how long to wait
/// is decided apart, in [`RetryPolicy::wait_before_retry`].
fn retry_reason(class: Class, read_only: bool) -> Option<Reason> {
    match class {
        Class::RateLimited => Some(Reason::RateLimited),
        Class::ServerError if read_only => Some(Reason::ServerError),
        Class::Transport {
            transient: true, ..
        } if read_only => Some(Reason::Transport),
        _ => None,
    }
}

/// Whether a wait starting `now` ends before `deadline` (`None`: none).
fn ends_before(now: Instant, wait: Duration, deadline: Option<Instant>) -> bool {
    match (now.checked_add(wait), deadline) {
        (_, None) => true,
        (Some(end), Some(deadline)) => end < deadline,
        (None, Some(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

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

    use crate::error::TransportKind;

    const SECONDS: fn(u64) -> Option<Duration> = |s| Some(Duration::from_secs(s));

    #[test]
    fn a_429_is_retried_for_every_operation() {
        for read_only in [true, false] {
            assert_eq!(
                retry_reason(Class::RateLimited, read_only),
                Some(Reason::RateLimited)
            );
        }
    }

    #[test]
    fn a_5xx_is_retried_only_for_a_read_only_operation() {
        assert_eq!(
            retry_reason(Class::ServerError, true),
            Some(Reason::ServerError)
        );
        assert_eq!(retry_reason(Class::ServerError, false), None);
    }

    #[test]
    fn a_transient_transport_failure_is_retried_only_for_a_read_only_operation() {
        let transient = Class::Transport {
            kind: TransportKind::Connection,
            transient: true,
        };
        assert_eq!(retry_reason(transient, true), Some(Reason::Transport));
        assert_eq!(retry_reason(transient, false), None);
        let refused = Class::Transport {
            kind: TransportKind::Tls,
            transient: false,
        };
        assert_eq!(retry_reason(refused, true), None);
    }

    #[test]
    fn other_classes_are_final() {
        for class in [
            Class::Success,
            Class::Redirect,
            Class::OtherStatus,
            Class::Unauthorized,
            Class::Forbidden,
            Class::TooLarge,
        ] {
            for read_only in [true, false] {
                assert_eq!(retry_reason(class, read_only), None, "{class:?}");
            }
        }
    }

    #[test]
    fn retry_after_is_floored_and_capped() {
        let policy = RetryPolicy::default().max_retry_after(Duration::from_secs(10));
        let wait = |asked| policy.wait_before_retry(asked, 1);
        assert_eq!(wait(SECONDS(0)), MIN_RETRY_AFTER);
        assert_eq!(wait(SECONDS(7)), Duration::from_secs(7));
        assert_eq!(wait(SECONDS(3600)), Duration::from_secs(10));
        // None asked: backoff, within the default 500 ms.
        assert!(wait(None) <= Duration::from_millis(500));
    }

    #[test]
    fn a_wait_past_the_deadline_or_past_representable_time_does_not_fit() {
        let now = Instant::now();
        let deadline = Some(now + Duration::from_secs(2));
        assert!(ends_before(now, Duration::from_secs(1), deadline));
        assert!(!ends_before(now, Duration::from_secs(2), deadline));
        assert!(!ends_before(now, Duration::MAX, deadline));
        assert!(ends_before(now, Duration::MAX, None));
    }

    proptest! {
        /// No setting and no server value panics, and no retry is planned
        /// whose wait ends past the deadline.
        #[test]
        fn any_policy_and_retry_after_is_safe(
            initial in any::<u64>(),
            max in any::<u64>(),
            cap in any::<u64>(),
            deadline in any::<u64>(),
            nanos in 0u32..1_000_000_000,
            attempt in any::<u32>(),
            asked in proptest::option::of(any::<u64>().prop_map(Duration::from_secs)),
        ) {
            let policy = RetryPolicy::default()
                .backoff(Duration::new(initial, nanos), Duration::new(max, nanos))
                .max_retry_after(Duration::new(cap, nanos))
                .deadline(Duration::new(deadline, nanos))
                .max_attempts(attempt);
            let wait = policy.wait_before_retry(asked, attempt);
            let now = Instant::now();
            let end = now.checked_add(policy.deadline);
            if ends_before(now, wait, end) {
                prop_assert!(end.is_none_or(|end| now + wait < end));
            }
            let backoff = policy.wait_before_retry(None, attempt);
            prop_assert!(backoff <= policy.max_backoff);
        }
    }

    #[test]
    fn the_defaults_are_the_documented_values() {
        assert_eq!(
            RetryPolicy::default(),
            RetryPolicy {
                max_attempts: 5,
                initial_backoff: Duration::from_millis(500),
                max_backoff: Duration::from_secs(30),
                max_retry_after: Duration::from_secs(60),
                deadline: Duration::from_secs(120),
            }
        );
    }

    #[test]
    fn the_setters_set_what_they_name() {
        let policy = RetryPolicy::default()
            .max_attempts(3)
            .backoff(Duration::from_millis(7), Duration::from_millis(9))
            .max_retry_after(Duration::from_secs(11))
            .deadline(Duration::from_secs(13));
        assert_eq!(
            policy,
            RetryPolicy {
                max_attempts: 3,
                initial_backoff: Duration::from_millis(7),
                max_backoff: Duration::from_millis(9),
                max_retry_after: Duration::from_secs(11),
                deadline: Duration::from_secs(13),
            }
        );
        // A cap below the first backoff is raised to it.
        let raised = RetryPolicy::default().backoff(Duration::from_secs(2), Duration::from_secs(1));
        assert_eq!(raised.max_backoff, Duration::from_secs(2));
    }

    #[test]
    fn retry_after_is_honored_up_to_60_s_by_default() {
        let policy = RetryPolicy::default();
        let wait = |asked| policy.wait_before_retry(SECONDS(asked), 1);
        assert_eq!(wait(0), Duration::from_secs(1));
        assert_eq!(wait(1), Duration::from_secs(1));
        assert_eq!(wait(59), Duration::from_secs(59));
        assert_eq!(wait(60), Duration::from_secs(60));
        assert_eq!(wait(61), Duration::from_secs(60));
        assert_eq!(wait(3600), Duration::from_secs(60));
    }

    #[test]
    fn the_retry_after_cap_is_at_least_the_1_s_floor() {
        let policy = RetryPolicy::default().max_retry_after(Duration::ZERO);
        assert_eq!(policy.max_retry_after, MIN_RETRY_AFTER);
        let wait = policy.wait_before_retry(SECONDS(30), 1);
        assert_eq!(wait, MIN_RETRY_AFTER);
    }

    #[test]
    fn reasons_say_why() {
        assert_eq!(Reason::RateLimited.to_string(), "rate limited (429)");
        assert_eq!(Reason::ServerError.to_string(), "server error");
        assert_eq!(Reason::Transport.to_string(), "transport failure");
    }

    #[test]
    fn none_sends_once() {
        assert_eq!(RetryPolicy::none().attempts(), 1);
        assert_eq!(RetryPolicy::default().max_attempts(0).attempts(), 1);
        assert_eq!(RetryPolicy::default().attempts(), 5);
    }
}
