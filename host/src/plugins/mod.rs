//! The plugin set: the strategies found in the plugins folder, run in file-name order on every
//! request. A set is immutable once loaded; reloading builds a new one and swaps it in.

mod capability;
mod componentize;
pub mod config;
mod convert;
mod folder;
mod isolation;
mod manifest;
mod merge;
mod native;
mod runtime;
mod services;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Map, Value as Json, json};

pub use bindings::importhook::plugin::types::Profile;
pub use capability::budget::MemoryBudget;
pub use capability::request::RequestState;
pub use folder::DEFAULT_MAX_PLUGIN_BYTES;
pub use folder::{default_cache_dir, folders};
pub use isolation::{CallStats, Failure, FailureKind};
pub use manifest::{Grant, InstanceMode, Manifest, OnError};
pub use merge::{Contribution, InvalidContribution, ProfileView, Working};
pub use native::NativeStrategy;
pub use runtime::{
    DEFAULT_MEMORY_BUDGET_MIB, MAX_CONCURRENT_CALLS, Runtime, SPARE_WARM_SLOTS, block_on,
};
pub use services::Services;

use crate::okta::login::LoginFormat;
use crate::okta::{ErrorCause, HookResponse, ImportRequest};
use capability::log::MAX_LOG_LINES;

/// Warnings for plugins of `dir` that share an order number (`check` prints them, `serve`
/// logs them); none when the folder cannot be read (loading it says why).
pub fn shared_orders(dir: &Path) -> Vec<String> {
    folder::Folder::scan(dir)
        .map(|folder| folder.shared_orders())
        .unwrap_or_default()
}
use capability::state::StateAccess;
use isolation::{CallResult, Isolation};

/// Host bindings generated from the SDK's WIT package (the source of truth).
#[allow(missing_docs, unreachable_pub, missing_debug_implementations)]
mod bindings {
    wasmtime::component::bindgen!({
        path: "../plugin-sdk/wit",
        world: "granted-plugin",
        imports: {
            "importhook:plugin/state": async | trappable,
            "importhook:plugin/directory": async | trappable,
            default: trappable,
        },
        exports: { default: async },
        with: {
            "importhook:plugin/types.request": super::capability::request::RequestView,
        },
    });
}

/// The WIT package version this host serves (read from the SDK's WIT file at build time).
pub const INTERFACE_VERSION: &str = env!("IMPORTHOOK_WIT_VERSION");
/// The interface a plugin must export.
pub const STRATEGY_INTERFACE: &str = "importhook:plugin/strategy";

/// One loaded plugin.
pub struct LoadedPlugin {
    name: Arc<str>,
    calls: Calls,
    manifest: Manifest,
    /// The WIT package version the plugin was built against.
    pub interface_version: String,
    /// The interfaces it imports (`importhook:plugin/log@0.2.0`, `wasi:…` for a component
    /// that uses WASI).
    pub imports: Vec<String>,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("name", &self.name)
            .field("manifest", &self.manifest)
            .finish_non_exhaustive()
    }
}

/// The isolation mode a plugin's calls run in: the seam's implementations.
enum Calls {
    PerCall(isolation::PerCall),
    Warm(isolation::Warm),
    Native(native::Native),
}

impl LoadedPlugin {
    /// The plugin's name (file stem, e.g. `20-login`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    async fn call(
        &self,
        request: &Arc<RequestState>,
        timeout: Duration,
        log_lines: u32,
    ) -> (CallResult, CallStats) {
        match &self.calls {
            Calls::PerCall(calls) => calls.call(request, timeout, log_lines).await,
            Calls::Warm(calls) => calls.call(request, timeout, log_lines).await,
            Calls::Native(calls) => calls.call(request, timeout, log_lines).await,
        }
    }
}

