//! The hook endpoint: routing, authentication, body limits, parsing, the plugin pipeline and
//! the answer to Okta. One log line per request, with no header or profile value in it.

pub mod config;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{
    ALLOW, CONNECTION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING,
};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Body;
use importhook_okta::CompactString;

use crate::app::App;
use crate::auth::Authenticator;
use crate::oauth::OAuthError;
use crate::okta::{HookResponse, ImportRequest};
use crate::slots::ConnectionMark;
use config::OnTimeout;

/// The error summary answered when the request deadline comes first under `on_timeout =
/// "error"` (it reaches Okta's System Log: no request data in it).
pub(crate) const DEADLINE_SUMMARY: &str = "importhook did not finish within its request deadline";
/// The error summary answered when the pipeline's answer breaks one of Okta's rules.
pub(crate) const INVALID_RESPONSE_SUMMARY: &str = "importhook could not build a valid response";

/// How a request ended, for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `204`: the pipeline changed nothing.
    NoChange,
    /// `200` with commands.
    Changed,
    /// `200` with an `error` object.
    Refused,
    /// `401`.
    Unauthorized,
    /// `400`.
    BadRequest,
    /// `404`.
    NotFound,
    /// `405`.
    MethodNotAllowed,
    /// `415`.
    UnsupportedMediaType,
    /// `413`.
    PayloadTooLarge,
    /// `501`: a transfer coding other than `chunked`.
    UnsupportedTransferCoding,
    /// `408`: the body did not arrive in time.
    BodyTimeout,
    /// `500`: the service could not build a valid answer.
    Internal,
    /// The request deadline came before the pipeline finished.
    DeadlinePassed,
    /// `503`: too many requests in flight.
    Overloaded,
}

impl Outcome {
    /// Stable label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoChange => "no_change",
            Self::Changed => "changed",
            Self::Refused => "refused",
            Self::Unauthorized => "unauthorized",
            Self::BadRequest => "bad_request",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedTransferCoding => "unsupported_transfer_coding",
            Self::BodyTimeout => "body_timeout",
            Self::Internal => "internal_error",
            Self::DeadlinePassed => "deadline_passed",
            Self::Overloaded => "overloaded",
        }
    }
}

/// The answer and what to log about it.
#[derive(Debug)]
struct Answer {
    response: Response<Full<Bytes>>,
    outcome: Outcome,
    event_id: Option<CompactString>,
    auth: Option<Authenticated>,
    /// Why a `401` was given (never the presented value), for the request log line.
    refusal: Option<String>,
}

impl Answer {
    fn json(status: StatusCode, outcome: Outcome, body: Vec<u8>) -> Self {
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        response.headers_mut().insert(
            CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        Self {
            response,
            outcome,
            event_id: None,
            auth: None,
            refusal: None,
        }
    }

    /// A status with an Okta-shaped `error` object; `summary` must hold no personal data.
    fn refuse(status: StatusCode, outcome: Outcome, summary: &str) -> Self {
        let body =
            serde_json::to_vec(&HookResponse::error(summary, Vec::new())).unwrap_or_default();
        Self::json(status, outcome, body)
    }

    fn no_content() -> Self {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::NO_CONTENT;
        Self {
            response,
            outcome: Outcome::NoChange,
            event_id: None,
            auth: None,
            refusal: None,
        }
    }

    fn with_event(mut self, event_id: CompactString) -> Self {
        // Logged: bounded like a state key (a long id becomes its hash).
        let hashed = (event_id.len() > crate::state::MAX_EVENT_ID_BYTES).then(|| {
            crate::state::bounded_event_id(&event_id)
                .into_owned()
                .into()
        });
        self.event_id = Some(hashed.unwrap_or(event_id));
        self
    }
}

static REQUEST_COUNTER: AtomicU64 = AtomicU64::new(1);

/// Serves one HTTP request of the connection `connection` (marked once a request on it
/// authenticates: it then keeps its slot at `max_connections`).
pub async fn handle<B>(
    app: Arc<App>,
    request: Request<B>,
    connection: &ConnectionMark,
) -> Response<Full<Bytes>>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let started = Instant::now();
    let request_id = REQUEST_COUNTER.fetch_add(1, Ordering::Relaxed);
    let deadline = started + app.settings().hook.request_timeout;
    app.metrics().in_flight.inc();
    let mut answer = route(&app, request, deadline, connection).await;
    app.metrics().in_flight.dec();
    // A client that did not authenticate gets one answer per connection: it cannot hold a
    // connection by pipelining requests it never reads the answers to.
    if answer.auth.is_none() {
        answer
            .response
            .headers_mut()
            .insert(CONNECTION, http::HeaderValue::from_static("close"));
    }
    let latency = started.elapsed();
    let auth = answer.auth.as_ref().map_or("none", Authenticated::as_str);
    app.metrics().request(
        answer.response.status().as_u16(),
        answer.outcome.as_str(),
        auth,
        latency,
    );
    RequestLine {
        request_id,
        event_id: answer.event_id.as_deref().unwrap_or("-"),
        status: answer.response.status().as_u16(),
        outcome: answer.outcome.as_str(),
        auth: answer.auth.as_ref().map_or("-", Authenticated::as_str),
        kid: answer.auth.as_ref().map_or("-", Authenticated::key_id),
        reason: answer.refusal.as_deref().unwrap_or("-"),
        latency_us: u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
    }
    .write();
    answer.response
}

