//! Exports (`Download`), uploads (`Multipart`) and the operations whose
//! `$ref` upstream never defined, against loopback servers that check the
//! wire: the bytes served come back exactly, streamed or whole; an echoed
//! key never does; an upload's body is `multipart/form-data` with each
//! part's name, file name, media type and bytes; the auth headers go out.

mod common;

use std::time::Duration;

use common::client::{KEY, builder, client, fast};
use common::{Action, Server};
use rhombus_partner::areas::{export, integrations};
use rhombus_partner::{Error, Multipart, OrgClient, RetryPolicy};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const ORG: &str = "org-7f3a";
const AUDIT: &str = "/api/export/audit";
const UPTIME: &str = "/api/export/uptime";
const FLOORPLAN: &str = "/api/upload/floorplan";

fn acting(url: &str, policy: RetryPolicy) -> OrgClient {
    client(url, policy).for_org(ORG).expect("valid org")
}

fn audit() -> export::types::ExportExportAuditEventsWsRequest {
    export::types::ExportExportAuditEventsWsRequest::default()
}

/// Every request carried the key, its scheme and the org.
fn assert_auth(requests: &[Request]) {
    for request in requests {
        let header = |name: &str| request.headers.get(name).map(|v| v.to_str().unwrap());
        assert_eq!(header("x-auth-apikey"), Some(KEY));
        assert!(header("x-auth-scheme").is_some());
        assert_eq!(header("x-auth-org"), Some(ORG));
    }
}

#[tokio::test]
async fn a_csv_export_returns_exactly_the_bytes_served() {
    let server = MockServer::start().await;
    let csv = "timestamp,user,action\n1712620800000,ana,login\n1712620900000,bo,\"a,b\"\n";
    Mock::given(method("POST"))
        .and(path(AUDIT))
        .respond_with(ResponseTemplate::new(200).set_body_raw(csv, "text/csv; charset=UTF-8"))
        .mount(&server)
        .await;
    let download = acting(&server.uri(), RetryPolicy::none())
        .export()
        .export_audit(&audit())
        .await
        .expect("the export comes");
    assert_eq!(download.content_type(), Some("text/csv; charset=UTF-8"));
    assert_eq!(download.content_length(), Some(csv.len() as u64));
    assert_eq!(
        &download.bytes().await.expect("the body")[..],
        csv.as_bytes()
    );
    let requests = server.received_requests().await.expect("recording is on");
    assert_eq!(requests.len(), 1);
    assert_auth(&requests);
}

