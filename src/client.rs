//! The client: the state it carries besides its connection pool
//! ([`ClientState`], which every generated method hands to `call.rs`), and
//! the handwritten methods of [`Client`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::auth::{Auth, AuthScheme};
use crate::error::BuildError;
use crate::generated::Client;
use crate::pacing::{Pacer, Pacing};
use crate::response::Scrubber;
use crate::retry::RetryPolicy;

/// The state a client carries besides its connection pool; every
/// [`OrgClient`](crate::OrgClient) made by `Client::for_org`, and every
/// area client made from one, shares its in-flight limit.
#[derive(Clone, Debug)]
pub struct ClientState {
    pub(crate) auth: Auth,
    pub(crate) retry: RetryPolicy,
    /// The per-request timeout the HTTP client was built with.
    pub(crate) timeout: Option<Duration>,
    /// Requests in flight at once, shared by every copy of the client (as
    /// the connection pool is), so that a burst of calls opens a bounded
    /// number of connections instead of one per call.
    pub(crate) in_flight: Arc<tokio::sync::Semaphore>,
    /// How many requests wait for a slot of `in_flight` now.
    pub(crate) queued: Arc<std::sync::atomic::AtomicUsize>,
    /// The requests, retries and `429`s sent and met so far, shared by
    /// every copy, so that a program reads them all from one client.
    pub(crate) counters: Arc<Counters>,
    /// The most a successful response body may hold.
    pub(crate) max_response_bytes: usize,
    /// Scrubs the key from answers (`None` for a key too short to scrub).
    pub(crate) scrubber: Option<Scrubber>,
    /// The pacing buckets and what was learned, shared by every copy.
    pub(crate) pacer: Pacer,
}

impl ClientState {
    /// The same state acting inside the client organization `org`. Fails
    /// if `org` is empty or not a valid header value.
    pub(crate) fn in_org(&self, org: &str) -> Result<ClientState, BuildError> {
        Ok(ClientState {
            auth: self.auth.with_org(org)?,
            ..self.clone()
        })
    }

    /// The client organization this state acts inside, if any.
    pub(crate) fn org(&self) -> Option<&str> {
        self.auth.org()
    }
}

/// How many requests a client, its clones and its `for_org` handles have
/// sent since it was built ([`Client::request_counts`]). Subtract an
/// earlier reading from a later one for what happened between the two.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestCounts {
    /// Requests sent: every attempt of every call, answered or not. A call
    /// that ended before sending (its deadline passed while it waited for
    /// a slot or for its pacing turn) sent none.
    pub requests: u64,
    /// The requests among them that were a call's second attempt or later.
    pub retries: u64,
    /// Answers with status `429`.
    pub rate_limited: u64,
}

impl std::ops::Sub for RequestCounts {
    type Output = RequestCounts;

    /// What happened between `earlier` and `self`; never negative, even
    /// for readings subtracted the wrong way round.
    fn sub(self, earlier: RequestCounts) -> RequestCounts {
        RequestCounts {
            requests: self.requests.saturating_sub(earlier.requests),
            retries: self.retries.saturating_sub(earlier.retries),
            rate_limited: self.rate_limited.saturating_sub(earlier.rate_limited),
        }
    }
}

/// The counts behind [`RequestCounts`], bumped by the call path. Relaxed:
/// each count is a tally on its own, read for a report, and orders nothing.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
}

impl Counters {
    /// Counts a request sent, a `retry` if its call sent one before,
    /// `rate_limited` if it was answered `429`.
    pub(crate) fn sent(&self, retry: bool, rate_limited: bool) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if retry {
            self.retries.fetch_add(1, Ordering::Relaxed);
        }
        if rate_limited {
            self.rate_limited.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn read(&self) -> RequestCounts {
        RequestCounts {
            requests: self.requests.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
        }
    }
}

impl Client {
    /// The authentication scheme this client sends.
    pub fn scheme(&self) -> AuthScheme {
        self.inner.auth.scheme()
    }

    /// The base URL requests go to, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.baseurl
    }

    /// The retry policy this client's calls follow.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// Whether this client paces its requests ([`ClientBuilder::pacing`](crate::ClientBuilder::pacing)).
    pub fn pacing(&self) -> Pacing {
        self.inner.pacer.pacing()
    }

    /// How many requests of this client and its `for_org` handles wait for
    /// a free request slot now ([`ClientBuilder::max_concurrent_requests`](crate::ClientBuilder::max_concurrent_requests)):
    /// what a program that starts work as slots free up can watch. A
    /// request waiting for its pacing turn is not counted.
    pub fn queued_requests(&self) -> usize {
        self.inner.queued.load(Ordering::Relaxed)
    }

    /// The requests, retries and `429` answers of this client, its clones
    /// and its `for_org` handles since it was built: what a program that
    /// reports on its use of the API can read, e.g. before and after a
    /// batch of calls.
    pub fn request_counts(&self) -> RequestCounts {
        self.inner.counters.read()
    }

    /// The rate pacing has learned, in requests per second per
    /// organization, shared by this client and its `for_org` handles;
    /// `None` before the first `429`, or with pacing off.
    pub fn learned_rate(&self) -> Option<f64> {
        self.inner.pacer.rate()
    }

