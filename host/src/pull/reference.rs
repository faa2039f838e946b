//! `oci://REGISTRY/REPOSITORY@sha256:DIGEST` (or `:TAG`): the artifact `importhook pull`
//! fetches, and the digest arithmetic that pins it.

use anyhow::{Context, bail};

/// The prefix every reference starts with.
const SCHEME: &str = "oci://";

/// What the reference pins the manifest to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pin {
    /// `sha256:<64 hex>`: the manifest's bytes must hash to it.
    Digest(String),
    /// A tag: whatever the registry says now (refused unless `--allow-tag`).
    Tag(String),
}

/// A parsed reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `host[:port]`.
    pub registry: String,
    /// `path/of/repo`.
    pub repository: String,
    /// Digest or tag.
    pub pin: Pin,
}

impl Reference {
    /// Parses `oci://REGISTRY/REPOSITORY@sha256:DIGEST` or `oci://REGISTRY/REPOSITORY:TAG`.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let rest = text
            .strip_prefix(SCHEME)
            .with_context(|| format!("{text}: a reference starts with {SCHEME}"))?;
        let (registry, path) = rest
            .split_once('/')
            .with_context(|| format!("{text}: no repository after the registry"))?;
        if registry.is_empty() || registry.contains(['@', '?', '#']) {
            bail!("{text}: `{registry}` is not a registry host[:port]");
        }
        let (repository, pin) = match path.split_once('@') {
            Some((repository, digest)) => (repository, Pin::Digest(parse_digest(digest)?)),
            None => match path.rsplit_once(':') {
                Some((repository, tag)) if !tag.contains('/') => {
                    let valid = !tag.is_empty()
                        && tag.len() <= 128
                        && tag
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
                    if !valid {
                        bail!("{text}: `{tag}` is not a tag");
                    }
                    (repository, Pin::Tag(tag.to_owned()))
                }
                _ => bail!("{text}: no @sha256:DIGEST (or :TAG with --allow-tag)"),
            },
        };
        // The distribution spec's repository grammar, lowercase path components.
        let valid_repo = !repository.is_empty()
            && repository.split('/').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
            });
        if !valid_repo {
            bail!("{text}: `{repository}` is not a repository name (lowercase a-z, 0-9, . _ - /)");
        }
        Ok(Self {
            registry: registry.to_owned(),
            repository: repository.to_owned(),
            pin,
        })
    }

    /// The manifest reference in the URL path: the digest or the tag.
    pub fn manifest_ref(&self) -> &str {
        match &self.pin {
            Pin::Digest(d) | Pin::Tag(d) => d,
        }
    }

    /// The same artifact pinned to `digest`.
    pub fn pinned(&self, digest: &str) -> String {
        format!("{SCHEME}{}/{}@{digest}", self.registry, self.repository)
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (registry, repository) = (&self.registry, &self.repository);
        match &self.pin {
            Pin::Digest(digest) => write!(f, "{SCHEME}{registry}/{repository}@{digest}"),
            Pin::Tag(tag) => write!(f, "{SCHEME}{registry}/{repository}:{tag}"),
        }
    }
}

/// `sha256:<64 lowercase hex>`, the only algorithm accepted.
pub fn parse_digest(text: &str) -> anyhow::Result<String> {
    let hex = text
        .strip_prefix("sha256:")
        .with_context(|| format!("`{text}`: only sha256 digests are accepted"))?;
    if hex.len() != 64
        || !hex
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    {
        bail!("`{text}`: a sha256 digest is 64 lowercase hex digits");
    }
    Ok(text.to_owned())
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut text = String::with_capacity(7 + 64);
    text.push_str("sha256:");
    for byte in digest.as_ref() {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn a_digest_pin_and_a_tag_parse_and_anything_else_is_refused() {
        let pinned = Reference::parse(&format!("oci://127.0.0.1:5000/acme/plugins@{DIGEST}"))
            .expect("pinned");
        assert_eq!(pinned.registry, "127.0.0.1:5000");
        assert_eq!(pinned.repository, "acme/plugins");
        assert_eq!(pinned.pin, Pin::Digest(DIGEST.to_owned()));
        let tagged = Reference::parse("oci://ghcr.io/acme/plugins:v1.2").expect("tag");
        assert_eq!(tagged.pin, Pin::Tag("v1.2".to_owned()));
        assert_eq!(
            tagged.pinned(DIGEST),
            format!("oci://ghcr.io/acme/plugins@{DIGEST}")
        );
        assert_eq!(tagged.to_string(), "oci://ghcr.io/acme/plugins:v1.2");
        for bad in [
            "ghcr.io/acme/plugins:v1",
            "oci://ghcr.io/acme/plugins",
            "oci://registry:5000/acme/plugins",
            "oci://ghcr.io/Acme/plugins:v1",
            "oci://ghcr.io/acme/plugins@sha256:abc",
            "oci://ghcr.io/acme/plugins@sha512:00",
            "oci://ghcr.io//plugins:v1",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn sha256_is_the_registry_digest_form() {
        assert_eq!(sha256(b""), DIGEST);
    }
}
