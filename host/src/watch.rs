//! Watches the plugins folder, the TLS certificate and key, and the secret file. A change, once
//! quiet for a moment (editors and `cp` write in several steps), triggers the same validated
//! reload as SIGHUP.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
use notify::{RecursiveMode, Watcher};

use crate::config::Settings;
use crate::reload::Reloader;
use crate::tls::TlsSource;

/// Kubernetes updates a mounted ConfigMap or Secret by pointing this symlink of the volume at a
/// new folder (its atomic writer); the files' own names, symlinks through it, see no event.
const KUBERNETES_DATA: &str = "..data";

/// How long the files must stay untouched before a reload starts.
pub const QUIET_PERIOD: Duration = Duration::from_millis(500);

/// What to react to in one watched folder: any plugin file, or one named file.
#[derive(Debug)]
struct Interest {
    dir: PathBuf,
    file: Option<OsString>,
}

impl Interest {
    fn matches(&self, path: &Path) -> bool {
        if path.parent() != Some(self.dir.as_path()) {
            return false;
        }
        if path.file_name().is_some_and(|name| name == KUBERNETES_DATA) {
            return true;
        }
        match &self.file {
            Some(name) => path.file_name() == Some(name.as_os_str()),
            // The plugin files themselves; not the compile cache the reload writes.
            None => path
                .extension()
                .is_some_and(|ext| ext == "wasm" || ext == "toml"),
        }
    }
}

/// Whether an event can mean new content. Reads are not changes: inotify reports every open
/// of a watched file, and the reload itself, a backup or a monitoring agent reading the
/// certificate would otherwise trigger reload after reload. A file closed after writing is.
fn is_change(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        // Access times only; a permission change may make a file readable, so it counts.
        EventKind::Modify(ModifyKind::Metadata(notify::event::MetadataKind::AccessTime)) => false,
        EventKind::Any | EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) => true,
        EventKind::Other => true,
    }
}

fn interests(settings: &Settings) -> Vec<Interest> {
    let mut interests = Vec::new();
    for dir in crate::engine::folders(&settings.plugins_dir) {
        if let Ok(dir) = dir.canonicalize() {
            interests.push(Interest { dir, file: None });
        }
    }
    let mut files: Vec<&Path> = Vec::new();
    if let TlsSource::Files { cert, key } = &settings.tls {
        files.push(cert);
        files.push(key);
    }
    if let Some(secret_file) = &settings.secret_file {
        files.push(secret_file);
    }
    for file in files {
        // The folder the path names (a symlink replaced there, as by certbot or Kubernetes,
        // is a change) and the one its target is in (a target rewritten in place is too).
        let parent = file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let named = parent
            .canonicalize()
            .unwrap_or_else(|_| parent.to_path_buf())
            .join(file.file_name().unwrap_or_default());
        let target = file.canonicalize().unwrap_or_else(|_| named.clone());
        for absolute in [named, target] {
            if let (Some(dir), Some(name)) = (absolute.parent(), absolute.file_name()) {
                let interest = Interest {
                    dir: dir.to_path_buf(),
                    file: Some(name.to_owned()),
                };
                if !interests
                    .iter()
                    .any(|i| i.dir == interest.dir && i.file == interest.file)
                {
                    interests.push(interest);
                }
            }
        }
    }
    interests
}

/// Starts watching; reloads through `reloader` after each burst of changes. Keep the returned
/// watcher alive for as long as watching should go on.
pub fn spawn(
    reloader: Reloader,
    settings: &Settings,
) -> anyhow::Result<notify::RecommendedWatcher> {
    let watched = interests(settings);
    let mut dirs: Vec<PathBuf> = watched.iter().map(|i| i.dir.clone()).collect();
    dirs.sort();
    dirs.dedup();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && is_change(&event.kind)
            && event
                .paths
                .iter()
                .any(|path| watched.iter().any(|i| i.matches(path)))
        {
            let _ = tx.send(());
        }
    })
    .context("cannot start the file watcher")?;
    for dir in &dirs {
        watcher
            .watch(dir, RecursiveMode::NonRecursive)
            .with_context(|| format!("cannot watch {}", dir.display()))?;
    }
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            // Wait for the burst to end.
            while let Ok(Some(())) = tokio::time::timeout(QUIET_PERIOD, rx.recv()).await {}
            tracing::info!("watched files changed: reloading");
            let reloader = reloader.clone();
            if let Err(e) = tokio::task::spawn_blocking(move || reloader.reload()).await {
                tracing::error!(error = %e, "reload task failed");
            }
        }
    });
    tracing::info!(
        folders = dirs.len(),
        "watching plugins, certificate and secret file for changes"
    );
    Ok(watcher)
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, DataChange, MetadataKind, RemoveKind, RenameMode};

    #[test]
    fn a_kubernetes_volume_update_is_a_change_of_every_file_in_it() {
        let plugins = Interest {
            dir: PathBuf::from("/etc/importhook/plugins.d"),
            file: None,
        };
        let cert = Interest {
            dir: PathBuf::from("/etc/importhook/tls"),
            file: Some("tls.crt".into()),
        };
        assert!(plugins.matches(Path::new("/etc/importhook/plugins.d/..data")));
        assert!(plugins.matches(Path::new("/etc/importhook/plugins.d/30-x.toml")));
        assert!(!plugins.matches(Path::new("/etc/importhook/plugins.d/..data_tmp")));
        assert!(!plugins.matches(Path::new("/etc/importhook/plugins.d/.cache")));
        assert!(cert.matches(Path::new("/etc/importhook/tls/..data")));
        assert!(cert.matches(Path::new("/etc/importhook/tls/tls.crt")));
        assert!(!cert.matches(Path::new("/etc/importhook/tls/tls.key")));
        assert!(!cert.matches(Path::new("/etc/importhook/other/..data")));
    }

    #[test]
    fn reads_are_not_changes_and_writes_renames_and_removals_are() {
        for read in [
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            EventKind::Access(AccessKind::Read),
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
            EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)),
        ] {
            assert!(!is_change(&read), "{read:?}");
        }
        for change in [
            EventKind::Create(CreateKind::File),
            EventKind::Modify(ModifyKind::Data(DataChange::Any)),
            EventKind::Modify(ModifyKind::Name(RenameMode::To)),
            EventKind::Modify(ModifyKind::Metadata(MetadataKind::Permissions)),
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            EventKind::Remove(RemoveKind::File),
            EventKind::Any,
        ] {
            assert!(is_change(&change), "{change:?}");
        }
    }
}
