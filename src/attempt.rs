//! One attempt of a call: its turn in its organization's pacing bucket
//! (`pacing.rs`) and a free request slot (both waited for within the
//! call's deadline), the request sent with what is left of the deadline as
//! its timeout, and the answer read whole within its limit. The slot is free
//! again when the attempt returns, so nothing a caller keeps holds one;
//! but a download, whose body the caller reads, keeps its slot until it is
//! read or dropped.
//!
//! Whether to make another attempt is not decided here (`retry.rs`), nor
//! how the attempts of a call are strung together (`call.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::Request;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::pacing::{Grant, Pacer};
use crate::response::{Answer, Failure, Outcome, ReadLimits, read_bounded};

/// The least time an attempt is started with: a request given less would
/// time out before it reached the server, counted as sent when it was not.
pub(crate) const MIN_ATTEMPT_TIME: Duration = Duration::from_millis(10);

/// What guards a client's attempts besides the retry policy.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Guards<'a> {
    /// The client's in-flight limit, shared by its copies.
    pub in_flight: Option<&'a Arc<Semaphore>>,
    /// How many requests of the client wait for a slot now.
    pub queued: &'a AtomicUsize,
    /// How answers are read.
    pub read: ReadLimits<'a>,
    /// The client's pacing, shared by its copies.
    pub pacer: &'a Pacer,
    /// The organization the call acts in (its bucket); `None`: the
    /// partner's own.
    pub org: Option<&'a str>,
}

/// How an attempt ended.
#[derive(Debug)]
pub(crate) enum Attempted {
    /// The request was sent under `grant`: its answer, read, or why there
    /// is none. `slot` is its request slot, kept until the caller has told
    /// the pacing what the answer taught, so that the request that takes
    /// the slot next is paced by it (`None` without a limit, or for a
    /// download, whose body holds the slot).
    Sent {
        outcome: Outcome,
        grant: Grant,
        slot: Option<OwnedSemaphorePermit>,
    },
    /// The deadline passed (or left less than [`MIN_ATTEMPT_TIME`]) before a
    /// slot was free: nothing was sent.
    OutOfTime,
    /// Pacing holds the request back until `wait` from now, past the
    /// deadline: nothing was sent.
    Held { wait: Duration },
}

/// Makes one attempt of `request`, with `timeout` (the client's per-request
/// timeout) cut to what is left before `deadline`.
pub(crate) async fn attempt(
    http: &reqwest::Client,
    mut request: Request,
    guards: Guards<'_>,
    timeout: Option<Duration>,
    deadline: Option<Instant>,
) -> Attempted {
    let (permit, grant) = match admitted(guards, deadline).await {
        Ok(admitted) => admitted,
        Err(ended) => return ended,
    };
    let left = deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()));
    if left.is_some_and(|left| left < MIN_ATTEMPT_TIME) {
        return Attempted::OutOfTime;
    }
    *request.timeout_mut() = match (timeout, left) {
        (Some(timeout), Some(left)) => Some(timeout.min(left)),
        (timeout, left) => timeout.or(left),
    };
    // The body is read within the attempt, so that its slot is free when
    // the call returns and a failure while reading is one of the attempt.
    let mut result = match http.execute(request).await {
        Ok(response) => read_bounded(response, guards.read).await,
        Err(error) => Err(Failure::Send(error)),
    };
    let slot = match &mut result {
        // A download's body is still to come: its slot goes with it.
        Ok(Answer {
            unread: Some(unread),
            ..
        }) => {
            unread.slot = permit;
            None
        }
        _ => permit,
    };
    Attempted::Sent {
        outcome: result,
        grant,
        slot,
    }
}

/// The request's turn in its bucket, then a slot, then the pacing's
/// word that it may go out now: a request whose slot came late may be too
/// close behind another of its organization, or a `429` may have closed
/// the organization meanwhile. Then the slot goes back, so that a waiting
/// request never holds one, and it waits again.
async fn admitted(
    guards: Guards<'_>,
    deadline: Option<Instant>,
) -> Result<(Option<OwnedSemaphorePermit>, Grant), Attempted> {
    let mut ready = guards.pacer.reserve(guards.org);
    loop {
        wait_for_turn(ready, deadline).await?;
        let permit = match guards.in_flight {
            Some(limit) => Some(
                acquire_until(limit, guards.queued, deadline)
                    .await
                    .ok_or(Attempted::OutOfTime)?,
            ),
            None => None,
        };
        match guards.pacer.send(guards.org) {
            Ok(grant) => return Ok((permit, grant)),
            Err(later) => ready = later,
        }
    }
}

