//! The isolation seam: how one plugin call runs. [`Isolation`] is the one boundary the
//! pipeline loop calls through; behind it a call gets a fresh instance ([`PerCall`], the
//! default: nothing survives a call), a kept instance ([`Warm`], opt-in: discarded on any
//! failure), or runs compiled into the host ([`Native`], the benchmark's limit). This module
//! holds what the wasm modes share: the [`Blueprint`] an instance is made from, one call on an
//! instance, and how a failed call is classified.
//!
//! Calls are async: a plugin runs on a fiber on the calling tokio worker, with no thread hop,
//! and gives the worker back at every epoch tick, so plugins that loop share the workers with
//! the other requests, a tick at a time, until their deadline traps them.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::Resource;
use wasmtime::{Engine, Store, Trap, UpdateDeadline};

use super::bindings;
use super::bindings::plugin::types;
use super::bindings::{GrantedPlugin as Plugin, GrantedPluginPre as PluginPre};
use super::working::{Contribution, InvalidContribution, Working};
use crate::engine::capability::config::ConfigCap;
use crate::engine::capability::{Grants, InstanceData};

/// Above this peak, a store is dropped on a blocking thread: returning a large memory to the
/// pool (reset, decommit) is kernel work that must not hold up a worker.
const LARGE_MEMORY_BYTES: usize = 8 << 20;

/// How a plugin call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Ran past its deadline.
    Timeout,
    /// Tried to grow memory past its cap.
    MemoryExceeded,
    /// Panicked.
    Panic,
    /// Trapped (unreachable, out-of-bounds access, stack overflow…).
    Trap,
    /// Returned `err`.
    PluginError,
    /// Returned an outcome the host refuses.
    InvalidOutput,
    /// Could not be instantiated.
    Instantiate,
    /// The memory budget all plugins share could not cover the call.
    Overloaded,
}

impl FailureKind {
    /// Label for logs, reports and Okta's `errorCauses[].reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::MemoryExceeded => "memory_exceeded",
            Self::Panic => "panic",
            Self::Trap => "trap",
            Self::PluginError => "plugin_error",
            Self::InvalidOutput => "invalid_output",
            Self::Instantiate => "instantiate_failed",
            Self::Overloaded => "overloaded",
        }
    }
}

/// A failed call: its kind, and what the plugin said about it (its `err` text or its panic
/// message). The message may hold personal data: it goes to `importhook try`'s report, never
/// to Okta, and into logs only where the operator asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What went wrong.
    pub kind: FailureKind,
    /// The plugin's own words, truncated to 1 KiB.
    pub message: Option<String>,
}

impl From<FailureKind> for Failure {
    fn from(kind: FailureKind) -> Self {
        Self {
            kind,
            message: None,
        }
    }
}

/// What one call cost.
#[derive(Debug, Clone, Default)]
pub struct CallStats {
    /// Wall time, instantiation included.
    pub elapsed: Duration,
    /// Wasm instructions executed (fuel), when the runtime is metered (`importhook try`).
    pub instructions: Option<u64>,
    /// Largest linear memory size reached.
    pub peak_memory_bytes: usize,
    /// Payload bytes the plugin read from the request.
    pub bytes_read: usize,
    /// Payload bytes of the outcome it returned.
    pub bytes_returned: usize,
    /// Whether a kept (warm) instance served the call.
    pub warm: bool,
}

impl Failure {
    /// A contribution the pipeline refuses (see [`Working::check`]).
    pub fn invalid_output(refused: impl std::fmt::Display) -> Self {
        Self {
            kind: FailureKind::InvalidOutput,
            message: Some(refused.to_string()),
        }
    }
}

/// The result of one call: an accepted contribution, or why there is none.
pub type CallResult = Result<Contribution, Failure>;

/// The pipeline's check of a contribution against the request as the plugins before left it
/// ([`Working::check`]). The pipeline loop passes it to every call, whatever the isolation
/// mode: the mode only applies it, so that a warm instance whose output is refused is
/// discarded like any other failed one.
pub type Check<'a> = &'a (dyn Fn(&Contribution) -> Result<(), InvalidContribution> + Sync);

/// Applies the pipeline's `check` to what a call returned.
pub fn checked(result: CallResult, check: Check<'_>) -> CallResult {
    let contribution = result?;
    check(&contribution).map_err(Failure::invalid_output)?;
    Ok(contribution)
}

