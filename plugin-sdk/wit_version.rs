//! Shared by the build scripts of the SDK and the host: reads the WIT package version from
//! `importhook.wit`, the one place it is written, and hands it to the crate being built as
//! `IMPORTHOOK_WIT_VERSION`.

/// Emits `IMPORTHOOK_WIT_VERSION` from the WIT file at `path`.
pub fn emit(path: &str) {
    println!("cargo::rerun-if-changed={path}");
    let wit = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let version = wit
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("package importhook:plugin@")?
                .strip_suffix(';')
        })
        .unwrap_or_else(|| panic!("{path} has no `package importhook:plugin@X.Y.Z;` line"));
    println!("cargo::rustc-env=IMPORTHOOK_WIT_VERSION={version}");
}