/// Sleeps until `ready`, unless that leaves no time for the attempt
/// before `deadline`: then the call ends at once, held back.
async fn wait_for_turn(ready: Instant, deadline: Option<Instant>) -> Result<(), Attempted> {
    let now = Instant::now();
    if ready <= now {
        return Ok(());
    }
    let too_late = deadline.is_some_and(|deadline| {
        ready
            .checked_add(MIN_ATTEMPT_TIME)
            .is_none_or(|start| start > deadline)
    });
    if too_late {
        return Err(Attempted::Held { wait: ready - now });
    }
    tokio::time::sleep_until(ready.into()).await;
    Ok(())
}

/// A permit of `limit`, or `None` if `deadline` passes first, counted in
/// `queued` while it waits. The semaphore is never closed, so waiting is
/// the only way to fail.
async fn acquire_until(
    limit: &Arc<Semaphore>,
    queued: &AtomicUsize,
    deadline: Option<Instant>,
) -> Option<OwnedSemaphorePermit> {
    // A free slot is taken at once, without setting up a timer.
    if let Ok(permit) = limit.clone().try_acquire_owned() {
        return Some(permit);
    }
    let _queued = Queued::count(queued);
    let acquire = limit.clone().acquire_owned();
    match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline.into(), acquire)
            .await
            .ok()?
            .ok(),
        None => acquire.await.ok(),
    }
}

/// One request counted as waiting for a slot, until dropped (the wait
/// done, failed or cancelled with its call).
struct Queued<'a>(&'a AtomicUsize);

impl<'a> Queued<'a> {
    fn count(queued: &'a AtomicUsize) -> Queued<'a> {
        queued.fetch_add(1, Ordering::Relaxed);
        Queued(queued)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A listener that counts the connections offered to it.
    async fn counting_listener() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/", listener.local_addr().expect("address"));
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = accepted.clone();
        tokio::spawn(async move {
            while let Ok((_stream, _)) = listener.accept().await {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        });
        (url, accepted)
    }

    /// The guards of a request of `org` through `pacer`, one `limit` of
    /// slots, bodies up to 1 KiB.
    fn guards<'a>(
        pacer: &'a Pacer,
        org: Option<&'a str>,
        queued: &'a AtomicUsize,
        limit: &'a Arc<Semaphore>,
    ) -> Guards<'a> {
        Guards {
            pacer,
            org,
            queued,
            in_flight: Some(limit),
            read: ReadLimits {
                max_body: 1024,
                scrubber: None,
                unread_success: false,
            },
        }
    }

    /// With a free slot but less than `MIN_ATTEMPT_TIME` left (a slot that
    /// came free just before the deadline), nothing is sent.
    #[tokio::test]
    async fn no_attempt_starts_without_time_to_run() {
        let (url, accepted) = counting_listener().await;
        let http = reqwest::Client::new();
        let limit = Arc::new(Semaphore::new(1));
        let pacer = Pacer::default();
        let queued = AtomicUsize::new(0);
        let guards = guards(&pacer, None, &queued, &limit);
        for left in [Duration::ZERO, MIN_ATTEMPT_TIME / 2] {
            let request = http.get(&url).build().expect("request");
            let deadline = Instant::now().checked_add(left);
            let outcome = attempt(&http, request, guards, None, deadline).await;
            assert!(
                matches!(outcome, Attempted::OutOfTime),
                "{left:?}: {outcome:?}"
            );
        }
        tokio::task::yield_now().await;
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 0);
        assert_eq!(limit.available_permits(), 1, "the slot is free again");
    }

    /// An organization closed by a `429` holds its request back without
    /// its slot: with one slot, a request of another bucket is sent
    /// meanwhile.
    #[tokio::test]
    async fn waiting_for_a_turn_holds_no_slot() {
        use crate::pacing::{Feedback, Pacing};

        let (url, accepted) = counting_listener().await;
        let http = reqwest::Client::new();
        let limit = Arc::new(Semaphore::new(1));
        let pacer = Pacer::new(Pacing::learned());
        let unpaced = Grant::Unpaced;
        pacer.feedback(
            Some("closed"),
            &unpaced,
            Feedback::RateLimited(Duration::from_secs(5)),
        );
        let queued = AtomicUsize::new(0);
        let guards = |org| guards(&pacer, org, &queued, &limit);
        let request = || http.get(&url).build().expect("request");
        let deadline = Instant::now().checked_add(Duration::from_secs(30));
        let held = attempt(&http, request(), guards(Some("closed")), None, deadline);
        let other = attempt(&http, request(), guards(None), None, deadline);
        // The listener never answers: both attempts run until the timeout.
        let both = async { tokio::join!(held, other) };
        let _ = tokio::time::timeout(Duration::from_millis(300), both).await;
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
