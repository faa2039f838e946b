//! The plugin engine: the strategies found in the plugins folder, loaded into an immutable
//! [`PluginSet`] and run in file-name order on every request. Reloading builds a new set and
//! swaps it in.
//!
//! - [`folder`], [`manifest`], [`componentize`]: what the plugins folder holds;
//! - [`load`]: a folder into a [`PluginSet`], every plugin checked before it serves, each a
//!   [`LoadedPlugin`] ([`plugin`]);
//! - [`runtime`]: the wasmtime engine, linker, pool and compile cache every set shares;
//!   [`epoch`] its ticker, which runs only while a plugin store may run wasm;
//! - [`bindings`]: the WIT boundary (generated types, conversions, caps on a plugin's output);
//! - [`capability`]: what a plugin may import, one module per WIT interface;
//! - [`isolation`]: how one call runs (per call, warm, or native for the benchmark);
//! - [`pipeline`]: the loop over the plugins, the output check, the deadline and the answer;
//! - [`working`]: the request as the plugins so far left it, and the merge rules.

mod bindings;
mod capability;
mod componentize;
pub mod config;
mod epoch;
mod folder;
#[doc(hidden)]
pub mod fuzzing;
mod isolation;
mod load;
mod manifest;
mod pipeline;
mod plugin;
mod runtime;
mod services;
mod working;

use std::path::Path;

pub use capability::budget::MemoryBudget;
pub use folder::DEFAULT_MAX_PLUGIN_BYTES;
pub use folder::{default_cache_dir, folders};
pub use isolation::{CallStats, Failure, FailureKind, NativeStrategy};
pub use manifest::{Grant, InstanceMode, Manifest, OnError};
pub use pipeline::{CallOutcome, PipelineRun, PluginReport, PluginSet, RunEnd};
pub use plugin::LoadedPlugin;
pub use runtime::{
    DEFAULT_MEMORY_BUDGET_MIB, MAX_CONCURRENT_CALLS, Runtime, SPARE_WARM_SLOTS, block_on,
};
pub use services::Services;
pub use working::{Contribution, InvalidContribution, ProfileView, Working};

/// The WIT package version this host serves (read from the SDK's WIT file at build time).
pub const INTERFACE_VERSION: &str = env!("IMPORTHOOK_WIT_VERSION");
/// The interface a plugin must export.
pub const STRATEGY_INTERFACE: &str = "importhook:plugin/strategy";

/// Warnings for plugins of `dir` that share an order number (`check` prints them, `serve`
/// logs them); none when the folder cannot be read (loading it says why).
pub fn shared_orders(dir: &Path) -> Vec<String> {
    folder::Folder::scan(dir)
        .map(|folder| folder.shared_orders())
        .unwrap_or_default()
}
