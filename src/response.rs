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
use std::ops::Range;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Response, StatusCode};

use crate::error::{BODY_PREVIEW_LIMIT, BodyTooLarge};

/// Default size limit of a successful response body: 64 MiB, room for the
/// largest real answers (every device or license of a large partner is a
/// few MiB of JSON) while a hostile server cannot exhaust memory.
pub(crate) const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// What replaces the key wherever an answer carries it.
const REDACTED: &[u8] = b"<redacted>";

/// The limits and the secret an answer is read under.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadLimits<'a> {
    /// The most a successful (2xx) body may hold.
    pub max_body: usize,
    /// What scrubs the key from headers and bodies, if anything.
    pub scrubber: Option<&'a Scrubber>,
}

/// Replaces a secret wherever an answer carries it, as it is or with any of
/// its characters escaped the ways a decoder would undo: JSON's (`\u0053`,
/// `\/`) and URLs' (`%53`). Made once per client: the searchers are built
/// from the key once, not per call.
#[derive(Clone)]
pub(crate) struct Scrubber {
    secret: Arc<Secret>,
}

/// The key, and what finds it.
struct Secret {
    /// The key as it is.
    exact: Needle,
    /// The key lowercased: header names are lowercased when parsed, so
    /// that is how a key shows in one.
    lowercase: Needle,
}

/// What finds one spelling of the key, plainly or through escapes.
struct Needle {
    /// Finds it written plainly, the common case, fast.
    plain: memchr::memmem::Finder<'static>,
    /// Finds it through escapes.
    escaped: EscapedFinder,
}

impl Needle {
    fn new(key: Vec<u8>) -> Self {
        Needle {
            plain: memchr::memmem::Finder::new(&key).into_owned(),
            escaped: EscapedFinder::new(key),
        }
    }

    fn len(&self) -> usize {
        self.plain.needle().len()
    }

    /// Where `text` holds the key, in order and disjoint.
    fn find(&self, text: &[u8]) -> Vec<Range<usize>> {
        // Without a `\\` or a `%`, nothing is escaped: the plain search,
        // much faster, finds all there is.
        if memchr::memchr2(b'\\', b'%', text).is_some() {
            return self.escaped.find(text);
        }
        // Most text holds no key: one search, and no list is built.
        let Some(first) = self.plain.find(text) else {
            return Vec::new();
        };
        let length = self.len();
        let rest = &text[first + length..];
        std::iter::once(first..first + length)
            .chain(
                self.plain
                    .find_iter(rest)
                    .map(|at| first + length + at..first + length + at + length),
            )
            .collect()
    }
}

impl fmt::Debug for Scrubber {
    // The searcher holds the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Scrubber(<redacted>)")
    }
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

/// How far past [`BODY_PREVIEW_LIMIT`] an error body is read per byte of
/// the key, so that a key echoed across the preview's end, under up to
/// three escapes of six characters each, is whole when it is scrubbed.
const ESCAPED_KEY_BYTES_PER_BYTE: usize = 6 * 6 * 6;

