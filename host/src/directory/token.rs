//! Access tokens of an Okta API Services app: client credentials with a `private_key_jwt`
//! assertion, and DPoP when the app requires it (with Okta's `use_dpop_nonce` round). One
//! background task fetches the token and refreshes it before it expires, backing off after
//! errors and waiting out a 429's reset; lookups only read the current token, so none waits on
//! a fetch longer than its own deadline, and a lookup cut short never cuts a fetch.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::Full;
use serde::Deserialize;
use tokio::sync::{Notify, watch};

use super::DpopMode;
use super::jws::{ClientKey, DpopKey};
use crate::outbound::Outbound;

/// Refresh this long before the token expires (Okta's service-app tokens last an hour).
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);
/// Largest token answer read.
const MAX_TOKEN_ANSWER: usize = 64 * 1024;
/// Longest one token request may take before it counts as failed.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// First wait after a failed fetch; doubled after each further failure, up to the maximum.
const BACKOFF_FIRST: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(60);
/// Least time between two fetches, whatever asks for them (a burst of 401s, say).
const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// A token and whether it is DPoP-bound (`Authorization: DPoP`) or a plain bearer token.
#[derive(Clone)]
pub struct AccessToken {
    pub value: Arc<str>,
    pub dpop: bool,
    expires: Instant,
}

/// What lookups see: the token, or why there is none.
#[derive(Clone)]
struct Current {
    token: Option<AccessToken>,
    /// The last fetch's failure, in plain words (no secret).
    error: Option<Arc<str>>,
    /// A fetch is under way: a lookup without a token waits for it (until its deadline).
    fetching: bool,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    token_type: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Deserialize, Default)]
struct ErrorAnswer {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

/// A failed fetch, and how long Okta asked us to wait (a 429's reset).
struct TokenError {
    detail: String,
    retry_after: Option<Duration>,
}

impl From<anyhow::Error> for TokenError {
    fn from(e: anyhow::Error) -> Self {
        Self {
            detail: format!("{e:#}"),
            retry_after: None,
        }
    }
}

struct Shared {
    client_id: String,
    key_id: Option<String>,
    scope: String,
    key: ClientKey,
    dpop: DpopKey,
    token_url: String,
    mode: DpopMode,
    /// Whether token requests carry a proof now (`auto` switches it on once).
    use_dpop: AtomicBool,
    /// The last `DPoP-Nonce` Okta handed out (a stale one costs one more round).
    nonce: std::sync::Mutex<Option<String>>,
    current: watch::Sender<Current>,
    /// Asks the task for a new token now (Okta refused the current one).
    refresh: Notify,
}

/// The service app's credentials and its current token.
pub struct ServiceApp {
    shared: Arc<Shared>,
    outbound: Outbound,
    /// Held so the task runs as long as this app does (it ends once every receiver is gone).
    current: watch::Receiver<Current>,
    started: AtomicBool,
}

impl std::fmt::Debug for ServiceApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceApp")
            .field("client_id", &self.shared.client_id)
            .finish_non_exhaustive()
    }
}

impl ServiceApp {
    /// Reads the key now so a bad file stops start-up. The token is first fetched when a
    /// lookup (or `doctor`) first needs it.
    pub fn new(
        org_url: &str,
        client_id: &str,
        key_file: &std::path::Path,
        key_id: Option<&str>,
        scope: &str,
        mode: DpopMode,
        outbound: Outbound,
    ) -> anyhow::Result<Self> {
        let (sender, current) = watch::channel(Current {
            token: None,
            error: None,
            fetching: true,
        });
        let shared = Arc::new(Shared {
            client_id: client_id.to_owned(),
            key_id: key_id.map(str::to_owned),
            scope: scope.to_owned(),
            key: ClientKey::from_pem_file(key_file).context("okta_private_key_file")?,
            dpop: DpopKey::generate()?,
            token_url: format!("{org_url}/oauth2/v1/token"),
            mode,
            use_dpop: AtomicBool::new(mode == DpopMode::On),
            nonce: std::sync::Mutex::new(None),
            current: sender,
            refresh: Notify::new(),
        });
        Ok(Self {
            shared,
            outbound,
            current,
            started: AtomicBool::new(false),
        })
    }

