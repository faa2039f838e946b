//! What the host gives a plugin, one capability per module (Spin's factors are the model):
//! each owns its WIT interface's linking and its per-call state, and [`CallState`] only
//! composes them. A new capability (state, directory lookups) is a new module here and a
//! field there, not a change to the others.

pub mod config;
pub mod log;
pub mod request;
pub mod wasi;

use std::time::Instant;

use wasmtime::component::Linker;

/// Per-instance host state: one per store. With a per-call instance nothing in it outlives
/// the call; a warm instance keeps it and [`CallState::begin_call`] resets the per-call parts.
pub struct CallState {
    /// The request resource(s) of the current call.
    pub request: request::RequestTable,
    /// Plugin log lines and the panic report.
    pub log: log::LogState,
    /// The plugin's `[config]`.
    pub config: config::ConfigState,
    /// The empty WASI, built only if a component asks for it.
    pub wasi: wasi::WasiState,
    /// Memory cap and peak.
    pub limiter: MemoryLimiter,
    /// When the current call must stop (read by the epoch callback).
    pub deadline: Instant,
}

impl CallState {
    /// Fresh state for one instance of the plugin `config` belongs to.
    pub fn new(config: config::ConfigState, memory_bytes: usize, log_lines: u32) -> Self {
        Self {
            request: request::RequestTable::default(),
            log: log::LogState::new(config.plugin().clone(), log_lines),
            config,
            wasi: wasi::WasiState::default(),
            limiter: MemoryLimiter {
                max_bytes: memory_bytes,
                ..MemoryLimiter::default()
            },
            deadline: Instant::now(),
        }
    }

    /// Resets what belongs to one call (a warm instance serves many).
    pub fn begin_call(&mut self, deadline: Instant, log_lines: u32) {
        self.deadline = deadline;
        self.log.begin_call(log_lines);
        self.request.begin_call();
        self.wasi.begin_call();
        self.limiter.exceeded = false;
    }
}

/// Links every capability into `linker`. Linking costs nothing per call: an instance only
/// resolves the imports its component declares.
pub fn add_to_linker(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    request::add_to_linker(linker)?;
    log::add_to_linker(linker)?;
    config::add_to_linker(linker)?;
    wasi::add_to_linker(linker)
}

/// Enforces a plugin's memory cap and records its peak.
#[derive(Debug, Default)]
pub struct MemoryLimiter {
    max_bytes: usize,
    /// Largest linear memory size reached.
    pub peak_bytes: usize,
    /// The plugin tried to grow past its cap.
    pub exceeded: bool,
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
