//! Loading a plugin set: reading each plugin of the folder, checking its interface version,
//! its imports against its manifest's grants, its `[config]` and that it starts, and linking
//! it into the isolation mode its manifest asks for.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

use super::bindings;
use super::capability::Grants;
use super::folder;
use super::isolation::{Blueprint, FailureKind, Native, NativeStrategy, PerCall};
use super::manifest::{Grant, InstanceMode, Manifest};
use super::plugin::{Calls, LoadedPlugin};
use super::runtime::{Runtime, block_on};
use super::services::Services;
use super::working::Working;
use super::{INTERFACE_VERSION, PluginSet, STRATEGY_INTERFACE};

impl PluginSet {
    /// A set of native strategies, run in order (benchmark only).
    #[doc(hidden)]
    pub fn native(strategies: Vec<Box<dyn NativeStrategy>>) -> Self {
        let plugins = strategies
            .into_iter()
            .map(|strategy| LoadedPlugin {
                name: strategy.name().into(),
                calls: Calls::Native(Native(strategy)),
                manifest: Manifest::default(),
                interface_version: INTERFACE_VERSION.to_owned(),
                imports: Vec::new(),
            })
            .collect();
        Self::of(None, plugins)
    }
}

impl PluginSet {
    /// Loads every `*.wasm` of `dir` (one folder, or several separated by `:` laid over each
    /// other: see [`super::folders`]), in file-name order, with its optional `<stem>.toml`.
    /// Any broken plugin fails the whole load, naming the file: a service never serves half of
    /// the strategies it was given. Anything else in the folder (a file that is not a plugin,
    /// a manifest without its plugin) runs nothing, so it only gets a warning here;
    /// [`PluginSet::check`] refuses it.
    pub fn load(runtime: Arc<Runtime>, dir: &Path, services: &Services) -> anyhow::Result<Self> {
        let folder = folder::Folder::scan(dir)?;
        for (path, what) in &folder.strays {
            tracing::warn!(file = %path.display(), what = %what, "not a plugin; ignored");
        }
        for path in &folder.orphan_manifests {
            tracing::warn!(file = %path.display(), "plugin manifest without its .wasm; ignored");
        }
        for (used, replaced) in &folder.overrides {
            tracing::info!(file = %used.display(), replaces = %replaced.display(), "a later plugins folder's file replaces an earlier one's");
        }
        let mut plugins = Vec::with_capacity(folder.plugins.len());
        for entry in &folder.plugins {
            plugins.push(load_named(&runtime, entry, services)?);
        }
        Ok(Self::of(Some(runtime), plugins))
    }

    /// What `importhook check` sees in `dir`: the plugins that load, and one line for every
    /// problem (not just the first): a broken plugin, a file that is not a plugin whatever its
    /// name, a manifest without its plugin (and what is wrong in it), or no plugin at all.
    /// Fails only when the folder cannot be read.
    pub fn check(
        runtime: Arc<Runtime>,
        dir: &Path,
        services: &Services,
    ) -> anyhow::Result<(Self, Vec<String>)> {
        let folder = folder::Folder::scan(dir)?;
        let mut problems = Vec::new();
        let mut plugins = Vec::with_capacity(folder.plugins.len());
        for entry in &folder.plugins {
            match load_named(&runtime, entry, services) {
                Ok(plugin) => plugins.push(plugin),
                Err(e) => problems.push(format!("{e:#}")),
            }
        }
        for (path, what) in &folder.strays {
            problems.push(format!(
                "{}: {what}; only plugins (<stem>.wasm) and their manifests (<stem>.toml) belong in the plugins folder",
                path.display()
            ));
        }
        for path in &folder.orphan_manifests {
            problems.push(format!(
                "{}: a manifest without its plugin {}: build the plugin and copy its .wasm here under that name",
                path.display(),
                path.with_extension("wasm").display()
            ));
            if let Err(e) = Manifest::load(path) {
                problems.push(format!("{e:#}"));
            }
        }
        if folder.plugins.is_empty() {
            problems.push(format!(
                "{}: no plugin (no *.wasm file), so every request would answer 204. Build a strategy with `cargo build --release --target wasm32-unknown-unknown` (start one with `importhook new NAME`) and copy its .wasm here; in the importhook repository, `scripts/dev.sh` builds the example strategies into plugins.d/",
                dir.display()
            ));
        }
        let set = Self::of(Some(runtime), plugins);
        Ok((set, problems))
    }
}

fn load_named(
    runtime: &Runtime,
    entry: &folder::Entry,
    services: &Services,
) -> anyhow::Result<LoadedPlugin> {
    load_one(runtime, &entry.wasm, &entry.manifest, services)
        .with_context(|| format!("plugin {} rejected", entry.wasm.display()))
}

