//! OAuth 2.0 bearer-token authentication, as Okta's inline hooks offer it (`channel.type:
//! "OAUTH"`): Okta gets an access token from a custom authorization server and sends it as
//! `Authorization: Bearer <JWT>`; this module verifies it (RS256 only, key from the server's
//! cached JWKS, `iss`, `aud`, time claims with leeway, `cid`, `sub` and `uid`, and optionally
//! `scp`).
//!
//! Any app of the authorization server can get a token with the same `iss` and `aud`, a user's
//! single-page app included; only the claims Okta's reference lists for an access token tell
//! the hook's own client-credentials token apart ("Reserved claims in the payload section",
//! developer.okta.com/docs/api/openapi/okta-oauth/guides/overview/): `cid` is the "Client ID of
//! the client that requested the access token", `sub` is "a name for the user or a unique
//! identifier for the client", and `uid` "isn't included in the access token if there is no
//! user bound to it". So a token of Okta's hook call has `cid` = the hook's API Services app,
//! `sub` = that same client id, and no `uid`.

pub(crate) mod config;
mod jwks;

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use http::header::AUTHORIZATION;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

pub use jwks::{JwksCache, JwksSource};

/// Largest bearer token accepted; Okta's access tokens are around 1 KiB.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Validated OAuth settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthSettings {
    /// Exact `iss` (a custom authorization server: `https://{domain}/oauth2/{id}`).
    pub issuer: String,
    /// Required `aud`.
    pub audience: String,
    /// Required `cid` and `sub` (the hook's API Services app's client id).
    pub client_id: String,
    /// Scope that must be in `scp`, if set.
    pub scope: Option<String>,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway: Duration,
    /// Where the signing keys come from.
    pub jwks: JwksSource,
    /// Extra PEM certificates to trust when fetching keys (besides the public web roots).
    pub ca_file: Option<PathBuf>,
    /// Least time between two key fetches triggered by unknown key ids.
    pub refresh_interval: Duration,
    /// Deadline of one key fetch.
    pub fetch_timeout: Duration,
}

/// Checks an issuer: an `https` URL of a custom authorization server.
pub fn check_issuer(issuer: &str) -> Result<(), String> {
    let uri: http::Uri = issuer
        .parse()
        .map_err(|_| format!("`{issuer}` is not a URL"))?;
    if uri.scheme_str() != Some("https") || uri.host().is_none() {
        return Err(format!("`{issuer}` must be an https URL"));
    }
    let custom = uri.path().split('/').collect::<Vec<_>>();
    if !matches!(custom.as_slice(), ["", "oauth2", id] if !id.is_empty()) {
        return Err(format!(
            "`{issuer}` is not a custom authorization server (https://{{yourOktaDomain}}/oauth2/{{id}}, e.g. /oauth2/default). \
             Tokens of Okta's org authorization server can only be validated by Okta; create a custom authorization server for the hook"
        ));
    }
    Ok(())
}

/// Why a bearer token was refused. Never carries the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// No Authorization header.
    #[error("no Authorization header")]
    Missing,
    /// More than one Authorization header.
    #[error("repeated Authorization header")]
    Duplicated,
    /// Not `Bearer <token>`, or too large.
    #[error("not a bearer token of acceptable size")]
    Malformed,
    /// Algorithm other than RS256 (`none`, HS256…), or no `kid`.
    #[error("token header refused: {0}")]
    Header(&'static str),
    /// No key with this id in the JWKS (after at most one refresh).
    #[error("unknown signing key")]
    UnknownKey,
    /// Signature, issuer, audience or time claims invalid.
    #[error("token invalid: {0}")]
    Invalid(String),
    /// `cid` does not match.
    #[error("token issued to another client")]
    WrongClient,
    /// A `uid` claim: the token was issued to a user, not to the hook's client.
    #[error("token issued to a user (it carries uid), not to the hook's client")]
    IssuedToUser,
    /// `sub` is not the client id: not a client-credentials token of the hook's client.
    #[error("token subject is not the hook's client")]
    WrongSubject,
    /// Scope missing from `scp`.
    #[error("token lacks the required scope")]
    MissingScope,
}

