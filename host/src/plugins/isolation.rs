//! The isolation seam: how one plugin call runs. [`Isolation`] is the one boundary the
//! pipeline loop calls through; behind it a call gets a fresh instance ([`PerCall`], the
//! default: nothing survives a call), a kept instance ([`Warm`], opt-in: discarded on any
//! failure), or runs compiled into the host (`native`, the benchmark's limit).
//!
//! Calls are async: a plugin runs on a fiber on the calling tokio worker, with no thread hop,
//! and gives the worker back at every epoch tick, so plugins that loop share the workers with
//! the other requests, a tick at a time, until their deadline traps them.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmtime::component::Resource;
use wasmtime::{Engine, Store, Trap, UpdateDeadline};

use super::bindings::importhook::plugin::types;
use super::bindings::{GrantedPlugin as Plugin, GrantedPluginPre as PluginPre};
use super::capability::CallState;
use super::capability::config::ConfigState;
use super::capability::request::RequestState;
use super::convert;
use super::merge::Contribution;

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

/// The result of one call: a validated contribution, or why there is none.
pub type CallResult = Result<Contribution, Failure>;

/// The call boundary every isolation mode implements.
pub trait Isolation {
    /// Runs the strategy on `request`, for at most `timeout`, keeping at most `log_lines` of
    /// its log lines.
    fn call(
        &self,
        request: &Arc<RequestState>,
        timeout: Duration,
        log_lines: u32,
    ) -> impl Future<Output = (CallResult, CallStats)> + Send;
}

/// What every wasm mode needs to make an instance.
pub struct Blueprint {
    /// The engine (and its pool).
    pub engine: Engine,
    /// The pre-linked component.
    pub pre: PluginPre<CallState>,
    /// The plugin's configuration.
    pub config: ConfigState,
    /// Its state namespace, when its manifest grants `state`.
    pub state: Option<super::capability::state::StateAccess>,
    /// Its Okta lookups, when its manifest grants `directory`.
    pub directory: Option<super::capability::directory::DirectoryAccess>,
    /// Memory cap.
    pub memory_bytes: usize,
    /// The memory budget every instance shares.
    pub budget: Arc<super::capability::budget::MemoryBudget>,
    /// Count instructions (fuel).
    pub metered: bool,
}

