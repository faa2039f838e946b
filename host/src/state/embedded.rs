//! The embedded state store: one redb file, written by one thread that commits every
//! operation waiting for it in one durable transaction (group commit). A plugin call waits for
//! its operation's commit, so an answer Okta receives never rests on a number that a crash
//! could hand out again; under load one fsync covers many calls. After an I/O error (disk
//! full, file made read-only) the writer reopens the file by itself, answering `unavailable`
//! meanwhile.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, RwLock};

use anyhow::Context as _;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use tokio::sync::oneshot;

use super::file::{self, META};
use super::writer::{Job, Shared, write_loop};
use super::{Entry, EntryKind, Op, Reply, StateError, StateStore, now_unix};

/// (plugin, counter) → last number handed out.
const COUNTERS: TableDefinition<(&str, &str), u64> = TableDefinition::new("counters");
/// (plugin, counter, event, nth) → (number, expires at).
const MEMOS: TableDefinition<(&str, &str, &str, u32), (u64, u64)> =
    TableDefinition::new("counter_events");
/// (plugin, value) → (event, expires at).
const CLAIMS: TableDefinition<(&str, &str), (&str, u64)> = TableDefinition::new("claims");
/// (plugin, key) → (value, expires at; 0 never).
const RECORDS: TableDefinition<(&str, &str), (&[u8], u64)> = TableDefinition::new("records");

/// A redb state file and the thread that writes it.
pub struct Embedded {
    shared: Arc<Shared>,
    jobs: mpsc::Sender<Job>,
    label: String,
}

impl std::fmt::Debug for Embedded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedded")
            .field("file", &self.label)
            .finish()
    }
}

impl Embedded {
    /// Opens the state file at `path`, or creates it when there is none; refuses a file that
    /// is not an importhook state file (see [`file`]). redb locks it: one process per file.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let db = file::open_or_create(path, create_tables)?;
        Self::start(db, Some(path.to_path_buf()), path.display().to_string())
    }

    /// A store in memory, gone when dropped.
    pub fn in_memory() -> Self {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(anyhow::Error::new)
            .and_then(|db| Self::start(db, None, "memory".into()));
        // Creating an empty in-memory database allocates and nothing else.
        db.unwrap_or_else(|e| panic!("in-memory state store: {e:#}"))
    }

    fn start(db: Database, path: Option<PathBuf>, label: String) -> anyhow::Result<Self> {
        // Create the tables once, so readers never meet a missing one (and mark a state file
        // made before the mark existed).
        let txn = db.begin_write()?;
        create_tables(&txn)?;
        txn.open_table(META)?.insert("format", 1)?;
        txn.commit()?;
        let shared = Arc::new(Shared {
            db: RwLock::new(Some(Arc::new(db))),
            healthy: AtomicBool::new(true),
            alive: AtomicBool::new(true),
        });
        let (jobs, queue) = mpsc::channel();
        let writer = shared.clone();
        std::thread::Builder::new()
            .name("importhook-state".into())
            .spawn(move || {
                write_loop(&writer, &queue, path.as_deref(), commit);
                writer.alive.store(false, Ordering::Release);
            })
            .context("cannot start the state writer thread")?;
        Ok(Self {
            shared,
            jobs,
            label,
        })
    }
}

fn create_tables(txn: &WriteTransaction) -> Result<(), redb::Error> {
    txn.open_table(COUNTERS)?;
    txn.open_table(MEMOS)?;
    txn.open_table(CLAIMS)?;
    txn.open_table(RECORDS)?;
    Ok(())
}

#[async_trait::async_trait]
impl StateStore for Embedded {
    fn backend(&self) -> &'static str {
        "embedded"
    }

    async fn apply(&self, op: Op) -> Result<Reply, StateError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { op, reply })
            .map_err(|_| StateError::Unavailable)?;
        answer.await.unwrap_or(Err(StateError::Unavailable))
    }

    async fn list(&self, plugin: &str) -> anyhow::Result<Vec<Entry>> {
        let db = self
            .shared
            .current()
            .context("the state file is being reopened after an I/O error")?;
        let plugin = plugin.to_owned();
        tokio::task::spawn_blocking(move || list(&db, &plugin)).await?
    }

    /// No I/O: the writer's own view (its last commit or reopen succeeded).
    async fn ping(&self) -> bool {
        self.shared.alive.load(Ordering::Acquire) && self.shared.healthy.load(Ordering::Acquire)
    }
}

pub(super) fn commit(
    db: &Database,
    jobs: &[Job],
    now: u64,
    sweep: bool,
) -> Result<Vec<Reply>, redb::Error> {
    let txn = db.begin_write()?;
    let mut replies = Vec::with_capacity(jobs.len());
    for job in jobs {
        replies.push(apply(&txn, &job.op, now)?);
    }
    if sweep {
        sweep_expired(&txn, now)?;
    }
    txn.commit()?;
    Ok(replies)
}

