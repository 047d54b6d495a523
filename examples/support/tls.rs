//! Mutual TLS in front of the fake server, for the `mtls` example: a TLS
//! listener on loopback that requires a client certificate from its own CA
//! and then passes the bytes through to the fake server.
//!
//! The certificates are made in-process with rcgen each time the example
//! runs; nothing is written to disk.

use std::net::SocketAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// Throwaway certificates: a CA, and a client identity it signed.
pub struct Certificates {
    /// The CA certificate, which also signed the front's server certificate:
    /// what the client must trust (`ClientBuilder::add_root_certificate`).
    pub ca_pem: String,
    /// A client certificate and its private key (PKCS#8) in one PEM: what
    /// `ClientBuilder::identity` takes.
    pub client_identity_pem: String,
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Certificates {
    /// A new CA and a client certificate it signed.
    pub fn generate() -> Result<Self, rcgen::Error> {
        let mut params = CertificateParams::new(Vec::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "rhombus-partner example CA");
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;
        let (cert, key) = leaf(&issuer, "example-partner-client", Vec::new(), false)?;
        Ok(Certificates {
            ca_pem: issuer.pem(),
            client_identity_pem: format!("{}{}", cert.pem(), key.serialize_pem()),
            issuer,
        })
    }
}

/// A certificate signed by `issuer`, and its key.
fn leaf(
    issuer: &CertifiedIssuer<'static, KeyPair>,
    common_name: &str,
    names: Vec<String>,
    server: bool,
) -> Result<(rcgen::Certificate, KeyPair), rcgen::Error> {
    let mut params = CertificateParams::new(names)?;
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![if server {
        ExtendedKeyUsagePurpose::ServerAuth
    } else {
        ExtendedKeyUsagePurpose::ClientAuth
    }];
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, issuer)?;
    Ok((cert, key))
}

/// Starts the TLS front on 127.0.0.1, forwarding to `backend` (the fake
/// server's address); returns its base URL, `https://localhost:<port>`. It
/// serves until the process exits. Connections without a client
/// certificate from the CA in `certificates` fail in the handshake.
pub async fn start_front(
    certificates: &Certificates,
    backend: SocketAddr,
) -> Result<String, Box<dyn std::error::Error>> {
    let (server_cert, server_key) = leaf(
        &certificates.issuer,
        "localhost",
        vec!["localhost".to_owned(), "127.0.0.1".to_owned()],
        true,
    )?;
    // An explicit provider, so nothing depends on a process-wide default.
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut client_roots = RootCertStore::empty();
    client_roots.add(certificates.issuer.der().clone())?;
    // Without `allow_unauthenticated`, a client certificate is mandatory.
    let verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(client_roots), provider.clone())
            .build()?;
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![server_cert.der().clone()],
            PrivateKeyDer::from(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
        )?;
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