/// The one log line every request writes (`-` for what it does not have).
#[derive(Debug, Clone, Copy)]
pub struct RequestLine<'a> {
    /// This process's count of requests.
    pub request_id: u64,
    /// Okta's `eventId`, hashed when long.
    pub event_id: &'a str,
    /// The HTTP status answered.
    pub status: u16,
    /// What the request came to (the `outcome` label of the request metric).
    pub outcome: &'a str,
    /// How the caller authenticated.
    pub auth: &'a str,
    /// The id of the key or secret that matched.
    pub kid: &'a str,
    /// Why the request was refused, in words without values.
    pub reason: &'a str,
    /// Time from the request's head to its answer.
    pub latency_us: u64,
}

impl RequestLine<'_> {
    /// Writes the line at `info` under this module's target.
    pub fn write(&self) {
        tracing::info!(
            request_id = self.request_id,
            event_id = self.event_id,
            status = self.status,
            outcome = self.outcome,
            auth = self.auth,
            kid = self.kid,
            reason = self.reason,
            latency_us = self.latency_us,
            "request"
        );
    }
}

async fn route<B>(
    app: &App,
    request: Request<B>,
    deadline: Instant,
    connection: &ConnectionMark,
) -> Answer
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let settings = app.settings();
    // Framing comes before routing: a body whose coding cannot be decoded cannot be skipped
    // reliably either, so the connection closes after the refusal.
    if let Some(refusal) = check_transfer_coding(request.headers()) {
        return refusal;
    }
    if request.uri().path() != settings.hook_path {
        return Answer::refuse(StatusCode::NOT_FOUND, Outcome::NotFound, "not found");
    }
    if request.method() != Method::POST {
        let mut answer = Answer::refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            Outcome::MethodNotAllowed,
            "method not allowed",
        );
        answer
            .response
            .headers_mut()
            .insert(ALLOW, http::HeaderValue::from_static("POST"));
        return answer;
    }
    // Nothing about the body is looked at before the caller is authenticated.
    let auth = match authenticate(app, request.headers()).await {
        Ok(auth) => auth,
        Err(answer) => return answer,
    };
    // From now on its connection keeps its slot at `max_connections`.
    connection.authenticated();
    // Shed load at once rather than queue into Okta's timeout: Okta retries once.
    let Some(_admitted) = app.admit() else {
        let mut answer = overloaded("importhook is overloaded");
        answer.auth = Some(auth);
        return answer;
    };
    // Boxed: the body, the parse and the pipeline are most of this future's size, and hyper
    // moves the request's future into place by copying it whole.
    let mut answer = Box::pin(serve_authenticated(app, request, deadline)).await;
    answer.auth = Some(auth);
    answer
}

