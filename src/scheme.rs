//! The authentication schemes: the values of the `x-auth-scheme` header.
//! Below every other module, so that errors can name a scheme.

use std::fmt;

/// How a request authenticates: the value of the `x-auth-scheme` header.
///
/// The token schemes send only the API key; the certificate schemes also
/// present a client certificate during the TLS handshake (mutual TLS), set
/// with [`ClientBuilder::identity`](crate::ClientBuilder::identity).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthScheme {
    /// `api-token`: an organization's API key.
    ApiToken,
    /// `partner-api-token`: a partner's API key. The default.
    #[default]
    PartnerApiToken,
    /// `api`: an organization's API key with a client certificate.
    Api,
    /// `partner-api`: a partner's API key with a client certificate.
    PartnerApi,
}

impl AuthScheme {
    /// Every scheme, in the order the API documents them.
    pub const ALL: [AuthScheme; 4] = [
        AuthScheme::ApiToken,
        AuthScheme::Api,
        AuthScheme::PartnerApiToken,
        AuthScheme::PartnerApi,
    ];

    /// The header value, e.g. `partner-api-token`.
    pub const fn as_str(self) -> &'static str {
        match self {
            AuthScheme::ApiToken => "api-token",
            AuthScheme::PartnerApiToken => "partner-api-token",
            AuthScheme::Api => "api",
            AuthScheme::PartnerApi => "partner-api",
        }
    }

    /// Whether the scheme authenticates with a client certificate (mTLS).
    pub const fn uses_certificate(self) -> bool {
        matches!(self, AuthScheme::Api | AuthScheme::PartnerApi)
    }
}

impl fmt::Display for AuthScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