fn apply(txn: &WriteTransaction, op: &Op, now: u64) -> Result<Reply, redb::Error> {
    Ok(match op {
        Op::Next {
            plugin,
            counter,
            event,
            nth,
        } => {
            let mut memos = txn.open_table(MEMOS)?;
            let memo_key = (&**plugin, counter.as_str(), &**event, *nth);
            let known = memos
                .get(memo_key)?
                .map(|v| v.value())
                .filter(|&(_, expires)| expires > now);
            if let Some((number, _)) = known {
                return Ok(Reply::Number(number));
            }
            let mut counters = txn.open_table(COUNTERS)?;
            let key = (&**plugin, counter.as_str());
            let number = counters.get(key)?.map_or(0, |v| v.value()) + 1;
            counters.insert(key, number)?;
            memos.insert(memo_key, (number, now + super::EVENT_MEMORY.as_secs()))?;
            Reply::Number(number)
        }
        Op::Claim {
            plugin,
            value,
            event,
            ttl,
        } => {
            let mut claims = txn.open_table(CLAIMS)?;
            let key = (&**plugin, value.as_str());
            let held_by_other = claims.get(key)?.is_some_and(|v| {
                let (holder, expires) = v.value();
                expires > now && holder != &**event
            });
            if !held_by_other {
                claims.insert(key, (&**event, now + u64::from(*ttl)))?;
            }
            Reply::Held(!held_by_other)
        }
        Op::Release {
            plugin,
            value,
            event,
        } => {
            let mut claims = txn.open_table(CLAIMS)?;
            let key = (&**plugin, value.as_str());
            let ours = claims.get(key)?.is_some_and(|v| v.value().0 == &**event);
            if ours {
                claims.remove(key)?;
            }
            Reply::Done
        }
        Op::Get { plugin, key } => {
            let records = txn.open_table(RECORDS)?;
            let value = records.get((&**plugin, key.as_str()))?.and_then(|v| {
                let (bytes, expires) = v.value();
                (expires == 0 || expires > now).then(|| bytes.to_vec())
            });
            Reply::Value(value)
        }
        Op::Set {
            plugin,
            key,
            value,
            ttl,
        } => {
            let mut records = txn.open_table(RECORDS)?;
            let expires = ttl.map_or(0, |t| now + u64::from(t));
            records.insert((&**plugin, key.as_str()), (value.as_slice(), expires))?;
            Reply::Done
        }
        Op::Delete { plugin, kind, name } => {
            let key = (&**plugin, name.as_str());
            let removed = match kind {
                EntryKind::Counter => txn.open_table(COUNTERS)?.remove(key)?.is_some(),
                EntryKind::Claim => txn.open_table(CLAIMS)?.remove(key)?.is_some(),
                EntryKind::Record => txn.open_table(RECORDS)?.remove(key)?.is_some(),
            };
            Reply::Deleted(removed)
        }
    })
}

fn sweep_expired(txn: &WriteTransaction, now: u64) -> Result<(), redb::Error> {
    txn.open_table(MEMOS)?
        .retain(|_, (_, expires)| expires > now)?;
    txn.open_table(CLAIMS)?
        .retain(|_, (_, expires)| expires > now)?;
    txn.open_table(RECORDS)?
        .retain(|_, (_, expires)| expires == 0 || expires > now)?;
    Ok(())
}