impl Blueprint {
    fn store(&self, log_lines: u32) -> Store<CallState> {
        let state = CallState::new(
            self.config.clone(),
            self.state.clone(),
            self.directory.clone(),
            self.memory_bytes,
            self.budget.clone(),
            log_lines,
        );
        let mut store = Store::new(&self.engine, state);
        store.limiter_async(|state| &mut state.limiter);
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
    ) -> Result<Instance, (Store<CallState>, wasmtime::Error)> {
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
    pub fn for_probe(&self, services: &super::Services) -> anyhow::Result<Self> {
        let state = match &self.state {
            None => None,
            Some(_) => Some(super::capability::state::StateAccess::new(
                self.config.plugin().clone(),
                services.state()?,
                services.state_metrics.clone(),
            )),
        };
        let directory = self.directory.as_ref().map(|_| services.directory_access());
        Ok(Self {
            engine: self.engine.clone(),
            pre: self.pre.clone(),
            config: self.config.clone(),
            state,
            directory,
            memory_bytes: self.memory_bytes,
            budget: self.budget.clone(),
            metered: self.metered,
        })
    }

    /// Asks a fresh instance whether it accepts its `[config]` (the `validate-config`
    /// export). `Err` holds the plugin's reason, or why the call itself failed.
    pub async fn validate_config(&self, timeout: std::time::Duration) -> Result<(), String> {
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
    store: Store<CallState>,
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

    /// Hands the request to `transform` as a borrowed handle and takes it back afterwards.
    async fn transform(
        &mut self,
        request: &Arc<RequestState>,
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
        let state = self.store.data();
        CallStats {
            elapsed: started.elapsed(),
            instructions: metered.then(|| u64::MAX - self.store.get_fuel().unwrap_or(u64::MAX)),
            peak_memory_bytes: state.limiter.peak_bytes,
            bytes_read: state.request.bytes_read,
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
fn classify(error: &wasmtime::Error, state: &CallState, otherwise: FailureKind) -> Failure {
    if state.limiter.exceeded {
        return FailureKind::MemoryExceeded.into();
    }
    if state.limiter.overloaded {
        return FailureKind::Overloaded.into();
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => FailureKind::Timeout.into(),
        Some(_) if state.log.panic.is_some() => Failure {
            kind: FailureKind::Panic,
            message: state.log.panic.clone(),
        },
        Some(_) if state.wasi.saw_panic() => FailureKind::Panic.into(),
        Some(_) => FailureKind::Trap.into(),
        None => otherwise.into(),
    }
}

/// Checks what a plugin returned, the same whatever ran it.
pub fn accept_outcome(
    outcome: Result<types::Outcome, String>,
    request: &RequestState,
) -> (CallResult, usize) {
    match outcome {
        Ok(outcome) => {
            let returned = convert::outcome_size(&outcome);
            let checked = convert::contribution(outcome, request).map_err(|e| Failure {
                kind: FailureKind::InvalidOutput,
                message: Some(e.to_string()),
            });
            (checked, returned)
        }
        Err(message) => {
            let returned = message.len();
            let failure = Failure {
                kind: FailureKind::PluginError,
                message: Some(
                    super::capability::log::truncate(
                        &message,
                        super::capability::log::MAX_LOG_BYTES,
                    )
                    .to_owned(),
                ),
            };
            (Err(failure), returned)
        }
    }
}

/// Runs one call on `instance` (already instantiated) until `deadline`, and checks its
/// outcome. The epoch callback stops a plugin that computes; the timer stops one that waits
/// in a WASI call (a clock poll), where wasm runs no epoch check. Dropping the call unwinds
/// its fiber.
async fn run(
    instance: &mut Instance,
    request: &Arc<RequestState>,
    deadline: Instant,
    log_lines: u32,
    metered: bool,
) -> (CallResult, usize) {
    instance.begin_call(request.event_id(), deadline, log_lines, metered);
    match tokio::time::timeout_at(deadline.into(), instance.transform(request)).await {
        Ok(Ok(outcome)) => accept_outcome(outcome, request),
        Ok(Err(e)) => (
            Err(classify(&e, instance.store.data(), FailureKind::Trap)),
            0,
        ),
        Err(_elapsed) => (Err(FailureKind::Timeout.into()), 0),
    }
}

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
        request: &Arc<RequestState>,
        timeout: Duration,
        log_lines: u32,
    ) -> (CallResult, CallStats) {
        let started = Instant::now();
        match self.blueprint.start(started, timeout, log_lines).await {
            Ok(instance) => {
                self.blueprint
                    .run_once(instance, request, started, timeout, log_lines)
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
        request: &Arc<RequestState>,
        timeout: Duration,
    ) -> (CallResult, CallStats) {
        let started = Instant::now();
        match self.start(started, timeout, 0).await {
            Ok(instance) => self.run_once(instance, request, started, timeout, 0).await,
            Err(failed) => failed,
        }
    }

    /// A new instance for a call that started at `started` and may last `timeout`, or the
    /// call's failed result when the instance cannot start in time.
    async fn start(
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
    async fn run_once(
        &self,
        mut instance: Instance,
        request: &Arc<RequestState>,
        started: Instant,
        timeout: Duration,
        log_lines: u32,
    ) -> (CallResult, CallStats) {
        let (result, returned) = run(
            &mut instance,
            request,
            started + timeout,
            log_lines,
            self.metered,
        )
        .await;
        let stats = instance.stats(started, self.metered, false, returned);
        instance.discard();
        (result, stats)
    }
}

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

    /// Keeps `instance` for the next call if it may serve more and there is room.
    fn keep_or_discard(&self, instance: Instance) {
        if instance.calls < self.max_calls
            && let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE_PER_PLUGIN
        {
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
        request: &Arc<RequestState>,
        timeout: Duration,
        log_lines: u32,
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
                            .run_once(instance, request, started, timeout, log_lines)
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
        let (result, returned) = run(&mut instance, request, deadline, log_lines, metered).await;
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
