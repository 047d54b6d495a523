//! What an attempt's outcome means: the one place a status or a transport
//! failure is given a meaning. The retry decision (`retry.rs`) and the
//! error a caller gets ([`into_error`]) both start from the [`Class`], so
//! the two can never disagree about what a `429`, a `5xx`, a `401`/`403`, a
//! redirect or a broken connection is.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, RETRY_AFTER};

use crate::error::{BodyPreview, Error, TransportKind};
use crate::response::{Answer, Failure, Outcome};
use crate::tls;

/// The least a `Retry-After` is taken to mean: the API's own minimum.
pub(crate) const MIN_RETRY_AFTER: Duration = Duration::from_secs(1);

/// What an attempt's outcome is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// A `2xx`: the body is the operation's value.
    Success,
    /// `429`: the call was not processed.
    RateLimited,
    /// A `5xx`.
    ServerError,
    /// `401`.
    Unauthorized,
    /// `403`.
    Forbidden,
    /// A `3xx`, never followed.
    Redirect,
    /// Any other status.
    OtherStatus,
    /// No answer, or a success body that broke off. `transient`: the same
    /// request may well succeed (a refused connection, a timeout, a reset),
    /// unlike a refused certificate.
    Transport { kind: TransportKind, transient: bool },
    /// A success body over the client's limit.
    TooLarge,
}

/// The class of `outcome`.
pub(crate) fn classify(outcome: &Outcome) -> Class {
    match outcome {
        Ok(answer) => classify_status(answer.status),
        Err(Failure::Send(error)) => transport(error, false),
        Err(Failure::BodyRead(error)) => transport(error, true),
        Err(Failure::TooLarge(_)) => Class::TooLarge,
    }
}

fn classify_status(status: StatusCode) -> Class {
    match status.as_u16() {
        200..=299 => Class::Success,
        429 => Class::RateLimited,
        401 => Class::Unauthorized,
        403 => Class::Forbidden,
        300..=399 => Class::Redirect,
        500..=599 => Class::ServerError,
        _ => Class::OtherStatus,
    }
}

/// A transport failure; `reading`: it broke a success body off.
fn transport(error: &reqwest::Error, reading: bool) -> Class {
    let kind = transport_kind(error);
    let transient = kind != TransportKind::Tls
        && (reading || error.is_connect() || error.is_timeout() || error.is_request());
    Class::Transport { kind, transient }
}

fn transport_kind(error: &reqwest::Error) -> TransportKind {
    if error.is_timeout() {
        TransportKind::Timeout
    } else if tls::is_rejection(error) {
        TransportKind::Tls
    } else if error.is_connect() {
        TransportKind::Connect
    } else {
        TransportKind::Connection
    }
}

/// The `Retry-After` of a `429`, at least [`MIN_RETRY_AFTER`].
pub(crate) fn asked_wait(outcome: &Outcome) -> Option<Duration> {
    match outcome {
        Ok(answer) if classify_status(answer.status) == Class::RateLimited => {
            retry_after(&answer.headers).map(|wait| wait.max(MIN_RETRY_AFTER))
        }
        _ => None,
    }
}

/// What a call ends with, from its last attempt's `outcome`, classified as
/// `class`, after `attempts` requests: the answer of a success, or the error.
pub(crate) fn conclude(
    operation: &'static str,
    outcome: Outcome,
    class: Class,
    attempts: u32,
) -> Result<Answer, Error> {
    let retry_after = asked_wait(&outcome);
    match outcome {
        Ok(answer) if class == Class::Success => Ok(answer),
        Ok(answer) => Err(status_error(operation, answer, class, attempts, retry_after)),
        Err(Failure::Send(source) | Failure::BodyRead(source)) => Err(Error::Transport {
            operation,
            kind: transport_kind(&source),
            attempts,
            source,
        }),
        Err(Failure::TooLarge(too_large)) => Err(Error::BodyTooLarge {
            operation,
            too_large,
        }),
    }
}

/// The error of an answer whose status is not a success.
fn status_error(
    operation: &'static str,
    answer: Answer,
    class: Class,
    attempts: u32,
    retry_after: Option<Duration>,
) -> Error {
    let status = answer.status;
    let body = || BodyPreview::new(&answer.body, answer.cut);
    match class {
        Class::RateLimited => Error::RateLimited {
            operation,
            retry_after,
            attempts,
            body: body(),
        },
        Class::Unauthorized => Error::Unauthorized {
            operation,
            body: body(),
        },
        Class::Forbidden => Error::Forbidden {
            operation,
            body: body(),
        },
        Class::Redirect => Error::Redirect {
            operation,
            status,
            location: location(&answer.headers),
        },
        Class::Success
        | Class::ServerError
        | Class::OtherStatus
        | Class::Transport { .. }
        | Class::TooLarge => Error::Http {
            operation,
            status,
            attempts,
            body: body(),
        },
    }
}

fn location(headers: &HeaderMap) -> Option<String> {
    headers
        .get(LOCATION)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
}

/// `Retry-After` as seconds (the form the API sends) or as an HTTP date
/// (RFC 9110 allows both; a date in the past means now); garbage counts as
/// absent.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?;
    parse_retry_after(value.to_str().ok()?, std::time::SystemTime::now())
}

pub(crate) fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}