fn load_one(
    runtime: &Runtime,
    path: &Path,
    manifest: &Path,
    services: &Services,
) -> anyhow::Result<LoadedPlugin> {
    let name: Arc<str> = path
        .file_stem()
        .and_then(|s| s.to_str())
        .context("plugin file name is not UTF-8")?
        .into();
    let manifest = Manifest::load(manifest)?;
    let bytes = folder::read_bounded(path, runtime.max_plugin_bytes())?;
    let component = runtime.compile(&bytes)?;
    let interface_version = check_interface(runtime, &component)?;
    let imports: Vec<String> = component
        .component_type()
        .imports(runtime.engine())
        .map(|(name, _)| name.to_owned())
        .collect();
    check_grants(&imports, &manifest)?;
    let config = manifest
        .config
        .iter()
        .map(|(name, value)| bindings::plugin::types::Attribute {
            name: name.clone(),
            value: bindings::toml_to_wit(value),
        })
        .collect();
    let grants = Grants::open(&name, |grant| manifest.grants(grant), services)?;
    let blueprint = runtime.blueprint(&name, &component, config, grants, manifest.memory_bytes)?;
    // Checked on scratch services: loading (and reloading) never changes the state store nor
    // asks the Okta org anything.
    let probe = blueprint.for_probe(&Services::scratch())?;
    if let Err(problem) = block_on(probe.validate_config(manifest.timeout))? {
        anyhow::bail!("its [config] is refused by the plugin: {problem}");
    }
    check_starts(&probe, &manifest)?;
    let calls = match manifest.instance {
        InstanceMode::PerCall => Calls::PerCall(PerCall::new(blueprint)),
        InstanceMode::Warm => Calls::Warm(runtime.warm(blueprint, manifest.max_calls)),
    };
    let plugin = LoadedPlugin {
        name,
        calls,
        manifest,
        interface_version,
        imports,
    };
    Ok(plugin)
}

/// Refuses a plugin that imports a capability its manifest does not grant, naming the grant
/// to add (every missing one, so one fix is enough): a capability is never given to a plugin
/// nobody chose to trust with it.
fn check_grants(imports: &[String], manifest: &Manifest) -> anyhow::Result<()> {
    let missing: Vec<String> = Grant::ALL
        .into_iter()
        .filter(|grant| {
            let imported = imports.iter().any(|name| {
                name.strip_prefix(grant.interface())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('@'))
            });
            imported && !manifest.grants(*grant)
        })
        .map(|grant| {
            format!(
                "it imports {} but its manifest does not grant it: add `grants = [\"{}\"]` to its .toml",
                grant.interface(),
                grant.as_str()
            )
        })
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("{}", missing.join("; "))
    }
}

/// Runs a plugin once on a minimal request (logs muted), so a plugin that cannot start, or
/// traps whatever it is given, is refused at load rather than on every imported user. An
/// `err` answer is fine: it may well depend on the request.
fn check_starts(probe: &Blueprint, manifest: &Manifest) -> anyhow::Result<()> {
    let request = Arc::new(Working::minimal());
    let check = |contribution: &_| request.check(contribution);
    let (result, _) = block_on(probe.call_once(&request, manifest.timeout, &check))?;
    match result {
        Ok(_) => Ok(()),
        Err(failure) => match failure.kind {
            FailureKind::PluginError | FailureKind::InvalidOutput => Ok(()),
            FailureKind::Instantiate => anyhow::bail!("it fails to instantiate"),
            kind => anyhow::bail!(
                "it fails on a minimal request before any user is imported ({}{})",
                kind.as_str(),
                failure
                    .message
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ),
        },
    }
}

/// Finds the plugin's `importhook:plugin/strategy@X` export and checks X against the host's.
fn check_interface(
    runtime: &Runtime,
    component: &wasmtime::component::Component,
) -> anyhow::Result<String> {
    let engine = runtime.engine();
    let exported: Vec<String> = component
        .component_type()
        .exports(engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    let Some(version) = exported
        .iter()
        .find_map(|name| name.strip_prefix(STRATEGY_INTERFACE)?.strip_prefix('@'))
    else {
        anyhow::bail!(
            "it does not export {STRATEGY_INTERFACE} (exports: {}); build it with importhook-sdk",
            if exported.is_empty() {
                "none".to_owned()
            } else {
                exported.join(", ")
            }
        );
    };
    if !compatible(version, INTERFACE_VERSION) {
        anyhow::bail!(
            "it was built against importhook:plugin@{version}, but this host serves importhook:plugin@{INTERFACE_VERSION}; rebuild it with a matching importhook-sdk"
        );
    }
    Ok(version.to_owned())
}

/// Semver compatibility as Cargo reads it: same major, and same minor while major is 0.
fn compatible(plugin: &str, host: &str) -> bool {
    let parse = |v: &str| -> Option<(u64, u64)> {
        let mut parts = v.split(['.', '-', '+']);
        Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
    };
    match (parse(plugin), parse(host)) {
        (Some((0, pm)), Some((0, hm))) => pm == hm,
        (Some((pmaj, _)), Some((hmaj, _))) => pmaj == hmaj,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ungranted_import_is_named_with_its_grant() {
        let imports = vec![
            "importhook:plugin/log@0.2.1".to_owned(),
            "importhook:plugin/state@0.2.1".to_owned(),
            "importhook:plugin/directory@0.2.1".to_owned(),
        ];
        let err = check_grants(&imports, &Manifest::default())
            .expect_err("refused")
            .to_string();
        assert!(
            err.contains("importhook:plugin/directory")
                && err.contains("grants = [\"directory\"]")
                && err.contains("grants = [\"state\"]"),
            "{err}"
        );
        let granted = Manifest::parse("grants = [\"state\", \"directory\"]").expect("manifest");
        assert!(check_grants(&imports, &granted).is_ok());
        // A grant the plugin does not use costs nothing.
        assert!(check_grants(&imports[..1], &granted).is_ok());
    }

    #[test]
    fn interface_versions_follow_semver() {
        assert!(compatible("0.1.0", "0.1.0"));
        assert!(compatible("0.1.3", "0.1.0"));
        assert!(!compatible("0.2.0", "0.1.0"));
        assert!(!compatible("0.1.0", "0.2.0"));
        assert!(!compatible("1.0.0", "0.1.0"));
        assert!(compatible("1.4.0", "1.0.0"));
        assert!(!compatible("garbage", "0.1.0"));
    }
}
