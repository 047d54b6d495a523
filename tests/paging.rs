//! Paged operations as streams, against a loopback server that pages by the
//! request's cursor: how a stream follows it, and each way it ends (the
//! last page, a cursor that does not move, the page limit, a failed call).

#![cfg(feature = "event")]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::StreamExt;
use rhombus_partner::areas::event::{self, types};
use rhombus_partner::{Error, RetryPolicy};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const ORG: &str = "cLiEnToRg0000000000001";
const ALERTS: &str = "/api/event/getPolicyAlertsV2";
const THREAT_CASES: &str = "/api/event/getAlertMonitoringThreatCases";

/// Answers with `page(request body, how many requests came before)`.
struct Pager<F>(F, Arc<AtomicUsize>);

impl<F: Fn(&Value, usize) -> ResponseTemplate + Send + Sync> Respond for Pager<F> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).expect("a JSON request");
        (self.0)(&body, self.1.fetch_add(1, Ordering::SeqCst))
    }
}

async fn serve(
    route: &str,
    page: impl Fn(&Value, usize) -> ResponseTemplate + Send + Sync + 'static,
) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(route))
        .respond_with(Pager(page, Arc::default()))
        .mount(&server)
        .await;
    server
}

fn events(server: &MockServer) -> event::EventApi {
    let partner = common::client::client(&server.uri(), RetryPolicy::none());
    partner.for_org(ORG).expect("valid org").event()
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// Alerts `from..to`, alert `n` at `1000 + n` ms with uuid `alert-n`.
fn alerts(from: u64, to: u64) -> Value {
    let alerts: Vec<Value> = (from..to)
        .map(|n| json!({"uuid": format!("alert-{n}"), "timestampMs": 1000 + n}))
        .collect();
    json!({ "policyAlerts": alerts })
}

/// The sent bodies' values at `pointer`, in order.
async fn sent(server: &MockServer, pointer: &str) -> Vec<Value> {
    let requests = server.received_requests().await.expect("recording is on");
    let bodies = requests.iter().map(|r| {
        let body: Value = serde_json::from_slice(&r.body).expect("JSON");
        body.pointer(pointer).cloned().unwrap_or(Value::Null)
    });
    bodies.collect()
}

fn uuids(items: &[Result<types::PolicyAlertV2Type, Error>]) -> Vec<String> {
    let uuids = items.iter().map(|item| match item {
        Ok(alert) => alert.uuid.clone().unwrap_or_default(),
        Err(error) => format!("error: {error}"),
    });
    uuids.collect()
}

#[tokio::test]
async fn alerts_follow_the_last_item_over_three_full_pages_to_a_short_one() {
    // Pages of two: the cursor is the last alert's timestamp and uuid.
    let server = serve(ALERTS, |body, _| {
        let from = match body["lastUuid"].as_str() {
            None => 0,
            Some(uuid) => uuid["alert-".len()..].parse::<u64>().expect("ours") + 1,
        };
        ok(alerts(from, (from + 2).min(7)))
    })
    .await;
    let request = types::EventGetPolicyAlertsV2wsRequest::default().with_max_results(2);
    let client = events(&server);
    let items: Vec<_> = client.get_policy_alerts_v2_items(request).collect().await;

    let expected: Vec<String> = (0..7).map(|n| format!("alert-{n}")).collect();
    assert_eq!(uuids(&items), expected);
    // Three full pages, then a short one ends it without another call.
    assert_eq!(
        sent(&server, "/lastUuid").await,
        [
            json!(null),
            json!("alert-1"),
            json!("alert-3"),
            json!("alert-5")
        ]
    );
    assert_eq!(
        sent(&server, "/lastTimestampMs").await,
        [json!(null), json!(1001), json!(1003), json!(1005)]
    );
}

#[tokio::test]
async fn a_carried_cursor_is_followed_over_three_pages_until_the_answer_has_none() {
    let server = serve(THREAT_CASES, |body, _| {
        let (cases, next) = match body["lastEvaluatedKey"].as_str() {
            None => (json!([{"uuid": "a"}]), json!("k1")),
            Some("k1") => (json!([{"uuid": "b"}]), json!("k2")),
            Some("k2") => (json!([{"uuid": "c"}]), json!(null)),
            Some(other) => panic!("unexpected cursor {other}"),
        };
        ok(json!({ "threatCases": cases, "lastEvaluatedKey": next }))
    })
    .await;
    let client = events(&server);
    let request = types::EventGetAlertMonitoringThreatCasesWsRequest::default();
    let pages: Vec<_> = client
        .get_alert_monitoring_threat_cases_pages(request)
        .collect()
        .await;

    let cursors: Vec<Option<String>> = (pages.into_iter())
        .map(|page| page.expect("a page").last_evaluated_key)
        .collect();
    assert_eq!(cursors, [Some("k1".into()), Some("k2".into()), None]);
    assert_eq!(
        sent(&server, "/lastEvaluatedKey").await,
        [json!(null), json!("k1"), json!("k2")]
    );
}

#[tokio::test]
async fn a_cursor_that_does_not_move_ends_the_stream_with_cursor_stuck() {
    // The server ignores the cursor: every answer names the same one.
    let server = serve(THREAT_CASES, |_, _| {
        ok(json!({ "threatCases": [{"uuid": "a"}], "lastEvaluatedKey": "k1" }))
    })
    .await;
    let client = events(&server);
    let request = types::EventGetAlertMonitoringThreatCasesWsRequest::default();
    let mut pages = client.get_alert_monitoring_threat_cases_pages(request);

    assert!(pages.next().await.expect("page 1").is_ok());
    let error = pages.next().await.expect("an error").expect_err("stuck");
    assert!(
        matches!(
            error,
            Error::CursorStuck {
                operation: "getAlertMonitoringThreatCases",
                page: 2
            }
        ),
        "{error:?}"
    );
    assert!(
        pages.next().await.is_none(),
        "the stream ends after its error"
    );
    assert_eq!(server.received_requests().await.expect("on").len(), 2);
}

#[tokio::test]
async fn a_full_page_whose_last_item_has_no_key_is_stuck() {
    let server = serve(ALERTS, |_, _| {
        ok(json!({ "policyAlerts": [{"uuid": "x"}] }))
    })
    .await;
    let request = types::EventGetPolicyAlertsV2wsRequest::default().with_max_results(1);
    let client = events(&server);
    let items: Vec<_> = client.get_policy_alerts_v2_items(request).collect().await;

    assert!(
        matches!(items.as_slice(), [Err(Error::CursorStuck { page: 1, .. })]),
        "{items:?}"
    );
}

#[tokio::test]
async fn an_endless_server_ends_the_stream_at_the_page_limit() {
    let server = serve(THREAT_CASES, |_, count| {
        ok(json!({ "threatCases": [{"uuid": "a"}], "lastEvaluatedKey": format!("k{count}") }))
    })
    .await;
    let client = events(&server);
    let request = types::EventGetAlertMonitoringThreatCasesWsRequest::default();
    let pages: Vec<_> = client
        .get_alert_monitoring_threat_cases_pages(request)
        .max_pages(5)
        .collect()
        .await;

    assert_eq!(pages.len(), 6, "five pages, then the error");
    assert!(pages[..5].iter().all(Result::is_ok), "{pages:?}");
    assert!(
        matches!(
            pages[5],
            Err(Error::TooManyPages {
                operation: "getAlertMonitoringThreatCases",
                limit: 5
            })
        ),
        "{:?}",
        pages[5]
    );
    assert_eq!(server.received_requests().await.expect("on").len(), 5);
    assert_eq!(rhombus_partner::DEFAULT_MAX_PAGES, 1_000);
}

#[tokio::test]
async fn a_page_that_fails_mid_stream_comes_after_the_items_before_it() {
    let server = serve(ALERTS, |_, count| match count {
        0 => ok(alerts(0, 2)),
        _ => ResponseTemplate::new(400).set_body_string("no"),
    })
    .await;
    let request = types::EventGetPolicyAlertsV2wsRequest::default().with_max_results(2);
    let client = events(&server);
    let items: Vec<_> = client.get_policy_alerts_v2_items(request).collect().await;

    assert_eq!(uuids(&items[..2]), ["alert-0", "alert-1"]);
    assert!(
        matches!(
            &items[2..],
            [Err(Error::Http {
                operation: "getPolicyAlertsV2",
                ..
            })]
        ),
        "{items:?}"
    );
}
