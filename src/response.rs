//! What happens to an answer before anything else sees it: its body is read
//! whole, within a size limit, and the API key is scrubbed from its headers
//! and body.
//!
//! Reading the body inside the call (rather than handing out a streaming
//! body) is what lets the in-flight slot be freed before the call returns,
//! so no value a caller keeps can hold a slot; the limit is what keeps a
//! server from growing the client's memory without bound. Scrubbing the
//! buffered bytes once, here, is what keeps an echoed key out of every value
//! built from them: decoded fields, error messages, previews, log lines.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};
use reqwest::Response;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::error::{BODY_PREVIEW_LIMIT, BodyTooLarge};
// Named in `ReadLimits`, so its users find it here too.
pub(crate) use crate::scrub::Scrubber;

/// Default size limit of a successful response body: 64 MiB, room for the
/// largest real answers (every device or license of a large partner is a
/// few MiB of JSON) while a hostile server cannot exhaust memory.
pub(crate) const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// The limits and the secret an answer is read under.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadLimits<'a> {
    /// The most a successful (2xx) body may hold.
    pub max_body: usize,
    /// What scrubs the key from headers and bodies, if anything.
    pub scrubber: Option<&'a Scrubber>,
}

/// Reads `response`'s body within the limit for its status and returns the
/// answer rebuilt around the bytes, scrubbed.
///
/// A 2xx body may hold `max_body` bytes; any other status keeps at most
/// [`BODY_PREVIEW_LIMIT`] bytes, all that an error shows. A body past its
/// limit is not read further (the connection is dropped): the returned
/// response's body yields what was kept and then a [`BodyTooLarge`] error,
/// so that the generated code reports it rather than decoding half a body.
/// An informational answer (a protocol switch) is returned as it came.
pub(crate) async fn read_bounded(
    mut response: Response,
    limits: ReadLimits<'_>,
) -> reqwest::Result<Response> {
    let status = response.status();
    if status.is_informational() {
        return Ok(response);
    }
    let limit = if status.is_success() {
        limits.max_body
    } else {
        BODY_PREVIEW_LIMIT
    };
    let announced = response.content_length();
    let mut over = None;
    let mut body = Collected::default();
    if status.is_success() && announced.is_some_and(|length| length > limit as u64) {
        // No need to read what is announced as too much.
        over = Some(BodyTooLarge::new(status, limit, 0, announced));
    } else {
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > limit {
                let room = limit - body.len();
                body.push(chunk.slice(..room));
                over = Some(BodyTooLarge::new(
                    status,
                    limit,
                    body.len() + chunk.len() - room,
                    announced,
                ));
                break;
            }
            body.push(chunk);
        }
    }
    let mut bytes = body.into_bytes();

    // Kept, and handed back: without it, rebuilding a `reqwest::Response`
    // parses a placeholder URL, which costs more than this copy.
    let url = response.url().clone();
    let (mut parts, _rest) = http::Response::<reqwest::Body>::from(response).into_parts();
    // Dropping `_rest` unread closes the connection of a body cut short.
    if let Some(scrubber) = limits.scrubber {
        scrub_headers(scrubber, &mut parts.headers);
        bytes = scrubber.scrub_bytes(bytes);
    }
    let body = match over {
        None => reqwest::Body::from(bytes),
        Some(error) => reqwest::Body::wrap(Cut {
            kept: Some(bytes),
            error: Some(error),
        }),
    };
    Ok(with_url(parts, url, body))
}

/// A response from its parts, keeping the URL that `reqwest` reports (the
/// plain methods hand error answers to their callers; and without a URL,
/// `reqwest` would parse a placeholder for every rebuilt answer).
fn with_url(parts: http::response::Parts, url: reqwest::Url, body: reqwest::Body) -> Response {
    use reqwest::ResponseBuilderExt;

    // `ResponseBuilderExt::url` is the only way to set the URL a rebuilt
    // response reports; it lands in the extensions.
    let (with_url, ()) = http::Response::builder()
        .url(url)
        .body(())
        .unwrap_or_default()
        .into_parts();
    let mut parts = parts;
    parts.extensions.extend(with_url.extensions);
    Response::from(http::Response::from_parts(parts, body))
}

/// The chunks of a body: one chunk is kept as it came, without a copy.
#[derive(Default)]
struct Collected {
    first: Option<Bytes>,
    more: Option<BytesMut>,
}

impl Collected {
    fn len(&self) -> usize {
        match (&self.first, &self.more) {
            (_, Some(more)) => more.len(),
            (Some(first), None) => first.len(),
            (None, None) => 0,
        }
    }

    fn push(&mut self, chunk: Bytes) {
        if let Some(more) = &mut self.more {
            more.extend_from_slice(&chunk);
        } else if let Some(first) = self.first.take() {
            let mut more = BytesMut::with_capacity(first.len() + chunk.len());
            more.extend_from_slice(&first);
            more.extend_from_slice(&chunk);
            self.more = Some(more);
        } else {
            self.first = Some(chunk);
        }
    }

    fn into_bytes(self) -> Bytes {
        match (self.first, self.more) {
            (_, Some(more)) => more.freeze(),
            (Some(first), None) => first,
            (None, None) => Bytes::new(),
        }
    }
}

