//! TLS for the certificate schemes (feature `tls`): throwaway certificates
//! made in-process with rcgen (a CA, and the server and client certificates
//! it signs; nothing is written to disk), and a mutual-TLS front that
//! requires a client certificate from its CA before passing the bytes
//! through to a fake server. The `mtls` example and the TLS tests of the
//! library and of the audit use them.

use std::net::SocketAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// A certificate authority.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate and its private key, signed by a [`TestCa`].
pub struct Leaf {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl TestCa {
    /// A new self-signed CA with this common name.
    pub fn new(name: &str) -> Result<Self, rcgen::Error> {
        let mut params = CertificateParams::new(Vec::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;
        Ok(TestCa { issuer })
    }

    /// The CA certificate in PEM: what `ClientBuilder::add_root_certificate` takes.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// The CA certificate in DER, for a server's client-certificate verifier.
    pub fn der(&self) -> CertificateDer<'static> {
        self.issuer.der().clone()
    }

    /// A server certificate for `localhost` and `127.0.0.1`.
    pub fn issue_server(&self) -> Result<Leaf, rcgen::Error> {
        self.issue_server_for(&["localhost", "127.0.0.1"])
    }

    /// A server certificate for these names; a client connecting to
    /// another must refuse it.
    pub fn issue_server_for(&self, names: &[&str]) -> Result<Leaf, rcgen::Error> {
        self.sign(server_params(names)?, KeyPair::generate()?)
    }

    /// A server certificate for `localhost` whose validity ended in 2001.
    pub fn issue_expired_server(&self) -> Result<Leaf, rcgen::Error> {
        let mut params = server_params(&["localhost"])?;
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        self.sign(params, KeyPair::generate()?)
    }

    /// A client certificate: no names, since a server only checks the chain.
    pub fn issue_client(&self, common_name: &str) -> Result<Leaf, rcgen::Error> {
        self.issue_client_with_key(common_name, KeyPair::generate()?)
    }

    /// A client certificate for a given key (an RSA one, say).
    pub fn issue_client_with_key(
        &self,
        common_name: &str,
        key: KeyPair,
    ) -> Result<Leaf, rcgen::Error> {
        let params = leaf_params(common_name, Vec::new(), ExtendedKeyUsagePurpose::ClientAuth)?;
        self.sign(params, key)
    }

    fn sign(&self, params: CertificateParams, key: KeyPair) -> Result<Leaf, rcgen::Error> {
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Leaf { cert, key })
    }
}

/// What a leaf certificate is made from.
fn leaf_params(
    common_name: &str,
    subject_alt_names: Vec<String>,
    usage: ExtendedKeyUsagePurpose,
) -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(subject_alt_names)?;
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![usage];
    Ok(params)
}

/// What a server certificate for `names` (the first one its common name)
/// is made from.
fn server_params(names: &[&str]) -> Result<CertificateParams, rcgen::Error> {
    let common_name = names.first().copied().unwrap_or_default();
    let names = names.iter().map(|&name| name.to_owned()).collect();
    leaf_params(common_name, names, ExtendedKeyUsagePurpose::ServerAuth)
}

impl Leaf {
    /// A server certificate for `names` that signs itself: no CA vouches
    /// for it.
    pub fn self_signed(names: &[&str]) -> Result<Leaf, rcgen::Error> {
        let key = KeyPair::generate()?;
        let mut params = server_params(names)?;
        // A name no root certificate of the machine has, so no verifier
        // mistakes one for its issuer.
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(
            DnType::CommonName,
            "rhombus-partner self-signed test server",
        );
        let cert = params.self_signed(&key)?;
        Ok(Leaf { cert, key })
    }

    /// The certificate and its key in one PEM: what `ClientBuilder::identity` takes.
    pub fn identity_pem(&self) -> String {
        format!("{}{}", self.cert_pem(), self.key.serialize_pem())
    }

    /// The certificate alone in PEM, to pair with a key in another form.
    pub fn cert_pem(&self) -> String {
        self.cert.pem()
    }

    /// The certificate in DER, for a server's configuration.
    pub fn cert_der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }

    /// The private key (PKCS#8) in DER, for a server's configuration.
    pub fn private_key_der(&self) -> PrivateKeyDer<'static> {
        PrivatePkcs8KeyDer::from(self.key.serialize_der()).into()
    }
}

/// Throwaway certificates: a CA, and a client identity it signed.
pub struct Certificates {
    /// The CA certificate, which also signed the front's server certificate:
    /// what the client must trust (`ClientBuilder::add_root_certificate`).
    pub ca_pem: String,
    /// A client certificate and its private key (PKCS#8) in one PEM: what
    /// `ClientBuilder::identity` takes.
    pub client_identity_pem: String,
    ca: TestCa,
}

impl Certificates {
    /// A new CA and a client certificate it signed.
    pub fn generate() -> Result<Self, rcgen::Error> {
        let ca = TestCa::new("rhombus-partner example CA")?;
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
