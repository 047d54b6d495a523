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

use std::fmt;

use bytes::{Bytes, BytesMut};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Response, StatusCode};

use crate::error::{BODY_PREVIEW_LIMIT, BodyTooLarge};

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
    /// Whether a success body is left unread, for the caller to read (a
    /// download); its headers are scrubbed all the same. A JSON body is
    /// read whole all the same: it is the API's envelope (a failed export
    /// answers `200` with `"error": true`), which the call checks.
    pub unread_success: bool,
}

/// An answer, read: its status, its headers and its body, scrubbed of the
/// key. A success body is whole; any other is what an error shows of it.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Whether an error body went on past what was kept (or broke off).
    pub cut: bool,
    /// A success body left unread ([`ReadLimits::unread_success`]); boxed,
    /// as a whole response is large beside the rest.
    pub unread: Option<Box<Unread>>,
}

/// A success answer whose body is still to come, and the request slot it
/// holds until it is read or dropped.
#[derive(Debug)]
pub(crate) struct Unread {
    // Read by a download (the `download` feature) only.
    #[cfg_attr(not(rhombus_download), allow(dead_code))]
    pub response: Response,
    pub slot: Option<tokio::sync::OwnedSemaphorePermit>,
}

/// A success answer, its body left to the caller.
fn unread(mut response: Response) -> Answer {
    Answer {
        status: response.status(),
        headers: std::mem::take(response.headers_mut()),
        body: Bytes::new(),
        cut: false,
        unread: Some(Box::new(Unread {
            response,
            slot: None,
        })),
    }
}

/// Why an attempt has no answer to decode.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The request was not sent, or no answer's head came back.
    Send(reqwest::Error),
    /// A success body broke off while it came in.
    BodyRead(reqwest::Error),
    /// A success body over the client's limit: not read further.
    TooLarge(BodyTooLarge),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Send(error) | Failure::BodyRead(error) => {
                f.write_str(&crate::error::error_chain(error))
            }
            Failure::TooLarge(too_large) => too_large.fmt(f),
        }
    }
}

/// What an attempt gives: an answer, or why there is none.
pub(crate) type Outcome = Result<Answer, Failure>;

/// Reads `response`'s body within the limit for its status, and scrubs it.
///
/// A 2xx body may hold `max_body` bytes; past that, or announced past it,
/// the attempt fails with [`Failure::TooLarge`] and the connection is
/// dropped. Any other status keeps at most [`BODY_PREVIEW_LIMIT`] bytes,
/// all that an error shows: the body is read a little further, scrubbed
/// whole, and only then cut, so a cut never leaves part of the key.
pub(crate) async fn read_bounded(response: Response, limits: ReadLimits<'_>) -> Outcome {
    let status = response.status();
    let mut answer = if status.is_success() && limits.unread_success && !says_json(&response) {
        unread(response)
    } else if status.is_success() {
        read_success(response, limits.max_body).await?
    } else {
        // Read past the preview by the key's longest spelling, so that a
        // key echoed across the preview's end is whole when it is scrubbed.
        let margin = limits.scrubber.map_or(0, Scrubber::longest_spelling);
        read_error(response, BODY_PREVIEW_LIMIT + margin).await
    };
    if let Some(scrubber) = limits.scrubber {
        scrub_headers(scrubber, &mut answer.headers);
        answer.body = scrubber.scrub_bytes(answer.body);
    }
    if answer.body.len() > BODY_PREVIEW_LIMIT && !status.is_success() {
        answer.body.truncate(BODY_PREVIEW_LIMIT);
        answer.cut = true;
    }
    Ok(answer)
}

