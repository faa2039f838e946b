//! What the host gives a plugin, one capability per module (Spin's factors are the model):
//! each owns its WIT interface's linking and its per-call holder (`…Cap`), and
//! [`InstanceData`] (the store's data) only composes them.
//!
//! Adding a capability takes: its interface in the SDK's WIT world; a module here with its
//! holder, its `Host` implementation and its `add_to_linker`; a field of [`InstanceData`], reset
//! in [`InstanceData::begin_call`], and a line in [`add_to_linker`]. One that needs trust also
//! takes a [`crate::engine::Grant`] variant, the handle the grant unlocks in [`Grants`] (with
//! its scratch counterpart for the load-time probe, [`Grants::on`], and where loading builds
//! it), and the service it draws on in [`crate::engine::Services`]. Each part is where its
//! concern lives; the other capabilities do not change.

pub mod budget;
pub mod config;
pub mod directory;
pub mod log;
pub mod request;
pub mod state;
pub mod wasi;

use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::Linker;

use crate::engine::{Grant, Services};

/// What a plugin's manifest grants it beyond `log` and `config`: the handles its granted
/// capabilities work through (`None` where not granted). Every instance of the plugin gets
/// clones of them.
#[derive(Clone, Default)]
pub struct Grants {
    /// Its namespace in the state store (grant `state`).
    pub state: Option<state::StateAccess>,
    /// Okta directory lookups (grant `directory`).
    pub directory: Option<crate::engine::services::DirectoryAccess>,
}

impl Grants {
    /// The handles for what `granted` says a plugin is granted, drawn on `services`.
    pub fn open(
        plugin: &Arc<str>,
        granted: impl Fn(Grant) -> bool,
        services: &Services,
    ) -> anyhow::Result<Self> {
        let state = if granted(Grant::State) {
            Some(state::StateAccess::new(
                plugin.clone(),
                services.state()?,
                services.state_metrics.clone(),
            ))
        } else {
            None
        };
        let directory = granted(Grant::Directory).then(|| services.directory_access());
        Ok(Self { state, directory })
    }

    /// The same grants on `services` instead: for a plugin's load-time checks, which must not
    /// use up a number or a claim of the real store, nor spend a call of the Okta org's rate
    /// limit.
    pub fn on(&self, plugin: &Arc<str>, services: &Services) -> anyhow::Result<Self> {
        Self::open(
            plugin,
            |grant| match grant {
                Grant::State => self.state.is_some(),
                Grant::Directory => self.directory.is_some(),
            },
            services,
        )
    }
}

/// The store's data: one per instance. With a per-call instance nothing in it outlives
/// the call; a warm instance keeps it and [`InstanceData::begin_call`] resets the per-call parts.
pub struct InstanceData {
    /// The request resource(s) of the current call.
    pub request: request::RequestCap,
    /// Plugin log lines and the panic report.
    pub log: log::LogCap,
    /// The plugin's `[config]`.
    pub config: config::ConfigCap,
    /// Its namespace in the state store, when granted.
    pub state: state::StateCap,
    /// Okta directory lookups, when granted.
    pub directory: directory::DirectoryCap,
    /// The empty WASI, built only if a component asks for it.
    pub wasi: wasi::WasiCap,
    /// Memory cap and peak.
    pub limiter: MemoryLimiter,
    /// When the current call must stop (read by the epoch callback).
    pub deadline: Instant,
    /// Keeps the epoch advancing while this store may run wasm: from its creation on, paused
    /// while a warm instance waits idle between calls ([`InstanceData::pause_ticking`]) and
    /// resumed when a call begins.
    ticking: crate::engine::epoch::Ticking,
}

