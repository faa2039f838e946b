//! Reads the WIT package version from `wit/importhook.wit`, the one place it is written, and
//! hands it to the crate as `IMPORTHOOK_WIT_VERSION`.

fn main() {
    let path = "wit/importhook.wit";
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
