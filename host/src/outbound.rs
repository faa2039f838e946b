//! The one pooled outbound HTTPS client of the process: the JWKS fetch and the Okta directory
//! lookups (and `importhook pull`'s registry requests) share its connections (kept alive, so a lookup does not pay a TLS handshake), its
//! trust store (public web roots plus the configured CA files) and its body-size cap.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::{CertificateDer, pem::PemObject};

/// How long a TCP connect may take; the caller's own deadline usually cuts sooner.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long an idle pooled connection is kept.
const POOL_IDLE: Duration = Duration::from_secs(60);
/// Idle connections kept per host.
const POOL_PER_HOST: usize = 16;

/// A CA file to trust besides the public web roots, with the configuration key that named it
/// (for the error message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraCa {
    /// The configuration key or flag (`oauth_ca_file`, `okta_ca_file`, `pull --ca-file`).
    pub key: &'static str,
    /// The PEM file.
    pub path: PathBuf,
}

/// Why an outbound request failed. Never carries a header value or a body.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// Connect, TLS or HTTP failure before an answer.
    #[error("request failed: {0}")]
    Transport(String),
    /// The answer's body was larger than allowed or broke off.
    #[error("answer body unreadable or over {0} bytes")]
    Body(usize),
}

/// The shared client; cloning is cheap and shares the pool.
#[derive(Clone)]
pub struct Outbound {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    tls: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound").finish_non_exhaustive()
    }
}

impl Outbound {
    /// A client trusting the public web roots and every certificate in `extra`.
    pub fn new(extra: &[ExtraCa]) -> anyhow::Result<Self> {
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for ca in extra {
            let path = ca.path.display();
            for cert in CertificateDer::pem_file_iter(&ca.path)
                .with_context(|| format!("cannot read {} {path}", ca.key))?
            {
                let cert = cert.with_context(|| format!("invalid PEM in {} {path}", ca.key))?;
                roots
                    .add(cert)
                    .with_context(|| format!("unusable certificate in {} {path}", ca.key))?;
            }
        }
        let tls = rustls::ClientConfig::builder_with_provider(crate::tls::provider())
            .with_safe_default_protocol_versions()
            .context("TLS client versions")?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let tls = Arc::new(tls);
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        http.set_nodelay(true);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config((*tls).clone())
            .https_only()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(POOL_IDLE)
            .pool_max_idle_per_host(POOL_PER_HOST)
            .build(https);
        Ok(Self { client, tls })
    }

    /// The TLS client configuration (for callers that test a handshake by hand).
    pub fn tls(&self) -> Arc<rustls::ClientConfig> {
        self.tls.clone()
    }

    /// Sends `request` (an `https` URI) and reads the answer's body, at most `max_body` bytes.
    /// No deadline here: the caller wraps the call in its own.
    pub async fn send(
        &self,
        request: Request<Full<Bytes>>,
        max_body: usize,
    ) -> Result<Response<Bytes>, OutboundError> {
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| OutboundError::Transport(error_chain(&e)))?;
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, max_body)
            .collect()
            .await
            .map_err(|_| OutboundError::Body(max_body))?
            .to_bytes();
        Ok(Response::from_parts(parts, body))
    }

    /// GETs `url` with `Accept: application/json`; a non-2xx status is an error.
    pub async fn get_json(&self, url: &str, max_body: usize) -> anyhow::Result<Bytes> {
        let uri: http::Uri = url.parse().with_context(|| format!("invalid URL {url}"))?;
        anyhow::ensure!(uri.scheme_str() == Some("https"), "{url} is not https");
        let request = Request::get(uri)
            .header(http::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::new()))?;
        let response = self.send(request, max_body).await?;
        anyhow::ensure!(
            response.status().is_success(),
            "{url} answered {}",
            response.status()
        );
        Ok(response.into_body())
    }
}

/// The error and its sources in one line (hyper's top-level error alone says "client error").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_ca_file_is_named_with_its_key() {
        let err = Outbound::new(&[ExtraCa {
            key: "okta_ca_file",
            path: PathBuf::from("/nonexistent/ca.pem"),
        }])
        .expect_err("missing file");
        let text = format!("{err:#}");
        assert!(text.contains("okta_ca_file"), "{text}");
        assert!(text.contains("/nonexistent/ca.pem"), "{text}");
    }

    #[tokio::test]
    async fn plain_http_is_refused() {
        let outbound = Outbound::new(&[]).expect("client");
        let err = outbound
            .get_json("http://127.0.0.1:9/x", 1024)
            .await
            .expect_err("http refused");
        assert!(format!("{err:#}").contains("not https"));
    }
}
