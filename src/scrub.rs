//! Finding the API key in text and replacing it: bytes and text in, text
//! out. Nothing here knows HTTP; `response.rs` calls it on every answer's
//! headers and body.
//!
//! The key is found as written and through the escapes a decoder would undo,
//! stacked up to [`MAX_LAYERS`] deep and mixed character by character:
//! URLs' `%53` (hex digits in either case) and JSON's `\u0053` (either case),
//! `\/`, `\\`, `\"`, `\n`, ... So `%2F` JSON-escaped (`\u00252F`),
//! percent-encoded twice (`%252F`), a JSON escape percent-encoded
//! (`%5Cu002F`) and three layers of any of these are found, each character
//! at its own depth. A body in UTF-16 (either byte order, with or without a
//! byte order mark) is searched the same way, unit by unit, and the key
//! replaced in its own encoding.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;

/// What replaces the key in text.
const REDACTED: &str = "<redacted>";

/// What replaces the key in a header name (which cannot hold `<` or `>`).
const REDACTED_NAME: &str = "redacted";

/// How many layers of escapes are undone: a decoder run three times over.
pub(crate) const MAX_LAYERS: u8 = 3;

/// The most bytes one byte of the key can take once spelled: three stacked
/// escapes of six characters each (`\u0041`), in UTF-16 (two bytes a unit).
const SPELLED_BYTES_PER_BYTE: usize = 6 * 6 * 6 * 2;

/// How much a streamed body is read ahead of what is handed on, at least:
/// scrubbing works on batches, not on every small chunk.
// Only a download streams: compiled where a generated client hands one over,
// and for the unit tests.
#[cfg(any(rhombus_download, test))]
const STREAM_BATCH: usize = 64 * 1024;

/// The ring of partial matches ahead of the position being read: larger
/// than the widest spelling of one character, `\u0041` (6 bytes) with each
/// of its characters written the same way, twice more (6³ = 216 bytes).
const AHEAD: usize = 256;

/// Replaces a secret wherever text carries it, plainly or escaped (see the
/// module's documentation). Made once per client: the searchers are built
/// from the key once, not per call.
#[derive(Clone)]
pub(crate) struct Scrubber {
    secret: Arc<Secret>,
    key_len: usize,
}

/// The key, and what finds it.
struct Secret {
    /// Finds the key as it is.
    exact: Needle,
    /// Finds the key in any case: header names are lowercased when parsed,
    /// so that is how a key shows in one.
    folded: Needle,
}

impl fmt::Debug for Scrubber {
    // The searchers hold the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Scrubber(<redacted>)")
    }
}

impl Scrubber {
    pub(crate) fn new(secret: &[u8]) -> Self {
        Scrubber {
            secret: Arc::new(Secret {
                exact: Needle::new(secret.to_vec(), false),
                folded: Needle::new(secret.to_ascii_lowercase(), true),
            }),
            key_len: secret.len(),
        }
    }

    /// The longest spelling of the key there is to find, in bytes: what a
    /// reader must hold back before a cut so that no key spans it.
    pub(crate) fn longest_spelling(&self) -> usize {
        self.key_len * SPELLED_BYTES_PER_BYTE
    }

    /// `bytes` with every occurrence of the secret replaced by
    /// `<redacted>`; the same buffer, uncopied, when there is none.
    pub(crate) fn scrub_bytes(&self, bytes: Bytes) -> Bytes {
        match self.scrub_slice(&bytes) {
            Some(clean) => Bytes::from(clean),
            None => bytes,
        }
    }

