//! Mutual TLS against a real TLS server on loopback: the certificate schemes
//! present the client certificate in the handshake, and a server that
//! requires one refuses a client without it or with one from another CA.
//!
//! Every certificate is made with rcgen when the test runs; the server is
//! rustls (through tokio-rustls) with a verifier that requires a client
//! certificate chained to the test CA.

use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rhombus_partner::types::PartnerGetClientSummaryInfoWsRequest;
use rhombus_partner::{AuthScheme, Client, Error, RetryPolicy};
use rustls::server::WebPkiClientVerifier;
use rustls::{CertificateError, RootCertStore, ServerConfig};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

mod common;

use common::ca::{Leaf, TestCa};

const KEY: &str = "test-key";
const SUMMARY_PATH: &str = "/api/partner/getClientSummaryInfo";
const SUMMARY_JSON: &str = r#"{"locationCount": 7, "licenseV2Enabled": true}"#;

/// A hang anywhere (handshake, request, server) fails the test instead of
/// blocking CI.
const TEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The client gives up well before the test guard, so its error is reported.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
/// The server gives up on a connection that stalls after it was accepted.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// Five attempts a millisecond or two apart: a retry, if one were made,
/// would reach the server before the call returns.
fn fast_retries() -> RetryPolicy {
    RetryPolicy::default().backoff(Duration::from_millis(1), Duration::from_millis(2))
}

async fn guarded<F: Future>(test: F) -> F::Output {
    tokio::time::timeout(TEST_TIMEOUT, test)
        .await
        .expect("the test timed out: a handshake or request hung")
}

// ---------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------

