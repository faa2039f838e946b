//! A fake Okta org for the directory tests: a real loopback HTTPS server (rcgen certificate,
//! trusted by the host through its CA-file option) with the service-app token endpoint
//! (private_key_jwt checked; for an app requiring DPoP, a request without a proof refused and
//! the DPoP nonce challenge first; 429 when the test says so) and the users endpoint, whose
//! answers carry Okta's rate-limit headers and which answers past its concurrency limit as
//! Okta does. Logins choose the answer: `slow-*` waits 3 s, `held-*` 200 ms, `error-*` gets
//! 503, `limited-*` a rate-limit 429, `busy-*` a concurrency-limit 429, `last-*` 404 with
//! `X-Rate-Limit-Remaining: 0`; others are looked up in the users the test added, matching
//! logins as Okta documents (see [`same_login`]). Every call is counted. Each behaviour cites
//! the Okta page it follows.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use super::TempDir;

/// The org's API token (SSWS).
pub const API_TOKEN: &str = "00fakeApiTokenDoNotLog0123456789";
/// The service app's client id.
pub const CLIENT_ID: &str = "0oafakeserviceapp";
const NONCE: &str = "fake-dpop-nonce-1";

/// What the org saw.
#[derive(Default)]
pub struct OrgState {
    users: Mutex<HashMap<String, (String, String, String)>>,
    /// Issued tokens and whether each is DPoP-bound.
    issued: Mutex<HashMap<String, bool>>,
    /// Calls to `/api/v1/users/…`.
    pub user_calls: AtomicU64,
    /// Calls to the token endpoint (challenged ones included).
    pub token_calls: AtomicU64,
    /// Token calls answered with the nonce challenge.
    pub nonce_challenges: AtomicU64,
    /// Seconds to add to "now" for the `X-Rate-Limit-Reset` of limited answers.
    pub reset_in_s: AtomicU64,
    /// Whether the service app has "Require DPoP" on (Okta's default for new API Services
    /// apps); off, it gets plain bearer tokens.
    pub dpop_required: AtomicBool,
    /// Token requests still to answer 429 (the token endpoint's rate limit spent).
    pub token_limited: AtomicU64,
    /// Milliseconds the token endpoint takes to answer.
    pub token_delay_ms: AtomicU64,
    /// `expires_in` of the tokens issued.
    pub token_lifetime_s: AtomicU64,
    /// `X-Rate-Limit-Limit` and `X-Rate-Limit-Remaining` of the users endpoint's answers.
    pub limit: AtomicU64,
    pub remaining: AtomicU64,
    /// The org's concurrency limit for the users endpoint (0: none).
    pub max_concurrent: AtomicU64,
    in_flight: AtomicU64,
    /// Most users-endpoint requests that were in flight at once.
    pub peak_in_flight: AtomicU64,
}

/// The running org.
pub struct FakeOrg {
    /// `https://127.0.0.1:{port}`.
    pub url: String,
    /// Holds `ca.pem` (the org's certificate) and `app-key.pem` (the service app's key).
    pub dir: TempDir,
    pub state: Arc<OrgState>,
}

