//! Configuring a [`Client`]: credentials, region, TLS and timeouts.

use std::fmt;
use std::time::Duration;

use crate::auth::{Auth, AuthScheme};
use crate::client::ClientState;
use crate::error::{BuildError, error_chain};
use crate::generated::Client;
use crate::pacing::{Pacer, Pacing};
use crate::response::DEFAULT_MAX_RESPONSE_BYTES;
use crate::retry::RetryPolicy;
use crate::scrub::Scrubber;

/// Default time allowed to open a connection.
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time allowed for a whole request, response body included.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Environment variables read by [`ClientBuilder::from_env`].
const ENV_API_KEY: &str = "RHOMBUS_API_KEY";
const ENV_SCHEME: &str = "RHOMBUS_AUTH_SCHEME";
const ENV_BASE_URL: &str = "RHOMBUS_BASE_URL";

/// Where the Rhombus API is hosted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Region {
    /// `https://api2.rhombussystems.com`. The default.
    #[default]
    Us,
    /// `https://api2.eu.rhombussystems.com`.
    Eu,
}

impl Region {
    /// The region's base URL.
    pub const fn base_url(self) -> &'static str {
        match self {
            Region::Us => "https://api2.rhombussystems.com",
            Region::Eu => "https://api2.eu.rhombussystems.com",
        }
    }
}

/// An API key: kept out of `Debug` and never displayed.
#[derive(Clone)]
struct ApiKey(String);

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A client certificate and private key in PEM: the key is secret too.
#[derive(Clone)]
struct IdentityPem(Vec<u8>);

impl fmt::Debug for IdentityPem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes of PEM, redacted>", self.0.len())
    }
}

/// Configures and builds a [`Client`]. Start with [`Client::builder`] or
/// [`ClientBuilder::from_env`].
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct ClientBuilder {
    api_key: Option<ApiKey>,
    scheme: AuthScheme,
    identity: Option<IdentityPem>,
    root_certificates: Vec<Vec<u8>>,
    region: Region,
    base_url: Option<String>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    user_agent: Option<String>,
    retry: RetryPolicy,
    max_concurrent_requests: Option<usize>,
    max_response_bytes: Option<usize>,
    allow_insecure_http: bool,
    pacing: Pacing,
}

impl ClientBuilder {
    /// The largest value [`ClientBuilder::max_concurrent_requests`] takes.
    pub const MAX_CONCURRENT_REQUESTS: usize = tokio::sync::Semaphore::MAX_PERMITS;
    /// The number of requests one client (and its copies) sends at once
    /// unless [`ClientBuilder::max_concurrent_requests`] says otherwise.
    pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 32;
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Builds a client from the environment; see [`ClientBuilder::from_env`].
    pub fn from_env() -> Result<Client, BuildError> {
        ClientBuilder::from_env()?.build()
    }
}

impl ClientBuilder {
    /// A builder configured from the environment:
    ///
    /// | variable | meaning |
    /// |---|---|
    /// | `RHOMBUS_API_KEY` | the API key (required) |
    /// | `RHOMBUS_AUTH_SCHEME` | `api-token`, `partner-api-token` (default), `api` or `partner-api` |
    /// | `RHOMBUS_BASE_URL` | another base URL, e.g. a test server |
    ///
    /// The result can be configured further, e.g. with an
    /// [`identity`](Self::identity) for the certificate schemes.
    pub fn from_env() -> Result<ClientBuilder, BuildError> {
        Self::from_lookup(|name| match std::env::var(name) {
            Ok(value) => Ok(Some(value)),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(()),
        })
    }

