//! Wires the hook server and the admin server together around one shutdown signal.

use std::future::Future;
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::ServerConfig;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::App;

/// Runs both listeners until `shutdown` resolves and the hook server has drained.
///
/// Listeners are passed in (bound by the caller), so tests bind port 0.
pub async fn run(
    app: Arc<App>,
    tls: Arc<ArcSwap<ServerConfig>>,
    listener: TcpListener,
    admin: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let admin_task = tokio::spawn(crate::admin::serve(
        admin,
        app.clone(),
        stopped(stop_rx.clone()),
    ));
    app.set_ready(true);
    let hook = crate::server::serve(listener, tls, app.clone(), async {
        shutdown.await;
        app.set_ready(false);
    });
    let result = hook.await;
    let _ = stop_tx.send(true);
    let _ = admin_task.await;
    result
}
