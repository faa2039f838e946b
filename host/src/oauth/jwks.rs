//! The authorization server's signing keys: discovered, fetched over HTTPS with a deadline,
//! cached, refreshed on an unknown key id at most once per interval (random `kid`s cannot make
//! us hammer the server), and kept through an outage.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use arc_swap::ArcSwap;
use bytes::Bytes;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, PublicKeyUse};
use tokio::sync::Mutex;

use super::OAuthSettings;
use crate::outbound::Outbound;

/// Largest discovery document or key set read.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// Where the keys are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// `jwks_uri` of `{issuer}/.well-known/oauth-authorization-server`.
    Discover,
    /// A configured JWKS URL.
    Url(String),
}

/// Cached signing keys by key id.
pub struct JwksCache {
    issuer: String,
    source: JwksSource,
    outbound: Outbound,
    keys: ArcSwap<HashMap<String, Arc<DecodingKey>>>,
    /// When a fetch was last attempted; held during a fetch so concurrent misses share it.
    last_attempt: Mutex<Option<Instant>>,
    discovered: Mutex<Option<String>>,
    refresh_interval: Duration,
    fetch_timeout: Duration,
    fetches: AtomicU64,
}

impl std::fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksCache")
            .field("source", &self.source)
            .field("keys", &self.key_count())
            .finish()
    }
}

impl JwksCache {
    /// An empty cache for `settings`, fetching through `outbound` (which must trust
    /// `settings.ca_file`).
    pub fn new(settings: &OAuthSettings, outbound: Outbound) -> Self {
        Self {
            issuer: settings.issuer.trim_end_matches('/').to_owned(),
            source: settings.jwks.clone(),
            outbound,
            keys: ArcSwap::from_pointee(HashMap::new()),
            last_attempt: Mutex::new(None),
            discovered: Mutex::new(None),
            refresh_interval: settings.refresh_interval,
            fetch_timeout: settings.fetch_timeout,
            fetches: AtomicU64::new(0),
        }
    }

    /// Number of usable keys cached.
    pub fn key_count(&self) -> usize {
        self.keys.load().len()
    }

    /// Key-set fetches attempted so far.
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The key `kid`, refreshing the set once if it is unknown and the interval allows.
    pub async fn key(&self, kid: &str) -> Option<Arc<DecodingKey>> {
        if let Some(key) = self.keys.load().get(kid) {
            return Some(key.clone());
        }
        self.refresh_if_due().await;
        self.keys.load().get(kid).cloned()
    }

    /// Fetches the key set unless one was attempted less than the refresh interval ago. On
    /// failure the cached keys stay in use.
    pub async fn refresh_if_due(&self) {
        let mut last = self.last_attempt.lock().await;
        if last.is_some_and(|at| at.elapsed() < self.refresh_interval) {
            return;
        }
        *last = Some(Instant::now());
        self.fetches.fetch_add(1, Ordering::Relaxed);
        match tokio::time::timeout(self.fetch_timeout, self.fetch()).await {
            Ok(Ok(keys)) if !keys.is_empty() => {
                tracing::info!(keys = keys.len(), "JWKS refreshed");
                self.keys.store(Arc::new(keys));
            }
            Ok(Ok(_)) => tracing::warn!("JWKS holds no usable RS256 key; keeping the cached keys"),
            Ok(Err(e)) => {
                tracing::warn!(error = %format!("{e:#}"), "JWKS fetch failed; keeping the cached keys")
            }
            Err(_) => tracing::warn!(
                timeout_ms = self.fetch_timeout.as_millis() as u64,
                "JWKS fetch timed out; keeping the cached keys"
            ),
        }
    }

    async fn fetch(&self) -> anyhow::Result<HashMap<String, Arc<DecodingKey>>> {
        let url = match &self.source {
            JwksSource::Url(url) => url.clone(),
            JwksSource::Discover => self.discover().await?,
        };
        let set: JwkSet = serde_json::from_slice(&self.get(&url).await?)
            .context("the JWKS is not a JSON key set")?;
        let mut keys = HashMap::new();
        for jwk in set.keys {
            let rsa = matches!(jwk.algorithm, AlgorithmParameters::RSA(_));
            let signing = !matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption));
            let rs256 = jwk
                .common
                .key_algorithm
                .is_none_or(|alg| format!("{alg:?}") == "RS256");
            if let (true, true, true, Some(kid)) = (rsa, signing, rs256, jwk.common.key_id.clone())
                && let Ok(key) = DecodingKey::from_jwk(&jwk)
            {
                keys.insert(kid, Arc::new(key));
            }
        }
        Ok(keys)
    }

    async fn discover(&self) -> anyhow::Result<String> {
        if let Some(url) = self.discovered.lock().await.clone() {
            return Ok(url);
        }
        let metadata_url = format!("{}/.well-known/oauth-authorization-server", self.issuer);
        let metadata: serde_json::Value = serde_json::from_slice(&self.get(&metadata_url).await?)
            .context("authorization server metadata is not JSON")?;
        let url = metadata["jwks_uri"]
            .as_str()
            .context("authorization server metadata has no jwks_uri")?
            .to_owned();
        *self.discovered.lock().await = Some(url.clone());
        Ok(url)
    }

    /// GETs an https URL through the shared client and returns its body (at most 256 KiB).
    async fn get(&self, url: &str) -> anyhow::Result<Bytes> {
        self.outbound.get_json(url, MAX_DOCUMENT_BYTES).await
    }
}
