//! The HTTPS accept loop and the life of each connection: the TLS handshake runs inside the
//! connection's task under a deadline, open connections are capped (at the cap a new
//! connection evicts the oldest one that has not authenticated: see [`crate::slots`]), an
//! answer to a request that did not authenticate closes its connection, every later phase has a
//! deadline (see [`crate::conn`]), a connection is closed after its next answer once it reaches
//! its maximum age, and shutdown stops accepting then drains without losing a request a client
//! has sent.
//!
//! Why not hyper's `graceful_shutdown` alone: on an idle keep-alive connection it closes at
//! once, even when the client's next request is already in the socket or on its way, and on a
//! busy one it closes after the current answer, which may already be written without
//! `Connection: close` so the client sends its next request into the close. Both lose requests
//! that the client sent (EOF or a reset). Instead a draining connection answers every request
//! it receives with `Connection: close` and is closed by hyper only once it has been idle for
//! [`DRAIN_IDLE_GRACE`](crate::conn::DRAIN_IDLE_GRACE); the close lingers so unread bytes do
//! not turn it into a reset.

pub mod config;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use http::HeaderValue;
use http::header::CONNECTION;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rustls::ServerConfig;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

use crate::app::App;
use crate::conn::{DRAIN_IDLE_GRACE, DeadlineIo, Deadlines, Tracker};
use crate::slots::{Admission, Slot, Slots};
use config::Limits;

/// Largest request head (request line and headers) hyper buffers; past it the client gets `431`.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// How often a draining connection checks whether it has been idle long enough to close.
const DRAIN_CHECK: Duration = Duration::from_millis(50);

/// Counts an open connection for as long as it lives.
struct OpenConnection(Arc<App>);

impl OpenConnection {
    fn count(app: &Arc<App>) -> Self {
        app.metrics().open_connections.inc();
        Self(app.clone())
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.metrics().open_connections.dec();
    }
}

/// What every connection task shares.
struct Shared {
    app: Arc<App>,
    http: http1::Builder,
    limits: Limits,
}

/// Serves HTTPS on `listener` until `shutdown` resolves, then drains.
///
/// The TLS configuration is read per connection, so a swapped certificate is used by every
/// handshake that starts after the swap.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<ArcSwap<ServerConfig>>,
    app: Arc<App>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let limits = app.settings().server.clone();
    let slots = Slots::new(limits.max_connections);
    let mut http = http1::Builder::new();
    // The header deadline is kept by `DeadlineIo`: hyper's starts when a connection goes idle,
    // which would cut idle keep-alive connections at the header deadline.
    http.header_read_timeout(None)
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    let shared = Arc::new(Shared {
        app,
        http,
        limits: limits.clone(),
    });
    let (drain_tx, drain_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);

    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Typically EMFILE: back off briefly instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            Some(ended) = tasks.join_next(), if !tasks.is_empty() => {
                if let Err(e) = ended
                    && e.is_panic()
                {
                    tracing::error!(error = %e, "connection task panicked");
                }
                continue;
            }
            () = &mut shutdown => break,
        };
        let slot = match slots.admit() {
            Admission::Admitted(slot) => slot,
            // Debug only: a client flooding unauthenticated connections would flood the log.
            Admission::Evicted(slot) => {
                tracing::debug!(
                    %peer,
                    max_connections = limits.max_connections,
                    "connections at the cap: the oldest one that had not authenticated gives way"
                );
                shared.app.metrics().connections_evicted.inc();
                slot
            }
            Admission::Full => {
                tracing::warn!(
                    max_connections = limits.max_connections,
                    "connection refused: every open connection has authenticated"
                );
                drop(stream);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let acceptor = TlsAcceptor::from(tls.load_full());
        tasks.spawn(connection(
            shared.clone(),
            stream,
            peer,
            acceptor,
            slot,
            drain_rx.clone(),
        ));
    }

    drop(listener);
    tracing::info!(
        open_connections = tasks.len(),
        "shutting down: no longer accepting, draining in-flight requests"
    );
    let _ = drain_tx.send(true);
    let drain = limits.drain_timeout;
    let drained =
        tokio::time::timeout(drain, async { while tasks.join_next().await.is_some() {} }).await;
    match drained {
        Ok(()) => tracing::info!("all connections drained"),
        Err(_) => {
            tracing::warn!(
                drain_ms = drain.as_millis() as u64,
                remaining = tasks.len(),
                "drain deadline passed; closing remaining connections"
            );
            tasks.shutdown().await;
        }
    }
    Ok(())
}

/// One connection, from the TLS handshake to its close, or until a new connection takes its
/// slot (then it is dropped at once, whatever phase it is in).
async fn connection(
    shared: Arc<Shared>,
    stream: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    slot: Slot,
    drain: watch::Receiver<bool>,
) {
    let _open = OpenConnection::count(&shared.app);
    tokio::select! {
        () = serve_connection(&shared, stream, peer, acceptor, &slot, drain) => {}
        () = slot.evicted() => {
            tracing::debug!(%peer, "connection evicted before it authenticated");
        }
    }
}

async fn serve_connection(
    shared: &Arc<Shared>,
    stream: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    slot: &Slot,
    mut drain: watch::Receiver<bool>,
) {
    let accepted = Instant::now();
    let limits = &shared.limits;
    let tls_stream =
        match tokio::time::timeout(limits.handshake_timeout, acceptor.accept(stream)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "TLS handshake timed out");
                return;
            }
        };
    let tracker = Tracker::new(Deadlines::from_limits(limits));
    let service = {
        let (app, tracker, mark) = (shared.app.clone(), tracker.clone(), slot.mark());
        service_fn(move |request: http::Request<hyper::body::Incoming>| {
            // Counted as soon as hyper hands the request over, before the first poll.
            let serving = tracker.begin_request();
            let app = app.clone();
            let mark = mark.clone();
            async move {
                // The hook marks the connection as soon as a request on it authenticates.
                let mut response = crate::hook::handle(app, request, &mark).await;
                if !mark.is_authenticated() {
                    mark.refused();
                }
                // Decided when the answer is ready, so a drain that began meanwhile closes it.
                if serving.closes_connection() {
                    response
                        .headers_mut()
                        .insert(CONNECTION, HeaderValue::from_static("close"));
                }
                Ok::<_, std::convert::Infallible>(response)
            }
        })
    };
    let io = TokioIo::new(DeadlineIo::new(tls_stream, tracker.clone()));
    let connection = shared.http.serve_connection(io, service);
    tokio::pin!(connection);
    let too_old = tokio::time::sleep_until(accepted + limits.max_connection_age);
    tokio::pin!(too_old);
    let mut check = tokio::time::interval(DRAIN_CHECK);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut closing = false;
    let result = loop {
        tokio::select! {
            result = connection.as_mut() => break result,
            () = &mut too_old, if !tracker.is_draining() => {
                tracing::debug!(%peer, "connection reached its maximum age; closing after its next answer");
                tracker.start_draining();
            }
            _ = drain.wait_for(|draining| *draining), if !tracker.is_draining() => {
                tracker.start_draining();
            }
            _ = check.tick(), if tracker.is_draining() && !closing => {
                if tracker
                    .idle_for(Instant::now())
                    .is_some_and(|idle| idle >= DRAIN_IDLE_GRACE)
                {
                    // Idle, flushed, no byte of a next request read: hyper closes it at once.
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}
