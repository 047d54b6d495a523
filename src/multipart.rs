//! The body of an upload: `multipart/form-data` parts the caller names,
//! encoded by reqwest's own multipart support. Upstream describes these
//! bodies with a server framework's internal type that says nothing of
//! the parts, so the generated method takes a [`Multipart`] instead.

use std::fmt;
use std::pin::Pin;

use bytes::Bytes;
use futures_core::Stream;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use reqwest::multipart::{Form, Part as FormPart};
use reqwest::{Body, Request, RequestBuilder};

/// The parts of an upload's `multipart/form-data` body: files and text
/// fields, each under the name the operation expects (`file`, `request`,
/// ...).
///
/// ```
/// # use rhombus_partner::Multipart;
/// let parts = Multipart::new()
///     .file("file", "floor-2.png", "image/png", vec![0x89, b'P', b'N', b'G'])
///     .text("request", r#"{"locationUuid":"..."}"#);
/// assert!(parts.is_replayable());
/// ```
///
/// **Retries.** Parts made of text and bytes are encoded once and sent
/// again as they are, so an upload built from them is retried like any
/// other state-changing call (after a `429`, or when no connection could
/// be opened). A [`file_stream`](Multipart::file_stream) part cannot be
/// read twice: an upload holding one is sent once, whatever the retry
/// policy.
#[derive(Default)]
pub struct Multipart {
    parts: Vec<Part>,
}

/// One named part.
struct Part {
    name: String,
    kind: Kind,
}

enum Kind {
    Text(String),
    File {
        file_name: String,
        content_type: String,
        bytes: Bytes,
    },
    Stream {
        file_name: String,
        content_type: String,
        body: Body,
        /// The stream's length, if the caller gave it.
        length: Option<u64>,
    },
}

impl fmt::Debug for Multipart {
    // Names and sizes, not contents.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for part in &self.parts {
            match &part.kind {
                Kind::Text(value) => list.entry(&(&part.name, "text", value.len())),
                Kind::File {
                    file_name, bytes, ..
                } => list.entry(&(&part.name, file_name, bytes.len())),
                Kind::Stream { file_name, .. } => list.entry(&(&part.name, file_name, "stream")),
            };
        }
        list.finish()
    }
}

impl Multipart {
    /// No parts yet.
    pub fn new() -> Self {
        Multipart::default()
    }

    /// Adds a text field.
    pub fn text(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let kind = Kind::Text(value.into());
        self.parts.push(Part {
            name: name.into(),
            kind,
        });
        self
    }

    /// Adds a file held in memory, with its file name and media type
    /// (`image/png`); a media type that does not parse fails the call with
    /// `Error::InvalidRequest`, before anything is sent.
    pub fn file(
        mut self,
        name: impl Into<String>,
        file_name: impl Into<String>,
        content_type: impl Into<String>,
        bytes: impl Into<Bytes>,
    ) -> Self {
        let kind = Kind::File {
            file_name: file_name.into(),
            content_type: content_type.into(),
            bytes: bytes.into(),
        };
        self.parts.push(Part {
            name: name.into(),
            kind,
        });
        self
    }

    /// Adds a file read from `stream` as it is sent (a large file, without
    /// holding it in memory). An upload with such a part is sent once,
    /// never retried: the stream cannot be read again. Its length is not
    /// known, so the body goes without `Content-Length` (chunked); give it
    /// with [`file_stream_with_length`](Multipart::file_stream_with_length)
    /// when the server asks for one.
    pub fn file_stream<S>(
        self,
        name: impl Into<String>,
        file_name: impl Into<String>,
        content_type: impl Into<String>,
        stream: S,
    ) -> Self
    where
        S: Stream<Item = Result<Bytes, std::io::Error>> + Send + Sync + 'static,
    {
        self.streamed(
            name.into(),
            file_name.into(),
            content_type.into(),
            stream,
            None,
        )
    }

