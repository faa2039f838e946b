//! The wasmtime side: one `Engine` (pooling allocator, epoch interruption driven by a ticker
//! thread), compilation with an on-disk artifact cache, and one sandboxed plugin call in a
//! fresh `Store` with a deadline, a memory cap and an empty, deterministic WASI context.
//!
//! Calls are async: the plugin runs on a fiber on the calling tokio worker, with no thread
//! hop, and gives the worker back at every epoch tick, so plugins that loop share the workers
//! with the other requests, a tick at a time, until their deadline traps them.

use std::future::Future;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use ring::digest::{SHA256, digest};
use tokio::sync::{Semaphore, SemaphorePermit};
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap,
    UpdateDeadline,
};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::importhook::plugin::host::{self, Level};
use super::bindings::importhook::plugin::types::{self, Attribute};
use super::bindings::{Plugin, PluginPre};
use super::manifest::MAX_MEMORY_MIB;

/// wasmtime 48 has its own error type; this brings it into `anyhow` for context chains.
trait IntoAnyhow<T> {
    fn anyhow(self) -> anyhow::Result<T>;
}

impl<T> IntoAnyhow<T> for wasmtime::Result<T> {
    fn anyhow(self) -> anyhow::Result<T> {
        self.map_err(anyhow::Error::from)
    }
}

/// How often the epoch advances; deadlines are whole ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);
/// Memory kept resident per pooled slot between calls.
const KEEP_RESIDENT_BYTES: usize = 2 << 20;
/// Pipelines that may run at once, whatever plugin set they run (one instance each at a time).
/// The pool holds twice as many instances: room for the plugin checks of a reload and for
/// large memories still being returned (see `LARGE_MEMORY_BYTES`).
pub const MAX_CONCURRENT_CALLS: u32 = 64;
/// Above this peak, a call's store is dropped on a blocking thread: returning a large memory
/// to the pool (reset, decommit) is kernel work that must not hold up a worker.
const LARGE_MEMORY_BYTES: usize = 8 << 20;
/// Longest plugin log line kept.
const MAX_LOG_BYTES: usize = 1024;
/// Most log lines kept per call.
const MAX_LOG_LINES: u32 = 32;
/// Panic messages are read from stderr to tell a panic from another trap; nothing more is kept.
const STDERR_CAPTURE_BYTES: usize = 4096;

/// The shared engine and linker every plugin set is built with.
pub struct Runtime {
    engine: Engine,
    linker: Linker<CallState>,
    cache_dir: Option<PathBuf>,
    metered: bool,
    /// Bounds running pipelines to what the instance pool holds, across plugin sets: during a
    /// reload the old and the new set share it.
    pipelines: Semaphore,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("cache_dir", &self.cache_dir)
            .field("metered", &self.metered)
            .finish()
    }
}

/// Per-call host state. Nothing in it outlives the call.
pub struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: MemoryLimiter,
    plugin: Arc<str>,
    config: Arc<Vec<Attribute>>,
    log_lines_left: u32,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for CallState {}

impl host::Host for CallState {
    fn log(&mut self, level: Level, message: String) {
        if self.log_lines_left == 0 {
            return;
        }
        self.log_lines_left -= 1;
        let mut end = message.len().min(MAX_LOG_BYTES);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let (plugin, message) = (&*self.plugin, &message[..end]);
        match level {
            Level::Trace => tracing::trace!(target: "importhook::plugin", plugin, "{message}"),
            Level::Debug => tracing::debug!(target: "importhook::plugin", plugin, "{message}"),
            Level::Info => tracing::info!(target: "importhook::plugin", plugin, "{message}"),
            Level::Warn => tracing::warn!(target: "importhook::plugin", plugin, "{message}"),
            Level::Error => tracing::error!(target: "importhook::plugin", plugin, "{message}"),
        }
    }

    fn config(&mut self) -> Vec<Attribute> {
        self.config.as_ref().clone()
    }
}

