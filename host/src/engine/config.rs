//! The engine's limits (`plugin_memory_budget_mib`, `max_plugin_bytes`), read from their keys.

use crate::config::layer::{ConfigLayer, Origin, positive};

/// What the plugins together, and one plugin file, may take.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Linear memory all plugin instances together may hold, in bytes.
    pub memory_budget: usize,
    /// Largest plugin file read.
    pub max_plugin_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_budget: (super::DEFAULT_MEMORY_BUDGET_MIB << 20) as usize,
            max_plugin_bytes: super::DEFAULT_MAX_PLUGIN_BYTES,
        }
    }
}

impl Limits {
    /// Reads the engine keys; both must be above 0.
    pub(crate) fn resolve(
        cli: &ConfigLayer,
        file: &ConfigLayer,
        origin: &Origin<'_>,
    ) -> anyhow::Result<Self> {
        let defaults = Self::default();
        Ok(Self {
            memory_budget: (positive(
                &cli.plugin_memory_budget_mib,
                &file.plugin_memory_budget_mib,
                origin,
                "plugin_memory_budget_mib",
                (defaults.memory_budget >> 20) as u64,
            )? << 20) as usize,
            max_plugin_bytes: positive(
                &cli.max_plugin_bytes,
                &file.max_plugin_bytes,
                origin,
                "max_plugin_bytes",
                defaults.max_plugin_bytes,
            )?,
        })
    }
}
