//! Talking to an OCI registry (the distribution spec's pull side): GETs through the process's
//! pooled HTTPS client, plain HTTP only when the operator asked for it, the registry's
//! anonymous or credentialled token dance on a 401, and redirects (blobs are often served
//! from object storage elsewhere).

use anyhow::{Context, bail};
use base64::Engine;
use bytes::Bytes;
use http::{Request, Response, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::outbound::Outbound;

/// Most redirects followed for one GET.
const MAX_REDIRECTS: usize = 5;
/// Largest token answer read.
const MAX_TOKEN_BODY: usize = 64 * 1024;

/// Registry credentials (from the environment; never logged).
#[derive(Clone)]
pub struct Credentials {
    /// User name.
    pub username: String,
    /// Password or access token.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").finish_non_exhaustive()
    }
}

/// One registry session: its transport and the authorization it earned.
#[derive(Debug)]
pub struct Registry {
    base: String,
    transport: Transport,
    insecure_http: bool,
    credentials: Option<Credentials>,
    authorization: Option<String>,
}

enum Transport {
    Https(Outbound),
    Http(Client<HttpConnector, Full<Bytes>>),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Https(_) => "https",
            Self::Http(_) => "http",
        })
    }
}

impl Transport {
    async fn send(
        &self,
        request: Request<Full<Bytes>>,
        max: usize,
    ) -> anyhow::Result<Response<Bytes>> {
        match self {
            Self::Https(outbound) => Ok(outbound.send(request, max).await?),
            Self::Http(client) => {
                let response = client.request(request).await.context("request failed")?;
                let (parts, body) = response.into_parts();
                let body = Limited::new(body, max)
                    .collect()
                    .await
                    .map_err(|_| anyhow::anyhow!("answer body unreadable or over {max} bytes"))?
                    .to_bytes();
                Ok(Response::from_parts(parts, body))
            }
        }
    }
}

impl Registry {
    /// A session with `registry` (`host[:port]`): HTTPS through `outbound`, or plain HTTP when
    /// `insecure_http`.
    pub fn new(
        registry: &str,
        outbound: Outbound,
        insecure_http: bool,
        credentials: Option<Credentials>,
    ) -> Self {
        let (scheme, transport) = if insecure_http {
            let client = Client::builder(TokioExecutor::new()).build(HttpConnector::new());
            ("http", Transport::Http(client))
        } else {
            ("https", Transport::Https(outbound))
        };
        Self {
            base: format!("{scheme}://{registry}"),
            transport,
            insecure_http,
            credentials,
            authorization: None,
        }
    }

    /// GETs `path` (`/v2/...`) with `accept`, reading at most `max` bytes; answers a 2xx
    /// response or an error naming the status.
    pub async fn get(
        &mut self,
        path: &str,
        accept: &str,
        max: usize,
    ) -> anyhow::Result<Response<Bytes>> {
        let url = format!("{}{path}", self.base);
        let mut response = self.get_following(&url, accept, max).await?;
        if response.status() == StatusCode::UNAUTHORIZED && self.authorization.is_none() {
            let challenge = response
                .headers()
                .get(header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .context("the registry answered 401 without a WWW-Authenticate challenge")?;
            self.authorization = Some(self.authorize(&challenge).await?);
            response = self.get_following(&url, accept, max).await?;
        }
        let status = response.status();
        if !status.is_success() {
            let hint = match status {
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    " (set IMPORTHOOK_REGISTRY_USERNAME and IMPORTHOOK_REGISTRY_PASSWORD for a private repository)"
                }
                StatusCode::NOT_FOUND => " (no such repository, manifest or blob)",
                _ => "",
            };
            bail!("GET {url} answered {status}{hint}");
        }
        Ok(response)
    }

    /// One GET, following redirects; the authorization goes only to the registry itself.
    async fn get_following(
        &self,
        url: &str,
        accept: &str,
        max: usize,
    ) -> anyhow::Result<Response<Bytes>> {
        let registry: Uri = self.base.parse().context("registry URL")?;
        let mut uri: Uri = url.parse().with_context(|| format!("invalid URL {url}"))?;
        for _ in 0..=MAX_REDIRECTS {
            self.allowed(&uri)?;
            let mut request = Request::get(uri.clone()).header(header::ACCEPT, accept);
            if let Some(auth) = &self.authorization
                && uri.authority() == registry.authority()
            {
                request = request.header(header::AUTHORIZATION, auth);
            }
            let response = self
                .transport
                .send(request.body(Full::new(Bytes::new()))?, max)
                .await
                .with_context(|| format!("GET {uri}"))?;
            if !response.status().is_redirection() {
                return Ok(response);
            }
            let location = response
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .with_context(|| format!("GET {uri}: a redirect without a Location"))?;
            uri = resolve(&uri, location)?;
        }
        bail!("GET {url}: more than {MAX_REDIRECTS} redirects")
    }

    /// Plain HTTP only when asked for; HTTPS always.
    fn allowed(&self, uri: &Uri) -> anyhow::Result<()> {
        match uri.scheme_str() {
            Some("https") if !self.insecure_http => Ok(()),
            Some("http") if self.insecure_http => Ok(()),
            Some("https") => {
                bail!("{uri}: only plain HTTP is spoken with --insecure-http (drop the flag)")
            }
            _ => bail!("{uri}: not https (a plain-HTTP registry needs --insecure-http)"),
        }
    }

