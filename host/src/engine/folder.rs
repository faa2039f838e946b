//! What the plugins folders hold: plugins (`<stem>.wasm`), their manifests (`<stem>.toml`), and
//! anything else, which is a mistake worth naming (a native library dropped in, a build
//! artefact under the wrong name, a manifest whose plugin was never copied). Hidden entries
//! (`.cache`, editors' and Kubernetes' `..data`) are not looked at.
//!
//! The `plugins` setting names one folder or several separated by `:` (like `PATH`). Several
//! are laid over each other file by file, a later folder's file replacing an earlier one's of
//! the same name: an image's plugins stay visible under a folder of the operator's own, which
//! can add plugins or replace one plugin's manifest without rebuilding the image.
//!
//! Only regular files are ever opened (a symlink counts as what it points to), non-blocking and
//! read up to a size cap: a FIFO, a socket, a device (`/dev/zero`) or a huge file in the folder
//! is named and refused, and never blocks nor fills the process that reads the folder.

use std::collections::BTreeMap;
use std::ffi::OsString;
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

/// The folders `spec` (the `plugins` setting) names, in overlay order.
pub fn folders(spec: &Path) -> Vec<PathBuf> {
    std::env::split_paths(spec.as_os_str())
        .filter(|dir| !dir.as_os_str().is_empty())
        .collect()
}

/// Where compiled plugins are cached unless `cache_dir` says otherwise: in the first folder.
pub fn default_cache_dir(spec: &Path) -> PathBuf {
    folders(spec)
        .into_iter()
        .next()
        .unwrap_or_else(|| PathBuf::from("plugins.d"))
        .join(".cache")
}

/// One plugin and the manifest that goes with it (which need not exist: defaults apply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The `<stem>.wasm` file.
    pub wasm: PathBuf,
    /// The `<stem>.toml` of the last folder that has one, else the path beside the plugin.
    pub manifest: PathBuf,
}

/// The entries of the plugins folders, each list in file-name order.
#[derive(Debug, Default)]
pub struct Folder {
    /// `*.wasm` regular files: the plugins, in running order.
    pub plugins: Vec<Entry>,
    /// Entries that are neither a plugin nor a manifest, with what they are.
    pub strays: Vec<(PathBuf, String)>,
    /// `<stem>.toml` files without a `<stem>.wasm` in any folder.
    pub orphan_manifests: Vec<PathBuf>,
    /// A later folder's file that replaced an earlier one's: (used, replaced).
    pub overrides: Vec<(PathBuf, PathBuf)>,
}

