//! Mutual TLS in front of the fake server, for the `mtls` example: a TLS
//! listener on loopback that requires a client certificate from its own CA
//! and then passes the bytes through to the fake server.
//!
//! The certificates are made in-process with rcgen each time the example
//! runs; nothing is written to disk.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

#[path = "ca.rs"]
mod ca;

/// Throwaway certificates: a CA, and a client identity it signed.
pub struct Certificates {
    /// The CA certificate, which also signed the front's server certificate:
    /// what the client must trust (`ClientBuilder::add_root_certificate`).
    pub ca_pem: String,
    /// A client certificate and its private key (PKCS#8) in one PEM: what
    /// `ClientBuilder::identity` takes.
    pub client_identity_pem: String,
    ca: ca::TestCa,
}

impl Certificates {
    /// A new CA and a client certificate it signed.
    pub fn generate() -> Result<Self, rcgen::Error> {
        let ca = ca::TestCa::new("rhombus-partner example CA")?;
        Ok(Certificates {
            ca_pem: ca.pem(),
            client_identity_pem: ca.issue_client("example-partner-client")?.identity_pem(),
            ca,
        })
    }
}

/// Starts the TLS front on 127.0.0.1, forwarding to `backend` (the fake
/// server's address); returns its base URL, `https://localhost:<port>`. It
/// serves until the process exits. Connections without a client
/// certificate from the CA in `certificates` fail in the handshake.
pub async fn start_front(
    certificates: &Certificates,
    backend: SocketAddr,
) -> Result<String, Box<dyn std::error::Error>> {
    let server = certificates.ca.issue_server()?;
    // An explicit provider, so nothing depends on a process-wide default.
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut client_roots = RootCertStore::empty();
    client_roots.add(certificates.ca.der())?;
    // Without `allow_unauthenticated`, a client certificate is mandatory.
    let verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(client_roots), provider.clone())
            .build()?;
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![server.cert_der()], server.private_key_der())?;
    let acceptor = TlsAcceptor::from(Arc::new(config));

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Err(error) = forward(acceptor, tcp, backend).await {
                    eprintln!("  (TLS front: connection refused: {error})");
                }
            });
        }
    });
    Ok(format!("https://localhost:{port}"))
}

/// The handshake (which checks the client certificate), then bytes both ways.
async fn forward(
    acceptor: TlsAcceptor,
    tcp: TcpStream,
    backend: SocketAddr,
) -> std::io::Result<()> {
    let mut tls = acceptor.accept(tcp).await?;
    let mut plain = TcpStream::connect(backend).await?;
    tokio::io::copy_bidirectional(&mut tls, &mut plain).await?;
    Ok(())
}
