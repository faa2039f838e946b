//! The hook endpoint: the checks importhook and the Node.js peers make (route, shared secret in
//! constant time, JSON content type, 256 KiB body cap, JSON parse), then the strategy.

use bytes::Bytes;
use http::header::{ALLOW, AUTHORIZATION, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Body;
use subtle::ConstantTimeEq;

use crate::strategy::{EVENT_TYPE, ImportRequest, answer_body, new_login};

/// The hook's path.
pub const HOOK_PATH: &str = "/okta/import";
/// The largest request body accepted (importhook's default `max_body_bytes`).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Serves one request with `secret` as the expected `Authorization` value.
pub async fn handle<B>(request: Request<B>, secret: &[u8]) -> Response<Full<Bytes>>
where
    B: Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    if request.uri().path() != HOOK_PATH {
        return text(StatusCode::NOT_FOUND, "not found\n");
    }
    if request.method() != Method::POST {
        let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    if !authorized(request.headers(), secret) {
        return text(StatusCode::UNAUTHORIZED, "unauthorized\n");
    }
    if !is_json(request.headers()) {
        return text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content type must be application/json\n",
        );
    }
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        return too_large();
    }
    let body = match Limited::new(request.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => return too_large(),
        Err(_) => return text(StatusCode::BAD_REQUEST, "request body could not be read\n"),
    };
    let parsed: ImportRequest = match serde_json::from_slice(&body) {
        Ok(parsed) => parsed,
        Err(_) => return text(StatusCode::BAD_REQUEST, "body is not an import request\n"),
    };
    if parsed.event_type != EVENT_TYPE {
        return text(StatusCode::BAD_REQUEST, "unsupported eventType\n");
    }
    match new_login(&parsed) {
        Some(login) => {
            let mut response = Response::new(Full::new(Bytes::from(answer_body(&login))));
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        None => {
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = StatusCode::NO_CONTENT;
            response
        }
    }
}

/// Exactly one `Authorization` header, equal to the secret (constant time for equal lengths).
fn authorized(headers: &HeaderMap, secret: &[u8]) -> bool {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    match (values.next(), values.next()) {
        (Some(given), None) => bool::from(given.as_bytes().ct_eq(secret)),
        _ => false,
    }
}

/// `application/json` or `…/…+json`, parameters allowed, as importhook accepts.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
        || (essence.len() > 5
            && essence[..essence.len() - 5].contains('/')
            && essence.to_ascii_lowercase().ends_with("+json"))
}

/// `413`; the connection closes, as the rest of the body is not read.
fn too_large() -> Response<Full<Bytes>> {
    let mut response = text(StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n");
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"s3cret";
    const REQUEST: &str = include_str!("../../request.json");

    fn post() -> http::request::Builder {
        Request::post(HOOK_PATH)
            .header(AUTHORIZATION, "s3cret")
            .header(CONTENT_TYPE, "application/json")
    }

    async fn status_and_body(request: Request<Full<Bytes>>) -> (StatusCode, Bytes) {
        let response = handle(request, SECRET).await;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, body)
    }

    fn with(builder: http::request::Builder, body: &'static str) -> Request<Full<Bytes>> {
        builder
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .expect("request")
    }

    #[tokio::test]
    async fn the_guide_request_gets_the_login_update() {
        let (status, body) = status_and_body(with(post(), REQUEST)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            &body[..],
            br#"{"commands":[{"type":"com.okta.user.profile.update","value":{"login":"sally.elizabeth.admin@clouditude.net"}}]}"#
        );
        let no_conflict = REQUEST.replace(
            r#""login"
         ]"#,
            "]",
        );
        assert_ne!(no_conflict, REQUEST);
        let request = post()
            .body(Full::new(Bytes::from(no_conflict)))
            .expect("request");
        assert_eq!(
            status_and_body(request).await,
            (StatusCode::NO_CONTENT, Bytes::new())
        );
    }

    #[tokio::test]
    async fn route_and_method() {
        let wrong_path = Request::post("/other")
            .header(AUTHORIZATION, "s3cret")
            .header(CONTENT_TYPE, "application/json");
        assert_eq!(
            status_and_body(with(wrong_path, REQUEST)).await.0,
            StatusCode::NOT_FOUND
        );
        let get = Request::get(HOOK_PATH).header(AUTHORIZATION, "s3cret");
        let response = handle(with(get, ""), SECRET).await;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()[ALLOW], "POST");
    }

    #[tokio::test]
    async fn the_secret_must_be_given_once_and_match() {
        let missing = Request::post(HOOK_PATH).header(CONTENT_TYPE, "application/json");
        let wrong = Request::post(HOOK_PATH)
            .header(AUTHORIZATION, "s3creT")
            .header(CONTENT_TYPE, "application/json");
        let longer = Request::post(HOOK_PATH)
            .header(AUTHORIZATION, "s3cret ")
            .header(CONTENT_TYPE, "application/json");
        let twice = post().header(AUTHORIZATION, "s3cret");
        for request in [missing, wrong, longer, twice] {
            assert_eq!(
                status_and_body(with(request, REQUEST)).await.0,
                StatusCode::UNAUTHORIZED
            );
        }
    }

    #[tokio::test]
    async fn content_type_size_and_parse_are_checked() {
        let plain = Request::post(HOOK_PATH)
            .header(AUTHORIZATION, "s3cret")
            .header(CONTENT_TYPE, "text/plain");
        assert_eq!(
            status_and_body(with(plain, REQUEST)).await.0,
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
        let vendor = Request::post(HOOK_PATH)
            .header(AUTHORIZATION, "s3cret")
            .header(CONTENT_TYPE, "application/vnd.okta+json; charset=utf-8");
        assert_eq!(
            status_and_body(with(vendor, REQUEST)).await.0,
            StatusCode::OK
        );
        let declared = post().header(CONTENT_LENGTH, (MAX_BODY_BYTES + 1).to_string());
        assert_eq!(
            status_and_body(with(declared, "{}")).await.0,
            StatusCode::PAYLOAD_TOO_LARGE
        );
        // Sent without a declared length (chunked): the cap applies as it is read.
        let big = format!("[{}]", "1,".repeat(MAX_BODY_BYTES / 2) + "1");
        let request = post().body(Full::new(Bytes::from(big))).expect("request");
        let response = handle(request, SECRET).await;
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(response.headers()[CONNECTION], "close");
        for bad in ["{", "[]", r#"{"eventType":"com.okta.import.transform"}"#] {
            assert_eq!(
                status_and_body(with(post(), bad)).await.0,
                StatusCode::BAD_REQUEST,
                "{bad}"
            );
        }
        let other_event = REQUEST.replace("com.okta.import.transform", "com.okta.other");
        let request = post()
            .body(Full::new(Bytes::from(other_event)))
            .expect("request");
        assert_eq!(status_and_body(request).await.0, StatusCode::BAD_REQUEST);
    }
}
