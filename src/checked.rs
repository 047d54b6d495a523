//! Turns what a generated method returned into the crate's [`Error`]: the
//! API reports many failures as a `200` whose body says `"error": true`, so a
//! call is only a success once that flag has been looked at.
//!
//! [`Client::checked`](crate::Client::checked) methods end here. Which
//! response types carry the status fields is generated from the spec (the
//! [`ApiStatus`] impls); this module only reads them.

use std::pin::Pin;
use std::task::{Context, Poll};

use progenitor_client::{ByteStream, ResponseValue};
use reqwest::StatusCode;

use crate::call::{CallReport, with_report};
use crate::error::{BodyPreview, BodyTooLarge, Error, TransportKind, error_chain};
use crate::retry::{MIN_RETRY_AFTER, retry_after};
use crate::tls;

/// How a response body reports the outcome of the call. Implemented, from
/// the spec, for every response type: types without the fields report
/// nothing.
pub trait ApiStatus {
    /// `error`: whether the API says the call failed.
    fn api_error(&self) -> Option<bool> {
        None
    }

    /// `errorMsg`: why it failed.
    fn error_message(&self) -> Option<&str> {
        None
    }

    /// `warningMsg`: a warning about a call that otherwise succeeded.
    fn warning_message(&self) -> Option<&str> {
        None
    }

    /// `responseStatus`, as JSON text.
    fn response_status(&self) -> Option<String> {
        None
    }
}

/// A value's JSON text (a string without its quotes); for generated impls.
#[doc(hidden)]
pub fn json_text<T: serde::Serialize>(value: &T) -> Option<String> {
    match serde_json::to_value(value).ok()? {
        serde_json::Value::Null => None,
        serde_json::Value::String(text) => Some(text),
        other => Some(other.to_string()),
    }
}

impl ApiStatus for () {}
impl ApiStatus for serde_json::Value {}
impl ApiStatus for String {}
impl ApiStatus for ByteStream {}
impl<T> ApiStatus for Vec<T> {}
// The other shapes a generated method can return: a map, a scalar, a date,
// a nullable body, an upgraded connection (a `101` answer).
impl<K, V> ApiStatus for std::collections::BTreeMap<K, V> {}
impl<K, V, S> ApiStatus for std::collections::HashMap<K, V, S> {}
impl<T> ApiStatus for Option<T> {}
impl ApiStatus for bool {}
impl ApiStatus for i8 {}
impl ApiStatus for i16 {}
impl ApiStatus for i32 {}
impl ApiStatus for i64 {}
impl ApiStatus for u8 {}
impl ApiStatus for u16 {}
impl ApiStatus for u32 {}
impl ApiStatus for u64 {}
impl ApiStatus for f32 {}
impl ApiStatus for f64 {}
impl ApiStatus for std::num::NonZeroU8 {}
impl ApiStatus for std::num::NonZeroU16 {}
impl ApiStatus for std::num::NonZeroU32 {}
impl ApiStatus for std::num::NonZeroU64 {}
impl ApiStatus for serde_json::Map<String, serde_json::Value> {}
impl ApiStatus for std::net::IpAddr {}
impl ApiStatus for std::net::Ipv4Addr {}
impl ApiStatus for std::net::Ipv6Addr {}
impl<Tz: chrono::TimeZone> ApiStatus for chrono::DateTime<Tz> {}
impl ApiStatus for chrono::NaiveDate {}
impl ApiStatus for reqwest::Upgraded {}

/// Ends a checked call: `call` is the generated method's future.
#[doc(hidden)]
pub fn finish<T, E, F>(operation: &'static str, call: F) -> Finish<F>
where
    T: ApiStatus,
    F: Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>>,
{
    Finish {
        operation,
        call,
        report: None,
        failing: None,
    }
}

pin_project_lite::pin_project! {
    /// A checked call in progress: the generated method's future, run with
    /// the attempt record in scope, then its outcome checked. One layer
    /// written by hand rather than nested `async` blocks, each of which
    /// would hold and move its own copy of the generated future (see
    /// BENCHMARKS.md, "the checked path").
    #[doc(hidden)]
    #[must_use = "futures do nothing unless polled"]
    pub struct Finish<F> {
        operation: &'static str,
        #[pin]
        call: F,
        // How the call went, once its loop ends (see `call::with_report`).
        report: Option<CallReport>,
        // Only an undocumented status needs to wait (for its body preview),
        // so only a failure pays for a box.
        failing: Option<Pin<Box<dyn Future<Output = Error> + Send>>>,
    }
}

impl<T, E, F> Future for Finish<F>
where
    T: ApiStatus,
    F: Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>>,
{
    type Output = Result<ResponseValue<T>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Some(reading) = this.failing {
            return reading.as_mut().poll(cx).map(Err);
        }
        let call = this.call;
        let result = std::task::ready!(with_report(this.report, || call.poll(cx)));
        let error = match result {
            Ok(value) => return Poll::Ready(check_body(this.operation, value)),
            Err(error) => into_error(this.operation, *this.report, error),
        };
        match error {
            Converted::Ready(error) => Poll::Ready(Err(error)),
            Converted::ReadingBody(reading) => {
                this.failing.insert(reading).as_mut().poll(cx).map(Err)
            }
        }
    }
}