/// What happened in one plugin call, for `debugContext`, logs and `importhook try`.
#[derive(Debug, Clone)]
pub struct PluginReport {
    /// Plugin name (shared with the loaded plugin and the metric labels).
    pub name: Arc<str>,
    /// `ok` or a [`FailureKind`] label.
    pub outcome: &'static str,
    /// Cost.
    pub stats: CallStats,
    /// The plugin's note, when it returned one.
    pub note: Option<String>,
    /// Attribute updates it returned (both profiles).
    pub updates: usize,
    /// Whether it returned a decision.
    pub decided: bool,
    /// What the plugin said about its failure (its `err` text, its panic message, or why its
    /// output was refused). May hold personal data: `importhook try` shows it, Okta never
    /// gets it.
    pub message: Option<String>,
}

impl PluginReport {
    /// A call whose contribution was accepted.
    fn accepted(name: Arc<str>, stats: CallStats, contribution: &Contribution) -> Self {
        Self {
            name,
            outcome: "ok",
            stats,
            note: contribution.note.clone(),
            updates: contribution.app_user.len() + contribution.user.len(),
            decided: contribution.decision.is_some(),
            message: None,
        }
    }

    /// A call that failed.
    fn failed(name: Arc<str>, stats: CallStats, failure: &Failure) -> Self {
        Self {
            name,
            outcome: failure.kind.as_str(),
            stats,
            note: None,
            updates: 0,
            decided: false,
            message: failure.message.clone(),
        }
    }
}

/// The result of running the pipeline on one request.
#[derive(Debug, Clone)]
pub struct PipelineRun {
    /// What Okta gets.
    pub response: HookResponse,
    /// One report per plugin that ran.
    pub reports: Vec<PluginReport>,
    /// The request's deadline came before the pipeline finished; `response` is meaningless.
    pub deadline_passed: bool,
    /// How long the request waited for one of the engine's pipeline slots
    /// ([`MAX_CONCURRENT_CALLS`]); zero when it needed none.
    pub slot_wait: Duration,
}

impl PipelineRun {
    /// The request's deadline came first: whatever the plugins did is dropped.
    fn deadline_passed(reports: Vec<PluginReport>) -> Self {
        Self {
            response: HookResponse::default(),
            reports,
            deadline_passed: true,
            slot_wait: Duration::ZERO,
        }
    }
}

/// An immutable, loaded set of plugins.
#[derive(Debug)]
pub struct PluginSet {
    /// The wasm runtime; `None` for an empty set or native strategies (benchmark only).
    runtime: Option<Arc<Runtime>>,
    plugins: Vec<LoadedPlugin>,
    /// Whether `debugContext` carries each call's time (which makes answers differ run to run).
    debug_timings: bool,
    /// What Okta accepts as a login in this org: a plugin's login it would refuse is the
    /// plugin's invalid output.
    login_format: LoginFormat,
}

impl PluginSet {
    /// No plugins: every request passes through unchanged.
    pub fn empty() -> Self {
        Self {
            runtime: None,
            plugins: Vec::new(),
            debug_timings: false,
            login_format: LoginFormat::default(),
        }
    }

    /// Loads every `*.wasm` of `dir` (one folder, or several separated by `:` laid over each
    /// other: see [`folders`]), in file-name order, with its optional `<stem>.toml`.
    /// Any broken plugin fails the whole load, naming the file: a service never serves half of
    /// the strategies it was given. Anything else in the folder (a file that is not a plugin,
    /// a manifest without its plugin) runs nothing, so it only gets a warning here;
    /// [`PluginSet::check`] refuses it.
    pub fn load(runtime: Arc<Runtime>, dir: &Path, services: &Services) -> anyhow::Result<Self> {
        let folder = folder::Folder::scan(dir)?;
        for (path, what) in &folder.strays {
            tracing::warn!(file = %path.display(), what = %what, "not a plugin; ignored");
        }
        for path in &folder.orphan_manifests {
            tracing::warn!(file = %path.display(), "plugin manifest without its .wasm; ignored");
        }
        for (used, replaced) in &folder.overrides {
            tracing::info!(file = %used.display(), replaces = %replaced.display(), "a later plugins folder's file replaces an earlier one's");
        }
        let mut plugins = Vec::with_capacity(folder.plugins.len());
        for entry in &folder.plugins {
            plugins.push(load_named(&runtime, entry, services)?);
        }
        Ok(Self {
            runtime: Some(runtime),
            plugins,
            debug_timings: false,
            login_format: LoginFormat::default(),
        })
    }

