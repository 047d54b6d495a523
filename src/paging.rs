//! Paged operations as streams: the state machine every generated
//! `*_pages` and `*_items` method shares, so that the generated code only
//! says how its operation is called and where its cursor sits.
//!
//! A stream reads one page at a time, when polled. It ends after the last
//! page (an empty page, no cursor, or, for a cursor read off the last item,
//! a page shorter than the request asked for), after [`Pages::max_pages`]
//! pages with the next one announced ([`Error::TooManyPages`]), on a cursor
//! that does not move ([`Error::CursorStuck`]) or on a failed call: the
//! error is the stream's last item, after every page read before it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_core::Stream;

use crate::error::Error;

/// How many pages a stream reads at most unless told otherwise
/// ([`Pages::max_pages`]): enough for any listing the API pages, few enough
/// that a server repeating itself is stopped within minutes.
pub const DEFAULT_MAX_PAGES: usize = 1_000;

/// One page's call, boxed: the streams are then one nameable type per
/// operation, and a box per page costs nothing beside a request.
type PageFuture<'a, Resp> = Pin<Box<dyn Future<Output = Result<Resp, Error>> + Send + 'a>>;

type Fetch<'a, Req, Resp> = Box<dyn Fn(Req) -> PageFuture<'a, Resp> + Send + Sync + 'a>;

/// What an answer says about the page after it (generated code computes
/// it with [`carried_cursor`] or [`last_item_cursor`]).
#[doc(hidden)]
#[derive(Debug, PartialEq, Eq)]
pub enum Step<Req> {
    /// This page was the last.
    Last,
    /// The request for the next page.
    Next(Req),
    /// The cursor did not move.
    Stuck,
}

/// The pages of a paged operation, as a [`Stream`] of its answers; made by
/// the generated `*_pages` methods. Nothing is sent before it is polled.
#[must_use = "a stream reads nothing until it is polled"]
pub struct Pages<'a, Req, Resp> {
    operation: &'static str,
    fetch: Fetch<'a, Req, Resp>,
    step: fn(&Req, &Resp) -> Step<Req>,
    /// The request for the next page; `None` once the stream has ended.
    next: Option<Req>,
    /// The page being read, with the request it was asked with.
    reading: Option<(PageFuture<'a, Resp>, Req)>,
    read: usize,
    max_pages: usize,
}

impl<'a, Req, Resp> Pages<'a, Req, Resp> {
    /// Reads at most `limit` pages (default [`DEFAULT_MAX_PAGES`]): a
    /// further page announced by the last one read ends the stream with
    /// [`Error::TooManyPages`]. 0 reads nothing and says so.
    pub fn max_pages(mut self, limit: usize) -> Self {
        self.max_pages = limit;
        self
    }

    /// The items of each page, one by one, instead of the pages.
    #[doc(hidden)]
    pub fn items<T>(self, items_of: fn(Resp) -> Vec<T>) -> Items<'a, Req, Resp, T> {
        Items {
            pages: self,
            items_of,
            buffered: Vec::new().into_iter(),
        }
    }

    /// What the answer to `request` means for the stream: the page, or the
    /// error that ends it.
    fn follow(&mut self, request: &Req, answer: Result<Resp, Error>) -> Result<Resp, Error> {
        let page = answer?;
        self.read += 1;
        match (self.step)(request, &page) {
            Step::Last => {}
            Step::Next(next) => self.next = Some(next),
            Step::Stuck => {
                return Err(Error::CursorStuck {
                    operation: self.operation,
                    page: self.read,
                });
            }
        }
        Ok(page)
    }
}

impl<Req: Clone + Unpin, Resp> Stream for Pages<'_, Req, Resp> {
    type Item = Result<Resp, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.reading.is_none() {
            // `next` is taken here, so that whatever this page brings, the
            // stream ends unless its answer names a next page.
            let Some(request) = this.next.take() else {
                return Poll::Ready(None);
            };
            if this.read >= this.max_pages {
                return Poll::Ready(Some(Err(Error::TooManyPages {
                    operation: this.operation,
                    limit: this.max_pages,
                })));
            }
            this.reading = Some(((this.fetch)(request.clone()), request));
        }
        let (future, _) = this.reading.as_mut().expect("a page is being read");
        let answer = ready!(future.as_mut().poll(cx));
        let (_, request) = this.reading.take().expect("a page is being read");
        Poll::Ready(Some(this.follow(&request, answer)))
    }
}

/// The items of a paged operation's pages, one by one, as a [`Stream`];
/// made by the generated `*_items` methods.
#[must_use = "a stream reads nothing until it is polled"]
pub struct Items<'a, Req, Resp, T> {
    pages: Pages<'a, Req, Resp>,
    items_of: fn(Resp) -> Vec<T>,
    buffered: std::vec::IntoIter<T>,
}

impl<Req, Resp, T> Items<'_, Req, Resp, T> {
    /// Reads at most `limit` pages; see [`Pages::max_pages`].
    pub fn max_pages(mut self, limit: usize) -> Self {
        self.pages = self.pages.max_pages(limit);
        self
    }
}

impl<Req: Clone + Unpin, Resp, T: Unpin> Stream for Items<'_, Req, Resp, T> {
    type Item = Result<T, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.buffered.next() {
                return Poll::Ready(Some(Ok(item)));
            }
            match ready!(Pin::new(&mut this.pages).poll_next(cx)) {
                Some(Ok(page)) => this.buffered = (this.items_of)(page).into_iter(),
                Some(Err(error)) => return Poll::Ready(Some(Err(error))),
                None => return Poll::Ready(None),
            }
        }
    }
}

