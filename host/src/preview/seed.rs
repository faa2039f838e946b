//! The preview's state store: a scratch store in memory seeded from the real one, which is
//! only read. Counters go on from the real store's numbers, its live claims are held and its
//! records read, so plugins answer as they would in the real run; nothing a preview does is
//! written back, so it never uses up a counter number or a claim.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use anyhow::Context as _;

use crate::state::{
    Embedded, Entry, EntryKind, MAX_TTL_SECONDS, Op, Reply, StateConfig, StateError, StateStore,
};

/// The seeded scratch store.
#[derive(Debug)]
pub struct Seeded {
    scratch: Embedded,
    /// The real store's last number of each `(plugin, counter)`.
    offsets: RwLock<HashMap<(String, String), u64>>,
}

/// What seeding found, for the terminal (counts only).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Seeding {
    /// Counters carried over.
    pub counters: usize,
    /// Claims carried over.
    pub claims: usize,
    /// Records carried over.
    pub records: usize,
}

impl Seeded {
    /// An empty scratch store; [`Seeded::seed`] fills it.
    pub fn new() -> Self {
        Self {
            scratch: Embedded::in_memory(),
            offsets: RwLock::new(HashMap::new()),
        }
    }

    /// Opens the real store `config` names read-only and copies into this one what `plugins`
    /// keep there. The state file is copied first and the copy read, so the real file is
    /// neither written nor locked (a running `serve` may hold it). A state file that does
    /// not exist seeds nothing.
    pub async fn seed(&self, config: &StateConfig, plugins: &[String]) -> anyhow::Result<Seeding> {
        let (base, _copy): (Arc<dyn StateStore>, Option<CopyDir>) = match config {
            StateConfig::Embedded(path) if !path.exists() => return Ok(Seeding::default()),
            StateConfig::Embedded(path) => {
                let copy = CopyDir::new()?;
                let file = copy.0.join("state.redb");
                std::fs::copy(path, &file)
                    .with_context(|| format!("cannot copy the state file {}", path.display()))?;
                let store = Embedded::open(&file)
                    .with_context(|| format!("cannot read the state file {}", path.display()))?;
                (Arc::new(store), Some(copy))
            }
            StateConfig::Redis { .. } => (crate::state::open(config)?, None),
        };
        self.fill(&*base, plugins).await
    }

    async fn fill(&self, base: &dyn StateStore, plugins: &[String]) -> anyhow::Result<Seeding> {
        let mut seeding = Seeding::default();
        let now = crate::state::now_unix();
        let failed = |e: StateError| anyhow::anyhow!("seeding the preview's state: {e}");
        for plugin in plugins {
            let namespace: Arc<str> = plugin.as_str().into();
            let entries = base
                .list(plugin)
                .await
                .with_context(|| format!("cannot read the state of plugin {plugin}"))?;
            for Entry {
                kind,
                name,
                summary,
                expires_at,
            } in entries
            {
                let ttl = expires_at.map(|at| {
                    u32::try_from(at.saturating_sub(now))
                        .unwrap_or(MAX_TTL_SECONDS)
                        .clamp(1, MAX_TTL_SECONDS)
                });
                match kind {
                    EntryKind::Counter => {
                        let last = summary.parse().unwrap_or(0);
                        self.offsets
                            .write()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .insert((plugin.clone(), name), last);
                        seeding.counters += 1;
                    }
                    EntryKind::Claim => {
                        let holder = summary.strip_prefix("held by event ").unwrap_or(&summary);
                        let op = Op::Claim {
                            plugin: namespace.clone(),
                            value: name,
                            event: holder.into(),
                            ttl: ttl.unwrap_or(MAX_TTL_SECONDS),
                        };
                        self.scratch.apply(op).await.map_err(failed)?;
                        seeding.claims += 1;
                    }
                    EntryKind::Record => {
                        let get = Op::Get {
                            plugin: namespace.clone(),
                            key: name.clone(),
                        };
                        if let Reply::Value(Some(value)) = base.apply(get).await.map_err(failed)? {
                            let set = Op::Set {
                                plugin: namespace.clone(),
                                key: name,
                                value,
                                ttl,
                            };
                            self.scratch.apply(set).await.map_err(failed)?;
                            seeding.records += 1;
                        }
                    }
                }
            }
        }
        Ok(seeding)
    }
}

impl Default for Seeded {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait::async_trait]
impl StateStore for Seeded {
    fn backend(&self) -> &'static str {
        "preview"
    }

    async fn apply(&self, op: Op) -> Result<Reply, StateError> {
        let offset = match &op {
            Op::Next {
                plugin, counter, ..
            } => self
                .offsets
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&(plugin.to_string(), counter.clone()))
                .copied()
                .unwrap_or(0),
            _ => 0,
        };
        match self.scratch.apply(op).await? {
            Reply::Number(n) => Ok(Reply::Number(n + offset)),
            other => Ok(other),
        }
    }

    async fn list(&self, plugin: &str) -> anyhow::Result<Vec<Entry>> {
        self.scratch.list(plugin).await
    }

    async fn ping(&self) -> bool {
        self.scratch.ping().await
    }
}

/// A private folder for the copy of the state file, removed on drop.
struct CopyDir(std::path::PathBuf);

impl CopyDir {
    fn new() -> anyhow::Result<Self> {
        use std::os::unix::fs::DirBuilderExt;
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("importhook-preview-{}-{n}", std::process::id()));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for CopyDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(event: &str) -> Op {
        Op::Next {
            plugin: "p".into(),
            counter: "joe@x.io".into(),
            event: event.into(),
            nth: 0,
        }
    }

    #[tokio::test]
    async fn counters_go_on_from_the_real_store_which_is_never_written() {
        let dir = CopyDir::new().expect("dir");
        let path = dir.0.join("real.redb");
        {
            let real = Embedded::open(&path).expect("open");
            for event in ["a", "b", "c"] {
                real.apply(next(event)).await.expect("next");
            }
            let claim = Op::Claim {
                plugin: "p".into(),
                value: "taken@x.io".into(),
                event: "a".into(),
                ttl: 60,
            };
            real.apply(claim).await.expect("claim");
        }
        let config = StateConfig::Embedded(path.clone());
        let store = Seeded::new();
        let seeding = store.seed(&config, &["p".to_owned()]).await.expect("seed");
        assert_eq!((seeding.counters, seeding.claims), (1, 1));
        assert_eq!(store.apply(next("d")).await, Ok(Reply::Number(4)));
        assert_eq!(store.apply(next("e")).await, Ok(Reply::Number(5)));
        // The same event asking again gets its number again.
        assert_eq!(store.apply(next("d")).await, Ok(Reply::Number(4)));
        let claim = Op::Claim {
            plugin: "p".into(),
            value: "taken@x.io".into(),
            event: "z".into(),
            ttl: 60,
        };
        assert_eq!(store.apply(claim).await, Ok(Reply::Held(false)));
        drop(store);
        // A second preview starts from the real store's number again: nothing was written.
        let again = Seeded::new();
        again.seed(&config, &["p".to_owned()]).await.expect("seed");
        assert_eq!(again.apply(next("d")).await, Ok(Reply::Number(4)));
        let real = Embedded::open(&path).expect("reopen");
        let counter = real.list("p").await.expect("list");
        assert_eq!(counter[0].summary, "3");
    }
}
