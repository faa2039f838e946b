//! Warm isolation (opt-in per manifest): instances kept between calls of one plugin, each
//! serving at most `max_calls`, and discarded on any failure.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Blueprint, CallResult, CallStats, Check, Instance, Isolation, run};
use crate::engine::working::Working;

/// How many warm instances the whole runtime keeps alive at once (each holds a slot of the
/// instance pool while idle). Past it, a warm plugin's call runs in a fresh instance.
pub const MAX_WARM_INSTANCES: usize = 64;

/// Warm instances kept per plugin while idle.
const MAX_IDLE_PER_PLUGIN: usize = 8;

/// Kept instances of one plugin, reused call after call; any failure discards one.
pub struct Warm {
    blueprint: Blueprint,
    idle: Mutex<Vec<Instance>>,
    max_calls: u32,
    /// Warm instances alive in the whole runtime (idle or in a call).
    live: Arc<AtomicUsize>,
}

impl Warm {
    /// Warm calls of `blueprint`, each instance serving at most `max_calls` calls; `live`
    /// counts the runtime's warm instances against [`MAX_WARM_INSTANCES`].
    pub fn new(blueprint: Blueprint, max_calls: u32, live: Arc<AtomicUsize>) -> Self {
        Self {
            blueprint,
            idle: Mutex::new(Vec::new()),
            max_calls,
            live,
        }
    }

    fn take_idle(&self) -> Option<Instance> {
        self.idle.lock().ok()?.pop()
    }

    /// Keeps `instance` for the next call if it may serve more and there is room. Kept idle,
    /// it runs no wasm, so it does not keep the epoch ticker awake.
    fn keep_or_discard(&self, mut instance: Instance) {
        if instance.calls < self.max_calls
            && let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE_PER_PLUGIN
        {
            instance.store.data_mut().pause_ticking();
            idle.push(instance);
            return;
        }
        self.live.fetch_sub(1, Ordering::AcqRel);
        instance.discard();
    }

    /// Counts a new warm instance in, if the runtime-wide bound allows one.
    fn admit(&self) -> bool {
        let admitted = self.live.fetch_add(1, Ordering::AcqRel) < MAX_WARM_INSTANCES;
        if !admitted {
            self.live.fetch_sub(1, Ordering::AcqRel);
        }
        admitted
    }
}

impl Drop for Warm {
    fn drop(&mut self) {
        // A reload drops the old set: its kept instances leave the runtime-wide count.
        let kept = self.idle.get_mut().map(|idle| idle.len()).unwrap_or(0);
        self.live.fetch_sub(kept, Ordering::AcqRel);
    }
}

impl Isolation for Warm {
    async fn call(
        &self,
        request: &Arc<Working>,
        timeout: Duration,
        log_lines: u32,
        check: Check<'_>,
    ) -> (CallResult, CallStats) {
        let started = Instant::now();
        let metered = self.blueprint.metered;
        let (mut instance, reused) = match self.take_idle() {
            Some(instance) => (instance, true),
            None => {
                let admitted = self.admit();
                match self.blueprint.start(started, timeout, log_lines).await {
                    Ok(instance) if admitted => (instance, false),
                    // No room for another warm instance: this call runs in a fresh one.
                    Ok(instance) => {
                        return self
                            .blueprint
                            .run_once(instance, request, started, timeout, log_lines, check)
                            .await;
                    }
                    Err(failed) => {
                        if admitted {
                            self.live.fetch_sub(1, Ordering::AcqRel);
                        }
                        return failed;
                    }
                }
            }
        };
        let deadline = started + timeout;
        let (result, returned) =
            run(&mut instance, request, deadline, log_lines, metered, check).await;
        let stats = instance.stats(started, metered, reused, returned);
        if result.is_ok() {
            self.keep_or_discard(instance);
        } else {
            // A trap, a timeout, an `err` or a memory bomb: whatever state led there goes.
            self.live.fetch_sub(1, Ordering::AcqRel);
            instance.discard();
        }
        (result, stats)
    }
}