    /// `from_env` over any source of variables, so it can be tested without
    /// touching the process environment.
    pub(crate) fn from_lookup(
        lookup: impl Fn(&'static str) -> Result<Option<String>, ()>,
    ) -> Result<ClientBuilder, BuildError> {
        let var = |name: &'static str| {
            lookup(name)
                .map_err(|()| BuildError::InvalidEnv { name })
                .map(|value| value.filter(|v| !v.is_empty()))
        };
        let api_key = var(ENV_API_KEY)?.ok_or(BuildError::MissingApiKey)?;
        let mut builder = ClientBuilder::default().api_key(api_key);
        if let Some(scheme) = var(ENV_SCHEME)? {
            builder = builder.scheme(scheme.parse()?);
        }
        if let Some(url) = var(ENV_BASE_URL)? {
            builder = builder.base_url(url);
        }
        Ok(builder)
    }

    /// The API key, sent as `x-auth-apikey`. Required.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(ApiKey(key.into()));
        self
    }

    /// The authentication scheme, sent as `x-auth-scheme`. Defaults to
    /// [`AuthScheme::PartnerApiToken`].
    pub fn scheme(mut self, scheme: AuthScheme) -> Self {
        self.scheme = scheme;
        self
    }

    /// The client certificate and its private key, in one PEM, for the
    /// certificate schemes ([`AuthScheme::Api`], [`AuthScheme::PartnerApi`]).
    pub fn identity(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.identity = Some(IdentityPem(pem.into()));
        self
    }

    /// Trusts more CA certificates (one PEM, one or more certificates) besides
    /// the system's roots, e.g. a TLS-inspecting proxy's or a test server's.
    pub fn add_root_certificate(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(pem.into());
        self
    }

    /// The region whose API to call. Defaults to [`Region::Us`]; ignored when
    /// a [`base_url`](Self::base_url) is set.
    pub fn region(mut self, region: Region) -> Self {
        self.region = region;
        self
    }

    /// Any other base URL, e.g. a local test server or a proxy. A trailing
    /// slash is ignored. `http://` is taken only to loopback (`127.0.0.0/8`,
    /// `::1`, `localhost`) unless [`allow_insecure_http`](Self::allow_insecure_http)
    /// says otherwise: `build()` refuses any other host with
    /// [`BuildError::InsecureBaseUrl`].
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Allows an `http://` [`base_url`](Self::base_url) to a host other
    /// than loopback, which sends the API key, every request and every
    /// answer unencrypted: only for a network you trust end to end (e.g. a
    /// TLS-terminating proxy beside the process). Default `false`: `build()`
    /// refuses such a URL with [`BuildError::InsecureBaseUrl`]. `http://` to
    /// loopback (`127.0.0.0/8`, `::1`, `localhost`) is always allowed, and
    /// `https://` needs nothing.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Time allowed for a whole request, response included. Default 30 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Time allowed to open a connection. Default 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How calls are retried after a `429`, a `5xx` or a lost connection;
    /// [`RetryPolicy::none`] turns retries off. Default
    /// [`RetryPolicy::default`]: 5 attempts within 120 s. A state-changing
    /// operation is only ever sent again after a `429`.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How many requests the client, and every handle made with
    /// [`Client::for_org`], has in flight at once (at least 1); more calls
    /// wait for a free slot. This bounds the connections a burst of calls
    /// opens. Default [`ClientBuilder::DEFAULT_MAX_CONCURRENT_REQUESTS`]
    /// (32). At most [`ClientBuilder::MAX_CONCURRENT_REQUESTS`]
    /// (`usize::MAX >> 3`, the most slots tokio's semaphore holds): a
    /// larger value is taken as that, which is no limit in practice.
    pub fn max_concurrent_requests(mut self, max: usize) -> Self {
        self.max_concurrent_requests = Some(max.clamp(1, Self::MAX_CONCURRENT_REQUESTS));
        self
    }

    /// The most bytes a successful response body may hold (at least 1).
    /// A larger one is not read further: its connection is closed and the
    /// call fails with [`Error::BodyTooLarge`](crate::Error::BodyTooLarge).
    /// Error bodies are kept up to [`BODY_PREVIEW_LIMIT`](crate::BODY_PREVIEW_LIMIT)
    /// whatever this says. Default 64 MiB.
    pub fn max_response_bytes(mut self, max: usize) -> Self {
        self.max_response_bytes = Some(max.max(1));
        self
    }

    /// Whether requests are paced by a rate learned from the API's `429`s.
    /// Default [`Pacing::learned`]: until the first `429` nothing is paced
    /// (a request only reads a flag), so a program that never meets the
    /// limit pays nothing; after it, each organization's requests (and the
    /// partner's own) go out no faster than the rate learned, and none is
    /// sent to an organization before its `Retry-After` has passed, so the
    /// limit is met a few times rather than once per request over it. The
    /// pacing state is shared by the client's copies and `for_org`
    /// handles, not by another client built with the same key.
    /// [`Pacing::off`] sends every request as soon as a slot is free.
    pub fn pacing(mut self, pacing: Pacing) -> Self {
        self.pacing = pacing;
        self
    }

    /// The `User-Agent` header. Default `rhombus-partner/<version>`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Checks the configuration and builds the client.
    ///
    /// This (with [`Client::from_env`] and [`Client::for_org`]) is the only
    /// way to a client, so every client has the builder's HTTP client (no
    /// redirect followed, limits, scrubbing): the generated constructors
    /// are private.
    ///
    /// ```compile_fail
    /// // A client with an HTTP client of its own, which would follow a redirect with the key.
    /// let client = rhombus_partner::Client::new("https://api2.rhombussystems.com", todo!());
    /// ```
    ///
    /// ```compile_fail
    /// let client = rhombus_partner::Client::new_with_client("https://x", todo!(), todo!());
    /// ```
    pub fn build(self) -> Result<Client, BuildError> {
        let (base_url, http, state) = build_parts(self)?;
        Ok(Client::new_with_client(&base_url, http, state))
    }
}

