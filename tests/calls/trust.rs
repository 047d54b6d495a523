//! Where the key may go and which servers are trusted: no redirect is
//! followed (to another host, port or scheme, or the same origin), and a
//! server certificate the client refuses ends the call at the first
//! handshake.

use super::*;

#[tokio::test]
async fn a_redirect_is_not_followed_so_another_host_or_port_never_sees_the_key() {
    let other_host = Server::start_on("127.0.0.2", |_, _| Action::Raw(ok_body())).await;
    let other_port = Server::start(|_, _| Action::Raw(ok_body())).await;
    for target in [&other_host.url, &other_port.url] {
        for status in [301, 302, 303, 307, 308] {
            let location = format!("{target}{PATH}");
            let sent = location.clone();
            let origin = Server::start(move |_, _| {
                Action::Raw(response(status, &[("location", &sent)], ""))
            })
            .await;
            let client = client(&origin.url, fast());

            let result = summary(&client).await;
            let Err(Error::Redirect {
                status: seen,
                location: Some(ref named),
                ..
            }) = result
            else {
                panic!("expected Redirect, got {result:?}");
            };
            assert_eq!(seen.as_u16(), status);
            assert_eq!(named, &location);
            let message = result.unwrap_err().to_string();
            assert!(message.contains(&location), "{message}");
            assert!(message.contains("not followed"), "{message}");

            assert_eq!(origin.requests(), 1, "sent once, never again");
            assert!(origin.seen().iter().all(|s| s.head.contains(KEY)));
        }
    }
    assert_eq!(other_host.requests(), 0, "the other host saw a request");
    assert_eq!(other_port.requests(), 0, "the other port saw a request");
}

#[tokio::test]
async fn a_redirect_to_the_same_origin_is_not_followed_either() {
    let origin = Server::start(|n, _| match n {
        0 => Action::Raw(response(307, &[("location", "/api/partner/elsewhere")], "")),
        _ => Action::Raw(ok_body()),
    })
    .await;
    let result = summary(&client(&origin.url, fast())).await;
    assert!(
        matches!(&result, Err(Error::Redirect { location: Some(l), .. }) if l == "/api/partner/elsewhere"),
        "{result:?}"
    );
    assert_eq!(origin.requests(), 1);
}

/// A TLS origin that redirects every request to `location`.
async fn tls_redirecting_origin(location: String) -> (String, String) {
    let ca = common::ca::TestCa::new("trust test CA").expect("CA");
    let acceptor = common::tls_acceptor(&ca);
    let (listener, url) = common::tls::localhost_listener().await;
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                continue;
            };
            let mut head = [0u8; 4096];
            let _ = tls.read(&mut head).await;
            let answer = response(301, &[("location", &location)], "");
            let _ = tls.write_all(&answer).await;
            let _ = tls.shutdown().await;
        }
    });
    (url, ca.pem())
}

#[tokio::test]
async fn https_redirected_to_http_sends_nothing_in_clear_text() {
    let clear = Server::start(|_, _| Action::Raw(ok_body())).await;
    let port = clear.url.rsplit(':').next().expect("port").to_owned();
    let location = format!("http://localhost:{port}{PATH}");
    let (origin, ca) = tls_redirecting_origin(location.clone()).await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(&origin)
        .add_root_certificate(ca)
        .retry_policy(fast())
        .build()
        .expect("valid configuration");
    let result = guarded(summary(&client)).await;
    assert!(
        matches!(&result, Err(Error::Redirect { location: Some(l), .. }) if *l == location),
        "{result:?}"
    );
    assert_eq!(clear.requests(), 0, "the key went out over plain HTTP");
}

/// A TLS server on 127.0.0.1 presenting `leaf`, counting the connections
/// (so the handshakes) it was offered. Its URL names `localhost`.
async fn tls_server(
    leaf: &common::ca::Leaf,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let acceptor = common::tls_acceptor_for(leaf);
    let (listener, url) = common::tls::localhost_listener().await;
    let handshakes = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = handshakes.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    let _ = tls.write_all(&ok_body()).await;
                }
            });
        }
    });
    (url, handshakes)
}