    /// What `importhook check` sees in `dir`: the plugins that load, and one line for every
    /// problem (not just the first): a broken plugin, a file that is not a plugin whatever its
    /// name, a manifest without its plugin (and what is wrong in it), or no plugin at all.
    /// Fails only when the folder cannot be read.
    pub fn check(
        runtime: Arc<Runtime>,
        dir: &Path,
        services: &Services,
    ) -> anyhow::Result<(Self, Vec<String>)> {
        let folder = folder::Folder::scan(dir)?;
        let mut problems = Vec::new();
        let mut plugins = Vec::with_capacity(folder.plugins.len());
        for entry in &folder.plugins {
            match load_named(&runtime, entry, services) {
                Ok(plugin) => plugins.push(plugin),
                Err(e) => problems.push(format!("{e:#}")),
            }
        }
        for (path, what) in &folder.strays {
            problems.push(format!(
                "{}: {what}; only plugins (<stem>.wasm) and their manifests (<stem>.toml) belong in the plugins folder",
                path.display()
            ));
        }
        for path in &folder.orphan_manifests {
            problems.push(format!(
                "{}: a manifest without its plugin {}: build the plugin and copy its .wasm here under that name",
                path.display(),
                path.with_extension("wasm").display()
            ));
            if let Err(e) = Manifest::load(path) {
                problems.push(format!("{e:#}"));
            }
        }
        if folder.plugins.is_empty() {
            problems.push(format!(
                "{}: no plugin (no *.wasm file), so every request would answer 204. Build a strategy with `cargo build --release --target wasm32-unknown-unknown` (start one with `importhook new NAME`) and copy its .wasm here; in the importhook repository, `scripts/dev.sh` builds the example strategies into plugins.d/",
                dir.display()
            ));
        }
        let set = Self {
            runtime: Some(runtime),
            plugins,
            debug_timings: false,
            login_format: LoginFormat::default(),
        };
        Ok((set, problems))
    }

    /// Puts each call's time in `debugContext`. Off by default: the same request then always
    /// gets a byte-identical answer.
    pub fn with_debug_timings(mut self, on: bool) -> Self {
        self.debug_timings = on;
        self
    }

    /// Refuses a plugin's login that Okta would refuse under `format` (config `login_format`).
    pub fn with_login_format(mut self, format: LoginFormat) -> Self {
        self.login_format = format;
        self
    }

    /// The plugins, in running order.
    pub fn plugins(&self) -> &[LoadedPlugin] {
        &self.plugins
    }

    /// Runs the pipeline on `request` (see [`PluginSet::run`]) once the instance pool has
    /// room, waiting no longer than `deadline`. No plugin call outlives `deadline` either:
    /// each call's own deadline is cut to the time left.
    pub async fn transform(&self, request: &Arc<ImportRequest>, deadline: Instant) -> PipelineRun {
        let Some(runtime) = self.runtime.as_ref().filter(|_| !self.plugins.is_empty()) else {
            return self.run(request, Some(deadline)).await;
        };
        let waiting = Instant::now();
        let slot = tokio::time::timeout_at(deadline.into(), runtime.pipeline_slot()).await;
        let slot_wait = waiting.elapsed();
        let Ok(Some(_slot)) = slot else {
            return PipelineRun {
                slot_wait,
                ..PipelineRun::deadline_passed(Vec::new())
            };
        };
        PipelineRun {
            slot_wait,
            ..self.run(request, Some(deadline)).await
        }
    }