/// Scrubs header values like bodies, and renames headers whose name holds
/// the key (in lowercase, as names are kept): the plain methods' errors
/// print every header, names included.
fn scrub_headers(scrubber: &Scrubber, headers: &mut HeaderMap) {
    for value in headers.values_mut() {
        // The secret was a valid header value and so is `<redacted>`.
        let clean = scrubber
            .scrub_slice(value.as_bytes())
            .and_then(|clean| HeaderValue::from_bytes(&clean).ok());
        if let Some(clean) = clean {
            *value = clean;
        }
    }
    let holds_key = |name: &HeaderName| scrubber.scrub_header_name(name.as_str()).is_some();
    if headers.keys().any(holds_key) {
        // `into_iter` names only the first value of each header.
        let mut name = None;
        let mut clean = HeaderMap::with_capacity(headers.len());
        for (next, value) in std::mem::take(headers) {
            if let Some(next) = next {
                name = Some(scrub_name(scrubber, next));
            }
            if let Some(name) = &name {
                clean.append(name.clone(), value);
            }
        }
        *headers = clean;
    }
}

/// `name` with the key replaced by `redacted`, which keeps it a name.
fn scrub_name(scrubber: &Scrubber, name: HeaderName) -> HeaderName {
    match scrubber.scrub_header_name(name.as_str()) {
        None => name,
        Some(clean) => HeaderName::from_bytes(clean.as_bytes())
            .unwrap_or(HeaderName::from_static("x-redacted")),
    }
}

/// The kept part of a body cut at its limit, then the error saying so.
struct Cut {
    kept: Option<Bytes>,
    error: Option<BodyTooLarge>,
}

impl Body for Cut {
    type Data = Bytes;
    type Error = BodyTooLarge;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyTooLarge>>> {
        if let Some(kept) = self.kept.take().filter(|k| !k.is_empty()) {
            return Poll::Ready(Some(Ok(Frame::data(kept))));
        }
        Poll::Ready(self.error.take().map(Err))
    }

    fn is_end_stream(&self) -> bool {
        self.kept.is_none() && self.error.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrubber() -> Scrubber {
        Scrubber::new(b"key-12345678")
    }

    /// A body that yields these chunks, one per poll.
    struct Chunks(std::collections::VecDeque<Bytes>);

    impl Body for Chunks {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            Poll::Ready(self.0.pop_front().map(|chunk| Ok(Frame::data(chunk))))
        }
    }

    #[test]
    fn a_cut_body_ends_after_its_kept_part_and_its_error() {
        let mut cut = Cut {
            kept: Some(Bytes::from_static(b"kept")),
            error: Some(BodyTooLarge::new(http::StatusCode::OK, 4, 9, None)),
        };
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(!cut.is_end_stream());
        let Poll::Ready(Some(Ok(frame))) = Pin::new(&mut cut).poll_frame(&mut cx) else {
            panic!("the kept part first");
        };
        assert_eq!(frame.into_data().ok().as_deref(), Some(&b"kept"[..]));
        assert!(!cut.is_end_stream(), "the error is still to come");
        assert!(matches!(
            Pin::new(&mut cut).poll_frame(&mut cx),
            Poll::Ready(Some(Err(_)))
        ));
        assert!(cut.is_end_stream());
        assert!(matches!(
            Pin::new(&mut cut).poll_frame(&mut cx),
            Poll::Ready(None)
        ));
    }

    #[tokio::test]
    async fn a_body_past_the_limit_keeps_the_limit_and_counts_what_came() {
        let chunks = [&b"abcdef"[..], b"ghijkl", b"mnop"].map(Bytes::from_static);
        let body = reqwest::Body::wrap(Chunks(chunks.into_iter().collect()));
        let answer = Response::from(http::Response::new(body));
        let limits = ReadLimits {
            max_body: 8,
            scrubber: None,
        };
        let mut answer = read_bounded(answer, limits).await.expect("read");
        let kept = answer.chunk().await.expect("the kept part");
        assert_eq!(kept.as_deref(), Some(&b"abcdefgh"[..]));
        let error = answer.chunk().await.expect_err("then the limit");
        let mut cause = std::error::Error::source(&error);
        let too_large = loop {
            let inner = cause.expect("a BodyTooLarge in the chain");
            if let Some(found) = inner.downcast_ref::<BodyTooLarge>() {
                break found;
            }
            cause = inner.source();
        };
        // Reading stopped within the second chunk: 12 bytes had come.
        assert_eq!((too_large.limit(), too_large.read()), (8, 12));
        assert_eq!(too_large.announced(), None);
    }

    #[test]
    fn scrub_headers_keeps_other_values() {
        let mut headers = HeaderMap::new();
        headers.insert("x-echo", HeaderValue::from_static("k=key-12345678"));
        headers.insert("x-other", HeaderValue::from_static("fine"));
        scrub_headers(&scrubber(), &mut headers);
        assert_eq!(headers["x-echo"], "k=<redacted>");
        assert_eq!(headers["x-other"], "fine");
    }

    #[test]
    fn scrub_headers_renames_a_header_named_after_the_key() {
        let mut headers = HeaderMap::new();
        let name = HeaderName::from_static("x-key-12345678-echo");
        headers.append(name.clone(), HeaderValue::from_static("one"));
        headers.append(name, HeaderValue::from_static("two"));
        headers.insert("x-other", HeaderValue::from_static("fine"));
        scrub_headers(&Scrubber::new(b"KEY-12345678"), &mut headers);
        let names: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        assert_eq!(names, ["x-redacted-echo", "x-other"]);
        let values: Vec<_> = headers.get_all("x-redacted-echo").iter().collect();
        assert_eq!(values, ["one", "two"]);
    }

    #[test]
    fn collected_joins_chunks() {
        let mut body = Collected::default();
        assert_eq!(body.len(), 0);
        body.push(Bytes::from_static(b"ab"));
        assert_eq!(body.len(), 2);
        body.push(Bytes::from_static(b"cd"));
        body.push(Bytes::from_static(b"e"));
        assert_eq!(body.len(), 5);
        assert_eq!(&body.into_bytes()[..], b"abcde");
    }
}
