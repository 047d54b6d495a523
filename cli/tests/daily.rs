//! Every-day use of `rhombus-audit` (issue 27), run as a child process:
//! `--version`, completions and the man page, `--clients` from a file or
//! standard input, named accounts in a config file (`--profile`), one of
//! them over mutual TLS, `--region`, and an HTML answer from a proxy.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rhombus_audit::version::{LIBRARY_VERSION, UPSTREAM_DOCUMENT};
use rhombus_fake::{FAKE_API_KEY, FakeFleet, FakeOptions, FakeServer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use rhombus_fake::tls::TestCa;

mod common;

use common::{run, run_async, run_with, stderr, stdout};

/// The JSON document of a run that must have audited every client.
fn complete_document(output: &Output) -> Value {
    assert_eq!(output.status.code(), Some(0), "{}", stderr(output));
    let document: Value = serde_json::from_str(&stdout(output)).expect("JSON");
    assert_eq!(document["complete"], true);
    document
}

fn client_uuids(document: &Value) -> Vec<String> {
    (document["clients"].as_array().expect("clients").iter())
        .map(|r| r["client_uuid"].as_str().expect("uuid").to_owned())
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("a test file is written");
    path.to_str().expect("a UTF-8 path").to_owned()
}

#[test]
fn version_names_the_audit_the_library_and_the_upstream_document() {
    for flag in ["--version", "-V"] {
        let output = run(&[flag], &[]);
        assert_eq!(output.status.code(), Some(0));
        let version = stdout(&output);
        assert!(version.starts_with(concat!("rhombus-audit ", env!("CARGO_PKG_VERSION"))));
        assert!(
            version.contains(&format!("rhombus-partner {LIBRARY_VERSION}")),
            "{version}"
        );
        assert!(version.contains(UPSTREAM_DOCUMENT), "{version}");
    }
}

#[test]
fn completions_and_the_man_page_are_printed_and_name_the_command() {
    for args in [
        &["completions", "bash"][..],
        &["completions", "zsh"],
        &["completions", "fish"],
        &["man"],
    ] {
        let output = run(args, &[]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            stderr(&output)
        );
        let text = stdout(&output);
        assert!(text.contains("rhombus-audit"), "{args:?}");
        // Fish writes `-l profile`, roff `\-\-profile`.
        assert!(text.contains("profile"), "{args:?}: every option");
        assert!(
            output.stderr.is_empty(),
            "{args:?}: no note about the fake server"
        );
    }
    let man = stdout(&run(&["man"], &[]));
    assert!(man.starts_with(".ie") || man.contains(".TH"), "roff");
    for args in [&["completions", "tcsh"][..], &["--json", "man"]] {
        assert_eq!(run(args, &[]).status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn clients_are_trimmed_and_read_from_a_file_or_standard_input() {
    let fleet = FakeFleet::demo();
    let (first, second) = (&fleet.clients[0], &fleet.clients[1]);
    let expected = [first.uuid.clone(), second.uuid.clone()];

    let spaced = format!(" {} ,  {} ", first.uuid, second.name);
    let output = run(&["--json", "--quiet", "--clients", &spaced], &[]);
    assert_eq!(client_uuids(&complete_document(&output)), expected);

    let dir = tempfile::tempdir().expect("a temporary directory");
    let list = format!(
        "# the two first\n{}\n\n   {}  \n# done\n",
        first.uuid, second.name
    );
    let file = format!("@{}", write(dir.path(), "clients.txt", &list));
    let output = run(&["--json", "--quiet", "--clients", &file], &[]);
    assert_eq!(client_uuids(&complete_document(&output)), expected);

    let output = run_with(&["--json", "--quiet", "--clients", "-"], &[], &list);
    assert_eq!(client_uuids(&complete_document(&output)), expected);

    let output = run(
        &["--clients", "Acme Logistics,  ,Bayside Dental Group"],
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("a client is blank"),
        "{}",
        stderr(&output)
    );
    let output = run(&["--clients", "@/nonexistent/clients.txt"], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("/nonexistent/clients.txt"));
}

/// A config file with a profile per way of giving the key, all for the
/// fake server at `uri`.
fn key_profiles(dir: &Path, uri: &str) -> String {
    let key_file = write(dir, "key.txt", &format!("{FAKE_API_KEY}\n"));
    let config = format!(
        "# profiles of the daily tests\n\
         [profiles.env]\napi_key_env = \"DAILY_TEST_KEY\"\nbase_url = \"{uri}\"\n\n\
         [profiles.file]\napi_key_file = \"key.txt\"\nbase_url = \"{uri}\"\nregion = \"eu\"\n\n\
         [profiles.command]\napi_key_command = [\"cat\", \"{key_file}\"]\nbase_url = \"{uri}\"\n\
         scheme = \"partner-api-token\"\n"
    );
    write(dir, "config.toml", &config)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_profile_reads_its_key_from_a_variable_a_file_or_a_command() {
    let server = FakeServer::start(FakeFleet::generated(3), FakeOptions::default()).await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = key_profiles(dir.path(), &server.uri());
    let env = [("DAILY_TEST_KEY", FAKE_API_KEY)];
    for profile in ["env", "file", "command"] {
        let output = run_async(&["--json", "--profile", profile, "--config", &config], &env).await;
        let document = complete_document(&output);
        assert_eq!(client_uuids(&document).len(), 3, "{profile}");
        assert_eq!(
            document["partner"]["base_url"],
            server.uri().as_str(),
            "{profile}"
        );
    }
    // The default file: $XDG_CONFIG_HOME/rhombus-audit/config.toml.
    let home = dir.path().join("xdg");
    std::fs::create_dir_all(home.join("rhombus-audit")).expect("a directory");
    std::fs::copy(&config, home.join("rhombus-audit/config.toml")).expect("a copy");
    std::fs::copy(
        dir.path().join("key.txt"),
        home.join("rhombus-audit/key.txt"),
    )
    .expect("a copy");
    let xdg = [("XDG_CONFIG_HOME", home.to_str().expect("UTF-8"))];
    let output = run_async(&["--json", "--profile", "file"], &xdg).await;
    complete_document(&output);
    // Unset, the variable is an error that names it, the file and the key.
    let output = run_async(&["--profile", "env", "--config", &config], &[]).await;
    assert_eq!(output.status.code(), Some(2));
    let error = stderr(&output);
    assert!(
        error.contains(&config) && error.contains("profiles.env.api_key_env"),
        "{error}"
    );
    assert!(error.contains("DAILY_TEST_KEY is not set"), "{error}");
}

/// Each config file that must be refused, and what the error must say
/// beside the file's name.
const BAD_CONFIGS: [(&str, &[&str]); 9] = [
    // A syntax error on the key's line: the file is not quoted back.
    (
        "[profiles.p]\napi_key = sk-secret-1234\n",
        &["line 2, column 11 (profiles.p.api_key)"],
    ),
    (
        "[profiles.p]\napi_key = \"sk-secret-1234\"\n",
        &["profiles.p.api_key", "not kept in a file", "api_key_env"],
    ),
    (
        "[profiles.p]\napi_key_env = \"A\"\napi_key_file = \"k\"\n",
        &["profiles.p:", "more than one"],
    ),
    (
        "[profiles.p]\nregion = \"eu\"\n",
        &["profiles.p:", "no API key"],
    ),
    (
        "[profiles.q]\napi_key_env = \"A\"\n",
        &["no profile \"p\"", "profiles: q"],
    ),
    (
        "[profiles.p]\napi_key_env = \"A\"\nregion = \"mars\"\n",
        &["profiles.p.region", "mars"],
    ),
    (
        "[profiles.p]\napi_key_env = \"A\"\napi_kye_file = \"k\"\n",
        &["profiles.p.api_kye_file", "unknown field"],
    ),
    (
        "[profiles.p]\napi_key_env = \"A\"\nscheme = \"bearer\"\n",
        &["profiles.p.scheme", "bearer"],
    ),
    (
        "[profiles.p]\napi_key_env = \"A\"\nscheme = \"partner-api\"\n",
        &["profiles.p.identity_file", "client certificate"],
    ),
];

#[test]
fn a_config_file_that_cannot_be_used_names_the_file_and_the_key_and_exits_2() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (n, (text, said)) in BAD_CONFIGS.iter().enumerate() {
        let config = write(dir.path(), &format!("config{n}.toml"), text);
        let output = run(&["--profile", "p", "--config", &config], &[("A", "a-key")]);
        assert_eq!(output.status.code(), Some(2), "{text}");
        assert!(output.stdout.is_empty(), "{text}");
        let error = stderr(&output);
        assert!(error.contains(&config), "{text}: {error}");
        for words in *said {
            assert!(error.contains(words), "{text}: {words} in {error}");
        }
        assert!(
            !error.contains("sk-secret-1234"),
            "the key is never repeated: {error}"
        );
    }
    let missing = dir.path().join("none.toml");
    let output = run(
        &[
            "--profile",
            "p",
            "--config",
            missing.to_str().expect("UTF-8"),
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("none.toml"), "{}", stderr(&output));
    // --config alone is a usage error: it names no account.
    assert_eq!(run(&["--config", "x.toml"], &[]).status.code(), Some(2));
}

#[test]
fn region_takes_us_or_eu_and_needs_an_account() {
    let output = run(&["--region", "eu"], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--region needs an account"),
        "{}",
        stderr(&output)
    );
    let output = run(&["--region", "asia"], &[("RHOMBUS_API_KEY", "k")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("[possible values: us, eu]"),
        "{}",
        stderr(&output)
    );
}

/// A server answering every call with an HTML page, as a proxy or a web
/// server in the API's place does.
async fn html_server(status: u16) -> MockServer {
    let server = MockServer::start().await;
    let page = "\n  <!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\
                <body><h1>Bad Gateway</h1></body></html>";
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(status)
                .insert_header("content-type", "text/html")
                .set_body_string(page),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn an_html_answer_advises_checking_the_base_url_or_proxy_not_the_spec() {
    for status in [502, 200] {
        let server = html_server(status).await;
        let uri = server.uri();
        let env = [
            ("RHOMBUS_API_KEY", "a-key"),
            ("RHOMBUS_BASE_URL", uri.as_str()),
        ];
        let output = run_async(&["--json"], &env).await;
        assert_eq!(
            output.status.code(),
            Some(3),
            "{status}: {}",
            stderr(&output)
        );
        let error = stderr(&output);
        assert!(error.contains("is an HTML page"), "{status}: {error}");
        assert!(
            error.contains("check the base URL") && error.contains("proxy"),
            "{error}"
        );
        assert!(!error.contains("refresh the spec"), "{status}: {error}");
        assert!(!error.contains("retry later"), "{status}: {error}");
        let fatal: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
        let message = fatal["fatal"]["message"].as_str().expect("a message");
        assert!(message.contains("check the base URL"), "{message}");
    }
}

/// A TLS front on 127.0.0.1 that requires a client certificate chained to
/// the CA, and forwards each connection's bytes to a plain server.
struct TlsFront {
    url: String,
    /// Handshakes refused because the client presented no certificate.
    no_certificate: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn mtls_acceptor(ca: &TestCa) -> TlsAcceptor {
    let server = ca.issue_server().expect("a server certificate");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = RootCertStore::empty();
    roots.add(ca.der()).expect("the CA as a client root");
    // `build` without `allow_unauthenticated`: a client certificate is required.
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .expect("a client verifier");
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![server.cert_der()], server.private_key_der())
        .expect("the server certificate");
    TlsAcceptor::from(Arc::new(config))
}

impl TlsFront {
    async fn start(ca: &TestCa, backend: SocketAddr) -> TlsFront {
        let acceptor = mtls_acceptor(ca);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("an address").port();
        let no_certificate = Arc::new(AtomicUsize::new(0));
        let refused = no_certificate.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, refused) = (acceptor.clone(), refused.clone());
                tokio::spawn(async move {
                    let mut tls = match acceptor.accept(tcp).await {
                        Ok(tls) => tls,
                        Err(error) => {
                            let cause = error.get_ref().and_then(|e| e.downcast_ref());
                            if matches!(cause, Some(rustls::Error::NoCertificatesPresented)) {
                                refused.fetch_add(1, Ordering::SeqCst);
                            }
                            return;
                        }
                    };
                    let Ok(mut plain) = TcpStream::connect(backend).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        let url = format!("https://localhost:{port}");
        TlsFront {
            url,
            no_certificate,
            task,
        }
    }
}

/// Two profiles for the TLS front: `first` with a token scheme and no
/// certificate, `second` with `partner-api` and its client certificate.
fn mtls_config(dir: &Path, ca: &TestCa, url: &str) -> String {
    let client = ca
        .issue_client("rhombus-audit daily test")
        .expect("a client certificate");
    write(dir, "ca.pem", &ca.pem());
    write(dir, "client.pem", &client.identity_pem());
    write(dir, "key.txt", FAKE_API_KEY);
    let config = format!(
        "[profiles.first]\napi_key_file = \"key.txt\"\nbase_url = \"{url}\"\n\
         root_certificate_file = \"ca.pem\"\n\n\
         [profiles.second]\napi_key_file = \"key.txt\"\nscheme = \"partner-api\"\n\
         base_url = \"{url}\"\nidentity_file = \"client.pem\"\n\
         root_certificate_file = \"ca.pem\"\n"
    );
    write(dir, "config.toml", &config)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_profile_is_audited_over_mutual_tls_and_one_without_a_certificate_is_refused() {
    let server = FakeServer::start(FakeFleet::generated(4), FakeOptions::default()).await;
    let backend = (server.uri().strip_prefix("http://").expect("a plain URL"))
        .parse()
        .expect("an address");
    let ca = TestCa::new("rhombus-audit daily test CA").expect("a CA");
    let front = TlsFront::start(&ca, backend).await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = mtls_config(dir.path(), &ca, &front.url);

    let output = run_async(&["--profile", "second", "--config", &config, "--json"], &[]).await;
    let document = complete_document(&output);
    assert_eq!(client_uuids(&document).len(), 4);
    assert_eq!(document["partner"]["base_url"], front.url.as_str());
    assert!(server.requests() > 4, "the audit went through the front");
    assert_eq!(front.no_certificate.load(Ordering::SeqCst), 0);

    let output = run_async(&["--profile", "first", "--config", &config, "--json"], &[]).await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let error = stderr(&output);
    assert!(
        error.contains("cannot list the partner's clients"),
        "{error}"
    );
    assert!(error.contains("TLS handshake was refused"), "{error}");
    for entry in ["identity_file", "root_certificate_file", "base_url"] {
        assert!(error.contains(entry), "the advice names {entry}: {error}");
    }
    assert!(
        front.no_certificate.load(Ordering::SeqCst) >= 1,
        "the front refused it"
    );
    let fatal: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(fatal["fatal"]["kind"], "transport");
}