    /// Runs every plugin in order on `request`, applying the merge rules, and stops at
    /// `deadline` if one is given. Plugins run on the calling task (see [`isolation`]): it
    /// needs a tokio runtime with its timer. The one pipeline loop, whatever isolation each
    /// plugin runs in.
    pub async fn run(
        &self,
        request: &Arc<ImportRequest>,
        deadline: Option<Instant>,
    ) -> PipelineRun {
        let mut state = Arc::new(RequestState::new(request).with_login_format(self.login_format));
        let mut reports = Vec::with_capacity(self.plugins.len());
        for plugin in &self.plugins {
            let own = plugin.manifest.timeout;
            let timeout = match deadline {
                None => own,
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return PipelineRun::deadline_passed(reports);
                    }
                    left.min(own)
                }
            };
            let (result, stats) = plugin.call(&state, timeout, MAX_LOG_LINES).await;
            let failure = result.as_ref().err().map(|f| f.kind);
            if timeout < own && failure == Some(FailureKind::Timeout) {
                // Cut short by the request's deadline, not by its own: not the plugin's failure.
                tracing::warn!(
                    plugin = plugin.name(),
                    "request deadline reached during a plugin call"
                );
                return PipelineRun::deadline_passed(reports);
            }
            match result {
                Ok(contribution) => {
                    reports.push(PluginReport::accepted(
                        plugin.name.clone(),
                        stats,
                        &contribution,
                    ));
                    // No call holds the state any more: this applies in place.
                    Arc::make_mut(&mut state).apply(contribution);
                }
                Err(failure) => {
                    tracing::warn!(
                        plugin = plugin.name(),
                        failure = failure.kind.as_str(),
                        on_error = plugin.manifest.on_error.as_str(),
                        "plugin call failed"
                    );
                    reports.push(PluginReport::failed(plugin.name.clone(), stats, &failure));
                    if plugin.manifest.on_error == OnError::Fail {
                        let mut response = failure_response(plugin.name(), failure.kind);
                        response.debug_context = Some(debug_context(&reports, self.debug_timings));
                        return PipelineRun {
                            response,
                            reports,
                            deadline_passed: false,
                            slot_wait: Duration::ZERO,
                        };
                    }
                }
            }
        }
        self.finish(&state.working, reports)
    }

    /// The answer once every plugin has run: the net change, with the per-plugin outcomes in
    /// `debugContext` unless nothing changed (a `204` has no body to carry them).
    fn finish(&self, working: &Working, reports: Vec<PluginReport>) -> PipelineRun {
        let mut response = working.response();
        if !response.is_no_change() {
            response.debug_context = Some(debug_context(&reports, self.debug_timings));
        }
        PipelineRun {
            response,
            reports,
            deadline_passed: false,
            slot_wait: Duration::ZERO,
        }
    }
}

fn load_named(
    runtime: &Runtime,
    entry: &folder::Entry,
    services: &Services,
) -> anyhow::Result<LoadedPlugin> {
    load_one(runtime, &entry.wasm, &entry.manifest, services)
        .with_context(|| format!("plugin {} rejected", entry.wasm.display()))
}

