//! Authentication state carried by every client, and the hook that turns it
//! into request headers.

use std::fmt;
use std::str::FromStr;

use reqwest::header::{HeaderName, HeaderValue};

use crate::error::BuildError;
pub(crate) use crate::scheme::AuthScheme;

const SCHEME_HEADER: HeaderName = HeaderName::from_static("x-auth-scheme");
const KEY_HEADER: HeaderName = HeaderName::from_static("x-auth-apikey");
const ORG_HEADER: HeaderName = HeaderName::from_static("x-auth-org");

/// The shortest key scrubbed from answers. Real keys are much longer; a
/// shorter one (a test's "k") would replace ordinary text in bodies.
pub(crate) const MIN_SCRUBBED_KEY: usize = 8;

impl FromStr for AuthScheme {
    type Err = BuildError;

    /// Parses a header value such as `partner-api-token`, ignoring case and
    /// surrounding white space.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let wanted = value.trim();
        AuthScheme::ALL
            .into_iter()
            .find(|scheme| scheme.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| BuildError::UnknownScheme {
                value: value.to_owned(),
            })
    }
}

/// What the client sends with every request. Cloning is cheap: header
/// values are reference counted.
#[derive(Clone)]
pub(crate) struct Auth {
    scheme: AuthScheme,
    key: HeaderValue,
    org: Option<HeaderValue>,
}

impl Auth {
    /// Validates the key as a header value; the key is marked
    /// sensitive so that `http` never prints it and HTTP/2 never indexes it.
    pub(crate) fn new(scheme: AuthScheme, key: &str) -> Result<Self, BuildError> {
        if key.trim().is_empty() {
            return Err(BuildError::EmptyApiKey);
        }
        let mut key = header_text(key).ok_or(BuildError::InvalidApiKey)?;
        key.set_sensitive(true);
        Ok(Auth {
            scheme,
            key,
            org: None,
        })
    }

    pub(crate) fn scheme(&self) -> AuthScheme {
        self.scheme
    }

    pub(crate) fn org(&self) -> Option<&str> {
        self.org.as_ref().and_then(|v| v.to_str().ok())
    }

    /// Adds `x-auth-scheme`, `x-auth-apikey` and, for a client acting
    /// inside a client organization (only `Client::for_org` makes one),
    /// `x-auth-org`. A partner-level call never carries an org: its body
    /// names the client.
    pub(crate) fn apply(&self, headers: &mut reqwest::header::HeaderMap) {
        headers.insert(
            SCHEME_HEADER,
            HeaderValue::from_static(self.scheme.as_str()),
        );
        headers.insert(KEY_HEADER, self.key.clone());
        if let Some(org) = &self.org {
            headers.insert(ORG_HEADER, org.clone());
        }
    }

    /// The key, to scrub from every answer; `None` for a key shorter than
    /// [`MIN_SCRUBBED_KEY`], which would match ordinary text.
    pub(crate) fn scrubbed_secret(&self) -> Option<&[u8]> {
        let key = self.key.as_bytes();
        (key.len() >= MIN_SCRUBBED_KEY).then_some(key)
    }

    /// The same key acting inside `org`. Refuses an org that contains the
    /// key (checked first, so that no error holds it), then one that is
    /// empty or not printable ASCII.
    pub(crate) fn with_org(&self, org: &str) -> Result<Self, BuildError> {
        if self.holds_key(org) {
            return Err(BuildError::OrgContainsApiKey);
        }
        Ok(Auth {
            org: Some(org_header(org)?),
            ..self.clone()
        })
    }

    /// Whether `text` contains the key, exactly.
    fn holds_key(&self, text: &str) -> bool {
        memchr::memmem::find(text.as_bytes(), self.key.as_bytes()).is_some()
    }
}

fn org_header(org: &str) -> Result<HeaderValue, BuildError> {
    let invalid = || BuildError::InvalidOrg {
        org: org.to_owned(),
    };
    if org.trim().is_empty() {
        return Err(invalid());
    }
    header_text(org).ok_or_else(invalid)
}

/// `text` as a header value if it is printable ASCII. `HeaderValue` itself
/// also takes bytes above 127, which servers read in differing ways, and
/// which a key then could not be scrubbed from answers as text.
fn header_text(text: &str) -> Option<HeaderValue> {
    if !text.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        return None;
    }
    HeaderValue::from_str(text).ok()
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("scheme", &self.scheme)
            .field("key", &"<redacted>")
            // `with_org` refuses an org holding the key; should one get
            // here some other way, it is not shown either.
            .field(
                "org",
                &self.org().map(|org| {
                    if self.holds_key(org) {
                        "<redacted>"
                    } else {
                        org
                    }
                }),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_client_inside_an_org_sends_the_org() {
        let auth = Auth::new(AuthScheme::PartnerApiToken, "key-12345").expect("valid");
        let mut partner_level = reqwest::header::HeaderMap::new();
        auth.apply(&mut partner_level);
        assert!(!partner_level.contains_key(ORG_HEADER), "{partner_level:?}");
        assert_eq!(partner_level[KEY_HEADER], "key-12345");
        let mut headers = reqwest::header::HeaderMap::new();
        auth.with_org("ORG").expect("valid org").apply(&mut headers);
        assert_eq!(headers[ORG_HEADER], "ORG");
        assert_eq!(headers[KEY_HEADER], "key-12345");
    }

    #[test]
    fn an_org_holding_the_key_is_refused_and_never_shown() {
        let auth = Auth::new(AuthScheme::PartnerApiToken, "key-12345678").expect("valid");
        for org in ["key-12345678", "org key-12345678", "key-12345678\n"] {
            assert!(
                matches!(auth.with_org(org), Err(BuildError::OrgContainsApiKey)),
                "{org:?}"
            );
        }
        let error = auth.with_org("key-12345678").expect_err("refused");
        assert!(!format!("{error} {error:?}").contains("key-12345678"));
        // Another case, or a part of the key, is another org.
        assert!(auth.with_org("KEY-12345678").is_ok());
        assert!(auth.with_org("key-1234567").is_ok());
        // Should one get past `with_org`, `Debug` hides it.
        let mut smuggled = auth.clone();
        smuggled.org = Some(HeaderValue::from_static("x-key-12345678"));
        let shown = format!("{smuggled:?}");
        assert!(!shown.contains("key-12345678"), "{shown}");
        assert!(shown.contains(r#"org: Some("<redacted>")"#), "{shown}");
    }

    #[test]
    fn keys_shorter_than_eight_bytes_are_not_scrubbed() {
        let auth = |key: &str| Auth::new(AuthScheme::PartnerApiToken, key).expect("valid");
        assert_eq!(auth("1234567").scrubbed_secret(), None);
        assert_eq!(
            auth("12345678").scrubbed_secret(),
            Some(b"12345678".as_slice())
        );
    }
}
