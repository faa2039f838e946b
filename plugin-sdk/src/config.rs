//! The plugin's `[config]` table from its manifest.

use crate::{Attribute, Value};

/// The plugin's configuration: the `[config]` table of `<plugin>.toml`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    entries: Vec<Attribute>,
}

impl Config {
    /// An empty configuration (for tests: add entries with [`Config::with`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces an entry.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        let value = value.into();
        match self.entries.iter_mut().find(|a| a.name == key) {
            Some(existing) => existing.value = value,
            None => self.entries.push(Attribute {
                name: key.to_owned(),
                value,
            }),
        }
        self
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|a| a.name == key)
            .map(|a| &a.value)
    }

    /// The text value of `key`.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_text)
    }

    /// The boolean value of `key`.
    pub fn boolean(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(Value::as_bool)
    }

    /// The integer value of `key`.
    pub fn integer(&self, key: &str) -> Option<i64> {
        self.get(key).and_then(Value::as_integer)
    }

    /// Reads the configuration the host holds for this plugin.
    pub(crate) fn from_host() -> Self {
        #[cfg(target_arch = "wasm32")]
        {
            Self {
                entries: crate::bindings::importhook::plugin::host::config(),
            }
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            Self::default()
        }
    }
}
