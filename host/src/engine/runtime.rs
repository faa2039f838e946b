//! The wasmtime side: one `Engine` (pooling allocator, epoch interruption driven by a ticker
//! thread, [`super::epoch`]), one `Linker` with every host capability, compilation with an
//! on-disk artifact cache, and turning a core module into a component at load (WASI-free Rust
//! plugins are built for `wasm32-unknown-unknown`). How a call runs is `isolation`'s business.
//! The measurements behind the engine settings are in BENCHMARKS.md.

use std::future::Future;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use anyhow::Context;
use ring::digest::{SHA256, digest};
use tokio::sync::{Semaphore, SemaphorePermit};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::bindings::GrantedPluginPre as PluginPre;
use super::bindings::plugin::types::Attribute;
use super::capability::budget::MemoryBudget;
use super::capability::{self, Grants, InstanceData, config::ConfigCap};
use super::epoch::EpochTicker;
use super::isolation::{Blueprint, MAX_WARM_INSTANCES, Warm};
use super::manifest::MAX_MEMORY_MIB;

/// wasmtime's `Result` carries its own error type; this brings it into `anyhow` for context
/// chains.
trait IntoAnyhow<T> {
    fn anyhow(self) -> anyhow::Result<T>;
}

impl<T> IntoAnyhow<T> for wasmtime::Result<T> {
    fn anyhow(self) -> anyhow::Result<T> {
        self.map_err(anyhow::Error::from)
    }
}

/// Memory kept resident per pooled slot between calls. A slot keeps what its last call touched
/// of it, up to this: after a burst, the pool holds at most 2 MiB for each of the most
/// instances alive at once and of the SPARE_WARM_SLOTS (see `max_unused_warm_slots` below).
/// The pooling allocator offers no way to give that memory back other than keeping none, and
/// then every call faults its pages back in.
const KEEP_RESIDENT_BYTES: usize = 2 << 20;

/// Idle pool slots that keep their plugin's memory image mapped for its next instance. Without
/// them, a pipeline of several plugins hands each call a slot another plugin used, and every
/// instantiation maps its image again, which costs more than the calls themselves. Each may
/// keep KEEP_RESIDENT_BYTES resident.
pub const SPARE_WARM_SLOTS: u32 = 16;

/// Default linear memory all plugin instances together may hold (`plugin_memory_budget_mib`).
pub const DEFAULT_MEMORY_BUDGET_MIB: u64 = 128;
/// Pipelines that may run at once, whatever plugin set they run (one instance each at a time).
/// The pool holds twice as many instances, room for the plugin checks of a reload and for
/// large memories still being returned, plus the warm instances kept between calls.
pub const MAX_CONCURRENT_CALLS: u32 = 64;

/// The shared engine and linker every plugin set is built with.
pub struct Runtime {
    engine: Engine,
    linker: Linker<InstanceData>,
    cache_dir: Option<PathBuf>,
    metered: bool,
    /// Advances the epoch while a plugin store exists.
    ticker: Arc<EpochTicker>,
    /// Bounds running pipelines to what the instance pool holds, across plugin sets: during a
    /// reload the old and the new set share it.
    pipelines: Semaphore,
    /// Warm instances alive, across plugin sets (bounded by [`MAX_WARM_INSTANCES`]).
    warm_instances: Arc<AtomicUsize>,
    /// Linear memory all instances together may hold, across plugin sets.
    memory_budget: Arc<MemoryBudget>,
    /// Largest plugin file read (`max_plugin_bytes`).
    max_plugin_bytes: AtomicU64,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("cache_dir", &self.cache_dir)
            .field("metered", &self.metered)
            .finish()
    }
}

impl Runtime {
    /// An engine for serving with the default memory budget. `metered` adds fuel counting
    /// (for `importhook try` reports).
    pub fn new(cache_dir: Option<PathBuf>, metered: bool) -> anyhow::Result<Arc<Self>> {
        Self::with_memory_budget(
            cache_dir,
            metered,
            (DEFAULT_MEMORY_BUDGET_MIB << 20) as usize,
        )
    }

    /// An engine whose plugin instances together hold at most `budget_bytes` of linear memory.
    pub fn with_memory_budget(
        cache_dir: Option<PathBuf>,
        metered: bool,
        budget_bytes: usize,
    ) -> anyhow::Result<Arc<Self>> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        config.consume_fuel(metered);
        // Plugins make no component-model-async (WASIp3) calls: without the machinery for
        // them, each call into a component is cheaper.
        config.concurrency_support(false);
        // Bounds checks in the compiled code instead of guard pages and signal handlers: a
        // memory's accessible size then only ever grows within its slot, so neither a new
        // instance (shrinking what the last one grew) nor a `memory.grow` costs an `mprotect`
        // and the TLB shoot-down that comes with it in a multi-threaded process.
        config.signals_based_traps(false);
        config.memory_guard_size(0);
        config.guard_before_linear_memory(false);
        let instances = if cfg!(feature = "valgrind-pool") {
            // Valgrind cannot reserve the full pool's address space (each memory slot takes
            // 4 GiB of it): a few instances, each memory reserving only its largest size.
            config.memory_reservation(MAX_MEMORY_MIB << 20);
            16
        } else {
            MAX_CONCURRENT_CALLS * 2 + MAX_WARM_INSTANCES as u32
        };
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(instances)
            // One fiber stack per call in flight (serving, plus loads checking new plugins).
            .total_stacks(MAX_CONCURRENT_CALLS * 2)
            .total_core_instances(instances * 8)
            .total_memories(instances * 2)
            .total_tables(instances * 4)
            .max_memories_per_component(4)
            .max_tables_per_component(8)
            .max_core_instances_per_component(16)
            .max_memory_size((MAX_MEMORY_MIB << 20) as usize)
            // Reset a freed slot's first pages by zeroing in place rather than madvise, so the
            // next call does not page-fault them back in (plugins use ~1 MiB per call).
            .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
            // A freed slot keeps its plugin's image mapped for that plugin's next instance; past
            // SPARE_WARM_SLOTS idle ones, a new instance takes a slot another plugin used before
            // a never-used one. So the slots ever used (each keeping up to KEEP_RESIDENT_BYTES)
            // are at most the instances alive at once plus SPARE_WARM_SLOTS, the bound the
            // README's arithmetic states (wasmtime's default keeps 100 spare).
            .max_unused_warm_slots(SPARE_WARM_SLOTS)
            .table_keep_resident(64 * 1024)
            // Linux >= 6.7: reset only the pages a call dirtied (falls back when unsupported).
            .pagemap_scan(wasmtime::Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config)
            .anyhow()
            .context("cannot create the wasm engine")?;
        let ticker = EpochTicker::start(&engine)?;