#[derive(Debug, Deserialize)]
struct Claims {
    #[serde(default)]
    iat: Option<u64>,
    #[serde(default)]
    cid: Option<String>,
    #[serde(default)]
    sub: Option<String>,
    /// Only its presence matters; Okta's user ids are strings, but any value means a user.
    #[serde(default)]
    uid: Option<serde_json::Value>,
    #[serde(default)]
    scp: Option<Scopes>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Scopes {
    List(Vec<String>),
    Spaced(String),
}

impl Scopes {
    fn contains(&self, scope: &str) -> bool {
        match self {
            Self::List(list) => list.iter().any(|s| s == scope),
            Self::Spaced(text) => text.split(' ').any(|s| s == scope),
        }
    }
}

/// Verifies bearer tokens against the configured authorization server.
#[derive(Debug)]
pub struct OAuthVerifier {
    settings: OAuthSettings,
    validation: Validation,
    jwks: JwksCache,
}

impl OAuthVerifier {
    /// A verifier fetching keys through the process's shared `outbound` client (which must
    /// trust `settings.ca_file`).
    pub fn with_client(settings: OAuthSettings, outbound: crate::outbound::Outbound) -> Self {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.algorithms = vec![Algorithm::RS256];
        validation.set_issuer(&[settings.issuer.as_str()]);
        validation.set_audience(&[settings.audience.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = settings.leeway.as_secs();
        let jwks = JwksCache::new(&settings, outbound);
        Self {
            settings,
            validation,
            jwks,
        }
    }

    /// Fetches the keys once, so the first requests do not wait for it. A failure is logged;
    /// with no keys nothing is accepted until a fetch succeeds. Also warns when no scope is
    /// required (`oauth_scope` is recommended).
    pub async fn warm_up(&self) {
        if self.settings.scope.is_none() {
            tracing::warn!(
                "oauth_scope is not set: set it to the custom scope only the hook's client is granted (e.g. okta.hooks.import), so a token of the same client for another purpose is refused too"
            );
        }
        self.jwks.refresh_if_due().await;
        if self.jwks.key_count() == 0 {
            tracing::warn!(issuer = %self.settings.issuer, "no signing keys yet: bearer tokens are refused until the JWKS can be fetched");
        }
    }

    /// The key cache (for tests and metrics).
    pub fn jwks(&self) -> &JwksCache {
        &self.jwks
    }

    /// Verifies the request's bearer token; returns the id of the key that signed it.
    pub async fn verify(&self, headers: &HeaderMap) -> Result<String, OAuthError> {
        let mut values = headers.get_all(AUTHORIZATION).iter();
        let value = values.next().ok_or(OAuthError::Missing)?;
        if values.next().is_some() {
            return Err(OAuthError::Duplicated);
        }
        if value.len() > MAX_TOKEN_BYTES + 7 {
            return Err(OAuthError::Malformed);
        }
        let value = value.to_str().map_err(|_| OAuthError::Malformed)?;
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() => {
                token.trim()
            }
            _ => return Err(OAuthError::Malformed),
        };
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| OAuthError::Header("unreadable or unsupported algorithm"))?;
        if header.alg != Algorithm::RS256 {
            return Err(OAuthError::Header("algorithm is not RS256"));
        }
        let kid = header.kid.ok_or(OAuthError::Header("no key id"))?;
        let key = self.jwks.key(&kid).await.ok_or(OAuthError::UnknownKey)?;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &self.validation)
            .map_err(|e| OAuthError::Invalid(format!("{:?}", e.kind())))?
            .claims;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if claims
            .iat
            .is_some_and(|iat| iat > now + self.settings.leeway.as_secs())
        {
            return Err(OAuthError::Invalid("issued in the future".into()));
        }
        let client = self.settings.client_id.as_str();
        if claims.cid.as_deref() != Some(client) {
            return Err(OAuthError::WrongClient);
        }
        if claims.uid.is_some() {
            return Err(OAuthError::IssuedToUser);
        }
        if claims.sub.as_deref() != Some(client) {
            return Err(OAuthError::WrongSubject);
        }
        if let Some(scope) = &self.settings.scope
            && !claims.scp.as_ref().is_some_and(|s| s.contains(scope))
        {
            return Err(OAuthError::MissingScope);
        }
        Ok(kid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_custom_authorization_servers_are_accepted() {
        assert!(check_issuer("https://dev-1.okta.com/oauth2/default").is_ok());
        assert!(check_issuer("https://dev-1.okta.com/oauth2/aus1a2b3").is_ok());
        let org = check_issuer("https://dev-1.okta.com").expect_err("org server");
        assert!(org.contains("org authorization server"), "{org}");
        assert!(check_issuer("https://dev-1.okta.com/").is_err());
        assert!(check_issuer("http://dev-1.okta.com/oauth2/default").is_err());
        assert!(check_issuer("https://dev-1.okta.com/oauth2/").is_err());
    }

    #[test]
    fn scopes_may_be_a_list_or_a_spaced_string() {
        assert!(Scopes::List(vec!["a".into(), "hook".into()]).contains("hook"));
        assert!(Scopes::Spaced("a hook".into()).contains("hook"));
        assert!(!Scopes::Spaced("hooks".into()).contains("hook"));
    }
}
