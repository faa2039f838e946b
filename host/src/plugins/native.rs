//! Strategies compiled into the host, without a sandbox. They exist for one reason: the
//! native-limit benchmark (`bench/native-limit`), which measures what this server stack
//! costs with the same strategies and no wasm. A production build never loads them.

use std::time::Instant;

use super::{CallStats, Contribution, FailureKind, PipelineRun, PluginReport, PluginSet, Working};
use crate::okta::ImportRequest;

/// A strategy running natively in the host process (benchmark only: no isolation at all).
#[doc(hidden)]
pub trait NativeStrategy: Send + Sync + std::fmt::Debug {
    /// Name in reports, as a plugin's file stem would be.
    fn name(&self) -> &str;
    /// Decides what to change, seeing the request as the strategies before it left it.
    fn transform(&self, request: &ImportRequest, working: &Working)
    -> Result<Contribution, String>;
}

impl PluginSet {
    /// A set of native strategies, run in order (benchmark only).
    #[doc(hidden)]
    pub fn native(strategies: Vec<Box<dyn NativeStrategy>>) -> Self {
        let mut set = Self::empty();
        set.natives = strategies
            .into_iter()
            .map(|strategy| (strategy.name().into(), strategy))
            .collect();
        set
    }

    /// Whether this set runs native strategies instead of plugins.
    pub fn is_native(&self) -> bool {
        !self.natives.is_empty()
    }

    /// Runs the native strategies on the calling thread: they take microseconds and cannot
    /// loop, so unlike plugins they need neither a fiber that yields nor a deadline.
    pub(super) fn run_native(&self, request: &ImportRequest) -> PipelineRun {
        let mut working = Working::from_request(request);
        let mut reports = Vec::with_capacity(self.natives.len());
        for (name, strategy) in &self.natives {
            let started = Instant::now();
            let result = strategy.transform(request, &working);
            let stats = CallStats {
                elapsed: started.elapsed(),
                ..CallStats::default()
            };
            match result {
                Ok(contribution) => {
                    reports.push(PluginReport::accepted(name.clone(), stats, &contribution));
                    working.apply(contribution);
                }
                Err(_) => reports.push(PluginReport::failed(
                    name.clone(),
                    stats,
                    FailureKind::PluginError,
                )),
            }
        }
        self.finish(request, &working, reports)
    }
}
