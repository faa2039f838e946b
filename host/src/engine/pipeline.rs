//! The pipeline: every plugin of a set run in order on one request, each call's output
//! checked against the working request and applied, the request's deadline kept, and the
//! answer Okta gets shaped (the net change, a plugin's failure, `debugContext`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::capability::log::MAX_LOG_LINES;
use super::isolation::{CallStats, Failure, FailureKind};
use super::manifest::OnError;
use super::plugin::LoadedPlugin;
use super::runtime::Runtime;
use super::working::{Contribution, Working};
use crate::okta::login::LoginFormat;
use crate::okta::{DebugContext, ErrorCause, HookResponse, ImportRequest};

/// How one plugin call ended, as reports, logs, metrics and `debugContext` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    /// Its contribution was accepted and applied.
    Ok,
    /// It failed, and how.
    Failed(FailureKind),
}

impl CallOutcome {
    /// Label for metrics, logs and `debugContext`: `ok` or the [`FailureKind`] label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Failed(kind) => kind.as_str(),
        }
    }
}

impl std::fmt::Display for CallOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// What happened in one plugin call, for `debugContext`, logs and `importhook try`.
#[derive(Debug, Clone)]
pub struct PluginReport {
    /// Plugin name (shared with the loaded plugin and the metric labels).
    pub name: Arc<str>,
    /// How the call ended.
    pub outcome: CallOutcome,
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
            outcome: CallOutcome::Ok,
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
            outcome: CallOutcome::Failed(failure.kind),
            stats,
            note: None,
            updates: 0,
            decided: false,
            message: failure.message.clone(),
        }
    }
}

/// How a pipeline run ended.
#[derive(Debug, Clone)]
pub enum RunEnd {
    /// Every plugin ran (or an `on_error = "fail"` one stopped the run): what Okta gets.
    Answer(HookResponse),
    /// The request's deadline came first: whatever the plugins did is dropped, and the
    /// endpoint answers by its `on_timeout` policy.
    DeadlinePassed,
}

/// The result of running the pipeline on one request.
#[derive(Debug, Clone)]
pub struct PipelineRun {
    /// How it ended.
    pub end: RunEnd,
    /// One report per plugin that ran.
    pub reports: Vec<PluginReport>,
    /// How long the request waited for one of the engine's pipeline slots
    /// ([`super::MAX_CONCURRENT_CALLS`]); zero when it needed none.
    pub slot_wait: Duration,
}

impl PipelineRun {
    fn answer(response: HookResponse, reports: Vec<PluginReport>) -> Self {
        Self {
            end: RunEnd::Answer(response),
            reports,
            slot_wait: Duration::ZERO,
        }
    }

    fn cut_short(reports: Vec<PluginReport>) -> Self {
        Self {
            end: RunEnd::DeadlinePassed,
            reports,
            slot_wait: Duration::ZERO,
        }
    }

    /// Whether the request's deadline came before the pipeline finished.
    pub fn deadline_passed(&self) -> bool {
        matches!(self.end, RunEnd::DeadlinePassed)
    }

    /// What Okta gets; `None` when the deadline came first.
    pub fn response(&self) -> Option<&HookResponse> {
        match &self.end {
            RunEnd::Answer(response) => Some(response),
            RunEnd::DeadlinePassed => None,
        }
    }