/// Enforces a plugin's memory cap and records its peak.
#[derive(Debug, Default)]
struct MemoryLimiter {
    max_bytes: usize,
    peak_bytes: usize,
    exceeded: bool,
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.exceeded = true;
            return Ok(false);
        }
        self.peak_bytes = self.peak_bytes.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 65_536)
    }
}

/// Fixed clocks: plugins see neither time nor its passing.
struct FrozenClock;

impl wasmtime_wasi::HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl wasmtime_wasi::HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

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
}

/// A plugin ready to be called: its pre-instantiated component and its limits.
pub struct Callable {
    /// Plugin name (file stem).
    pub name: Arc<str>,
    /// The `[config]` table as WIT attributes.
    pub config: Arc<Vec<Attribute>>,
    /// Deadline.
    pub timeout: Duration,
    /// Memory cap.
    pub memory_bytes: usize,
    pre: PluginPre<CallState>,
}

impl std::fmt::Debug for Callable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callable")
            .field("name", &self.name)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Runtime {
    /// An engine for serving. `metered` adds fuel counting (for `importhook try` reports).
    pub fn new(cache_dir: Option<PathBuf>, metered: bool) -> anyhow::Result<Arc<Self>> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        config.consume_fuel(metered);
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(MAX_CONCURRENT_CALLS * 2)
            // One fiber stack per call in flight (serving, plus loads checking new plugins).
            .total_stacks(MAX_CONCURRENT_CALLS * 2)
            .total_core_instances(MAX_CONCURRENT_CALLS * 16)
            .total_memories(MAX_CONCURRENT_CALLS * 4)
            .total_tables(MAX_CONCURRENT_CALLS * 8)
            .max_memories_per_component(4)
            .max_tables_per_component(8)
            .max_core_instances_per_component(16)
            .max_memory_size((MAX_MEMORY_MIB << 20) as usize)
            // Reset a freed slot's first pages by zeroing in place rather than madvise, so the
            // next call does not page-fault them back in (plugins use ~1 MiB per call).
            .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
            .table_keep_resident(64 * 1024)
            // Linux >= 6.7: reset only the pages a call dirtied (falls back when unsupported).
            .pagemap_scan(wasmtime::Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config)
            .anyhow()
            .context("cannot create the wasm engine")?;
        start_epoch_ticker(&engine)?;

        let mut linker = Linker::<CallState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .anyhow()
            .context("cannot link WASI")?;
        Plugin::add_to_linker::<_, HasSelf<CallState>>(&mut linker, |state| state)
            .anyhow()
            .context("cannot link host functions")?;
        Ok(Arc::new(Self {
            engine,
            linker,
            cache_dir,
            metered,
            pipelines: Semaphore::new(MAX_CONCURRENT_CALLS as usize),
        }))
    }

    /// Waits for room in the instance pool to run one pipeline; the room is given back when
    /// the permit drops. `None` only if the bound were ever closed (it is not).
    pub async fn pipeline_slot(&self) -> Option<SemaphorePermit<'_>> {
        self.pipelines.acquire().await.ok()
    }

    /// Whether calls count instructions (fuel).
    pub fn is_metered(&self) -> bool {
        self.metered
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Compiles `bytes`, reusing the on-disk artifact when one exists for this content and engine.
    pub fn compile(&self, bytes: &[u8]) -> anyhow::Result<Component> {
        let Some(dir) = &self.cache_dir else {
            return Component::new(&self.engine, bytes).anyhow();
        };
        let path = self.artifact_path(dir, bytes);
        if path.exists() {
            match self.load_artifact(&path) {
                Ok(component) => return Ok(component),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "ignoring unusable cached artifact")
                }
            }
        }
        let artifact = self.engine.precompile_component(bytes).anyhow()?;
        if let Err(e) = write_atomically(dir, &path, &artifact) {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot write the compile cache; continuing without it");
        }
        self.load_artifact_bytes(&artifact)
    }

    fn artifact_path(&self, dir: &Path, bytes: &[u8]) -> PathBuf {
        let content: String = digest(&SHA256, bytes)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.engine
            .precompile_compatibility_hash()
            .hash(&mut hasher);
        dir.join(format!("{content}-{:016x}.cwasm", hasher.finish()))
    }

    #[allow(unsafe_code)]
    fn load_artifact(&self, path: &Path) -> anyhow::Result<Component> {
        // SAFETY: artifacts are only ever written by `compile` above, through a temporary file
        // renamed into place, into a folder the operator gives this service alone; the file
        // name binds the wasm content hash and the engine's compatibility hash, and wasmtime
        // itself checks the header. The cache folder must not be writable by anyone else.
        unsafe { Component::deserialize_file(&self.engine, path) }.anyhow()
    }

    #[allow(unsafe_code)]
    fn load_artifact_bytes(&self, artifact: &[u8]) -> anyhow::Result<Component> {
        // SAFETY: `artifact` was produced by `precompile_component` of this very engine.
        unsafe { Component::deserialize(&self.engine, artifact) }.anyhow()
    }

    /// Checks that `component` links against the host and instantiates, and prepares it.
    pub fn prepare(
        &self,
        name: &str,
        component: &Component,
        config: Vec<Attribute>,
        timeout: Duration,
        memory_bytes: usize,
    ) -> anyhow::Result<Callable> {
        let instance_pre = self
            .linker
            .instantiate_pre(component)
            .anyhow()
            .context("it needs an import the host does not provide (plugins get only importhook:plugin/host and an empty WASI)")?;
        let pre = PluginPre::new(instance_pre)
            .anyhow()
            .context("it does not export the importhook:plugin/strategy interface")?;
        let callable = Callable {
            name: name.into(),
            config: Arc::new(config),
            timeout,
            memory_bytes,
            pre,
        };
        // Run it once now on a minimal request (logs muted), so a plugin that cannot start, or
        // traps whatever it is given, is refused at load rather than on every imported user.
        // An `err` answer is fine: it may well depend on the request.
        let (result, _) =
            block_on(self.call_with(&callable, &minimal_request(), callable.timeout, 0))?;
        match result {
            Ok(_) => {}
            Err(FailureKind::Instantiate) => anyhow::bail!("it fails to instantiate"),
            Err(kind) => anyhow::bail!(
                "it fails on a minimal request before any user is imported ({})",
                kind.as_str()
            ),
        }
        Ok(callable)
    }

    fn store_with_stderr(
        &self,
        callable: &Callable,
        stderr: MemoryOutputPipe,
        timeout: Duration,
        log_lines: u32,
    ) -> Store<CallState> {
        let wasi = WasiCtx::builder()
            .stderr(stderr)
            .wall_clock(FrozenClock)
            .monotonic_clock(FrozenClock)
            .secure_random(wasmtime_wasi::Deterministic::new(vec![0x5a; 32]))
            .insecure_random(wasmtime_wasi::Deterministic::new(vec![0xa5; 32]))
            .insecure_random_seed(0)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let state = CallState {
            wasi,
            table: ResourceTable::new(),
            limiter: MemoryLimiter {
                max_bytes: callable.memory_bytes,
                ..MemoryLimiter::default()
            },
            plugin: callable.name.clone(),
            config: callable.config.clone(),
            log_lines_left: log_lines,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limiter);
        // At every tick: trap once the deadline has passed, else hand the worker thread back
        // to the other requests and go on at the next tick. tokio's `yield_now` lets the
        // runtime poll for I/O first; a plain wake-up would requeue the call ahead of it.
        let deadline = Instant::now() + timeout;
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            Ok(if Instant::now() >= deadline {
                UpdateDeadline::Interrupt
            } else {
                UpdateDeadline::YieldCustom(1, Box::pin(tokio::task::yield_now()))
            })
        });
        if self.metered {
            let _ = store.set_fuel(u64::MAX);
        }
        store
    }

    /// Calls the plugin's `transform` in a fresh instance. Takes at most `timeout` (the
    /// plugin's own deadline, or less when the request's deadline is nearer), whether the
    /// plugin computes or waits in a WASI call. Needs a tokio runtime with its timer.
    pub async fn call(
        &self,
        callable: &Callable,
        request: &types::Request,
        timeout: Duration,
    ) -> (
        Result<Result<types::Outcome, String>, FailureKind>,
        CallStats,
    ) {
        self.call_with(callable, request, timeout, MAX_LOG_LINES)
            .await
    }

    async fn call_with(
        &self,
        callable: &Callable,
        request: &types::Request,
        timeout: Duration,
        log_lines: u32,
    ) -> (
        Result<Result<types::Outcome, String>, FailureKind>,
        CallStats,
    ) {
        let started = Instant::now();
        let stderr = MemoryOutputPipe::new(STDERR_CAPTURE_BYTES);
        let mut store = self.store_with_stderr(callable, stderr.clone(), timeout, log_lines);
        let run = async {
            match callable.pre.instantiate_async(&mut store).await {
                Err(e) => Err((e, FailureKind::Instantiate)),
                Ok(instance) => instance
                    .importhook_plugin_strategy()
                    .call_transform(&mut store, request)
                    .await
                    .map_err(|e| (e, FailureKind::Trap)),
            }
        };
        // The epoch callback stops a plugin that computes; this timer stops one that waits in
        // a WASI call (a clock poll), where wasm runs no epoch check. Dropping the call unwinds
        // its fiber; the store is dropped with it below.
        let result = match tokio::time::timeout(timeout, run).await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err((e, otherwise))) => Err(classify(&e, &store, &stderr).unwrap_or(otherwise)),
            Err(_elapsed) => Err(FailureKind::Timeout),
        };
        let stats = CallStats {
            elapsed: started.elapsed(),
            instructions: self
                .metered
                .then(|| u64::MAX - store.get_fuel().unwrap_or(u64::MAX)),
            peak_memory_bytes: store.data().limiter.peak_bytes,
        };
        if stats.peak_memory_bytes > LARGE_MEMORY_BYTES {
            tokio::task::spawn_blocking(move || drop(store));
        }
        (result, stats)
    }
}

