//! Prometheus metrics, served as text on the admin listener's `/metrics`. Labels hold only
//! fixed vocabularies and plugin names: never a profile value, header value or secret.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    status: u16,
    outcome: &'static str,
    auth: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginLabels {
    plugin: Arc<str>,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginNameLabel {
    plugin: Arc<str>,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadLabels {
    part: &'static str,
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    backend: &'static str,
    operation: &'static str,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BackendLabel {
    backend: &'static str,
}

/// State store calls (the `state` capability), shared by the plugins' instances and
/// registered with [`Metrics`]: clones record into the same series.
#[derive(Debug, Clone)]
pub struct StateMetrics {
    calls: Family<StateLabels, Counter>,
    duration: Family<BackendLabel, Histogram, fn() -> Histogram>,
    up: Family<BackendLabel, Gauge>,
}

impl Default for StateMetrics {
    fn default() -> Self {
        Self {
            calls: Family::default(),
            duration: Family::new_with_constructor(latency_histogram),
            up: Family::default(),
        }
    }
}

impl StateMetrics {
    /// Records the last probe of the store: 1 when it answers (embedded: its file takes writes).
    pub fn set_up(&self, backend: &'static str, up: bool) {
        self.up
            .get_or_create(&BackendLabel { backend })
            .set(i64::from(up));
    }

    /// Records one state call: `outcome` is `ok`, `unavailable` or `invalid`.
    pub fn call(
        &self,
        backend: &'static str,
        operation: &'static str,
        outcome: &'static str,
        elapsed: Duration,
    ) {
        self.calls
            .get_or_create(&StateLabels {
                backend,
                operation,
                outcome,
            })
            .inc();
        self.duration
            .get_or_create(&BackendLabel { backend })
            .observe(elapsed.as_secs_f64());
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DirectoryLabels {
    operation: &'static str,
    outcome: &'static str,
}

/// Okta directory lookups (the `directory` capability), shared by the plugins' instances and
/// registered with [`Metrics`]: clones record into the same series.
#[derive(Debug, Clone)]
pub struct DirectoryMetrics {
    lookups: Family<DirectoryLabels, Counter>,
    duration: Histogram,
}

impl Default for DirectoryMetrics {
    fn default() -> Self {
        Self {
            lookups: Family::default(),
            duration: latency_histogram(),
        }
    }
}

impl DirectoryMetrics {
    /// Records one lookup: `outcome` is `taken`, `free`, or why it answered unknown
    /// (`timed-out`, `rate-limited`, `failed`, `not-configured`, `unsupported-login`).
    pub fn lookup(&self, operation: &'static str, outcome: &'static str, elapsed: Duration) {
        self.lookups
            .get_or_create(&DirectoryLabels { operation, outcome })
            .inc();
        self.duration.observe(elapsed.as_secs_f64());
    }
}

fn latency_histogram() -> Histogram {
    // 100 µs … ~3.3 s: plugin calls are sub-millisecond, Okta gives up at 3 s.
    Histogram::new(exponential_buckets(0.0001, 2.0, 16))
}

/// The `outcome` label of a plugin call that succeeded.
const OK: &str = "ok";

/// One plugin's call series, kept with the plugin set it serves in: each is looked up by its
/// labels once (at the plugin's first call, so a plugin never called exports nothing, as
/// before), then a call costs an atomic add and a histogram observation instead of two label
/// hashes and map look-ups under the families' locks. Failed calls, rare, are looked up.
#[derive(Debug)]
pub struct PluginSeries {
    name: Arc<str>,
    ok: OnceLock<Counter>,
    duration: OnceLock<Histogram>,
}

impl PluginSeries {
    /// The series of the plugin named `name` (the plugin's own `Arc`, which its call reports
    /// share).
    pub fn new(name: Arc<str>) -> Self {
        Self {
            name,
            ok: OnceLock::new(),
            duration: OnceLock::new(),
        }
    }

    /// Whether these are the series of the plugin whose report names `name`.
    pub fn is_for(&self, name: &Arc<str>) -> bool {
        Arc::ptr_eq(&self.name, name)
    }
}

/// Every metric the service exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_duration: Histogram,
    plugin_calls: Family<PluginLabels, Counter>,
    plugin_duration: Family<PluginNameLabel, Histogram, fn() -> Histogram>,
    pipeline_wait: Histogram,
    reloads: Family<ReloadLabels, Counter>,
    passed_through: Family<ReasonLabel, Counter>,
    /// Open client connections.
    pub open_connections: Gauge,
    /// Connections closed to give their slot to a new one (they had not authenticated).
    pub connections_evicted: Counter,
    /// Request-body memory held by requests being served (bytes, as charged).
    pub body_memory: Gauge,
    /// Requests being served.
    pub in_flight: Gauge,
    /// When the serving certificate expires (Unix seconds).
    pub certificate_expiry: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("importhook");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Hook requests by HTTP status, outcome and authentication mode",
            requests.clone(),
        );
        let request_duration = latency_histogram();
        registry.register(
            "request_duration_seconds",
            "Hook request latency",
            request_duration.clone(),
        );
        let plugin_calls = Family::<PluginLabels, Counter>::default();
        registry.register(
            "plugin_calls",
            "Plugin calls by plugin and outcome",
            plugin_calls.clone(),
        );
        let plugin_duration =
            Family::<PluginNameLabel, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram,
            );
        registry.register(
            "plugin_call_duration_seconds",
            "Plugin call latency, instantiation included",
            plugin_duration.clone(),
        );
        let pipeline_wait = latency_histogram();
        registry.register(
            "pipeline_wait_seconds",
            "Time a request waited for one of the engine's plugin pipeline slots",
            pipeline_wait.clone(),
        );
        let reloads = Family::<ReloadLabels, Counter>::default();
        registry.register(
            "reloads",
            "Reloads by part (plugins, tls, secrets) and result",
            reloads.clone(),
        );
        let passed_through = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "passed_through",
            "Hook requests read but passed through unhandled (204, no plugin run), by reason",
            passed_through.clone(),
        );
        let open_connections = Gauge::default();
        registry.register(
            "open_connections",
            "Open client connections",
            open_connections.clone(),
        );
        let connections_evicted = Counter::default();
        registry.register(
            "connections_evicted",
            "Connections closed at max_connections to give their slot to a new one (none had authenticated)",
            connections_evicted.clone(),
        );
        let body_memory = Gauge::default();
        registry.register(
            "body_memory_bytes",
            "Memory charged to request bodies being served (max_body_memory_mib)",
            body_memory.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "in_flight_requests",
            "Hook requests being served",
            in_flight.clone(),
        );
        let certificate_expiry = Gauge::default();
        registry.register(
            "certificate_expiry_timestamp_seconds",
            "When the serving TLS certificate expires (Unix time)",
            certificate_expiry.clone(),
        );
        Self {
            registry,
            requests,
            request_duration,
            plugin_calls,
            plugin_duration,
            pipeline_wait,
            reloads,
            passed_through,
            open_connections,
            connections_evicted,
            body_memory,
            in_flight,
            certificate_expiry,
        }
    }

    /// Records one answered request.
    pub fn request(
        &self,
        status: u16,
        outcome: &'static str,
        auth: &'static str,
        latency: Duration,
    ) {
        self.requests
            .get_or_create(&RequestLabels {
                status,
                outcome,
                auth,
            })
            .inc();
        self.request_duration.observe(latency.as_secs_f64());
    }

    /// Records one call of the plugin whose series are `series`.
    pub fn plugin_call(&self, series: &PluginSeries, outcome: &'static str, elapsed: Duration) {
        let plugin = &series.name;
        if outcome == OK {
            series
                .ok
                .get_or_init(|| self.plugin_calls_counter(plugin, OK))
                .inc();
        } else {
            self.plugin_calls_counter(plugin, outcome).inc();
        }
        series
            .duration
            .get_or_init(|| self.plugin_duration_histogram(plugin))
            .observe(elapsed.as_secs_f64());
    }

    /// The series of `plugin`'s calls that ended with `outcome` (created at zero if new).
    fn plugin_calls_counter(&self, plugin: &Arc<str>, outcome: &'static str) -> Counter {
        // The label keys share the plugin's name: no copy of it per call.
        self.plugin_calls
            .get_or_create(&PluginLabels {
                plugin: plugin.clone(),
                outcome,
            })
            .clone()
    }

    fn plugin_duration_histogram(&self, plugin: &Arc<str>) -> Histogram {
        self.plugin_duration
            .get_or_create(&PluginNameLabel {
                plugin: plugin.clone(),
            })
            .clone()
    }

    /// Records the time one pipeline spent outside its plugin calls (see
    /// `App::run_pipeline`): the wait for a pipeline slot, in practice.
    pub fn pipeline_wait(&self, waited: Duration) {
        self.pipeline_wait.observe(waited.as_secs_f64());
    }

    /// Records one reload of `part` (`plugins`, `tls`, `secrets`).
    pub fn reload(&self, part: &'static str, ok: bool) {
        self.reloads
            .get_or_create(&ReloadLabels {
                part,
                result: if ok { "ok" } else { "rejected" },
            })
            .inc();
    }

    /// Records one request passed through unhandled, e.g. for an action Okta added
    /// (`unknown_action`); `reason` is a fixed label, never a value from the request.
    pub fn passed_through(&self, reason: &'static str) {
        self.passed_through
            .get_or_create(&ReasonLabel { reason })
            .inc();
    }

    /// Exports `state`'s series (the plugins' state calls) with the others.
    pub fn register_state(&mut self, state: &StateMetrics) {
        self.registry.register(
            "state_calls",
            "State store calls by backend, operation and outcome",
            state.calls.clone(),
        );
        self.registry.register(
            "state_call_duration_seconds",
            "State store call latency by backend",
            state.duration.clone(),
        );
        self.registry.register(
            "state_store_up",
            "Whether the state store answered its last probe (at most one a second)",
            state.up.clone(),
        );
    }

    /// Exports `directory`'s series (the plugins' Okta lookups) with the others.
    pub fn register_directory(&mut self, directory: &DirectoryMetrics) {
        self.registry.register(
            "directory_lookups",
            "Okta directory lookups by operation and outcome",
            directory.lookups.clone(),
        );
        self.registry.register(
            "directory_lookup_duration_seconds",
            "Okta directory lookup latency, cache hits included",
            directory.duration.clone(),
        );
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_holds_every_family() {
        let mut metrics = Metrics::new();
        let state = StateMetrics::default();
        metrics.register_state(&state);
        state.call("embedded", "next", "ok", Duration::from_micros(300));
        let directory = DirectoryMetrics::default();
        metrics.register_directory(&directory);
        directory.lookup("login-exists", "taken", Duration::from_millis(2));
        metrics.request(204, "no_change", "header", Duration::from_millis(3));
        metrics.plugin_call(
            &PluginSeries::new("20-login".into()),
            "timeout",
            Duration::from_millis(200),
        );
        metrics.reload("plugins", false);
        metrics.passed_through("unknown_action");
        metrics.pipeline_wait(Duration::from_millis(40));
        metrics.open_connections.inc();
        metrics.connections_evicted.inc();
        metrics.body_memory.set(4096);
        let text = metrics.encode();
        for needle in [
            "importhook_requests_total{status=\"204\",outcome=\"no_change\",auth=\"header\"} 1",
            "importhook_request_duration_seconds_count 1",
            "importhook_plugin_calls_total{plugin=\"20-login\",outcome=\"timeout\"} 1",
            "importhook_plugin_call_duration_seconds_count{plugin=\"20-login\"} 1",
            "importhook_reloads_total{part=\"plugins\",result=\"rejected\"} 1",
            "importhook_passed_through_total{reason=\"unknown_action\"} 1",
            "importhook_pipeline_wait_seconds_count 1",
            "importhook_directory_lookups_total{operation=\"login-exists\",outcome=\"taken\"} 1",
            "importhook_directory_lookup_duration_seconds_count 1",
            "importhook_open_connections 1",
            "importhook_connections_evicted_total 1",
            "importhook_body_memory_bytes 4096",
            "importhook_in_flight_requests 0",
            "importhook_certificate_expiry_timestamp_seconds 0",
            "importhook_state_calls_total{backend=\"embedded\",operation=\"next\",outcome=\"ok\"} 1",
            "importhook_state_call_duration_seconds_count{backend=\"embedded\"} 1",
        ] {
            assert!(text.contains(needle), "{needle} missing:\n{text}");
        }
    }

    #[test]
    fn a_plugins_own_series_count_as_its_labels_do_and_only_once_called() {
        let metrics = Metrics::new();
        let name: Arc<str> = "10-normalize".into();
        let series = PluginSeries::new(name.clone());
        assert!(series.is_for(&name));
        assert!(
            !series.is_for(&"10-normalize".into()),
            "another Arc of the same text"
        );
        assert!(
            !metrics.encode().contains("10-normalize"),
            "nothing before a call"
        );
        for outcome in ["ok", "ok", "timeout"] {
            metrics.plugin_call(&series, outcome, Duration::from_millis(1));
        }
        // Series of the same plugin made again (as a reload does): the same series grow.
        metrics.plugin_call(&PluginSeries::new(name), "ok", Duration::from_millis(1));
        let text = metrics.encode();
        for needle in [
            "importhook_plugin_calls_total{plugin=\"10-normalize\",outcome=\"ok\"} 3",
            "importhook_plugin_calls_total{plugin=\"10-normalize\",outcome=\"timeout\"} 1",
            "importhook_plugin_call_duration_seconds_count{plugin=\"10-normalize\"} 4",
        ] {
            assert!(text.contains(needle), "{needle} missing:\n{text}");
        }
    }
}
