//! A raw HTTP/1.1 server on loopback that can misbehave in ways a mock
//! server cannot: reset connections, stall, send invalid UTF-8, or stream a
//! body far larger than anyone should read. It counts connections, requests
//! and the bytes it managed to send.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub at: Instant,
    pub path: String,
    pub head: String,
    pub body: Vec<u8>,
}

/// What to do with a request.
pub enum Action {
    /// Send these bytes as the whole response (status line included).
    Raw(Vec<u8>),
    /// Close the connection with a TCP reset, before any response.
    Reset,
    /// Wait, then send.
    Delay(Duration, Vec<u8>),
    /// Send this status with a `Content-Length` of `total` bytes of `x`,
    /// streamed in 64 KiB chunks until the client goes away.
    Huge { status: u16, total: u64 },
    /// Send this status with a chunked body of `x` that never ends, until
    /// the client goes away.
    Endless { status: u16 },
    /// Send `200` with a chunked `text/csv` body of `total` bytes, made up
    /// as it goes (rows of a generated CSV, no file), in 64 KiB chunks.
    HugeCsv { total: u64 },
    /// Send the first bytes, then nothing for this long, then the rest.
    Stall(Vec<u8>, Duration, Vec<u8>),
    /// Send these bytes (a head promising more body than they hold), then
    /// end the connection: with a TCP reset, or cleanly (FIN).
    Cut(Vec<u8>, Ending),
}

/// How [`Action::Cut`] ends the connection.
#[derive(Clone, Copy, Debug)]
pub enum Ending {
    Reset,
    Close,
}

