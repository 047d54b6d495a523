//! Bounds the requests a client has in flight, so that a burst of calls
//! opens a bounded number of connections instead of one per call.
//!
//! A request holds a permit from the moment it is sent until its response
//! body has been read or dropped: only then is its connection free for the
//! next request. Releasing the permit when the headers arrive would let the
//! next request open a new connection while the body still occupies the old.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http_body::{Body, Frame, SizeHint};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Waits for a permit. The semaphore is never closed, so this only waits.
pub(crate) async fn acquire(limit: &Arc<Semaphore>) -> Option<OwnedSemaphorePermit> {
    limit.clone().acquire_owned().await.ok()
}

/// `response`, with `permit` held until its body is done with.
pub(crate) fn hold_until_body_read(
    response: reqwest::Response,
    permit: OwnedSemaphorePermit,
) -> reqwest::Response {
    use reqwest::ResponseBuilderExt;

    let url = response.url().clone();
    let (parts, body) = http::Response::<reqwest::Body>::from(response).into_parts();
    let mut builder = http::Response::builder()
        .status(parts.status)
        .version(parts.version)
        .url(url);
    if let Some(headers) = builder.headers_mut() {
        *headers = parts.headers;
    }
    if let Some(extensions) = builder.extensions_mut() {
        extensions.extend(parts.extensions);
    }
    let body = reqwest::Body::wrap(Permitted {
        inner: body,
        _permit: permit,
    });
    match builder.body(body) {
        Ok(rebuilt) => reqwest::Response::from(rebuilt),
        // Status, version and headers came from a valid response.
        Err(_) => unreachable!("rebuilding a valid response cannot fail"),
    }
}

/// A body that keeps a permit alive as long as it exists.
struct Permitted<B> {
    inner: B,
    _permit: OwnedSemaphorePermit,
}

impl<B: Body + Unpin> Body for Permitted<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
