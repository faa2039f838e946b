//! One loaded plugin: its name, manifest and the isolation mode its calls run in. Loading
//! makes it ([`super::load`]); the pipeline calls it ([`super::pipeline`]).

use std::sync::Arc;
use std::time::Duration;

use super::isolation::{CallResult, CallStats, Check, Isolation, Native, PerCall, Warm};
use super::manifest::Manifest;
use super::working::Working;

/// One loaded plugin.
pub struct LoadedPlugin {
    pub(super) name: Arc<str>,
    pub(super) calls: Calls,
    pub(super) manifest: Manifest,
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
pub(super) enum Calls {
    PerCall(PerCall),
    Warm(Warm),
    Native(Native),
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

    /// The name, shared with the reports and metric labels of its calls.
    pub fn shared_name(&self) -> Arc<str> {
        self.name.clone()
    }

    /// One call of the plugin on `request`, in its isolation mode (see [`Isolation::call`]).
    pub(super) async fn call(
        &self,
        request: &Arc<Working>,
        timeout: Duration,
        log_lines: u32,
        check: Check<'_>,
    ) -> (CallResult, CallStats) {
        match &self.calls {
            Calls::PerCall(calls) => calls.call(request, timeout, log_lines, check).await,
            Calls::Warm(calls) => calls.call(request, timeout, log_lines, check).await,
            Calls::Native(calls) => calls.call(request, timeout, log_lines, check).await,
        }
    }
}
