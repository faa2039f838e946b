//! The plugin's `[config]` table from its manifest, read from the host on first use and kept
//! for the instance's life (the host never changes it under a running instance).

use crate::{Attribute, Value};

/// The plugin's configuration: the `[config]` table of `<plugin>.toml`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    /// `None`: the host's table, fetched on first use.
    entries: Option<Vec<Attribute>>,
}

impl Config {
    /// An empty configuration (for tests: add entries with [`Config::with`]).
    pub fn new() -> Self {
        Self {
            entries: Some(Vec::new()),
        }
    }

    /// Adds or replaces an entry.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        let value = value.into();
        let entries = self.entries.get_or_insert_with(Vec::new);
        match entries.iter_mut().find(|a| a.name == key) {
            Some(existing) => existing.value = value,
            None => entries.push(Attribute {
                name: key.to_owned(),
                value,
            }),
        }
        self
    }

    fn entries(&self) -> &[Attribute] {
        match &self.entries {
            Some(entries) => entries,
            None => host_entries(),
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries()
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

    /// All entries, in the manifest's order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.entries().iter().map(|a| (a.name.as_str(), &a.value))
    }

    /// The configuration the host holds for this plugin.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn from_host() -> Self {
        Self { entries: None }
    }
}

#[cfg(target_arch = "wasm32")]
fn host_entries() -> &'static [Attribute] {
    static ENTRIES: std::sync::OnceLock<Vec<Attribute>> = std::sync::OnceLock::new();
    ENTRIES.get_or_init(crate::bindings::importhook::plugin::config::entries)
}

#[cfg(not(target_arch = "wasm32"))]
fn host_entries() -> &'static [Attribute] {
    &[]
}