/// Reads `response`'s body within the limit for its status, and scrubs it.
///
/// A 2xx body may hold `max_body` bytes; past that, or announced past it,
/// the attempt fails with [`Failure::TooLarge`] and the connection is
/// dropped. Any other status keeps at most [`BODY_PREVIEW_LIMIT`] bytes,
/// all that an error shows: the body is read a little further, scrubbed
/// whole, and only then cut, so a cut never leaves part of the key.
pub(crate) async fn read_bounded(response: Response, limits: ReadLimits<'_>) -> Outcome {
    let status = response.status();
    let mut answer = if status.is_success() {
        read_success(response, limits.max_body).await?
    } else {
        let margin = limits.scrubber.map_or(0, |scrubber| {
            scrubber.key_len() * ESCAPED_KEY_BYTES_PER_BYTE
        });
        read_error(response, BODY_PREVIEW_LIMIT + margin).await
    };
    if let Some(scrubber) = limits.scrubber {
        scrubber.scrub_headers(&mut answer.headers);
        answer.body = scrubber.scrub(answer.body);
    }
    if answer.body.len() > BODY_PREVIEW_LIMIT && !status.is_success() {
        answer.body.truncate(BODY_PREVIEW_LIMIT);
        answer.cut = true;
    }
    Ok(answer)
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

impl Scrubber {
    pub(crate) fn new(secret: &[u8]) -> Self {
        Scrubber {
            secret: Arc::new(Secret {
                exact: Needle::new(secret.to_vec()),
                lowercase: Needle::new(secret.to_ascii_lowercase()),
            }),
        }
    }

    /// The key's length in bytes.
    pub(crate) fn key_len(&self) -> usize {
        self.secret.exact.len()
    }

    /// `bytes` with every occurrence of the secret, plain or escaped,
    /// replaced; the same buffer, uncopied, when there is none.
    pub(crate) fn scrub(&self, bytes: Bytes) -> Bytes {
        match self.scrubbed(&bytes) {
            Some(clean) => Bytes::from(clean),
            None => bytes,
        }
    }

    /// `bytes` with the secret replaced, or `None` if it holds none.
    fn scrubbed(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        let found = self.secret.exact.find(bytes);
        (!found.is_empty()).then(|| replace(bytes, &found, REDACTED))
    }

    /// Scrubs header values like bodies, and renames headers whose name
    /// holds the key (in lowercase, as names are kept): the plain methods'
    /// errors print every header, names included.
    pub(crate) fn scrub_headers(&self, headers: &mut HeaderMap) {
        let length = self.secret.exact.len();
        for value in headers.values_mut() {
            // Most values are shorter than a key and cannot hold it.
            let clean = (value.len() >= length)
                .then(|| self.scrubbed(value.as_bytes()))
                .flatten();
            // The secret was a valid header value and so is `<redacted>`.
            if let Some(clean) = clean.and_then(|clean| HeaderValue::from_bytes(&clean).ok()) {
                *value = clean;
            }
        }
        let holds_key = |name: &HeaderName| {
            name.as_str().len() >= length && !self.secret.lowercase.find(name.as_ref()).is_empty()
        };
        if headers.keys().any(holds_key) {
            // `into_iter` names only the first value of each header.
            let mut name = None;
            let mut clean = HeaderMap::with_capacity(headers.len());
            for (next, value) in std::mem::take(headers) {
                if let Some(next) = next {
                    name = Some(self.scrub_name(next));
                }
                if let Some(name) = &name {
                    clean.append(name.clone(), value);
                }
            }
            *headers = clean;
        }
    }

    /// `name` with the key replaced by `redacted`, which keeps it a name.
    fn scrub_name(&self, name: HeaderName) -> HeaderName {
        let found = self.secret.lowercase.find(name.as_ref());
        if found.is_empty() {
            return name;
        }
        HeaderName::from_bytes(&replace(name.as_ref(), &found, b"redacted"))
            .unwrap_or(HeaderName::from_static("x-redacted"))
    }
}

/// `bytes` with each of the sorted, disjoint `ranges` replaced by `with`.
fn replace(bytes: &[u8], ranges: &[Range<usize>], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut done = 0;
    for range in ranges {
        out.extend_from_slice(&bytes[done..range.start]);
        out.extend_from_slice(with);
        done = range.end;
    }
    out.extend_from_slice(&bytes[done..]);
    out
}

/// Finds a key of printable ASCII in text as it is, or with any of its
/// characters escaped as a JSON string or a URL would: the text is read as
/// the units a decoder would turn it into, and matched unit by unit
/// (Knuth-Morris-Pratt, so a hostile body costs linear time and no copy of
/// itself).
struct EscapedFinder {
    key: Vec<u8>,
    /// `fallback[i]`: the longest proper prefix of `key[..=i]` that is also
    /// its suffix, where a match resumes after a mismatch.
    fallback: Vec<usize>,
}

/// How text is decoded before it is matched.
#[derive(Clone, Copy)]
enum Escapes {
    /// As it is: a key holding `\n` or `%41` shows so in a plain text.
    None,
    /// JSON string escapes: `\u0041`, `\/`, `\n`, ...
    Json,
    /// URL escapes: `%41`.
    Url,
}

impl EscapedFinder {
    fn new(key: Vec<u8>) -> Self {
        let mut fallback = vec![0; key.len()];
        let mut length = 0;
        for i in 1..key.len() {
            while length > 0 && key[i] != key[length] {
                length = fallback[length - 1];
            }
            if key[i] == key[length] {
                length += 1;
            }
            fallback[i] = length;
        }
        EscapedFinder { key, fallback }
    }

    /// The byte ranges of `text` that are the key, written in any of the
    /// ways [`Escapes`] names, in order and disjoint.
    fn find(&self, text: &[u8]) -> Vec<Range<usize>> {
        // A way of escaping needs its escape character.
        let json = memchr::memchr(b'\\', text).map(|_| Escapes::Json);
        let url = memchr::memchr(b'%', text).map(|_| Escapes::Url);
        let mut found: Vec<Range<usize>> = [Some(Escapes::None), json, url]
            .into_iter()
            .flatten()
            .flat_map(|escapes| self.find_decoded(text, escapes))
            .collect();
        found.sort_unstable_by_key(|range| range.start);
        // Ways that overlap are merged, so each byte is replaced once.
        found.dedup_by(|next, kept| {
            let overlaps = next.start < kept.end;
            if overlaps {
                kept.end = kept.end.max(next.end);
            }
            overlaps
        });
        found
    }

    /// The byte ranges of `text` that decode to the key under `escapes`.
    fn find_decoded(&self, text: &[u8], escapes: Escapes) -> Vec<Range<usize>> {
        let length = self.key.len();
        let mut found = Vec::new();
        if length == 0 {
            return found;
        }
        // Where each of the last `length` units began, in a ring.
        let mut starts = vec![0; length];
        let (mut at, mut units, mut matched) = (0, 0, 0);
        while at < text.len() {
            let (unit, width) = unit_at(text, at, escapes);
            starts[units % length] = at;
            units += 1;
            at += width;
            while matched > 0 && self.key[matched] != unit {
                matched = self.fallback[matched - 1];
            }
            if self.key[matched] == unit {
                matched += 1;
            }
            if matched == length {
                // The match's first unit is the oldest in the ring.
                found.push(starts[units % length]..at);
                matched = 0;
            }
        }
        found
    }
}

/// The unit that starts at `text[at]` and its width in bytes: an escape
/// decoded, else the byte itself. A decoded character outside ASCII becomes
/// 0xFF, which no key holds.
fn unit_at(text: &[u8], at: usize, escapes: Escapes) -> (u8, usize) {
    let hex = |from: usize, digits: usize| {
        let digits = text.get(from..from + digits)?;
        let code = digits.iter().try_fold(0, |code, &digit| {
            Some(code * 16 + char::from(digit).to_digit(16)?)
        })?;
        Some(u8::try_from(code).ok().filter(u8::is_ascii).unwrap_or(0xFF))
    };
    let escape = match (escapes, text[at], text.get(at + 1)) {
        (Escapes::Json, b'\\', Some(b'u')) => hex(at + 2, 4).map(|unit| (unit, 6)),
        (Escapes::Json, b'\\', Some(&next)) => match next {
            b'"' | b'\\' | b'/' => Some(next),
            b'b' => Some(0x08),
            b'f' => Some(0x0C),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            _ => None,
        }
        .map(|unit| (unit, 2)),
        (Escapes::Url, b'%', _) => hex(at + 1, 2).map(|unit| (unit, 3)),
        _ => None,
    };
    escape.unwrap_or((text[at], 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrubber() -> Scrubber {
        Scrubber::new(b"key-12345678")
    }

    #[test]
    fn scrub_replaces_every_occurrence() {
        let text = Bytes::from_static(b"key-12345678 and key-12345678; key-1234567");
        assert_eq!(
            &scrubber().scrub(text)[..],
            b"<redacted> and <redacted>; key-1234567"
        );
    }

    #[test]
    fn scrub_leaves_clean_bytes_uncopied() {
        let text = Bytes::from_static(b"nothing to see");
        let pointer = text.as_ptr();
        assert_eq!(scrubber().scrub(text).as_ptr(), pointer);
    }

    #[test]
    fn the_scrubber_does_not_show_the_key() {
        assert_eq!(format!("{:?}", scrubber()), "Scrubber(<redacted>)");
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
        scrubber().scrub_headers(&mut headers);
        assert_eq!(headers["x-echo"], "k=<redacted>");
        assert_eq!(headers["x-other"], "fine");
    }

    #[test]
    fn scrub_finds_the_key_through_json_and_url_escapes() {
        let scrubbed = |text: &'static str| {
            String::from_utf8(
                scrubber()
                    .scrub(Bytes::from_static(text.as_bytes()))
                    .to_vec(),
            )
            .expect("UTF-8")
        };
        // Every character, some, in either case of hex.
        assert_eq!(
            scrubbed(
                r#"{"m": "\u006b\u0065\u0079\u002d\u0031\u0032\u0033\u0034\u0035\u0036\u0037\u0038"}"#
            ),
            r#"{"m": "<redacted>"}"#
        );
        assert_eq!(
            scrubbed(r#""k\u0065y-12345\u00367\u0038!""#),
            r#""<redacted>!""#
        );
        assert_eq!(scrubbed(r#""\u006Bey-12345678""#), r#""<redacted>""#);
        assert_eq!(scrubbed("?k=key%2D12345678&x=%41"), "?k=<redacted>&x=%41");
        // A key with a `/` escaped as `\/`, as some encoders do by default.
        let slashed = Scrubber::new(b"ab/cd/ef/gh");
        let text = Bytes::from_static(br#"{"k": "ab\/cd\/ef\/gh", "n": "\n"}"#);
        assert_eq!(
            &slashed.scrub(text)[..],
            br#"{"k": "<redacted>", "n": "\n"}"#
        );
        // Escapes that decode to something else are left alone.
        assert_eq!(scrubbed(r#""key-1234567\u0039""#), r#""key-1234567\u0039""#);
    }

    #[test]
    fn a_key_holding_escape_characters_is_found_as_it_is_too() {
        let percent = Scrubber::new(b"ab%41cd\\nef");
        let text = Bytes::from_static(br#"plain ab%41cd\nef, json "ab%41cd\\nef" \u0041"#);
        assert_eq!(
            &percent.scrub(text)[..],
            br#"plain <redacted>, json "<redacted>" \u0041"#
        );
    }

    #[test]
    fn a_partial_match_falls_back_to_the_longest_prefix_still_matched() {
        let repeating = Scrubber::new(b"abab1234abab");
        let text = Bytes::from_static(b"ababab1234abab1234abab\\");
        assert_eq!(&repeating.scrub(text)[..], b"ab<redacted>1234abab\\");
    }

    #[test]
    fn scrub_headers_renames_a_header_named_after_the_key() {
        let mut headers = HeaderMap::new();
        let name = HeaderName::from_static("x-key-12345678-echo");
        headers.append(name.clone(), HeaderValue::from_static("one"));
        headers.append(name, HeaderValue::from_static("two"));
        headers.insert("x-other", HeaderValue::from_static("fine"));
        Scrubber::new(b"KEY-12345678").scrub_headers(&mut headers);
        let names: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        assert_eq!(names, ["x-redacted-echo", "x-other"]);
        let values: Vec<_> = headers.get_all("x-redacted-echo").iter().collect();
        assert_eq!(values, ["one", "two"]);
    }

    proptest::proptest! {
        /// On text without escapes, the unit-by-unit search finds what
        /// the plain one does: a small alphabet makes partial matches and
        /// overlaps common.
        #[test]
        fn the_escaped_search_agrees_with_the_plain_one(
            key in "[ab1]{8,12}",
            text in "[ab1 ]{0,200}",
        ) {
            let finder = EscapedFinder::new(key.clone().into_bytes());
            let plain = memchr::memmem::Finder::new(key.as_bytes());
            let expected: Vec<Range<usize>> = plain
                .find_iter(text.as_bytes())
                .map(|at| at..at + key.len())
                .collect();
            // memmem's matches may overlap; the scrubber's are disjoint.
            let mut disjoint = Vec::new();
            for range in expected {
                if disjoint.last().is_none_or(|last: &Range<usize>| last.end <= range.start) {
                    disjoint.push(range);
                }
            }
            proptest::prop_assert_eq!(finder.find_decoded(text.as_bytes(), Escapes::Json), disjoint);
        }
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
