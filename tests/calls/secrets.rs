//! A recognizable API key through every path that prints something: `Debug`
//! of the builder, client and checked client, `Debug` and `Display` of
//! every error the client returns, and everything `tracing` records at
//! TRACE level. The key must appear nowhere, even when a hostile server
//! echoes the request (headers included) or the key alone into its bodies,
//! its headers, a redirect's `Location`, or the fields the API reports
//! errors and warnings in.

use std::time::Duration;

use crate::common::{Action, Captured, Server, json, response};
use rhombus_partner::types::PartnerGetClientSummaryInfoWsRequest;
use rhombus_partner::{Client, ClientBuilder, Error, RetryPolicy};

const KEY: &str = "SECRET-KEY-8c1f4e2a9b7d";

fn builder(url: &str) -> ClientBuilder {
    Client::builder()
        .api_key(KEY)
        .base_url(url)
        .timeout(Duration::from_millis(300))
        .retry_policy(
            RetryPolicy::default()
                .max_attempts(2)
                .backoff(Duration::from_millis(5), Duration::from_millis(10)),
        )
}

/// Echoes the request head (with the key header) back, as some proxies do.
fn echo(status: u16, head: &str) -> Action {
    Action::Raw(response(status, &[("content-type", "text/plain")], head))
}

#[tokio::test]
async fn the_key_never_appears() {
    let (captured, _guard) = Captured::install(tracing::Level::TRACE);

    let mut printed = Vec::new();

    // Every error the client returns, from a server that echoes the request.
    let server = Server::start(|_, seen| {
        let head = seen.head.clone();
        match seen.body.as_slice() {
            b if b.starts_with(br#"{"clientOrgUuid":"429""#) => {
                Action::Raw(response(429, &[("retry-after", "1")], &head))
            }
            b if b.starts_with(br#"{"clientOrgUuid":"401""#) => echo(401, &head),
            b if b.starts_with(br#"{"clientOrgUuid":"403""#) => echo(403, &head),
            b if b.starts_with(br#"{"clientOrgUuid":"500""#) => echo(500, &head),
            b if b.starts_with(br#"{"clientOrgUuid":"400""#) => echo(400, &head),
            b if b.starts_with(br#"{"clientOrgUuid":"api""#) => Action::Raw(json(
                200,
                r#"{"error": true, "errorMsg": "no", "warningMsg": "w"}"#,
            )),
            b if b.starts_with(br#"{"clientOrgUuid":"decode""#) => {
                Action::Raw(json(200, &format!("{{\"echo\": {head:?}")))
            }
            b if b.starts_with(br#"{"clientOrgUuid":"slow""#) => {
                Action::Delay(Duration::from_secs(2), json(200, "{}"))
            }
            b if b.starts_with(br#"{"clientOrgUuid":"reset""#) => Action::Reset,
            b if b.starts_with(br#"{"clientOrgUuid":"api-echo""#) => Action::Raw(json(
                200,
                &format!(
                    r#"{{"error": true, "errorMsg": "bad key {KEY}", "warningMsg": "{KEY}", "responseStatus": "{KEY}"}}"#
                ),
            )),
            b if b.starts_with(br#"{"clientOrgUuid":"typed""#) => {
                Action::Raw(json(200, &format!(r#"{{"locationCount": "{KEY}"}}"#)))
            }
            b if b.starts_with(br#"{"clientOrgUuid":"warn-echo""#) => {
                Action::Raw(json(200, &format!(r#"{{"warningMsg": "key {KEY}"}}"#)))
            }
            b if b.starts_with(br#"{"clientOrgUuid":"redirect""#) => Action::Raw(response(
                307,
                &[("location", &format!("http://127.0.0.2:9/steal?key={KEY}"))],
                "",
            )),
            b if b.starts_with(br#"{"clientOrgUuid":"header-echo""#) => {
                Action::Raw(response(502, &[("x-echo", KEY)], "bad gateway"))
            }
            b if b.starts_with(br#"{"clientOrgUuid":"header-name-echo""#) => {
                Action::Raw(response(502, &[(KEY, "1"), (&format!("x-{KEY}"), "2")], "bad"))
            }
            b if b.starts_with(br#"{"clientOrgUuid":"huge""#) => Action::Huge {
                status: 200,
                total: 2 << 20,
            },
            _ => Action::Raw(json(200, r#"{"warningMsg": "a warning"}"#)),
        }
    })
    .await;
    let configured = builder(&server.url).max_response_bytes(1 << 20);
    printed.push(format!("{configured:?}"));
    let client = configured.build().expect("valid configuration");
    printed.push(format!("{client:?}"));
    printed.push(format!("{:?}", client.for_org("Other").expect("org")));

    let mut kinds = Vec::new();
    for case in [
        "429",
        "401",
        "403",
        "500",
        "400",
        "api",
        "decode",
        "slow",
        "reset",
        "ok",
        "api-echo",
        "typed",
        "warn-echo",
        "redirect",
        "header-echo",
        "header-name-echo",
        "huge",
    ] {
        let result = client
            .get_client_summary_info(
                &PartnerGetClientSummaryInfoWsRequest::default().with_client_org_uuid(case),
            )
            .await;
        match result {
            Ok(value) => printed.push(format!("{value:?}")),
            Err(error) => {
                kinds.push(variant(&error));
                printed.push(format!("{error:?}"));
                printed.push(format!("{error}"));
                let mut source = std::error::Error::source(&error);
                while let Some(inner) = source {
                    printed.push(format!("{inner:?} {inner}"));
                    source = inner.source();
                }
            }
        }
    }
    // A connection refused: a port nobody listens on.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", listener.local_addr().expect("address"))
    };
    let error = builder(&closed)
        .build()
        .expect("valid configuration")
        .get_client_summary_info(&PartnerGetClientSummaryInfoWsRequest::default())
        .await
        .expect_err("nobody listens");
    kinds.push(variant(&error));
    printed.push(format!("{error:?} {error}"));

    // Build errors.
    for bad in [format!("{KEY}\n"), format!("{KEY}\u{0}")] {
        let error = Client::builder()
            .api_key(bad)
            .build()
            .expect_err("invalid key");
        printed.push(format!("{error:?} {error}"));
    }

    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(
        kinds,
        [
            "Api",
            "BodyTooLarge",
            "Decode",
            "Forbidden",
            "Http",
            "RateLimited",
            "Redirect",
            "Transport",
            "Unauthorized"
        ],
        "every error variant a call can return was exercised"
    );

    let log = captured.text();
    assert!(
        log.contains("rhombus_partner.call"),
        "the span is recorded:\n{log}"
    );
    assert!(log.contains("a warning"), "warnings are logged:\n{log}");
    assert!(
        log.contains("key <redacted>"),
        "an echoed key is logged scrubbed:\n{log}"
    );
    // The server did see the key: the echo is real.
    assert!(server.seen().iter().all(|s| s.head.contains(KEY)));
    for text in printed.iter().chain([&log]) {
        assert!(!text.contains(KEY), "the key leaked in:\n{text}");
        // Header names are lowercased when parsed.
        assert!(
            !text.to_lowercase().contains(&KEY.to_lowercase()),
            "the key leaked, lowercased, in:\n{text}"
        );
        assert!(
            !text.contains("SECRET-KEY"),
            "part of the key leaked in:\n{text}"
        );
    }
}

/// The key pasted as an org is refused, and neither the result of
/// `for_org` (a handle, before) nor its error shows it.
#[test]
fn an_org_holding_the_key_shows_it_nowhere() {
    let client = builder("http://127.0.0.1:9").build().expect("valid");
    for org in [KEY.to_owned(), format!("{KEY}\n"), format!("org {KEY}")] {
        let shown = match client.for_org(&org) {
            Ok(acting) => format!("{acting:?}"),
            Err(error) => format!("{error} {error:?}"),
        };
        assert!(!shown.contains(KEY), "the key leaked in:\n{shown}");
    }
}

fn variant(error: &Error) -> &'static str {
    match error {
        Error::Transport { .. } => "Transport",
        Error::RateLimited { .. } => "RateLimited",
        Error::Unauthorized { .. } => "Unauthorized",
        Error::Forbidden { .. } => "Forbidden",
        Error::Http { .. } => "Http",
        Error::Api { .. } => "Api",
        Error::Decode { .. } => "Decode",
        Error::InvalidRequest { .. } => "InvalidRequest",
        Error::Redirect { .. } => "Redirect",
        Error::BodyTooLarge { .. } => "BodyTooLarge",
        Error::QueueTimeout { .. } => "QueueTimeout",
        _ => "other",
    }
}

// ---------------------------------------------------------------------------
// The key echoed with its characters escaped
// ---------------------------------------------------------------------------

/// `key` as a JSON string's content, each character written plainly or
/// escaped as `escape` says (`"` and `\\` are always escaped; `/` may be
/// `\/`, as some encoders write it by default).
fn json_escaped(key: &str, escape: &[(bool, bool, bool)]) -> String {
    key.chars()
        .zip(escape.iter().cycle())
        .map(|(c, &(escaped, short, upper))| match c {
            '"' | '\\' if short || !escaped => format!("\\{c}"),
            '/' if escaped && short => "\\/".to_owned(),
            c if escaped && upper => format!("\\u{:04X}", u32::from(c)),
            c if escaped => format!("\\u{:04x}", u32::from(c)),
            c => c.to_string(),
        })
        .collect()
}

/// The bodies a hostile server echoes the escaped key in, and what each
/// reaches: an `errorMsg`, a `warningMsg` (logged), a field of the wrong
/// type (serde's message), a map key and a nested value (decoded values).
fn echoing_bodies(echoed: &str) -> [String; 5] {
    [
        format!(r#"{{"error": true, "errorMsg": "bad key {echoed}"}}"#),
        format!(r#"{{"warningMsg": "key {echoed}"}}"#),
        format!(r#"{{"locationCount": "{echoed}"}}"#),
        format!(r#"{{"clientDeviceStatusMap": {{"{echoed}": {{"totalCount": 1}}}}}}"#),
        format!(r#"{{"accountOwner": {{"email": "{echoed}", "uuid": "x{echoed}y"}}}}"#),
    ]
}

/// Everything a caller sees of one call.
async fn everything_shown(client: &Client) -> Vec<String> {
    let body = PartnerGetClientSummaryInfoWsRequest::default();
    let mut shown = Vec::new();
    match client.get_client_summary_info(&body).await {
        Ok(value) => shown.push(format!("{value:?}")),
        Err(error) => {
            shown.push(format!("{error:?} {error}"));
            let mut source = std::error::Error::source(&error);
            while let Some(inner) = source {
                shown.push(format!("{inner:?} {inner}"));
                source = inner.source();
            }
        }
    }
    shown
}

#[test]
fn the_key_never_shows_however_the_server_escapes_it() {
    use proptest::prelude::*;
    use std::sync::{Arc, Mutex};

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let answer = Arc::new(Mutex::new(String::new()));
    let served = answer.clone();
    let server = runtime.block_on(Server::start(move |_, _| {
        Action::Raw(json(200, &served.lock().expect("lock")))
    }));
    let config = ProptestConfig {
        cases: 48,
        ..ProptestConfig::default()
    };
    proptest!(config, |(
        key in "[!-~][ -~]{6,30}[!-~]",
        escape in proptest::collection::vec(any::<(bool, bool, bool)>(), 1..40),
    )| {
        let echoed = json_escaped(&key, &escape);
        let client = builder(&server.url).api_key(key.as_str()).build().expect("valid key");
        let (captured, _guard) = Captured::install(tracing::Level::TRACE);
        // The echo is real: a JSON decoder turns it back into the key.
        let warning: serde_json::Value =
            serde_json::from_str(&echoing_bodies(&echoed)[1]).expect("valid JSON");
        prop_assert_eq!(&warning["warningMsg"], &format!("key {key}"));
        for body in echoing_bodies(&echoed) {
            *answer.lock().expect("lock") = body.clone();
            for shown in runtime.block_on(everything_shown(&client)) {
                prop_assert!(!shown.contains(&key), "the key leaked from {body} in:\n{shown}");
            }
        }
        let log = captured.text();
        prop_assert!(!log.contains(&key), "the key leaked in the log:\n{log}");
    });
}

/// Everything a caller can print of a call's error: `Display`, `Debug`, the
/// body preview's text and each cause.
async fn printed_error(client: &Client) -> Vec<String> {
    let error = client
        .get_client_summary_info(&PartnerGetClientSummaryInfoWsRequest::default())
        .await
        .expect_err("the server fails the call");
    let mut printed = vec![format!("{error}"), format!("{error:?}")];
    printed.extend(error.body().map(|body| body.text().to_owned()));
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        printed.push(format!("{cause} {cause:?}"));
        source = cause.source();
    }
    printed
}

/// Finding 1 of issue 26: an error body cut at the 64 KiB preview in the
/// middle of an echoed key showed all of it but its last characters. The
/// body is scrubbed whole before it is cut, so no part of the key shows.
#[tokio::test]
async fn a_key_echoed_across_the_preview_cut_shows_no_part_of_itself() {
    for before_cut in [1, 5, KEY.len() - 1] {
        let mut body = "x".repeat(rhombus_partner::BODY_PREVIEW_LIMIT - before_cut);
        body.push_str(KEY);
        body.push_str(" and more");
        let server = Server::start(move |_, _| {
            Action::Raw(response(500, &[("content-type", "text/plain")], &body))
        })
        .await;
        let client = builder(&server.url).build().expect("valid configuration");
        // The key without its last character: what leaked before.
        let most_of_key = &KEY[..KEY.len() - 1];
        let start_of_key = &KEY[..before_cut.min(KEY.len() - 1).max(1)];
        for shown in printed_error(&client).await {
            assert!(!shown.contains(most_of_key), "{before_cut}: {shown:.80}");
            let tail = &shown[shown.len().saturating_sub(200)..];
            assert!(
                !tail.contains(start_of_key) || start_of_key.len() < 4,
                "{before_cut}: the cut shows {start_of_key:?}: {tail}"
            );
        }
    }
}

/// `text` with every character percent-encoded (upper case hex).
fn percent_all(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// `text` with every character as a JSON `\u` escape.
fn json_all(text: &str) -> String {
    text.chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect()
}

/// Finding 2 of issue 26: a key encoded twice (or three times) survived in
/// `Display`, `Debug`, the causes and a redirect's `Location`. Every stack
/// of up to three of the known encodings is scrubbed.
#[tokio::test]
async fn a_key_encoded_two_or_three_times_shows_nowhere() {
    let stacks = [
        percent_all(&percent_all(KEY)),
        json_all(&percent_all(KEY)),
        percent_all(&json_all(KEY)),
        json_all(&json_all(KEY)),
        percent_all(&percent_all(&percent_all(KEY))),
        percent_all(&json_all(&percent_all(KEY))),
    ];
    for encoded in stacks {
        let in_body = format!(r#"{{"error": true, "errorMsg": "bad key {encoded}"}}"#);
        let location = format!("https://elsewhere.example/?k={encoded}");
        for answer in [json(200, &in_body), response(500, &[], &encoded)] {
            let server = Server::start(move |_, _| Action::Raw(answer.clone())).await;
            let client = builder(&server.url).build().expect("valid configuration");
            for shown in printed_error(&client).await {
                for form in [
                    KEY.to_owned(),
                    percent_all(KEY),
                    json_all(KEY),
                    encoded.clone(),
                ] {
                    assert!(!shown.contains(&form), "{form} survived: {shown:.300}");
                }
            }
        }
        let moved = response(307, &[("location", &location)], "");
        let server = Server::start(move |_, _| Action::Raw(moved.clone())).await;
        let client = builder(&server.url).build().expect("valid configuration");
        for shown in printed_error(&client).await {
            assert!(!shown.contains(&encoded), "{encoded} survived in: {shown}");
        }
    }
}
