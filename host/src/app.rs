//! The state shared by every request: validated settings, the accepted secrets and the current
//! plugin set. Secrets and plugins sit behind atomic swaps so a reload never blocks a request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arc_swap::ArcSwap;

use crate::auth::SecretSet;
use crate::body_memory::BodyMemory;
use crate::config::Settings;
use crate::metrics::Metrics;
use crate::oauth::OAuthVerifier;
use crate::okta::{HookResponse, ImportRequest};
use crate::plugins::{PluginSet, Services};

/// Shared service state.
#[derive(Debug)]
pub struct App {
    settings: Settings,
    secrets: ArcSwap<SecretSet>,
    plugins: ArcSwap<PluginSet>,
    oauth: Option<Arc<OAuthVerifier>>,
    in_flight: tokio::sync::Semaphore,
    body_memory: BodyMemory,
    metrics: Arc<Metrics>,
    services: Services,
    ready: AtomicBool,
}

impl App {
    /// State for `settings`, serving `plugins` loaded with `services` (which reloads use
    /// too); not ready until [`App::set_ready`].
    pub fn new(settings: Settings, plugins: Arc<PluginSet>, services: Services) -> Self {
        let secrets = ArcSwap::from_pointee(settings.secrets.clone());
        let in_flight = tokio::sync::Semaphore::new(settings.limits.max_in_flight);
        let mut metrics = Metrics::new();
        metrics.register_state(&services.state_metrics);
        metrics.register_directory(&services.directory_metrics);
        let body_memory =
            BodyMemory::new(settings.limits.max_body_memory, metrics.body_memory.clone());
        Self {
            in_flight,
            body_memory,
            metrics: Arc::new(metrics),
            services,
            settings,
            secrets,
            plugins: ArcSwap::new(plugins),
            oauth: None,
            ready: AtomicBool::new(false),
        }
    }

    /// Authenticates requests with OAuth bearer tokens instead of the shared secret.
    pub fn with_oauth(mut self, verifier: Arc<OAuthVerifier>) -> Self {
        self.oauth = Some(verifier);
        self
    }

    /// The bearer-token verifier, in OAuth mode.
    pub fn oauth(&self) -> Option<&OAuthVerifier> {
        self.oauth.as_deref()
    }

    /// The validated settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The secrets accepted right now.
    pub fn secrets(&self) -> arc_swap::Guard<Arc<SecretSet>> {
        self.secrets.load()
    }

    /// Replaces the accepted secrets (rotation without restart).
    pub fn replace_secrets(&self, secrets: SecretSet) {
        self.secrets.store(Arc::new(secrets));
    }

    /// The plugin set serving new requests.
    pub fn plugins(&self) -> Arc<PluginSet> {
        self.plugins.load_full()
    }

    /// Swaps in a new plugin set; requests already running finish on the old one.
    pub fn replace_plugins(&self, plugins: Arc<PluginSet>) {
        self.plugins.store(plugins);
    }

    /// Runs the plugin pipeline on one request; `None` when `deadline` came first.
    pub async fn transform(
        &self,
        request: ImportRequest,
        deadline: std::time::Instant,
    ) -> Option<HookResponse> {
        // The pipeline keeps the deadline itself (the wait for room in the instance pool and
        // every plugin call), so the calls that did run always reach the metrics.
        let plugins = self.plugins();
        let run = plugins.transform(&Arc::new(request), deadline).await;
        let log_messages = self.settings.log_plugin_messages;
        for report in &run.reports {
            self.metrics
                .plugin_call(&report.name, report.outcome, report.stats.elapsed);
            // The plugin's own words may quote the profile it read: logged only when the
            // operator opted in (`log_plugin_messages`). The failure itself is logged anyway,
            // by kind, where it happened.
            if let Some(message) = report.message.as_deref().filter(|_| log_messages) {
                tracing::warn!(
                    plugin = &*report.name,
                    failure = report.outcome,
                    message,
                    "plugin failure message"
                );
            }
        }
        // The wait for one of the engine's pipeline slots (`MAX_CONCURRENT_CALLS`). Without
        // plugins nothing waits.
        if !plugins.plugins().is_empty() {
            self.metrics.pipeline_wait(run.slot_wait);
        }
        (!run.deadline_passed).then_some(run.response)
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Admits one more request, or `None` when `max_in_flight` are already being served.
    pub fn admit(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.in_flight.try_acquire().ok()
    }

    /// The account request bodies reserve their memory from.
    pub fn body_memory(&self) -> &BodyMemory {
        &self.body_memory
    }

    /// Marks the service ready (listener bound, plugins loaded).
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Release);
    }

    /// Whether `/readyz` answers `200`.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// The services plugins are granted (reloads load with them).
    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Why the service cannot serve as configured right now, if it cannot: the state store
    /// its plugins use does not answer (`/readyz`).
    pub async fn unready_reason(&self) -> Option<&'static str> {
        if !self.is_ready() {
            return Some("not ready");
        }
        let store = self.services.opened_state()?;
        let answered = tokio::time::timeout(std::time::Duration::from_secs(1), store.ping()).await;
        (!matches!(answered, Ok(true))).then_some("state store unavailable")
    }
}