    /// `text` with every occurrence of the secret replaced by
    /// `<redacted>`; borrowed when there is none.
    // For callers that hold text rather than an answer's bytes; none does yet.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn scrub_text<'t>(&self, text: &'t str) -> Cow<'t, str> {
        match self.scrub_slice(text.as_bytes()) {
            // Matches start and end on ASCII characters, so what is left of
            // the text around them is still UTF-8.
            Some(clean) => Cow::Owned(
                String::from_utf8(clean)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            ),
            None => Cow::Borrowed(text),
        }
    }

    /// `bytes` with the secret replaced, or `None` if it holds none: as
    /// 8-bit text, then, if it may be UTF-16 (see [`may_be_utf16`]), as
    /// UTF-16 in either byte order.
    pub(crate) fn scrub_slice(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        self.scrub_slice_as(bytes, false)
    }

    /// [`Scrubber::scrub_slice`], also as UTF-16 if `utf16` (a later part of
    /// a body whose start looked like UTF-16).
    fn scrub_slice_as(&self, bytes: &[u8], utf16: bool) -> Option<Vec<u8>> {
        let needle = &self.secret.exact;
        if bytes.len() < needle.len() || needle.len() == 0 {
            return None;
        }
        // Without a `\\` or a `%`, nothing is escaped: the plain search,
        // much faster, finds all there is.
        let escaped = memchr::memchr2(b'\\', b'%', bytes).is_some();
        let found = if escaped {
            needle.find_escaped(bytes)
        } else {
            needle.find_plain(bytes)
        };
        let narrow = (!found.is_empty()).then(|| replace(bytes, &found, REDACTED.as_bytes()));
        if !utf16 && !may_be_utf16(bytes, escaped) {
            return narrow;
        }
        scrub_utf16(bytes, narrow, needle)
    }

    /// A header name with the key, in any case, replaced by `redacted`,
    /// which keeps it a name; `None` if it holds none.
    pub(crate) fn scrub_header_name(&self, name: &str) -> Option<String> {
        let needle = &self.secret.folded;
        if name.len() < needle.len() || needle.len() == 0 {
            return None;
        }
        let found = needle.find(name.as_bytes());
        (!found.is_empty()).then(|| {
            let clean = replace(name.as_bytes(), &found, REDACTED_NAME.as_bytes());
            String::from_utf8_lossy(&clean).into_owned()
        })
    }
}

/// What finds one spelling of the key, plainly or through escapes.
struct Needle {
    /// Finds it written plainly, the common case, fast.
    plain: memchr::memmem::Finder<'static>,
    /// The key (lowercase if `fold`).
    key: Vec<u8>,
    /// Whether text is matched in any case.
    fold: bool,
}

impl Needle {
    fn new(key: Vec<u8>, fold: bool) -> Self {
        Needle {
            plain: memchr::memmem::Finder::new(&key).into_owned(),
            key,
            fold,
        }
    }

    fn len(&self) -> usize {
        self.key.len()
    }

    /// Where `text` holds the key, in order and disjoint.
    fn find(&self, text: &[u8]) -> Vec<Range<usize>> {
        // Without a `\\` or a `%`, nothing is escaped: the plain search,
        // much faster, finds all there is (in any case, if the text has no
        // upper case: header names are lowercased when parsed).
        let escaped = memchr::memchr2(b'\\', b'%', text).is_some();
        if escaped || (self.fold && text.iter().any(u8::is_ascii_uppercase)) {
            self.find_escaped(text)
        } else {
            self.find_plain(text)
        }
    }

    /// Where `text` holds the key as it is, in order and disjoint.
    fn find_plain(&self, text: &[u8]) -> Vec<Range<usize>> {
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

    /// Where `text` spells the key through up to [`MAX_LAYERS`] layers of
    /// escapes, in order and disjoint. Every position is read once, with
    /// the partial matches that reach it (how much of the key, from where):
    /// each spelling that starts there extends those it continues.
    fn find_escaped(&self, text: &[u8]) -> Vec<Range<usize>> {
        let key = &self.key;
        let mut partial = Partial::new(text.len());
        let mut here = Vec::new();
        // Where a spelling of the key's first character can start.
        let jump = !self.fold || !key[0].is_ascii_alphabetic();
        let mut reader = Reader::new(text);
        let mut at = 0;
        while at < text.len() {
            if partial.pending == 0 && jump {
                let Some(skip) = memchr::memchr3(key[0], b'%', b'\\', &text[at..]) else {
                    break;
                };
                at += skip;
            }
            partial.take(at, &mut here);
            reader.each(at, MAX_LAYERS, &mut |_, unit, end| {
                let unit = if self.fold {
                    unit.to_ascii_lowercase()
                } else {
                    unit
                };
                if unit == key[0] {
                    partial.advance(key.len(), 1, at, end);
                }
                for &(matched, start) in &here {
                    if key[matched] == unit {
                        partial.advance(key.len(), matched + 1, start, end);
                    }
                }
            });
            here.clear();
            at += 1;
        }
        disjoint(partial.found)
    }
}

/// The partial matches ahead of the position being read, and the whole
/// ones found.
struct Partial {
    /// By position modulo `ring`: how much of the key ends there, spelled
    /// from where.
    ahead: Vec<Vec<(usize, usize)>>,
    ring: usize,
    /// How many entries `ahead` holds.
    pending: usize,
    found: Vec<Range<usize>>,
}

impl Partial {
    fn new(length: usize) -> Self {
        // No spelling ends past the text: a short text needs a short ring.
        let ring = AHEAD.min(length + 1);
        Partial {
            ahead: vec![Vec::new(); ring],
            ring,
            pending: 0,
            found: Vec::new(),
        }
    }

