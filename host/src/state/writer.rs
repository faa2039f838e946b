//! The embedded store's writer thread: takes the operations waiting, commits them together
//! (group commit), answers each after the durable commit, and after an I/O error (disk full,
//! file made read-only or immutable) reopens the file by itself, answering `unavailable`
//! meanwhile.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use redb::Database;
use tokio::sync::oneshot;

use super::file;
use super::{Op, Reply, StateError, now_unix};

/// Most operations committed in one transaction.
const MAX_BATCH: usize = 512;
/// How often expired event memories, claims and records are deleted.
const SWEEP_EVERY: Duration = Duration::from_secs(600);
/// First wait before reopening the file after an I/O error; it doubles up to [`REOPEN_MAX`].
const REOPEN_FIRST: Duration = Duration::from_millis(50);
/// Longest wait between two reopen attempts.
const REOPEN_MAX: Duration = Duration::from_secs(2);

pub(super) struct Job {
    pub(super) op: Op,
    pub(super) reply: oneshot::Sender<Result<Reply, StateError>>,
}

/// What the writer thread and the readers share.
pub(super) struct Shared {
    /// The open database; `None` while it is being reopened.
    pub(super) db: RwLock<Option<Arc<Database>>>,
    /// False from a failed commit until the file is reopened and written through again.
    pub(super) healthy: AtomicBool,
    /// False once the writer thread has ended.
    pub(super) alive: AtomicBool,
}

impl Shared {
    pub(super) fn current(&self) -> Option<Arc<Database>> {
        self.db
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn set(&self, db: Option<Arc<Database>>) {
        *self
            .db
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = db;
    }
}

/// Takes every job waiting (up to [`MAX_BATCH`]), applies them in one transaction and answers
/// them after its durable commit; if the commit fails, every job in it fails `unavailable`
/// and nothing of it was written. After a failed commit redb refuses every later one on that
/// handle, so the file is reopened (see [`recover`]).
/// Commits a batch of jobs at `now` in one transaction (sweeping expired entries when asked),
/// one reply per job: the store's schema, which the writer does not know.
pub(super) type Commit = fn(&Database, &[Job], u64, bool) -> Result<Vec<Reply>, redb::Error>;

pub(super) fn write_loop(
    shared: &Shared,
    queue: &mpsc::Receiver<Job>,
    path: Option<&Path>,
    commit: Commit,
) {
    let mut last_sweep = Instant::now();
    while let Ok(first) = queue.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let sweep = last_sweep.elapsed() >= SWEEP_EVERY;
        if sweep {
            last_sweep = Instant::now();
        }
        let Some(db) = shared.current() else {
            refuse(jobs);
            continue;
        };
        match commit(&db, &jobs, now_unix(), sweep) {
            Ok(replies) => {
                for (job, reply) in jobs.into_iter().zip(replies) {
                    let _ = job.reply.send(Ok(reply));
                }
            }
            Err(e) => {
                let operations = jobs.len();
                refuse(jobs);
                drop(db);
                match path {
                    Some(path) => recover(shared, queue, path, &e, operations),
                    None => tracing::error!(error = %e, operations, "state commit failed"),
                }
            }
        }
    }
}

fn refuse(jobs: Vec<Job>) {
    for job in jobs {
        let _ = job.reply.send(Err(StateError::Unavailable));
    }
}

/// One episode of the file failing: says so once, answers every call `unavailable` at once
/// meanwhile, and reopens the file with a growing wait until it opens and a write through it
/// commits. Numbers are never handed out twice across it: a call is answered only after its
/// commit, a failed commit wrote nothing, and the reopened file holds every commit answered.
fn recover(
    shared: &Shared,
    queue: &mpsc::Receiver<Job>,
    path: &Path,
    cause: &redb::Error,
    operations: usize,
) {
    shared.healthy.store(false, Ordering::Release);
    tracing::error!(
        file = %path.display(),
        error = %cause,
        operations,
        "state file failed: state calls answer unavailable until it is reopened"
    );
    let started = Instant::now();
    // redb refuses every commit on a handle after an I/O error: only a new one can write.
    shared.set(None);
    let mut wait = REOPEN_FIRST;
    let mut attempts = 0u32;
    loop {
        if !refuse_for(queue, wait) {
            return;
        }
        attempts += 1;
        match reopen(path) {
            Ok(db) => {
                shared.set(Some(Arc::new(db)));
                shared.healthy.store(true, Ordering::Release);
                tracing::info!(
                    file = %path.display(),
                    attempts,
                    down_ms = started.elapsed().as_millis() as u64,
                    "state file reopened: state calls are answered again"
                );
                return;
            }
            Err(e) => {
                tracing::debug!(error = %format!("{e:#}"), attempts, "state file not reopened yet")
            }
        }
        wait = (wait * 2).min(REOPEN_MAX);
    }
}

/// Answers `unavailable` to every job arriving within `wait`; false when the store is gone.
fn refuse_for(queue: &mpsc::Receiver<Job>, wait: Duration) -> bool {
    let until = Instant::now() + wait;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        match queue.recv_timeout(left) {
            Ok(job) => refuse(vec![job]),
            Err(mpsc::RecvTimeoutError::Timeout) => return true,
            Err(mpsc::RecvTimeoutError::Disconnected) => return false,
        }
    }
}

/// Opens the file again (never creating it: a vanished file is not a new store) and checks
/// that durable writes go through with room to spare (see [`file::check_headroom`]).
fn reopen(path: &Path) -> anyhow::Result<Database> {
    let db = file::open_existing(path)?;
    file::check_headroom(&db)?;
    Ok(db)
}
