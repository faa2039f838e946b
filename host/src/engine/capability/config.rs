//! The `config` capability: the plugin's `[config]` table, converted once at load and shared
//! (read-only) by all its instances.

use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker};

use super::InstanceData;
use crate::engine::bindings::plugin::config;
use crate::engine::bindings::plugin::types::{Attribute, Value};

/// A plugin's configuration as its instances see it.
#[derive(Debug, Clone)]
pub struct ConfigCap {
    plugin: Arc<str>,
    entries: Arc<Vec<Attribute>>,
}

impl ConfigCap {
    /// The configuration of `plugin`.
    pub fn new(plugin: Arc<str>, entries: Arc<Vec<Attribute>>) -> Self {
        Self { plugin, entries }
    }

    /// The plugin's name.
    pub fn plugin(&self) -> &Arc<str> {
        &self.plugin
    }
}

impl config::Host for ConfigCap {
    fn get(&mut self, key: String) -> wasmtime::Result<Option<Value>> {
        Ok(self
            .entries
            .iter()
            .find(|a| a.name == key)
            .map(|a| a.value.clone()))
    }

    fn entries(&mut self) -> wasmtime::Result<Vec<Attribute>> {
        Ok(self.entries.as_ref().clone())
    }
}

/// Links `importhook:plugin/config`.
pub fn add_to_linker(linker: &mut Linker<InstanceData>) -> wasmtime::Result<()> {
    config::add_to_linker::<InstanceData, HasSelf<ConfigCap>>(linker, |data| &mut data.config)
}