/// A zip archive's bytes: every byte value, no text to speak of.
fn zip_bytes(length: usize) -> Vec<u8> {
    let mut bytes = b"PK\x03\x04".to_vec();
    bytes.extend((0..length as u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    bytes
}

#[tokio::test]
async fn a_zip_export_streams_to_a_writer() {
    let server = MockServer::start().await;
    let zip = zip_bytes(700 * 1024);
    Mock::given(method("POST"))
        .and(path(UPTIME))
        .respond_with(ResponseTemplate::new(200).set_body_raw(zip.clone(), "application/zip"))
        .mount(&server)
        .await;
    let download = acting(&server.uri(), RetryPolicy::none())
        .export()
        .export_uptime(&export::types::ExportExportUptimeWsRequest::default())
        .await
        .expect("the export comes");
    assert_eq!(download.content_type(), Some("application/zip"));
    let mut written: Vec<u8> = Vec::new();
    let count = download.write_to(&mut written).await.expect("streamed");
    assert_eq!(count, zip.len() as u64);
    assert!(written == zip, "the archive came back changed");
    assert_auth(&server.received_requests().await.expect("recording is on"));
}

/// A chunked CSV answer whose body is `parts`, each its own HTTP chunk,
/// the last sent only after a pause (so the client reads the first ones
/// alone).
fn chunked_csv(parts: &[Vec<u8>]) -> Action {
    let mut first =
        b"HTTP/1.1 200 OK\r\ncontent-type: text/csv\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    let chunk =
        |bytes: &[u8]| [format!("{:x}\r\n", bytes.len()).as_bytes(), bytes, b"\r\n"].concat();
    let (last, earlier) = parts.split_last().expect("a part");
    for part in earlier {
        first.extend(chunk(part));
    }
    let rest = [chunk(last), b"0\r\n\r\n".to_vec()].concat();
    Action::Stall(first, Duration::from_millis(50), rest)
}

/// A CSV of `rows` lines, with the key echoed (plainly, and escaped as
/// JSON inside a field) split across chunks at several places, streamed and
/// read whole: the key reaches the caller in neither.
#[tokio::test]
async fn an_echoed_key_split_across_chunks_does_not_reach_the_caller() {
    let row = |i: usize| format!("{i},camera-{i},OK\n").into_bytes();
    let filler: Vec<u8> = (0..12_000).flat_map(row).collect();
    let escaped: String = KEY
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    let (a, b) = KEY.split_at(9);
    let (c, d) = escaped.split_at(20);
    let parts = vec![
        [b"id,name,note\n1,echo,".as_slice(), a.as_bytes()].concat(),
        [
            b.as_bytes(),
            b"\n".as_slice(),
            &filler,
            b"2,json,\"".as_slice(),
            c.as_bytes(),
        ]
        .concat(),
        [
            d.as_bytes(),
            b"\"\n3,end,".as_slice(),
            KEY.as_bytes(),
            b"\n".as_slice(),
        ]
        .concat(),
    ];
    let server = Server::start(move |_, _| chunked_csv(&parts)).await;
    let org = acting(&server.url, RetryPolicy::none());
    let streamed = org
        .export()
        .export_audit(&audit())
        .await
        .expect("the export");
    let mut written = Vec::new();
    streamed.write_to(&mut written).await.expect("streamed");
    let whole = org
        .export()
        .export_audit(&audit())
        .await
        .expect("the export");
    let whole = whole.bytes().await.expect("the body").to_vec();
    for body in [written, whole] {
        let text = String::from_utf8(body).expect("UTF-8");
        assert!(
            !text.contains(KEY) && !text.contains(&escaped),
            "the key leaked"
        );
        assert!(text.starts_with("id,name,note\n1,echo,<redacted>\n0,camera-0,OK\n"));
        assert!(
            text.ends_with("2,json,\"<redacted>\"\n3,end,<redacted>\n"),
            "{}",
            &text[text.len() - 80..]
        );
        assert_eq!(text.matches("<redacted>").count(), 3);
    }
}

#[tokio::test]
async fn bytes_past_the_limit_is_body_too_large_and_streaming_is_not_limited() {
    let server = MockServer::start().await;
    let zip = zip_bytes(300 * 1024);
    Mock::given(method("POST"))
        .and(path(UPTIME))
        .respond_with(ResponseTemplate::new(200).set_body_raw(zip.clone(), "application/zip"))
        .mount(&server)
        .await;
    let org = builder(&server.uri(), RetryPolicy::none())
        .max_response_bytes(100 * 1024)
        .build()
        .expect("valid configuration")
        .for_org(ORG)
        .expect("valid org");
    let request = export::types::ExportExportUptimeWsRequest::default();
    let download = org
        .export()
        .export_uptime(&request)
        .await
        .expect("the head");
    let error = download.bytes().await.expect_err("over the limit");
    assert!(matches!(error, Error::BodyTooLarge { .. }), "{error:?}");
    let download = org
        .export()
        .export_uptime(&request)
        .await
        .expect("the head");
    let mut sink = tokio::io::sink();
    assert_eq!(
        download.write_to(&mut sink).await.expect("streamed"),
        zip.len() as u64
    );
}

/// A retryable failure before the head: the export is asked again, and
/// the download is of the answer that succeeded.
#[tokio::test]
async fn an_export_is_retried_only_before_its_body_is_handed_over() {
    let server = Server::start(|n, _| match n {
        0 => Action::Raw(common::response(429, &[], "slow down")),
        _ => Action::Raw(common::response(
            200,
            &[("content-type", "text/csv")],
            "a,b\n",
        )),
    })
    .await;
    let org = acting(&server.url, fast().max_attempts(3));
    let download = org
        .export()
        .export_audit(&audit())
        .await
        .expect("the export");
    assert_eq!(&download.bytes().await.expect("the body")[..], b"a,b\n");
    assert_eq!(server.requests(), 2);
}

/// A failed export answers `200` with the API's JSON envelope: the call is
/// `Error::Api` with its (scrubbed) message, not a download of the
/// envelope, and it is not retried.
#[tokio::test]
async fn an_export_answered_with_error_true_is_an_api_error() {
    let envelope = json!({"error": true, "errorMsg": format!("no export for {KEY}")});
    let server = Server::start(move |_, _| {
        Action::Raw(common::response(
            200,
            &[("content-type", "application/json;charset=UTF-8")],
            envelope.to_string(),
        ))
    })
    .await;
    let org = acting(&server.url, fast().max_attempts(3));
    let error = org
        .export()
        .export_audit(&audit())
        .await
        .expect_err("the API said error: true");
    let Error::Api { message, .. } = &error else {
        panic!("expected Error::Api, got {error:?}");
    };
    assert_eq!(message.as_deref(), Some("no export for <redacted>"));
    assert!(!format!("{error} {error:?}").contains(KEY));
    assert_eq!(server.requests(), 1);
}

/// A JSON answer to an export that says no failure is handed over whole,
/// as it came: nothing of it is lost.
#[tokio::test]
async fn a_json_answer_without_error_true_is_handed_over_as_it_came() {
    let body = r#"{"error":false,"rows":[["a","b"]]}"#;
    let server = Server::start(move |_, _| {
        Action::Raw(common::response(
            200,
            &[("content-type", "application/json")],
            body,
        ))
    })
    .await;
    let org = acting(&server.url, RetryPolicy::none());
    let whole = org
        .export()
        .export_audit(&audit())
        .await
        .expect("handed over");
    assert_eq!(whole.content_length(), Some(body.len() as u64));
    assert_eq!(&whole.bytes().await.expect("the body")[..], body.as_bytes());
    let streamed = org
        .export()
        .export_audit(&audit())
        .await
        .expect("handed over");
    let mut written = Vec::new();
    streamed.write_to(&mut written).await.expect("written");
    assert_eq!(written, body.as_bytes());
}

/// The JSON answer an export reads whole is read within the client's body
/// limit, like any answer read whole.
#[tokio::test]
async fn a_json_answer_to_an_export_is_read_within_the_limit() {
    let body = format!(r#"{{"error":false,"rows":"{}"}}"#, "x".repeat(200 * 1024));
    let server = Server::start(move |_, _| {
        Action::Raw(common::response(
            200,
            &[("content-type", "application/json")],
            &body,
        ))
    })
    .await;
    let org = builder(&server.url, RetryPolicy::none())
        .max_response_bytes(100 * 1024)
        .build()
        .expect("valid configuration")
        .for_org(ORG)
        .expect("valid org");
    let error = org
        .export()
        .export_audit(&audit())
        .await
        .expect_err("over the limit");
    assert!(matches!(error, Error::BodyTooLarge { .. }), "{error:?}");
}

/// One part of a `multipart/form-data` body.
#[derive(Debug, PartialEq)]
struct Part {
    disposition: String,
    content_type: Option<String>,
    bytes: Vec<u8>,
}

/// The parts of `body`, split at `boundary` by hand, the way a server reads
/// them.
fn parse_multipart(body: &[u8], boundary: &str) -> Vec<Part> {
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut rest = body;
    let find =
        |haystack: &[u8], needle: &[u8]| haystack.windows(needle.len()).position(|w| w == needle);
    let start = find(rest, delimiter.as_bytes()).expect("a first boundary");
    rest = &rest[start + delimiter.len()..];
    while rest.starts_with(b"\r\n") {
        rest = &rest[2..];
        let head_end = find(rest, b"\r\n\r\n").expect("part headers");
        let head = std::str::from_utf8(&rest[..head_end]).expect("ASCII headers");
        let header = |name: &str| {
            head.split("\r\n").find_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.eq_ignore_ascii_case(name)
                    .then(|| value.trim().to_owned())
            })
        };
        let after = &rest[head_end + 4..];
        let end = find(after, format!("\r\n{delimiter}").as_bytes()).expect("a closing boundary");
        parts.push(Part {
            disposition: header("content-disposition").expect("a disposition"),
            content_type: header("content-type"),
            bytes: after[..end].to_vec(),
        });
        rest = &after[end + 2 + delimiter.len()..];
    }
    assert!(
        rest.starts_with(b"--"),
        "the body ends with the last boundary"
    );
    parts
}

/// A server that answers every floor plan upload with `200 {}`.
async fn accepting_floor_plans() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(FLOORPLAN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    server
}

fn floor_plan() -> (Vec<u8>, Multipart) {
    let png = [b"\x89PNG\r\n\x1a\n".as_slice(), &zip_bytes(5000)].concat();
    let parts = Multipart::new()
        .file("file", "floor-2.png", "image/png", png.clone())
        .text("request", r#"{"locationUuid":"loc-1"}"#);
    (png, parts)
}

#[tokio::test]
async fn an_upload_sends_its_parts_as_multipart_form_data() {
    let server = accepting_floor_plans().await;
    let (png, parts) = floor_plan();
    acting(&server.uri(), RetryPolicy::none())
        .upload()
        .upload_new_floor_plan(parts)
        .await
        .expect("the upload succeeds");
    let requests = server.received_requests().await.expect("recording is on");
    assert_auth(&requests);
    let content_type = requests[0].headers["content-type"].to_str().expect("ASCII");
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap_or_else(|| panic!("{content_type}"));
    assert_eq!(
        parse_multipart(&requests[0].body, boundary),
        [
            Part {
                disposition: r#"form-data; name="file"; filename="floor-2.png""#.into(),
                content_type: Some("image/png".into()),
                bytes: png,
            },
            Part {
                disposition: r#"form-data; name="request""#.into(),
                content_type: None,
                bytes: br#"{"locationUuid":"loc-1"}"#.to_vec(),
            },
        ]
    );
}

/// Bytes parts are encoded once and sent again after a `429`.
#[tokio::test]
async fn bytes_parts_are_retried() {
    let server = Server::start(|n, _| match n {
        0 => Action::Raw(common::response(429, &[], "slow down")),
        _ => Action::Raw(common::json(200, "{}")),
    })
    .await;
    let org = acting(&server.url, fast().max_attempts(3));
    let (_, parts) = floor_plan();
    assert!(parts.is_replayable());
    org.upload()
        .upload_new_floor_plan(parts)
        .await
        .expect("retried");
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert!(
        !seen[0].body.is_empty() && seen[0].body == seen[1].body,
        "the same body again"
    );
}

/// A stream part cannot be read again: sent once, whatever the policy.
#[tokio::test]
async fn a_stream_part_is_sent_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(FLOORPLAN))
        .respond_with(ResponseTemplate::new(429))
        .mount(&server)
        .await;
    let org = acting(&server.uri(), fast().max_attempts(3));
    let chunks = vec![Ok(bytes::Bytes::from_static(b"streamed"))];
    let streamed = Multipart::new().file_stream(
        "file",
        "big.png",
        "image/png",
        futures_util::stream::iter(chunks),
    );
    assert!(!streamed.is_replayable());
    let error = org
        .upload()
        .upload_new_floor_plan(streamed)
        .await
        .expect_err("429");
    assert!(
        matches!(error, Error::RateLimited { attempts: 1, .. }),
        "{error:?}"
    );
    let requests = server.received_requests().await.expect("recording is on");
    assert_eq!(requests.len(), 1);
    assert!(requests[0].body.windows(8).any(|w| w == b"streamed"));
}

