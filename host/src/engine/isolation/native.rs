//! Strategies compiled into the host, without a sandbox: the seam's third implementation.
//! They exist for one reason: the native-limit benchmark (`bench/native-limit`), which
//! measures what this server stack costs with the same strategies and no wasm. They run
//! through the same pipeline loop as plugins (deadline, output check and `on_error`
//! included); a production build never loads them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{CallResult, CallStats, Check, Failure, FailureKind, Isolation, checked};
use crate::engine::working::{Contribution, Working};

/// A strategy running natively in the host process (benchmark only: no isolation at all).
#[doc(hidden)]
pub trait NativeStrategy: Send + Sync + std::fmt::Debug {
    /// Name in reports, as a plugin's file stem would be.
    fn name(&self) -> &str;
    /// Decides what to change, seeing the request as the strategies before it left it (the
    /// native counterpart of a plugin's `transform` export).
    fn transform(&self, request: &Working) -> Result<Contribution, String>;
}

/// The native seam: a direct call, on the calling task.
pub struct Native(pub Box<dyn NativeStrategy>);

impl Isolation for Native {
    async fn call(
        &self,
        request: &Arc<Working>,
        _timeout: Duration,
        _log_lines: u32,
        check: Check<'_>,
    ) -> (CallResult, CallStats) {
        // Native strategies cannot loop past a deadline the way untrusted code may: no fiber,
        // no deadline check.
        let started = Instant::now();
        let result = self.0.transform(request).map_err(|message| Failure {
            kind: FailureKind::PluginError,
            message: Some(message),
        });
        let result = checked(result, check);
        let stats = CallStats {
            elapsed: started.elapsed(),
            ..CallStats::default()
        };
        (result, stats)
    }
}