    /// The requests at once pacing has learned an organization's bucket
    /// admits, shared like [`learned_rate`](Client::learned_rate); `None`
    /// before the first `429`, or with pacing off.
    pub fn learned_burst(&self) -> Option<u32> {
        self.inner.pacer.burst()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::types::PartnerGetClientSummaryInfoWsRequest;

    /// A client whose one slot is held by the test itself.
    fn client_with_busy_slot(deadline: Duration) -> (Client, tokio::sync::OwnedSemaphorePermit) {
        let in_flight = Arc::new(tokio::sync::Semaphore::new(1));
        let permit = in_flight.clone().try_acquire_owned().expect("a free slot");
        let state = ClientState {
            auth: Auth::new(AuthScheme::PartnerApiToken, "queue-test-key").expect("key"),
            retry: RetryPolicy::none().deadline(deadline),
            timeout: Some(Duration::from_secs(5)),
            in_flight,
            queued: Arc::default(),
            counters: Arc::default(),
            max_response_bytes: 1024,
            scrubber: None,
            pacer: Pacer::default(),
        };
        // Nothing listens there, and nothing is sent: the call never gets a slot.
        let client = Client::new_with_client("http://127.0.0.1:9", reqwest::Client::new(), state);
        (client, permit)
    }

    #[tokio::test]
    async fn the_deadline_bounds_the_wait_for_a_slot() {
        let deadline = Duration::from_millis(200);
        let (client, _busy) = client_with_busy_slot(deadline);
        let start = Instant::now();
        let request = PartnerGetClientSummaryInfoWsRequest::default();
        let call = client.get_client_summary_info(&request);
        let error = tokio::time::timeout(Duration::from_secs(10), call)
            .await
            .expect("the wait for a slot ends at the deadline")
            .expect_err("no slot comes free");
        assert!(start.elapsed() >= deadline);
        let crate::Error::QueueTimeout {
            operation,
            waited,
            attempts,
        } = error
        else {
            panic!("expected QueueTimeout, got {error:?}");
        };
        assert_eq!(operation, "getClientSummaryInfo");
        assert!(waited >= deadline, "{waited:?}");
        assert_eq!(attempts, 0, "nothing was sent");
        assert!(error.is_timeout());
        assert!(
            error.to_string().contains("max_concurrent_requests"),
            "{error}"
        );
    }

    /// A call waiting for a slot is counted while it waits, and no longer
    /// once it gave up.
    #[tokio::test]
    async fn a_call_waiting_for_a_slot_is_counted_as_queued() {
        let (client, _busy) = client_with_busy_slot(Duration::from_millis(300));
        assert_eq!(client.queued_requests(), 0);
        let waiting = client.clone();
        let call = tokio::spawn(async move {
            let request = PartnerGetClientSummaryInfoWsRequest::default();
            waiting.get_client_summary_info(&request).await
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(client.queued_requests(), 1);
        let ended = call.await.expect("the call's task");
        assert!(matches!(ended, Err(crate::Error::QueueTimeout { .. })));
        assert_eq!(client.queued_requests(), 0);
    }

    /// A call that never got a slot before its deadline sent nothing, and
    /// counts nothing.
    #[tokio::test]
    async fn a_call_that_never_got_a_slot_counts_nothing() {
        let (client, _busy) = client_with_busy_slot(Duration::from_millis(100));
        let request = PartnerGetClientSummaryInfoWsRequest::default();
        let ended = client.get_client_summary_info(&request).await;
        assert!(matches!(ended, Err(crate::Error::QueueTimeout { .. })));
        assert_eq!(client.request_counts(), RequestCounts::default());
    }

    /// What a `for_org` handle sends counts in the client's counts.
    #[test]
    fn for_org_handles_share_the_request_counts() {
        let (client, _busy) = client_with_busy_slot(Duration::from_millis(100));
        let org = client.inner.in_org("ORG").expect("a valid org");
        org.counters.sent(false, true);
        org.counters.sent(true, false);
        let expected = RequestCounts {
            requests: 2,
            retries: 1,
            rate_limited: 1,
        };
        assert_eq!(client.request_counts(), expected);
    }

    /// The difference of two readings taken the wrong way round is zero,
    /// not a wrapped count.
    #[test]
    fn a_difference_of_counts_saturates_at_zero() {
        let later = RequestCounts {
            requests: 5,
            retries: 2,
            rate_limited: 1,
        };
        let earlier = RequestCounts {
            requests: 3,
            ..later
        };
        let between = RequestCounts {
            requests: 2,
            ..RequestCounts::default()
        };
        assert_eq!(later - earlier, between);
        assert_eq!(earlier - later, RequestCounts::default());
    }

    /// A `for_org` handle learns for the client, and the client for it.
    #[test]
    fn for_org_handles_share_the_pacing() {
        use crate::pacing::Feedback;

        let state = ClientState {
            auth: Auth::new(AuthScheme::PartnerApiToken, "pacing-test-key").expect("key"),
            retry: RetryPolicy::default(),
            timeout: None,
            in_flight: Arc::new(tokio::sync::Semaphore::new(1)),
            queued: Arc::default(),
            counters: Arc::default(),
            max_response_bytes: 1024,
            scrubber: None,
            pacer: Pacer::new(Pacing::learned()),
        };
        let org = state.in_org("ORG").expect("a valid org");
        let unpaced = crate::pacing::Grant::Unpaced;
        org.pacer.feedback(
            org.org(),
            &unpaced,
            Feedback::RateLimited(Duration::from_secs(2)),
        );
        assert_eq!(state.pacer.rate(), Some(0.5));
        assert_eq!(org.pacer.rate(), Some(0.5));
    }
}
