//! `importhook new`: a ready strategy crate for a plugin author, outside this repository: a
//! working strategy with native tests, its manifest, a sample Okta request and a README with
//! the build, `check` and `try` commands. The templates are the files of `scaffold/`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// The `importhook-sdk` version a new crate asks for: the SDK shares the workspace's version.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

const FILES: [(&str, &str); 6] = [
    ("Cargo.toml", include_str!("scaffold/Cargo.toml.tmpl")),
    ("src/lib.rs", include_str!("scaffold/lib.rs.tmpl")),
    ("{{name}}.toml", include_str!("scaffold/manifest.toml.tmpl")),
    (
        "okta-request.json",
        include_str!("scaffold/okta-request.json"),
    ),
    ("README.md", include_str!("scaffold/README.md.tmpl")),
    (".gitignore", include_str!("scaffold/gitignore")),
];

/// Creates the crate `name` in `dir` (which must not exist or be empty). The SDK comes from
/// crates.io, or from `sdk_path` as well when given (a local checkout, to try it unpublished).
/// Returns the files written.
pub fn create(name: &str, dir: &Path, sdk_path: Option<&Path>) -> anyhow::Result<Vec<PathBuf>> {
    check_name(name)?;
    if dir.exists() {
        let mut entries =
            std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
        if entries.next().is_some() {
            bail!("{} already exists and is not empty", dir.display());
        }
    }
    let dependency = sdk_dependency(sdk_path)?;
    let crate_name = name.replace('-', "_");
    let type_name = type_name(name);
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{crate_name}}", &crate_name)
            .replace("{{type_name}}", &type_name)
            .replace("{{sdk_dependency}}", &dependency)
    };
    let mut written = Vec::with_capacity(FILES.len());
    for (path, template) in FILES {
        let path = dir.join(fill(path));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, fill(template))
            .with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// The `[dependencies]` line: a version for crates.io, and with `sdk_path` a path as well
/// (Cargo uses the path locally and the version when the crate is published).
fn sdk_dependency(sdk_path: Option<&Path>) -> anyhow::Result<String> {
    let Some(path) = sdk_path else {
        return Ok(format!("importhook-sdk = \"{SDK_VERSION}\""));
    };
    let path = path
        .canonicalize()
        .with_context(|| format!("--sdk-path {}: not found", path.display()))?;
    if !path.join("wit/importhook.wit").is_file() {
        bail!(
            "--sdk-path {}: not importhook's SDK (no wit/importhook.wit); give the plugin-sdk folder of the repository",
            path.display()
        );
    }
    let path = path
        .to_str()
        .with_context(|| format!("--sdk-path {}: not UTF-8", path.display()))?;
    // A TOML string, quoted and escaped whatever the path holds.
    let quoted = toml::Value::String(path.to_owned()).to_string();
    Ok(format!(
        "importhook-sdk = {{ version = \"{SDK_VERSION}\", path = {quoted} }}"
    ))
}

/// A package name Cargo accepts and a Rust identifier can be made of.
fn check_name(name: &str) -> anyhow::Result<()> {
    let valid = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        bail!(
            "`{name}` is not a plugin name: lowercase letters, digits, `-` and `_`, starting with a letter (e.g. login-employee-number)"
        );
    }
    Ok(())
}

/// `login-employee-number` → `LoginEmployeeNumber`.
fn type_name(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_crates_and_types() {
        assert_eq!(type_name("login-employee-number"), "LoginEmployeeNumber");
        assert_eq!(type_name("a_b-2c"), "AB2c");
        for bad in ["", "My-Strategy", "1st", "-x", "a b", "ümlaut"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_name("login-employee-number").is_ok());
    }

    #[test]
    fn the_dependency_works_from_crates_io_and_from_a_checkout() {
        assert_eq!(
            sdk_dependency(None).expect("version"),
            format!("importhook-sdk = \"{SDK_VERSION}\"")
        );
        let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugin-sdk");
        let line = sdk_dependency(Some(&sdk)).expect("path");
        let parsed: toml::Table = toml::from_str(&line).expect("valid TOML");
        let dep = &parsed["importhook-sdk"];
        assert_eq!(dep["version"].as_str(), Some(SDK_VERSION));
        assert!(
            dep["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("plugin-sdk"))
        );
        let not_sdk = Path::new(env!("CARGO_MANIFEST_DIR"));
        assert!(sdk_dependency(Some(not_sdk)).is_err());
    }

    #[test]
    fn a_folder_with_files_is_not_overwritten() {
        let dir = std::env::temp_dir().join(format!("importhook-new-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let written = create("my-strategy", &dir, None).expect("created");
        assert_eq!(written.len(), FILES.len());
        assert!(dir.join("my-strategy.toml").is_file());
        let lib = std::fs::read_to_string(dir.join("src/lib.rs")).expect("lib.rs");
        assert!(lib.contains("pub struct MyStrategy;") && !lib.contains("{{"));
        let err = create("my-strategy", &dir, None).expect_err("refused");
        assert!(err.to_string().contains("not empty"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
