//! A download: the answer of an operation whose body is not JSON (a CSV
//! export, a zip archive). The call hands it over once a success answer's
//! head came, so retries happen only before that; the body is then the
//! caller's to read whole within the client's limit ([`Download::bytes`])
//! or to stream with bounded memory ([`Download::write_to`],
//! [`Download::chunk`]).
//!
//! Either way the API key never reaches the caller: the whole body is
//! scrubbed as every answer is (`response.rs`), a streamed one chunk by
//! chunk with the key's longest spelling held back between chunks
//! (`scrub.rs`'s `StreamScrubber`), so a key split across chunks is
//! scrubbed whole.

use std::fmt;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::classify::{Class, conclude, transport_kind};
use crate::error::{BodyTooLarge, Error};
use crate::response::{Answer, ReadLimits, Scrubber, Unread, read_bounded};
use crate::scrub::StreamScrubber;

/// The body of an export (CSV, zip), still to be read: returned by every
/// operation whose success answer is not JSON.
///
/// Read it whole with [`bytes`](Download::bytes) (within the client's
/// body limit, `ClientBuilder::max_response_bytes`) or stream it into a
/// file or any [`AsyncWrite`] with [`write_to`](Download::write_to), in
/// bounded memory whatever its size. The call was retried (as the retry
/// policy allows) only until this value was made: a body that breaks off
/// while it is read is an error of the read, not retried, since part of it
/// may already be written. The client's timeout and the call's deadline
/// bound the whole transfer, so give a large export a long enough
/// `ClientBuilder::timeout`.
///
/// An export answered in JSON is the API's envelope, not the export: the
/// call reads it whole and checks it, so one saying `"error": true` is
/// [`Error::Api`] and never a download; any other JSON body is handed over
/// as it came.
///
/// Until its body is read to the end or it is dropped, a download holds one
/// of the client's in-flight request slots.
pub struct Download {
    operation: &'static str,
    attempts: u32,
    status: StatusCode,
    headers: HeaderMap,
    /// The body still to come; `None` once it ended.
    body: Option<Unread>,
    /// A body read whole by the call (a JSON answer, checked for the API's
    /// `"error": true`), until it is handed over.
    read: Option<Bytes>,
    max_body: usize,
    scrubber: Option<Scrubber>,
    /// Made by the first [`Download::chunk`].
    streaming: Option<StreamScrubber>,
}

impl fmt::Debug for Download {
    // Neither the body nor what is held of it: it is not scrubbed yet.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Download")
            .field("operation", &self.operation)
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("finished", &(self.body.is_none() && self.read.is_none()))
            .finish_non_exhaustive()
    }
}

impl Download {
    /// A download of `answer` (a success whose body was left unread), read
    /// under the client's `max_body` and `scrubber`.
    pub(crate) fn new(
        operation: &'static str,
        attempts: u32,
        answer: Answer,
        max_body: usize,
        scrubber: Option<Scrubber>,
    ) -> Self {
        Download {
            operation,
            attempts,
            status: answer.status,
            headers: answer.headers,
            read: answer.unread.is_none().then_some(answer.body),
            body: answer.unread.map(|unread| *unread),
            max_body,
            scrubber,
            streaming: None,
        }
    }

    /// The answer's status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The answer's headers (scrubbed of the key).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The `Content-Type` the server sent (`text/csv; charset=UTF-8`,
    /// `application/zip`), if any.
    pub fn content_type(&self) -> Option<&str> {
        self.headers.get(CONTENT_TYPE)?.to_str().ok()
    }

    /// The length the server announced, if it did; what is handed over
    /// differs by the key's spellings scrubbed from it, if any. Of a JSON
    /// answer, read whole by the call, the length read.
    pub fn content_length(&self) -> Option<u64> {
        match (&self.body, &self.read) {
            (Some(unread), _) => unread.response.content_length(),
            (None, read) => read.as_ref().map(|read| read.len() as u64),
        }
    }

    /// The whole body, at most the client's body limit: past it, the read
    /// stops with [`Error::BodyTooLarge`].
    pub async fn bytes(mut self) -> Result<Bytes, Error> {
        if self.streaming.is_some() {
            return self.rest_within_limit().await;
        }
        let Some(Unread { response, slot }) = self.body.take() else {
            return Ok(self.read.take().unwrap_or_default());
        };
        let limits = ReadLimits {
            max_body: self.max_body,
            scrubber: self.scrubber.as_ref(),
            unread_success: false,
        };
        let outcome = read_bounded(response, limits).await;
        drop(slot);
        let answer = conclude(self.operation, outcome, Class::Success, self.attempts)?;
        Ok(answer.body)
    }

    /// What [`Download::chunk`] has left, within the limit.
    async fn rest_within_limit(mut self) -> Result<Bytes, Error> {
        let mut body = Vec::new();
        while let Some(chunk) = self.chunk().await? {
            if body.len() + chunk.len() > self.max_body {
                let too_large =
                    BodyTooLarge::new(self.status, self.max_body, body.len() + chunk.len(), None);
                return Err(Error::BodyTooLarge {
                    operation: self.operation,
                    attempts: self.attempts,
                    too_large,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(body))
    }

    /// The next part of the body, scrubbed, or `None` at its end. Parts
    /// come as the scrubbing can let them go, not as the server sent them.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Error> {
        if let Some(read) = self.read.take().filter(|read| !read.is_empty()) {
            return Ok(Some(read));
        }
        loop {
            let Some(unread) = &mut self.body else {
                return Ok(None);
            };
            let next = unread
                .response
                .chunk()
                .await
                .map_err(|source| Error::Transport {
                    operation: self.operation,
                    kind: transport_kind(&source),
                    attempts: self.attempts,
                    source,
                })?;
            let clean = match (next, &self.scrubber) {
                (next, None) => {
                    if next.is_none() {
                        self.body = None;
                    }
                    return Ok(next);
                }
                (Some(chunk), Some(scrubber)) => {
                    streamer(&mut self.streaming, scrubber).push(&chunk)
                }
                (None, Some(scrubber)) => {
                    // The end: the connection and the slot are free.
                    self.body = None;
                    streamer(&mut self.streaming, scrubber).finish()
                }
            };
            if !clean.is_empty() {
                return Ok(Some(Bytes::from(clean)));
            }
        }
    }

    /// Streams the body into `writer`, scrubbed, in bounded memory (a
    /// chunk and the key's longest spelling held back), then flushes it;
    /// returns how many bytes were written. A failing writer ends it with
    /// [`Error::Write`].
    pub async fn write_to<W>(mut self, writer: &mut W) -> Result<u64, Error>
    where
        W: AsyncWrite + Unpin + ?Sized,
    {
        let mut written = 0u64;
        let operation = self.operation;
        let failed = |written, source| Error::Write {
            operation,
            written,
            source,
        };
        while let Some(chunk) = self.chunk().await? {
            writer
                .write_all(&chunk)
                .await
                .map_err(|source| failed(written, source))?;
            written += chunk.len() as u64;
        }
        writer
            .flush()
            .await
            .map_err(|source| failed(written, source))?;
        Ok(written)
    }
}

/// The stream scrubber of a download, made on its first chunk.
fn streamer<'s>(
    streaming: &'s mut Option<StreamScrubber>,
    scrubber: &Scrubber,
) -> &'s mut StreamScrubber {
    streaming.get_or_insert_with(|| StreamScrubber::new(scrubber.clone()))
}