/// What the server observed on one connection.
#[derive(Debug)]
enum Seen {
    /// The TLS handshake failed, with this error from tokio-rustls.
    HandshakeFailed(io::Error),
    /// A complete HTTP request after a successful handshake; it was answered.
    Request { head: String, body: Vec<u8> },
    /// The handshake succeeded but no complete request followed, and why.
    Incomplete(#[expect(dead_code, reason = "read only when a failing test prints it")] String),
}

impl Seen {
    /// The rustls error behind a failed handshake, if that is what this is.
    fn handshake_error(&self) -> Option<&rustls::Error> {
        match self {
            Seen::HandshakeFailed(error) => error.get_ref()?.downcast_ref(),
            _ => None,
        }
    }
}

/// A TLS server on 127.0.0.1 that requires a client certificate chained to
/// one CA. It accepts connections until it is dropped, so a client that
/// connected again (a retry) would be seen, and records what it saw on each.
struct MtlsServer {
    port: u16,
    accepted: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: JoinHandle<()>,
}

impl Drop for MtlsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MtlsServer {
    async fn start(trusted_ca: &TestCa, server: &Leaf) -> Self {
        // An explicit provider: the process default is not set by anyone
        // here, and must not depend on which crates happen to be linked.
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut client_roots = RootCertStore::empty();
        client_roots
            .add(trusted_ca.der())
            .expect("CA usable as a client root");
        // `build` without `allow_unauthenticated` makes a client
        // certificate mandatory.
        let client_verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(client_roots), provider.clone())
                .build()
                .expect("client certificate verifier");
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_client_cert_verifier(client_verifier)
            .with_single_cert(vec![server.cert_der()], server.private_key_der())
            .expect("server certificate and key");
        let acceptor = TlsAcceptor::from(Arc::new(config));

        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let port = listener.local_addr().expect("local address").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (count, record) = (accepted.clone(), seen.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                count.fetch_add(1, Ordering::SeqCst);
                let (acceptor, record) = (acceptor.clone(), record.clone());
                tokio::spawn(async move {
                    let observed =
                        tokio::time::timeout(CONNECTION_TIMEOUT, serve_connection(&acceptor, tcp))
                            .await
                            .unwrap_or_else(|_| Seen::Incomplete("the connection stalled".into()));
                    record.lock().expect("lock").push(observed);
                });
            }
        });
        MtlsServer {
            port,
            accepted,
            seen,
            task,
        }
    }

    fn base_url(&self) -> String {
        // The name, not the address, so the client checks the certificate
        // the way it would for the real host.
        format!("https://localhost:{}", self.port)
    }

    /// What the server saw on every connection it accepted, once each is
    /// handled. Call it after the client's call returned: every connection
    /// the client made (retries included) was accepted before that, since
    /// no handshake completes or fails without the server.
    async fn observed(&self) -> Vec<Seen> {
        let accepted = self.accepted.load(Ordering::SeqCst);
        loop {
            {
                let mut seen = self.seen.lock().expect("lock");
                if seen.len() >= accepted {
                    return std::mem::take(&mut *seen);
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn serve_connection(acceptor: &TlsAcceptor, tcp: tokio::net::TcpStream) -> Seen {
    let mut tls = match acceptor.accept(tcp).await {
        Ok(tls) => tls,
        Err(error) => return Seen::HandshakeFailed(error),
    };
    let (head, body) = match common::read_request(&mut tls, &mut Vec::new()).await {
        Some(request) => (request.head, request.body),
        None => return Seen::Incomplete("closed before a whole request".to_owned()),
    };
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{SUMMARY_JSON}",
        SUMMARY_JSON.len()
    );
    // The request is complete whether or not the answer gets through; a
    // failed write shows up as a client error in the test.
    let _ = tls.write_all(response.as_bytes()).await;
    let _ = tls.shutdown().await;
    Seen::Request { head, body }
}

/// A header's value in a request head; names compare case-insensitively.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then_some(value.trim())
    })
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

fn summary_request() -> PartnerGetClientSummaryInfoWsRequest {
    PartnerGetClientSummaryInfoWsRequest::default().with_client_org_uuid("ORG-UUID-1")
}

#[tokio::test]
async fn certificate_scheme_with_identity_succeeds() {
    guarded(async {
        let ca = TestCa::new("rhombus-partner test CA").expect("CA");
        let server_leaf = ca.issue_server().expect("server certificate");
        let client_leaf = ca
            .issue_client("test-partner-client")
            .expect("client certificate");

        for (scheme, header_value) in [
            (AuthScheme::PartnerApi, "partner-api"),
            (AuthScheme::Api, "api"),
        ] {
            let server = MtlsServer::start(&ca, &server_leaf).await;
            let client = Client::builder()
                .api_key(KEY)
                .scheme(scheme)
                .identity(client_leaf.identity_pem())
                .add_root_certificate(ca.pem())
                .base_url(server.base_url())
                .timeout(CLIENT_TIMEOUT)
                .build()
                .expect("a certificate scheme with an identity builds");

            let summary = client
                .get_client_summary_info(&summary_request())
                .await
                .unwrap_or_else(|e| panic!("{scheme}: the mTLS call failed: {e:?}"));
            assert_eq!(summary.location_count, Some(7), "{scheme}");
            assert_eq!(summary.license_v2_enabled, Some(true), "{scheme}");

            let seen = server.observed().await;
            let [Seen::Request { head, body }] = seen.as_slice() else {
                panic!("{scheme}: expected one answered request, the server saw {seen:?}");
            };
            let request_line = head.lines().next().unwrap_or_default();
            assert_eq!(
                request_line,
                format!("POST {SUMMARY_PATH} HTTP/1.1"),
                "{scheme}"
            );
            assert_eq!(
                header(head, "x-auth-scheme"),
                Some(header_value),
                "{scheme}"
            );
            assert_eq!(header(head, "x-auth-apikey"), Some(KEY), "{scheme}");
            let body: Value = serde_json::from_slice(body).expect("the request body is JSON");
            assert_eq!(body, json!({"clientOrgUuid": "ORG-UUID-1"}), "{scheme}");
        }
    })
    .await;
}

#[tokio::test]
async fn without_identity_handshake_is_refused() {
    guarded(async {
        let ca = TestCa::new("rhombus-partner test CA").expect("CA");
        let server = MtlsServer::start(&ca, &ca.issue_server().expect("server certificate")).await;
        // A token scheme sends no certificate; this server demands one.
        let client = Client::builder()
            .api_key(KEY)
            .scheme(AuthScheme::PartnerApiToken)
            .add_root_certificate(ca.pem())
            .base_url(server.base_url())
            .timeout(CLIENT_TIMEOUT)
            // Retries that would come at once: a refused handshake must
            // not be one of them.
            .retry_policy(fast_retries())
            .build()
            .expect("a token scheme without an identity builds");

        let error = client
            .get_client_summary_info(&summary_request())
            .await
            .expect_err("the server requires a client certificate");
        assert!(
            matches!(error, Error::Transport { .. }),
            "expected a transport error, got {error:?}"
        );

        // The refusal is the server's, for the missing certificate (not, say,
        // the client distrusting the server), and no request got through.
        let seen = server.observed().await;
        let [refused] = seen.as_slice() else {
            panic!("expected one connection, the server saw {seen:?}");
        };
        assert!(
            matches!(
                refused.handshake_error(),
                Some(rustls::Error::NoCertificatesPresented)
            ),
            "expected a handshake refused for lack of a client certificate, got {refused:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn client_certificate_from_untrusted_ca_is_refused() {
    guarded(async {
        let trusted_ca = TestCa::new("rhombus-partner test CA").expect("CA");
        let untrusted_ca = TestCa::new("some other CA").expect("CA");
        let server = MtlsServer::start(
            &trusted_ca,
            &trusted_ca.issue_server().expect("server certificate"),
        )
        .await;
        // The client trusts the server, but its own certificate is signed by
        // a CA the server does not know.
        let client = Client::builder()
            .api_key(KEY)
            .scheme(AuthScheme::PartnerApi)
            .identity(
                untrusted_ca
                    .issue_client("test-partner-client")
                    .expect("client certificate")
                    .identity_pem(),
            )
            .add_root_certificate(trusted_ca.pem())
            .base_url(server.base_url())
            .timeout(CLIENT_TIMEOUT)
            // Retries that would come at once: a refused handshake must
            // not be one of them.
            .retry_policy(fast_retries())
            .build()
            .expect("any well-formed identity builds");

        let error = client
            .get_client_summary_info(&summary_request())
            .await
            .expect_err("the server does not trust the client certificate");
        assert!(
            matches!(error, Error::Transport { .. }),
            "expected a transport error, got {error:?}"
        );

        let seen = server.observed().await;
        let [refused] = seen.as_slice() else {
            panic!("expected one connection, the server saw {seen:?}");
        };
        assert!(
            matches!(
                refused.handshake_error(),
                Some(rustls::Error::InvalidCertificate(
                    CertificateError::UnknownIssuer
                ))
            ),
            "expected a handshake refused for an unknown issuer, got {refused:?}"
        );
    })
    .await;
}

// ---------------------------------------------------------------------------
// Private keys in the other PEM forms: PKCS#1 (RSA) and SEC1 (EC)
// ---------------------------------------------------------------------------

/// A fresh key in each PEM form besides PKCS#8, as OpenSSL writes them: its
/// label, the same key for rcgen (to certify it), and the key's PEM.
fn keys_in_other_forms() -> Vec<(&'static str, rcgen::KeyPair, String)> {
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};

    let rsa = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("RSA");
    let rsa_pkcs8 = rsa.as_der().expect("PKCS#8").as_ref().to_vec();
    let ec = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).expect("EC");
    let ec_pkcs8 = ec.to_pkcs8v1().expect("PKCS#8").as_ref().to_vec();
    let sec1 = ec.private_key().as_der().expect("SEC1").as_ref().to_vec();
    let pem = |label: &str, der: Vec<u8>| pem::encode(&pem::Pem::new(label, der));
    let certifiable = |pkcs8: &[u8]| rcgen::KeyPair::try_from(pkcs8).expect("rcgen takes the key");
    vec![
        (
            "RSA PRIVATE KEY",
            certifiable(&rsa_pkcs8),
            pem("RSA PRIVATE KEY", pkcs1_of(&rsa_pkcs8)),
        ),
        (
            "EC PRIVATE KEY",
            certifiable(&ec_pkcs8),
            pem("EC PRIVATE KEY", sec1),
        ),
    ]
}

/// The PKCS#1 key inside a PKCS#8 RSA key: the octet string after the
/// version and the algorithm.
fn pkcs1_of(pkcs8: &[u8]) -> Vec<u8> {
    yasna::parse_der(pkcs8, |reader| {
        reader.read_sequence(|fields| {
            fields.next().read_u8()?;
            fields.next().read_sequence(|algorithm| {
                algorithm.next().read_oid()?;
                algorithm.next().read_null()
            })?;
            fields.next().read_bytes()
        })
    })
    .expect("a PKCS#8 RSA key")
}

#[cfg(not(feature = "native-tls"))]
#[tokio::test]
async fn pkcs1_and_sec1_keys_work_with_rustls() {
    guarded(async {
        let ca = TestCa::new("rhombus-partner test CA").expect("CA");
        let server_leaf = ca.issue_server().expect("server certificate");
        for (label, key, key_pem) in keys_in_other_forms() {
            assert!(key_pem.starts_with(&format!("-----BEGIN {label}-----")));
            let leaf = ca
                .issue_client_with_key("test-partner-client", key)
                .expect("client certificate");
            let server = MtlsServer::start(&ca, &server_leaf).await;
            let client = Client::builder()
                .api_key(KEY)
                .scheme(AuthScheme::PartnerApi)
                .identity(format!("{}{key_pem}", leaf.cert_pem()))
                .add_root_certificate(ca.pem())
                .base_url(server.base_url())
                .timeout(CLIENT_TIMEOUT)
                .build()
                .unwrap_or_else(|e| panic!("{label}: {e}"));
            let summary = client
                .get_client_summary_info(&summary_request())
                .await
                .unwrap_or_else(|e| panic!("{label}: the mTLS call failed: {e:?}"));
            assert_eq!(summary.location_count, Some(7), "{label}");
            let seen = server.observed().await;
            assert!(
                matches!(seen.as_slice(), [Seen::Request { .. }]),
                "{label}: {seen:?}"
            );
        }
    })
    .await;
}

/// native-tls takes only PKCS#8: `build()` refuses the other forms and says
/// how to convert them. With both TLS features on this runs too, and shows
/// that native-tls is the one used.
#[cfg(feature = "native-tls")]
#[test]
fn native_tls_refuses_pkcs1_and_sec1_keys_with_the_openssl_hint() {
    let ca = TestCa::new("rhombus-partner test CA").expect("CA");
    for (label, key, key_pem) in keys_in_other_forms() {
        let leaf = ca
            .issue_client_with_key("test-partner-client", key)
            .expect("client certificate");
        let error = Client::builder()
            .api_key(KEY)
            .scheme(AuthScheme::PartnerApi)
            .identity(format!("{}{key_pem}", leaf.cert_pem()))
            .build()
            .expect_err("native-tls takes only PKCS#8");
        assert!(
            matches!(error, rhombus_partner::BuildError::InvalidIdentity { .. }),
            "{label}: {error:?}"
        );
        let message = error.to_string();
        assert!(message.contains(label), "{message}");
        assert!(
            message.contains("openssl pkcs8 -topk8 -nocrypt -in key.pem"),
            "{message}"
        );
    }
}