    /// The current token. Waits only while a fetch is under way and no token is valid (the
    /// caller bounds that wait by its deadline); fails at once with the last fetch's error.
    pub async fn token(&self) -> anyhow::Result<AccessToken> {
        if !self.started.swap(true, Ordering::SeqCst) {
            tokio::spawn(run(self.shared.clone(), self.outbound.clone()));
        }
        let mut current = self.current.clone();
        loop {
            {
                let now = current.borrow_and_update();
                if let Some(token) = &now.token
                    && Instant::now() < token.expires
                {
                    return Ok(token.clone());
                }
                if !now.fetching
                    && let Some(error) = &now.error
                {
                    anyhow::bail!("{error}");
                }
            }
            current
                .changed()
                .await
                .context("the token task has ended")?;
        }
    }

    /// Okta refused `token`: drop it and ask the task for a new one.
    pub fn forget(&self, token: &AccessToken) {
        self.shared.current.send_modify(|current| {
            if current
                .token
                .as_ref()
                .is_some_and(|t| t.value == token.value)
            {
                current.token = None;
                current.fetching = true;
            }
        });
        self.shared.refresh.notify_one();
    }

    /// A DPoP proof for a resource request with `token`.
    pub fn proof(&self, htm: &str, url: &str, token: &str) -> anyhow::Result<String> {
        self.shared
            .dpop
            .proof(htm, url, Some(token), self.shared.nonce().as_deref())
    }

    pub fn set_nonce(&self, nonce: Option<&http::HeaderValue>) {
        self.shared.set_nonce(nonce);
    }
}

/// Fetches, keeps and refreshes the token until the app is dropped.
async fn run(shared: Arc<Shared>, outbound: Outbound) {
    let mut backoff = BACKOFF_FIRST;
    loop {
        shared.current.send_modify(|c| c.fetching = true);
        let started = Instant::now();
        let fetched = match tokio::time::timeout(FETCH_TIMEOUT, shared.fetch(&outbound)).await {
            Ok(fetched) => fetched,
            Err(_) => Err(TokenError {
                detail: format!(
                    "the token endpoint did not answer within {} s",
                    FETCH_TIMEOUT.as_secs()
                ),
                retry_after: None,
            }),
        };
        let (wait, interruptible) = match fetched {
            Ok(token) => {
                backoff = BACKOFF_FIRST;
                let lifetime = token.expires.saturating_duration_since(Instant::now());
                shared.current.send_modify(|c| {
                    c.token = Some(token);
                    c.error = None;
                    c.fetching = false;
                });
                (
                    lifetime.saturating_sub(EXPIRY_MARGIN).max(MIN_INTERVAL),
                    true,
                )
            }
            Err(e) => {
                let wait = e.retry_after.unwrap_or(backoff);
                backoff = (backoff * 2).min(BACKOFF_MAX);
                tracing::warn!(
                    error = %e.detail,
                    retry_in_ms = wait.as_millis() as u64,
                    "Okta token fetch failed; lookups answer unknown until a token is fetched"
                );
                shared.current.send_modify(|c| {
                    c.error = Some(e.detail.into());
                    c.fetching = false;
                });
                (wait, false)
            }
        };
        let waited = async {
            let until = tokio::time::Instant::from_std(started + wait);
            if interruptible {
                tokio::select! {
                    () = tokio::time::sleep_until(until) => {}
                    () = shared.refresh.notified() => {}
                }
            } else {
                tokio::time::sleep_until(until).await;
            }
            tokio::time::sleep_until(tokio::time::Instant::from_std(started + MIN_INTERVAL)).await;
        };
        tokio::select! {
            () = shared.current.closed() => return,
            () = waited => {}
        }
    }
}

