//! Every way `ClientBuilder::build` refuses a configuration, and that the API
//! key never shows in `Debug` or `Display`.

use std::time::Duration;

use rhombus_partner::types::PartnerGetClientSummaryInfoWsRequest;
use rhombus_partner::{
    AuthScheme, BuildError, Client, ClientBuilder, Error, Pacing, Region, RetryPolicy,
    TransportKind,
};

/// Recognizable, so any leak is found by a substring search.
const KEY: &str = "SECRET-KEY-7d1e4b";

fn identity_pem() -> String {
    let cert = rcgen::generate_simple_self_signed(vec!["client".to_owned()]).expect("rcgen");
    format!("{}{}", cert.cert.pem(), cert.signing_key.serialize_pem())
}

fn build_err(builder: ClientBuilder) -> BuildError {
    let err = builder.build().expect_err("configuration must be refused");
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains(KEY),
        "the key leaked into an error: {shown}"
    );
    err
}

#[test]
fn no_key() {
    let err = build_err(Client::builder());
    assert!(matches!(err, BuildError::MissingApiKey));
    assert!(err.to_string().contains("api_key"), "{err}");
}

#[test]
fn empty_key() {
    for key in ["", "   "] {
        assert!(matches!(
            build_err(Client::builder().api_key(key)),
            BuildError::EmptyApiKey
        ));
    }
}

#[test]
fn key_that_is_not_a_header_value() {
    let err = build_err(Client::builder().api_key(format!("{KEY}\n")));
    assert!(matches!(err, BuildError::InvalidApiKey));
    assert!(err.to_string().contains("newline"), "{err}");
}

#[test]
fn non_ascii_keys_and_orgs_are_refused() {
    // `HeaderValue` itself accepts bytes above 127; the builder must not.
    for key in [
        format!("{KEY}\u{e9}"),
        "ключ-1234567890".to_owned(),
        format!("{KEY}\u{a0}"),
    ] {
        let err = build_err(Client::builder().api_key(key.clone()));
        assert!(matches!(err, BuildError::InvalidApiKey), "{key:?}: {err:?}");
        assert!(err.to_string().contains("non-ASCII"), "{err}");
    }
    let client = Client::builder().api_key(KEY).build().expect("valid");
    assert!(matches!(
        client.for_org("организация"),
        Err(BuildError::InvalidOrg { .. })
    ));
}

#[test]
fn org_that_is_not_a_header_value() {
    let client = Client::builder().api_key(KEY).build().expect("valid");
    let err = client.for_org("bad\r\norg").expect_err("CR LF is refused");
    assert!(matches!(err, BuildError::InvalidOrg { ref org } if org == "bad\r\norg"));
    assert!(matches!(
        client.for_org(" "),
        Err(BuildError::InvalidOrg { .. })
    ));
    let err = client
        .for_org("tab\tis fine but not\u{7f}")
        .expect_err("DEL is refused");
    assert!(matches!(err, BuildError::InvalidOrg { .. }));
}

#[test]
fn an_org_holding_the_key_is_refused() {
    let client = Client::builder().api_key(KEY).build().expect("valid");
    // The key pasted as the org, inside it, or with a stray newline (which
    // `InvalidOrg`, printing the org, would have shown).
    for org in [KEY.to_owned(), format!("org-{KEY}"), format!("{KEY}\r\n")] {
        match client.for_org(&org) {
            Ok(acting) => panic!("{org:?} accepted as an org: {acting:?}"),
            Err(err) => {
                let shown = format!("{err} {err:?}");
                assert!(!shown.contains(KEY), "the key leaked: {shown}");
                assert!(matches!(err, BuildError::OrgContainsApiKey), "{shown}");
                assert!(shown.contains("UUID"), "it says what to pass: {shown}");
            }
        }
    }
    // A part of the key is not the key.
    assert!(client.for_org(&KEY[..KEY.len() - 1]).is_ok());
}