    /// Moves the partial matches that reach `at` into `here`.
    fn take(&mut self, at: usize, here: &mut Vec<(usize, usize)>) {
        std::mem::swap(here, &mut self.ahead[at % self.ring]);
        self.pending -= here.len();
    }

    /// Records that `text[start..end]` spells the key's first `matched`
    /// characters, of `length`.
    fn advance(&mut self, length: usize, matched: usize, start: usize, end: usize) {
        if matched == length {
            self.found.push(start..end);
        } else if extend(&mut self.ahead[end % self.ring], matched, start) {
            self.pending += 1;
        }
    }
}

/// Records, at a position ahead, that the key's first `matched` characters
/// end there, spelled from `start`; of two such, the earlier start is kept
/// (the longer match, which leaves no part of a spelling behind). True if
/// the entry is new.
fn extend(there: &mut Vec<(usize, usize)>, matched: usize, start: usize) -> bool {
    match there.iter_mut().find(|(m, _)| *m == matched) {
        Some(entry) => {
            entry.1 = entry.1.min(start);
            false
        }
        None => {
            there.push((matched, start));
            true
        }
    }
}

/// The leftmost of overlapping matches (the longest of those starting at
/// one place), in order: each byte is replaced once.
fn disjoint(mut found: Vec<Range<usize>>) -> Vec<Range<usize>> {
    found.sort_unstable_by_key(|range| (range.start, std::cmp::Reverse(range.end)));
    let mut kept: Vec<Range<usize>> = Vec::with_capacity(found.len());
    for range in found {
        if kept.last().is_none_or(|last| last.end <= range.start) {
            kept.push(range);
        }
    }
    kept
}

/// Reads the characters text spells through escapes, remembering what it
/// read below the top layer where escapes stack: the same escape is reached
/// along many paths (`\\\\\\\\` is `\\` in several ways at each layer).
/// Still, a long run of backslashes is the costliest text there is: about
/// 140 ns a byte (a run of `%25`, about 40; text with a few escapes, about
/// 1), against about 3 for the one layer undone before.
struct Reader<'t> {
    text: &'t [u8],
    /// Per layer from 1 below the top and position modulo [`AHEAD`]: the
    /// position the entry is for, and every `(character, end)` spelled
    /// from there. Made when first needed: most text has few escapes.
    memo: Vec<(usize, Vec<(u8, usize)>)>,
    /// The memo's entries per layer: [`AHEAD`], or fewer for a short text.
    ring: usize,
}

/// Where what a reader finds goes.
type Sink<'s, 't> = &'s mut dyn FnMut(&mut Reader<'t>, u8, usize);

impl<'t> Reader<'t> {
    fn new(text: &'t [u8]) -> Self {
        Reader {
            text,
            memo: Vec::new(),
            ring: AHEAD.min(text.len() + 1),
        }
    }

