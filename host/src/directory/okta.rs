//! One call to Okta's Users API, `GET /api/v1/users/{login}`: 200 taken, 404 free, anything
//! else not answered; and what its rate-limit headers say about the next call.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::AUTHORIZATION;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::Full;
use serde::Deserialize;

use super::token::{AccessToken, ServiceApp};
use super::{Config, Credentials, Lookup, Unavailable, UserSummary, path_segment};
use crate::auth::Secret;
use crate::outbound::Outbound;

/// Largest user answer read (a user with a big profile is a few KiB).
const MAX_USER_ANSWER: usize = 256 * 1024;
/// Longest pause a rate-limit answer can impose (Okta's windows are one minute).
const MAX_PAUSE: Duration = Duration::from_secs(60);
/// Pause after a 429 that says nothing about its reset.
const DEFAULT_PAUSE: Duration = Duration::from_secs(5);
/// Pause after a concurrency-limit 429: it clears when any of the org's requests finishes.
const CONCURRENCY_PAUSE: Duration = Duration::from_secs(1);

enum Auth {
    Ssws(Secret),
    App(Box<ServiceApp>),
}

/// The Okta API client.
pub struct OktaClient {
    org_url: String,
    auth: Auth,
    outbound: Outbound,
    headroom_percent: u8,
}

impl std::fmt::Debug for OktaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OktaClient")
            .field("org_url", &self.org_url)
            .finish_non_exhaustive()
    }
}

/// A lookup's answer and, when the rate limit is spent, how long to stop calling.
#[derive(Debug)]
pub struct Fetched {
    pub lookup: Lookup,
    pub pause: Option<Duration>,
    /// Why it was not answered, in plain words (for `doctor`; no login, no token).
    pub detail: Option<String>,
}

#[derive(Deserialize)]
struct User {
    id: String,
    status: String,
    profile: Profile,
}

#[derive(Deserialize)]
struct Profile {
    login: String,
}

impl OktaClient {
    pub fn new(config: &Config, outbound: Outbound) -> anyhow::Result<Self> {
        let auth = match &config.credentials {
            Credentials::ApiToken(token) => Auth::Ssws(token.clone()),
            Credentials::ServiceApp {
                client_id,
                key_file,
                key_id,
                scope,
            } => Auth::App(Box::new(ServiceApp::new(
                &config.org_url,
                client_id,
                key_file,
                key_id.as_deref(),
                scope,
                config.dpop,
                outbound.clone(),
            )?)),
        };
        Ok(Self {
            org_url: config.org_url.clone(),
            auth,
            outbound,
            headroom_percent: config.rate_headroom_percent,
        })
    }