        let mut linker = Linker::<InstanceData>::new(&engine);
        capability::add_to_linker(&mut linker)
            .anyhow()
            .context("cannot link the host capabilities")?;
        Ok(Arc::new(Self {
            engine,
            linker,
            cache_dir,
            metered,
            ticker,
            pipelines: Semaphore::new(MAX_CONCURRENT_CALLS as usize),
            warm_instances: Arc::new(AtomicUsize::new(0)),
            memory_budget: Arc::new(MemoryBudget::new(budget_bytes)),
            max_plugin_bytes: AtomicU64::new(super::folder::DEFAULT_MAX_PLUGIN_BYTES),
        }))
    }

    /// Largest plugin file this engine reads (loads and reloads).
    pub fn max_plugin_bytes(&self) -> u64 {
        self.max_plugin_bytes.load(Ordering::Relaxed)
    }

    /// Sets [`Runtime::max_plugin_bytes`] (`max_plugin_bytes`).
    pub fn set_max_plugin_bytes(&self, bytes: u64) {
        self.max_plugin_bytes.store(bytes, Ordering::Relaxed);
    }

    /// Waits for room in the instance pool to run one pipeline; the room is given back when
    /// the permit drops. `None` only if the bound were ever closed (it is not).
    pub async fn pipeline_slot(&self) -> Option<SemaphorePermit<'_>> {
        self.pipelines.acquire().await.ok()
    }

    /// Linear memory the plugin instances hold now, and the budget.
    pub fn memory_reserved(&self) -> (usize, usize) {
        (self.memory_budget.used(), self.memory_budget.limit())
    }

    /// How many plugin stores keep the epoch ticker awake now: those that may run wasm (a
    /// call, an instantiation or a load check in flight). 0 when no plugin code can run, warm
    /// instances waiting idle included; the ticker then sleeps.
    pub fn epoch_guards(&self) -> usize {
        self.ticker.guards()
    }

    /// Whether calls count instructions (fuel).
    pub fn is_metered(&self) -> bool {
        self.metered
    }

    /// The engine. A store that runs plugin code must come from a plugin's blueprint (its
    /// `store`), which keeps the epoch ticker ticking: the ticker sleeps while no store may run
    /// wasm, and then no deadline fires.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Compiles a plugin file (a component, or a core module carrying its component type),
    /// reusing the on-disk artifact when one exists for this content and engine.
    pub fn compile(&self, bytes: &[u8]) -> anyhow::Result<Component> {
        let Some(dir) = &self.cache_dir else {
            return self
                .precompile(bytes)
                .and_then(|a| self.load_artifact_bytes(&a));
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
        let artifact = self.precompile(bytes)?;
        if let Err(e) = write_atomically(dir, &path, &artifact) {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot write the compile cache; continuing without it");
        }
        self.load_artifact_bytes(&artifact)
    }

    fn precompile(&self, bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
        let component = super::componentize::to_component(bytes)?;
        self.engine
            .precompile_component(&component)
            .anyhow()
            .context("it is not a valid WebAssembly component")
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

    /// Links `component` against the host capabilities, for instances of plugin `name`.
    pub(super) fn blueprint(
        &self,
        name: &Arc<str>,
        component: &Component,
        config: Vec<Attribute>,
        grants: Grants,
        memory_bytes: usize,
    ) -> anyhow::Result<Blueprint> {
        let instance_pre = self
            .linker
            .instantiate_pre(component)
            .anyhow()
            .context("it needs an import the host does not provide (plugins get importhook:plugin/log, importhook:plugin/config, importhook:plugin/state and importhook:plugin/directory when granted, and an empty WASI)")?;
        let pre = PluginPre::new(instance_pre)
            .anyhow()
            .context("it does not export the importhook:plugin/strategy interface")?;
        Ok(Blueprint {
            engine: self.engine.clone(),
            pre,
            config: ConfigCap::new(name.clone(), Arc::new(config)),
            grants,
            memory_bytes,
            budget: self.memory_budget.clone(),
            metered: self.metered,
            ticker: self.ticker.clone(),
        })
    }

    /// Warm calls of `blueprint`, counted against the runtime's bound of warm instances.
    pub(super) fn warm(&self, blueprint: Blueprint, max_calls: u32) -> Warm {
        Warm::new(blueprint, max_calls, self.warm_instances.clone())
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

fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
