//! The empty, deterministic WASI for components that import it (other languages' toolchains,
//! or Rust built for `wasm32-wasip2`): no files, network or environment, frozen clocks, fixed
//! "randomness", stderr captured only to tell a panic from another trap. It is built the
//! first time a component calls into WASI, so WASI-free plugins never pay for it.

use std::time::Duration;

use wasmtime::component::{Linker, ResourceTable};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::InstanceData;

/// Panic messages are read from stderr to tell a panic from another trap; nothing more is kept.
const STDERR_CAPTURE_BYTES: usize = 4096;

/// Per-instance WASI capability, empty until the component first uses WASI.
#[derive(Default)]
pub struct WasiCap {
    built: Option<Built>,
}

struct Built {
    ctx: WasiCtx,
    table: ResourceTable,
    stderr: MemoryOutputPipe,
    /// Bytes of stderr written before the current call.
    stderr_mark: usize,
}

impl std::fmt::Debug for WasiCap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasiCap")
            .field("built", &self.built.is_some())
            .finish()
    }
}

impl WasiCap {
    /// Whether the component wrote a Rust panic message to stderr in the current call.
    pub fn saw_panic(&self) -> bool {
        self.built.as_ref().is_some_and(|b| {
            let contents = b.stderr.contents();
            let this_call = contents.get(b.stderr_mark..).unwrap_or_default();
            String::from_utf8_lossy(this_call).contains("panicked")
        })
    }

    pub(super) fn begin_call(&mut self) {
        // A warm instance keeps its WASI context (its streams live in the instance): each
        // call's stderr is judged from where the previous call left it. Once the capture is
        // full, a warm WASI plugin's panics are reported as traps.
        if let Some(built) = &mut self.built {
            built.stderr_mark = built.stderr.contents().len();
        }
    }

    fn view(&mut self) -> WasiCtxView<'_> {
        let built = self.built.get_or_insert_with(|| {
            let stderr = MemoryOutputPipe::new(STDERR_CAPTURE_BYTES);
            Built {
                ctx: empty_ctx(stderr.clone()),
                table: ResourceTable::new(),
                stderr,
                stderr_mark: 0,
            }
        });
        WasiCtxView {
            ctx: &mut built.ctx,
            table: &mut built.table,
        }
    }
}

fn empty_ctx(stderr: MemoryOutputPipe) -> WasiCtx {
    WasiCtx::builder()
        .stderr(stderr)
        .wall_clock(FrozenClock)
        .monotonic_clock(FrozenClock)
        .secure_random(wasmtime_wasi::Deterministic::new(vec![0x5a; 32]))
        .insecure_random(wasmtime_wasi::Deterministic::new(vec![0xa5; 32]))
        .insecure_random_seed(0)
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build()
}

impl WasiView for InstanceData {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        self.wasi.view()
    }
}

/// Links WASI 0.2 (async: a plugin waiting in a clock poll yields its worker).
pub fn add_to_linker(linker: &mut Linker<InstanceData>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)
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