/// The call boundary every isolation mode implements.
pub trait Isolation {
    /// Runs the strategy on `request`, for at most `timeout`, keeping at most `log_lines` of
    /// its log lines, and accepts its contribution only if `check` does.
    fn call(
        &self,
        request: &Arc<Working>,
        timeout: Duration,
        log_lines: u32,
        check: Check<'_>,
    ) -> impl Future<Output = (CallResult, CallStats)> + Send;
}

/// What every wasm mode needs to make an instance.
pub struct Blueprint {
    /// The engine (and its pool).
    pub engine: Engine,
    /// The pre-linked component.
    pub pre: PluginPre<InstanceData>,
    /// The plugin's configuration.
    pub config: ConfigCap,
    /// What its manifest grants.
    pub grants: Grants,
    /// Memory cap.
    pub memory_bytes: usize,
    /// The memory budget every instance shares.
    pub budget: Arc<crate::engine::capability::budget::MemoryBudget>,
    /// Count instructions (fuel).
    pub metered: bool,
    /// The epoch ticker: each store keeps it ticking while it may run wasm.
    pub ticker: Arc<crate::engine::epoch::EpochTicker>,
}

impl Blueprint {
    fn store(&self, log_lines: u32) -> Store<InstanceData> {
        let data = InstanceData::new(
            self.config.clone(),
            self.grants.clone(),
            self.memory_bytes,
            self.budget.clone(),
            log_lines,
            self.ticker.ticking(),
        );
        let mut store = Store::new(&self.engine, data);
        store.limiter_async(|data| &mut data.limiter);
        // At every tick: trap once the deadline has passed, else hand the worker thread back
        // to the other requests and go on at the next tick. tokio's `yield_now` lets the
        // runtime poll for I/O first; a plain wake-up would requeue the call ahead of it.
        store.epoch_deadline_callback(|ctx| {
            Ok(if Instant::now() >= ctx.data().deadline {
                UpdateDeadline::Interrupt
            } else {
                UpdateDeadline::YieldCustom(1, Box::pin(tokio::task::yield_now()))
            })
        });
        if self.metered {
            // A metered store starts without fuel: instantiation would trap before any call.
            let _ = store.set_fuel(u64::MAX);
        }
        store
    }

    async fn instantiate(
        &self,
        deadline: Instant,
        log_lines: u32,
    ) -> Result<Instance, (Store<InstanceData>, wasmtime::Error)> {
        let mut store = self.store(log_lines);
        // A start function runs under the call's deadline too, and so does waiting for
        // memory to start in.
        store.data_mut().deadline = deadline;
        store.data_mut().limiter.deadline = deadline;
        store.set_epoch_deadline(1);
        match self.pre.instantiate_async(&mut store).await {
            Ok(plugin) => Ok(Instance {
                store,
                plugin,
                calls: 0,
            }),
            Err(e) => Err((store, e)),
        }
    }
}

impl Blueprint {
    /// The same plugin with its granted services replaced by scratch ones: for its load-time
    /// checks, which must not use up a number or a claim of the real store, nor spend a call
    /// of the Okta org's rate limit.
    pub fn for_probe(&self, services: &crate::engine::Services) -> anyhow::Result<Self> {
        Ok(Self {
            engine: self.engine.clone(),
            pre: self.pre.clone(),
            config: self.config.clone(),
            grants: self.grants.on(self.config.plugin(), services)?,
            memory_bytes: self.memory_bytes,
            budget: self.budget.clone(),
            metered: self.metered,
            ticker: self.ticker.clone(),
        })
    }

    /// Asks a fresh instance whether it accepts its `[config]` (the `validate-config`
    /// export). `Err` holds the plugin's reason, or why the call itself failed.
    pub async fn validate_config(&self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        let run = async {
            let mut instance = self
                .instantiate(deadline, 0)
                .await
                .map_err(|(store, e)| classify(&e, store.data(), FailureKind::Instantiate))?;
            instance.begin_call("importhook-validate-config", deadline, 0, self.metered);
            let strategy = instance.plugin.importhook_plugin_strategy();
            match strategy.call_validate_config(&mut instance.store).await {
                Ok(answer) => Ok(answer),
                Err(e) => Err(classify(&e, instance.store.data(), FailureKind::Trap)),
            }
        };
        match tokio::time::timeout(timeout, run).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(failure)) => Err(format!(
                "validate-config failed ({}{})",
                failure.kind.as_str(),
                failure
                    .message
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            )),
            Err(_elapsed) => Err("validate-config ran past the plugin's deadline".to_owned()),
        }
    }
}