/// Each refused certificate ends the call at the first handshake, as
/// `Transport { kind: Tls }` whose message says what was wrong with it;
/// the same with either TLS backend (CI runs this file with each).
#[tokio::test]
async fn a_refused_server_certificate_is_tls_after_one_handshake() {
    use common::ca::{Leaf, TestCa};
    let ca = TestCa::new("trust test CA").expect("CA");
    // What rustls and OpenSSL each say of the certificate, lowercased.
    let cases: [(&str, Leaf, [&str; 2]); 3] = [
        (
            "self-signed",
            Leaf::self_signed(&["localhost"]).expect("certificate"),
            ["unknownissuer", "self-signed certificate"],
        ),
        (
            "for another host",
            ca.issue_server_for(&["api.example.com"])
                .expect("certificate"),
            ["not valid for name", "hostname mismatch"],
        ),
        (
            "expired",
            ca.issue_expired_server().expect("certificate"),
            ["expired", "has expired"],
        ),
    ];
    for (case, leaf, said) in cases {
        let (url, handshakes) = tls_server(&leaf).await;
        let client = Client::builder()
            .api_key(KEY)
            .base_url(&url)
            .add_root_certificate(ca.pem())
            .retry_policy(fast())
            .build()
            .expect("valid configuration");
        let result = guarded(summary(&client)).await;
        let Err(error @ Error::Transport { kind, attempts, .. }) = &result else {
            panic!("{case}: expected Transport, got {result:?}");
        };
        let message = error.report();
        assert_eq!((*kind, *attempts), (TransportKind::Tls, 1), "{case}");
        assert!(
            said.iter()
                .any(|words| message.to_lowercase().contains(words)),
            "{case}: the message does not say what is wrong: {message}"
        );
        let shown = result.as_ref().unwrap_err().to_string();
        assert!(shown.contains("TLS handshake refused"), "{shown}");
        assert_eq!(
            handshakes.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "{case}: handshakes"
        );
    }
}

/// Every way to a client, each against an origin that answers `307` to
/// another host: the builder, `Client::from_env` (in a child process, since
/// it reads the environment) and an area client from `for_org`. None
/// follows the redirect, so the other host never sees the key. (The
/// generated constructors, which built an HTTP client that followed it, are
/// private now: `ClientBuilder::build`'s doc has `compile_fail` examples.)
#[tokio::test]
async fn no_client_however_made_follows_a_redirect_to_another_host() {
    let other = Server::start_on("127.0.0.2", |_, _| Action::Raw(ok_body())).await;
    let target = format!("{}{PATH}", other.url);
    let origin =
        Server::start(move |_, _| Action::Raw(response(307, &[("location", &target)], ""))).await;

    let built = client(&origin.url, fast());
    let result = summary(&built).await;
    assert!(matches!(result, Err(Error::Redirect { .. })), "{result:?}");

    #[cfg(feature = "door")]
    {
        let doors = built.for_org("ORG").expect("a valid org").door();
        let result = doors.get_minimal_door_state_list(&Default::default()).await;
        assert!(matches!(result, Err(Error::Redirect { .. })), "{result:?}");
    }

    let base_url = origin.url.clone();
    // Off the runtime's thread, so the loopback servers go on answering.
    let child = tokio::task::spawn_blocking(move || {
        std::process::Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "trust::from_env_call_in_a_child",
                "--exact",
                "--ignored",
                "--nocapture",
            ])
            .env("RHOMBUS_API_KEY", KEY)
            .env("RHOMBUS_BASE_URL", base_url)
            .env_remove("RHOMBUS_AUTH_SCHEME")
            .output()
            .expect("the child runs")
    })
    .await
    .expect("the child's thread");
    let shown = String::from_utf8_lossy(&child.stdout);
    assert!(shown.contains("from_env call: Redirect"), "{shown}");

    assert_eq!(other.requests(), 0, "the other host saw a request");
    assert!(origin.seen().iter().all(|s| s.head.contains(KEY)));
}

/// The child's half of the test above: one call through `from_env`.
#[tokio::test]
#[ignore = "run by no_client_however_made_follows_a_redirect_to_another_host, in a child"]
async fn from_env_call_in_a_child() {
    let client = Client::from_env().expect("the parent set the environment");
    match summary(&client).await {
        Err(Error::Redirect { .. }) => println!("from_env call: Redirect"),
        other => println!("from_env call: {other:?}"),
    }
}