impl InstanceData {
    /// Fresh data for one instance of the plugin `config` belongs to, its memory capped at
    /// `memory_bytes` and reserved from `budget`.
    pub fn new(
        config: config::ConfigCap,
        grants: Grants,
        memory_bytes: usize,
        budget: Arc<budget::MemoryBudget>,
        log_lines: u32,
        ticking: crate::engine::epoch::Ticking,
    ) -> Self {
        Self {
            request: request::RequestCap::default(),
            log: log::LogCap::new(config.plugin().clone(), log_lines),
            config,
            state: state::StateCap::new(grants.state),
            directory: directory::DirectoryCap::new(grants.directory),
            wasi: wasi::WasiCap::default(),
            limiter: MemoryLimiter {
                max_bytes: memory_bytes,
                budget,
                reserved: 0,
                deadline: Instant::now(),
                peak_bytes: 0,
                exceeded: false,
                overloaded: false,
            },
            deadline: Instant::now(),
            ticking,
        }
    }

    /// Lets the epoch ticker sleep for this store: for a warm instance put aside idle, which
    /// runs no wasm until its next call begins ([`InstanceData::begin_call`]).
    pub fn pause_ticking(&mut self) {
        self.ticking.pause();
    }

    /// Resets what belongs to one call (a warm instance serves many) of Okta event `event`.
    pub fn begin_call(&mut self, event: &str, deadline: Instant, log_lines: u32) {
        // The call's deadline is counted in the epoch's ticks.
        self.ticking.resume();
        self.deadline = deadline;
        self.state.begin_call(event, deadline);
        self.directory.begin_call(deadline);
        self.limiter.deadline = deadline;
        self.log.begin_call(log_lines);
        self.request.begin_call();
        self.wasi.begin_call();
        self.limiter.exceeded = false;
        self.limiter.overloaded = false;
    }
}

/// Links every capability into `linker`. Linking costs nothing per call: an instance only
/// resolves the imports its component declares.
pub fn add_to_linker(linker: &mut Linker<InstanceData>) -> wasmtime::Result<()> {
    request::add_to_linker(linker)?;
    log::add_to_linker(linker)?;
    config::add_to_linker(linker)?;
    state::add_to_linker(linker)?;
    directory::add_to_linker(linker)?;
    wasi::add_to_linker(linker)
}

/// Enforces a plugin's memory cap, reserves its memory from the shared budget (given back
/// when the instance is dropped), and records its peak.
#[derive(Debug)]
pub struct MemoryLimiter {
    max_bytes: usize,
    budget: Arc<budget::MemoryBudget>,
    reserved: usize,
    /// How long a starting instance may wait for budget: the call's deadline.
    pub deadline: Instant,
    /// Largest linear memory size reached.
    pub peak_bytes: usize,
    /// The plugin tried to grow past its cap.
    pub exceeded: bool,
    /// The shared budget could not cover the plugin's growth.
    pub overloaded: bool,
}

impl Drop for MemoryLimiter {
    fn drop(&mut self) {
        if self.reserved > 0 {
            self.budget.leave(self.reserved);
        }
    }
}

#[async_trait::async_trait]
impl wasmtime::ResourceLimiterAsync for MemoryLimiter {
    async fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.exceeded = true;
            return Ok(false);
        }
        // Called for the memory's creation too (from 0), so the budget sees every byte. A
        // memory being created (an instance starting), or growing within its fair share of the
        // budget, waits for room until the call's deadline; one growing past its share gets
        // room only while no other instance waits for some, else fails at once, and its call
        // gives back what it holds (see `budget`).
        let more = desired.saturating_sub(current);
        let reserved = if self.reserved == 0 {
            self.budget.reserve_by(more, self.deadline).await
        } else {
            self.budget
                .grow_by(self.reserved, more, self.deadline)
                .await
        };
        if !reserved {
            self.overloaded = true;
            return Ok(false);
        }
        if self.reserved == 0 && more > 0 {
            self.budget.join();
        }
        self.reserved += more;
        self.peak_bytes = self.peak_bytes.max(desired);
        Ok(true)
    }

    async fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 65_536)
    }
}
