//! Reading the upstream document from a URL or a local file.

use std::time::Duration;

use serde_json::Value;

use crate::codegen::layout::error_chain;

/// Long enough for the multi-megabyte upstream document on a slow link,
/// short enough that an unreachable host does not hang a CI job.
const FETCH_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads `from` (an http(s) URL or a path) and parses it as JSON.
pub fn load(from: &str) -> Result<Value, String> {
    let text = if from.starts_with("http://") || from.starts_with("https://") {
        fetch(from)?
    } else {
        std::fs::read_to_string(from).map_err(|e| format!("cannot read {from}: {e}"))?
    };
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{from} is not JSON (line {}, column {}): {e}; check that it is the OpenAPI \
             document (an HTML error page or a truncated download is not)",
            e.line(),
            e.column()
        )
    })
}

fn fetch(url: &str) -> Result<String, String> {
    let unreachable = |e: reqwest::Error| {
        format!(
            "cannot download {url}: {}; check the network, or pass a local copy with --from PATH",
            error_chain(&e)
        )
    };
    let client = reqwest::blocking::Client::builder()
        .timeout(FETCH_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("rhombus-partner-xtask/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(unreachable)?;
    let response = client.get(url).send().map_err(unreachable)?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!(
            "cannot download {url}: the server answered {status}; check the URL, or pass a \
             local copy with --from PATH"
        ));
    }
    response.text().map_err(unreachable)
}
