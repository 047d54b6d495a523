//! The one error type callers match on: every way a call can fail, each
//! saying what happened and what to do, none carrying a request header (so
//! never the API key).

use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;

/// The most of a response body an error keeps: 64 KiB.
pub const BODY_PREVIEW_LIMIT: usize = 64 * 1024;

/// How much of a body preview `Display` shows; `Debug` and
/// [`BodyPreview::text`] have all of it.
const DISPLAY_CHARS: usize = 300;

/// The start of a response body, kept for diagnosis: at most
/// [`BODY_PREVIEW_LIMIT`] bytes, decoded as lossy UTF-8.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct BodyPreview {
    text: String,
    truncated: bool,
}

impl BodyPreview {
    /// A preview of `bytes`, cut at [`BODY_PREVIEW_LIMIT`]; `more` says
    /// whether the body went on past `bytes`.
    pub fn new(bytes: &[u8], more: bool) -> Self {
        let cut = bytes.len().min(BODY_PREVIEW_LIMIT);
        BodyPreview {
            text: String::from_utf8_lossy(&bytes[..cut]).into_owned(),
            truncated: more || bytes.len() > cut,
        }
    }

    /// The preview, as text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the body was longer than the preview.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// Whether the body was empty.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty() && !self.truncated
    }

    /// A short form for messages: the first few hundred characters.
    fn short(&self) -> String {
        let mut text: String = self.text.chars().take(DISPLAY_CHARS).collect();
        if self.truncated || text.len() < self.text.len() {
            text.push_str("...");
        }
        text
    }
}

impl fmt::Debug for BodyPreview {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyPreview")
            .field("text", &self.text)
            .field("truncated", &self.truncated)
            .finish()
    }
}

impl fmt::Display for BodyPreview {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            f.write_str("an empty body")
        } else {
            write!(f, "body {:?}", self.short())
        }
    }
}

/// A response body past the client's limit
/// ([`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes)
/// for a success, [`BODY_PREVIEW_LIMIT`] for any other status). The body is
/// not read further and its connection is closed.
///
/// Calls report it as [`Error::BodyTooLarge`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the response body is larger than the limit of {limit} bytes ({}); it was not read further: \
     raise ClientBuilder::max_response_bytes if answers this large are expected",
    amount(*announced, *read)
)]
pub struct BodyTooLarge {
    status: StatusCode,
    limit: u64,
    read: u64,
    announced: Option<u64>,
}

impl BodyTooLarge {
    pub(crate) fn new(
        status: StatusCode,
        limit: usize,
        read: usize,
        announced: Option<u64>,
    ) -> Self {
        BodyTooLarge {
            status,
            limit: limit as u64,
            read: read as u64,
            announced,
        }
    }

    /// The status of the answer whose body was too large.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The limit, in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// The bytes received before reading stopped (0 when the
    /// `Content-Length` alone was over the limit).
    pub fn read(&self) -> u64 {
        self.read
    }

    /// The `Content-Length` the server announced, if any.
    pub fn announced(&self) -> Option<u64> {
        self.announced
    }
}

/// What kind of transport failure ended a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportKind {
    /// No connection could be opened (refused, DNS, TLS handshake).
    Connect,
    /// The connect or request timeout passed.
    Timeout,
    /// The connection broke while sending or receiving (e.g. a reset).
    Connection,
    /// The TLS handshake was refused: a certificate the client does not
    /// accept (untrusted, expired, for another host) or one the server
    /// does not. Never retried: it would fail the same way.
    Tls,
}

impl TransportKind {
    /// What to check, for the error's message.
    fn advice(self) -> &'static str {
        match self {
            TransportKind::Timeout => {
                "check the network path to the API and the client's timeouts \
                 (ClientBuilder::timeout)"
            }
            TransportKind::Tls => {
                "check that the base URL names the API's host, that its certificate is valid, and \
                 the roots the client trusts (ClientBuilder::add_root_certificate) or the client \
                 certificate it presents (ClientBuilder::identity)"
            }
            TransportKind::Connect | TransportKind::Connection => {
                "check the network path to the API and the client's timeouts"
            }
        }
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Connect => "could not connect",
            TransportKind::Timeout => "timed out",
            TransportKind::Connection => "lost the connection",
            TransportKind::Tls => "TLS handshake refused",
        })
    }
}