/// Whether `response` says its body is JSON (`application/json`, or a
/// `+json` type).
fn says_json(response: &Response) -> bool {
    let Some(value) = response.headers().get(reqwest::header::CONTENT_TYPE) else {
        return false;
    };
    let essence = value.to_str().unwrap_or("").split(';').next().unwrap_or("");
    let essence = essence.trim().to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

/// A success body, whole, or why it is not.
async fn read_success(mut response: Response, limit: usize) -> Outcome {
    let status = response.status();
    let announced = response.content_length();
    if announced.is_some_and(|length| length > limit as u64) {
        // No need to read what is announced as too much.
        return Err(Failure::TooLarge(BodyTooLarge::new(
            status, limit, 0, announced,
        )));
    }
    let mut body = Collected::default();
    while let Some(chunk) = response.chunk().await.map_err(Failure::BodyRead)? {
        if body.len() + chunk.len() > limit {
            let read = body.len() + chunk.len();
            return Err(Failure::TooLarge(BodyTooLarge::new(
                status, limit, read, announced,
            )));
        }
        body.push(chunk);
    }
    Ok(Answer {
        status,
        headers: std::mem::take(response.headers_mut()),
        body: body.into_bytes(),
        cut: false,
        unread: None,
    })
}

/// At most `limit` bytes of an error body; a body that breaks off keeps
/// what came, since that is still worth showing.
async fn read_error(mut response: Response, limit: usize) -> Answer {
    let mut body = Collected::default();
    let mut cut = false;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if body.len() + chunk.len() > limit => {
                body.push(chunk.slice(..limit - body.len()));
                cut = true;
                break;
            }
            Ok(Some(chunk)) => body.push(chunk),
            Ok(None) => break,
            Err(_) => {
                cut = true;
                break;
            }
        }
    }
    Answer {
        status: response.status(),
        headers: std::mem::take(response.headers_mut()),
        body: body.into_bytes(),
        cut,
        unread: None,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn scrubber() -> Scrubber {
        Scrubber::new(b"key-12345678")
    }

    /// A body that yields these chunks, one per poll.
    struct Chunks(std::collections::VecDeque<Bytes>);

    impl http_body::Body for Chunks {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
            std::task::Poll::Ready(
                self.0
                    .pop_front()
                    .map(|chunk| Ok(http_body::Frame::data(chunk))),
            )
        }
    }

    fn answer_with_body(status: u16, chunks: &[&'static [u8]]) -> Response {
        let chunks = chunks.iter().map(|c| Bytes::from_static(c)).collect();
        let mut answer = http::Response::new(reqwest::Body::wrap(Chunks(chunks)));
        *answer.status_mut() = StatusCode::from_u16(status).expect("a status");
        Response::from(answer)
    }

    #[tokio::test]
    async fn a_success_body_past_the_limit_fails_and_counts_what_came() {
        let answer = answer_with_body(200, &[b"abcdef", b"ghijkl", b"mnop"]);
        let limits = ReadLimits {
            max_body: 8,
            scrubber: None,
            unread_success: false,
        };
        let Err(Failure::TooLarge(too_large)) = read_bounded(answer, limits).await else {
            panic!("expected TooLarge");
        };
        // Reading stopped within the second chunk: 12 bytes had come.
        assert_eq!((too_large.limit(), too_large.read()), (8, 12));
        assert_eq!(too_large.announced(), None);
    }

    #[tokio::test]
    async fn an_error_body_is_scrubbed_before_it_is_cut() {
        // The key starts 5 bytes before the preview's end.
        let mut body = vec![b'x'; BODY_PREVIEW_LIMIT - 5];
        body.extend_from_slice(b"key-12345678 and more");
        let body: &'static [u8] = Box::leak(body.into_boxed_slice());
        let scrubber = scrubber();
        let limits = ReadLimits {
            max_body: 8,
            scrubber: Some(&scrubber),
            unread_success: false,
        };
        let answer = read_bounded(answer_with_body(500, &[body]), limits)
            .await
            .expect("an error answer");
        assert_eq!(answer.body.len(), BODY_PREVIEW_LIMIT);
        assert!(answer.cut);
        assert!(
            answer.body.ends_with(b"<reda"),
            "{:?}",
            &answer.body[answer.body.len() - 10..]
        );
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
