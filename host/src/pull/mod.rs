//! `importhook pull`: plugins too big for a Kubernetes ConfigMap (a JS strategy is ~13 MB)
//! published as an OCI artifact (one layer per file, named by its
//! `org.opencontainers.image.title` annotation, as `oras push` makes them), fetched into a
//! plugins folder, typically by an init container. The manifest is pinned by digest and every
//! file is checked against the digest and size the manifest gives before anything is written.

mod reference;
mod registry;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

pub use reference::{Pin, Reference, sha256};
use registry::{Credentials, Registry};

/// The OCI image manifest media type; the only manifest accepted.
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Largest manifest read (the size the distribution spec asks registries to accept).
const MAX_MANIFEST_BYTES: usize = 4 << 20;
/// The annotation naming a layer's file.
const TITLE: &str = "org.opencontainers.image.title";
/// Env vars with registry credentials (optional; a Kubernetes Secret in the init container).
pub const USERNAME_ENV: &str = "IMPORTHOOK_REGISTRY_USERNAME";
/// See [`USERNAME_ENV`].
pub const PASSWORD_ENV: &str = "IMPORTHOOK_REGISTRY_PASSWORD";

/// `importhook pull`'s arguments.
#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// oci://REGISTRY/REPOSITORY@sha256:DIGEST (a tag instead of a digest needs --allow-tag);
    /// several, space-separated in the env var; none: nothing to do. Registry credentials, when
    /// the repository is private: IMPORTHOOK_REGISTRY_USERNAME and IMPORTHOOK_REGISTRY_PASSWORD
    #[arg(
        env = "IMPORTHOOK_PULL",
        value_name = "REFERENCE",
        value_delimiter = ' '
    )]
    references: Vec<String>,
    /// Plugins folder to write the artifact's files into (created when missing)
    #[arg(long, value_name = "DIR")]
    into: PathBuf,
    /// Accept a tag, which may move, instead of a digest pin; the digest it resolved to is printed
    #[arg(long)]
    allow_tag: bool,
    /// Speak plain HTTP to the registry (a registry on loopback; never across a network)
    #[arg(long)]
    insecure_http: bool,
    /// Largest file accepted, in MiB
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    max_file_mib: u64,
    /// PEM CA file to trust besides the public web roots (a private registry)
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
}

/// One file of the artifact, as its manifest describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Layer {
    name: String,
    digest: String,
    size: u64,
}

/// Runs `importhook pull`.
pub fn run(args: PullArgs) -> anyhow::Result<()> {
    let mut references = Vec::new();
    for text in args.references.iter().filter(|r| !r.trim().is_empty()) {
        let reference = Reference::parse(text.trim())?;
        if let Pin::Tag(tag) = &reference.pin
            && !args.allow_tag
        {
            bail!(
                "{text}: `{tag}` is a tag, which can move; pin the manifest with @sha256:DIGEST (or pass --allow-tag)"
            );
        }
        references.push(reference);
    }
    if references.is_empty() {
        println!("nothing to pull: no reference given (IMPORTHOOK_PULL is empty)");
        return Ok(());
    }
    let extra: Vec<crate::outbound::ExtraCa> = args
        .ca_file
        .iter()
        .map(|path| crate::outbound::ExtraCa {
            key: "--ca-file",
            path: path.clone(),
        })
        .collect();
    let outbound = crate::outbound::Outbound::new(&extra)?;
    let credentials = match (std::env::var(USERNAME_ENV), std::env::var(PASSWORD_ENV)) {
        (Ok(username), Ok(password)) => Some(Credentials { username, password }),
        _ => None,
    };
    let max_file = args
        .max_file_mib
        .checked_mul(1 << 20)
        .and_then(|n| usize::try_from(n).ok())
        .context("--max-file-mib is too large")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start a runtime")?;
    // Everything is fetched and checked before the first file is written.
    let mut files: Vec<(Layer, bytes::Bytes)> = Vec::new();
    for reference in &references {
        let mut registry = Registry::new(
            &reference.registry,
            outbound.clone(),
            args.insecure_http,
            credentials.clone(),
        );
        let fetched = runtime
            .block_on(fetch(&mut registry, reference, max_file))
            .with_context(|| reference.to_string())?;
        for (layer, body) in fetched {
            if files.iter().any(|(l, _)| l.name == layer.name) {
                bail!("{}: two artifacts hold {}", args.into.display(), layer.name);
            }
            files.push((layer, body));
        }
    }
    write_all(&args.into, &files)?;
    for (layer, _) in &files {
        println!(
            "wrote {} ({} bytes, {})",
            args.into.join(&layer.name).display(),
            layer.size,
            layer.digest
        );
    }
    Ok(())
}

