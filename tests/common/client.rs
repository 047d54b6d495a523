//! A client for a loopback URL and a retry policy, as most tests need one.

use std::time::Duration;

use rhombus_partner::{Client, ClientBuilder, RetryPolicy};

/// A key recognizable in any output, so that a leak is found by a
/// substring search.
pub const KEY: &str = "SECRET-KEY-8c1f4e2a9b7d";

/// Retries that come at once: backoff from 20 ms, at most 100 ms.
pub fn fast() -> RetryPolicy {
    RetryPolicy::default().backoff(Duration::from_millis(20), Duration::from_millis(100))
}

/// A client with [`KEY`] for `url`, under `policy`, with a 5 s request
/// timeout.
pub fn client(url: &str, policy: RetryPolicy) -> Client {
    with_timeout(url, policy, Duration::from_secs(5))
}

/// [`client`] with another request timeout.
pub fn with_timeout(url: &str, policy: RetryPolicy, timeout: Duration) -> Client {
    builder(url, policy)
        .timeout(timeout)
        .build()
        .expect("valid configuration")
}

/// The builder behind [`client`], to configure further.
pub fn builder(url: &str, policy: RetryPolicy) -> ClientBuilder {
    Client::builder()
        .api_key(KEY)
        .base_url(url)
        .retry_policy(policy)
}
