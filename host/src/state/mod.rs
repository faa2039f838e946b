//! The state store behind the `state` capability: counters, claims and small records of each
//! plugin, in one of two backends behind [`StateStore`]: embedded redb (the default: one file,
//! nothing to run) or Redis (when replicas share the state).
//!
//! Everything a plugin does goes through [`Op`], so a backend is one `apply` and the
//! embedded one can commit every operation that arrives together in one transaction.

pub(crate) mod config;
mod embedded;
mod file;
pub mod operator;
mod redis;
mod writer;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;

pub use embedded::Embedded;
pub use redis::{MemoryReport, RedisStore};

/// Longest key (counter name, claimed value, record key) in bytes.
pub const MAX_KEY_BYTES: usize = 512;
/// Largest record value in bytes.
pub const MAX_VALUE_BYTES: usize = 64 << 10;
/// Longest TTL a claim or record may ask for (30 days).
pub const MAX_TTL_SECONDS: u32 = 30 * 24 * 3600;
/// How long the number handed to an event is remembered, so that Okta's retry of a call that
/// timed out gets it again. Okta waits 3 s for an answer and retries at most once, on a
/// timeout or a 5xx (Okta's "Inline hooks" concepts page, "Time out and retry"): the retry
/// comes seconds after the first call. Okta does not document the delay before it (nor how
/// long a support-raised timeout may be), so 15 minutes: hundreds of times the window, while
/// a store holds only the last 15 minutes of an import's event keys.
pub const EVENT_MEMORY: Duration = Duration::from_secs(15 * 60);

/// Where the state lives, from `state_path` / `state_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateConfig {
    /// A redb file, written by this process only.
    Embedded(PathBuf),
    /// A Redis server (`redis://`, `rediss://`, `redis+unix://`), shared by replicas.
    Redis {
        /// Its URL (may carry a password: never logged).
        url: String,
        /// Replicas that must acknowledge each `next` and `claim` (`WAIT`); 0 for none.
        wait_replicas: u32,
    },
}

impl StateConfig {
    /// Backend label for metrics and logs.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Embedded(_) => "embedded",
            Self::Redis { .. } => "redis",
        }
    }
}

/// Why a state operation failed, as the plugin sees it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// The store is down or did not answer in time.
    #[error("state store unavailable")]
    Unavailable,
    /// The store is out of memory (Redis at `maxmemory` under `noeviction`): it refuses writes.
    #[error("state store full")]
    Full,
    /// Fewer replicas than `state_redis_wait` acknowledged the write within the deadline.
    #[error("state store write not acknowledged by its replicas")]
    Unreplicated,
    /// The arguments are refused.
    #[error("invalid: {0}")]
    Invalid(String),
}

/// One operation of one plugin (`plugin` is its namespace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// The number for the `nth` `next(counter)` of `event`: the one it got before, or the
    /// counter's next.
    Next {
        /// Namespace.
        plugin: Arc<str>,
        /// Counter name.
        counter: String,
        /// Okta's event id.
        event: Arc<str>,
        /// Which `next` of this counter in the call (0 for the first).
        nth: u32,
    },
    /// Claim `value` for `event` for `ttl` seconds.
    Claim {
        /// Namespace.
        plugin: Arc<str>,
        /// The claimed value.
        value: String,
        /// Okta's event id.
        event: Arc<str>,
        /// Seconds the claim lasts.
        ttl: u32,
    },
    /// Release `value` if `event` holds it.
    Release {
        /// Namespace.
        plugin: Arc<str>,
        /// The claimed value.
        value: String,
        /// Okta's event id.
        event: Arc<str>,
    },
    /// Read a record.
    Get {
        /// Namespace.
        plugin: Arc<str>,
        /// Record key.
        key: String,
    },
    /// Write a record.
    Set {
        /// Namespace.
        plugin: Arc<str>,
        /// Record key.
        key: String,
        /// Record value.
        value: Vec<u8>,
        /// Seconds it is kept, or until overwritten or deleted.
        ttl: Option<u32>,
    },
    /// Operator: delete an entry of any kind.
    Delete {
        /// Namespace.
        plugin: Arc<str>,
        /// What kind of entry.
        kind: EntryKind,
        /// Its name.
        name: String,
    },
}