/// A `200` whose body says `"error": true` is an error; a warning is
/// logged and left in the value for the caller.
fn check_body<T: ApiStatus>(
    operation: &'static str,
    value: ResponseValue<T>,
) -> Result<ResponseValue<T>, Error> {
    let body = value.as_ref();
    if body.api_error() == Some(true) {
        tracing::debug!(operation, "the API answered \"error\": true");
        return Err(Error::Api {
            operation,
            message: body.error_message().map(str::to_owned),
            warning: body.warning_message().map(str::to_owned),
            response_status: body.response_status(),
        });
    }
    if let Some(warning) = body.warning_message() {
        tracing::warn!(operation, warning, "the API answered with a warning");
    }
    Ok(value)
}

/// An error, or the wait for the body preview it needs.
enum Converted {
    Ready(Error),
    ReadingBody(Pin<Box<dyn Future<Output = Error> + Send>>),
}

fn into_error<E>(
    operation: &'static str,
    report: Option<CallReport>,
    error: progenitor_client::Error<E>,
) -> Converted {
    use progenitor_client::Error as Generated;
    if let Some(timed_out) = report.and_then(|report| report.queue_timeout()) {
        return Converted::Ready(timed_out);
    }
    let attempts = report.map_or(0, |report| report.sent);
    let error = match error {
        Generated::ResponseBodyError(source) => match find_cause::<BodyTooLarge>(&source) {
            Some(too_large) => Error::BodyTooLarge {
                operation,
                source: too_large.clone(),
            },
            None => transport(operation, attempts, source),
        },
        Generated::CommunicationError(source) => transport(operation, attempts, source),
        Generated::InvalidUpgrade(source) => transport(operation, attempts, source),
        Generated::InvalidResponsePayload(bytes, source) => Error::Decode {
            operation,
            // The generated code decodes only documented (2xx) answers.
            status: StatusCode::OK,
            body: BodyPreview::new(&bytes, false),
            source,
        },
        Generated::ErrorResponse(value) => Error::Http {
            operation,
            status: value.status(),
            attempts,
            body: BodyPreview::default(),
        },
        Generated::UnexpectedResponse(response) => {
            return Converted::ReadingBody(Box::pin(from_status(operation, attempts, response)));
        }
        Generated::InvalidRequest(message) | Generated::Custom(message) => {
            Error::InvalidRequest { operation, message }
        }
    };
    Converted::Ready(error)
}

fn transport(operation: &'static str, attempts: u32, source: reqwest::Error) -> Error {
    let kind = if source.is_timeout() {
        TransportKind::Timeout
    } else if tls::is_rejection(&source) {
        TransportKind::Tls
    } else if source.is_connect() {
        TransportKind::Connect
    } else {
        TransportKind::Connection
    };
    Error::Transport {
        operation,
        kind,
        attempts,
        message: error_chain(&source),
        source,
    }
}

/// The first error of type `T` in `error`'s source chain.
fn find_cause<'e, T: std::error::Error + 'static>(
    error: &'e (dyn std::error::Error + 'static),
) -> Option<&'e T> {
    let mut source = Some(error);
    while let Some(inner) = source {
        if let Some(found) = inner.downcast_ref::<T>() {
            return Some(found);
        }
        source = inner.source();
    }
    None
}

/// An undocumented status: classified, with at most 64 KiB of its body.
async fn from_status(operation: &'static str, attempts: u32, response: reqwest::Response) -> Error {
    let status = response.status();
    if status.is_redirection() {
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
        return Error::Redirect {
            operation,
            status,
            location,
        };
    }
    let wait = retry_after(&response);
    let body = read_preview(response).await;
    match status {
        StatusCode::TOO_MANY_REQUESTS => Error::RateLimited {
            operation,
            retry_after: wait.map(|d| d.max(MIN_RETRY_AFTER)),
            attempts,
            body,
        },
        StatusCode::UNAUTHORIZED => Error::Unauthorized { operation, body },
        StatusCode::FORBIDDEN => Error::Forbidden { operation, body },
        status => Error::Http {
            operation,
            status,
            attempts,
            body,
        },
    }
}