/// What [`ClientBuilder::build`] gives a generated client: the base URL, the
/// HTTP client and the client's state. For clients generated outside the
/// library (test fixtures), which then run the library's own hooks.
#[doc(hidden)]
pub fn build_parts(
    builder: ClientBuilder,
) -> Result<(String, reqwest::Client, ClientState), BuildError> {
    let key = builder.api_key.ok_or(BuildError::MissingApiKey)?;
    let auth = Auth::new(builder.scheme, &key.0)?;
    let base_url = checked_base_url(
        builder
            .base_url
            .as_deref()
            .unwrap_or(builder.region.base_url()),
        builder.allow_insecure_http,
    )?;

    let user_agent = builder
        .user_agent
        .unwrap_or_else(|| concat!("rhombus-partner/", env!("CARGO_PKG_VERSION")).to_owned());
    let user_agent_header = reqwest::header::HeaderValue::from_str(&user_agent)
        .map_err(|_| BuildError::InvalidUserAgent { value: user_agent })?;

    let timeout = builder.timeout.unwrap_or(DEFAULT_TIMEOUT);
    let http = reqwest::Client::builder()
        // The API does not redirect its calls; following one would send
        // the key (a custom header, which reqwest keeps on a redirect to
        // another host) wherever the `Location` says.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(user_agent_header)
        .timeout(timeout)
        .connect_timeout(builder.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT));

    let http = with_tls(
        http,
        builder.scheme,
        builder.identity,
        &builder.root_certificates,
    )?
    .build()
    .map_err(BuildError::HttpClient)?;
    let scrubber = auth.scrubbed_secret().map(Scrubber::new);
    let state = ClientState {
        auth,
        scrubber,
        retry: builder.retry,
        timeout: Some(timeout),
        queued: std::sync::Arc::default(),
        counters: std::sync::Arc::default(),
        in_flight: std::sync::Arc::new(tokio::sync::Semaphore::new(
            builder
                .max_concurrent_requests
                .unwrap_or(ClientBuilder::DEFAULT_MAX_CONCURRENT_REQUESTS),
        )),
        max_response_bytes: builder
            .max_response_bytes
            .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
        pacer: Pacer::new(builder.pacing),
    };
    Ok((base_url, http, state))
}

