//! TLS on loopback: throwaway certificates and servers' acceptors.

use std::sync::Arc;

/// Throwaway certificates, shared with the examples and the audit's tests
/// (the fake Rhombus crate's `tls` feature).
pub use rhombus_fake::tls as ca;

/// A TLS acceptor serving a certificate for `localhost` from `ca`, with no
/// client certificate asked for.
pub fn tls_acceptor(ca: &ca::TestCa) -> tokio_rustls::TlsAcceptor {
    tls_acceptor_for(&ca.issue_server().expect("server certificate"))
}

/// A TLS acceptor presenting `server`, with no client certificate asked for.
pub fn tls_acceptor_for(server: &ca::Leaf) -> tokio_rustls::TlsAcceptor {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![server.cert_der()], server.private_key_der())
        .expect("certificate and key");
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// A listener on 127.0.0.1 and the `https://localhost:<port>` URL that
/// reaches it: the name, not the address, so the client checks the
/// certificate the way it would for the real host.
pub async fn localhost_listener() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    (listener, format!("https://localhost:{port}"))
}