fn load_one(
    runtime: &Runtime,
    path: &Path,
    manifest: &Path,
    services: &Services,
) -> anyhow::Result<LoadedPlugin> {
    let name: Arc<str> = path
        .file_stem()
        .and_then(|s| s.to_str())
        .context("plugin file name is not UTF-8")?
        .into();
    let manifest = Manifest::load(manifest)?;
    let bytes = folder::read_bounded(path, runtime.max_plugin_bytes())?;
    let component = runtime.compile(&bytes)?;
    let interface_version = check_interface(runtime, &component)?;
    let imports: Vec<String> = component
        .component_type()
        .imports(runtime.engine())
        .map(|(name, _)| name.to_owned())
        .collect();
    check_grants(&imports, &manifest)?;
    let config = manifest
        .config
        .iter()
        .map(
            |(name, value)| bindings::importhook::plugin::types::Attribute {
                name: name.clone(),
                value: convert::toml_to_wit(value),
            },
        )
        .collect();
    let state = if manifest.grants(Grant::State) {
        Some(StateAccess::new(
            name.clone(),
            services.state()?,
            services.state_metrics.clone(),
        ))
    } else {
        None
    };
    let directory = manifest
        .grants(Grant::Directory)
        .then(|| services.directory_access());
    let blueprint = runtime.blueprint(
        &name,
        &component,
        config,
        state,
        directory,
        manifest.memory_bytes,
    )?;
    // Checked on scratch services: loading (and reloading) never changes the state store nor
    // asks the Okta org anything.
    let probe = blueprint.for_probe(&Services::scratch())?;
    if let Err(problem) = block_on(probe.validate_config(manifest.timeout))? {
        anyhow::bail!("its [config] is refused by the plugin: {problem}");
    }
    check_starts(&probe, &manifest)?;
    let calls = match manifest.instance {
        InstanceMode::PerCall => Calls::PerCall(isolation::PerCall::new(blueprint)),
        InstanceMode::Warm => Calls::Warm(runtime.warm(blueprint, manifest.max_calls)),
    };
    let plugin = LoadedPlugin {
        name,
        calls,
        manifest,
        interface_version,
        imports,
    };
    Ok(plugin)
}

/// Refuses a plugin that imports a capability its manifest does not grant, naming the grant
/// to add (every missing one, so one fix is enough): a capability is never given to a plugin
/// nobody chose to trust with it.
fn check_grants(imports: &[String], manifest: &Manifest) -> anyhow::Result<()> {
    let missing: Vec<String> = manifest::Grant::ALL
        .into_iter()
        .filter(|grant| {
            let imported = imports.iter().any(|name| {
                name.strip_prefix(grant.interface())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('@'))
            });
            imported && !manifest.grants(*grant)
        })
        .map(|grant| {
            format!(
                "it imports {} but its manifest does not grant it: add `grants = [\"{}\"]` to its .toml",
                grant.interface(),
                grant.as_str()
            )
        })
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("{}", missing.join("; "))
    }
}

/// Runs a plugin once on a minimal request (logs muted), so a plugin that cannot start, or
/// traps whatever it is given, is refused at load rather than on every imported user. An
/// `err` answer is fine: it may well depend on the request.
fn check_starts(probe: &isolation::Blueprint, manifest: &Manifest) -> anyhow::Result<()> {
    let request = Arc::new(RequestState::minimal());
    let (result, _) = block_on(probe.call_once(&request, manifest.timeout))?;
    match result {
        Ok(_) => Ok(()),
        Err(failure) => match failure.kind {
            FailureKind::PluginError | FailureKind::InvalidOutput => Ok(()),
            FailureKind::Instantiate => anyhow::bail!("it fails to instantiate"),
            kind => anyhow::bail!(
                "it fails on a minimal request before any user is imported ({}{})",
                kind.as_str(),
                failure
                    .message
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ),
        },
    }
}