/// One instance of a plugin and its store.
struct Instance {
    store: Store<InstanceData>,
    plugin: Plugin,
    calls: u32,
}

impl Instance {
    fn begin_call(&mut self, event: &str, deadline: Instant, log_lines: u32, metered: bool) {
        self.store.data_mut().begin_call(event, deadline, log_lines);
        self.store.set_epoch_deadline(1);
        if metered {
            let _ = self.store.set_fuel(u64::MAX);
        }
    }

    /// Hands the request to the plugin's `transform` export as a borrowed handle and takes it
    /// back afterwards.
    async fn call_transform(
        &mut self,
        request: &Arc<Working>,
    ) -> wasmtime::Result<Result<types::Outcome, String>> {
        let handle = self.store.data_mut().request.push(request.clone())?;
        let borrowed = Resource::new_borrow(handle.rep());
        let result = self
            .plugin
            .importhook_plugin_strategy()
            .call_transform(&mut self.store, borrowed)
            .await;
        self.store.data_mut().request.remove(handle);
        self.calls += 1;
        result
    }

    fn stats(&self, started: Instant, metered: bool, warm: bool, returned: usize) -> CallStats {
        let data = self.store.data();
        CallStats {
            elapsed: started.elapsed(),
            instructions: metered.then(|| u64::MAX - self.store.get_fuel().unwrap_or(u64::MAX)),
            peak_memory_bytes: data.limiter.peak_bytes,
            bytes_read: data.request.bytes_read,
            bytes_returned: returned,
            warm,
        }
    }

    /// Drops the instance, off the worker when it holds a large memory.
    fn discard(self) {
        if self.store.data().limiter.peak_bytes > LARGE_MEMORY_BYTES {
            tokio::task::spawn_blocking(move || drop(self));
        }
    }
}

/// Classifies a wasmtime error of a call into a failure.
fn classify(error: &wasmtime::Error, data: &InstanceData, otherwise: FailureKind) -> Failure {
    if data.limiter.exceeded {
        return FailureKind::MemoryExceeded.into();
    }
    if data.limiter.overloaded {
        return FailureKind::Overloaded.into();
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => FailureKind::Timeout.into(),
        Some(_) if data.log.panic.is_some() => Failure {
            kind: FailureKind::Panic,
            message: data.log.panic.clone(),
        },
        Some(_) if data.wasi.saw_panic() => FailureKind::Panic.into(),
        Some(_) => FailureKind::Trap.into(),
        None => otherwise.into(),
    }
}

/// Converts what a wasm plugin returned into a contribution, refusing values outside the
/// caps ([`bindings::contribution`]); the pipeline's `check` comes after.
fn accept_outcome(outcome: Result<types::Outcome, String>) -> (CallResult, usize) {
    match outcome {
        Ok(outcome) => {
            let returned = bindings::outcome_size(&outcome);
            let converted = bindings::contribution(outcome).map_err(Failure::invalid_output);
            (converted, returned)
        }
        Err(message) => {
            let returned = message.len();
            let failure = Failure {
                kind: FailureKind::PluginError,
                message: Some(
                    crate::engine::capability::log::truncate(
                        &message,
                        crate::engine::capability::log::MAX_LOG_BYTES,
                    )
                    .to_owned(),
                ),
            };
            (Err(failure), returned)
        }
    }
}

/// Runs one call on `instance` (already instantiated) until `deadline`, and applies the
/// pipeline's `check` to its outcome. The epoch callback stops a plugin that computes; the timer stops one that waits
/// in a WASI call (a clock poll), where wasm runs no epoch check. Dropping the call unwinds
/// its fiber.
async fn run(
    instance: &mut Instance,
    request: &Arc<Working>,
    deadline: Instant,
    log_lines: u32,
    metered: bool,
    check: Check<'_>,
) -> (CallResult, usize) {
    instance.begin_call(request.event_id(), deadline, log_lines, metered);
    match tokio::time::timeout_at(deadline.into(), instance.call_transform(request)).await {
        Ok(Ok(outcome)) => {
            let (result, returned) = accept_outcome(outcome);
            (checked(result, check), returned)
        }
        Ok(Err(e)) => (
            Err(classify(&e, instance.store.data(), FailureKind::Trap)),
            0,
        ),
        Err(_elapsed) => (Err(FailureKind::Timeout.into()), 0),
    }
}

mod native;
mod per_call;
mod warm;

pub use native::{Native, NativeStrategy};
pub use per_call::PerCall;
pub use warm::{MAX_WARM_INSTANCES, Warm};
