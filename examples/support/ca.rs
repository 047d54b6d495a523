//! Throwaway certificates made in-process with rcgen: a CA, and server or
//! client certificates it signs. One helper for the examples and the tests
//! (`tests/common` includes this file); nothing is written to disk.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

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
        self.issue(
            "localhost",
            vec!["localhost".to_owned(), "127.0.0.1".to_owned()],
            ExtendedKeyUsagePurpose::ServerAuth,
            KeyPair::generate()?,
        )
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
        self.issue(
            common_name,
            Vec::new(),
            ExtendedKeyUsagePurpose::ClientAuth,
            key,
        )
    }

    fn issue(
        &self,
        common_name: &str,
        subject_alt_names: Vec<String>,
        usage: ExtendedKeyUsagePurpose,
        key: KeyPair,
    ) -> Result<Leaf, rcgen::Error> {
        let mut params = CertificateParams::new(subject_alt_names)?;
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![usage];
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Leaf { cert, key })
    }
}

impl Leaf {
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