impl Op {
    /// Label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Next { .. } => "next",
            Self::Claim { .. } => "claim",
            Self::Release { .. } => "release",
            Self::Get { .. } => "get",
            Self::Set { .. } => "set",
            Self::Delete { .. } => "delete",
        }
    }

    /// Refuses what no backend should store, before it reaches one.
    pub fn validate(&self) -> Result<(), StateError> {
        let key = |name: &str, what: &str| {
            if name.is_empty() {
                Err(StateError::Invalid(format!("empty {what}")))
            } else if name.len() > MAX_KEY_BYTES {
                Err(StateError::Invalid(format!(
                    "{what} longer than {MAX_KEY_BYTES} bytes"
                )))
            } else {
                Ok(())
            }
        };
        let ttl = |seconds: u32| {
            if seconds == 0 || seconds > MAX_TTL_SECONDS {
                Err(StateError::Invalid(format!(
                    "ttl {seconds} s is outside 1..={MAX_TTL_SECONDS}"
                )))
            } else {
                Ok(())
            }
        };
        match self {
            Self::Next { counter, .. } => key(counter, "counter name"),
            Self::Claim {
                value, ttl: secs, ..
            } => key(value, "claimed value").and(ttl(*secs)),
            Self::Release { value, .. } => key(value, "claimed value"),
            Self::Get { key: k, .. } | Self::Delete { name: k, .. } => key(k, "key"),
            Self::Set {
                key: k,
                value,
                ttl: secs,
                ..
            } => {
                key(k, "key")?;
                if value.len() > MAX_VALUE_BYTES {
                    return Err(StateError::Invalid(format!(
                        "value larger than {MAX_VALUE_BYTES} bytes"
                    )));
                }
                secs.map_or(Ok(()), ttl)
            }
        }
    }
}

/// What an [`Op`] answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `Next`.
    Number(u64),
    /// `Claim`: whether the event holds the value.
    Held(bool),
    /// `Release`, `Set`.
    Done,
    /// `Get`.
    Value(Option<Vec<u8>>),
    /// `Delete`: whether there was such an entry.
    Deleted(bool),
}

/// The kinds of entries an operator sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EntryKind {
    /// A counter and its last number.
    Counter,
    /// A claimed value and the event holding it.
    Claim,
    /// A record.
    Record,
}

impl EntryKind {
    /// Spelling in listings and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Claim => "claim",
            Self::Record => "record",
        }
    }
}

/// One entry as an operator sees it (`importhook state list`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its kind.
    pub kind: EntryKind,
    /// Counter name, claimed value or record key.
    pub name: String,
    /// The counter's last number, the claiming event, or the record's size.
    pub summary: String,
    /// Unix time it expires at, if it does.
    pub expires_at: Option<u64>,
}

/// A state backend.
#[async_trait::async_trait]
pub trait StateStore: Send + Sync + std::fmt::Debug {
    /// `embedded` or `redis`.
    fn backend(&self) -> &'static str;
    /// Runs one operation (already validated).
    async fn apply(&self, op: Op) -> Result<Reply, StateError>;
    /// Runs one operation for a plugin call that must be answered by `deadline` (the caller
    /// also cuts it there); a backend that waits for replicas bounds that wait by it.
    async fn apply_by(&self, op: Op, deadline: std::time::Instant) -> Result<Reply, StateError> {
        let _ = deadline;
        self.apply(op).await
    }
    /// Every live entry of `plugin`, by kind and name.
    async fn list(&self, plugin: &str) -> anyhow::Result<Vec<Entry>>;
    /// Whether the backend answers (for `/readyz`).
    async fn ping(&self) -> bool;
}

/// Opens the configured backend. Fails with what to do when it cannot. Redis is connected on
/// first use (and reconnected after), so a Redis that is down at start-up fails calls, not the
/// start.
pub fn open(config: &StateConfig) -> anyhow::Result<Arc<dyn StateStore>> {
    Ok(match config {
        StateConfig::Embedded(path) => Arc::new(
            Embedded::open(path)
                .with_context(|| format!("cannot open the state file {}", path.display()))?,
        ),
        StateConfig::Redis { url, wait_replicas } => {
            Arc::new(RedisStore::new(url)?.with_wait(*wait_replicas))
        }
    })
}

