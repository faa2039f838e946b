//! Reading a file that must be a regular file (plugins, manifests, certificate, key, secret
//! file): opened non-blocking, its type checked on the open file (a symlink counts as what it
//! points to), and refused past a size cap before anything is read. A FIFO, socket or device
//! put in its place (`/dev/zero`) is named and refused at once: it never blocks the reader nor
//! fills its memory.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use anyhow::Context;

/// `O_NONBLOCK`: opening a FIFO for reading returns at once instead of waiting for a writer.
pub const NONBLOCK: i32 = rustix::fs::OFlags::NONBLOCK.bits() as i32;
/// Cap for small configuration files (certificate chain, key, secrets).
pub const MAX_SMALL_FILE_BYTES: u64 = 1 << 20;

/// What a file type that is not a regular file is, or `None` for a regular file.
pub fn special_kind(kind: &std::fs::FileType) -> Option<&'static str> {
    Some(if kind.is_file() {
        return None;
    } else if kind.is_dir() {
        "a folder, not a file"
    } else if kind.is_fifo() {
        "a FIFO (named pipe), not a file: never read"
    } else if kind.is_socket() {
        "a socket, not a file: never read"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device, not a file: never read"
    } else {
        "not a regular file: never read"
    })
}

/// Reads the regular file at `path`, at most `max_bytes` (`limit` names the setting in the
/// error).
pub fn read(path: &Path, max_bytes: u64, limit: &str) -> anyhow::Result<Vec<u8>> {
    let file = File::options()
        .read(true)
        .custom_flags(NONBLOCK)
        .open(path)
        .context("cannot open the file")?;
    let meta = file.metadata().context("cannot read the file's type")?;
    if let Some(what) = special_kind(&meta.file_type()) {
        anyhow::bail!("{what}");
    }
    if meta.len() > max_bytes {
        anyhow::bail!(
            "{} bytes, over the limit of {max_bytes} ({limit})",
            meta.len()
        );
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // The file may grow after the check: never read past the cap.
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .context("cannot read the file")?;
    if bytes.len() as u64 > max_bytes {
        anyhow::bail!("grew over the limit of {max_bytes} bytes ({limit}) while read");
    }
    Ok(bytes)
}