/// Why a call failed. Match on the variant; every variant names the
/// operation (its `operationId`), and `Display` says what to do.
///
/// No variant holds request headers, so neither `Display` nor `Debug` can
/// show the API key; body previews are also scrubbed of it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request never got a response: no connection, a timeout, or a
    /// connection that broke. Retried only for read-only operations.
    #[error("{operation}: {kind} after {attempts} attempt(s); {}", kind.advice())]
    Transport {
        /// The `operationId`.
        operation: &'static str,
        /// What kind of failure.
        kind: TransportKind,
        /// How many requests were sent.
        attempts: u32,
        /// The transport's own error, with its causes.
        #[source]
        source: reqwest::Error,
    },
    /// The API answered `429 Too Many Requests` until the retry policy
    /// gave up. The limit is per organization, shared by all its keys.
    #[error(
        "{operation}: rate limited (429) after {attempts} attempt(s){}; the organization's request \
         budget is used up: wait and retry, spread calls out, or allow more attempts or a longer \
         deadline in the RetryPolicy",
        asked_wait(*retry_after)
    )]
    RateLimited {
        /// The `operationId`.
        operation: &'static str,
        /// The last `Retry-After`, if the API sent one.
        retry_after: Option<Duration>,
        /// How many requests were sent.
        attempts: u32,
        /// The start of the last body.
        body: BodyPreview,
    },
    /// `401`: the key was not accepted.
    #[error(
        "{operation}: unauthorized (401), {body}; check the API key and that the auth scheme \
         matches it (partner-api-token for a partner key, api-token for an organization's key)"
    )]
    Unauthorized {
        /// The `operationId`.
        operation: &'static str,
        /// How many requests were sent.
        attempts: u32,
        /// The start of the body.
        body: BodyPreview,
    },
    /// `403`: the key may not do this, or not for this organization.
    #[error(
        "{operation}: forbidden (403), {body}; the key lacks the permission for this call, or \
         the client organization (x-auth-org) is not one of the partner's"
    )]
    Forbidden {
        /// The `operationId`.
        operation: &'static str,
        /// How many requests were sent.
        attempts: u32,
        /// The start of the body.
        body: BodyPreview,
    },
    /// Any other status the operation does not declare, after retries where
    /// those are allowed. The API declares `200` alone, so an undeclared
    /// `201` or `204` is one too.
    #[error(
        "{operation}: HTTP {status}, {body}; {}",
        status_advice(*status)
    )]
    Http {
        /// The `operationId`.
        operation: &'static str,
        /// The status.
        status: StatusCode,
        /// How many requests were sent.
        attempts: u32,
        /// The start of the body.
        body: BodyPreview,
    },
    /// The API answered with `"error": true`; `message` is its `errorMsg`.
    #[error(
        "{operation}: the API reported an error: {}; the request was received but refused: \
         check its fields against the message",
        or_none(message.as_deref(), "(no errorMsg given)")
    )]
    Api {
        /// The `operationId`.
        operation: &'static str,
        /// The `errorMsg`, if any.
        message: Option<String>,
        /// The `warningMsg`, if any.
        warning: Option<String>,
        /// How many requests were sent.
        attempts: u32,
        /// The `responseStatus`, as JSON text, if any.
        response_status: Option<String>,
    },
    /// The body of a successful status could not be decoded.
    #[error(
        "{operation}: the response (HTTP {status}) could not be decoded, {body}; the API may \
         have changed: refresh the spec (cargo xtask refresh-spec) or report it"
    )]
    Decode {
        /// The `operationId`.
        operation: &'static str,
        /// The status.
        status: StatusCode,
        /// The start of the body.
        body: BodyPreview,
        /// How many requests were sent.
        attempts: u32,
        /// What the decoder said.
        #[source]
        source: serde_json::Error,
    },
    /// The API answered with a redirect (`3xx`). The Rhombus API does not
    /// redirect API calls, so none is followed: the request, with its key,
    /// goes to the configured origin and nowhere else.
    #[error(
        "{operation}: HTTP {status} redirect to {}, not followed: the key is only sent to the \
         configured base URL; check the base URL (scheme, host, region), or whether a proxy \
         or gateway answers in the API's place",
        target(location.as_deref())
    )]
    Redirect {
        /// The `operationId`.
        operation: &'static str,
        /// The status.
        status: StatusCode,
        /// How many requests were sent.
        attempts: u32,
        /// The `Location` header, if any (scrubbed of the key, like every
        /// part of an answer).
        location: Option<String>,
    },
    /// A response body was larger than the client accepts; see
    /// [`BodyTooLarge`].
    #[error("{operation}: HTTP {}: {too_large}", too_large.status())]
    BodyTooLarge {
        /// The `operationId`.
        operation: &'static str,
        /// How many requests were sent.
        attempts: u32,
        /// The status, the limit and how much was read.
        too_large: BodyTooLarge,
    },
    /// The call's deadline passed while it waited for a free request slot:
    /// the client (with its [`Client::for_org`](crate::Client::for_org)
    /// copies) already had
    /// [`max_concurrent_requests`](crate::ClientBuilder::max_concurrent_requests)
    /// requests in flight. Nothing was sent for the attempt that waited.
    #[error(
        "{operation}: timed out after {} ms waiting for a free request slot (all \
         max_concurrent_requests slots were busy) after {attempts} attempt(s); raise \
         ClientBuilder::max_concurrent_requests or the RetryPolicy deadline, or send fewer \
         calls at once",
        waited.as_millis()
    )]
    QueueTimeout {
        /// The `operationId`.
        operation: &'static str,
        /// How long the call had run when it gave up.
        waited: Duration,
        /// How many requests were sent before the wait.
        attempts: u32,
    },
    /// A download's writer failed (`Download::write_to`): the answer came,
    /// the caller's sink refused it. Not retried: the body is half handed
    /// over.
    #[error("{operation}: writing the download failed after {written} byte(s); check the writer")]
    Write {
        /// The `operationId`.
        operation: &'static str,
        /// How many bytes the writer took before it failed.
        written: u64,
        /// The writer's error.
        #[source]
        source: std::io::Error,
    },
    /// The request could not be built from the arguments (a value that
    /// cannot be sent as a header, say); nothing was sent.
    #[error("{operation}: the request could not be built from the arguments; correct them")]
    InvalidRequest {
        /// The `operationId`.
        operation: &'static str,
        /// What was wrong.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A paged operation's answer did not move its cursor: it gave back the
    /// cursor it was asked with, or a full page whose last item lacks the
    /// fields the cursor is read from. Following it would read the same
    /// page again (forever), so the stream stops; that page is not
    /// delivered, as it is likely the one before it again.
    #[error(
        "{operation}: page {page} did not move the cursor (the same cursor as the request's, or \
         none on a full page); the server ignored the cursor or changed how it pages: stopped \
         rather than read the same page again"
    )]
    CursorStuck {
        /// The `operationId`.
        operation: &'static str,
        /// Which page (1 for the first) did not move the cursor.
        page: usize,
    },
    /// A paged operation had more pages than the stream's limit
    /// ([`Pages::max_pages`](crate::Pages::max_pages)); the pages up to the
    /// limit were delivered.
    #[error(
        "{operation}: more than {limit} pages; stopped reading: narrow the request (a time \
         window, a filter), ask for larger pages, or raise the limit with Pages::max_pages"
    )]
    TooManyPages {
        /// The `operationId`.
        operation: &'static str,
        /// The limit: how many pages were read.
        limit: usize,
    },
}