#[test]
fn certificate_scheme_without_identity() {
    for scheme in [AuthScheme::Api, AuthScheme::PartnerApi] {
        let err = build_err(Client::builder().api_key(KEY).scheme(scheme));
        assert!(matches!(err, BuildError::IdentityRequired { scheme: s } if s == scheme));
        assert!(err.to_string().contains("identity"), "{err}");
    }
}

#[test]
fn identity_with_token_scheme() {
    for scheme in [AuthScheme::ApiToken, AuthScheme::PartnerApiToken] {
        let err = build_err(
            Client::builder()
                .api_key(KEY)
                .scheme(scheme)
                .identity(identity_pem()),
        );
        assert!(matches!(err, BuildError::IdentityWithTokenScheme { scheme: s } if s == scheme));
    }
}

#[test]
fn identity_that_does_not_parse() {
    let cert_only = rcgen::generate_simple_self_signed(vec!["client".to_owned()])
        .expect("rcgen")
        .cert
        .pem();
    for pem in ["not a pem at all".to_owned(), cert_only] {
        let err = build_err(
            Client::builder()
                .api_key(KEY)
                .scheme(AuthScheme::Api)
                .identity(pem),
        );
        assert!(matches!(err, BuildError::InvalidIdentity { .. }), "{err:?}");
        assert!(err.to_string().contains("PEM"), "{err}");
    }
}

#[test]
fn root_certificate_that_does_not_parse() {
    let err = build_err(
        Client::builder()
            .api_key(KEY)
            .add_root_certificate("garbage"),
    );
    assert!(
        matches!(err, BuildError::InvalidRootCertificate { .. }),
        "{err:?}"
    );
}

#[test]
fn base_url_that_is_not_http() {
    for url in [
        "ftp://example.com",
        "not a url",
        "https://example.com/?q=1",
        "unix:/tmp/sock",
    ] {
        let err = build_err(Client::builder().api_key(KEY).base_url(url));
        assert!(
            matches!(err, BuildError::InvalidBaseUrl { url: ref u, .. } if u == url),
            "{err:?}"
        );
        assert!(err.to_string().contains("https://"), "{err}");
    }
}

#[test]
fn clear_text_http_is_refused_beyond_loopback() {
    let remote = "http://api2.rhombussystems.com";
    let err = build_err(Client::builder().api_key(KEY).base_url(remote));
    assert!(
        matches!(&err, BuildError::InsecureBaseUrl { url } if url == remote),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("use https://"), "{message}");
    assert!(
        message.contains("ClientBuilder::allow_insecure_http(true)"),
        "{message}"
    );
    let allowed = Client::builder()
        .api_key(KEY)
        .base_url(remote)
        .allow_insecure_http(true)
        .build()
        .expect("allowed explicitly");
    assert_eq!(allowed.base_url(), remote);
    for local in ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9"] {
        let client = Client::builder().api_key(KEY).base_url(local).build();
        assert!(client.is_ok(), "{local}: {:?}", client.err());
    }
}

#[test]
fn user_agent_that_is_not_a_header_value() {
    let err = build_err(Client::builder().api_key(KEY).user_agent("agent\n"));
    assert!(matches!(err, BuildError::InvalidUserAgent { .. }));
}

#[test]
fn unknown_scheme_name() {
    let err = "bearer".parse::<AuthScheme>().expect_err("unknown");
    assert!(matches!(err, BuildError::UnknownScheme { ref value } if value == "bearer"));
    for scheme in AuthScheme::ALL {
        assert_eq!(
            scheme.as_str().parse::<AuthScheme>().expect("known"),
            scheme
        );
        assert_eq!(scheme.to_string(), scheme.as_str());
    }
}

#[test]
fn defaults_and_region() {
    let client = Client::builder().api_key(KEY).build().expect("valid");
    assert_eq!(client.scheme(), AuthScheme::PartnerApiToken);
    assert_eq!(client.base_url(), "https://api2.rhombussystems.com");

    let eu = Client::builder()
        .api_key(KEY)
        .region(Region::Eu)
        .build()
        .expect("valid");
    assert_eq!(eu.base_url(), "https://api2.eu.rhombussystems.com");

    let custom = Client::builder()
        .api_key(KEY)
        .region(Region::Eu)
        .base_url("http://127.0.0.1:1234/")
        .build()
        .expect("valid");
    assert_eq!(
        custom.base_url(),
        "http://127.0.0.1:1234",
        "base_url wins over region"
    );
}