/// Start-up's check of a Redis store: refuses an evicting `maxmemory-policy` (with the line to
/// fix it); a Redis that does not answer within 3 s is only logged (calls fail until it does,
/// as documented), and so is one whose `INFO` is refused (some managed services rename it).
pub async fn check_at_start(config: &StateConfig) -> anyhow::Result<()> {
    let StateConfig::Redis { url, .. } = config else {
        return Ok(());
    };
    let store = RedisStore::new(url)?;
    match tokio::time::timeout(Duration::from_secs(3), store.memory()).await {
        Ok(Ok(report)) => {
            report
                .check()
                .map_err(|why| anyhow::anyhow!("state_url: {why}"))?;
            tracing::info!(memory = %report.usage(), "state store: Redis keeps every key (maxmemory-policy noeviction)");
            Ok(())
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %format!("{e:#}"), "state store: cannot read Redis's maxmemory-policy at start-up; run importhook doctor once it answers");
            Ok(())
        }
        Err(_) => {
            tracing::warn!(
                "state store: Redis does not answer at start-up; state calls fail until it does"
            );
            Ok(())
        }
    }
}

/// A store in memory that nothing reads after: what a plugin's load-time probe and
/// `importhook try` write to, so that neither uses up a number or a claim of the real store.
pub fn scratch() -> Arc<dyn StateStore> {
    Arc::new(Embedded::in_memory())
}

/// Longest Okta `eventId` kept as it is in logs and state keys. Okta's are 22-character ids;
/// a longer one (a client sending 250 KB of it) is replaced by its hash, so it costs neither a
/// log line of its size nor a key kept for a day.
pub const MAX_EVENT_ID_BYTES: usize = 128;

/// `event` as logs and state keys hold it: itself up to [`MAX_EVENT_ID_BYTES`], else
/// `sha256:` and the hex SHA-256 of it (the same id always gives the same key, so Okta's retry
/// of a long id is still recognised).
pub fn bounded_event_id(event: &str) -> std::borrow::Cow<'_, str> {
    if event.len() <= MAX_EVENT_ID_BYTES {
        return event.into();
    }
    let hash = ring::digest::digest(&ring::digest::SHA256, event.as_bytes());
    let hex: String = hash.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}").into()
}

/// Seconds since the Unix epoch.
pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_validated_before_any_backend() {
        let plugin: Arc<str> = "p".into();
        let event: Arc<str> = "e".into();
        let next = |counter: &str| Op::Next {
            plugin: plugin.clone(),
            counter: counter.into(),
            event: event.clone(),
            nth: 0,
        };
        assert!(next("login").validate().is_ok());
        assert!(matches!(next("").validate(), Err(StateError::Invalid(_))));
        assert!(matches!(
            next(&"x".repeat(MAX_KEY_BYTES + 1)).validate(),
            Err(StateError::Invalid(_))
        ));
        let claim = |ttl| Op::Claim {
            plugin: plugin.clone(),
            value: "a@b".into(),
            event: event.clone(),
            ttl,
        };
        assert!(claim(60).validate().is_ok());
        assert!(claim(0).validate().is_err());
        assert!(claim(MAX_TTL_SECONDS + 1).validate().is_err());
        let set = |len: usize| Op::Set {
            plugin: plugin.clone(),
            key: "k".into(),
            value: vec![0; len],
            ttl: None,
        };
        assert!(set(MAX_VALUE_BYTES).validate().is_ok());
        assert!(set(MAX_VALUE_BYTES + 1).validate().is_err());
    }

    #[test]
    fn a_long_event_id_is_kept_as_its_hash() {
        let okta = "ev3VHd6fFFRUaYzo3xhYXQ7b";
        assert_eq!(bounded_event_id(okta), okta);
        let long = "e".repeat(250_000);
        let bounded = bounded_event_id(&long);
        assert!(
            bounded.starts_with("sha256:") && bounded.len() == 7 + 64,
            "{bounded}"
        );
        assert_eq!(bounded, bounded_event_id(&long));
        assert_ne!(bounded, bounded_event_id(&"e".repeat(250_001)));
        assert_eq!(bounded_event_id(&"e".repeat(128)).len(), 128);
    }
}