// What the messages above show of their fields.

fn amount(announced: Option<u64>, read: u64) -> String {
    match announced {
        Some(length) => format!("{length} bytes announced"),
        None => format!("{read} bytes received"),
    }
}

fn asked_wait(retry_after: Option<Duration>) -> String {
    retry_after
        .map(|wait| format!(", the API asked to wait {} s", wait.as_secs()))
        .unwrap_or_default()
}

fn or_none<'a>(text: Option<&'a str>, none: &'a str) -> &'a str {
    text.unwrap_or(none)
}

fn target(location: Option<&str>) -> String {
    location.map_or_else(|| "nowhere (no Location)".to_owned(), |l| format!("{l:?}"))
}

fn status_advice(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 422 => "the request was malformed: check the request body against the API docs",
        404 => "the endpoint does not exist here: check the base URL and region",
        500 => {
            "the API failed; a missing or misspelled parameter has been answered this way, so \
             check the request, then retry later"
        }
        502..=504 => "the API or a gateway is unavailable: retry later",
        _ if status.is_server_error() => "the API failed: retry later",
        _ => "see the body for details",
    }
}

impl Error {
    /// The `operationId` of the failed call.
    pub fn operation(&self) -> &'static str {
        match self {
            Error::Transport { operation, .. }
            | Error::RateLimited { operation, .. }
            | Error::Unauthorized { operation, .. }
            | Error::Forbidden { operation, .. }
            | Error::Http { operation, .. }
            | Error::Api { operation, .. }
            | Error::Decode { operation, .. }
            | Error::Redirect { operation, .. }
            | Error::BodyTooLarge { operation, .. }
            | Error::QueueTimeout { operation, .. }
            | Error::Write { operation, .. }
            | Error::InvalidRequest { operation, .. }
            | Error::CursorStuck { operation, .. }
            | Error::TooManyPages { operation, .. } => operation,
        }
    }

    /// The HTTP status, when there was a response.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::RateLimited { .. } => Some(StatusCode::TOO_MANY_REQUESTS),
            Error::Unauthorized { .. } => Some(StatusCode::UNAUTHORIZED),
            Error::Forbidden { .. } => Some(StatusCode::FORBIDDEN),
            Error::Http { status, .. }
            | Error::Decode { status, .. }
            | Error::Redirect { status, .. } => Some(*status),
            Error::BodyTooLarge { too_large, .. } => Some(too_large.status()),
            Error::Api { .. } => Some(StatusCode::OK),
            Error::Transport { .. }
            | Error::QueueTimeout { .. }
            | Error::Write { .. }
            | Error::InvalidRequest { .. }
            | Error::CursorStuck { .. }
            | Error::TooManyPages { .. } => None,
        }
    }

    /// The message and each cause behind `source()`, joined with `: `: what
    /// a log line or a command-line tool shows of the error.
    pub fn report(&self) -> String {
        error_chain(self)
    }

    /// How many requests the call sent, for an error of a call (`None`
    /// for a paged stream's own errors, `Some(0)` when nothing was sent).
    pub fn attempts(&self) -> Option<u32> {
        match self {
            Error::Transport { attempts, .. }
            | Error::RateLimited { attempts, .. }
            | Error::Unauthorized { attempts, .. }
            | Error::Forbidden { attempts, .. }
            | Error::Http { attempts, .. }
            | Error::Api { attempts, .. }
            | Error::Decode { attempts, .. }
            | Error::Redirect { attempts, .. }
            | Error::BodyTooLarge { attempts, .. }
            | Error::QueueTimeout { attempts, .. } => Some(*attempts),
            Error::InvalidRequest { .. } => Some(0),
            Error::CursorStuck { .. } | Error::TooManyPages { .. } | Error::Write { .. } => None,
        }
    }

    /// Whether the call ran out of time: a transport timeout, or the
    /// deadline passing while waiting for a free request slot.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            Error::QueueTimeout { .. }
                | Error::Transport {
                    kind: TransportKind::Timeout,
                    ..
                }
        )
    }

    /// The body preview, when there was a body.
    pub fn body(&self) -> Option<&BodyPreview> {
        match self {
            Error::RateLimited { body, .. }
            | Error::Unauthorized { body, .. }
            | Error::Forbidden { body, .. }
            | Error::Http { body, .. }
            | Error::Decode { body, .. } => Some(body),
            _ => None,
        }
    }
}

