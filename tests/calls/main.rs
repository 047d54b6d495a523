//! What a call does against servers on loopback, grouped by behaviour:
//! what is retried (`retries`), how answers become values or errors
//! (`answers`), what bounds a call (`limits`), where the key may go and
//! which servers are trusted (`trust`), that the key shows nowhere
//! (`secrets`), bursts of calls (`load`), and what a client counts of its
//! requests (`counts`). Each case asserts the typed result and what the
//! server saw; `127.0.0.2` stands for another host.
//! Waits are short through the `RetryPolicy`, except where the API's own
//! minimum (a 1 s `Retry-After`) is the point.

#[path = "../common/mod.rs"]
mod common;

mod answers;
mod counts;
mod limits;
mod load;
mod pacing;
mod retries;
mod secrets;
mod trust;

use std::time::{Duration, Instant, SystemTime};

use common::client::{KEY, client, fast};
use common::{Action, Captured, Server, json, response};
use rhombus_partner::types::{
    PartnerGetClientSummaryInfoWsRequest, PartnerGetClientSummaryInfoWsResponse,
};
use rhombus_partner::{ApiStatus, Client, ClientBuilder, Error, RetryPolicy, TransportKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PATH: &str = "/api/partner/getClientSummaryInfo";
/// A hang fails the test instead of blocking CI.
const GUARD: Duration = Duration::from_secs(30);

async fn summary(client: &Client) -> Result<PartnerGetClientSummaryInfoWsResponse, Error> {
    client
        .get_client_summary_info(&PartnerGetClientSummaryInfoWsRequest::default())
        .await
}

async fn guarded<F: Future>(test: F) -> F::Output {
    tokio::time::timeout(GUARD, test)
        .await
        .expect("the call hung: a slot or a read never ended")
}

fn ok_body() -> Vec<u8> {
    json(200, r#"{"locationCount": 3}"#)
}
