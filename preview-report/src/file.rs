//! Opening a report file: private (0600) from its creation, never through a symlink.

use std::fs::{File, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

// `O_NOFOLLOW` from the kernel's headers; std does not export it and this crate takes no libc.
#[cfg(all(
    target_os = "linux",
    any(
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "powerpc",
        target_arch = "powerpc64"
    )
))]
const O_NOFOLLOW: i32 = 0o100000;
#[cfg(all(
    target_os = "linux",
    not(any(
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "powerpc",
        target_arch = "powerpc64"
    ))
))]
const O_NOFOLLOW: i32 = 0o400000;
#[cfg(any(
    target_os = "macos",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd"
))]
const O_NOFOLLOW: i32 = 0x0100;

/// Opens `path` for writing a report: a new file is created with mode 0600 in the same system
/// call (never readable by others, not even briefly); an existing regular file is truncated and
/// set to 0600 before anything is written; a symlink is refused (`O_NOFOLLOW`: the report holds
/// profile data and must land where it was asked, not where a link points); anything other than a
/// regular file (a FIFO, a device, a directory) is refused too.
pub(crate) fn create_private(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(O_NOFOLLOW)
        .open(path)
        .map_err(|e| {
            // ELOOP is what O_NOFOLLOW answers for a symlink: say so plainly.
            if e.raw_os_error() == Some(ELOOP) {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "{} is a symbolic link; a report is not written through one",
                        path.display()
                    ),
                )
            } else {
                e
            }
        })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    // A file that existed keeps its mode through O_TRUNC: narrow it (on the open descriptor).
    if meta.permissions().mode() & 0o7777 != 0o600 {
        file.set_permissions(Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

#[cfg(any(target_os = "linux", target_os = "freebsd"))]
const ELOOP: i32 = 40;
#[cfg(any(target_os = "macos", target_os = "openbsd", target_os = "netbsd"))]
const ELOOP: i32 = 62;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdir::TestDir;
    use std::io::Write;

    #[test]
    fn a_new_file_is_0600() {
        let scratch = TestDir::new("file-new");
        let dir = scratch.path();
        let path = dir.join("r.jsonl");
        create_private(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn an_existing_file_is_truncated_and_narrowed_to_0600() {
        let scratch = TestDir::new("file-existing");
        let dir = scratch.path();
        let path = dir.join("r.jsonl");
        std::fs::write(&path, "old content that must go").unwrap();
        std::fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        let mut f = create_private(&path).unwrap();
        f.write_all(b"new").unwrap();
        drop(f);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn a_symlink_is_refused_and_its_target_untouched() {
        let scratch = TestDir::new("file-link");
        let dir = scratch.path();
        let target = dir.join("target");
        std::fs::write(&target, "keep").unwrap();
        let link = dir.join("r.html");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = create_private(&link).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        // A dangling link is refused too (O_CREAT would otherwise create its target).
        let dangling = dir.join("d.html");
        std::os::unix::fs::symlink(dir.join("nowhere"), &dangling).unwrap();
        assert!(create_private(&dangling).is_err());
        assert!(!dir.join("nowhere").exists());
    }

    #[test]
    fn a_directory_is_refused() {
        let scratch = TestDir::new("file-dir");
        let dir = scratch.path();
        assert!(create_private(dir).is_err());
    }
}
