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
    Transport {
        kind: TransportKind,
        transient: bool,
    },
    /// A success body over the client's limit.
    TooLarge,
}

/// The class of `outcome`, for an operation whose value comes with the
/// statuses the spec `declared`: another `2xx` has no type to decode into.
pub(crate) fn classify(outcome: &Outcome, declared: fn(u16) -> bool) -> Class {
    match outcome {
        Ok(answer) => match classify_status(answer.status) {
            Class::Success if !declared(answer.status.as_u16()) => Class::OtherStatus,
            class => class,
        },
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

pub(crate) fn transport_kind(error: &reqwest::Error) -> TransportKind {
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
        Ok(answer) => Err(status_error(
            operation,
            answer,
            class,
            attempts,
            retry_after,
        )),
        Err(Failure::Send(source) | Failure::BodyRead(source)) => Err(Error::Transport {
            operation,
            kind: transport_kind(&source),
            attempts,
            source,
        }),
        Err(Failure::TooLarge(too_large)) => Err(Error::BodyTooLarge {
            operation,
            attempts,
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
            attempts,
        },
        Class::Forbidden => Error::Forbidden {
            operation,
            body: body(),
            attempts,
        },
        Class::Redirect => Error::Redirect {
            operation,
            status,
            attempts,
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

fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use bytes::Bytes;

    use super::*;
    use crate::error::BodyTooLarge;

    const OP: &str = "op";
    const ONLY_200: fn(u16) -> bool = |status| status == 200;

    fn answer(
        status: u16,
        headers: &[(&'static str, &'static str)],
        body: &'static str,
    ) -> Outcome {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, reqwest::header::HeaderValue::from_static(value));
        }
        Ok(Answer {
            status: StatusCode::from_u16(status).expect("a status"),
            headers: map,
            body: Bytes::from_static(body.as_bytes()),
            cut: false,
            unread: None,
        })
    }

    /// A `reqwest::Error` without a network: a URL that does not parse.
    fn reqwest_error() -> reqwest::Error {
        reqwest::Client::new()
            .get("http://[::1")
            .build()
            .expect_err("an invalid URL")
    }

    fn concluded(outcome: Outcome) -> Result<Answer, Error> {
        let class = classify(&outcome, ONLY_200);
        conclude(OP, outcome, class, 3)
    }

    #[test]
    fn each_status_has_one_class() {
        let class = |status| classify(&answer(status, &[], ""), ONLY_200);
        assert_eq!(class(200), Class::Success);
        for status in [201, 204] {
            assert_eq!(class(status), Class::OtherStatus, "undeclared {status}");
        }
        assert_eq!(class(429), Class::RateLimited);
        assert_eq!(class(401), Class::Unauthorized);
        assert_eq!(class(403), Class::Forbidden);
        for status in [301, 302, 303, 307, 308] {
            assert_eq!(class(status), Class::Redirect, "{status}");
        }
        for status in [500, 502, 503, 504] {
            assert_eq!(class(status), Class::ServerError, "{status}");
        }
        for status in [400, 404, 409, 422] {
            assert_eq!(class(status), Class::OtherStatus, "{status}");
        }
    }

    #[test]
    fn failures_have_their_class() {
        let too_large = BodyTooLarge::new(StatusCode::OK, 1, 2, None);
        assert_eq!(
            classify(&Err(Failure::TooLarge(too_large)), ONLY_200),
            Class::TooLarge
        );
        // A success body that broke off may be read again.
        let Class::Transport { transient, .. } =
            classify(&Err(Failure::BodyRead(reqwest_error())), ONLY_200)
        else {
            panic!("a transport failure");
        };
        assert!(transient);
        // A request that could not be built would fail the same way again.
        let Class::Transport { transient, kind } =
            classify(&Err(Failure::Send(reqwest_error())), ONLY_200)
        else {
            panic!("a transport failure");
        };
        assert_eq!((kind, transient), (TransportKind::Connection, false));
    }

    #[test]
    fn each_class_becomes_its_error() {
        let error = |outcome| concluded(outcome).expect_err("an error");
        let limited = error(answer(429, &[("retry-after", "0")], "slow"));
        assert!(
            matches!(&limited, Error::RateLimited { retry_after: Some(wait), attempts: 3, body, .. }
                if *wait == MIN_RETRY_AFTER && body.text() == "slow"),
            "{limited:?}"
        );
        let unasked = error(answer(429, &[], ""));
        assert!(matches!(
            unasked,
            Error::RateLimited {
                retry_after: None,
                ..
            }
        ));
        let who = error(answer(401, &[], "who"));
        assert!(matches!(&who, Error::Unauthorized { body, .. } if body.text() == "who"));
        let no = error(answer(403, &[], "no"));
        assert!(matches!(&no, Error::Forbidden { body, .. } if body.text() == "no"));
        let moved = error(answer(302, &[("location", "https://elsewhere/")], ""));
        assert!(
            matches!(&moved, Error::Redirect { location: Some(l), .. } if l == "https://elsewhere/"),
            "{moved:?}"
        );
        let failed = error(answer(500, &[], "oops"));
        assert!(
            matches!(&failed, Error::Http { status, attempts: 3, body, .. }
                if status.as_u16() == 500 && body.text() == "oops"),
            "{failed:?}"
        );
        let created = error(answer(201, &[], "{}"));
        assert!(matches!(&created, Error::Http { status, .. } if status.as_u16() == 201));
        let lost = error(Err(Failure::Send(reqwest_error())));
        assert!(
            matches!(lost, Error::Transport { attempts: 3, .. }),
            "{lost:?}"
        );
        let too_large = BodyTooLarge::new(StatusCode::OK, 1, 2, None);
        let large = error(Err(Failure::TooLarge(too_large)));
        assert!(matches!(large, Error::BodyTooLarge { .. }), "{large:?}");
        let fine = concluded(answer(200, &[], "{}")).expect("a success");
        assert_eq!(&fine.body[..], b"{}");
    }

    #[test]
    fn only_a_429_asks_for_a_wait() {
        assert_eq!(
            asked_wait(&answer(429, &[("retry-after", "7")], "")),
            Some(Duration::from_secs(7))
        );
        assert_eq!(asked_wait(&answer(503, &[("retry-after", "30")], "")), None);
    }

    #[test]
    fn retry_after_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let ahead = httpdate::fmt_http_date(now + Duration::from_secs(5));
        assert_eq!(parse_retry_after(&ahead, now), Some(Duration::from_secs(5)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(5));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after(" 12 ", now),
            Some(Duration::from_secs(12))
        );
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("Tuesday", now), None);
    }
}
