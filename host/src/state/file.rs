//! Opening the embedded store's file: a new file is created whole (its tables made under a
//! temporary name, then renamed into place), and an existing one is opened only if it is an
//! importhook state file. A zero-length file, a file that is not redb, or a redb file of some
//! other program is refused, never taken as a new store: numbering would start again at 1 and
//! hand out numbers Okta already received.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use redb::{Database, ReadableDatabase, TableDefinition, TableHandle as _};

/// Marks a state file as importhook's: `format` → its version.
pub(super) const META: TableDefinition<&str, u64> = TableDefinition::new("importhook_meta");
/// Scratch space a reopened file must take and give back before it serves again.
const PROBE: TableDefinition<&str, &[u8]> = TableDefinition::new("importhook_probe");
/// How much [`check_headroom`] writes: a burst of calls' worth, so that a disk with room for a
/// few pages only (which the last commits' freed pages can give) does not pass for a usable
/// one and fail again at the next burst.
const HEADROOM_BYTES: usize = 256 << 10;
/// The version of the layout in this file.
const FORMAT: u64 = 1;
/// Table every state file has had, from before [`META`] existed.
const LEGACY_MARK: &str = "counters";
/// redb's file signature (its first bytes).
const REDB_MAGIC: [u8; 9] = [b'r', b'e', b'd', b'b', 0x1A, 0x0A, 0xA9, 0x0D, 0x0A];

/// Opens the state file at `path`, creating it (whole) when there is none. `init` creates the
/// store's tables in the transaction that marks the file as ours.
pub(super) fn open_or_create(
    path: &Path,
    init: impl Fn(&redb::WriteTransaction) -> Result<(), redb::Error>,
) -> anyhow::Result<Database> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => open_existing(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path, init),
        Err(e) => Err(e).context("cannot read its metadata"),
    }
}

/// Opens an existing state file, refusing what is not one.
pub(super) fn open_existing(path: &Path) -> anyhow::Result<Database> {
    let mut head = Vec::with_capacity(REDB_MAGIC.len());
    let meta = std::fs::metadata(path).context("cannot read its metadata")?;
    if !meta.is_file() {
        anyhow::bail!("not a regular file");
    }
    std::fs::File::open(path)
        .and_then(|f| f.take(REDB_MAGIC.len() as u64).read_to_end(&mut head))
        .context("cannot read it")?;
    if meta.len() == 0 {
        anyhow::bail!(
            "it is empty (zero bytes), not a state store: restore it from a backup, or delete it to start every counter again from 1"
        );
    }
    if head != REDB_MAGIC {
        anyhow::bail!(
            "it is not a state file (not a redb database): point state_path at importhook's state file, or move this file away"
        );
    }
    let db = Database::open(path).map_err(|e| match e {
        redb::DatabaseError::DatabaseAlreadyOpen => anyhow::anyhow!(
            "another process has it open (one importhook per state file; replicas share state through Redis: state_url)"
        ),
        other => anyhow::Error::new(other),
    })?;
    let ours = {
        let txn = db.begin_read()?;
        let names: Vec<String> = txn.list_tables()?.map(|t| t.name().to_owned()).collect();
        names.iter().any(|n| n == META.name() || n == LEGACY_MARK)
    };
    if !ours {
        anyhow::bail!(
            "it is a redb database of another program, not an importhook state file: point state_path elsewhere"
        );
    }
    Ok(db)
}

/// Commits [`HEADROOM_BYTES`] of scratch data and then its removal, each durably.
pub(super) fn check_headroom(db: &Database) -> anyhow::Result<()> {
    let scratch = vec![0x5a_u8; HEADROOM_BYTES];
    let txn = db.begin_write()?;
    txn.open_table(PROBE)?
        .insert("headroom", scratch.as_slice())?;
    txn.commit()?;
    let txn = db.begin_write()?;
    txn.open_table(PROBE)?.remove("headroom")?;
    txn.commit()?;
    Ok(())
}

/// Creates the store under a temporary name and renames it into place once its tables and
/// mark are committed, so a crash never leaves a half-made file that later looks foreign.
fn create(
    path: &Path,
    init: impl Fn(&redb::WriteTransaction) -> Result<(), redb::Error>,
) -> anyhow::Result<Database> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create its folder {}", parent.display()))?;
    }
    let mut tmp = PathBuf::from(path);
    tmp.as_mut_os_string().push(".new");
    let _ = std::fs::remove_file(&tmp);
    {
        let db = Database::create(&tmp).context("cannot create it")?;
        let txn = db.begin_write()?;
        txn.open_table(META)?.insert("format", FORMAT)?;
        init(&txn)?;
        txn.commit()?;
    }
    std::fs::rename(&tmp, path).context("cannot move the new file into place")?;
    open_existing(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch_dir(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("importhook-file-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        dir
    }

    fn no_tables(_: &redb::WriteTransaction) -> Result<(), redb::Error> {
        Ok(())
    }

    #[test]
    fn a_zero_length_or_foreign_file_is_refused_and_left_as_it_was() {
        let dir = scratch_dir("foreign");
        let empty = dir.join("empty.redb");
        std::fs::write(&empty, b"").expect("write");
        let refused = open_or_create(&empty, no_tables).expect_err("empty");
        assert!(format!("{refused:#}").contains("empty"), "{refused:#}");
        assert_eq!(std::fs::metadata(&empty).expect("meta").len(), 0);

        let text = dir.join("notes.redb");
        std::fs::write(&text, b"a shopping list\n").expect("write");
        let refused = open_or_create(&text, no_tables).expect_err("text");
        assert!(format!("{refused:#}").contains("not a redb"), "{refused:#}");

        // A redb database of some other program.
        let other = dir.join("other.redb");
        {
            let db = Database::create(&other).expect("create");
            let txn = db.begin_write().expect("txn");
            let table: TableDefinition<&str, u64> = TableDefinition::new("accounts");
            txn.open_table(table)
                .expect("table")
                .insert("a", 1)
                .expect("insert");
            txn.commit().expect("commit");
        }
        let refused = open_or_create(&other, no_tables).expect_err("other");
        assert!(
            format!("{refused:#}").contains("another program"),
            "{refused:#}"
        );

        // A new file is created whole and is ours when opened again.
        let new = dir.join("sub/state.redb");
        drop(open_or_create(&new, no_tables).expect("create"));
        assert!(!dir.join("sub/state.redb.new").exists());
        drop(open_or_create(&new, no_tables).expect("reopen"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