/// The artifact's files, each checked against its manifest entry.
async fn fetch(
    registry: &mut Registry,
    reference: &Reference,
    max_file: usize,
) -> anyhow::Result<Vec<(Layer, bytes::Bytes)>> {
    let repo = &reference.repository;
    let manifest = registry
        .get(
            &format!("/v2/{repo}/manifests/{}", reference.manifest_ref()),
            OCI_MANIFEST,
            MAX_MANIFEST_BYTES,
        )
        .await?
        .into_body();
    let digest = sha256(&manifest);
    match &reference.pin {
        Pin::Digest(pinned) if *pinned != digest => {
            bail!("the manifest's digest is {digest}, not the pinned {pinned}; nothing written")
        }
        Pin::Digest(_) => {}
        Pin::Tag(tag) => eprintln!(
            "tag `{tag}` is {digest}; pin it: {}",
            reference.pinned(&digest)
        ),
    }
    let layers = layers(&manifest, max_file)?;
    let mut files = Vec::with_capacity(layers.len());
    for layer in layers {
        // Read one byte past the declared size, so a longer blob is caught as longer.
        let limit = usize::try_from(layer.size)
            .unwrap_or(usize::MAX)
            .saturating_add(1);
        let body = registry
            .get(
                &format!("/v2/{repo}/blobs/{}", layer.digest),
                "application/octet-stream",
                limit,
            )
            .await
            .with_context(|| format!("file {}", layer.name))?
            .into_body();
        if body.len() as u64 != layer.size {
            bail!(
                "{}: the registry sent {} bytes, the manifest says {}; nothing written",
                layer.name,
                body.len(),
                layer.size
            );
        }
        let got = sha256(&body);
        if got != layer.digest {
            bail!(
                "{}: the blob hashes to {got}, the manifest says {}; nothing written",
                layer.name,
                layer.digest
            );
        }
        files.push((layer, body));
    }
    Ok(files)
}

/// The manifest's layers as plugin files: each named by its title annotation, a `.wasm` or a
/// `.toml` directly in the folder, no larger than `max_file`.
fn layers(manifest: &[u8], max_file: usize) -> anyhow::Result<Vec<Layer>> {
    let manifest: serde_json::Value =
        serde_json::from_slice(manifest).context("the manifest is not JSON")?;
    match manifest["mediaType"].as_str() {
        None | Some(OCI_MANIFEST) => {}
        Some(other) => bail!(
            "the manifest is a {other}, not an OCI image manifest ({OCI_MANIFEST}); pin the artifact's manifest, not an index"
        ),
    }
    let entries = manifest["layers"]
        .as_array()
        .context("the manifest has no layers")?;
    let mut layers: Vec<Layer> = Vec::with_capacity(entries.len());
    for entry in entries {
        let name = entry["annotations"][TITLE]
            .as_str()
            .with_context(|| format!("a layer has no {TITLE} annotation naming its file"))?;
        let plain = !name.starts_with('.')
            && !name.contains(['/', '\\'])
            && (name.ends_with(".wasm") || name.ends_with(".toml"));
        if !plain {
            bail!(
                "layer `{name}`: only <stem>.wasm and <stem>.toml files directly in the plugins folder are pulled"
            );
        }
        if layers.iter().any(|l| l.name == name) {
            bail!("layer `{name}` appears twice");
        }
        let digest = reference::parse_digest(entry["digest"].as_str().unwrap_or_default())
            .with_context(|| format!("layer `{name}`"))?;
        let size = entry["size"]
            .as_u64()
            .with_context(|| format!("layer `{name}` has no size"))?;
        if size > max_file as u64 {
            bail!(
                "layer `{name}` is {size} bytes, over the {max_file}-byte limit (--max-file-mib)"
            );
        }
        layers.push(Layer {
            name: name.to_owned(),
            digest,
            size,
        });
    }
    if !layers.iter().any(|l| l.name.ends_with(".wasm")) {
        bail!("the artifact holds no .wasm plugin");
    }
    Ok(layers)
}