#[test]
fn the_client_keeps_its_retry_policy() {
    let client = |policy: Option<RetryPolicy>| {
        let builder = Client::builder().api_key(KEY);
        match policy {
            Some(policy) => builder.retry_policy(policy),
            None => builder,
        }
        .build()
        .expect("valid")
    };
    assert_eq!(client(None).retry_policy(), &RetryPolicy::default());
    let custom = RetryPolicy::none().deadline(Duration::from_secs(3));
    assert_eq!(client(Some(custom.clone())).retry_policy(), &custom);
    let acting = client(Some(custom.clone()))
        .for_org("ORG")
        .expect("valid org");
    assert_eq!(acting.retry_policy(), &custom, "for_org keeps it too");
}

#[test]
fn debug_never_shows_the_key() {
    let pem = identity_pem();
    let builder = Client::builder()
        .api_key(KEY)
        .scheme(AuthScheme::PartnerApi)
        .identity(pem.clone())
        .timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(1));
    let builder_debug = format!("{builder:?} {builder:#?}");
    assert!(!builder_debug.contains(KEY), "{builder_debug}");
    assert!(!builder_debug.contains("PRIVATE KEY"), "{builder_debug}");
    // The secrets' places are marked, so a reader sees they are set.
    assert!(
        builder_debug.contains("api_key: Some(<redacted>)"),
        "{builder_debug}"
    );
    assert!(
        builder_debug.contains(&format!(
            "identity: Some(<{} bytes of PEM, redacted>)",
            pem.len()
        )),
        "{builder_debug}"
    );

    let client = builder.build().expect("valid");
    let acting = client.for_org("OtherOrg").expect("valid org");
    for shown in [
        format!("{client:?}"),
        format!("{client:#?}"),
        format!("{acting:?}"),
    ] {
        assert!(!shown.contains(KEY), "the key leaked: {shown}");
        assert!(
            shown.contains(r#"key: "<redacted>""#),
            "the key's place is marked: {shown}"
        );
        assert!(
            shown.contains(r#"scheme: PartnerApi"#),
            "the scheme is shown: {shown}"
        );
    }
    assert!(format!("{acting:?}").contains(r#"org: Some("OtherOrg")"#));
}

// ---------------------------------------------------------------------------
// The default timeouts, on tokio's paused clock: the test waits for nothing,
// and the time a call took is exact.
// ---------------------------------------------------------------------------

/// A call with the default timeouts and no retries, timed on the paused clock.
async fn timed_call(url: String) -> (Result<(), Error>, Duration) {
    let client = Client::builder()
        .api_key(KEY)
        .base_url(url)
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("valid");
    let start = tokio::time::Instant::now();
    let result = client
        .get_client_summary_info(&PartnerGetClientSummaryInfoWsRequest::default())
        .await
        .map(drop);
    (result, start.elapsed())
}

#[tokio::test(start_paused = true)]
async fn the_default_request_timeout_is_30_s() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    // Reads the request and never answers.
    let _server = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut request = [0u8; 4096];
        let _ = tokio::io::AsyncReadExt::read(&mut stream, &mut request).await;
        std::future::pending::<()>().await;
    });
    let (result, elapsed) = timed_call(url).await;
    let Err(Error::Transport { kind, source, .. }) = &result else {
        panic!("expected Transport, got {result:?}");
    };
    assert_eq!(*kind, TransportKind::Timeout);
    assert!(!source.is_connect(), "the connection was made: {source:?}");
    assert!(
        (Duration::from_secs(30)..Duration::from_secs(31)).contains(&elapsed),
        "{elapsed:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_default_connect_timeout_is_10_s() {
    // A listener whose accept queue is full (nobody accepts): the kernel
    // drops further connection attempts, so a connect never completes.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind("127.0.0.1:0".parse().expect("address"))
        .expect("bind");
    let address = socket.local_addr().expect("address");
    let _listener = socket.listen(1).expect("listen");
    let mut queued = Vec::new();
    let full = loop {
        match std::net::TcpStream::connect_timeout(&address, Duration::from_millis(200)) {
            Ok(stream) => queued.push(stream),
            Err(error) if error.kind() == std::io::ErrorKind::TimedOut => break true,
            Err(error) => panic!("filling the accept queue: {error}"),
        }
        if queued.len() > 16 {
            break false;
        }
    };
    assert!(full, "the accept queue did not fill up");

    let (result, elapsed) = timed_call(format!("http://{address}")).await;
    let Err(Error::Transport { kind, source, .. }) = &result else {
        panic!("expected Transport, got {result:?}");
    };
    assert_eq!(*kind, TransportKind::Timeout);
    assert!(source.is_connect(), "a connect timeout: {source:?}");
    assert!(
        (Duration::from_secs(10)..Duration::from_secs(11)).contains(&elapsed),
        "{elapsed:?}"
    );
}

/// `Client::from_env` reads the process environment, which every test
/// thread shares; so the reading happens in a child process: this test
/// binary again, running only `from_env_in_a_child`.
#[test]
fn from_env_reads_the_process_environment() {
    let run = |vars: &[(&str, &str)]| {
        let mut child = std::process::Command::new(std::env::current_exe().expect("test binary"));
        child.args(["from_env_in_a_child", "--exact", "--ignored", "--nocapture"]);
        for name in ["RHOMBUS_API_KEY", "RHOMBUS_AUTH_SCHEME", "RHOMBUS_BASE_URL"] {
            child.env_remove(name);
        }
        child.envs(vars.iter().copied());
        let output = child.output().expect("the test binary runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let shown = run(&[
        ("RHOMBUS_API_KEY", KEY),
        ("RHOMBUS_AUTH_SCHEME", "api-token"),
        ("RHOMBUS_BASE_URL", "http://127.0.0.1:9/"),
    ]);
    assert!(
        shown.contains("from_env: api-token http://127.0.0.1:9\n"),
        "{shown}"
    );
    let shown = run(&[("RHOMBUS_API_KEY", KEY)]);
    assert!(
        shown.contains("from_env: partner-api-token https://api2.rhombussystems.com\n"),
        "{shown}"
    );
    let shown = run(&[]);
    assert!(shown.contains("from_env: no API key\n"), "{shown}");
}

/// The child's half of the test above: prints what `from_env` built.
#[test]
#[ignore = "run by from_env_reads_the_process_environment, in a child process"]
fn from_env_in_a_child() {
    match Client::from_env() {
        Ok(client) => println!("from_env: {} {}", client.scheme(), client.base_url()),
        Err(BuildError::MissingApiKey) => println!("from_env: no API key"),
        Err(other) => println!("from_env: {other}"),
    }
}

/// Arbitrary values for every setter; a loopback URL when `local`, which
/// is the only case where a call is made (no test reads the network).
#[derive(Debug, Clone)]
struct Settings {
    key: String,
    scheme: AuthScheme,
    identity: Option<Vec<u8>>,
    root: Option<Vec<u8>>,
    org: Option<String>,
    region: Option<Region>,
    url: Option<String>,
    local: bool,
    paced: bool,
    timeout: Duration,
    connect_timeout: Duration,
    policy: RetryPolicy,
    max_in_flight: usize,
    max_body: usize,
    user_agent: Option<String>,
}

fn any_duration() -> impl proptest::strategy::Strategy<Value = Duration> {
    use proptest::prelude::*;
    prop_oneof![
        (any::<u64>(), 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n)),
        (0u64..3_000).prop_map(Duration::from_millis),
        Just(Duration::ZERO),
        Just(Duration::MAX),
    ]
}

