//! The HTTPS accept loop, in the shape of hyper-util's graceful example: the TLS handshake runs
//! inside each connection's task under a deadline, open connections are capped, and shutdown
//! stops accepting then lets in-flight requests finish within the drain deadline.

use std::future::Future;
use std::sync::Arc;

use arc_swap::ArcSwap;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use rustls::ServerConfig;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

use crate::app::App;

/// Largest request head (request line and headers) hyper buffers; past it the client gets `431`.
const MAX_HEAD_BYTES: usize = 16 * 1024;

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
    let limits = app.settings().limits.clone();
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    // Without a timer hyper silently ignores header_read_timeout.
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    let http = Arc::new(http);
    tokio::pin!(shutdown);

    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Typically EMFILE: back off briefly instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            tracing::warn!(
                max_connections = limits.max_connections,
                "connection refused: too many open connections"
            );
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let acceptor = TlsAcceptor::from(tls.load_full());
        let watcher = graceful.watcher();
        let (app, http) = (app.clone(), http.clone());
        let handshake_timeout = limits.handshake_timeout;
        tokio::spawn(async move {
            let _permit = permit;
            let _open = OpenConnection::count(&app);
            let tls_stream =
                match tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await {
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
            let service = service_fn(move |request| {
                let app = app.clone();
                async move { Ok::<_, std::convert::Infallible>(crate::hook::handle(app, request).await) }
            });
            let connection = http.serve_connection(TokioIo::new(tls_stream), service);
            if let Err(e) = watcher.watch(connection).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }

    drop(listener);
    tracing::info!("shutting down: no longer accepting, draining in-flight requests");
    let drain = limits.drain_timeout;
    match tokio::time::timeout(drain, graceful.shutdown()).await {
        Ok(()) => tracing::info!("all connections drained"),
        Err(_) => tracing::warn!(
            drain_ms = drain.as_millis() as u64,
            "drain deadline passed; closing remaining connections"
        ),
    }
    Ok(())
}
