//! What the plugins folder holds: plugins (`<stem>.wasm`), their manifests (`<stem>.toml`), and
//! anything else, which is a mistake worth naming (a native library dropped in, a build
//! artefact under the wrong name, a manifest whose plugin was never copied). Hidden entries
//! (`.cache`, editors' and Kubernetes' `..data`) are not looked at.
//!
//! Only regular files are ever opened (a symlink counts as what it points to), non-blocking and
//! read up to a size cap: a FIFO, a socket, a device (`/dev/zero`) or a huge file in the folder
//! is named and refused, and never blocks nor fills the process that reads the folder.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Largest plugin file read by default: the largest shipped component (the Python example,
/// 18.6 MB: CPython itself) with more than three times that to spare.
pub const DEFAULT_MAX_PLUGIN_BYTES: u64 = 64 << 20;
/// Largest manifest read.
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;

/// The entries of a plugins folder, each list in file-name order.
#[derive(Debug, Default)]
pub struct Folder {
    /// `*.wasm` regular files: the plugins, in running order.
    pub plugins: Vec<PathBuf>,
    /// Entries that are neither a plugin nor a manifest, with what they are.
    pub strays: Vec<(PathBuf, String)>,
    /// `<stem>.toml` files without a `<stem>.wasm`.
    pub orphan_manifests: Vec<PathBuf>,
}

impl Folder {
    /// Reads `dir` (not recursively). Looks at each entry's type without opening it.
    pub fn scan(dir: &Path) -> anyhow::Result<Self> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read plugins folder {}", dir.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| {
                !path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        paths.sort();
        let mut folder = Self::default();
        for path in &paths {
            let ext = path.extension().and_then(|e| e.to_str());
            // Follows a symlink: what counts is what it points to.
            let kind = match std::fs::metadata(path) {
                Ok(meta) => special_kind(&meta.file_type()),
                Err(e) => Some(format!("unreadable ({e})")),
            };
            match kind {
                Some(what) => folder.strays.push((path.clone(), what)),
                None if ext == Some("wasm") => folder.plugins.push(path.clone()),
                None if ext == Some("toml") => {
                    if !path.with_extension("wasm").is_file() {
                        folder.orphan_manifests.push(path.clone());
                    }
                }
                None => folder.strays.push((path.clone(), what_it_is(path))),
            }
        }
        Ok(folder)
    }
}

/// What an entry that is not a regular file is, or `None` for a regular file.
fn special_kind(kind: &std::fs::FileType) -> Option<String> {
    if kind.is_dir() {
        return Some("a folder: plugins are files directly in the plugins folder".to_owned());
    }
    crate::regular_file::special_kind(kind).map(str::to_owned)
}

/// Reads the plugin or manifest at `path`: a regular file (or a symlink to one), at most
/// `max_bytes` (see [`crate::regular_file::read`]).
pub fn read_bounded(path: &Path, max_bytes: u64) -> anyhow::Result<Vec<u8>> {
    crate::regular_file::read(path, max_bytes, "max_plugin_bytes")
}

