//! Access tokens of an Okta API Services app: client credentials with a `private_key_jwt`
//! assertion and a DPoP proof, including the `use_dpop_nonce` round Okta requires; the token
//! is cached until shortly before it expires and one fetch serves every concurrent caller.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::Full;
use serde::Deserialize;

use super::jws::{ClientKey, DpopKey};
use crate::outbound::Outbound;

/// Refetch this long before the token expires.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);
/// Largest token answer read.
const MAX_TOKEN_ANSWER: usize = 64 * 1024;

/// A token and whether it is DPoP-bound (`Authorization: DPoP`) or a plain bearer token.
#[derive(Clone)]
pub struct AccessToken {
    pub value: Arc<str>,
    pub dpop: bool,
    expires: Instant,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    token_type: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

/// The service app's credentials and its current token.
pub struct ServiceApp {
    client_id: String,
    key_id: Option<String>,
    scope: String,
    key: ClientKey,
    pub dpop: DpopKey,
    token_url: String,
    current: tokio::sync::Mutex<Option<AccessToken>>,
    /// The last `DPoP-Nonce` Okta handed out (token endpoint and API share it here; a stale one
    /// costs one more round).
    pub nonce: std::sync::Mutex<Option<String>>,
}

impl std::fmt::Debug for ServiceApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceApp")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl ServiceApp {
    /// Reads the key now so a bad file stops start-up.
    pub fn new(
        org_url: &str,
        client_id: &str,
        key_file: &std::path::Path,
        key_id: Option<&str>,
        scope: &str,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            client_id: client_id.to_owned(),
            key_id: key_id.map(str::to_owned),
            scope: scope.to_owned(),
            key: ClientKey::from_pem_file(key_file).context("okta_private_key_file")?,
            dpop: DpopKey::generate()?,
            token_url: format!("{org_url}/oauth2/v1/token"),
            current: tokio::sync::Mutex::new(None),
            nonce: std::sync::Mutex::new(None),
        })
    }

    /// A valid token, fetched if none is cached (concurrent callers wait for one fetch).
    pub async fn token(&self, outbound: &Outbound) -> anyhow::Result<AccessToken> {
        let mut current = self.current.lock().await;
        if let Some(token) = current.as_ref()
            && Instant::now() + EXPIRY_MARGIN < token.expires
        {
            return Ok(token.clone());
        }
        let token = self.fetch(outbound).await?;
        *current = Some(token.clone());
        Ok(token)
    }

    /// Drops the cached token (Okta refused it).
    pub async fn forget(&self) {
        *self.current.lock().await = None;
    }

    pub fn nonce(&self) -> Option<String> {
        self.nonce.lock().ok().and_then(|n| n.clone())
    }

    pub fn set_nonce(&self, nonce: Option<&http::HeaderValue>) {
        if let (Some(value), Ok(mut slot)) =
            (nonce.and_then(|v| v.to_str().ok()), self.nonce.lock())
        {
            *slot = Some(value.to_owned());
        }
    }

    /// One token request, and a second one if Okta asks for a DPoP nonce.
    async fn fetch(&self, outbound: &Outbound) -> anyhow::Result<AccessToken> {
        for _ in 0..2 {
            let assertion =
                self.key
                    .assertion(&self.client_id, self.key_id.as_deref(), &self.token_url)?;
            let proof = self
                .dpop
                .proof("POST", &self.token_url, None, self.nonce().as_deref())?;
            let form = form_urlencoded::Serializer::new(String::new())
                .append_pair("grant_type", "client_credentials")
                .append_pair("scope", &self.scope)
                .append_pair(
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                )
                .append_pair("client_assertion", &assertion)
                .finish();
            let request = Request::builder()
                .method(Method::POST)
                .uri(&self.token_url)
                .header(http::header::ACCEPT, "application/json")
                .header(
                    http::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .header("DPoP", proof)
                .body(Full::new(Bytes::from(form)))?;
            let response = outbound
                .send(request, MAX_TOKEN_ANSWER)
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
            let error: ErrorAnswer =
                serde_json::from_slice(response.body()).unwrap_or(ErrorAnswer {
                    error: String::new(),
                    error_description: String::new(),
                });
            if error.error == "use_dpop_nonce" && response.headers().contains_key("dpop-nonce") {
                self.set_nonce(response.headers().get("dpop-nonce"));
                continue;
            }
            // Okta's error and description name the problem (invalid_client, invalid_scope…)
            // and carry no secret.
            anyhow::bail!(
                "the token endpoint answered {status}: {} {}",
                error.error,
                error.error_description
            );
        }
        anyhow::bail!("the token endpoint kept asking for a new DPoP nonce")
    }
}
