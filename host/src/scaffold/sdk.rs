//! Which SDK a project made by `importhook new` depends on: a checkout of this repository, the
//! packed SDKs of `scripts/pack-sdks.sh`, or (once published) the registries; and the line each
//! language's project file needs for it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// The Rust SDK's version: it shares the workspace's.
pub const RUST_VERSION: &str = env!("CARGO_PKG_VERSION");
const JS_PACKAGE: &str = include_str!("../../../sdk-js/package.json");
const PY_PROJECT: &str = include_str!("../../../sdk-python/pyproject.toml");

/// Where the SDK comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sdk {
    /// An importhook checkout (its root): plugin-sdk/, sdk-js/, sdk-python/ used in place.
    Checkout(PathBuf),
    /// A folder made by `scripts/pack-sdks.sh`.
    Packed(PathBuf),
    /// crates.io, npm and PyPI (not published yet).
    Registry,
}

/// The version of sdk-js (package.json) and of sdk-python (pyproject.toml).
pub fn js_version() -> String {
    serde_json::from_str::<serde_json::Value>(JS_PACKAGE)
        .ok()
        .and_then(|p| p["version"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The version of sdk-python (pyproject.toml).
pub fn python_version() -> String {
    toml::from_str::<toml::Table>(PY_PROJECT)
        .ok()
        .and_then(|t| {
            t.get("project")?
                .get("version")?
                .as_str()
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

fn is_checkout(dir: &Path) -> bool {
    dir.join("plugin-sdk/wit/importhook.wit").is_file()
}

fn is_packed(dir: &Path) -> bool {
    dir.join(format!("rust/importhook-sdk-{RUST_VERSION}/Cargo.toml"))
        .is_file()
}

impl Sdk {
    /// `given` (`--sdk`): a checkout, its plugin-sdk folder, or a packed-SDK folder. Without
    /// it, the checkout this binary was built from when it is still there, else the registries.
    pub fn locate(given: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = given else {
            let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            return Ok(match built_from.canonicalize() {
                Ok(root) if is_checkout(&root) => Self::Checkout(root),
                _ => Self::Registry,
            });
        };
        let dir = path
            .canonicalize()
            .with_context(|| format!("--sdk {}: not found", path.display()))?;
        if is_checkout(&dir) {
            Ok(Self::Checkout(dir))
        } else if dir.join("wit/importhook.wit").is_file() && dir.parent().is_some_and(is_checkout)
        {
            Ok(Self::Checkout(
                dir.parent().map(Path::to_path_buf).unwrap_or(dir),
            ))
        } else if is_packed(&dir) {
            Ok(Self::Packed(dir))
        } else {
            bail!(
                "--sdk {}: neither an importhook checkout (no plugin-sdk/wit/importhook.wit) nor a folder of packed SDKs (no rust/importhook-sdk-{RUST_VERSION}; make one with scripts/pack-sdks.sh)",
                dir.display()
            )
        }
    }

    /// Says which SDK was chosen, in one sentence for the generated README.
    pub fn origin(&self) -> String {
        match self {
            Self::Checkout(root) => format!("the importhook checkout at {}.", root.display()),
            Self::Packed(dir) => format!("the packed SDKs in {}.", dir.display()),
            Self::Registry => "the registry version (crates.io, npm, PyPI).".to_owned(),
        }
    }

    /// `[dependencies]` line and what goes at the end of Cargo.toml (a `[patch]` for the
    /// packed SDK's own unpublished dependencies).
    pub fn rust(&self) -> anyhow::Result<(String, String)> {
        let (sdk, patch) = match self {
            Self::Registry => {
                return Ok((
                    format!("importhook-sdk = \"{RUST_VERSION}\""),
                    String::new(),
                ));
            }
            Self::Checkout(root) => (root.join("plugin-sdk"), String::new()),
            Self::Packed(dir) => {
                let okta = dir.join(format!("rust/importhook-okta-{RUST_VERSION}"));
                let login = dir.join(format!("rust/importhook-login-{RUST_VERSION}"));
                let patch = format!(
                    "\n# The packed SDK's own dependencies, not on crates.io yet either.\n[patch.crates-io]\nimporthook-okta = {{ path = {} }}\nimporthook-login = {{ path = {} }}\n",
                    quoted(&okta)?,
                    quoted(&login)?
                );
                (
                    dir.join(format!("rust/importhook-sdk-{RUST_VERSION}")),
                    patch,
                )
            }
        };
        Ok((
            format!(
                "importhook-sdk = {{ version = \"{RUST_VERSION}\", path = {} }}",
                quoted(&sdk)?
            ),
            patch,
        ))
    }

    /// The `importhook-sdk` entry of package.json.
    pub fn js(&self) -> String {
        match self {
            Self::Registry => format!("^{}", js_version()),
            Self::Checkout(root) => format!("file:{}", root.join("sdk-js").display()),
            Self::Packed(dir) => format!(
                "file:{}",
                dir.join(format!("importhook-sdk-{}.tgz", js_version()))
                    .display()
            ),
        }
    }

    /// The SDK's line of requirements.txt.
    pub fn python(&self) -> String {
        match self {
            Self::Registry => format!("importhook-sdk=={}", python_version()),
            // Editable: the build finds the WIT of the checkout beside the sources.
            Self::Checkout(root) => format!("-e {}", root.join("sdk-python").display()),
            Self::Packed(dir) => dir
                .join(format!(
                    "importhook_sdk-{}-py3-none-any.whl",
                    python_version()
                ))
                .display()
                .to_string(),
        }
    }

    /// What `new` prints: the SDK chosen, and how to move to the registry version.
    pub fn explain(&self, lang: super::Lang) -> String {
        let mut text = match self {
            Self::Checkout(root) => format!("SDK: the importhook checkout at {}", root.display()),
            Self::Packed(dir) => format!("SDK: the packed SDKs in {}", dir.display()),
            Self::Registry => "SDK: the registry version; importhook's SDKs are not published yet, so this project will not build until they are: pass --sdk with an importhook checkout or a folder made by its scripts/pack-sdks.sh".to_owned(),
        };
        if *self != Self::Registry {
            let _ = write!(
                text,
                " (--sdk PATH for another checkout or packed folder)\n  once the SDK is published, switch to the registry version: {}",
                match lang {
                    super::Lang::Rust => format!(
                        "in Cargo.toml, `importhook-sdk = \"{RUST_VERSION}\"`{}",
                        if matches!(self, Self::Packed(_)) {
                            " and no [patch.crates-io]"
                        } else {
                            ""
                        }
                    ),
                    super::Lang::Js =>
                        format!("`npm install --save-dev importhook-sdk@^{}`", js_version()),
                    super::Lang::Python => format!(
                        "in requirements.txt, `importhook-sdk=={}`",
                        python_version()
                    ),
                }
            );
        }
        text
    }
}

/// A path as a TOML string, quoted and escaped whatever it holds.
fn quoted(path: &Path) -> anyhow::Result<String> {
    let text = path
        .to_str()
        .with_context(|| format!("{}: not UTF-8", path.display()))?;
    Ok(toml::Value::String(text.to_owned()).to_string())
}