/// The body of an error answer. The exec hook has read it already, whole
/// or cut at [`BODY_PREVIEW_LIMIT`](crate::BODY_PREVIEW_LIMIT): a cut body
/// ends in an error after what was kept, so the limit is applied once, there.
async fn read_preview(mut response: reqwest::Response) -> BodyPreview {
    let mut bytes = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) => return BodyPreview::new(&bytes, false),
            // Cut short, or broken: what arrived is still worth showing.
            Err(_) => return BodyPreview::new(&bytes, true),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use progenitor_client::Error as Generated;

    use super::*;

    const OP: &str = "op";

    /// Lets a test await a conversion whichever form it took.
    impl std::future::IntoFuture for Converted {
        type Output = Error;
        type IntoFuture = Pin<Box<dyn Future<Output = Error> + Send>>;

        fn into_future(self) -> Self::IntoFuture {
            match self {
                Converted::Ready(error) => Box::pin(std::future::ready(error)),
                Converted::ReadingBody(reading) => reading,
            }
        }
    }

    fn record(attempts: u32) -> Option<CallReport> {
        Some(CallReport {
            operation: OP,
            sent: attempts,
            out_of_time: None,
        })
    }

    /// A `reqwest::Error` without a network: a URL that does not parse.
    fn reqwest_error() -> reqwest::Error {
        reqwest::Client::new()
            .get("http://[::1")
            .build()
            .expect_err("an invalid URL")
    }

    fn answer(status: u16, headers: &[(&str, &str)], body: &'static str) -> reqwest::Response {
        let mut response = http::Response::builder().status(status);
        for (name, value) in headers {
            response = response.header(*name, *value);
        }
        reqwest::Response::from(response.body(body).expect("a valid response"))
    }

    async fn unexpected(status: u16, headers: &[(&str, &str)], body: &'static str) -> Error {
        let error = Generated::<()>::UnexpectedResponse(answer(status, headers, body));
        into_error(OP, record(3), error).await
    }

    #[tokio::test]
    async fn invalid_request_and_custom_are_invalid_request() {
        for error in [
            Generated::<()>::InvalidRequest("bad field".into()),
            Generated::<()>::Custom("bad field".into()),
        ] {
            let error = into_error(OP, record(0), error).await;
            assert!(
                matches!(&error, Error::InvalidRequest { operation: OP, message } if message == "bad field"),
                "{error:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_payload_that_does_not_decode_is_decode() {
        let source = serde_json::from_str::<u8>("\"x\"").expect_err("not a number");
        let error = Generated::<()>::InvalidResponsePayload("\"x\"".into(), source);
        let error = into_error(OP, record(1), error).await;
        let Error::Decode { status, body, .. } = &error else {
            panic!("expected Decode, got {error:?}");
        };
        assert_eq!((*status, body.text()), (StatusCode::OK, "\"x\""));
        assert!(!body.is_truncated());
    }

    #[tokio::test]
    async fn a_documented_error_status_is_http_with_the_attempts() {
        let value = ResponseValue::new((), StatusCode::CONFLICT, Default::default());
        let error = into_error(OP, record(2), Generated::ErrorResponse(value)).await;
        assert!(
            matches!(
                error,
                Error::Http {
                    operation: OP,
                    status: StatusCode::CONFLICT,
                    attempts: 2,
                    ..
                }
            ),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn undocumented_statuses_are_classified() {
        let error = unexpected(429, &[("retry-after", "0")], "slow").await;
        let Error::RateLimited {
            retry_after,
            attempts,
            body,
            ..
        } = &error
        else {
            panic!("expected RateLimited, got {error:?}");
        };
        // `Retry-After` is never taken as less than 1 s.
        assert_eq!(*retry_after, Some(Duration::from_secs(1)));
        assert_eq!((*attempts, body.text()), (3, "slow"));
        let error = unexpected(429, &[("retry-after", "7")], "").await;
        assert!(
            matches!(error, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(7)),
            "{error:?}"
        );
        let error = unexpected(429, &[], "").await;
        assert!(
            matches!(
                error,
                Error::RateLimited {
                    retry_after: None,
                    ..
                }
            ),
            "{error:?}"
        );

        let error = unexpected(401, &[], "who").await;
        assert!(
            matches!(&error, Error::Unauthorized { operation: OP, body } if body.text() == "who"),
            "{error:?}"
        );
        let error = unexpected(403, &[], "no").await;
        assert!(
            matches!(&error, Error::Forbidden { operation: OP, body } if body.text() == "no"),
            "{error:?}"
        );
        let error = unexpected(500, &[], "oops").await;
        assert!(
            matches!(&error, Error::Http { status, attempts: 3, body, .. }
                if status.as_u16() == 500 && body.text() == "oops"),
            "{error:?}"
        );
        let error = unexpected(302, &[("location", "https://elsewhere/")], "").await;
        assert!(
            matches!(&error, Error::Redirect { status, location: Some(l), .. }
                if status.as_u16() == 302 && l == "https://elsewhere/"),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn a_wait_for_a_slot_that_timed_out_wins_over_the_answer() {
        // Two requests were sent; the third attempt waited for a slot.
        let report = Some(CallReport {
            operation: OP,
            sent: 2,
            out_of_time: Some(Duration::from_millis(40)),
        });
        let error = into_error(OP, report, Generated::<()>::Custom("ignored".into())).await;
        assert!(
            matches!(
                error,
                Error::QueueTimeout {
                    operation: OP,
                    attempts: 2,
                    waited
                } if waited == Duration::from_millis(40)
            ),
            "the attempt that waited sent nothing: {error:?}"
        );
    }

    #[tokio::test]
    async fn a_communication_error_is_transport() {
        let error = into_error(
            OP,
            record(4),
            Generated::<()>::CommunicationError(reqwest_error()),
        )
        .await;
        let Error::Transport {
            kind,
            attempts,
            message,
            ..
        } = &error
        else {
            panic!("expected Transport, got {error:?}");
        };
        assert_eq!((*kind, *attempts), (TransportKind::Connection, 4));
        assert_eq!(*message, error_chain(&reqwest_error()));
    }

    #[tokio::test]
    async fn an_error_body_is_previewed_whole() {
        let preview = read_preview(answer(500, &[], "partial")).await;
        assert_eq!((preview.text(), preview.is_truncated()), ("partial", false));
    }

    /// A body with every status field.
    #[derive(Debug, Default)]
    struct Status {
        error: Option<bool>,
        warning: Option<&'static str>,
    }

    impl ApiStatus for Status {
        fn api_error(&self) -> Option<bool> {
            self.error
        }
        fn error_message(&self) -> Option<&str> {
            Some("why")
        }
        fn warning_message(&self) -> Option<&str> {
            self.warning
        }
        fn response_status(&self) -> Option<String> {
            Some("FAILED".into())
        }
    }

    fn value(body: Status) -> ResponseValue<Status> {
        ResponseValue::new(body, StatusCode::OK, Default::default())
    }

    #[test]
    fn only_error_true_is_an_error() {
        for flag in [None, Some(false)] {
            let body = Status {
                error: flag,
                warning: Some("careful"),
            };
            let kept = check_body(OP, value(body)).expect("not an error");
            assert_eq!(kept.warning_message(), Some("careful"));
        }
        let body = Status {
            error: Some(true),
            warning: Some("careful"),
        };
        let error = check_body(OP, value(body)).expect_err("error: true");
        let Error::Api {
            message,
            warning,
            response_status,
            ..
        } = &error
        else {
            panic!("expected Api, got {error:?}");
        };
        assert_eq!(message.as_deref(), Some("why"));
        assert_eq!(warning.as_deref(), Some("careful"));
        assert_eq!(response_status.as_deref(), Some("FAILED"));
    }

    #[test]
    fn json_text_is_the_value_without_quotes() {
        assert_eq!(json_text(&"SUCCESS"), Some("SUCCESS".to_owned()));
        assert_eq!(json_text(&7), Some("7".to_owned()));
        assert_eq!(json_text(&Option::<u8>::None), None);
    }

    #[test]
    fn the_default_status_methods_report_nothing() {
        assert_eq!(ApiStatus::api_error(&()), None);
        assert_eq!(ApiStatus::error_message(&()), None);
        assert_eq!(ApiStatus::warning_message(&()), None);
        assert_eq!(ApiStatus::response_status(&()), None);
    }

    #[test]
    fn a_cause_is_found_anywhere_in_the_chain() {
        let error = reqwest_error();
        assert!(find_cause::<reqwest::Error>(&error).is_some());
        assert!(find_cause::<BodyTooLarge>(&error).is_none());
    }
}
