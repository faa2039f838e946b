//! The composition root: builds the running service from validated [`Settings`] and bound
//! listeners, and runs it until shutdown. `serve`, the end-to-end tests and the native-limit
//! benchmark all start the hook through here, so there is one wiring to keep right.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use arc_swap::ArcSwap;
use rustls::ServerConfig;
use rustls::pki_types::CertificateDer;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::App;
use crate::auth::Authenticator;
use crate::config::Settings;
use crate::directory::Directory;
use crate::engine::{NativeStrategy, PluginSet, Runtime, Services};
use crate::oauth::OAuthVerifier;
use crate::outbound::Outbound;
use crate::reload::Reloader;

/// The hook's and the admin server's sockets, bound by the caller (tests bind port 0).
#[derive(Debug)]
pub struct Listeners {
    /// Where Okta calls the hook (HTTPS).
    pub hook: TcpListener,
    /// `/livez`, `/readyz` and `/metrics`.
    pub admin: TcpListener,
}

impl Listeners {
    /// Binds `listen` and `admin_listen` of `settings`.
    pub async fn bind(settings: &Settings) -> anyhow::Result<Self> {
        let hook = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        let admin = TcpListener::bind(settings.admin_listen)
            .await
            .with_context(|| format!("cannot listen on {} (admin)", settings.admin_listen))?;
        Ok(Self { hook, admin })
    }
}

/// Builds the strategies the native-limit benchmark compiles in.
#[doc(hidden)]
pub type NativeStrategies = fn() -> Vec<Box<dyn NativeStrategy>>;

/// What runs the strategies.
#[derive(Debug, Clone)]
pub enum Strategies {
    /// A wasm runtime made from the settings (`cache_dir`, `plugin_memory_budget_mib`,
    /// `max_plugin_bytes`), loading the plugins folder.
    Wasm,
    /// A wasm runtime of the caller's, loading the plugins folder (tests share one compile
    /// cache between their servers).
    Shared(Arc<Runtime>),
    /// Strategies compiled into the host (the native-limit benchmark): no isolation at all and
    /// nothing to reload. Never for production.
    Native(NativeStrategies),
}

/// The service, built and not yet serving.
#[derive(Debug)]
pub struct Service {
    app: Arc<App>,
    tls: Arc<ArcSwap<ServerConfig>>,
    certificate: CertificateDer<'static>,
    fingerprint: String,
    /// `None` for compiled-in strategies.
    reloader: Option<Reloader>,
    listeners: Listeners,
}

impl Service {
    /// Loads the certificate and the plugins, opens what plugins are granted (state, Okta
    /// directory) and the authenticator, and checks the state store. Not ready until
    /// [`Service::run`].
    pub async fn build(
        settings: &Settings,
        listeners: Listeners,
        strategies: Strategies,
    ) -> anyhow::Result<Self> {
        let tls = crate::tls::load(&settings.tls)?;
        // One pooled client for the JWKS fetch and the Okta lookups.
        let outbound = Outbound::new(&settings.extra_cas())?;
        let directory = Directory::configured(settings.directory.clone(), outbound.clone())?;
        let services = Services::new(settings.state.clone()).with_directory(directory);
        let (plugins, runtime) = match strategies {
            Strategies::Native(natives) => (PluginSet::native(natives()), None),
            Strategies::Wasm => {
                let runtime = Runtime::with_memory_budget(
                    Some(settings.cache_dir.clone()),
                    false,
                    settings.engine.memory_budget,
                )?;
                runtime.set_max_plugin_bytes(settings.engine.max_plugin_bytes);
                (
                    load_plugins(runtime.clone(), settings, &services)?,
                    Some(runtime),
                )
            }
            Strategies::Shared(runtime) => (
                load_plugins(runtime.clone(), settings, &services)?,
                Some(runtime),
            ),
        };
        let plugins = Arc::new(settings.configure_plugins(plugins));
        crate::state::check_at_start(&settings.state).await?;
        let auth = match settings.oauth.clone() {
            Some(oauth) => {
                let verifier = OAuthVerifier::with_client(oauth, outbound);
                verifier.warm_up().await;
                Authenticator::OAuth(Arc::new(verifier))
            }
            None => Authenticator::secrets(settings.secrets.clone()),
        };
        let app = Arc::new(App::new(settings.clone(), plugins, services, auth));
        if let Some(expiry) = tls.not_after {
            app.metrics().certificate_expiry.set(expiry);
        }
        let config = Arc::new(ArcSwap::new(tls.config));
        let reloader = runtime.map(|runtime| Reloader::new(app.clone(), config.clone(), runtime));
        Ok(Self {
            app,
            tls: config,
            certificate: tls.leaf_der,
            fingerprint: tls.fingerprint,
            reloader,
            listeners,
        })
    }