/// Writes every file beside its final name, then renames them, manifests first: a server
/// watching the folder sees a plugin only once its manifest is there.
fn write_all(dir: &Path, files: &[(Layer, bytes::Bytes)]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut staged = Vec::with_capacity(files.len());
    for (layer, body) in files {
        let tmp = dir.join(format!(".{}.pull-{}", layer.name, std::process::id()));
        std::fs::write(&tmp, body).with_context(|| format!("cannot write {}", tmp.display()))?;
        staged.push((tmp, dir.join(&layer.name)));
    }
    staged.sort_by_key(|(_, target)| target.extension().is_some_and(|e| e == "wasm"));
    for (tmp, target) in staged {
        std::fs::rename(&tmp, &target)
            .with_context(|| format!("cannot move {} to {}", tmp.display(), target.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(layers: &str) -> Vec<u8> {
        format!(r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","layers":[{layers}]}}"#)
            .into_bytes()
    }

    fn layer(name: &str, size: u64) -> String {
        format!(
            r#"{{"mediaType":"application/wasm","digest":"{}","size":{size},"annotations":{{"{TITLE}":"{name}"}}}}"#,
            sha256(b"x")
        )
    }

    #[test]
    fn layers_name_plain_plugin_files_within_the_size_limit() {
        let ok = layers(
            &manifest(&[layer("40-x.wasm", 10), layer("40-x.toml", 5)].join(",")),
            10,
        )
        .expect("layers");
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0].name, "40-x.wasm");
        for (bad, why) in [
            (layer("40-x.wasm", 11), "over the 10-byte limit"),
            (layer("../40-x.wasm", 1), "directly in the plugins folder"),
            (layer(".40-x.wasm", 1), "directly in the plugins folder"),
            (layer("libx.so", 1), "directly in the plugins folder"),
            (layer("40-x.toml", 1), "no .wasm plugin"),
            (
                [layer("40-x.wasm", 1), layer("40-x.wasm", 1)].join(","),
                "appears twice",
            ),
        ] {
            let err = layers(&manifest(&bad), 10).expect_err(why);
            assert!(format!("{err:#}").contains(why), "{err:#}");
        }
        let index = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
        let err = layers(index, 10).expect_err("index");
        assert!(format!("{err:#}").contains("not an index"), "{err:#}");
    }

    #[test]
    fn files_land_under_their_names_and_nothing_is_left_staged() {
        let dir = std::env::temp_dir().join(format!("importhook-pull-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let file = |name: &str, body: &'static [u8]| {
            (
                Layer {
                    name: name.to_owned(),
                    digest: sha256(body),
                    size: body.len() as u64,
                },
                bytes::Bytes::from_static(body),
            )
        };
        write_all(
            &dir,
            &[
                file("40-x.wasm", b"\0asm"),
                file("40-x.toml", b"timeout_ms = 5"),
            ],
        )
        .expect("write");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["40-x.toml", "40-x.wasm"]);
        assert_eq!(
            std::fs::read(dir.join("40-x.wasm")).expect("read"),
            b"\0asm"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
