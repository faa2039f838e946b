//! Read-only Okta directory lookups for strategies ("is this login free?"): the configuration,
//! the answers, and the [`Directory`] handle a plugin call asks through. The HTTP call is in
//! `okta`, service-app tokens in `token`/`jws`, caching, coalescing and the rate-limit gate in
//! `cache`.

mod cache;
pub(crate) mod config;
mod jws;
mod okta;
mod token;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::auth::Secret;
use crate::outbound::Outbound;

pub use cache::Stats;

/// A login's presence in the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// An Okta user (of any status, deactivated included) has this login.
    Taken,
    /// No Okta user has this login.
    Free,
    /// Could not be answered in time (or at all): treat as "maybe taken".
    Unknown,
}

/// The part of an Okta user a strategy may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    /// Okta user id (`00u…`).
    pub id: String,
    /// Okta status (`ACTIVE`, `DEPROVISIONED`, `SUSPENDED`, `STAGED`…).
    pub status: String,
}

/// Why a lookup could not be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// No Okta org configured, or a load-time / `try` run (scratch directory).
    NotConfigured,
    /// The login cannot be looked up by path (empty, or contains `/` or `?`).
    UnsupportedLogin,
    /// Okta's rate limit (or what it leaves to this service) is spent until its reset, or the
    /// org is at its concurrency limit.
    RateLimited,
    /// No answer within the call's deadline.
    TimedOut,
    /// Okta answered an error (5xx, 401, 403…) or could not be reached.
    Failed,
}

impl Unavailable {
    /// Stable name for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotConfigured => "not-configured",
            Self::UnsupportedLogin => "unsupported-login",
            Self::RateLimited => "rate-limited",
            Self::TimedOut => "timed-out",
            Self::Failed => "failed",
        }
    }
}

/// The answer to one lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// A user holds the login.
    Found(UserSummary),
    /// No user holds it.
    NotFound,
    /// Not answered.
    Unavailable(Unavailable),
}

impl Lookup {
    /// The answer as a presence.
    pub fn presence(&self) -> Presence {
        match self {
            Self::Found(_) => Presence::Taken,
            Self::NotFound => Presence::Free,
            Self::Unavailable(_) => Presence::Unknown,
        }
    }
}

/// How the service authenticates to Okta.
#[derive(Clone)]
pub enum Credentials {
    /// An API token (`Authorization: SSWS …`).
    ApiToken(Secret),
    /// An OAuth 2.0 API Services app: client credentials with `private_key_jwt` and DPoP.
    ServiceApp {
        /// The app's client id.
        client_id: String,
        /// PEM private key whose public half is registered on the app.
        key_file: PathBuf,
        /// The key's id (`kid`) as registered in Okta, if any.
        key_id: Option<String>,
        /// Scopes requested (space separated).
        scope: String,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ApiToken(_) => f.write_str("ApiToken(<redacted>)"),
            Self::ServiceApp {
                client_id, scope, ..
            } => f
                .debug_struct("ServiceApp")
                .field("client_id", client_id)
                .field("scope", scope)
                .finish_non_exhaustive(),
        }
    }
}

/// Validated directory settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// `https://{yourOktaDomain}`, no trailing slash.
    pub org_url: String,
    /// How to authenticate.
    pub credentials: Credentials,
    /// Extra PEM certificates to trust (besides the public web roots).
    pub ca_file: Option<PathBuf>,
    /// Longest one lookup may take (cut further to the plugin call's deadline).
    pub timeout: Duration,
    /// How long a `taken` answer is reused (logins are rarely freed).
    pub cache_taken: Duration,
    /// How long a `free` answer is reused (another import may take it any moment).
    pub cache_free: Duration,
    /// Most calls in flight to the org at once; a lookup waits for a place until its deadline.
    pub max_concurrent: usize,
    /// Percent of a rate limit left to the org's other clients: calls stop once
    /// `X-Rate-Limit-Remaining` is at or below it, until `X-Rate-Limit-Reset`.
    pub rate_headroom_percent: u8,
    /// Whether the service app's token requests carry a DPoP proof.
    pub dpop: DpopMode,
}

/// When the service app proves possession of its key (DPoP) to the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DpopMode {
    /// Without first; with DPoP from the moment Okta answers `invalid_dpop_proof` or
    /// `use_dpop_nonce` (an app with "Require DPoP" on), for the life of the process.
    Auto,
    /// Always (the app requires DPoP).
    On,
    /// Never (the app does not require DPoP).
    Off,
}

