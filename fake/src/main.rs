//! `rhombus-fake`: the fake Rhombus partner API on a port, for your own
//! code or the audit. The first line on stdout is the base URL; how to use
//! it follows. It serves until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use rhombus_fake::{FAKE_API_KEY, FakeBucket, FakeFleet, FakeOptions, FakeServer};

/// A fake Rhombus partner API: the demo partner (or a generated fleet) on
/// a local port, answering the key `demo-partner-key`.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The address to listen on (port 0: a free one).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Play this many generated clients instead of the demo partner's 12.
    #[arg(long, value_name = "N")]
    clients: Option<usize>,
    /// Delay every answer by this many milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    latency_ms: u64,
    /// Rate-limit every N-th client: each of its calls is answered 429 with
    /// Retry-After: 1 once, then served.
    #[arg(long, value_name = "N")]
    rate_limit_every: Option<usize>,
    /// Limit each organization with a token bucket refilling this many
    /// tokens a second (429 with Retry-After when it is empty).
    #[arg(long, value_name = "PER_SECOND")]
    bucket_rate: Option<f64>,
    /// The tokens a bucket holds at most (with --bucket-rate).
    #[arg(
        long,
        value_name = "TOKENS",
        default_value_t = 1.0,
        requires = "bucket_rate"
    )]
    bucket_burst: f64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let (fleet, which) = match args.clients {
        Some(n) => (FakeFleet::generated(n), format!("{n} generated clients")),
        None => (FakeFleet::demo(), "the demo partner, 12 clients".to_owned()),
    };
    let options = FakeOptions {
        latency: Duration::from_millis(args.latency_ms),
        rate_limit_every: args.rate_limit_every,
        bucket: (args.bucket_rate).map(|rate| FakeBucket {
            rate,
            burst: args.bucket_burst,
        }),
        ..FakeOptions::default()
    };
    let server = FakeServer::start_on(args.listen, fleet, options)
        .await
        .map_err(|error| format!("cannot listen on {}: {error}", args.listen))?;
    let url = server.uri();
    // The first line alone is the URL, so that a script can read it.
    println!("{url}");
    println!("A fake Rhombus partner API ({which}) is listening. To use it:");
    println!("  export RHOMBUS_BASE_URL={url}");
    println!("  export RHOMBUS_API_KEY={FAKE_API_KEY}");
    println!("  cargo run -p rhombus-audit   # or your own code, e.g. Client::from_env()");
    println!("Ctrl-C stops it.");
    shutdown().await?;
    eprintln!("rhombus-fake: stopped after {} requests", server.requests());
    Ok(())
}

/// Waits for Ctrl-C, or SIGTERM where there is one.
async fn shutdown() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await
}