/// Why a [`Client`](crate::Client) could not be built. Every message says what to change;
/// none of them contains the API key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No API key was given.
    #[error(
        "no API key: call ClientBuilder::api_key, or set RHOMBUS_API_KEY when using Client::from_env"
    )]
    MissingApiKey,
    /// The API key is empty or only white space.
    #[error(
        "the API key is empty: pass the key from the Rhombus console (Settings, API Management)"
    )]
    EmptyApiKey,
    /// The API key cannot be sent as an HTTP header value.
    #[error(
        "the API key contains characters that cannot be sent in an HTTP header \
         (control characters or non-ASCII): check for a stray newline or quote where it was read"
    )]
    InvalidApiKey,
    /// The client organization cannot be sent as an HTTP header value.
    #[error(
        "the client org {org:?} is empty or cannot be sent in an HTTP header: \
         pass the organization's UUID, e.g. as returned by getClients"
    )]
    InvalidOrg {
        /// The rejected value.
        org: String,
    },
    /// The client organization given to [`Client::for_org`](crate::Client::for_org)
    /// contains the API key (a key pasted in the org's place). The value is
    /// not kept: it would show the key.
    #[error(
        "the client org contains the API key, so it was not sent: pass the organization's UUID,          e.g. as returned by getClients"
    )]
    OrgContainsApiKey,
    /// A certificate scheme was chosen without a client certificate.
    #[error(
        "the `{scheme}` scheme authenticates with a client certificate: pass one with \
         ClientBuilder::identity, or choose a token scheme (api-token, partner-api-token)"
    )]
    IdentityRequired {
        /// The scheme that needs a certificate.
        scheme: crate::scheme::AuthScheme,
    },
    /// A client certificate was given with a token scheme, which ignores it.
    #[error(
        "a client certificate was given, but the `{scheme}` scheme does not use one: \
         choose AuthScheme::Api or AuthScheme::PartnerApi, or drop the identity"
    )]
    IdentityWithTokenScheme {
        /// The token scheme.
        scheme: crate::scheme::AuthScheme,
    },
    /// The identity PEM could not be used.
    #[error(
        "the client identity is not usable: {reason}; pass one PEM holding the certificate \
         (chain) and its private key (PKCS#8, PKCS#1 or SEC1)"
    )]
    InvalidIdentity {
        /// What the TLS layer said.
        reason: String,
    },
    /// An extra root certificate could not be parsed.
    #[error("a root certificate is not usable: {reason}; pass a PEM-encoded CA certificate")]
    InvalidRootCertificate {
        /// What the TLS layer said.
        reason: String,
    },
    /// The base URL is not an absolute http(s) URL.
    #[error(
        "the base URL {url:?} is not usable: {reason}; pass an absolute http:// or https:// URL \
         such as https://api2.rhombussystems.com"
    )]
    InvalidBaseUrl {
        /// The rejected URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A base URL would send the API key in clear text: `http://` to a
    /// host other than loopback, without
    /// [`ClientBuilder::allow_insecure_http`](crate::ClientBuilder::allow_insecure_http).
    #[error(
        "the base URL {url:?} would send the API key unencrypted: use https://, or call \
         ClientBuilder::allow_insecure_http(true) if the network to it is trusted (http:// to \
         loopback, 127.0.0.0/8, ::1 or localhost, is always allowed)"
    )]
    InsecureBaseUrl {
        /// The rejected URL.
        url: String,
    },
    /// The user agent cannot be sent as an HTTP header value.
    #[error("the user agent {value:?} cannot be sent in an HTTP header: use printable ASCII")]
    InvalidUserAgent {
        /// The rejected value.
        value: String,
    },
    /// An authentication scheme name was not recognised.
    #[error(
        "unknown authentication scheme {value:?}: use one of api-token, partner-api-token, \
         api, partner-api"
    )]
    UnknownScheme {
        /// The rejected value.
        value: String,
    },
    /// An environment variable holds something other than Unicode.
    #[error("the environment variable {name} is not valid Unicode: set it to plain text")]
    InvalidEnv {
        /// The variable's name.
        name: &'static str,
    },
    /// The HTTP client could not be created (for example, the TLS backend
    /// failed to load the system's root certificates).
    #[error("cannot create the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
}