/// Everything after authentication: headers, body, parsing, the pipeline.
async fn serve_authenticated<B>(app: &App, request: Request<B>, deadline: Instant) -> Answer
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let settings = app.settings();
    if let Some(refusal) = check_headers(request.headers(), settings.hook.max_body_bytes) {
        return refusal;
    }
    // The body's memory is reserved before a byte of it is read: for its declared length, or
    // the largest accepted when it comes chunked.
    let expected = declared_length(request.headers()).unwrap_or(settings.hook.max_body_bytes);
    let wait_until = deadline.min(Instant::now() + crate::body_memory::WAIT);
    let Some(mut charge) = app
        .body_memory()
        .reserve(crate::body_memory::charge_for(expected), wait_until)
        .await
    else {
        tracing::debug!("no body memory left for this request within the wait");
        return overloaded("importhook has no memory left for this request body");
    };
    let body = match read_body(
        request.into_body(),
        settings.hook.max_body_bytes,
        settings.hook.body_timeout,
    )
    .await
    {
        Ok(body) => body,
        Err(answer) => return answer,
    };
    charge.shrink_to(crate::body_memory::charge_for(body.len() as u64));
    // A lone surrogate escape is read marked, so that only a plugin reading that value is
    // refused (see `importhook_okta::mark_lone_surrogates`).
    let parsed = ImportRequest::from_body(&body);
    // The raw body is not needed past parsing: it does not wait for the plugins.
    drop(body);
    let hook_request: ImportRequest = match parsed {
        Ok(parsed) => parsed,
        // serde's message can quote input; say only where parsing failed.
        Err(e) => {
            let summary = format!(
                "request body is not a valid Okta import hook request (line {}, column {})",
                e.line(),
                e.column()
            );
            return Answer::refuse(StatusCode::BAD_REQUEST, Outcome::BadRequest, &summary);
        }
    };
    if !hook_request.is_for_this_hook() {
        return Answer::refuse(
            StatusCode::BAD_REQUEST,
            Outcome::BadRequest,
            "unsupported eventType: this hook handles com.okta.import.transform",
        )
        .with_event(hook_request.event_id);
    }
    // Read but not understood (an action Okta added, a value of an undocumented type): Okta's
    // default action applies, as for a 400, but without a failure in Okta's System Log.
    if let Some(why) = hook_request.unhandled() {
        app.metrics().passed_through(why.as_str());
        tracing::info!(
            reason = why.as_str(),
            detail = why.detail().unwrap_or("-"),
            "request passed through unhandled"
        );
        return Answer::no_content().with_event(hook_request.event_id);
    }
    let event_id = hook_request.event_id.clone();
    match app.run_pipeline(hook_request, deadline).await {
        Some(response) => respond(response).with_event(event_id),
        None => deadline_passed(settings.hook.on_timeout).with_event(event_id),
    }
}

/// `503` with `Retry-After: 1`: Okta retries once.
fn overloaded(summary: &str) -> Answer {
    let mut answer = Answer::refuse(
        StatusCode::SERVICE_UNAVAILABLE,
        Outcome::Overloaded,
        summary,
    );
    answer.response.headers_mut().insert(
        http::header::RETRY_AFTER,
        http::HeaderValue::from_static("1"),
    );
    answer
}

/// Who authenticated a request, for the request log line (never the secret or token).
#[derive(Debug)]
enum Authenticated {
    Header,
    OAuth(String),
}

impl Authenticated {
    fn as_str(&self) -> &'static str {
        match self {
            Self::Header => "header",
            Self::OAuth(_) => "oauth",
        }
    }

    fn key_id(&self) -> &str {
        match self {
            Self::Header => "-",
            Self::OAuth(kid) => kid,
        }
    }
}

async fn authenticate(app: &App, headers: &HeaderMap) -> Result<Authenticated, Answer> {
    let verifier = match app.authenticator() {
        Authenticator::Secrets(secrets) => {
            return match secrets.load().verify(headers) {
                Ok(()) => Ok(Authenticated::Header),
                Err(reason) => Err(unauthorized(reason.reason().to_owned(), false)),
            };
        }
        Authenticator::OAuth(verifier) => verifier,
    };
    // Boxed, so that only OAuth requests carry the token check's state.
    match Box::pin(verifier.verify(headers)).await {
        Ok(kid) => {
            tracing::debug!(auth = "oauth", kid = %kid, "bearer token accepted");
            Ok(Authenticated::OAuth(kid))
        }
        Err(reason) => Err(unauthorized(oauth_refusal(&reason), true)),
    }
}

/// The request log line's `reason` for a refused bearer token (never the token).
fn oauth_refusal(error: &OAuthError) -> String {
    match error {
        OAuthError::Missing => "missing header".to_owned(),
        OAuthError::Duplicated => "repeated header".to_owned(),
        other => format!("token refused: {other}"),
    }
}