/// The stream of `operation`'s pages from `request` on: `fetch` makes one
/// call, `step` reads the cursor off its answer.
pub fn pages<'a, Req, Resp, F, Fut>(
    operation: &'static str,
    request: Req,
    fetch: F,
    step: fn(&Req, &Resp) -> Step<Req>,
) -> Pages<'a, Req, Resp>
where
    F: Fn(Req) -> Fut + Send + Sync + 'a,
    Fut: Future<Output = Result<Resp, Error>> + Send + 'a,
{
    Pages {
        operation,
        fetch: Box::new(move |request| Box::pin(fetch(request))),
        step,
        next: Some(request),
        reading: None,
        read: 0,
        max_pages: DEFAULT_MAX_PAGES,
    }
}

/// A cursor value; a blank one (an empty token) means no further page.
pub trait CursorValue: Clone + PartialEq {
    /// Whether this value names no page.
    fn is_blank(&self) -> bool {
        false
    }
}

impl CursorValue for String {
    fn is_blank(&self) -> bool {
        self.is_empty()
    }
}
impl CursorValue for i64 {}
impl CursorValue for i32 {}

/// The step for a cursor the answer carries in a field of its own
/// (`lastEvaluatedKey`, `pageToken`): `answered` goes into the next request
/// through `set`. An empty page, or no cursor, is the last; the cursor the
/// request `sent` again is stuck.
pub fn carried_cursor<Req: Clone, C: CursorValue>(
    request: &Req,
    sent: Option<&C>,
    answered: Option<&C>,
    items: Option<usize>,
    set: fn(&mut Req, C),
) -> Step<Req> {
    let Some(next) = answered.filter(|cursor| !cursor.is_blank()) else {
        return Step::Last;
    };
    if items == Some(0) {
        return Step::Last;
    }
    if sent == Some(next) {
        return Step::Stuck;
    }
    let mut request = request.clone();
    set(&mut request, next.clone());
    Step::Next(request)
}

/// The step for a cursor read off the page's last item (`lastTimestampMs`
/// and `lastUuid` from the last alert's `timestampMs` and `uuid`): the
/// answer says nothing else about further pages, so a page shorter than
/// the request's `page_size` (or empty) is the last. A full page whose last
/// item has no key (`last_key` `None`), or the key `sent`, is stuck.
pub fn last_item_cursor<Req: Clone, C: PartialEq>(
    request: &Req,
    sent: Option<C>,
    items: usize,
    page_size: Option<i64>,
    last_key: Option<C>,
    set: fn(&mut Req, C),
) -> Step<Req> {
    let short = page_size.is_some_and(|size| i64::try_from(items).is_ok_and(|n| n < size));
    if items == 0 || short {
        return Step::Last;
    }
    match last_key {
        Some(key) if sent.as_ref() != Some(&key) => {
            let mut request = request.clone();
            set(&mut request, key);
            Step::Next(request)
        }
        _ => Step::Stuck,
    }
}

/// An answer's list of items, whether the spec makes it optional or not.
pub trait ItemList {
    /// One item.
    type Item;
    /// The items, borrowed.
    fn as_items(&self) -> &[Self::Item];
    /// The items, taken.
    fn into_items(self) -> Vec<Self::Item>;
}

impl<T> ItemList for Vec<T> {
    type Item = T;
    fn as_items(&self) -> &[T] {
        self
    }
    fn into_items(self) -> Vec<T> {
        self
    }
}

impl<T> ItemList for Option<Vec<T>> {
    type Item = T;
    fn as_items(&self) -> &[T] {
        self.as_deref().unwrap_or_default()
    }
    fn into_items(self) -> Vec<T> {
        self.unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(request: &mut Option<String>, cursor: String) {
        *request = Some(cursor);
    }

    fn key(text: &str) -> String {
        text.to_owned()
    }

    #[test]
    fn a_carried_cursor_moves_ends_or_sticks() {
        let sent = Some(key("a"));
        let step = |answered: Option<&str>, items| {
            carried_cursor(&sent, sent.as_ref(), answered.map(key).as_ref(), items, set)
        };
        assert_eq!(step(Some("b"), Some(3)), Step::Next(Some(key("b"))));
        assert_eq!(step(Some("b"), None), Step::Next(Some(key("b"))));
        assert_eq!(step(None, Some(3)), Step::Last);
        assert_eq!(step(Some(""), Some(3)), Step::Last);
        assert_eq!(step(Some("b"), Some(0)), Step::Last);
        assert_eq!(step(Some("a"), Some(3)), Step::Stuck);
    }

    #[test]
    fn a_last_item_cursor_ends_on_a_short_page_and_sticks_without_a_new_key() {
        let sent = Some(key("a"));
        let step = |items, last: Option<&str>| {
            last_item_cursor(&sent, sent.clone(), items, Some(2), last.map(key), set)
        };
        assert_eq!(step(2, Some("b")), Step::Next(Some(key("b"))));
        assert_eq!(step(1, Some("b")), Step::Last);
        assert_eq!(step(0, None), Step::Last);
        assert_eq!(step(2, Some("a")), Step::Stuck);
        assert_eq!(step(2, None), Step::Stuck);
        let unsized_page = last_item_cursor(&sent, None, 1, None, Some(key("b")), set);
        assert_eq!(unsized_page, Step::Next(Some(key("b"))));
    }
}