impl FakeOrg {
    pub async fn start() -> Self {
        let certified =
            rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).expect("cert");
        let dir = TempDir::new("okta-org");
        std::fs::write(dir.path().join("ca.pem"), certified.cert.pem()).expect("ca");
        let app_key = rcgen::KeyPair::generate().expect("app key");
        std::fs::write(dir.path().join("app-key.pem"), app_key.serialize_pem()).expect("key");
        let app_public = app_key.public_key_raw().to_vec();
        let key = rustls::pki_types::PrivateKeyDer::try_from(certified.signing_key.serialize_der())
            .expect("key");
        let tls = importhook::tls::build(vec![certified.cert.der().clone()], key).expect("tls");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!(
            "https://127.0.0.1:{}",
            listener.local_addr().expect("addr").port()
        );
        let state = Arc::new(OrgState::default());
        state.reset_in_s.store(2, Ordering::SeqCst);
        state.dpop_required.store(true, Ordering::SeqCst);
        state.token_lifetime_s.store(3600, Ordering::SeqCst);
        state.limit.store(100, Ordering::SeqCst);
        state.remaining.store(99, Ordering::SeqCst);
        let acceptor = tokio_rustls::TlsAcceptor::from(tls.config);
        let (task_state, task_url) = (state.clone(), url.clone());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, state, url, public) = (
                    acceptor.clone(),
                    task_state.clone(),
                    task_url.clone(),
                    app_public.clone(),
                );
                tokio::spawn(async move {
                    let Ok(stream) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                        let (state, url, public) = (state.clone(), url.clone(), public.clone());
                        async move {
                            Ok::<_, std::convert::Infallible>(
                                answer(request, &state, &url, &public).await,
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { url, dir, state }
    }

    /// Adds a user (any status; deactivated users hold their login too).
    pub fn add_user(&self, login: &str, id: &str, status: &str) {
        self.state.users.lock().expect("users").insert(
            same_login(login),
            (id.to_owned(), status.to_owned(), login.to_owned()),
        );
    }

    pub fn ca_file(&self) -> std::path::PathBuf {
        self.dir.path().join("ca.pem")
    }

    pub fn app_key_file(&self) -> std::path::PathBuf {
        self.dir.path().join("app-key.pem")
    }

    pub fn user_calls(&self) -> u64 {
        self.state.user_calls.load(Ordering::SeqCst)
    }

    pub fn token_calls(&self) -> u64 {
        self.state.token_calls.load(Ordering::SeqCst)
    }
}

/// Counts a users-endpoint request in flight until dropped.
struct InFlight<'a>(&'a OrgState);

impl<'a> InFlight<'a> {
    fn enter(state: &'a OrgState) -> (Self, u64) {
        let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.peak_in_flight.fetch_max(now, Ordering::SeqCst);
        (Self(state), now)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The key under which Okta finds a login. Okta's management OpenAPI spec (`UserProfile.login`):
/// "Logins are not considered unique if they differ only in case and/or diacritical marks. If
/// one of your users has a login of `Isaac.Brock@example.com`, there cannot be another user
/// whose login is `isaac.brock@example.com`, nor `isáàc.bröck@example.com`." So a lookup of any
/// of those finds that user, and the answer carries the login as the user has it. Written here
/// apart from the host's rule (diacritics as NFD's combining marks, case by lowercasing) so
/// the tests do not check the host against itself.
pub fn same_login(login: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    login
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .collect::<String>()
        .to_lowercase()
}

fn reply(status: StatusCode, body: Value, headers: &[(&str, String)]) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    for (name, value) in headers {
        response.headers_mut().insert(
            http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
            value.parse().expect("value"),
        );
    }
    response
}

fn claims(jwt: &str) -> Option<Value> {
    serde_json::from_slice(&B64.decode(jwt.split('.').nth(1)?).ok()?).ok()
}

/// Whether `jwt` is signed by the P-256 `public` key (uncompressed point).
fn signed_by(jwt: &str, public: &[u8]) -> bool {
    let Some((input, signature)) = jwt.rsplit_once('.') else {
        return false;
    };
    let Ok(signature) = B64.decode(signature) else {
        return false;
    };
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, public)
        .verify(input.as_bytes(), &signature)
        .is_ok()
}

/// A DPoP proof signed by the key in its own header, for `htm`.
fn valid_proof(proof: &str, htm: &str) -> Option<Value> {
    let header: Value = serde_json::from_slice(&B64.decode(proof.split('.').next()?).ok()?).ok()?;
    let x = B64.decode(header["jwk"]["x"].as_str()?).ok()?;
    let y = B64.decode(header["jwk"]["y"].as_str()?).ok()?;
    let public = [&[4u8][..], &x, &y].concat();
    let claims = claims(proof)?;
    (header["typ"] == "dpop+jwt" && claims["htm"] == htm && signed_by(proof, &public))
        .then_some(claims)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

async fn answer(
    request: Request<hyper::body::Incoming>,
    state: &OrgState,
    url: &str,
    app_public: &[u8],
) -> Response<Full<Bytes>> {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (authorization, dpop) = (header("authorization"), header("dpop"));
    let path = request.uri().path().to_owned();
    if path == "/oauth2/v1/token" {
        state.token_calls.fetch_add(1, Ordering::SeqCst);
        let delay = state.token_delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        // `/oauth2/v1/token` has rate limits like every endpoint; past one Okta answers 429
        // with the X-Rate-Limit-* headers, the reset in UTC epoch seconds ("Rate limits",
        // docs/reference/rate-limits; headers: "Monitor and troubleshoot rate limits",
        // docs/reference/rl2-monitor; the endpoint's own limits: docs/reference/rl2-limits).
        if state
            .token_limited
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return reply(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"errorCode": "E0000047", "errorSummary": "API call exceeded rate limit due to too many requests."}),
                &[
                    ("x-rate-limit-limit", "600".to_owned()),
                    ("x-rate-limit-remaining", "0".to_owned()),
                    (
                        "x-rate-limit-reset",
                        (now() + state.reset_in_s.load(Ordering::SeqCst)).to_string(),
                    ),
                ],
            );
        }
        let body = request
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
        let token_url = format!("{url}/oauth2/v1/token");
        let assertion = form.get("client_assertion").cloned().unwrap_or_default();
        // private_key_jwt: iss = sub = client id, aud = the token endpoint
        // (guides/implement-oauth-for-okta-serviceapp).
        let assertion_ok = claims(&assertion).is_some_and(|c| {
            c["iss"] == CLIENT_ID && c["sub"] == CLIENT_ID && c["aud"] == token_url
        }) && signed_by(&assertion, app_public)
            && form.get("grant_type").map(String::as_str) == Some("client_credentials")
            && form.get("scope").map(String::as_str) == Some("okta.users.read");
        if !assertion_ok {
            return reply(
                StatusCode::UNAUTHORIZED,
                json!({"error": "invalid_client", "error_description": "The client_assertion is invalid."}),
                &[],
            );
        }
        let issue = |dpop: bool| {
            let token = format!(
                "fake-access-token-{}",
                state.token_calls.load(Ordering::SeqCst)
            );
            state
                .issued
                .lock()
                .expect("issued")
                .insert(token.clone(), dpop);
            let lifetime = state.token_lifetime_s.load(Ordering::SeqCst);
            let kind = if dpop { "DPoP" } else { "Bearer" };
            reply(
                StatusCode::OK,
                json!({"token_type": kind, "expires_in": lifetime, "access_token": token, "scope": "okta.users.read"}),
                &[],
            )
        };
        let required = state.dpop_required.load(Ordering::SeqCst);
        if dpop.is_empty() {
            if !required {
                return issue(false);
            }
            // An app with "Require DPoP" on refuses a token request without a proof. Okta's
            // DPoP guide (guides/dpop) does not show this answer; Okta's own Go SDK
            // (okta/okta-sdk-golang, okta/client.go) asks without DPoP first and switches on
            // `invalid_dpop_proof`, RFC 9449's error for a missing or bad proof: that is what
            // this fake answers (the README says the docs are silent here).
            return reply(
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid_dpop_proof", "error_description": "The DPoP proof JWT header is missing."}),
                &[],
            );
        }
        if !required {
            // How /v1/token answers an unsolicited proof from an app without DPoP is not in
            // Okta's docs: the fake does not guess, and no test relies on it.
            return reply(
                StatusCode::NOT_IMPLEMENTED,
                json!({"error": "not_modelled", "error_description": "Okta's docs do not say how an unsolicited DPoP proof is answered."}),
                &[],
            );
        }
        let Some(proof) = valid_proof(&dpop, "POST") else {
            return reply(
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid_dpop_proof"}),
                &[],
            );
        };
        // The first proof without Okta's nonce gets 400 `use_dpop_nonce` and a `dpop-nonce`
        // header (guides/dpop/main, "Authorization server requires nonce in DPoP proof").
        if proof["nonce"] != NONCE {
            state.nonce_challenges.fetch_add(1, Ordering::SeqCst);
            return reply(
                StatusCode::BAD_REQUEST,
                json!({"error": "use_dpop_nonce", "error_description": "Authorization server requires nonce in DPoP proof."}),
                &[("dpop-nonce", NONCE.to_owned())],
            );
        }
        return issue(true);
    }
    let Some(segment) = path.strip_prefix("/api/v1/users/") else {
        return reply(StatusCode::NOT_FOUND, json!({}), &[]);
    };
    state.user_calls.fetch_add(1, Ordering::SeqCst);
    let (_in_flight, in_flight) = InFlight::enter(state);
    let issued = |token: &str| state.issued.lock().expect("issued").get(token).copied();
    let authorized = if let Some(token) = authorization.strip_prefix("DPoP ") {
        let ath = B64.encode(ring::digest::digest(
            &ring::digest::SHA256,
            token.as_bytes(),
        ));
        issued(token) == Some(true) && valid_proof(&dpop, "GET").is_some_and(|c| c["ath"] == ath)
    } else if let Some(token) = authorization.strip_prefix("Bearer ") {
        issued(token) == Some(false)
    } else {
        authorization == format!("SSWS {API_TOKEN}")
    };
    if !authorized {
        return reply(
            StatusCode::UNAUTHORIZED,
            json!({"errorCode": "E0000011", "errorSummary": "Invalid token provided"}),
            &[],
        );
    }
    let login = percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned();
    // Okta's Users API reference, "Get User" (okta-developer-docs `reference/api/users/index.md`):
    // "Logins with a `/` or `?` character can only be fetched by `id` due to URL issues with
    // escaping the `/` and `?` characters" (the management spec's `getUser` now names `/`
    // only). Asked by path, such a login is not found: a 404 a client would misread as "free".
    if login.contains(['/', '?']) {
        return reply(
            StatusCode::NOT_FOUND,
            json!({"errorCode": "E0000007", "errorSummary": "Not found: Resource not found"}),
            &[],
        );
    }
    let reset = (now() + state.reset_in_s.load(Ordering::SeqCst)).to_string();
    let max = state.max_concurrent.load(Ordering::SeqCst);
    if login.starts_with("busy-") || (max > 0 && in_flight > max) {
        // Past the org's concurrency limit: 429 whose `X-Rate-Limit-Limit` and `-Remaining`
        // are always 0 and whose reset is "only a suggested value"; it clears when another
        // request finishes ("Monitor and troubleshoot rate limits", docs/reference/rl2-monitor,
        // "Example rate limit header with concurrent rate limit exceeded"; the limit itself:
        // docs/reference/rl2-concurrency).
        return reply(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"errorCode": "E0000047", "errorSummary": "API call exceeded rate limit due to too many requests."}),
            &[
                ("x-rate-limit-limit", "0".to_owned()),
                ("x-rate-limit-remaining", "0".to_owned()),
                ("x-rate-limit-reset", reset),
            ],
        );
    }
    if login.starts_with("slow-") {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    if login.starts_with("held-") {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if login.starts_with("error-") {
        return reply(StatusCode::SERVICE_UNAVAILABLE, json!({}), &[]);
    }
    let limit = state.limit.load(Ordering::SeqCst).to_string();
    // Every answer reports the endpoint's bucket: its limit, what is left of it in this window
    // and the window's reset (UTC epoch seconds); past the limit, 429 until the reset
    // (docs/reference/rate-limits; headers: docs/reference/rl2-monitor).
    if login.starts_with("limited-") {
        return reply(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"errorCode": "E0000047", "errorSummary": "API call exceeded rate limit due to too many requests."}),
            &[
                ("x-rate-limit-limit", limit),
                ("x-rate-limit-remaining", "0".to_owned()),
                ("x-rate-limit-reset", reset),
            ],
        );
    }
    let remaining = if login.starts_with("last-") {
        0
    } else {
        state.remaining.load(Ordering::SeqCst)
    };
    let limits = vec![
        ("x-rate-limit-limit", limit),
        ("x-rate-limit-remaining", remaining.to_string()),
        ("x-rate-limit-reset", reset),
    ];
    let user = state
        .users
        .lock()
        .expect("users")
        .get(&same_login(&login))
        .cloned();
    match user {
        Some((id, status, login)) => reply(
            StatusCode::OK,
            json!({"id": id, "status": status, "profile": {"login": login}}),
            &limits,
        ),
        None => reply(
            StatusCode::NOT_FOUND,
            json!({"errorCode": "E0000007", "errorSummary": "Not found: Resource not found"}),
            &limits,
        ),
    }
}
