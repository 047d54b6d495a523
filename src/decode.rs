//! A successful answer's body into the operation's value, and the value's
//! own verdict: the API reports many failures as a `200` whose body says
//! `"error": true`, so a call is only a success once that flag has been
//! looked at.
//!
//! Which response types carry the status fields is generated from the spec
//! (the [`ApiStatus`] impls); how a body is decoded is chosen per operation
//! by the generated method ([`Json`], [`Empty`], [`Raw`]).

use std::marker::PhantomData;

use bytes::Bytes;

use crate::error::Error;

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
impl ApiStatus for Bytes {}
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

/// How a successful answer's body becomes an operation's value; the
/// generated method picks one.
#[doc(hidden)]
pub trait Decode {
    /// The operation's value.
    type Output: ApiStatus;

    /// Decodes `body`.
    fn decode(self, body: Bytes) -> Result<Self::Output, serde_json::Error>;
}

/// A JSON body, into `T`.
#[doc(hidden)]
pub struct Json<T>(PhantomData<fn() -> T>);

impl<T> Json<T> {
    /// The decoder for `T`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Json(PhantomData)
    }
}

impl<T: serde::de::DeserializeOwned + ApiStatus> Decode for Json<T> {
    type Output = T;

    fn decode(self, body: Bytes) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&body)
    }
}

/// No body: whatever came is ignored.
#[doc(hidden)]
pub struct Empty;

impl Decode for Empty {
    type Output = ();

    fn decode(self, _body: Bytes) -> Result<(), serde_json::Error> {
        Ok(())
    }
}

/// A body that is not JSON: its bytes, as they came.
#[doc(hidden)]
pub struct Raw;

impl Decode for Raw {
    type Output = Bytes;

    fn decode(self, body: Bytes) -> Result<Bytes, serde_json::Error> {
        Ok(body)
    }
}

/// A `200` whose body says `"error": true` is an error (of a call that sent
/// `attempts` requests); a warning is logged and left in the value for the
/// caller.
pub(crate) fn check_body<T: ApiStatus>(
    operation: &'static str,
    attempts: u32,
    body: T,
) -> Result<T, Error> {
    if body.api_error() == Some(true) {
        tracing::debug!(operation, "the API answered \"error\": true");
        return Err(Error::Api {
            operation,
            attempts,
            message: body.error_message().map(str::to_owned),
            warning: body.warning_message().map(str::to_owned),
            response_status: body.response_status(),
        });
    }
    if let Some(warning) = body.warning_message() {
        tracing::warn!(operation, warning, "the API answered with a warning");
    }
    Ok(body)
}

/// A JSON object whose type the spec does not give (a JSON answer to an
/// export), read for the API's status fields whatever else it holds: a
/// field of another type than the API gives says nothing.
#[cfg(any(rhombus_download, test))]
struct Envelope(serde_json::Map<String, serde_json::Value>);

#[cfg(any(rhombus_download, test))]
impl ApiStatus for Envelope {
    fn api_error(&self) -> Option<bool> {
        self.0.get("error")?.as_bool()
    }
    fn error_message(&self) -> Option<&str> {
        self.0.get("errorMsg")?.as_str()
    }
    fn warning_message(&self) -> Option<&str> {
        self.0.get("warningMsg")?.as_str()
    }
    fn response_status(&self) -> Option<String> {
        json_text(self.0.get("responseStatus")?)
    }
}

/// [`check_body`] for a JSON `body` of no known type: anything but an
/// object says nothing.
#[cfg(any(rhombus_download, test))]
pub(crate) fn check_envelope(
    operation: &'static str,
    attempts: u32,
    body: &[u8],
) -> Result<(), Error> {
    match serde_json::from_slice(body) {
        Ok(serde_json::Value::Object(fields)) => {
            check_body(operation, attempts, Envelope(fields)).map(drop)
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OP: &str = "op";

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

    #[test]
    fn only_error_true_is_an_error() {
        for flag in [None, Some(false)] {
            let body = Status {
                error: flag,
                warning: Some("careful"),
            };
            let kept = check_body(OP, 1, body).expect("not an error");
            assert_eq!(kept.warning_message(), Some("careful"));
        }
        let body = Status {
            error: Some(true),
            warning: Some("careful"),
        };
        let error = check_body(OP, 1, body).expect_err("error: true");
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
    fn an_envelope_is_an_error_only_when_it_says_so() {
        let failed =
            br#"{"error":true,"errorMsg":"no such location","responseStatus":"FAILED","rows":7}"#;
        let error = check_envelope(OP, 2, failed).expect_err("error: true");
        let Error::Api {
            message,
            attempts,
            response_status,
            ..
        } = &error
        else {
            panic!("expected Api, got {error:?}");
        };
        assert_eq!(message.as_deref(), Some("no such location"));
        assert_eq!(*attempts, 2);
        assert_eq!(response_status.as_deref(), Some("FAILED"));
        let others: [&[u8]; 5] = [
            br#"{"error":false}"#,
            br#"{"rows":[1,2]}"#,
            br#"[{"error":true}]"#,
            br#"{"error":"yes"}"#,
            b"not json",
        ];
        for body in others {
            check_envelope(OP, 1, body).expect("says no failure");
        }
        // A message of another type than the API gives is no message; the
        // failure stands.
        let odd = check_envelope(OP, 1, br#"{"error":true,"errorMsg":42}"#);
        assert!(
            matches!(odd, Err(Error::Api { message: None, .. })),
            "{odd:?}"
        );
    }

    #[test]
    fn each_decoder_reads_its_kind_of_body() {
        let json = Json::<Vec<u8>>::new().decode(Bytes::from_static(b"[1,2]"));
        assert_eq!(json.expect("JSON"), vec![1, 2]);
        assert!(
            Json::<Vec<u8>>::new()
                .decode(Bytes::from_static(b"{"))
                .is_err()
        );
        Empty
            .decode(Bytes::from_static(b"ignored"))
            .expect("nothing to decode");
        let raw = Raw.decode(Bytes::from_static(b"a,b\n")).expect("bytes");
        assert_eq!(&raw[..], b"a,b\n");
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
}