    /// The shared request state.
    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    /// The TLS configuration new connections use (a reload swaps it).
    pub fn tls(&self) -> &Arc<ArcSwap<ServerConfig>> {
        &self.tls
    }

    /// The serving certificate (leaf, DER).
    pub fn certificate(&self) -> &CertificateDer<'static> {
        &self.certificate
    }

    /// The serving certificate's SHA-256 fingerprint.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// What reloads the certificate, the secrets and the plugins; `None` for compiled-in
    /// strategies.
    pub fn reloader(&self) -> Option<&Reloader> {
        self.reloader.as_ref()
    }

    /// The hook's bound address.
    pub fn hook_addr(&self) -> std::io::Result<SocketAddr> {
        self.listeners.hook.local_addr()
    }

    /// The admin server's bound address.
    pub fn admin_addr(&self) -> std::io::Result<SocketAddr> {
        self.listeners.admin.local_addr()
    }

    /// Reloads on SIGHUP and when a watched file changes (`serve` does; tests drive reloads
    /// themselves). Keep the watcher: dropping it stops the watching.
    pub fn reload_on_change(&self) -> anyhow::Result<Option<notify::RecommendedWatcher>> {
        let Some(reloader) = &self.reloader else {
            return Ok(None);
        };
        tokio::spawn(reloader.clone().on_sighup());
        crate::watch::spawn(reloader.clone(), self.app.settings()).map(Some)
    }

    /// Serves both listeners until `shutdown` resolves and the hook server has drained.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let Self {
            app,
            tls,
            listeners,
            ..
        } = self;
        let (stop_tx, stop_rx) = watch::channel(false);
        let stopped = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        let admin_task = tokio::spawn(crate::admin::serve(
            listeners.admin,
            app.clone(),
            stopped(stop_rx.clone()),
        ));
        app.set_ready(true);
        let hook = crate::server::serve(listeners.hook, tls, app.clone(), async {
            shutdown.await;
            app.set_ready(false);
        });
        let result = hook.await;
        let _ = stop_tx.send(true);
        let _ = admin_task.await;
        result
    }
}

/// Loads the plugin set. A missing folder is an error when it was configured, and an empty
/// (pass-through) set when it is the default `plugins.d` that simply does not exist.
fn load_plugins(
    runtime: Arc<Runtime>,
    settings: &Settings,
    services: &Services,
) -> anyhow::Result<PluginSet> {
    let dir = &settings.plugins_dir;
    if !crate::engine::folders(dir).iter().any(|d| d.exists()) && !settings.plugins_configured {
        tracing::warn!(dir = %dir.display(), "plugins folder not found; serving without plugins (every request answers 204)");
        return Ok(PluginSet::empty());
    }
    let set = PluginSet::load(runtime, dir, services)?;
    for warning in crate::engine::shared_orders(dir) {
        tracing::warn!(dir = %dir.display(), "{warning}");
    }
    if set.plugins().is_empty() {
        tracing::warn!(dir = %dir.display(), "no plugin in the plugins folder; every request answers 204 (see `importhook check`)");
    }
    for plugin in set.plugins() {
        tracing::info!(
            plugin = plugin.name(),
            interface = %plugin.interface_version,
            timeout_ms = plugin.manifest().timeout.as_millis() as u64,
            memory_mib = plugin.manifest().memory_bytes >> 20,
            on_error = plugin.manifest().on_error.as_str(),
            "plugin loaded"
        );
    }
    Ok(set)
}
