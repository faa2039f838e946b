//! The default isolation: a fresh instance for every call, so nothing a call leaves in its
//! instance reaches the next one.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{
    Blueprint, CallResult, CallStats, Check, FailureKind, Instance, Isolation, classify, run,
};
use crate::engine::working::Working;

/// A fresh instance for every call (the default).
pub struct PerCall {
    blueprint: Blueprint,
}

impl PerCall {
    /// Calls of `blueprint`, each in an instance of its own.
    pub fn new(blueprint: Blueprint) -> Self {
        Self { blueprint }
    }
}

impl Isolation for PerCall {
    async fn call(
        &self,
        request: &Arc<Working>,
        timeout: Duration,
        log_lines: u32,
        check: Check<'_>,
    ) -> (CallResult, CallStats) {
        let started = Instant::now();
        match self.blueprint.start(started, timeout, log_lines).await {
            Ok(instance) => {
                self.blueprint
                    .run_once(instance, request, started, timeout, log_lines, check)
                    .await
            }
            Err(failed) => failed,
        }
    }
}

impl Blueprint {
    /// One call in a fresh instance, its log lines muted (the load-time probe).
    pub async fn call_once(
        &self,
        request: &Arc<Working>,
        timeout: Duration,
        check: Check<'_>,
    ) -> (CallResult, CallStats) {
        let started = Instant::now();
        match self.start(started, timeout, 0).await {
            Ok(instance) => {
                self.run_once(instance, request, started, timeout, 0, check)
                    .await
            }
            Err(failed) => failed,
        }
    }

    /// A new instance for a call that started at `started` and may last `timeout`, or the
    /// call's failed result when the instance cannot start in time.
    pub(super) async fn start(
        &self,
        started: Instant,
        timeout: Duration,
        log_lines: u32,
    ) -> Result<Instance, (CallResult, CallStats)> {
        let deadline = started + timeout;
        let instantiated =
            tokio::time::timeout_at(deadline.into(), self.instantiate(deadline, log_lines)).await;
        let (failure, peak_memory_bytes) = match instantiated {
            Ok(Ok(instance)) => return Ok(instance),
            Ok(Err((store, e))) => (
                classify(&e, store.data(), FailureKind::Instantiate),
                store.data().limiter.peak_bytes,
            ),
            Err(_elapsed) => (FailureKind::Timeout.into(), 0),
        };
        let stats = CallStats {
            elapsed: started.elapsed(),
            peak_memory_bytes,
            ..CallStats::default()
        };
        Err((Err(failure), stats))
    }

    /// One call on `instance`, which is dropped afterwards.
    pub(super) async fn run_once(
        &self,
        mut instance: Instance,
        request: &Arc<Working>,
        started: Instant,
        timeout: Duration,
        log_lines: u32,
        check: Check<'_>,
    ) -> (CallResult, CallStats) {
        let (result, returned) = run(
            &mut instance,
            request,
            started + timeout,
            log_lines,
            self.metered,
            check,
        )
        .await;
        let stats = instance.stats(started, self.metered, false, returned);
        instance.discard();
        (result, stats)
    }
}
