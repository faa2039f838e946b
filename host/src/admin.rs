//! The admin listener (plain HTTP, loopback by default): `/livez`, `/readyz`, `/metrics`.
//! It holds at most [`MAX_ADMIN_CONNECTIONS`] connections: probes and scrapes need a few, and
//! a flood of admin connections must not use up the file descriptors the hook listener needs.

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use crate::app::App;

/// Most admin connections open at once; past it a new one is closed at once.
pub const MAX_ADMIN_CONNECTIONS: usize = 32;
/// Longest an admin connection may stay open.
const ADMIN_CONNECTION_LIFETIME: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves the admin endpoints until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    tokio::pin!(shutdown);
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_ADMIN_CONNECTIONS));
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "admin accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return Ok(()),
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // Closed at once: its descriptor is given back now, not after a timeout.
            drop(stream);
            continue;
        };
        let app = app.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let service = service_fn(move |request| {
                let app = app.clone();
                async move {
                    // Readiness and the state gauge ask the state store (cached, at most one
                    // probe a second): the async answers.
                    let unready = match request.uri().path() {
                        "/readyz" => app.unready_reason().await,
                        "/metrics" => {
                            let _ = app.state_up().await;
                            None
                        }
                        _ => None,
                    };
                    Ok::<_, std::convert::Infallible>(answer(&app, &request, unready))
                }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(std::time::Duration::from_secs(5))
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(ADMIN_CONNECTION_LIFETIME, connection).await;
        });
    }
}

fn answer<B>(
    app: &App,
    request: &Request<B>,
    unready: Option<&'static str>,
) -> Response<Full<Bytes>> {
    if request.method() == Method::GET && request.uri().path() == "/metrics" {
        let mut response = Response::new(Full::new(Bytes::from(app.metrics().encode())));
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            ),
        );
        return response;
    }
    let (status, body) = match (request.method(), request.uri().path()) {
        (&Method::GET, "/livez") => (StatusCode::OK, "ok\n".to_owned()),
        (&Method::GET, "/readyz") => match unready {
            None => (StatusCode::OK, "ready\n".to_owned()),
            Some(reason) => (StatusCode::SERVICE_UNAVAILABLE, format!("{reason}\n")),
        },
        (_, "/livez" | "/readyz") => (
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed\n".to_owned(),
        ),
        _ => (StatusCode::NOT_FOUND, "not found\n".to_owned()),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
}