impl Folder {
    /// Reads the folders `spec` names (not recursively) and lays them over each other. Looks
    /// at each entry's type without opening it.
    pub fn scan(spec: &Path) -> anyhow::Result<Self> {
        let dirs = folders(spec);
        anyhow::ensure!(!dirs.is_empty(), "no plugins folder named");
        let mut folder = Self::default();
        let mut merged: BTreeMap<OsString, PathBuf> = BTreeMap::new();
        for dir in &dirs {
            let entries = std::fs::read_dir(dir)
                .with_context(|| format!("cannot read plugins folder {}", dir.display()))?;
            let mut paths: Vec<PathBuf> = entries
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|path| {
                    !path
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect();
            paths.sort();
            for path in paths {
                let Some(name) = path.file_name().map(ToOwned::to_owned) else {
                    continue;
                };
                if let Some(replaced) = merged.insert(name, path.clone()) {
                    folder.overrides.push((path, replaced));
                }
            }
        }
        let has = |name: String| merged.contains_key(&OsString::from(name));
        for (name, path) in &merged {
            let ext = path.extension().and_then(|e| e.to_str());
            let stem = Path::new(name)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            // Follows a symlink: what counts is what it points to.
            let kind = match std::fs::metadata(path) {
                Ok(meta) => special_kind(&meta.file_type()),
                Err(e) => Some(format!("unreadable ({e})")),
            };
            match kind {
                Some(what) => folder.strays.push((path.clone(), what)),
                None if ext == Some("wasm") => {
                    let manifest = merged
                        .get(&OsString::from(format!("{stem}.toml")))
                        .cloned()
                        .unwrap_or_else(|| path.with_extension("toml"));
                    folder.plugins.push(Entry {
                        wasm: path.clone(),
                        manifest,
                    });
                }
                None if ext == Some("toml") => {
                    if !has(format!("{stem}.wasm")) {
                        folder.orphan_manifests.push(path.clone());
                    }
                }
                None => folder.strays.push((path.clone(), what_it_is(path))),
            }
        }
        Ok(folder)
    }
}

impl Folder {
    /// One warning per order number (the digits a plugin's name starts with) that more than
    /// one plugin has: they then run in file-name order, which a rename changes silently.
    pub fn shared_orders(&self) -> Vec<String> {
        let mut by_order: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
        for entry in &self.plugins {
            let Some(name) = entry.wasm.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let digits = name.len() - name.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if digits > 0 {
                by_order
                    .entry(&name[..digits])
                    .or_default()
                    .push(name.to_owned());
            }
        }
        by_order
            .into_iter()
            .filter(|(_, names)| names.len() > 1)
            .map(|(order, names)| {
                format!(
                    "{} share the order number {order}: they run in file-name order; give each a number of its own",
                    names.join(", ")
                )
            })
            .collect()
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
        let wasm: Vec<PathBuf> = folder.plugins.iter().map(|e| e.wasm.clone()).collect();
        assert_eq!(names(&wasm), ["10-a.wasm", "20-b.wasm"]);
        assert_eq!(folder.plugins[0].manifest, dir.join("10-a.toml"));
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
        assert!(folder.shared_orders().is_empty());
        std::fs::write(dir.join("10-z.wasm"), component).expect("write");
        std::fs::write(dir.join("100-y.wasm"), component).expect("write");
        let shared = Folder::scan(&dir).expect("scan").shared_orders();
        assert_eq!(
            shared,
            [
                "10-a.wasm, 10-z.wasm share the order number 10: they run in file-name order; give each a number of its own"
            ]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn several_folders_are_laid_over_each_other_file_by_file() {
        let root = std::env::temp_dir().join(format!("importhook-overlay-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let (image, user) = (root.join("image"), root.join("user"));
        std::fs::create_dir_all(&image).expect("dir");
        std::fs::create_dir_all(&user).expect("dir");
        let component = [0, b'a', b's', b'm', 0x0d, 0, 1, 0];
        for (dir, name, bytes) in [
            (&image, "10-a.wasm", &component[..]),
            (&image, "10-a.toml", b"timeout_ms = 50"),
            (&image, "30-c.wasm", &component[..]),
            (&user, "10-a.toml", b"timeout_ms = 70"),
            (&user, "20-b.wasm", &component[..]),
            (&user, "30-c.toml", b"timeout_ms = 90"),
            (&user, "40-d.toml", b"timeout_ms = 90"),
        ] {
            std::fs::write(dir.join(name), bytes).expect("write");
        }
        let spec = std::env::join_paths([&image, &user]).expect("join");
        assert_eq!(folders(Path::new(&spec)), [image.clone(), user.clone()]);
        assert_eq!(default_cache_dir(Path::new(&spec)), image.join(".cache"));
        let folder = Folder::scan(Path::new(&spec)).expect("scan");
        // File-name order across folders; the user folder's manifest replaces the image's,
        // and a manifest there may belong to a plugin of the image.
        assert_eq!(
            folder.plugins,
            [
                Entry {
                    wasm: image.join("10-a.wasm"),
                    manifest: user.join("10-a.toml")
                },
                Entry {
                    wasm: user.join("20-b.wasm"),
                    manifest: user.join("20-b.toml")
                },
                Entry {
                    wasm: image.join("30-c.wasm"),
                    manifest: user.join("30-c.toml")
                },
            ]
        );
        assert_eq!(folder.orphan_manifests, [user.join("40-d.toml")]);
        assert_eq!(
            folder.overrides,
            [(user.join("10-a.toml"), image.join("10-a.toml"))]
        );
        // A folder that cannot be read is named, not skipped.
        let missing = std::env::join_paths([&image, &root.join("nope")]).expect("join");
        let err = Folder::scan(Path::new(&missing)).expect_err("missing folder");
        assert!(format!("{err:#}").contains("nope"), "{err:#}");
        let _ = std::fs::remove_dir_all(&root);
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
        let plugins: Vec<String> = folder.plugins.iter().map(|p| name(&p.wasm)).collect();
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