/// A response with a status, extra headers and a body.
pub fn response(status: u16, headers: &[(&str, &str)], body: impl AsRef<[u8]>) -> Vec<u8> {
    let body = body.as_ref();
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A JSON response.
pub fn json(status: u16, body: &str) -> Vec<u8> {
    response(status, &[("content-type", "application/json")], body)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}

type Handler = dyn Fn(usize, &Seen) -> Action + Send + Sync;

/// The server; it stops when dropped.
pub struct Server {
    pub url: String,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct State {
    seen: Mutex<Vec<Seen>>,
    connections: AtomicUsize,
    open: AtomicUsize,
    max_open: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    bytes_sent: AtomicUsize,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// Answers request number `n` (from 0) with `handler(n, request)`.
    pub async fn start(handler: impl Fn(usize, &Seen) -> Action + Send + Sync + 'static) -> Server {
        Server::start_on("127.0.0.1", handler).await
    }

    /// [`Server::start`] on another loopback address, e.g. `127.0.0.2`
    /// standing for another host.
    pub async fn start_on(
        ip: &str,
        handler: impl Fn(usize, &Seen) -> Action + Send + Sync + 'static,
    ) -> Server {
        let listener = TcpListener::bind((ip, 0)).await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let state = Arc::new(State::default());
        let handler: Arc<Handler> = Arc::new(handler);
        let accept_state = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                accept_state.connections.fetch_add(1, Ordering::SeqCst);
                let open = accept_state.open.fetch_add(1, Ordering::SeqCst) + 1;
                accept_state.max_open.fetch_max(open, Ordering::SeqCst);
                let state = accept_state.clone();
                let handler = handler.clone();
                tokio::spawn(async move {
                    serve(stream, &state, &*handler).await;
                    state.open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Server { url, state, task }
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().expect("lock").clone()
    }

    pub fn requests(&self) -> usize {
        self.state.seen.lock().expect("lock").len()
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// The most connections open at once.
    pub fn max_open_connections(&self) -> usize {
        self.state.max_open.load(Ordering::SeqCst)
    }

    /// The most requests in flight at once: read, and not yet answered.
    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// Body bytes the server managed to write for `Action::Huge` and
    /// `Action::Endless`.
    pub fn huge_bytes_sent(&self) -> usize {
        self.state.bytes_sent.load(Ordering::SeqCst)
    }
}

async fn serve(mut stream: TcpStream, state: &State, handler: &Handler) {
    let mut buffer = Vec::new();
    loop {
        let Some(seen) = read_request(&mut stream, &mut buffer).await else {
            return;
        };
        let index = {
            let mut all = state.seen.lock().expect("lock");
            all.push(seen.clone());
            all.len() - 1
        };
        let in_flight = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.max_in_flight.fetch_max(in_flight, Ordering::SeqCst);
        // Counted until the answer is written (or the connection given up).
        let answered = act(&mut stream, state, handler(index, &seen)).await;
        state.in_flight.fetch_sub(1, Ordering::SeqCst);
        if !answered {
            return;
        }
    }
}

/// Carries out `action` on `stream`; whether the connection can serve
/// another request.
async fn act(stream: &mut TcpStream, state: &State, action: Action) -> bool {
    match action {
        Action::Raw(bytes) => stream.write_all(&bytes).await.is_ok(),
        Action::Delay(wait, bytes) => {
            tokio::time::sleep(wait).await;
            stream.write_all(&bytes).await.is_ok()
        }
        Action::Reset => {
            let _ = stream.set_zero_linger();
            false
        }
        Action::Huge { status, total } => {
            let head = format!(
                "HTTP/1.1 {status} {}\r\ncontent-type: text/plain\r\ncontent-length: {total}\r\n\r\n",
                reason(status)
            );
            if stream.write_all(head.as_bytes()).await.is_err() {
                return false;
            }
            let chunk = vec![b'x'; 64 * 1024];
            let mut left = total;
            while left > 0 {
                let n = chunk.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                if stream.write_all(&chunk[..n]).await.is_err() {
                    return false;
                }
                state.bytes_sent.fetch_add(n, Ordering::SeqCst);
                left -= n as u64;
            }
            true
        }
        Action::Endless { status } => {
            let head = format!(
                "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
                reason(status)
            );
            if stream.write_all(head.as_bytes()).await.is_err() {
                return false;
            }
            let mut chunk = format!("{:x}\r\n", 64 * 1024).into_bytes();
            chunk.extend(std::iter::repeat_n(b'x', 64 * 1024));
            chunk.extend_from_slice(b"\r\n");
            loop {
                if stream.write_all(&chunk).await.is_err() {
                    return false;
                }
                state.bytes_sent.fetch_add(64 * 1024, Ordering::SeqCst);
            }
        }
        Action::Cut(first, ending) => {
            let _ = stream.write_all(&first).await;
            let _ = stream.flush().await;
            // Time for the client to read what came, so the connection
            // ends while it waits for the rest of the body.
            tokio::time::sleep(Duration::from_millis(100)).await;
            match ending {
                Ending::Reset => {
                    let _ = stream.set_zero_linger();
                }
                Ending::Close => {
                    let _ = stream.shutdown().await;
                }
            }
            false
        }
        Action::HugeCsv { total } => huge_csv(stream, state, total).await,
        Action::Stall(first, wait, rest) => {
            if stream.write_all(&first).await.is_err() {
                return false;
            }
            tokio::time::sleep(wait).await;
            stream.write_all(&rest).await.is_ok()
        }
    }
}

/// [`Action::HugeCsv`]: `total` bytes of CSV rows, chunked.
async fn huge_csv(stream: &mut TcpStream, state: &State, total: u64) -> bool {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/csv; charset=UTF-8\r\ntransfer-encoding: chunked\r\n\r\n";
    if stream.write_all(head.as_bytes()).await.is_err() {
        return false;
    }
    let rows: Vec<u8> = (0..)
        .flat_map(|i: u32| format!("{i},camera-{i},online,42.5\n").into_bytes())
        .take(64 * 1024)
        .collect();
    let mut left = total;
    while left > 0 {
        let n = rows.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let chunk = [format!("{n:x}\r\n").as_bytes(), &rows[..n], b"\r\n"].concat();
        if stream.write_all(&chunk).await.is_err() {
            return false;
        }
        state.bytes_sent.fetch_add(n, Ordering::SeqCst);
        left -= n as u64;
    }
    stream.write_all(b"0\r\n\r\n").await.is_ok()
}

/// Reads one request (head and `content-length` body) from a plain or TLS
/// stream; `None` at EOF. `buffer` keeps what arrived past it.
pub async fn read_request(
    stream: &mut (impl tokio::io::AsyncRead + Unpin),
    buffer: &mut Vec<u8>,
) -> Option<Seen> {
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = buffer[head_end..head_end + length].to_vec();
    let path = head
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    buffer.drain(..head_end + length);
    Some(Seen {
        at: Instant::now(),
        path,
        head,
        body,
    })
}
