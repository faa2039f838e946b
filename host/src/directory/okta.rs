//! One call to Okta's Users API, `GET /api/v1/users/{login}`: 200 taken, 404 free, anything
//! else not answered; and what its rate-limit headers say about the next call.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::AUTHORIZATION;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::Full;
use serde::Deserialize;

use super::token::ServiceApp;
use super::{Config, Credentials, Lookup, Unavailable, UserSummary, path_segment};
use crate::auth::Secret;
use crate::outbound::Outbound;

/// Largest user answer read (a user with a big profile is a few KiB).
const MAX_USER_ANSWER: usize = 256 * 1024;
/// Longest pause a rate-limit answer can impose (Okta's windows are one minute).
const MAX_PAUSE: Duration = Duration::from_secs(60);
/// Pause after a 429 that says nothing about its reset.
const DEFAULT_PAUSE: Duration = Duration::from_secs(5);

enum Auth {
    Ssws(Secret),
    App(Box<ServiceApp>),
}

/// The Okta API client.
pub struct OktaClient {
    org_url: String,
    auth: Auth,
    outbound: Outbound,
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
            )?)),
        };
        Ok(Self {
            org_url: config.org_url.clone(),
            auth,
            outbound,
        })
    }

    /// Fetches one token (service app) or calls nothing (API token): for `doctor`.
    pub async fn check_credentials(&self) -> anyhow::Result<&'static str> {
        match &self.auth {
            Auth::Ssws(_) => Ok("API token"),
            Auth::App(app) => {
                app.forget().await;
                let token = app.token(&self.outbound).await?;
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
            let request = match self.request(&url).await {
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
            let pause = pause(status, response.headers());
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
                // Expired or revoked: the next lookup fetches a new token.
                app.forget().await;
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

    async fn request(&self, url: &str) -> anyhow::Result<Request<Full<Bytes>>> {
        let builder = Request::get(url).header(http::header::ACCEPT, "application/json");
        let builder = match &self.auth {
            Auth::Ssws(token) => builder.header(AUTHORIZATION, format!("SSWS {}", token.expose())),
            Auth::App(app) => {
                let token = app.token(&self.outbound).await?;
                if token.dpop {
                    let proof =
                        app.dpop
                            .proof("GET", url, Some(&token.value), app.nonce().as_deref())?;
                    builder
                        .header(AUTHORIZATION, format!("DPoP {}", token.value))
                        .header("DPoP", proof)
                } else {
                    builder.header(AUTHORIZATION, format!("Bearer {}", token.value))
                }
            }
        };
        Ok(builder.body(Full::new(Bytes::new()))?)
    }
}

fn unanswered(reason: Unavailable, detail: String) -> Fetched {
    Fetched {
        lookup: Lookup::Unavailable(reason),
        pause: None,
        detail: Some(detail),
    }
}

/// How long to stop calling: until `X-Rate-Limit-Reset` once `X-Rate-Limit-Remaining` is 0
/// or Okta answered 429.
fn pause(status: StatusCode, headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let spent = status == StatusCode::TOO_MANY_REQUESTS
        || number("x-rate-limit-remaining").is_some_and(|left| left == 0);
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
        assert_eq!(pause(StatusCode::OK, &left), None);
        let spent = headers(&[
            ("x-rate-limit-remaining", "0".into()),
            ("x-rate-limit-reset", reset.clone()),
        ]);
        let p = pause(StatusCode::OK, &spent).expect("paused");
        assert!(
            p >= Duration::from_secs(18) && p <= Duration::from_secs(20),
            "{p:?}"
        );
        let limited = pause(StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new());
        assert_eq!(limited, Some(DEFAULT_PAUSE));
        let far = headers(&[("x-rate-limit-reset", (now() + 3600).to_string())]);
        assert_eq!(pause(StatusCode::TOO_MANY_REQUESTS, &far), Some(MAX_PAUSE));
        let past = headers(&[("x-rate-limit-reset", "5".into())]);
        assert_eq!(
            pause(StatusCode::TOO_MANY_REQUESTS, &past),
            Some(Duration::from_secs(1))
        );
    }
}