fn list(db: &Database, plugin: &str) -> anyhow::Result<Vec<Entry>> {
    let txn = db.begin_read()?;
    let now = now_unix();
    let mut entries = Vec::new();
    let range = (plugin, "")..;
    for row in txn.open_table(COUNTERS)?.range(range.clone())? {
        let (key, value) = row?;
        let (owner, name) = key.value();
        if owner != plugin {
            break;
        }
        entries.push(Entry {
            kind: EntryKind::Counter,
            name: name.to_owned(),
            summary: value.value().to_string(),
            expires_at: None,
        });
    }
    for row in txn.open_table(CLAIMS)?.range(range.clone())? {
        let (key, value) = row?;
        let (owner, name) = key.value();
        if owner != plugin {
            break;
        }
        let (event, expires) = value.value();
        if expires > now {
            entries.push(Entry {
                kind: EntryKind::Claim,
                name: name.to_owned(),
                summary: format!("held by event {event}"),
                expires_at: Some(expires),
            });
        }
    }
    for row in txn.open_table(RECORDS)?.range(range)? {
        let (key, value) = row?;
        let (owner, name) = key.value();
        if owner != plugin {
            break;
        }
        let (bytes, expires) = value.value();
        if expires == 0 || expires > now {
            entries.push(Entry {
                kind: EntryKind::Record,
                name: name.to_owned(),
                summary: format!("{} bytes", bytes.len()),
                expires_at: (expires != 0).then_some(expires),
            });
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::ReadableTableMetadata;

    fn next(plugin: &str, event: &str, nth: u32) -> Op {
        Op::Next {
            plugin: plugin.into(),
            counter: "login".into(),
            event: event.into(),
            nth,
        }
    }

    fn claim(event: &str) -> Op {
        Op::Claim {
            plugin: "p".into(),
            value: "joe@example.com".into(),
            event: event.into(),
            ttl: 60,
        }
    }

    #[tokio::test]
    async fn counters_count_per_plugin_and_an_event_asking_again_gets_its_number() {
        let store = Embedded::in_memory();
        assert_eq!(store.apply(next("p", "e1", 0)).await, Ok(Reply::Number(1)));
        assert_eq!(store.apply(next("p", "e2", 0)).await, Ok(Reply::Number(2)));
        // Okta's retry of e1: the same number, the counter untouched.
        assert_eq!(store.apply(next("p", "e1", 0)).await, Ok(Reply::Number(1)));
        // A second `next` in one call is a new number, remembered as the second.
        assert_eq!(store.apply(next("p", "e1", 1)).await, Ok(Reply::Number(3)));
        assert_eq!(store.apply(next("p", "e1", 1)).await, Ok(Reply::Number(3)));
        // Another plugin's counter of the same name is its own.
        assert_eq!(store.apply(next("q", "e1", 0)).await, Ok(Reply::Number(1)));
        let entries = store.list("p").await.expect("list");
        assert_eq!(entries.len(), 1);
        assert_eq!(
            (entries[0].name.as_str(), entries[0].summary.as_str()),
            ("login", "3")
        );
    }

    #[tokio::test]
    async fn a_claim_is_held_by_one_event_until_released() {
        let store = Embedded::in_memory();
        assert_eq!(store.apply(claim("e1")).await, Ok(Reply::Held(true)));
        assert_eq!(store.apply(claim("e1")).await, Ok(Reply::Held(true)));
        assert_eq!(store.apply(claim("e2")).await, Ok(Reply::Held(false)));
        let release = |event: &str| Op::Release {
            plugin: "p".into(),
            value: "joe@example.com".into(),
            event: event.into(),
        };
        // Another event cannot release it.
        assert_eq!(store.apply(release("e2")).await, Ok(Reply::Done));
        assert_eq!(store.apply(claim("e2")).await, Ok(Reply::Held(false)));
        assert_eq!(store.apply(release("e1")).await, Ok(Reply::Done));
        assert_eq!(store.apply(claim("e2")).await, Ok(Reply::Held(true)));
    }

    #[tokio::test]
    async fn records_are_kept_and_deleted() {
        let store = Embedded::in_memory();
        let get = Op::Get {
            plugin: "p".into(),
            key: "k".into(),
        };
        assert_eq!(store.apply(get.clone()).await, Ok(Reply::Value(None)));
        let set = Op::Set {
            plugin: "p".into(),
            key: "k".into(),
            value: b"v".to_vec(),
            ttl: Some(60),
        };
        assert_eq!(store.apply(set).await, Ok(Reply::Done));
        assert_eq!(
            store.apply(get.clone()).await,
            Ok(Reply::Value(Some(b"v".to_vec())))
        );
        let delete = Op::Delete {
            plugin: "p".into(),
            kind: EntryKind::Record,
            name: "k".into(),
        };
        assert_eq!(store.apply(delete.clone()).await, Ok(Reply::Deleted(true)));
        assert_eq!(store.apply(delete).await, Ok(Reply::Deleted(false)));
        assert_eq!(store.apply(get).await, Ok(Reply::Value(None)));
    }

    #[test]
    fn expired_entries_are_not_seen_and_are_swept() {
        let store = Embedded::in_memory();
        let jobs = |op: Op| {
            let (reply, _answer) = oneshot::channel();
            vec![Job { op, reply }]
        };
        // A claim written at t=1000 for 60 s no longer holds at t=2000.
        let db = store.shared.current().expect("db");
        commit(&db, &jobs(claim("e1")), 1_000, false).expect("claim");
        let replies = commit(&db, &jobs(claim("e2")), 2_000, false).expect("claim");
        assert_eq!(replies, vec![Reply::Held(true)]);
        commit(&db, &jobs(next("p", "e", 0)), 1_000, false).expect("next");
        // Swept past the event memory: the event's memory and the claim are gone.
        let later = 2_000 + super::super::EVENT_MEMORY.as_secs() + 1;
        commit(&db, &[], later, true).expect("sweep");
        let txn = db.begin_read().expect("read");
        assert_eq!(txn.open_table(MEMOS).expect("memos").len().expect("len"), 0);
        assert_eq!(
            txn.open_table(CLAIMS).expect("claims").len().expect("len"),
            0
        );
        assert_eq!(
            txn.open_table(COUNTERS)
                .expect("counters")
                .len()
                .expect("len"),
            1
        );
    }

    #[test]
    fn a_second_process_on_the_file_is_refused_with_what_to_do() {
        let dir = std::env::temp_dir().join(format!("importhook-state-{}", std::process::id()));
        let path = dir.join("state.redb");
        let first = Embedded::open(&path).expect("first");
        let second = Embedded::open(&path).expect_err("second");
        assert!(format!("{second:#}").contains("state_url"), "{second:#}");
        drop(first);
        let _ = std::fs::remove_dir_all(dir);
    }
}
