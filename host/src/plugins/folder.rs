//! What the plugins folder holds: plugins (`<stem>.wasm`), their manifests (`<stem>.toml`), and
//! anything else, which is a mistake worth naming (a native library dropped in, a build
//! artefact under the wrong name, a manifest whose plugin was never copied). Hidden entries
//! (`.cache`, editors' and Kubernetes' `..data`) are not looked at.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// The entries of a plugins folder, each list in file-name order.
#[derive(Debug, Default)]
pub struct Folder {
    /// `*.wasm` files: the plugins, in running order.
    pub plugins: Vec<PathBuf>,
    /// Entries that are neither a plugin nor a manifest, with what they are.
    pub strays: Vec<(PathBuf, String)>,
    /// `<stem>.toml` files without a `<stem>.wasm`.
    pub orphan_manifests: Vec<PathBuf>,
}

impl Folder {
    /// Reads `dir` (not recursively).
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
            if path.is_dir() {
                folder.strays.push((
                    path.clone(),
                    "a folder: plugins are files directly in the plugins folder".to_owned(),
                ));
            } else if ext == Some("wasm") {
                folder.plugins.push(path.clone());
            } else if ext == Some("toml") {
                if !path.with_extension("wasm").is_file() {
                    folder.orphan_manifests.push(path.clone());
                }
            } else {
                folder.strays.push((path.clone(), what_it_is(path)));
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
        for path in &self.plugins {
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
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

/// What a file that is not named `*.wasm` is, from its first bytes.
fn what_it_is(path: &Path) -> String {
    use std::io::Read;
    let mut head = Vec::with_capacity(8);
    let read = std::fs::File::open(path).and_then(|file| file.take(8).read_to_end(&mut head));
    match read {
        Err(e) => format!("unreadable ({e})"),
        Ok(_) => super::componentize::describe(&head),
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
}
