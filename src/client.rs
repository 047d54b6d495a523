//! The client: the state it carries besides its connection pool
//! ([`ClientState`]), what every generated method runs around its request
//! (the auth headers in [`pre`]; the retry policy, in-flight limit and
//! bounded reading in [`exec`]; [`post`]), and the handwritten methods of
//! [`Client`]. The generated `ClientHooks` impl calls these three through
//! `rhombus_partner::__private`.

use std::sync::Arc;
use std::time::Duration;

use crate::attempt::Guards;
use crate::auth::{Auth, AuthScheme};
use crate::call::{Call, QueueTimedOut, send};
use crate::error::BuildError;
use crate::generated::Client;
use crate::operation::Operation;
use crate::response::{ReadLimits, Scrubber};
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
    /// The most a successful response body may hold.
    pub(crate) max_response_bytes: usize,
    /// Scrubs the key from answers (`None` for a key too short to scrub).
    pub(crate) scrubber: Option<Scrubber>,
}

/// The partner client's `pre` hook: adds `x-auth-scheme` and
/// `x-auth-apikey`, never `x-auth-org` (a partner-level operation names its
/// client in the body).
pub fn pre(state: &ClientState, request: &mut reqwest::Request) {
    state.auth.apply(request.headers_mut());
}

/// The `pre` hook of the client-org API's areas: the same headers and
/// `x-auth-org`; without an org, an error that stops the call before
/// anything is sent.
pub fn pre_in_org(state: &ClientState, request: &mut reqwest::Request) -> Result<(), String> {
    state
        .auth
        .apply_in_org(request.headers_mut())
        .map_err(str::to_owned)
}

/// The `exec` hook: sends `request` under the retry policy, within the
/// in-flight limit, and reads the answer bounded and scrubbed. `operations`
/// is the generated table the method's id is looked up in; an id missing
/// from it is state-changing, the safe default.
///
/// Not an `async fn`: the retry loop's future is returned as it is, with no
/// layer around it.
pub fn exec<'a>(
    state: &'a ClientState,
    http: &'a reqwest::Client,
    request: reqwest::Request,
    method: &'static str,
    operations: &'static [Operation],
) -> impl Future<Output = reqwest::Result<reqwest::Response>> + 'a {
    let operation = operations.iter().find(|op| op.method == method);
    let call = Call {
        operation: operation.map_or(method, |op| op.id),
        read_only: operation.is_some_and(|op| op.read_only),
        timeout: state.timeout,
    };
    let guards = Guards {
        in_flight: Some(&state.in_flight),
        read: ReadLimits {
            max_body: state.max_response_bytes,
            scrubber: state.scrubber.as_ref(),
        },
    };
    send(&state.retry, http, request, call, guards)
}

/// The `post` hook: the stand-in answer of a call that never got a slot
/// (`call.rs`) becomes progenitor's `Custom` error, in the words of
/// [`Error::QueueTimeout`](crate::Error::QueueTimeout), which the checked
/// methods return for it.
pub fn post(result: &reqwest::Result<reqwest::Response>) -> Result<(), String> {
    let stand_in = result
        .as_ref()
        .ok()
        .and_then(|response| response.extensions().get::<QueueTimedOut>());
    match stand_in.and_then(|QueueTimedOut(report)| report.queue_timeout()) {
        Some(error) => Err(error.to_string()),
        None => Ok(()),
    }
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
            max_response_bytes: 1024,
            scrubber: None,
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
        let checked = client.checked();
        let call = checked.get_client_summary_info(&request);
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

        // The plain method says the same in progenitor's error.
        use progenitor_client::Error;
        let error = client
            .get_client_summary_info(&PartnerGetClientSummaryInfoWsRequest::default())
            .await
            .expect_err("no slot comes free");
        assert!(
            matches!(&error, Error::Custom(message) if message.contains("free request slot")),
            "{error:?}"
        );
    }
}
