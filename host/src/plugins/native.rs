//! Strategies compiled into the host, without a sandbox: the seam's third implementation.
//! They exist for one reason: the native-limit benchmark (`bench/native-limit`), which
//! measures what this server stack costs with the same strategies and no wasm. They run
//! through the same pipeline loop as plugins (deadline and `on_error` included); a
//! production build never loads them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::isolation::{CallResult, CallStats, Failure, FailureKind, Isolation};
use super::{Calls, Contribution, LoadedPlugin, Manifest, PluginSet, RequestState};

/// A strategy running natively in the host process (benchmark only: no isolation at all).
#[doc(hidden)]
pub trait NativeStrategy: Send + Sync + std::fmt::Debug {
    /// Name in reports, as a plugin's file stem would be.
    fn name(&self) -> &str;
    /// Decides what to change, seeing the request as the strategies before it left it.
    fn transform(&self, request: &RequestState) -> Result<Contribution, String>;
}

/// The native seam: a direct call, on the calling task.
pub(super) struct Native(Box<dyn NativeStrategy>);

impl Isolation for Native {
    async fn call(
        &self,
        request: &Arc<RequestState>,
        _timeout: Duration,
        _log_lines: u32,
    ) -> (CallResult, CallStats) {
        // Native strategies take microseconds and cannot loop: no fiber, no deadline check.
        let started = Instant::now();
        let result = self
            .0
            .transform(request)
            .map_err(|message| Failure {
                kind: FailureKind::PluginError,
                message: Some(message),
            })
            .and_then(|contribution| match request.check(&contribution) {
                Ok(()) => Ok(contribution),
                Err(refused) => Err(Failure {
                    kind: FailureKind::InvalidOutput,
                    message: Some(refused.to_string()),
                }),
            });
        let stats = CallStats {
            elapsed: started.elapsed(),
            ..CallStats::default()
        };
        (result, stats)
    }
}

impl PluginSet {
    /// A set of native strategies, run in order (benchmark only).
    #[doc(hidden)]
    pub fn native(strategies: Vec<Box<dyn NativeStrategy>>) -> Self {
        let mut set = Self::empty();
        set.plugins = strategies
            .into_iter()
            .map(|strategy| LoadedPlugin {
                name: strategy.name().into(),
                calls: Calls::Native(Native(strategy)),
                manifest: Manifest::default(),
                interface_version: super::INTERFACE_VERSION.to_owned(),
                imports: Vec::new(),
            })
            .collect();
        set
    }
}