impl Shared {
    fn nonce(&self) -> Option<String> {
        self.nonce.lock().ok().and_then(|n| n.clone())
    }

    fn set_nonce(&self, nonce: Option<&http::HeaderValue>) {
        if let (Some(value), Ok(mut slot)) =
            (nonce.and_then(|v| v.to_str().ok()), self.nonce.lock())
        {
            *slot = Some(value.to_owned());
        }
    }

    /// One token: a request, plus the rounds Okta asks for (switching to DPoP in `auto`, a new
    /// DPoP nonce).
    async fn fetch(&self, outbound: &Outbound) -> Result<AccessToken, TokenError> {
        for _ in 0..3 {
            let with_dpop = self.use_dpop.load(Ordering::SeqCst);
            let response = outbound
                .send(self.request(with_dpop)?, MAX_TOKEN_ANSWER)
                .await
                .context("token request")?;
            let status = response.status();
            if status == StatusCode::OK {
                let answer: TokenAnswer = serde_json::from_slice(response.body())
                    .context("the token answer is not JSON with an access_token")?;
                let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(3600));
                return Ok(AccessToken {
                    value: answer.access_token.into(),
                    dpop: answer.token_type.eq_ignore_ascii_case("DPoP"),
                    expires: Instant::now() + lifetime,
                });
            }
            if status == StatusCode::TOO_MANY_REQUESTS {
                return Err(TokenError {
                    detail: "the token endpoint answered 429: its rate limit is spent".to_owned(),
                    retry_after: Some(until_reset(response.headers())),
                });
            }
            let error: ErrorAnswer = serde_json::from_slice(response.body()).unwrap_or_default();
            let asks_dpop = error.error == "invalid_dpop_proof" || error.error == "use_dpop_nonce";
            if !with_dpop && asks_dpop && self.mode == DpopMode::Auto {
                tracing::info!(
                    "the Okta app requires DPoP: token requests carry a DPoP proof from now on"
                );
                self.use_dpop.store(true, Ordering::SeqCst);
                self.set_nonce(response.headers().get("dpop-nonce"));
                continue;
            }
            if with_dpop
                && error.error == "use_dpop_nonce"
                && response.headers().contains_key("dpop-nonce")
            {
                self.set_nonce(response.headers().get("dpop-nonce"));
                continue;
            }
            // Okta's error and description name the problem (invalid_client, invalid_scope,
            // invalid_dpop_proof with okta_dpop = "off"…) and carry no secret.
            return Err(anyhow::anyhow!(
                "the token endpoint answered {status}: {} {}",
                error.error,
                error.error_description
            )
            .into());
        }
        Err(anyhow::anyhow!("the token endpoint kept asking for another DPoP round").into())
    }

    fn request(&self, with_dpop: bool) -> anyhow::Result<Request<Full<Bytes>>> {
        let assertion =
            self.key
                .assertion(&self.client_id, self.key_id.as_deref(), &self.token_url)?;
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("scope", &self.scope)
            .append_pair(
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            )
            .append_pair("client_assertion", &assertion)
            .finish();
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(&self.token_url)
            .header(http::header::ACCEPT, "application/json")
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            );
        if with_dpop {
            let proof = self
                .dpop
                .proof("POST", &self.token_url, None, self.nonce().as_deref())?;
            builder = builder.header("DPoP", proof);
        }
        Ok(builder.body(Full::new(Bytes::from(form)))?)
    }
}

/// Time until a 429's `X-Rate-Limit-Reset` (UTC epoch seconds), 1 s to 60 s; 5 s without one.
fn until_reset(headers: &http::HeaderMap) -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    headers
        .get("x-rate-limit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(Duration::from_secs(5), |reset| {
            Duration::from_secs(reset.saturating_sub(now).clamp(1, 60))
        })
}