    /// [`file_stream`](Multipart::file_stream) of a stream of exactly
    /// `length` bytes (a file's size): the body then goes with its
    /// `Content-Length` when no other part is a stream of unknown length.
    /// A stream that ends short of `length` or goes past it fails the call
    /// with `Error::Transport`.
    pub fn file_stream_with_length<S>(
        self,
        name: impl Into<String>,
        file_name: impl Into<String>,
        content_type: impl Into<String>,
        length: u64,
        stream: S,
    ) -> Self
    where
        S: Stream<Item = Result<Bytes, std::io::Error>> + Send + Sync + 'static,
    {
        let (name, file_name, content_type) = (name.into(), file_name.into(), content_type.into());
        self.streamed(name, file_name, content_type, stream, Some(length))
    }

    fn streamed<S>(
        mut self,
        name: String,
        file_name: String,
        content_type: String,
        stream: S,
        length: Option<u64>,
    ) -> Self
    where
        S: Stream<Item = Result<Bytes, std::io::Error>> + Send + Sync + 'static,
    {
        let kind = Kind::Stream {
            file_name,
            content_type,
            body: Body::wrap_stream(stream),
            length,
        };
        self.parts.push(Part { name, kind });
        self
    }

    /// Whether an upload of these parts may be sent again (no part is a
    /// stream).
    pub fn is_replayable(&self) -> bool {
        !self
            .parts
            .iter()
            .any(|part| matches!(part.kind, Kind::Stream { .. }))
    }

    /// reqwest's form of the parts.
    fn into_form(self) -> Result<Form, String> {
        let mut form = Form::new();
        for Part { name, kind } in self.parts {
            let (file_name, content_type, part) = match kind {
                Kind::Text(value) => {
                    form = form.text(name, value);
                    continue;
                }
                Kind::File {
                    file_name,
                    content_type,
                    bytes,
                } => {
                    let length = bytes.len() as u64;
                    let part = FormPart::stream_with_length(Body::from(bytes), length);
                    (file_name, content_type, part)
                }
                Kind::Stream {
                    file_name,
                    content_type,
                    body,
                    length,
                } => {
                    let part = match length {
                        Some(length) => FormPart::stream_with_length(body, length),
                        None => FormPart::stream(body),
                    };
                    (file_name, content_type, part)
                }
            };
            let part = part
                .file_name(file_name)
                .mime_str(&content_type)
                .map_err(|_| format!("part `{name}`: `{content_type}` is not a media type"))?;
            form = form.part(name, part);
        }
        Ok(form)
    }
}

/// The request a generated upload method built, or why it could not.
type Built = Result<Request, progenitor_client::Error<()>>;

/// `request` (of `client`) with `parts` as its `multipart/form-data` body.
/// Parts that can be read again are encoded here, once, so that the
/// request can be copied for a retry; a stream part makes a body that is
/// sent once, which reqwest gives its `Content-Length` when every part's
/// length is known.
#[doc(hidden)]
pub async fn with_parts(client: &reqwest::Client, request: Built, parts: Multipart) -> Built {
    use progenitor_client::Error as Building;
    let mut request = request?;
    let replayable = parts.is_replayable();
    let form = parts.into_form().map_err(Building::InvalidRequest)?;
    if !replayable {
        return RequestBuilder::from_parts(client.clone(), request)
            .multipart(form)
            .build()
            .map_err(Building::CommunicationError);
    }
    let content_type = format!("multipart/form-data; boundary={}", form.boundary());
    let content_type = HeaderValue::from_str(&content_type)
        .map_err(|_| Building::InvalidRequest("a multipart boundary".to_owned()))?;
    let body = Body::from(encoded(form).await.map_err(Building::CommunicationError)?);
    request.headers_mut().insert(CONTENT_TYPE, content_type);
    *request.body_mut() = Some(body);
    Ok(request)
}

/// The whole encoding of a form whose parts are all in memory.
async fn encoded(form: Form) -> Result<Bytes, reqwest::Error> {
    let mut stream = std::pin::pin!(form.into_stream());
    let mut body = Vec::new();
    while let Some(chunk) = std::future::poll_fn(|cx| Pin::as_mut(&mut stream).poll_next(cx)).await
    {
        body.extend_from_slice(&chunk?);
    }
    Ok(Bytes::from(body))
}
