//! Reloading without a restart (SIGHUP): the plugin set, the TLS certificate and the secret
//! file. Each is validated (plugins compiled, interface checked, run once on a minimal
//! request) before it is swapped in atomically; requests in flight finish on what they started with. A broken
//! file is refused with a log line, and the last good one keeps serving.

use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::ServerConfig;

use crate::app::App;
use crate::engine::{PluginSet, Runtime};
use crate::tls::TlsSource;

/// What a reload did, part by part (`None`: nothing to reload for that part).
#[derive(Debug, Default)]
pub struct ReloadReport {
    /// Plugins now serving, or why the new set was refused.
    pub plugins: Option<Result<usize, String>>,
    /// New certificate's fingerprint, or why it was refused.
    pub tls: Option<Result<String, String>>,
    /// Secrets now accepted, or why the file was refused.
    pub secrets: Option<Result<usize, String>>,
}

impl ReloadReport {
    /// True when every part that was reloaded was accepted.
    pub fn all_ok(&self) -> bool {
        self.plugins.as_ref().is_none_or(Result::is_ok)
            && self.tls.as_ref().is_none_or(Result::is_ok)
            && self.secrets.as_ref().is_none_or(Result::is_ok)
    }
}

/// Swaps in new plugins, certificate and secrets for a running service.
#[derive(Debug, Clone)]
pub struct Reloader {
    app: Arc<App>,
    tls: Arc<ArcSwap<ServerConfig>>,
    runtime: Arc<Runtime>,
}

impl Reloader {
    /// A reloader for the service made of `app` and `tls`, compiling with `runtime`.
    pub fn new(app: Arc<App>, tls: Arc<ArcSwap<ServerConfig>>, runtime: Arc<Runtime>) -> Self {
        Self { app, tls, runtime }
    }

    /// Reloads everything reloadable. Blocking (plugins compile): call it off the reactor.
    pub fn reload(&self) -> ReloadReport {
        let settings = self.app.settings();
        let mut report = ReloadReport::default();

        let dir = &settings.plugins_dir;
        if crate::engine::folders(dir).iter().any(|d| d.exists()) {
            report.plugins = Some(
                match PluginSet::load(self.runtime.clone(), dir, self.app.services()) {
                    Ok(set) => {
                        let set = settings.configure_plugins(set);
                        let count = set.plugins().len();
                        self.app.replace_plugins(Arc::new(set));
                        tracing::info!(plugins = count, dir = %dir.display(), "plugin set reloaded");
                        Ok(count)
                    }
                    Err(e) => {
                        let reason = format!("{e:#}");
                        tracing::error!(error = %reason, "plugin reload refused; the current set keeps serving");
                        Err(reason)
                    }
                },
            );
        }

        if let TlsSource::Files { cert, key } = &settings.tls {
            // Unreadable files (permissions, a volume gone) are this replica's to fix: it is
            // not ready (`/readyz`) until they read again, though the current certificate
            // keeps serving meanwhile.
            let unreadable = [cert, key].iter().any(|path| !readable(path));
            self.app.set_tls_unreadable(unreadable);
            report.tls = Some(match crate::tls::load(&settings.tls) {
                Ok(loaded) => {
                    self.tls.store(loaded.config);
                    if let Some(expiry) = loaded.not_after {
                        self.app.metrics().certificate_expiry.set(expiry);
                    }
                    tracing::info!(fingerprint = %loaded.fingerprint, "TLS certificate reloaded");
                    Ok(loaded.fingerprint)
                }
                Err(e) => {
                    let reason = format!("{e:#}");
                    tracing::error!(error = %reason, "certificate reload refused; the current one keeps serving");
                    Err(reason)
                }
            });
        }

        if settings.oauth.is_none() && settings.secret_file.is_some() {
            report.secrets = Some(match settings.reread_secrets() {
                Ok(secrets) => {
                    let count = secrets.len();
                    self.app.replace_secrets(secrets);
                    tracing::info!(secrets = count, "secrets reloaded");
                    Ok(count)
                }
                Err(e) => {
                    let reason = format!("{e:#}");
                    tracing::error!(error = %reason, "secret reload refused; the current secrets stay accepted");
                    Err(reason)
                }
            });
        }
        let metrics = self.app.metrics();
        for (part, result) in [
            ("plugins", report.plugins.as_ref().map(Result::is_ok)),
            ("tls", report.tls.as_ref().map(Result::is_ok)),
            ("secrets", report.secrets.as_ref().map(Result::is_ok)),
        ] {
            if let Some(ok) = result {
                metrics.reload(part, ok);
            }
        }
        report
    }

    /// Reloads on every SIGHUP until the process ends.
    pub async fn on_sighup(self) {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGHUP; reload disabled");
                return;
            }
        };
        while hangups.recv().await.is_some() {
            tracing::info!("SIGHUP received: reloading");
            let reloader = self.clone();
            if let Err(e) = tokio::task::spawn_blocking(move || reloader.reload()).await {
                tracing::error!(error = %e, "reload task failed");
            }
        }
    }
}

/// Whether `path` opens for reading, without ever blocking (a FIFO in its place opens at
/// once, non-blocking).
fn readable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::File::options()
        .read(true)
        .custom_flags(crate::regular_file::NONBLOCK)
        .open(path)
        .is_ok()
}