/// `http` with the client certificate the scheme needs (and only then),
/// the TLS backend the crate's features chose and the extra roots.
fn with_tls(
    mut http: reqwest::ClientBuilder,
    scheme: AuthScheme,
    identity: Option<IdentityPem>,
    roots_pem: &[Vec<u8>],
) -> Result<reqwest::ClientBuilder, BuildError> {
    match (scheme.uses_certificate(), identity) {
        (true, None) => {
            return Err(BuildError::IdentityRequired { scheme });
        }
        (false, Some(_)) => {
            return Err(BuildError::IdentityWithTokenScheme { scheme });
        }
        (true, Some(pem)) => {
            http = http.identity(crate::tls::identity(&pem.0)?);
        }
        (false, None) => {}
    }
    // The backend the crate's features chose (`src/tls.rs`).
    http = crate::tls::select_backend(http);
    if !roots_pem.is_empty() {
        let mut roots = Vec::new();
        for pem in roots_pem {
            let bundle = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                BuildError::InvalidRootCertificate {
                    reason: error_chain(&e),
                }
            })?;
            // A text without any PEM block parses as an empty bundle.
            if bundle.is_empty() {
                return Err(BuildError::InvalidRootCertificate {
                    reason: "no certificate found in it".to_owned(),
                });
            }
            roots.extend(bundle);
        }
        http = http.tls_certs_merge(roots);
    }
    Ok(http)
}

