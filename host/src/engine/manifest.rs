//! A plugin's optional manifest, `<stem>.toml` beside `<stem>.wasm`: its limits, its failure
//! policy and its own configuration table.
//!
//! ```toml
//! timeout_ms = 200      # deadline of one call
//! memory_mib = 32       # linear memory cap
//! on_error = "skip"     # or "fail"
//! instance = "per-call" # or "warm": keep the instance between calls (see README)
//! max_calls = 1000      # warm only: calls an instance serves before it is replaced
//! grants = ["state", "directory"]  # capabilities beyond log and config (see [`Grant`])
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

/// How a plugin's calls are isolated from each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InstanceMode {
    /// A fresh instance for every call: nothing survives from one user to the next.
    PerCall,
    /// An instance serves successive calls (its memory survives between users of an import)
    /// until it fails once, reaches `max_calls`, or the plugin set is reloaded.
    Warm,
}

impl InstanceMode {
    /// Manifest spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PerCall => "per-call",
            Self::Warm => "warm",
        }
    }
}

/// A capability beyond `log` and `config` that a plugin may use only when its manifest grants
/// it: a plugin that imports one it is not granted is refused at load, naming the grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Grant {
    /// `importhook:plugin/state`: counters, claims and small records in the state store.
    State,
    /// `importhook:plugin/directory`: read-only login lookups in the configured Okta org.
    Directory,
}

impl Grant {
    /// Every grant, in manifest spelling order.
    pub const ALL: [Grant; 2] = [Grant::Directory, Grant::State];

    /// Manifest spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::State => "state",
            Self::Directory => "directory",
        }
    }

    /// The WIT interface it grants, without version (`importhook:plugin/state`).
    pub fn interface(self) -> &'static str {
        match self {
            Self::State => "importhook:plugin/state",
            Self::Directory => "importhook:plugin/directory",
        }
    }
}

/// Default number of calls a warm instance serves before it is replaced.
pub const DEFAULT_MAX_CALLS: u32 = 1000;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    timeout_ms: Option<u64>,
    memory_mib: Option<u64>,
    on_error: Option<OnError>,
    instance: Option<InstanceMode>,
    max_calls: Option<u32>,
    grants: Option<Vec<Grant>>,
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
    /// Isolation between calls.
    pub instance: InstanceMode,
    /// Warm mode: calls one instance serves before it is replaced.
    pub max_calls: u32,
    /// Capabilities granted beyond `log` and `config`.
    pub grants: Vec<Grant>,
    /// The `[config]` table, in file order.
    pub config: Vec<(String, toml::Value)>,
}

impl Default for Manifest {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            memory_bytes: (DEFAULT_MEMORY_MIB << 20) as usize,
            on_error: OnError::Skip,
            instance: InstanceMode::PerCall,
            max_calls: DEFAULT_MAX_CALLS,
            grants: Vec::new(),
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
        let text = crate::regular_file::read(path, super::folder::MAX_MANIFEST_BYTES, "1 MiB")
            .and_then(|bytes| String::from_utf8(bytes).context("not UTF-8"))
            .with_context(|| format!("cannot read plugin manifest {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("invalid plugin manifest {}", path.display()))
    }

    /// Whether the manifest grants `grant`.
    pub fn grants(&self, grant: Grant) -> bool {
        self.grants.contains(&grant)
    }

    /// Parses a manifest's text.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let file: ManifestFile = toml::from_str(text)
            .map_err(|e| anyhow::anyhow!("{}", crate::tomlerr::one_line(text, &e)))?;
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
        let instance = file.instance.unwrap_or(defaults.instance);
        let max_calls = match file.max_calls {
            None => defaults.max_calls,
            Some(0) => bail!("field `max_calls`: 0 is outside 1..={}", u32::MAX),
            Some(_) if instance == InstanceMode::PerCall => {
                bail!("field `max_calls`: only meaningful with instance = \"warm\"")
            }
            Some(n) => n,
        };
        let mut grants = file.grants.unwrap_or_default();
        grants.sort_by_key(|g| g.as_str());
        grants.dedup();
        Ok(Self {
            timeout,
            memory_bytes,
            on_error: file.on_error.unwrap_or(defaults.on_error),
            instance,
            max_calls,
            grants,
            config: file.config.unwrap_or_default().into_iter().collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_typo_is_one_line_naming_the_closest_key() {
        let err = format!(
            "{:#}",
            Manifest::parse("timout_ms = 50\n").expect_err("typo")
        );
        assert_eq!(
            err,
            "line 1: unknown key `timout_ms` (did you mean `timeout_ms`?)"
        );
        let err = format!(
            "{:#}",
            Manifest::parse("on_error = \"fial\"\n").expect_err("typo")
        );
        assert!(err.contains("did you mean `fail`?"), "{err}");
    }

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
        assert_eq!(m.instance, InstanceMode::PerCall);
        assert_eq!(m.config.len(), 2);
        let warm = Manifest::parse("instance = \"warm\"\nmax_calls = 10").expect("warm");
        assert_eq!((warm.instance, warm.max_calls), (InstanceMode::Warm, 10));
        let granted = Manifest::parse("grants = [\"state\", \"state\"]").expect("grants");
        assert_eq!(granted.grants, vec![Grant::State]);
        assert!(granted.grants(Grant::State));
        assert!(!Manifest::default().grants(Grant::State));
        let both = Manifest::parse("grants = [\"state\", \"directory\"]").expect("grants");
        assert_eq!(both.grants, vec![Grant::Directory, Grant::State]);
        assert!(both.grants(Grant::Directory));
    }

    #[test]
    fn bad_manifests_name_the_field() {
        for (text, needle) in [
            ("timeout_ms = 0", "timeout_ms"),
            ("timeout_ms = 60000", "timeout_ms"),
            ("memory_mib = 4096", "memory_mib"),
            ("on_error = \"retry\"", "on_error"),
            ("timeot_ms = 5", "timeot_ms"),
            ("instance = \"hot\"", "instance"),
            ("instance = \"warm\"\nmax_calls = 0", "max_calls"),
            ("max_calls = 5", "max_calls"),
            ("grants = [\"network\"]", "grants"),
            ("grants = \"state\"", "grants"),
        ] {
            let err = format!("{:#}", Manifest::parse(text).unwrap_err());
            assert!(err.contains(needle), "{text}: {err}");
        }
    }
}