fn any_settings() -> impl proptest::strategy::Strategy<Value = Settings> {
    use proptest::prelude::*;
    let size = prop_oneof![any::<usize>(), 0usize..100, Just(usize::MAX)];
    let text = || proptest::option::of(any::<String>());
    let bytes = || proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64));
    let scheme = proptest::sample::select(vec![
        AuthScheme::ApiToken,
        AuthScheme::PartnerApiToken,
        AuthScheme::Api,
        AuthScheme::PartnerApi,
    ]);
    let policy = (
        any::<u32>(),
        any_duration(),
        any_duration(),
        any_duration(),
        any_duration(),
    )
        .prop_map(|(attempts, initial, max, cap, deadline)| {
            RetryPolicy::default()
                .max_attempts(attempts)
                .backoff(initial, max)
                .max_retry_after(cap)
                .deadline(deadline)
        });
    (
        (
            prop_oneof![any::<String>(), "[ -~]{0,40}"],
            scheme,
            bytes(),
            bytes(),
            text(),
        ),
        (
            proptest::option::of(prop_oneof![Just(Region::Us), Just(Region::Eu)]),
            text(),
            any::<bool>(),
            any::<bool>(),
        ),
        (
            any_duration(),
            any_duration(),
            policy,
            size.clone(),
            size,
            text(),
        ),
    )
        .prop_map(
            |(
                (key, scheme, identity, root, org),
                (region, url, local, paced),
                (timeout, connect_timeout, policy, max_in_flight, max_body, user_agent),
            )| Settings {
                key,
                scheme,
                identity,
                root,
                org,
                region,
                url,
                local,
                paced,
                timeout,
                connect_timeout,
                policy,
                max_in_flight,
                max_body,
                user_agent,
            },
        )
}