    /// Waits for the service app's token (the caller bounds the wait) or calls nothing (API
    /// token): for `doctor`.
    pub async fn check_credentials(&self) -> anyhow::Result<&'static str> {
        match &self.auth {
            Auth::Ssws(_) => Ok("API token"),
            Auth::App(app) => {
                let token = app.token().await?;
                Ok(if token.dpop {
                    "service app (DPoP-bound token)"
                } else {
                    "service app (bearer token)"
                })
            }
        }
    }

    /// Looks `login` up. The caller bounds the time; the login is never logged.
    pub async fn get_user(&self, login: &str) -> Fetched {
        let url = format!("{}/api/v1/users/{}", self.org_url, path_segment(login));
        let mut nonce_retry = true;
        loop {
            let (request, token) = match self.request(&url).await {
                Ok(request) => request,
                Err(e) => {
                    let detail = format!("{e:#}");
                    tracing::warn!(error = %detail, "Okta credentials failed; lookup answers unknown");
                    return unanswered(Unavailable::Failed, detail);
                }
            };
            let response = match self.outbound.send(request, MAX_USER_ANSWER).await {
                Ok(response) => response,
                Err(e) => {
                    tracing::warn!(error = %e, "Okta lookup failed; answering unknown");
                    return unanswered(Unavailable::Failed, format!("cannot reach the org: {e}"));
                }
            };
            let status = response.status();
            let pause = pause(status, response.headers(), self.headroom_percent);
            if let Auth::App(app) = &self.auth
                && status == StatusCode::UNAUTHORIZED
            {
                let asks_nonce = response
                    .headers()
                    .get(http::header::WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("use_dpop_nonce"));
                if asks_nonce && nonce_retry {
                    app.set_nonce(response.headers().get("dpop-nonce"));
                    nonce_retry = false;
                    continue;
                }
                // Expired or revoked: the token task fetches a new one.
                if let Some(token) = &token {
                    app.forget(token);
                }
            }
            let detail = (status != StatusCode::OK && status != StatusCode::NOT_FOUND)
                .then(|| match status {
                    StatusCode::UNAUTHORIZED => "Okta answered 401: the credentials were refused".to_owned(),
                    StatusCode::FORBIDDEN => {
                        "Okta answered 403: the credentials may not read users (scope okta.users.read and an admin role are needed)".to_owned()
                    }
                    other => format!("Okta answered {other}"),
                });
            let lookup = match status {
                StatusCode::OK => match serde_json::from_slice::<User>(response.body()) {
                    // The path also matches a user id, `me` and a login's short name: only a
                    // login Okta holds to be the same (differing at most in case and
                    // diacritical marks) is an answer, and that one means `taken`.
                    Ok(user)
                        if crate::okta::login::equivalent(&user.profile.login)
                            == crate::okta::login::equivalent(login) =>
                    {
                        Lookup::Found(UserSummary {
                            id: user.id,
                            status: user.status,
                        })
                    }
                    Ok(_) => Lookup::Unavailable(Unavailable::UnsupportedLogin),
                    Err(_) => {
                        tracing::warn!("Okta answered 200 with no user; answering unknown");
                        Lookup::Unavailable(Unavailable::Failed)
                    }
                },
                StatusCode::NOT_FOUND => Lookup::NotFound,
                StatusCode::TOO_MANY_REQUESTS => Lookup::Unavailable(Unavailable::RateLimited),
                other => {
                    tracing::warn!(
                        status = other.as_u16(),
                        "Okta lookup refused; answering unknown"
                    );
                    Lookup::Unavailable(Unavailable::Failed)
                }
            };
            return Fetched {
                lookup,
                pause,
                detail,
            };
        }
    }

    async fn request(
        &self,
        url: &str,
    ) -> anyhow::Result<(Request<Full<Bytes>>, Option<AccessToken>)> {
        let builder = Request::get(url).header(http::header::ACCEPT, "application/json");
        let (builder, used) = match &self.auth {
            Auth::Ssws(token) => (
                builder.header(AUTHORIZATION, format!("SSWS {}", token.expose())),
                None,
            ),
            Auth::App(app) => {
                let token = app.token().await?;
                let builder = if token.dpop {
                    let proof = app.proof("GET", url, &token.value)?;
                    builder
                        .header(AUTHORIZATION, format!("DPoP {}", token.value))
                        .header("DPoP", proof)
                } else {
                    builder.header(AUTHORIZATION, format!("Bearer {}", token.value))
                };
                (builder, Some(token))
            }
        };
        Ok((builder.body(Full::new(Bytes::new()))?, used))
    }
}

fn unanswered(reason: Unavailable, detail: String) -> Fetched {
    Fetched {
        lookup: Lookup::Unavailable(reason),
        pause: None,
        detail: Some(detail),
    }
}