impl Config {
    /// Defaults besides the org and the credentials.
    pub fn new(org_url: &str, credentials: Credentials) -> Self {
        Self {
            org_url: org_url.trim_end_matches('/').to_owned(),
            credentials,
            ca_file: None,
            timeout: Duration::from_millis(500),
            cache_taken: Duration::from_secs(3600),
            cache_free: Duration::from_secs(10),
            max_concurrent: 8,
            rate_headroom_percent: 20,
            dpop: DpopMode::Auto,
        }
    }
}

/// Where a plugin call's lookups go: a configured Okta org, or nowhere (every lookup answers
/// `unknown` at once, touching no network: no org configured, load-time probe, `try`).
#[derive(Debug, Clone, Default)]
pub struct Directory {
    okta: Option<Arc<cache::CachedOkta>>,
}

impl Directory {
    /// The directory answering `unknown` to everything.
    pub fn scratch() -> Self {
        Self::default()
    }

    /// A directory backed by the org in `config`, calling through `outbound` (which must trust
    /// `config.ca_file`). Reads the service app's key now, so a bad key stops start-up.
    pub fn okta(config: Config, outbound: Outbound) -> anyhow::Result<Self> {
        let client = okta::OktaClient::new(&config, outbound)?;
        Ok(Self {
            okta: Some(Arc::new(cache::CachedOkta::new(client, &config))),
        })
    }

    /// The directory `config` describes, or without one the directory answering `unknown`.
    pub fn configured(config: Option<Config>, outbound: Outbound) -> anyhow::Result<Self> {
        match config {
            Some(config) => Self::okta(config, outbound),
            None => Ok(Self::scratch()),
        }
    }

    /// Whether an org is configured.
    pub fn is_configured(&self) -> bool {
        self.okta.is_some()
    }

    /// The user holding `login`, answered by `deadline` at the latest.
    pub async fn user_by_login(&self, login: &str, deadline: Instant) -> Lookup {
        match &self.okta {
            None => Lookup::Unavailable(Unavailable::NotConfigured),
            Some(okta) => okta.lookup(login, deadline).await,
        }
    }

    /// Whether `login` is taken, answered by `deadline` at the latest.
    pub async fn login_exists(&self, login: &str, deadline: Instant) -> Presence {
        self.user_by_login(login, deadline).await.presence()
    }

    /// Calls made to Okta's users endpoint and answers served from the cache (tests, doctor).
    pub fn stats(&self) -> Stats {
        self.okta.as_ref().map(|o| o.stats()).unwrap_or_default()
    }

    /// One uncached lookup of `login` with the reason in plain words when it is not answered:
    /// for `importhook doctor`.
    pub async fn probe(&self, login: &str, timeout: Duration) -> Result<Presence, String> {
        let Some(okta) = &self.okta else {
            return Err("no okta_org_url configured".to_owned());
        };
        match tokio::time::timeout(timeout, okta.client().get_user(login)).await {
            Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
            Ok(fetched) => match (fetched.lookup.presence(), fetched.detail) {
                (Presence::Unknown, detail) => {
                    Err(detail.unwrap_or_else(|| "the lookup was not answered".to_owned()))
                }
                (presence, _) => Ok(presence),
            },
        }
    }

    /// One token fetch (service app) without the cache: for `importhook doctor`.
    pub async fn check_credentials(&self) -> anyhow::Result<&'static str> {
        match &self.okta {
            None => anyhow::bail!("no okta_org_url configured"),
            Some(okta) => okta.client().check_credentials().await,
        }
    }
}

/// Percent-encodes a login as one path segment: everything but RFC 3986 unreserved characters.
fn path_segment(login: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(login, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_is_one_encoded_path_segment() {
        assert_eq!(path_segment("a.b@x.io"), "a.b%40x.io");
        assert_eq!(path_segment("j d+1?#%"), "j%20d%2B1%3F%23%25");
        assert_eq!(path_segment("é"), "%C3%A9");
    }

    #[test]
    fn credentials_debug_hides_the_token() {
        let text = format!("{:?}", Credentials::ApiToken(Secret::new("00abcSECRET")));
        assert!(!text.contains("SECRET"), "{text}");
    }

    #[tokio::test]
    async fn scratch_answers_unknown_without_network() {
        let directory = Directory::scratch();
        let deadline = Instant::now() + Duration::from_secs(1);
        assert_eq!(
            directory.login_exists("a@x.io", deadline).await,
            Presence::Unknown
        );
        assert_eq!(
            directory.user_by_login("a@x.io", deadline).await,
            Lookup::Unavailable(Unavailable::NotConfigured)
        );
    }
}