/// Finds the plugin's `importhook:plugin/strategy@X` export and checks X against the host's.
fn check_interface(
    runtime: &Runtime,
    component: &wasmtime::component::Component,
) -> anyhow::Result<String> {
    let engine = runtime.engine();
    let exported: Vec<String> = component
        .component_type()
        .exports(engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    let Some(version) = exported
        .iter()
        .find_map(|name| name.strip_prefix(STRATEGY_INTERFACE)?.strip_prefix('@'))
    else {
        anyhow::bail!(
            "it does not export {STRATEGY_INTERFACE} (exports: {}); build it with importhook-sdk",
            if exported.is_empty() {
                "none".to_owned()
            } else {
                exported.join(", ")
            }
        );
    };
    if !compatible(version, INTERFACE_VERSION) {
        anyhow::bail!(
            "it was built against importhook:plugin@{version}, but this host serves importhook:plugin@{INTERFACE_VERSION}; rebuild it with a matching importhook-sdk"
        );
    }
    Ok(version.to_owned())
}

/// Semver compatibility as Cargo reads it: same major, and same minor while major is 0.
fn compatible(plugin: &str, host: &str) -> bool {
    let parse = |v: &str| -> Option<(u64, u64)> {
        let mut parts = v.split(['.', '-', '+']);
        Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
    };
    match (parse(plugin), parse(host)) {
        (Some((0, pm)), Some((0, hm))) => pm == hm,
        (Some((pmaj, _)), Some((hmaj, _))) => pmaj == hmaj,
        _ => false,
    }
}

/// The refusal sent when an `on_error = "fail"` plugin fails: plugin name and failure kind only.
/// Okta reads a cause's `location` as a JSON path of its request: a plugin works on the whole of
/// `data`, so that is where the cause lies (the plugin is named in the summary, `debugContext`
/// and the logs).
fn failure_response(plugin: &str, kind: FailureKind) -> HookResponse {
    let summary = format!("importhook plugin {plugin} failed: {}", kind.as_str());
    let reason = format!("PLUGIN_{}", kind.as_str().to_ascii_uppercase());
    let cause = ErrorCause::in_body(summary.clone(), reason, "data", "importhook");
    HookResponse::error(summary, vec![cause])
}

/// Per-plugin outcome and time, for Okta's System Log. Never a profile value.
fn debug_context(reports: &[PluginReport], timings: bool) -> Map<String, Json> {
    // Built field by field into maps of the right size: this runs on every answer that
    // changes something, and `json!` grows each map from empty.
    let plugins: Vec<Json> = reports
        .iter()
        .map(|r| {
            let mut entry = Map::with_capacity(if timings { 3 } else { 2 });
            entry.insert("name".to_owned(), Json::String(r.name.to_string()));
            entry.insert("outcome".to_owned(), Json::String(r.outcome.to_owned()));
            if timings {
                entry.insert(
                    "micros".to_owned(),
                    Json::from(duration_micros(r.stats.elapsed)),
                );
            }
            Json::Object(entry)
        })
        .collect();
    let mut map = Map::with_capacity(1);
    map.insert("plugins".to_owned(), Json::Array(plugins));
    map
}

fn duration_micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Entry points for the fuzz targets in `fuzz/` (not a stable API).
#[doc(hidden)]
pub mod fuzzing {
    use super::bindings::importhook::plugin::types;
    use super::*;

    fn take<'a>(data: &mut &'a [u8], n: usize) -> &'a [u8] {
        let n = n.min(data.len());
        let (head, tail) = data.split_at(n);
        *data = tail;
        head
    }

    fn value(data: &mut &[u8]) -> types::Value {
        let kind = take(data, 1).first().copied().unwrap_or(0);
        let len = take(data, 1).first().copied().unwrap_or(0) as usize * 4;
        let bytes = take(data, len);
        let text = String::from_utf8_lossy(bytes).into_owned();
        let mut eight = [0u8; 8];
        for (slot, byte) in eight.iter_mut().zip(bytes) {
            *slot = *byte;
        }
        match kind % 8 {
            0 => types::Value::Null,
            1 => types::Value::Boolean(len.is_multiple_of(2)),
            2 => types::Value::Integer(i64::from_le_bytes(eight)),
            3 => types::Value::Number(f64::from_le_bytes(eight)),
            4 => types::Value::Text(text),
            5 => types::Value::List(
                text.split(',')
                    .map(|s| types::Scalar::Text(s.to_owned()))
                    .collect(),
            ),
            6 => types::Value::Json(text),
            _ => types::Value::Text(text.repeat(len)),
        }
    }

    /// Decodes `data` into a plugin outcome, validates it as the host does, and checks that an
    /// accepted one always yields a response Okta accepts.
    pub fn validate_outcome_bytes(mut data: &[u8]) {
        let data = &mut data;
        let attributes = |data: &mut &[u8]| {
            let count = take(data, 1).first().copied().unwrap_or(0) % 8;
            (0..count)
                .map(|_| {
                    let name_len = take(data, 1).first().copied().unwrap_or(0) as usize;
                    let name = String::from_utf8_lossy(take(data, name_len)).into_owned();
                    types::Attribute {
                        name,
                        value: value(data),
                    }
                })
                .collect::<Vec<_>>()
        };
        let app_user_updates = attributes(data);
        let user_updates = attributes(data);
        let decision = match take(data, 1).first().copied().unwrap_or(0) % 3 {
            0 => None,
            1 => Some(types::Decision::CreateUser),
            _ => {
                let len = take(data, 1).first().copied().unwrap_or(0) as usize;
                Some(types::Decision::LinkUser(
                    String::from_utf8_lossy(take(data, len)).into_owned(),
                ))
            }
        };
        let note_len = take(data, 1).first().copied().unwrap_or(0) as usize * 2;
        let note =
            (note_len > 0).then(|| String::from_utf8_lossy(take(data, note_len)).into_owned());
        let outcome = types::Outcome {
            app_user_updates,
            user_updates,
            decision,
            note,
        };
        let request: ImportRequest = serde_json::from_value(json!({
            "eventId": "e", "eventType": "com.okta.import.transform",
            "data": {"action": {"result": "CREATE_USER"}}
        }))
        .expect("request");
        let state = RequestState::new(&Arc::new(request));
        let mut working = state.working.clone();
        if let Ok(contribution) = convert::contribution(outcome, &state) {
            working.apply(contribution);
            match working.response().to_checked_json() {
                Ok(_) | Err(crate::okta::ResponseError::TooLarge(_)) => {}
                Err(e) => panic!("validated output produced an invalid response: {e}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fuzzing_decoder_handles_arbitrary_bytes() {
        for seed in 0u8..=255 {
            let data: Vec<u8> = (0..300u32)
                .map(|i| (i as u8).wrapping_mul(seed).wrapping_add(seed))
                .collect();
            fuzzing::validate_outcome_bytes(&data);
        }
        fuzzing::validate_outcome_bytes(&[]);
    }

    #[test]
    fn every_ungranted_import_is_named_with_its_grant() {
        let imports = vec![
            "importhook:plugin/log@0.2.1".to_owned(),
            "importhook:plugin/state@0.2.1".to_owned(),
            "importhook:plugin/directory@0.2.1".to_owned(),
        ];
        let err = check_grants(&imports, &Manifest::default())
            .expect_err("refused")
            .to_string();
        assert!(
            err.contains("importhook:plugin/directory")
                && err.contains("grants = [\"directory\"]")
                && err.contains("grants = [\"state\"]"),
            "{err}"
        );
        let granted = Manifest::parse("grants = [\"state\", \"directory\"]").expect("manifest");
        assert!(check_grants(&imports, &granted).is_ok());
        // A grant the plugin does not use costs nothing.
        assert!(check_grants(&imports[..1], &granted).is_ok());
    }

    #[test]
    fn interface_versions_follow_semver() {
        assert!(compatible("0.1.0", "0.1.0"));
        assert!(compatible("0.1.3", "0.1.0"));
        assert!(!compatible("0.2.0", "0.1.0"));
        assert!(!compatible("0.1.0", "0.2.0"));
        assert!(!compatible("1.0.0", "0.1.0"));
        assert!(compatible("1.4.0", "1.0.0"));
        assert!(!compatible("garbage", "0.1.0"));
    }

    #[test]
    fn failure_response_names_plugin_and_kind_only() {
        let response = failure_response("20-login", FailureKind::Timeout);
        let body = serde_json::to_value(&response).expect("json");
        assert_eq!(
            body["error"]["errorSummary"],
            "importhook plugin 20-login failed: timeout"
        );
        let cause = &body["error"]["errorCauses"][0];
        assert_eq!(cause["reason"], "PLUGIN_TIMEOUT");
        // Okta's fields of a cause: a JSON path of the request body, not the plugin's name.
        assert_eq!(cause["locationType"], "body");
        assert_eq!(cause["location"], "data");
        assert_eq!(cause["domain"], "importhook");
    }
}