/// A `401` whose request log line says why; a bearer challenge for OAuth.
fn unauthorized(reason: String, bearer: bool) -> Answer {
    let mut answer = Answer::refuse(
        StatusCode::UNAUTHORIZED,
        Outcome::Unauthorized,
        "unauthorized",
    );
    if bearer {
        answer.response.headers_mut().insert(
            http::header::WWW_AUTHENTICATE,
            http::HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
    }
    answer.refusal = Some(reason);
    answer
}

/// Turns the pipeline's response into HTTP, enforcing Okta's rules once more on the way out.
fn respond(response: HookResponse) -> Answer {
    // Okta wants 204 for "no change"; diagnostics alone are not worth a body.
    if response.is_no_change() {
        return Answer::no_content();
    }
    let outcome = if response.error.is_some() {
        Outcome::Refused
    } else {
        Outcome::Changed
    };
    match response.to_checked_json() {
        Ok(body) => Answer::json(StatusCode::OK, outcome, body),
        Err(e) => {
            tracing::error!(error = %e, "pipeline produced a response Okta would reject");
            let body =
                serde_json::to_vec(&HookResponse::error(INVALID_RESPONSE_SUMMARY, Vec::new()))
                    .unwrap_or_default();
            Answer::json(StatusCode::OK, Outcome::Internal, body)
        }
    }
}

/// The answer when the request deadline comes first: never later than the deadline.
fn deadline_passed(policy: OnTimeout) -> Answer {
    tracing::warn!("request deadline reached before the plugins finished");
    match policy {
        OnTimeout::Pass => Answer {
            outcome: Outcome::DeadlinePassed,
            ..Answer::no_content()
        },
        OnTimeout::Error => {
            Answer::refuse(StatusCode::OK, Outcome::DeadlinePassed, DEADLINE_SUMMARY)
        }
    }
}

/// Refuses any transfer coding but one `chunked`. hyper frames a request by its last coding
/// only, so `gzip, chunked` or `foo, chunked` would otherwise reach the parser still encoded;
/// RFC 9112 §6.1 answers a coding the server does not understand with `501`.
fn check_transfer_coding(headers: &HeaderMap) -> Option<Answer> {
    let mut codings = 0usize;
    let mut only_chunked = true;
    for value in headers.get_all(TRANSFER_ENCODING) {
        let Ok(value) = value.to_str() else {
            only_chunked = false;
            break;
        };
        for coding in value.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            codings += 1;
            only_chunked &= coding.eq_ignore_ascii_case("chunked");
        }
    }
    if headers.contains_key(TRANSFER_ENCODING) && (codings != 1 || !only_chunked) {
        let mut answer = Answer::refuse(
            StatusCode::NOT_IMPLEMENTED,
            Outcome::UnsupportedTransferCoding,
            "transfer coding is not supported: send the body with Content-Length or chunked alone",
        );
        answer
            .response
            .headers_mut()
            .insert(CONNECTION, http::HeaderValue::from_static("close"));
        return Some(answer);
    }
    None
}

/// Refuses what can be refused from the headers alone.
fn check_headers(headers: &HeaderMap, max_body_bytes: u64) -> Option<Answer> {
    // Two content types leave the media type ambiguous (RFC 9110 §8.3 allows one).
    if headers.get_all(CONTENT_TYPE).iter().nth(1).is_some() {
        return Some(Answer::refuse(
            StatusCode::BAD_REQUEST,
            Outcome::BadRequest,
            "content type must be given once",
        ));
    }
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let is_json = essence.eq_ignore_ascii_case("application/json")
        || (essence.len() > 5
            && essence[..essence.len() - 5].contains('/')
            && essence.to_ascii_lowercase().ends_with("+json"));
    if !is_json {
        return Some(Answer::refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Outcome::UnsupportedMediaType,
            "content type must be application/json",
        ));
    }
    let identity = headers.get_all(CONTENT_ENCODING).iter().all(|v| {
        v.to_str()
            .map(|s| s.trim().eq_ignore_ascii_case("identity"))
            .unwrap_or(false)
    });
    if !identity {
        return Some(Answer::refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Outcome::UnsupportedMediaType,
            "content encoding is not supported",
        ));
    }
    if declared_length(headers).is_some_and(|len| len > max_body_bytes) {
        return Some(too_large());
    }
    None
}

/// The body length `Content-Length` declares, if it is a number.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

