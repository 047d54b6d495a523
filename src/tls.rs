//! The TLS backend, chosen by the crate's features: `rustls` (the default)
//! or `native-tls` (the platform's library: OpenSSL on Linux, Secure
//! Transport on macOS, SChannel on Windows). With both features on,
//! `native-tls` is used, so a consumer who adds it to the defaults gets it.
//!
//! The backend is named explicitly on every client, so the choice holds even
//! when another crate in the build turns on a second backend in reqwest.

use crate::error::{BuildError, error_chain};

/// Selects this build's backend on `http`.
pub(crate) fn select_backend(http: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
    #[cfg(feature = "native-tls")]
    return http.tls_backend_native();
    #[cfg(not(feature = "native-tls"))]
    return http.tls_backend_rustls();
}

/// A client identity from one PEM holding the certificate (chain) and its
/// private key, in the form this build's backend takes.
///
/// rustls takes PKCS#8, PKCS#1 (RSA) and SEC1 (EC) keys; native-tls takes
/// only unencrypted PKCS#8 (`-----BEGIN PRIVATE KEY-----`) and says how to
/// convert the others.
pub(crate) fn identity(pem: &[u8]) -> Result<reqwest::Identity, BuildError> {
    let invalid = |reason: String| BuildError::InvalidIdentity { reason };
    #[cfg(not(feature = "native-tls"))]
    {
        reqwest::Identity::from_pem(pem).map_err(|e| invalid(error_chain(&e)))
    }
    #[cfg(feature = "native-tls")]
    {
        let (certificates, key) = split_identity(pem).map_err(invalid)?;
        reqwest::Identity::from_pkcs8_pem(certificates.as_bytes(), key.as_bytes())
            .map_err(|e| invalid(error_chain(&e)))
    }
}

/// Splits one PEM into its certificate blocks and its one PKCS#8 key block,
/// as native-tls wants them.
#[cfg_attr(not(feature = "native-tls"), allow(dead_code))]
fn split_identity(pem: &[u8]) -> Result<(String, String), String> {
    let text = std::str::from_utf8(pem).map_err(|_| "the PEM is not text".to_owned())?;
    let mut certificates = String::new();
    let mut keys = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(label) = line
            .trim()
            .strip_prefix("-----BEGIN ")
            .and_then(|rest| rest.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut block = format!("{}\n", line.trim());
        loop {
            let Some(line) = lines.next() else {
                return Err(format!("the {label} block has no END line"));
            };
            block.push_str(line.trim());
            block.push('\n');
            if line.trim() == end {
                break;
            }
        }
        match label {
            "CERTIFICATE" => certificates.push_str(&block),
            "PRIVATE KEY" => keys.push(block),
            "RSA PRIVATE KEY" | "EC PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" => {
                return Err(format!(
                    "the native-tls backend takes only an unencrypted PKCS#8 key \
                     (BEGIN PRIVATE KEY), not a {label}; convert it with \
                     `openssl pkcs8 -topk8 -nocrypt -in key.pem`, or build with the \
                     `rustls` feature instead of `native-tls`"
                ));
            }
            _ => {}
        }
    }
    if certificates.is_empty() {
        return Err("no certificate found in it".to_owned());
    }
    match keys.len() {
        1 => Ok((certificates, keys.remove(0))),
        0 => Err("no private key found in it".to_owned()),
        n => Err(format!("it holds {n} private keys, and one is needed")),
    }
}

/// Whether the TLS layer refused the connection (a certificate or a
/// protocol problem), not the connection under it: trying again would fail
/// the same way. Each backend reports it in its own error type, somewhere
/// in the chain; what it said is already in the error's message.
pub(crate) fn is_rejection(error: &reqwest::Error) -> bool {
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        if is_rustls_rejection(inner) || is_openssl_rejection(inner) {
            return true;
        }
        // An I/O error's `source` skips the error it wraps (rustls' and
        // OpenSSL's are wrapped so, sometimes twice): step into it instead.
        cause = match inner.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|wrapped| wrapped as &(dyn std::error::Error + 'static)),
            None => inner.source(),
        };
    }
    false
}

/// rustls' own error: a certificate it refused, an alert the server sent.
#[cfg(feature = "rustls")]
fn is_rustls_rejection(error: &(dyn std::error::Error + 'static)) -> bool {
    error.is::<rustls::Error>()
}

#[cfg(not(feature = "rustls"))]
fn is_rustls_rejection(_error: &(dyn std::error::Error + 'static)) -> bool {
    false
}

/// An OpenSSL error of the TLS protocol (an alert, a certificate refused),
/// not an I/O error underneath it: an SSL error carrying OpenSSL's error
/// stack, or the stack alone (native-tls' handshake error shows only that).
#[cfg(all(
    feature = "native-tls",
    not(any(target_os = "windows", target_vendor = "apple"))
))]
fn is_openssl_rejection(error: &(dyn std::error::Error + 'static)) -> bool {
    let stack = match error.downcast_ref::<openssl::ssl::Error>() {
        Some(ssl) => ssl.ssl_error(),
        None => error.downcast_ref::<openssl::error::ErrorStack>(),
    };
    stack.is_some_and(|stack| !stack.errors().is_empty())
}

#[cfg(not(all(
    feature = "native-tls",
    not(any(target_os = "windows", target_vendor = "apple"))
)))]
fn is_openssl_rejection(_error: &(dyn std::error::Error + 'static)) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::split_identity;

    const CERT: &str = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    const KEY: &str = "-----BEGIN PRIVATE KEY-----\nBBBB\n-----END PRIVATE KEY-----\n";

    #[test]
    fn splits_certificates_from_the_key() {
        let pem = format!("{KEY}junk between blocks\n{CERT}{CERT}");
        let (certificates, key) = split_identity(pem.as_bytes()).unwrap();
        assert_eq!(certificates, format!("{CERT}{CERT}"));
        assert_eq!(key, KEY);
    }

    #[test]
    fn says_what_is_missing_or_unusable() {
        let err = |pem: &str| split_identity(pem.as_bytes()).unwrap_err();
        assert!(err(KEY).contains("no certificate"));
        assert!(err(CERT).contains("no private key"));
        assert!(err(&format!("{CERT}{KEY}{KEY}")).contains("2 private keys"));
        assert!(err("-----BEGIN CERTIFICATE-----\nAAAA\n").contains("no END line"));
        let rsa =
            format!("{CERT}-----BEGIN RSA PRIVATE KEY-----\nCCCC\n-----END RSA PRIVATE KEY-----\n");
        assert!(err(&rsa).contains("openssl pkcs8 -topk8"));
    }
}