/// What a regular file that is not named `*.wasm` is, from its first bytes.
fn what_it_is(path: &Path) -> String {
    let read = File::options()
        .read(true)
        .custom_flags(crate::regular_file::NONBLOCK)
        .open(path)
        .and_then(|file| {
            let mut head = Vec::with_capacity(8);
            file.take(8).read_to_end(&mut head).map(|_| head)
        });
    match read {
        Err(e) => format!("unreadable ({e})"),
        Ok(head) => super::componentize::describe(&head),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugins_manifests_and_strays_are_told_apart() {
        let dir = std::env::temp_dir().join(format!("importhook-folder-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join(".cache")).expect("dir");
        std::fs::create_dir_all(dir.join("sub")).expect("dir");
        let component = [0, b'a', b's', b'm', 0x0d, 0, 1, 0];
        for (name, bytes) in [
            ("20-b.wasm", &component[..]),
            ("10-a.wasm", &component[..]),
            ("10-a.toml", b"timeout_ms = 50"),
            ("30-c.toml", b"on_error = \"fail\""),
            ("libstrategy.so", b"\x7fELF\x02\x01\x01\0\0\0"),
            ("plugin.wasm.bak", &component[..]),
            ("notes.txt", b"hello world"),
            (".hidden", b"ignored"),
        ] {
            std::fs::write(dir.join(name), bytes).expect("write");
        }
        let folder = Folder::scan(&dir).expect("scan");
        let names = |paths: &[PathBuf]| -> Vec<String> {
            paths
                .iter()
                .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(names(&folder.plugins), ["10-a.wasm", "20-b.wasm"]);
        assert_eq!(names(&folder.orphan_manifests), ["30-c.toml"]);
        let strays: Vec<(String, String)> = folder
            .strays
            .iter()
            .map(|(p, what)| (names(std::slice::from_ref(p)).remove(0), what.clone()))
            .collect();
        assert_eq!(strays.len(), 4, "{strays:?}");
        assert!(strays[0].0 == "libstrategy.so" && strays[0].1.contains("native ELF"));
        assert!(strays[1].0 == "notes.txt" && strays[1].1.contains("not a wasm binary"));
        assert!(strays[2].0 == "plugin.wasm.bak" && strays[2].1.contains("named *.wasm"));
        assert!(strays[3].0 == "sub" && strays[3].1.contains("a folder"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn mkfifo(path: &Path) {
        let status = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .expect("mkfifo");
        assert!(status.success());
    }

    #[test]
    fn fifos_devices_folders_and_huge_files_are_named_and_never_block_nor_fill_memory() {
        let dir = std::env::temp_dir().join(format!("importhook-odd-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("x.wasm")).expect("dir");
        mkfifo(&dir.join("z.wasm"));
        mkfifo(&dir.join("notes"));
        std::os::unix::fs::symlink("/dev/zero", dir.join("y.wasm")).expect("symlink");
        std::os::unix::fs::symlink("/nowhere", dir.join("dangling.wasm")).expect("symlink");
        // 200 MB, sparse: costs no disk, and reading it whole would cost 200 MB of memory.
        let huge = std::fs::File::create(dir.join("w.wasm")).expect("huge");
        huge.set_len(200_000_000).expect("set_len");
        // A symlink to a regular file is that file.
        std::fs::write(dir.join("real.bin"), [0, b'a', b's', b'm', 0x0d, 0, 1, 0]).expect("w");
        std::os::unix::fs::symlink(dir.join("real.bin"), dir.join("v.wasm")).expect("symlink");

        let started = std::time::Instant::now();
        let folder = Folder::scan(&dir).expect("scan");
        let name = |p: &Path| p.file_name().expect("name").to_string_lossy().into_owned();
        let plugins: Vec<String> = folder.plugins.iter().map(|p| name(p)).collect();
        assert_eq!(plugins, ["v.wasm", "w.wasm"]);
        let strays: std::collections::HashMap<String, String> = folder
            .strays
            .iter()
            .map(|(p, what)| (name(p), what.clone()))
            .collect();
        assert!(strays["z.wasm"].contains("FIFO"), "{strays:?}");
        assert!(strays["notes"].contains("FIFO"), "{strays:?}");
        assert!(strays["y.wasm"].contains("device"), "{strays:?}");
        assert!(strays["x.wasm"].contains("folder"), "{strays:?}");
        assert!(strays["dangling.wasm"].contains("unreadable"), "{strays:?}");

        let cap = DEFAULT_MAX_PLUGIN_BYTES;
        let refused = read_bounded(&dir.join("w.wasm"), cap).expect_err("huge");
        assert!(
            format!("{refused:#}").contains("max_plugin_bytes"),
            "{refused:#}"
        );
        // Read directly (a swap after the scan): refused on the open file, without blocking.
        for (file, what) in [("z.wasm", "FIFO"), ("y.wasm", "device"), ("x.wasm", "")] {
            let refused = read_bounded(&dir.join(file), cap).expect_err(file);
            assert!(format!("{refused:#}").contains(what), "{file}: {refused:#}");
        }
        assert_eq!(
            read_bounded(&dir.join("v.wasm"), cap).expect("link").len(),
            8
        );
        assert!(read_bounded(&dir.join("v.wasm"), 7).is_err());
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