/// Runs a plugin call to completion from synchronous code (loading, `importhook try`), on a
/// thread of its own with a one-thread tokio runtime: WASI's clocks need tokio's timer, and
/// the caller may itself be on a runtime's thread, where blocking on another is refused.
pub fn block_on<F>(future: F) -> anyhow::Result<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    std::thread::scope(|scope| {
        let worker = scope.spawn(|| -> anyhow::Result<F::Output> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .context("cannot start a runtime to run a plugin")?;
            Ok(runtime.block_on(future))
        });
        worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The smallest request a strategy can get: no attributes, no conflict, no match.
fn minimal_request() -> types::Request {
    types::Request {
        event_id: "importhook-load-check".to_owned(),
        app_user: Vec::new(),
        user: Vec::new(),
        matched_user_id: None,
        action: types::Action::CreateUser,
        link_target: None,
        conflicts: Vec::new(),
        matches: Vec::new(),
        policy: Vec::new(),
        application: None,
        job: None,
    }
}

fn classify(
    error: &wasmtime::Error,
    store: &Store<CallState>,
    stderr: &MemoryOutputPipe,
) -> Option<FailureKind> {
    if store.data().limiter.exceeded {
        return Some(FailureKind::MemoryExceeded);
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => Some(FailureKind::Timeout),
        Some(_) if String::from_utf8_lossy(&stderr.contents()).contains("panicked") => {
            Some(FailureKind::Panic)
        }
        Some(_) => Some(FailureKind::Trap),
        None => None,
    }
}

/// Advances the epoch every tick for as long as the engine lives. Without it no deadline
/// would ever fire, so failing to start it is a start-up error.
fn start_epoch_ticker(engine: &Engine) -> anyhow::Result<()> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("importhook-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .context("cannot start the epoch ticker thread")?;
    Ok(())
}

fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