    /// What Okta gets, taken out of the run; `None` when the deadline came first.
    pub fn into_response(self) -> Option<HookResponse> {
        match self.end {
            RunEnd::Answer(response) => Some(response),
            RunEnd::DeadlinePassed => None,
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
        Self::of(None, Vec::new())
    }

    /// `plugins`, run in this order, with the default answer settings.
    pub(super) fn of(runtime: Option<Arc<Runtime>>, plugins: Vec<LoadedPlugin>) -> Self {
        Self {
            runtime,
            plugins,
            debug_timings: false,
            login_format: LoginFormat::default(),
        }
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

    /// Runs the pipeline on `request` (see [`PluginSet::run`]) once one of the engine's
    /// pipeline slots is free, waiting no longer than `deadline`: what serving a hook request
    /// does. No plugin call outlives `deadline` either: each call's own deadline is cut to the
    /// time left.
    pub async fn run_in_slot(
        &self,
        request: &Arc<ImportRequest>,
        deadline: Instant,
    ) -> PipelineRun {
        let Some(runtime) = self.runtime.as_ref().filter(|_| !self.plugins.is_empty()) else {
            return self.run(request, Some(deadline)).await;
        };
        let waiting = Instant::now();
        let slot = tokio::time::timeout_at(deadline.into(), runtime.pipeline_slot()).await;
        let slot_wait = waiting.elapsed();
        let Ok(Some(_slot)) = slot else {
            return PipelineRun {
                slot_wait,
                ..PipelineRun::cut_short(Vec::new())
            };
        };
        PipelineRun {
            slot_wait,
            ..self.run(request, Some(deadline)).await
        }
    }

    /// Runs every plugin in order on `request`, and stops at `deadline` if one is given.
    /// Plugins run on the calling task (see [`super::isolation`]): it needs a tokio runtime
    /// with its timer. The one pipeline loop, whatever isolation each plugin runs in: each
    /// call's output is checked against the working request here ([`Working::check`]) and,
    /// accepted, applied to it; a failure is reported and handled by the plugin's `on_error`.
    pub async fn run(
        &self,
        request: &Arc<ImportRequest>,
        deadline: Option<Instant>,
    ) -> PipelineRun {
        let mut working =
            Arc::new(Working::from_request(request).with_login_format(self.login_format));
        let mut reports = Vec::with_capacity(self.plugins.len());
        for plugin in &self.plugins {
            let own = plugin.manifest().timeout;
            let Some(timeout) = call_timeout(own, deadline) else {
                return PipelineRun::cut_short(reports);
            };
            let check = |contribution: &Contribution| working.check(contribution);
            let (result, stats) = plugin.call(&working, timeout, MAX_LOG_LINES, &check).await;
            let failure = result.as_ref().err().map(|f| f.kind);
            if timeout < own && failure == Some(FailureKind::Timeout) {
                // Cut short by the request's deadline, not by its own: not the plugin's failure.
                tracing::warn!(
                    plugin = plugin.name(),
                    "request deadline reached during a plugin call"
                );
                return PipelineRun::cut_short(reports);
            }
            match result {
                Ok(contribution) => {
                    reports.push(PluginReport::accepted(
                        plugin.shared_name(),
                        stats,
                        &contribution,
                    ));
                    // No call holds the working request any more: this applies in place.
                    Arc::make_mut(&mut working).apply(contribution);
                }
                Err(failure) => {
                    tracing::warn!(
                        plugin = plugin.name(),
                        failure = failure.kind.as_str(),
                        on_error = plugin.manifest().on_error.as_str(),
                        "plugin call failed"
                    );
                    reports.push(PluginReport::failed(plugin.shared_name(), stats, &failure));
                    if plugin.manifest().on_error == OnError::Fail {
                        let mut response = failure_response(plugin.name(), failure.kind);
                        response.debug_context = Some(debug_context(&reports, self.debug_timings));
                        return PipelineRun::answer(response, reports);
                    }
                }
            }
        }
        self.finish(&working, reports)
    }

    /// The answer once every plugin has run: the net change, with the per-plugin outcomes in
    /// `debugContext` unless nothing changed (a `204` has no body to carry them).
    fn finish(&self, working: &Working, reports: Vec<PluginReport>) -> PipelineRun {
        let mut response = working.response();
        if !response.is_no_change() {
            response.debug_context = Some(debug_context(&reports, self.debug_timings));
        }
        PipelineRun::answer(response, reports)
    }
}

/// How long a plugin whose own deadline is `own` may run when the request must be answered by
/// `deadline`: the shorter of the two, or `None` when the request's deadline has passed.
fn call_timeout(own: Duration, deadline: Option<Instant>) -> Option<Duration> {
    let Some(deadline) = deadline else {
        return Some(own);
    };
    let left = deadline.saturating_duration_since(Instant::now());
    (!left.is_zero()).then(|| left.min(own))
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
fn debug_context(reports: &[PluginReport], timings: bool) -> DebugContext {
    /// `{"plugins": [{"name", "outcome", "micros"?}, ...]}`, serialized straight from the
    /// reports: this runs on every answer that changes something.
    #[derive(Serialize)]
    struct Context<'a> {
        plugins: Vec<PluginEntry<'a>>,
    }
    #[derive(Serialize)]
    struct PluginEntry<'a> {
        name: &'a str,
        outcome: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        micros: Option<u64>,
    }
    let plugins = reports
        .iter()
        .map(|r| PluginEntry {
            name: &r.name,
            outcome: r.outcome.as_str(),
            micros: timings.then(|| duration_micros(r.stats.elapsed)),
        })
        .collect();
    DebugContext::of(&Context { plugins }).expect("a struct serializes as a JSON object")
}

fn duration_micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

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
