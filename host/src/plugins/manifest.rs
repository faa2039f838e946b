//! A plugin's optional manifest, `<stem>.toml` beside `<stem>.wasm`: its limits, its failure
//! policy and its own configuration table.
//!
//! ```toml
//! timeout_ms = 200      # deadline of one call
//! memory_mib = 32       # linear memory cap
//! on_error = "skip"     # or "fail"
//! [config]              # handed to the plugin as-is
//! middle_name_attribute = "middleName"
//! ```

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

/// Default deadline of one plugin call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(200);
/// Longest deadline a manifest may ask for: Okta gives the whole request 3 s.
pub const MAX_TIMEOUT: Duration = Duration::from_millis(2_000);
/// Default memory cap.
pub const DEFAULT_MEMORY_MIB: u64 = 32;
/// Largest memory cap a manifest may ask for (also the pool's slot size).
pub const MAX_MEMORY_MIB: u64 = 256;

/// What a failed plugin call does to the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Drop the plugin's contribution and go on with the next plugin.
    Skip,
    /// Answer Okta with an `error` object naming the plugin and the kind of failure.
    Fail,
}

impl OnError {
    /// Manifest spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Skip => "skip",
            Self::Fail => "fail",
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    timeout_ms: Option<u64>,
    memory_mib: Option<u64>,
    on_error: Option<OnError>,
    config: Option<toml::Table>,
}

/// A validated manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// Deadline of one call.
    pub timeout: Duration,
    /// Linear memory cap in bytes.
    pub memory_bytes: usize,
    /// Failure policy.
    pub on_error: OnError,
    /// The `[config]` table, in file order.
    pub config: Vec<(String, toml::Value)>,
}

impl Default for Manifest {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            memory_bytes: (DEFAULT_MEMORY_MIB << 20) as usize,
            on_error: OnError::Skip,
            config: Vec::new(),
        }
    }
}

impl Manifest {
    /// Reads `path` if it exists; defaults otherwise. Errors name the file and field.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        if !path.exists() {
            return Ok(Self::default());
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read plugin manifest {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("invalid plugin manifest {}", path.display()))
    }

    /// Parses a manifest's text.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let file: ManifestFile = toml::from_str(text)?;
        let defaults = Self::default();
        let timeout = match file.timeout_ms {
            None => defaults.timeout,
            Some(ms) if ms == 0 || Duration::from_millis(ms) > MAX_TIMEOUT => {
                bail!(
                    "field `timeout_ms`: {ms} is outside 1..={}",
                    MAX_TIMEOUT.as_millis()
                )
            }
            Some(ms) => Duration::from_millis(ms),
        };
        let memory_bytes = match file.memory_mib {
            None => defaults.memory_bytes,
            Some(mib) if mib == 0 || mib > MAX_MEMORY_MIB => {
                bail!("field `memory_mib`: {mib} is outside 1..={MAX_MEMORY_MIB}")
            }
            Some(mib) => (mib << 20) as usize,
        };
        Ok(Self {
            timeout,
            memory_bytes,
            on_error: file.on_error.unwrap_or(defaults.on_error),
            config: file.config.unwrap_or_default().into_iter().collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_full_manifest() {
        assert_eq!(Manifest::parse("").expect("empty"), Manifest::default());
        let m = Manifest::parse(
            "timeout_ms = 50\nmemory_mib = 8\non_error = \"fail\"\n[config]\nb = 1\na = \"x\"\n",
        )
        .expect("valid");
        assert_eq!(m.timeout, Duration::from_millis(50));
        assert_eq!(m.memory_bytes, 8 << 20);
        assert_eq!(m.on_error, OnError::Fail);
        assert_eq!(m.config.len(), 2);
    }

    #[test]
    fn bad_manifests_name_the_field() {
        for (text, needle) in [
            ("timeout_ms = 0", "timeout_ms"),
            ("timeout_ms = 60000", "timeout_ms"),
            ("memory_mib = 4096", "memory_mib"),
            ("on_error = \"retry\"", "on_error"),
            ("timeot_ms = 5", "timeot_ms"),
        ] {
            let err = format!("{:#}", Manifest::parse(text).unwrap_err());
            assert!(err.contains(needle), "{text}: {err}");
        }
    }
}
