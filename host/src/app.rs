//! The state shared by every request: validated settings, the authenticator and the current
//! plugin set. Secrets and plugins sit behind atomic swaps so a reload never blocks a request.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use crate::auth::{Authenticator, SecretSet};
use crate::body_memory::BodyMemory;
use crate::config::Settings;
use crate::engine::{PluginSet, Services};
use crate::metrics::{Metrics, PluginSeries};
use crate::oauth::OAuthVerifier;
use crate::okta::{HookResponse, ImportRequest};

/// Shared service state.
#[derive(Debug)]
pub struct App {
    settings: Settings,
    auth: Authenticator,
    plugins: ArcSwap<Serving>,
    in_flight: tokio::sync::Semaphore,
    body_memory: BodyMemory,
    metrics: Arc<Metrics>,
    services: Services,
    ready: AtomicBool,
    /// The certificate or key file could not be read at the last reload.
    tls_unreadable: AtomicBool,
    /// The last state store probe: when, and whether it answered.
    state_probe: Mutex<Option<(Instant, bool)>>,
    /// Held while a probe runs, so probes never overlap.
    probing: tokio::sync::Mutex<()>,
}

/// The plugin set serving new requests, with its plugins' metric series (swapped together).
#[derive(Debug)]
struct Serving {
    set: Arc<PluginSet>,
    /// One per plugin, in the set's order.
    series: Box<[PluginSeries]>,
}

impl Serving {
    fn new(set: Arc<PluginSet>) -> Self {
        let series = set
            .plugins()
            .iter()
            .map(|plugin| PluginSeries::new(plugin.shared_name()))
            .collect();
        Self { set, series }
    }
}

/// Least time between two probes of the state store, whatever asks how it is.
pub const STATE_PROBE_EVERY: Duration = Duration::from_secs(1);

impl App {
    /// State for `settings`, serving `plugins` loaded with `services` (which reloads use
    /// too) to requests `auth` accepts; not ready until [`App::set_ready`].
    pub fn new(
        settings: Settings,
        plugins: Arc<PluginSet>,
        services: Services,
        auth: Authenticator,
    ) -> Self {
        let in_flight = tokio::sync::Semaphore::new(settings.hook.max_in_flight);
        let mut metrics = Metrics::new();
        metrics.register_state(&services.state_metrics);
        metrics.register_directory(&services.directory_metrics);
        let body_memory =
            BodyMemory::new(settings.hook.max_body_memory, metrics.body_memory.clone());
        Self {
            in_flight,
            body_memory,
            metrics: Arc::new(metrics),
            services,
            settings,
            auth,
            plugins: ArcSwap::from_pointee(Serving::new(plugins)),
            ready: AtomicBool::new(false),
            tls_unreadable: AtomicBool::new(false),
            state_probe: Mutex::new(None),
            probing: tokio::sync::Mutex::new(()),
        }
    }

    /// How requests are authenticated.
    pub fn authenticator(&self) -> &Authenticator {
        &self.auth
    }

    /// The bearer-token verifier, in OAuth mode.
    pub fn oauth(&self) -> Option<&OAuthVerifier> {
        self.auth.oauth()
    }

    /// The validated settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Replaces the accepted secrets (rotation without restart); nothing in OAuth mode.
    pub fn replace_secrets(&self, secrets: SecretSet) {
        if let Authenticator::Secrets(current) = &self.auth {
            current.store(Arc::new(secrets));
        }
    }

    /// The plugin set serving new requests.
    pub fn plugins(&self) -> Arc<PluginSet> {
        self.plugins.load().set.clone()
    }

    /// Swaps in a new plugin set; requests already running finish on the old one.
    pub fn replace_plugins(&self, plugins: Arc<PluginSet>) {
        self.plugins.store(Arc::new(Serving::new(plugins)));
    }

    /// Runs the plugin pipeline on one request; `None` when `deadline` came first.
    pub async fn run_pipeline(
        &self,
        request: ImportRequest,
        deadline: std::time::Instant,
    ) -> Option<HookResponse> {
        // The pipeline keeps the deadline itself (the wait for room in the instance pool and
        // every plugin call), so the calls that did run always reach the metrics.
        let serving = self.plugins.load_full();
        let plugins = &serving.set;
        let run = plugins.run_in_slot(&Arc::new(request), deadline).await;
        let log_messages = self.settings.log_plugin_messages;
        // The reports come in the set's order, some plugins maybe without one.
        let mut series = serving.series.iter();
        for report in &run.reports {
            let outcome = report.outcome.as_str();
            match series.by_ref().find(|series| series.is_for(&report.name)) {
                Some(own) => self.metrics.plugin_call(own, outcome, report.stats.elapsed),
                // Not reached (every report is of a plugin of the set): looked up by label.
                None => self.metrics.plugin_call(
                    &PluginSeries::new(report.name.clone()),
                    outcome,
                    report.stats.elapsed,
                ),
            }
            // The plugin's own words may quote the profile it read: logged only when the
            // operator opted in (`log_plugin_messages`). The failure itself is logged anyway,
            // by kind, where it happened.
            if let Some(message) = report.message.as_deref().filter(|_| log_messages) {
                tracing::warn!(
                    plugin = &*report.name,
                    failure = report.outcome.as_str(),
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
        run.into_response()
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

    /// Records whether the certificate or key file could be read at the last reload.
    pub fn set_tls_unreadable(&self, unreadable: bool) {
        self.tls_unreadable.store(unreadable, Ordering::Release);
    }

    /// Why this replica cannot serve right now, if it cannot (`/readyz`): only what a
    /// replica can fix on its own. A dependency every replica shares (Redis, Okta) being down
    /// would take every replica out of the load balancer at once, so it is left to the
    /// metrics, the logs and the plugins' `on_error`.
    pub async fn unready_reason(&self) -> Option<&'static str> {
        if !self.is_ready() {
            return Some("not ready");
        }
        if self.plugins().plugins().is_empty() && !self.settings.allow_no_plugins {
            return Some("no plugin loaded (allow_no_plugins = true serves without)");
        }
        if self.tls_unreadable.load(Ordering::Acquire) {
            return Some("TLS certificate or key unreadable");
        }
        let embedded = self
            .services
            .opened_state()
            .is_some_and(|store| store.backend() == "embedded");
        if embedded && matches!(self.state_up().await, Some((_, false))) {
            return Some("state store unavailable");
        }
        None
    }

    /// Whether the state store plugins use answers (`None` when none is open), probed at most
    /// once per [`STATE_PROBE_EVERY`] however often this is asked; also exported as
    /// `importhook_state_store_up`.
    pub async fn state_up(&self) -> Option<(&'static str, bool)> {
        let store = self.services.opened_state()?;
        let backend = store.backend();
        let fresh = |probe: &Mutex<Option<(Instant, bool)>>| {
            probe
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .filter(|(at, _)| at.elapsed() < STATE_PROBE_EVERY)
                .map(|(_, up)| up)
        };
        if let Some(up) = fresh(&self.state_probe) {
            return Some((backend, up));
        }
        let _one_at_a_time = self.probing.lock().await;
        if let Some(up) = fresh(&self.state_probe) {
            return Some((backend, up));
        }
        let up = matches!(
            tokio::time::timeout(STATE_PROBE_EVERY, store.ping()).await,
            Ok(true)
        );
        *self
            .state_probe
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((Instant::now(), up));
        self.services.state_metrics.set_up(backend, up);
        Some((backend, up))
    }
}