    /// The Authorization value a 401's challenge asks for: a bearer token from the realm it
    /// names (anonymous, or with the credentials), or the credentials themselves for Basic.
    async fn authorize(&self, challenge: &str) -> anyhow::Result<String> {
        let basic = self.credentials.as_ref().map(|c| {
            let pair = format!("{}:{}", c.username, c.password);
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        });
        let (scheme, params) = parse_challenge(challenge);
        if scheme.eq_ignore_ascii_case("basic") {
            return basic.context(
                "the registry asks for credentials: set IMPORTHOOK_REGISTRY_USERNAME and IMPORTHOOK_REGISTRY_PASSWORD",
            );
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            bail!("the registry asks for `{scheme}` authentication, which is not supported");
        }
        let realm = params
            .iter()
            .find(|(k, _)| k == "realm")
            .map(|(_, v)| v.clone())
            .context("the registry's Bearer challenge names no realm")?;
        let query: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(
                params
                    .iter()
                    .filter(|(k, _)| k == "service" || k == "scope"),
            )
            .finish();
        let separator = if realm.contains('?') { '&' } else { '?' };
        let uri: Uri = format!("{realm}{separator}{query}")
            .parse()
            .context("the registry's token realm is not a URL")?;
        self.allowed(&uri)?;
        let mut request = Request::get(uri.clone()).header(header::ACCEPT, "application/json");
        if let Some(basic) = &basic {
            request = request.header(header::AUTHORIZATION, basic);
        }
        let response = self
            .transport
            .send(request.body(Full::new(Bytes::new()))?, MAX_TOKEN_BODY)
            .await
            .with_context(|| format!("token request to {realm}"))?;
        if !response.status().is_success() {
            bail!("token request to {realm} answered {}", response.status());
        }
        let answer: serde_json::Value =
            serde_json::from_slice(response.body()).context("the token answer is not JSON")?;
        let token = answer["token"]
            .as_str()
            .or_else(|| answer["access_token"].as_str())
            .context("the token answer has no token")?;
        Ok(format!("Bearer {token}"))
    }
}

/// `Location` relative to `base`, as a URI.
fn resolve(base: &Uri, location: &str) -> anyhow::Result<Uri> {
    if location.starts_with('/') {
        let scheme = base.scheme_str().unwrap_or("https");
        let authority = base.authority().map(|a| a.as_str()).unwrap_or_default();
        return format!("{scheme}://{authority}{location}")
            .parse()
            .with_context(|| format!("invalid redirect {location}"));
    }
    location
        .parse()
        .with_context(|| format!("invalid redirect {location}"))
}

/// `Bearer realm="…",service="…",scope="repository:a:pull,push"` into its scheme and
/// parameters (quoted values may hold commas).
fn parse_challenge(challenge: &str) -> (String, Vec<(String, String)>) {
    let (scheme, rest) = challenge
        .trim()
        .split_once(' ')
        .unwrap_or((challenge.trim(), ""));
    let mut params = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => value.extend(chars.next()),
                    c => value.push(c),
                }
            }
        } else {
            value = chars.by_ref().take_while(|c| *c != ',').collect();
        }
        params.push((key.trim().to_ascii_lowercase(), value));
    }
    (scheme.to_owned(), params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bearer_challenge_keeps_commas_inside_quotes() {
        let (scheme, params) = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:acme/plugins:pull,push""#,
        );
        assert_eq!(scheme, "Bearer");
        assert_eq!(
            params,
            [
                ("realm".to_owned(), "https://auth.example/token".to_owned()),
                ("service".to_owned(), "registry.example".to_owned()),
                (
                    "scope".to_owned(),
                    "repository:acme/plugins:pull,push".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn a_relative_redirect_stays_on_the_registry() {
        let base: Uri = "https://r.example:5000/v2/a/blobs/sha256:00"
            .parse()
            .expect("uri");
        assert_eq!(
            resolve(&base, "/store/x?sig=1")
                .expect("resolve")
                .to_string(),
            "https://r.example:5000/store/x?sig=1"
        );
        assert_eq!(
            resolve(&base, "https://cdn.example/x")
                .expect("resolve")
                .to_string(),
            "https://cdn.example/x"
        );
    }

    #[tokio::test]
    async fn plain_http_only_when_asked_for() {
        let outbound = Outbound::new(&[]).expect("client");
        let mut registry = Registry::new("127.0.0.1:9", outbound.clone(), false, None);
        registry.base = "http://127.0.0.1:9".to_owned();
        let err = registry
            .get("/v2/", "*/*", 1024)
            .await
            .expect_err("refused");
        assert!(format!("{err:#}").contains("--insecure-http"), "{err:#}");
        let insecure = Registry::new("127.0.0.1:9", outbound, true, None);
        let https: Uri = "https://127.0.0.1:9/v2/".parse().expect("uri");
        assert!(insecure.allowed(&https).is_err());
    }
}
