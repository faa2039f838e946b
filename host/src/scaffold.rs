//! `importhook new`: a ready strategy project for a plugin author, outside this repository, in
//! Rust, JavaScript or Python: a working strategy with native tests, its manifest, a sample
//! Okta request and a README with the build, test, `check` and `try` commands. The templates
//! are the files of `scaffold/`; `scaffold::sdk` decides which SDK the project depends on.

mod sdk;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

pub use sdk::Sdk;

/// The language of a new strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// Rust, built for wasm32-unknown-unknown with importhook-sdk.
    Rust,
    /// JavaScript, built with ComponentizeJS through sdk-js.
    Js,
    /// Python, built with componentize-py through sdk-python.
    Python,
}

const MANIFEST: &str = include_str!("scaffold/manifest.toml.tmpl");
const OKTA_REQUEST: &str = include_str!("scaffold/okta-request.json");
/// The toolchain this repository builds with (the SDK's minimum Rust release and edition).
const REPO_TOOLCHAIN: &str = include_str!("../../rust-toolchain.toml");
/// The JavaScript toolchain the repository's example pins.
const JS_EXAMPLE_PACKAGE: &str = include_str!("../../examples/js/login-middle-name/package.json");
/// The Python toolchain sdk-python pins.
const PY_REQUIREMENTS: &str = include_str!("../../sdk-python/requirements.txt");

/// Creates the project `name` in `dir` (which must not exist or be empty) for `lang`, depending
/// on `sdk`. Returns the files written.
pub fn create(name: &str, lang: Lang, dir: &Path, sdk: &Sdk) -> anyhow::Result<Vec<PathBuf>> {
    check_name(name)?;
    if dir.exists() {
        let mut entries =
            std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} already exists and is not empty (give an empty or new folder with --dir)",
                dir.display()
            );
        }
    }
    let crate_name = name.replace('-', "_");
    let type_name = type_name(name);
    let (rust_dependency, rust_patch) = match lang {
        Lang::Rust => sdk.rust()?,
        _ => Default::default(),
    };
    let origin = sdk.origin();
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{crate_name}}", &crate_name)
            .replace("{{type_name}}", &type_name)
            .replace("{{sdk_dependency}}", &rust_dependency)
            .replace("{{sdk_patch}}", &rust_patch)
            .replace("{{sdk_origin}}", &origin)
    };
    let limits = match lang {
        Lang::Rust => {
            "timeout_ms = 100    # deadline of one call (1..=2000)\nmemory_mib = 16     # memory cap (1..=256)"
        }
        // A JavaScript or Python instance is an interpreter: more memory, and a first call
        // slower than Rust's. Lower the deadline once `try` shows what the strategy takes.
        Lang::Js | Lang::Python => {
            "timeout_ms = 1000   # deadline of one call (1..=2000)\nmemory_mib = 64     # memory cap (1..=256)"
        }
    };
    let mut files: Vec<(String, String)> = vec![
        (
            format!("{name}.toml"),
            fill(MANIFEST).replace("{{limits}}", limits),
        ),
        ("okta-request.json".into(), OKTA_REQUEST.into()),
    ];
    match lang {
        Lang::Rust => files.extend([
            (
                "Cargo.toml".into(),
                fill(include_str!("scaffold/rust/Cargo.toml.tmpl")),
            ),
            (
                "src/lib.rs".into(),
                fill(include_str!("scaffold/rust/lib.rs.tmpl")),
            ),
            (
                "README.md".into(),
                fill(include_str!("scaffold/rust/README.md.tmpl")),
            ),
            ("rust-toolchain.toml".into(), rust_toolchain()?),
            (".gitignore".into(), "/target\n".into()),
        ]),
        Lang::Js => files.extend([
            (
                "package.json".into(),
                package_json(name, &crate_name, &sdk.js())?,
            ),
            (
                "src/strategy.js".into(),
                fill(include_str!("scaffold/js/strategy.js.tmpl")),
            ),
            (
                "test/strategy.test.js".into(),
                fill(include_str!("scaffold/js/strategy.test.js.tmpl")),
            ),
            (
                "README.md".into(),
                fill(include_str!("scaffold/js/README.md.tmpl")),
            ),
            (".gitignore".into(), "node_modules/\n*.wasm\n".into()),
        ]),
        Lang::Python => files.extend([
            (
                format!("{crate_name}.py"),
                fill(include_str!("scaffold/python/strategy.py.tmpl")),
            ),
            (
                format!("test_{crate_name}.py"),
                fill(include_str!("scaffold/python/test_strategy.py.tmpl")),
            ),
            ("requirements.txt".into(), requirements(&sdk.python())),
            // The strategy's module is found from the project folder, in tests as in the build.
            ("pytest.ini".into(), "[pytest]\npythonpath = .\n".into()),
            (
                "README.md".into(),
                fill(include_str!("scaffold/python/README.md.tmpl")),
            ),
            (
                ".gitignore".into(),
                ".venv/\n__pycache__/\n.pytest_cache/\n*.wasm\n".into(),
            ),
        ]),
    }
    let mut written = Vec::with_capacity(files.len());
    for (path, text) in files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// The repository's Rust release, with the one target a plugin needs.
fn rust_toolchain() -> anyhow::Result<String> {
    let table: toml::Table = toml::from_str(REPO_TOOLCHAIN).context("rust-toolchain.toml")?;
    let channel = table
        .get("toolchain")
        .and_then(|t| t.get("channel"))
        .and_then(toml::Value::as_str)
        .context("rust-toolchain.toml has no channel")?;
    Ok(format!(
        "# The Rust release importhook is built with (its SDK's minimum), and the plugins' target:\n# rustup installs both on first use.\n[toolchain]\nchannel = \"{channel}\"\ntargets = [\"wasm32-unknown-unknown\"]\n"
    ))
}

/// package.json: the build and test scripts, the SDK, and the repository example's pinned
/// ComponentizeJS.
fn package_json(name: &str, crate_name: &str, sdk: &str) -> anyhow::Result<String> {
    let example: serde_json::Value = serde_json::from_str(JS_EXAMPLE_PACKAGE)
        .context("the JavaScript example's package.json")?;
    let mut dev = serde_json::Map::new();
    if let Some(pinned) = example["devDependencies"].as_object() {
        for (package, version) in pinned {
            if package != "importhook-sdk" {
                dev.insert(package.clone(), version.clone());
            }
        }
    }
    dev.insert("importhook-sdk".into(), sdk.into());
    let package = serde_json::json!({
        "name": name,
        "version": "0.1.0",
        "description": "An importhook conflict strategy",
        "private": true,
        "type": "module",
        "scripts": {
            "build": format!("importhook-build-js src/strategy.js -o {crate_name}.wasm"),
            "test": "node --test test/",
        },
        "devDependencies": dev,
    });
    Ok(serde_json::to_string_pretty(&package)? + "\n")
}

/// requirements.txt: sdk-python's pinned toolchain, then the SDK.
fn requirements(sdk: &str) -> String {
    let mut text = String::from(
        "# The build toolchain and test runner, pinned as importhook's sdk-python pins them, and the SDK.\n",
    );
    for line in PY_REQUIREMENTS.lines() {
        let line = line.trim();
        if !line.is_empty() && !line.starts_with('#') {
            text.push_str(line);
            text.push('\n');
        }
    }
    text.push_str(sdk);
    text.push('\n');
    text
}

/// A package name Cargo, npm and Python accept and a Rust identifier can be made of.
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
mod tests;