/// Accepts absolute http(s) URLs without query or fragment, `http` only to
/// loopback unless `allow_insecure` (the key would cross the network in
/// clear text); drops a trailing slash, since the generated code appends
/// `/api/...`.
fn checked_base_url(url: &str, allow_insecure: bool) -> Result<String, BuildError> {
    let invalid = |reason: &str| BuildError::InvalidBaseUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it has no host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid("it must not have a query or fragment"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid("it must not carry credentials"));
    }
    if parsed.scheme() == "http" && !allow_insecure && !parsed.host_str().is_some_and(is_loopback) {
        return Err(BuildError::InsecureBaseUrl {
            url: url.to_owned(),
        });
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

/// Whether `host` (as a parsed URL writes it: IPv6 in brackets, IPv4 in
/// dotted decimal, names lowercased) is this machine: `localhost`,
/// `127.0.0.0/8` or `::1`.
fn is_loopback(host: &str) -> bool {
    let address = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || address
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(vars: &[(&'static str, &str)]) -> Result<ClientBuilder, BuildError> {
        let vars: Vec<(&'static str, String)> =
            vars.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        ClientBuilder::from_lookup(move |name| {
            Ok(vars
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone()))
        })
    }

    #[test]
    fn env_needs_a_key() {
        assert!(matches!(from(&[]), Err(BuildError::MissingApiKey)));
        assert!(matches!(
            from(&[(ENV_API_KEY, "")]),
            Err(BuildError::MissingApiKey)
        ));
    }

    #[test]
    fn env_reads_every_variable() {
        let client = from(&[
            (ENV_API_KEY, "k"),
            (ENV_SCHEME, " API-TOKEN "),
            (ENV_BASE_URL, "http://127.0.0.1:9/"),
        ])
        .and_then(ClientBuilder::build)
        .expect("valid environment");
        assert_eq!(client.scheme(), AuthScheme::ApiToken);
        assert_eq!(client.base_url(), "http://127.0.0.1:9");
    }

    #[test]
    fn env_rejects_unknown_scheme() {
        let err = from(&[(ENV_API_KEY, "k"), (ENV_SCHEME, "bearer")]).unwrap_err();
        assert!(matches!(&err, BuildError::UnknownScheme { value } if value == "bearer"));
        assert!(err.to_string().contains("partner-api-token"), "{err}");
    }

    #[test]
    fn env_reports_non_unicode() {
        let err = ClientBuilder::from_lookup(|name| match name {
            ENV_API_KEY => Ok(Some("k".into())),
            ENV_BASE_URL => Err(()),
            _ => Ok(None),
        })
        .unwrap_err();
        assert!(matches!(err, BuildError::InvalidEnv { name: ENV_BASE_URL }));
    }

    #[test]
    fn base_urls() {
        let ok = |u| checked_base_url(u, false).unwrap();
        assert_eq!(ok("https://example.com/"), "https://example.com");
        assert_eq!(
            ok("http://127.0.0.1:8080/proxy/"),
            "http://127.0.0.1:8080/proxy"
        );
        for bad in [
            "ftp://example.com",
            "example.com",
            "https://example.com/?a=1",
            "https://u:p@h",
            "https://u@h",
            "https://:p@h",
            "file:///x",
        ] {
            assert!(checked_base_url(bad, false).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn http_is_refused_beyond_loopback_unless_allowed() {
        for local in [
            "http://127.0.0.1:8080",
            "http://127.1.2.3",
            "http://127.1",
            "http://localhost:3000/x",
            "http://LOCALHOST",
            "http://[::1]:8080",
        ] {
            assert!(checked_base_url(local, false).is_ok(), "{local} refused");
        }
        for remote in [
            "http://api2.rhombussystems.com",
            "http://128.0.0.1",
            "http://10.0.0.1:8080",
            "http://[::2]",
            "http://[::ffff:7f00:1]",
            "http://localhost.example.com",
            "http://0.0.0.0",
        ] {
            let error = checked_base_url(remote, false).expect_err(remote);
            assert!(
                matches!(&error, BuildError::InsecureBaseUrl { url } if url == remote),
                "{error:?}"
            );
            let message = error.to_string();
            assert!(message.contains("https://"), "{message}");
            assert!(message.contains("allow_insecure_http(true)"), "{message}");
            assert_eq!(
                checked_base_url(remote, true).ok().as_deref(),
                Some(remote.trim_end_matches('/')),
                "allowed"
            );
        }
        assert!(checked_base_url("https://example.com", false).is_ok());
        assert!(!is_loopback("localhost.") && is_loopback("127.255.255.255"));
    }

    #[test]
    fn the_defaults_are_the_documented_values() {
        let (_, _, state) = build_parts(Client::builder().api_key("k")).expect("valid");
        assert_eq!(state.timeout, Some(Duration::from_secs(30)));
        assert_eq!(state.in_flight.available_permits(), 32);
        assert_eq!(state.max_response_bytes, 64 * 1024 * 1024);
        assert_eq!(state.retry, RetryPolicy::default());
        assert_eq!(state.pacer.pacing(), Pacing::learned());
        assert_eq!(DEFAULT_CONNECT_TIMEOUT, Duration::from_secs(10));
    }

    #[test]
    fn the_limits_are_at_least_one() {
        let builder = Client::builder()
            .api_key("k")
            .max_concurrent_requests(0)
            .max_response_bytes(0);
        let (_, _, state) = build_parts(builder).expect("valid");
        assert_eq!(state.in_flight.available_permits(), 1);
        assert_eq!(state.max_response_bytes, 1);
        let builder = Client::builder()
            .api_key("k")
            .max_concurrent_requests(3)
            .max_response_bytes(5)
            .timeout(Duration::from_secs(7));
        let (_, _, state) = build_parts(builder).expect("valid");
        assert_eq!(state.in_flight.available_permits(), 3);
        assert_eq!(state.max_response_bytes, 5);
        assert_eq!(state.timeout, Some(Duration::from_secs(7)));
    }

    #[test]
    fn regions() {
        assert_eq!(
            Region::default().base_url(),
            "https://api2.rhombussystems.com"
        );
        assert_eq!(Region::Eu.base_url(), "https://api2.eu.rhombussystems.com");
    }
}