/// A stream part of unknown length goes chunked; given its length, the
/// upload goes with a `Content-Length` that is the body's own length; a
/// stream that ends short of the length it was given fails the call.
#[tokio::test]
async fn a_stream_part_with_its_length_goes_with_content_length() {
    let server = accepting_floor_plans().await;
    let org = acting(&server.uri(), RetryPolicy::none());
    let stream = |parts: &[&'static [u8]]| {
        let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = parts
            .iter()
            .map(|part| Ok(bytes::Bytes::from_static(part)))
            .collect();
        futures_util::stream::iter(chunks)
    };
    let unknown =
        Multipart::new().file_stream("file", "a.png", "image/png", stream(&[b"abc", b"de"]));
    let known = Multipart::new()
        .text("request", "{}")
        .file_stream_with_length("file", "a.png", "image/png", 5, stream(&[b"abc", b"de"]));
    for parts in [unknown, known] {
        org.upload()
            .upload_new_floor_plan(parts)
            .await
            .expect("uploaded");
    }
    let requests = server.received_requests().await.expect("recording is on");
    let header = |n: usize, name: &str| {
        requests[n]
            .headers
            .get(name)
            .map(|v| v.to_str().expect("ASCII").to_owned())
    };
    assert_eq!(header(0, "content-length"), None);
    assert_eq!(header(0, "transfer-encoding").as_deref(), Some("chunked"));
    assert_eq!(
        header(1, "content-length"),
        Some(requests[1].body.len().to_string())
    );
    assert!(requests[1].body.windows(5).any(|w| w == b"abcde"));
    let short = Multipart::new().file_stream_with_length(
        "file",
        "a.png",
        "image/png",
        50,
        stream(&[b"abc"]),
    );
    let error = org
        .upload()
        .upload_new_floor_plan(short)
        .await
        .expect_err("the stream ended short of its length");
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
}