    /// Calls `f(self, unit, end)` for every character that
    /// `text[at..end]` spells with at most `layers` layers of escapes: the
    /// byte itself, or an escape whose every character is spelled with one
    /// layer fewer. A decoded character outside ASCII is no key's and is
    /// skipped.
    fn each(&mut self, at: usize, layers: u8, f: Sink<'_, 't>) {
        let Some(&first) = self.text.get(at) else {
            return;
        };
        f(self, first, at + 1);
        if layers == 0 || !matches!(first, b'%' | b'\\') {
            return;
        }
        // The top layer is read once per position: nothing to keep; nor is
        // an escape whose next byte starts no other: it is read quickly.
        let stacked = matches!(self.text.get(at + 1), Some(b'%' | b'\\'));
        if layers == MAX_LAYERS || !stacked {
            return self.escapes(at, layers, f);
        }
        if self.memo.is_empty() {
            let entries = self.ring * usize::from(MAX_LAYERS - 1);
            self.memo = vec![(usize::MAX, Vec::new()); entries];
        }
        let slot = usize::from(layers - 1) * self.ring + at % self.ring;
        if self.memo[slot].0 != at {
            let mut found = std::mem::take(&mut self.memo[slot].1);
            found.clear();
            self.escapes(at, layers, &mut |_, unit, end| found.push((unit, end)));
            found.sort_unstable();
            found.dedup();
            self.memo[slot] = (at, found);
        }
        // Read in place: while one position is read, every position it
        // reaches is within `AHEAD` (and the text), so no entry in use is
        // replaced.
        let mut next = 0;
        while let Some(&(unit, end)) = self.memo[slot].1.get(next) {
            f(self, unit, end);
            next += 1;
        }
    }

    /// Calls `f` with what the escape starting at `text[at]` (a `%` or a
    /// `\\`, spelled with one layer fewer) stands for.
    fn escapes(&mut self, at: usize, layers: u8, f: Sink<'_, 't>) {
        let inner = layers - 1;
        self.each(
            at,
            inner,
            &mut |reader, introducer, next| match introducer {
                b'%' => reader.hex(next, 2, 0, inner, f),
                b'\\' => reader.each(next, inner, &mut |reader, letter, after| {
                    if letter == b'u' {
                        reader.hex(after, 4, 0, inner, f);
                    } else if let Some(unit) = short_escape(letter) {
                        f(reader, unit, after);
                    }
                }),
                _ => {}
            },
        );
    }

    /// Reads `digits` more hex digits (either case) from `at`, each spelled
    /// with at most `layers` layers of escapes, onto `value`; calls `f` with
    /// the character they make if it is ASCII.
    fn hex(&mut self, at: usize, digits: u8, value: u32, layers: u8, f: Sink<'_, 't>) {
        if digits == 0 {
            if let Ok(unit) = u8::try_from(value)
                && unit.is_ascii()
            {
                f(self, unit, at);
            }
            return;
        }
        self.each(at, layers, &mut |reader, digit, next| {
            if let Some(digit) = char::from(digit).to_digit(16) {
                reader.hex(next, digits - 1, value * 16 + digit, layers, f);
            }
        });
    }
}