/// An error and its causes on one line: `reqwest` and TLS errors keep
/// their detail in the source chain.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `reqwest::Error` without a network: a URL that does not parse.
    fn reqwest_error() -> reqwest::Error {
        reqwest::Client::new()
            .get("http://[::1")
            .build()
            .expect_err("an invalid URL")
    }

    fn preview(text: &str) -> BodyPreview {
        BodyPreview::new(text.as_bytes(), false)
    }

    /// One of each variant, all for operation `op`, with what `status()`,
    /// `is_timeout()` and `body()` must say of it.
    fn every_variant() -> Vec<(Error, Option<u16>, bool, Option<&'static str>)> {
        let mut all = first_variants();
        all.extend(more_variants());
        all.extend(last_variants());
        all
    }

    /// The transports and the answered statuses.
    fn first_variants() -> Vec<(Error, Option<u16>, bool, Option<&'static str>)> {
        let op = "op";
        let transport = |kind| Error::Transport {
            operation: op,
            kind,
            attempts: 2,
            source: reqwest_error(),
        };
        vec![
            (transport(TransportKind::Connect), None, false, None),
            (transport(TransportKind::Timeout), None, true, None),
            (transport(TransportKind::Connection), None, false, None),
            (
                Error::RateLimited {
                    operation: op,
                    retry_after: Some(Duration::from_secs(3)),
                    attempts: 5,
                    body: preview("slow"),
                },
                Some(429),
                false,
                Some("slow"),
            ),
            (
                Error::Unauthorized {
                    operation: op,
                    attempts: 1,
                    body: preview("who"),
                },
                Some(401),
                false,
                Some("who"),
            ),
            (
                Error::Forbidden {
                    operation: op,
                    attempts: 1,
                    body: preview("no"),
                },
                Some(403),
                false,
                Some("no"),
            ),
            (
                Error::Http {
                    operation: op,
                    status: StatusCode::BAD_GATEWAY,
                    attempts: 1,
                    body: preview("gw"),
                },
                Some(502),
                false,
                Some("gw"),
            ),
        ]
    }

    /// The rest, in declaration order.
    fn more_variants() -> Vec<(Error, Option<u16>, bool, Option<&'static str>)> {
        let op = "op";
        vec![
            (
                Error::Api {
                    operation: op,
                    attempts: 1,
                    message: Some("bad".into()),
                    warning: None,
                    response_status: None,
                },
                Some(200),
                false,
                None,
            ),
            (
                Error::Decode {
                    operation: op,
                    attempts: 1,
                    status: StatusCode::CREATED,
                    body: preview("{"),
                    source: serde_json::from_str::<u8>("{").expect_err("not a number"),
                },
                Some(201),
                false,
                Some("{"),
            ),
            (
                Error::Redirect {
                    operation: op,
                    attempts: 1,
                    status: StatusCode::FOUND,
                    location: None,
                },
                Some(302),
                false,
                None,
            ),
        ]
    }

    /// The last of them.
    fn last_variants() -> Vec<(Error, Option<u16>, bool, Option<&'static str>)> {
        let op = "op";
        vec![
            (
                Error::BodyTooLarge {
                    operation: op,
                    attempts: 1,
                    too_large: BodyTooLarge::new(StatusCode::OK, 10, 11, None),
                },
                Some(200),
                false,
                None,
            ),
            (
                Error::QueueTimeout {
                    operation: op,
                    waited: Duration::from_millis(1500),
                    attempts: 0,
                },
                None,
                true,
                None,
            ),
            (
                Error::InvalidRequest {
                    operation: op,
                    source: "bad field".into(),
                },
                None,
                false,
                None,
            ),
            (
                Error::CursorStuck {
                    operation: op,
                    page: 3,
                },
                None,
                false,
                None,
            ),
            (
                Error::TooManyPages {
                    operation: op,
                    limit: 1000,
                },
                None,
                false,
                None,
            ),
        ]
    }

    #[test]
    fn every_variant_names_its_operation_status_timeout_and_body() {
        for (error, status, timeout, body) in every_variant() {
            assert_eq!(error.operation(), "op", "{error:?}");
            let paging = matches!(
                error,
                Error::CursorStuck { .. } | Error::TooManyPages { .. }
            );
            assert_eq!(error.attempts().is_none(), paging, "{error:?}");
            assert_eq!(error.status().map(|s| s.as_u16()), status, "{error:?}");
            assert_eq!(error.is_timeout(), timeout, "{error:?}");
            assert_eq!(error.body().map(BodyPreview::text), body, "{error:?}");
            assert!(error.to_string().starts_with("op: "), "{error}");
        }
    }

    #[test]
    fn messages_say_what_happened_and_what_to_do() {
        let shown: Vec<String> = every_variant()
            .into_iter()
            .map(|(error, ..)| error.to_string())
            .collect();
        let expected = [
            "could not connect after 2 attempt(s)",
            "timed out after 2 attempt(s); check the network path to the API and the client's timeouts (ClientBuilder::timeout)",
            "lost the connection after 2 attempt(s)",
            "rate limited (429) after 5 attempt(s), the API asked to wait 3 s",
            "unauthorized (401), body \"who\"; check the API key",
            "forbidden (403), body \"no\"",
            "HTTP 502 Bad Gateway, body \"gw\"; the API or a gateway is unavailable: retry later",
            "the API reported an error: bad;",
            "the response (HTTP 201 Created) could not be decoded",
            "redirect to nowhere (no Location), not followed",
            "the response body is larger than the limit of 10 bytes (11 bytes received)",
            "timed out after 1500 ms waiting for a free request slot",
            "the request could not be built from the arguments; correct them",
        ];
        for (shown, expected) in shown.iter().zip(expected) {
            assert!(shown.contains(expected), "{shown:?} lacks {expected:?}");
        }
        // Only a timeout points at the timeout setting.
        assert!(!shown[0].contains("ClientBuilder::timeout"), "{}", shown[0]);
    }

    #[test]
    fn the_report_joins_the_message_and_each_cause() {
        for (error, ..) in every_variant() {
            let report = error.report();
            assert!(report.starts_with(&error.to_string()), "{report}");
            if let Some(cause) = std::error::Error::source(&error) {
                assert!(report.contains(&format!(": {cause}")), "{report}");
            }
        }
    }

    /// A cause is either in the message or behind `source()`, never both,
    /// so a report that prints the chain says each thing once.
    #[test]
    fn a_cause_is_shown_or_returned_not_both() {
        for (error, ..) in every_variant() {
            let Some(source) = std::error::Error::source(&error) else {
                continue;
            };
            let cause = source.to_string();
            assert!(
                !error.to_string().contains(&cause),
                "{error} repeats {cause}"
            );
        }
    }

    #[test]
    fn status_advice_per_status() {
        let advice = |code| status_advice(StatusCode::from_u16(code).expect("a status"));
        assert!(advice(400).contains("malformed"));
        assert!(advice(422).contains("malformed"));
        assert!(advice(404).contains("base URL"));
        assert!(advice(500).contains("misspelled parameter"));
        for code in [502, 503, 504] {
            assert!(advice(code).contains("gateway is unavailable"), "{code}");
        }
        assert_eq!(advice(501), "the API failed: retry later");
        assert_eq!(advice(505), "the API failed: retry later");
        assert_eq!(advice(409), "see the body for details");
    }

    #[test]
    fn previews_are_cut_at_the_limit() {
        assert_eq!(BODY_PREVIEW_LIMIT, 65_536, "64 KiB, as documented");
        let long = vec![b'a'; BODY_PREVIEW_LIMIT + 1];
        let cut = BodyPreview::new(&long, false);
        assert_eq!(cut.text().len(), BODY_PREVIEW_LIMIT);
        assert!(cut.is_truncated());
        let exact = BodyPreview::new(&long[..BODY_PREVIEW_LIMIT], false);
        assert!(!exact.is_truncated());
        assert!(BodyPreview::new(b"", true).is_truncated());
        assert!(!BodyPreview::new(b"", true).is_empty());
        assert!(BodyPreview::new(b"", false).is_empty());
        assert!(!BodyPreview::new(b"x", false).is_empty());
    }

    #[test]
    fn display_shows_a_short_preview() {
        assert_eq!(BodyPreview::default().to_string(), "an empty body");
        assert_eq!(preview("hi").to_string(), "body \"hi\"");
        let long = "é".repeat(DISPLAY_CHARS + 1);
        let shown = BodyPreview::new(long.as_bytes(), false).to_string();
        assert_eq!(shown, format!("body \"{}...\"", "é".repeat(DISPLAY_CHARS)));
        let exactly = "é".repeat(DISPLAY_CHARS);
        let shown = BodyPreview::new(exactly.as_bytes(), false).to_string();
        assert_eq!(shown, format!("body \"{exactly}\""));
        assert_eq!(BodyPreview::new(b"x", true).to_string(), "body \"x...\"");
    }

    #[test]
    fn body_too_large_says_what_it_saw() {
        let announced = BodyTooLarge::new(StatusCode::CREATED, 10, 11, Some(99));
        assert_eq!(
            (
                announced.status(),
                announced.limit(),
                announced.read(),
                announced.announced()
            ),
            (StatusCode::CREATED, 10, 11, Some(99))
        );
        assert!(
            announced.to_string().contains("(99 bytes announced)"),
            "{announced}"
        );
    }

    #[test]
    fn debug_shows_the_whole_preview() {
        assert_eq!(
            format!("{:?}", BodyPreview::new(b"hi", true)),
            r#"BodyPreview { text: "hi", truncated: true }"#
        );
    }

    #[test]
    fn the_chain_joins_every_cause() {
        let error = reqwest_error();
        let chain = error_chain(&error);
        let mut expected = error.to_string();
        let mut source = std::error::Error::source(&error);
        assert!(source.is_some(), "a builder error has a cause");
        while let Some(inner) = source {
            expected.push_str(&format!(": {inner}"));
            source = inner.source();
        }
        assert_eq!(chain, expected);
    }
}