/// How long to stop calling, from an answer's rate-limit headers (Okta's "Monitor and
/// troubleshoot rate limits", `docs/reference/rl2-monitor`):
/// - a 429 with `X-Rate-Limit-Limit: 0` is the org's concurrency limit, whose reset is "only a
///   suggested value" and which clears as soon as another request finishes: a short pause;
/// - any other 429, or `X-Rate-Limit-Remaining` at or below `headroom_percent` of
///   `X-Rate-Limit-Limit` (what is left to the org's other clients), lasts until
///   `X-Rate-Limit-Reset`.
fn pause(status: StatusCode, headers: &HeaderMap, headroom_percent: u8) -> Option<Duration> {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let limit = number("x-rate-limit-limit");
    if status == StatusCode::TOO_MANY_REQUESTS && limit == Some(0) {
        return Some(CONCURRENCY_PAUSE);
    }
    let remaining = number("x-rate-limit-remaining");
    // The reserve, rounded up: 20 % of a limit of 1 still keeps that one call for others.
    let reserve = limit.map_or(0, |limit| {
        (limit * u64::from(headroom_percent)).div_ceil(100)
    });
    let spent = status == StatusCode::TOO_MANY_REQUESTS
        || remaining.is_some_and(|left| left == 0 || (limit.is_some() && left <= reserve));
    if !spent {
        return None;
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let pause = number("x-rate-limit-reset").map_or(DEFAULT_PAUSE, |reset| {
        // The reset is a UTC epoch second; a clock behind Okta's still pauses at least 1 s.
        Duration::from_secs(reset.saturating_sub(now).max(1))
    });
    Some(pause.min(MAX_PAUSE))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().expect("header value"));
        }
        map
    }

    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs()
    }

    #[test]
    fn calls_pause_until_the_reset_once_the_limit_is_spent() {
        let reset = (now() + 20).to_string();
        let left = headers(&[
            ("x-rate-limit-remaining", "3".into()),
            ("x-rate-limit-reset", reset.clone()),
        ]);
        assert_eq!(pause(StatusCode::OK, &left, 0), None);
        let spent = headers(&[
            ("x-rate-limit-remaining", "0".into()),
            ("x-rate-limit-reset", reset.clone()),
        ]);
        let p = pause(StatusCode::OK, &spent, 0).expect("paused");
        assert!(
            p >= Duration::from_secs(18) && p <= Duration::from_secs(20),
            "{p:?}"
        );
        let limited = pause(StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new(), 20);
        assert_eq!(limited, Some(DEFAULT_PAUSE));
        let far = headers(&[("x-rate-limit-reset", (now() + 3600).to_string())]);
        assert_eq!(
            pause(StatusCode::TOO_MANY_REQUESTS, &far, 20),
            Some(MAX_PAUSE)
        );
        let past = headers(&[("x-rate-limit-reset", "5".into())]);
        assert_eq!(
            pause(StatusCode::TOO_MANY_REQUESTS, &past, 20),
            Some(Duration::from_secs(1))
        );
    }

    #[test]
    fn the_headroom_is_left_to_the_orgs_other_clients() {
        let reset = (now() + 20).to_string();
        let at = |remaining: &str| {
            headers(&[
                ("x-rate-limit-limit", "100".into()),
                ("x-rate-limit-remaining", remaining.to_owned()),
                ("x-rate-limit-reset", reset.clone()),
            ])
        };
        assert_eq!(pause(StatusCode::OK, &at("21"), 20), None);
        let p = pause(StatusCode::NOT_FOUND, &at("20"), 20).expect("paused at the reserve");
        assert!(p >= Duration::from_secs(18), "{p:?}");
        assert_eq!(
            pause(StatusCode::OK, &at("20"), 0),
            None,
            "no headroom asked"
        );
        assert!(pause(StatusCode::OK, &at("0"), 0).is_some());
    }

    #[test]
    fn a_concurrency_429_pauses_one_second_whatever_its_reset_says() {
        let busy = headers(&[
            ("x-rate-limit-limit", "0".into()),
            ("x-rate-limit-remaining", "0".into()),
            ("x-rate-limit-reset", (now() + 45).to_string()),
        ]);
        assert_eq!(
            pause(StatusCode::TOO_MANY_REQUESTS, &busy, 20),
            Some(CONCURRENCY_PAUSE)
        );
    }
}