/// The character JSON's two-character escape `\<letter>` stands for.
fn short_escape(letter: u8) -> Option<u8> {
    match letter {
        b'"' | b'\\' | b'/' => Some(letter),
        b'b' => Some(0x08),
        b'f' => Some(0x0C),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        _ => None,
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

/// A UTF-16 byte order.
#[derive(Clone, Copy, Debug)]
enum Order {
    Le,
    Be,
}

impl Order {
    fn unit(self, pair: &[u8]) -> u16 {
        match self {
            Order::Le => u16::from_le_bytes([pair[0], pair[1]]),
            Order::Be => u16::from_be_bytes([pair[0], pair[1]]),
        }
    }

    fn encode(self, text: &str) -> Vec<u8> {
        text.encode_utf16()
            .flat_map(|unit| match self {
                Order::Le => unit.to_le_bytes(),
                Order::Be => unit.to_be_bytes(),
            })
            .collect()
    }
}

/// Whether `bytes` may be UTF-16 text: it starts with a byte order mark
/// or with an ASCII character in UTF-16 (a NUL among its first two bytes),
/// or, when the text is searched through escapes anyway, it holds a NUL
/// anywhere. (So clean 8-bit text pays for two bytes, not for a scan.)
fn may_be_utf16(bytes: &[u8], escaped: bool) -> bool {
    matches!(
        bytes,
        [0, ..] | [_, 0, ..] | [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..]
    ) || (escaped && memchr::memchr(0, bytes).is_some())
}

/// `narrow` (`bytes` scrubbed as 8-bit text, if it held the key) or
/// `bytes`, scrubbed as UTF-16 in either byte order and at either offset;
/// `None` if neither held the key. Out of the way of the common case.
#[cold]
#[inline(never)]
fn scrub_utf16(bytes: &[u8], narrow: Option<Vec<u8>>, needle: &Needle) -> Option<Vec<u8>> {
    let mut text = narrow;
    for (order, offset) in [
        (Order::Le, 0),
        (Order::Be, 0),
        (Order::Le, 1),
        (Order::Be, 1),
    ] {
        let current = text.as_deref().unwrap_or(bytes);
        if let Some(clean) = scrub_units(current, needle, order, offset) {
            text = Some(clean);
        }
    }
    text
}

/// `bytes` read as UTF-16 in `order` from `offset` (the units outside
/// ASCII, a byte order mark among them, read as 0xFF, which no key holds),
/// with the key's units replaced by `<redacted>` in the same encoding;
/// `None` if they hold no key.
fn scrub_units(bytes: &[u8], needle: &Needle, order: Order, offset: usize) -> Option<Vec<u8>> {
    let in_bytes = units_found(bytes, needle, order, offset);
    (!in_bytes.is_empty()).then(|| replace(bytes, &in_bytes, &order.encode(REDACTED)))
}

/// Where `bytes`, read as UTF-16 in `order` from `offset`, holds the key,
/// in bytes.
fn units_found(bytes: &[u8], needle: &Needle, order: Order, offset: usize) -> Vec<Range<usize>> {
    let Some(wide) = bytes.get(offset..) else {
        return Vec::new();
    };
    let narrow: Vec<u8> = wide
        .chunks_exact(2)
        .map(|pair| {
            u8::try_from(order.unit(pair))
                .map_or(0xFF, |unit| if unit.is_ascii() { unit } else { 0xFF })
        })
        .collect();
    needle
        .find(&narrow)
        .iter()
        .map(|range| offset + 2 * range.start..offset + 2 * range.end)
        .collect()
}

/// Scrubs a body that comes in chunks, handing on as much as it can: all
/// but a tail as long as the key's longest spelling, cut where no spelling
/// of the key crosses the cut. A key split across chunks is whole in the
/// held bytes when it is scrubbed; each part is scrubbed by
/// [`Scrubber::scrub_slice`], the one implementation.
#[cfg(any(rhombus_download, test))]
pub(crate) struct StreamScrubber {
    scrubber: Scrubber,
    /// Read, not yet handed on, not yet scrubbed.
    held: Vec<u8>,
    /// Whether the body's start looked like UTF-16.
    utf16: bool,
    /// Whether anything was handed on (the start is decided then).
    started: bool,
}

#[cfg(any(rhombus_download, test))]
impl fmt::Debug for StreamScrubber {
    // What is held is not scrubbed yet.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StreamScrubber({} bytes held)", self.held.len())
    }
}

#[cfg(any(rhombus_download, test))]
impl StreamScrubber {
    pub(crate) fn new(scrubber: Scrubber) -> Self {
        StreamScrubber {
            scrubber,
            held: Vec::new(),
            utf16: false,
            started: false,
        }
    }

    /// Takes `chunk`; gives what can be handed on, scrubbed (often empty).
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        self.held.extend_from_slice(chunk);
        let hold = self.scrubber.longest_spelling();
        if self.held.len() < STREAM_BATCH.max(2 * hold) {
            return Vec::new();
        }
        if !self.started {
            self.utf16 = may_be_utf16(&self.held, false);
            self.started = true;
        }
        let cut = self.safe_cut(self.held.len() - hold);
        let clean = self.scrub(..cut);
        self.held.drain(..cut);
        clean
    }

    /// What is held, scrubbed, at the body's end.
    pub(crate) fn finish(&mut self) -> Vec<u8> {
        if !self.started {
            self.utf16 = may_be_utf16(&self.held, false);
        }
        let clean = self.scrub(..);
        self.held.clear();
        clean
    }

    fn scrub(&self, range: impl std::slice::SliceIndex<[u8], Output = [u8]>) -> Vec<u8> {
        let part = &self.held[range];
        self.scrubber
            .scrub_slice_as(part, self.utf16)
            .unwrap_or_else(|| part.to_vec())
    }

    /// `cut`, or the start of a spelling of the key that crosses it: moved
    /// back until none does (spellings as 8-bit text and as UTF-16 may
    /// overlap).
    fn safe_cut(&self, mut cut: usize) -> usize {
        let needle = &self.scrubber.secret.exact;
        let held = &self.held[..];
        let mut found = needle.find(held);
        if self.utf16 || may_be_utf16(held, true) {
            for (order, offset) in [
                (Order::Le, 0),
                (Order::Be, 0),
                (Order::Le, 1),
                (Order::Be, 1),
            ] {
                found.extend(units_found(held, needle, order, offset));
            }
        }
        while let Some(crossing) = found.iter().find(|r| r.start < cut && cut < r.end) {
            cut = crossing.start;
        }
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrubber() -> Scrubber {
        Scrubber::new(b"key-12345678")
    }

    fn scrubbed(scrubber: &Scrubber, text: &str) -> String {
        scrubber.scrub_text(text).into_owned()
    }

    #[test]
    fn scrub_replaces_every_occurrence() {
        let text = Bytes::from_static(b"key-12345678 and key-12345678; key-1234567");
        assert_eq!(
            &scrubber().scrub_bytes(text)[..],
            b"<redacted> and <redacted>; key-1234567"
        );
    }

    #[test]
    fn clean_input_is_returned_uncopied() {
        let text = Bytes::from_static(b"nothing to see, not even 100% \\ clean");
        let pointer = text.as_ptr();
        assert_eq!(scrubber().scrub_bytes(text).as_ptr(), pointer);
        let text = "nothing \\u0041 %41 here";
        assert!(matches!(scrubber().scrub_text(text), Cow::Borrowed(t) if t == text));
        assert_eq!(scrubber().scrub_slice(b"short"), None);
    }

    #[test]
    fn the_scrubber_does_not_show_the_key() {
        assert_eq!(format!("{:?}", scrubber()), "Scrubber(<redacted>)");
    }

    #[test]
    fn scrub_finds_the_key_through_json_and_url_escapes() {
        let key = scrubber();
        let scrubbed = |text: &str| scrubbed(&key, text);
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
        assert_eq!(
            super::tests::scrubbed(&slashed, r#"{"k": "ab\/cd\/ef\/gh", "n": "\n"}"#),
            r#"{"k": "<redacted>", "n": "\n"}"#
        );
        // Escapes that decode to something else are left alone.
        assert_eq!(scrubbed(r#""key-1234567\u0039""#), r#""key-1234567\u0039""#);
    }

    #[test]
    fn a_key_holding_escape_characters_is_found_as_it_is_too() {
        let percent = Scrubber::new(b"ab%41cd\\nef");
        assert_eq!(
            scrubbed(&percent, r#"plain ab%41cd\nef, json "ab%41cd\\nef" \u0041"#),
            r#"plain <redacted>, json "<redacted>" \u0041"#
        );
    }

    #[test]
    fn a_partial_match_falls_back_to_the_longest_prefix_still_matched() {
        let repeating = Scrubber::new(b"abab1234abab");
        assert_eq!(
            scrubbed(&repeating, "ababab1234abab1234abab\\"),
            "ab<redacted>1234abab\\"
        );
    }

    /// The key `key/12345678` with its `/` through two or three layers,
    /// each a leak before layers were stacked.
    #[test]
    fn stacked_escapes_are_undone() {
        let slashed = Scrubber::new(b"key/12345678");
        for (stack, text) in [
            ("percent, then JSON", r#"key\u00252F12345678"#),
            ("percent, then JSON, upper case", r#"key\u00252f12345678"#),
            ("percent twice", "key%252F12345678"),
            ("JSON, then percent", "key%5Cu002F12345678"),
            ("short JSON, then percent", "key%5C%2F12345678"),
            ("short JSON, then JSON", r#"key\u005C/12345678"#),
            ("percent three times", "key%25252f12345678"),
            ("JSON, percent, JSON", r#"key\u00255Cu002F12345678"#),
            ("percent, percent, JSON", r#"key\u002525%32F12345678"#),
            (
                "every character percent-encoded twice",
                "%256B%2565%2579%252F%2531%2532%2533%2534%2535%2536%2537%2538",
            ),
            (
                "every character at its own depth",
                r#"%6Be\u0025%379\u005C/1%2532%334\u0035%25%33%36\u005cu00378"#,
            ),
        ] {
            assert_eq!(
                scrubbed(&slashed, &format!("[{text}]")),
                "[<redacted>]",
                "{stack}"
            );
        }
    }

    #[test]
    fn runs_of_escape_characters_hide_nothing() {
        // A key holding `\` and `%`, each written through three layers
        // (eight backslashes, `%252525`), between runs of backslashes and
        // of `%25`.
        let slashed = Scrubber::new(b"ab\\cd%1234");
        let key = r"ab\\\\\\\\cd%2525251234";
        let backslashes = "\\".repeat(301);
        let percents = "%25".repeat(301);
        for around in [&backslashes, &percents] {
            let text = format!("{around}{key}{around}");
            let clean = scrubbed(&slashed, &text);
            assert!(clean.contains("<redacted>"), "{text}");
            assert!(!clean.contains("ab\\cd"), "{clean}");
        }
    }

    #[test]
    fn four_layers_are_not_undone() {
        let slashed = Scrubber::new(b"key/12345678");
        let text = "key%2525252F12345678";
        assert_eq!(scrubbed(&slashed, text), text);
    }

    #[test]
    fn utf16_bodies_are_scrubbed_in_their_own_encoding() {
        let scrubber = scrubber();
        let text = r#"{"m": "key-12345678", "e": "k\u0065y-12345678", "x": "é"}"#;
        let clean = r#"{"m": "<redacted>", "e": "<redacted>", "x": "é"}"#;
        for order in [Order::Le, Order::Be] {
            for bom in [false, true] {
                let bom = if bom {
                    order.encode("\u{feff}")
                } else {
                    Vec::new()
                };
                let body = [bom.clone(), order.encode(text)].concat();
                let expected = [bom, order.encode(clean)].concat();
                let scrubbed = scrubber.scrub_bytes(Bytes::from(body));
                assert_eq!(&scrubbed[..], &expected[..], "{order:?}");
            }
        }
        // At an odd offset too (after a stray byte), in text with escapes,
        // which is searched for a NUL throughout.
        let body = [b"\x01".to_vec(), Order::Le.encode("[k\\u0065y-12345678]")].concat();
        let expected = [b"\x01".to_vec(), Order::Le.encode("[<redacted>]")].concat();
        assert_eq!(scrubber.scrub_slice(&body), Some(expected));
        // Clean text is taken for UTF-16 only by its first two bytes.
        assert!(may_be_utf16(b"\0[", false) && may_be_utf16(b"[\0", false));
        assert!(may_be_utf16(b"\xFF\xFE\x34\x12", false));
        assert!(!may_be_utf16(b"[ \0", false) && may_be_utf16(b"[ \0", true));
    }

    #[test]
    fn header_names_are_matched_in_any_case() {
        let scrubber = Scrubber::new(b"KEY/12345678");
        assert_eq!(
            scrubber
                .scrub_header_name("x-key%2f12345678-echo")
                .as_deref(),
            Some("x-redacted-echo")
        );
        assert_eq!(
            scrubber.scrub_header_name("x-key-12345678-echo"),
            None,
            "another key"
        );
    }

    /// `body` through a stream scrubber in chunks of `size`.
    fn streamed(scrubber: &Scrubber, body: &[u8], size: usize) -> Vec<u8> {
        let mut stream = StreamScrubber::new(scrubber.clone());
        let mut out: Vec<u8> = body.chunks(size).flat_map(|c| stream.push(c)).collect();
        out.extend(stream.finish());
        out
    }

    /// Keys, plain and escaped, spread over a body longer than a batch, so
    /// that cuts fall inside them: in chunks of any size, the stream gives
    /// what scrubbing the whole body gives.
    #[test]
    fn a_streamed_body_is_scrubbed_as_the_whole_one() {
        let scrubber = scrubber();
        let spellings = ["key-12345678", r"k\u0065y-12345678", "key%2D12345678"];
        let mut body = Vec::new();
        let mut n = 0;
        while body.len() < 3 * STREAM_BATCH {
            body.extend_from_slice(format!("{n},row,").as_bytes());
            body.extend_from_slice(spellings[n % 3].as_bytes());
            body.extend(std::iter::repeat_n(b'x', n % 997));
            n += 1;
        }
        let whole = scrubber.scrub_slice(&body).expect("keys");
        assert!(!String::from_utf8_lossy(&whole).contains("key-"));
        for size in [1, 7, 100, 4096, 65_536, 100_000] {
            assert!(
                streamed(&scrubber, &body, size) == whole,
                "chunks of {size}"
            );
        }
        // A UTF-16 body, told by its start only.
        let wide = Order::Le.encode(&String::from_utf8_lossy(&body));
        let clean = streamed(&scrubber, &wide, 4096);
        assert_eq!(clean, scrubber.scrub_slice(&wide).expect("keys"));
        assert!(format!("{:?}", StreamScrubber::new(scrubber)).contains("0 bytes"));
    }

    #[derive(Clone, Copy, Debug)]
    enum Layer {
        Percent { upper: bool },
        Json { upper: bool },
        Short,
    }

    fn encode(c: char, layer: Layer) -> String {
        let code = u32::from(c);
        match (layer, c) {
            (Layer::Percent { upper: true }, _) => format!("%{code:02X}"),
            (Layer::Percent { upper: false }, _) => format!("%{code:02x}"),
            (Layer::Short, '"' | '\\' | '/') => format!("\\{c}"),
            (Layer::Short, '\n') => "\\n".to_owned(),
            (Layer::Json { upper: true }, _) => format!("\\u{code:04X}"),
            (Layer::Json { upper: false } | Layer::Short, _) => format!("\\u{code:04x}"),
        }
    }

    /// Each character of `key` through its own stack of layers; each layer
    /// encodes the characters of what it is given that its mask picks.
    fn encoded(key: &str, stacks: &[Vec<(Layer, u64)>]) -> String {
        key.chars()
            .zip(stacks.iter().cycle())
            .map(|(c, stack)| {
                stack.iter().fold(c.to_string(), |text, &(layer, mask)| {
                    text.chars()
                        .enumerate()
                        .map(|(i, c)| {
                            if (mask >> (i % 64)) & 1 == 1 {
                                encode(c, layer)
                            } else {
                                c.to_string()
                            }
                        })
                        .collect()
                })
            })
            .collect()
    }

    fn layer() -> impl proptest::strategy::Strategy<Value = Layer> {
        use proptest::prelude::*;
        prop_oneof![
            any::<bool>().prop_map(|upper| Layer::Percent { upper }),
            any::<bool>().prop_map(|upper| Layer::Json { upper }),
            Just(Layer::Short),
        ]
    }

    proptest::proptest! {
        /// On text without escapes, the search through escapes finds what
        /// the plain one does: a small alphabet makes partial matches and
        /// overlaps common.
        #[test]
        fn the_escaped_search_agrees_with_the_plain_one(
            key in "[ab1]{8,12}",
            text in "[ab1 ]{0,200}",
        ) {
            let needle = Needle::new(key.clone().into_bytes(), false);
            proptest::prop_assert_eq!(
                needle.find_escaped(text.as_bytes()),
                needle.find_plain(text.as_bytes())
            );
        }

        /// A key of printable ASCII never survives, whatever stack of up to
        /// three layers each of its characters went through, as 8-bit text
        /// or as UTF-16.
        #[test]
        fn the_key_never_survives_stacked_escapes(
            key in "[ -~]{8,40}",
            stacks in proptest::collection::vec(
                proptest::collection::vec((layer(), proptest::prelude::any::<u64>()), 0..=3),
                40,
            ),
        ) {
            let scrubber = Scrubber::new(key.as_bytes());
            let text = format!("é{}é", encoded(&key, &stacks));
            let clean = scrubber.scrub_text(&text);
            proptest::prop_assert!(!clean.contains(&key), "{text} -> {clean}");
            proptest::prop_assert_eq!(&clean, "é<redacted>é", "from {}", text);
            let bytes = scrubber.scrub_bytes(Bytes::from(text.clone().into_bytes()));
            proptest::prop_assert_eq!(&bytes[..], "é<redacted>é".as_bytes());
            for order in [Order::Le, Order::Be] {
                let body = Bytes::from(order.encode(&format!("\u{feff}{text}")));
                let clean = scrubber.scrub_bytes(body);
                proptest::prop_assert_eq!(
                    &clean[..],
                    &order.encode("\u{feff}é<redacted>é")[..],
                    "{:?} from {}", order, text
                );
            }
        }
    }
}