fn configured(settings: &Settings, loopback: &str) -> ClientBuilder {
    let s = settings.clone();
    let mut builder = Client::builder()
        .api_key(s.key)
        .scheme(s.scheme)
        .timeout(s.timeout)
        .connect_timeout(s.connect_timeout)
        .retry_policy(s.policy)
        .max_concurrent_requests(s.max_in_flight)
        .max_response_bytes(s.max_body)
        .pacing(if s.paced {
            Pacing::learned()
        } else {
            Pacing::off()
        });
    if let Some(identity) = s.identity {
        builder = builder.identity(identity);
    }
    if let Some(root) = s.root {
        builder = builder.add_root_certificate(root);
    }
    if let Some(region) = s.region {
        builder = builder.region(region);
    }
    if let Some(url) = s.url {
        builder = builder.base_url(url);
    }
    if s.local {
        builder = builder.base_url(loopback);
    }
    if let Some(agent) = s.user_agent {
        builder = builder.user_agent(agent);
    }
    builder
}

/// No value given to any setter panics, in `build()` or in a call: each
/// ends in a client or a `BuildError`, and a call in a result.
#[test]
fn no_setter_value_panics_at_build_or_call_time() {
    use proptest::prelude::*;
    use tokio::io::AsyncWriteExt;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let loopback = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move {
            while let Ok((mut tcp, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buffer = [0u8; 4096];
                    let _ = tokio::io::AsyncReadExt::read(&mut tcp, &mut buffer).await;
                    let body = r#"{"locationCount": 1}"#;
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = tcp.write_all(answer.as_bytes()).await;
                });
            }
        });
        url
    });
    let config = ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    };
    proptest!(config, |(settings in any_settings())| {
        let Ok(client) = configured(&settings, &loopback).build() else {
            return Ok(());
        };
        if let Some(org) = &settings.org {
            // An org is taken or refused, never a panic.
            let _ = client.for_org(org);
        }
        if settings.local {
            let (checked, body) = (&client, PartnerGetClientSummaryInfoWsRequest::default());
            let call = checked.get_client_summary_info(&body);
            // Whatever the settings, the call ends (the guard only keeps a
            // wrong setting from stalling the test).
            let _ = runtime.block_on(async { tokio::time::timeout(Duration::from_secs(1), call).await });
        }
    });
}
