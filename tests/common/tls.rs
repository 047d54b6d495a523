//! TLS on loopback: throwaway certificates and servers' acceptors.

use std::sync::Arc;

/// Throwaway certificates, shared with the examples.
#[path = "../../examples/support/ca.rs"]
pub mod ca;

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