fn too_large() -> Answer {
    Answer::refuse(
        StatusCode::PAYLOAD_TOO_LARGE,
        Outcome::PayloadTooLarge,
        "request body too large",
    )
}

async fn read_body<B>(body: B, max_body_bytes: u64, deadline: Duration) -> Result<Bytes, Answer>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let limit = usize::try_from(max_body_bytes).unwrap_or(usize::MAX);
    match tokio::time::timeout(deadline, Limited::new(body, limit).collect()).await {
        Err(_) => Err(Answer::refuse(
            StatusCode::REQUEST_TIMEOUT,
            Outcome::BodyTimeout,
            "request body timed out",
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Ok(Err(_)) => Err(Answer::refuse(
            StatusCode::BAD_REQUEST,
            Outcome::BadRequest,
            "request body could not be read",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_token_is_logged_with_why_in_words() {
        assert_eq!(oauth_refusal(&OAuthError::Missing), "missing header");
        assert_eq!(oauth_refusal(&OAuthError::Duplicated), "repeated header");
        assert_eq!(
            oauth_refusal(&OAuthError::UnknownKey),
            "token refused: unknown signing key"
        );
        assert_eq!(
            oauth_refusal(&OAuthError::Header("algorithm is not RS256")),
            "token refused: token header refused: algorithm is not RS256"
        );
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, http::HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn json_content_types_are_accepted() {
        for ct in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/vnd.okta+json",
        ] {
            assert!(
                check_headers(&headers(&[("content-type", ct)]), 10).is_none(),
                "{ct}"
            );
        }
    }

    #[test]
    fn other_content_types_and_encodings_are_refused() {
        for pairs in [
            vec![],
            vec![("content-type", "text/plain")],
            vec![("content-type", "+json")],
            vec![
                ("content-type", "application/json"),
                ("content-encoding", "gzip"),
            ],
        ] {
            let answer = check_headers(&headers(&pairs), 10).expect("refused");
            assert_eq!(
                answer.response.status(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{pairs:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_repeated_content_type_is_refused_even_when_both_are_json() {
        let answer = check_headers(
            &headers(&[
                ("content-type", "application/json"),
                ("content-type", "application/json"),
            ]),
            10,
        )
        .expect("refused");
        assert_eq!(answer.response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(answer.outcome, Outcome::BadRequest);
        let body = answer
            .response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(
            body["error"]["errorSummary"],
            "content type must be given once"
        );
    }

    #[test]
    fn only_a_single_chunked_transfer_coding_is_accepted() {
        assert!(check_transfer_coding(&headers(&[])).is_none());
        assert!(check_transfer_coding(&headers(&[("transfer-encoding", "chunked")])).is_none());
        assert!(check_transfer_coding(&headers(&[("transfer-encoding", " Chunked ")])).is_none());
        for pairs in [
            vec![("transfer-encoding", "gzip, chunked")],
            vec![("transfer-encoding", "foo, chunked")],
            vec![("transfer-encoding", "chunked, chunked")],
            vec![("transfer-encoding", "gzip")],
            vec![("transfer-encoding", "")],
            vec![
                ("transfer-encoding", "identity"),
                ("transfer-encoding", "chunked"),
            ],
        ] {
            let answer = check_transfer_coding(&headers(&pairs)).expect("refused");
            assert_eq!(
                answer.response.status(),
                StatusCode::NOT_IMPLEMENTED,
                "{pairs:?}"
            );
            assert_eq!(
                answer
                    .response
                    .headers()
                    .get(CONNECTION)
                    .map(|v| v.as_bytes()),
                Some(&b"close"[..])
            );
        }
    }

    #[test]
    fn declared_length_over_the_limit_is_refused_before_reading() {
        let answer = check_headers(
            &headers(&[
                ("content-type", "application/json"),
                ("content-length", "11"),
            ]),
            10,
        )
        .expect("refused");
        assert_eq!(answer.response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(
            check_headers(
                &headers(&[
                    ("content-type", "application/json"),
                    ("content-length", "10")
                ]),
                10
            )
            .is_none()
        );
    }

    #[tokio::test]
    async fn streamed_body_over_the_limit_is_refused() {
        let body = Full::new(Bytes::from(vec![b'x'; 11]));
        let err = read_body(body, 10, Duration::from_secs(1))
            .await
            .expect_err("too large");
        assert_eq!(err.response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
}
