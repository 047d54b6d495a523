//! Reading the upstream document from a URL or a local file.

use std::time::Duration;

use serde_json::Value;

use crate::Error;
use crate::codegen::layout::error_chain;

/// Long enough for the multi-megabyte upstream document on a slow link,
/// short enough that an unreachable host does not hang a CI job.
const FETCH_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads `from` (an http(s) URL or a path) and parses it as JSON.
pub fn load(from: &str) -> Result<Value, Error> {
    let text = if from.starts_with("http://") || from.starts_with("https://") {
        fetch(from)?
    } else {
        std::fs::read_to_string(from).map_err(|source| Error::Read {
            path: from.into(),
            source,
        })?
    };
    serde_json::from_str(&text).map_err(|source| Error::NotJson {
        from: from.to_owned(),
        source,
    })
}

fn fetch(url: &str) -> Result<String, Error> {
    let unreachable = |e: reqwest::Error| Error::Download {
        url: url.to_owned(),
        reason: error_chain(&e),
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
        return Err(Error::Status {
            url: url.to_owned(),
            status: status.to_string(),
        });
    }
    response.text().map_err(unreachable)
}
