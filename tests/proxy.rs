//! Through a proxy taken from the environment (`HTTPS_PROXY`, reqwest's
//! `system-proxy` handling), an `https` call is tunnelled: the proxy learns
//! the API's host and port from `CONNECT`, and everything after is TLS, so
//! it never sees the key. Alone in its binary because it sets the process
//! environment.

mod common;

use std::sync::{Arc, Mutex};

use common::Server;
use rhombus_partner::Client;
use rhombus_partner::types::PartnerGetClientSummaryInfoWsRequest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const KEY: &str = "proxy-test-key-93aa1c";

/// A TLS front on `localhost` for `backend`; returns its port and CA.
async fn tls_front(backend: String) -> (u16, String) {
    let ca = common::ca::TestCa::new("proxy test CA").expect("CA");
    let acceptor = common::tls_acceptor(&ca);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let backend = backend.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = TcpStream::connect(&backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    (port, ca.pem())
}

/// An HTTP proxy on 127.0.0.2 that answers `CONNECT` by tunnelling to
/// `target` (whatever the request names) and records every byte the client
/// sent through it.
async fn recording_proxy(target: String) -> (String, Arc<Mutex<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.2:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let record = record.clone();
            let target = target.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if client.read_exact(&mut byte).await.is_err() {
                        return;
                    }
                    head.push(byte[0]);
                }
                record.lock().expect("lock").extend_from_slice(&head);
                let Ok(mut upstream) = TcpStream::connect(&target).await else {
                    return;
                };
                if client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
                let mut buffer = vec![0u8; 16 * 1024];
                loop {
                    tokio::select! {
                        read = client.read(&mut buffer) => {
                            let Ok(n) = read else { return };
                            if n == 0 { return; }
                            record.lock().expect("lock").extend_from_slice(&buffer[..n]);
                            if upstream.write_all(&buffer[..n]).await.is_err() { return; }
                        }
                        back = async {
                            let mut reply = vec![0u8; 16 * 1024];
                            let n = upstream.read(&mut reply).await?;
                            reply.truncate(n);
                            Ok::<_, std::io::Error>(reply)
                        } => {
                            let Ok(reply) = back else { return };
                            if reply.is_empty() || client.write_all(&reply).await.is_err() { return; }
                        }
                    }
                }
            });
        }
    });
    (url, seen)
}

#[tokio::test]
async fn an_https_call_through_a_proxy_shows_the_proxy_no_key() {
    let api =
        Server::start(|_, _| common::Action::Raw(common::json(200, r#"{"locationCount": 4}"#)))
            .await;
    let backend = api.url.trim_start_matches("http://").to_owned();
    let (port, ca) = tls_front(backend).await;
    let (proxy, seen) = recording_proxy(format!("127.0.0.1:{port}")).await;
    // SAFETY: this binary's only test; nothing else reads the environment
    // while it is set.
    unsafe {
        std::env::set_var("HTTPS_PROXY", &proxy);
        std::env::remove_var("NO_PROXY");
        std::env::remove_var("no_proxy");
    }
    let client = Client::builder()
        .api_key(KEY)
        .base_url(format!("https://localhost:{port}"))
        .add_root_certificate(ca)
        .build()
        .expect("valid configuration");
    let summary = client
        .get_client_summary_info(&PartnerGetClientSummaryInfoWsRequest::default())
        .await
        .expect("the call goes through the proxy");
    assert_eq!(summary.location_count, Some(4));
    assert!(api.seen()[0].head.contains(KEY), "the API got the key");

    let through_proxy = seen.lock().expect("lock").clone();
    let text = String::from_utf8_lossy(&through_proxy);
    assert!(
        text.starts_with(&format!("CONNECT localhost:{port} HTTP/1.1")),
        "the call did not go through the proxy: {text:?}"
    );
    assert!(
        !through_proxy
            .windows(KEY.len())
            .any(|w| w == KEY.as_bytes()),
        "the proxy saw the key"
    );
    assert!(!text.contains("x-auth-apikey"), "the proxy saw the headers");
}