#[tokio::test]
async fn a_part_with_a_media_type_that_does_not_parse_sends_nothing() {
    let server = MockServer::start().await;
    let parts = Multipart::new().file("file", "a.png", "not a type", vec![1, 2, 3]);
    let error = acting(&server.uri(), RetryPolicy::none())
        .upload()
        .upload_company_logo(parts)
        .await
        .expect_err("refused");
    assert!(matches!(error, Error::InvalidRequest { .. }), "{error:?}");
    assert!(
        server
            .received_requests()
            .await
            .expect("recording")
            .is_empty()
    );
}

/// `settings` and `locations` named schemas upstream never defined: they
/// decode any JSON.
#[tokio::test]
async fn an_operation_with_a_dangling_ref_decodes_any_json() {
    let server = MockServer::start().await;
    let settings = json!({"anything": [1, "two", {"three": null}], "more": true});
    Mock::given(method("POST"))
        .and(path(
            "/api/integrations/accessControl/getBoulevardIntegration",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "settings": settings })))
        .mount(&server)
        .await;
    let locations = json!([{"id": "loc-1", "name": "Main"}, 7, "x"]);
    Mock::given(method("POST"))
        .and(path(
            "/api/integrations/accessControl/testBoulevardConnection",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "locations": locations })))
        .mount(&server)
        .await;
    let org = acting(&server.uri(), RetryPolicy::none());
    let got = org
        .integrations()
        .get_boulevard_integration(
            &integrations::types::IntegrationBaseIntegrationWsRequest::default(),
        )
        .await
        .expect("decodes");
    assert_eq!(got.settings, Some(settings));
    let tested = org
        .integrations()
        .test_boulevard_connection(
            &integrations::types::IntegrationTestBoulevardConnectionWsRequest::default(),
        )
        .await
        .expect("decodes");
    assert_eq!(json!(tested.locations), locations);
    assert_auth(&server.received_requests().await.expect("recording is on"));
}
