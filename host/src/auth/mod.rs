//! Shared-secret authentication: Okta sends the stored secret verbatim in a configurable header.
//!
//! Secrets are kept as keyed digests (SipHash-2-4, 128 bits, under a key drawn at random once
//! per process, by the first set made at start-up) and every presented value's digest is
//! compared, in constant time, with every configured one, so neither the matching secret nor
//! any length leaks: the time depends only on the presented value's length and the number of
//! secrets. A keyed digest (a PRF) is as good as a cryptographic hash for this: with the key
//! unknown outside the process, a forged match is a 2^-128 guess, and SipHash of a header costs
//! ~150 instructions where SHA-256 cost ~2,500 (~3 % of a request's, BENCHMARKS.md "Eighth
//! pass").

pub(crate) mod config;

use std::fmt;
use std::hash::Hasher;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use anyhow::{Context, bail};
use arc_swap::ArcSwap;

use http::HeaderMap;
use http::header::HeaderName;
use siphasher::sip128::{Hasher128, SipHasher24};
use subtle::{Choice, ConstantTimeEq};

use crate::oauth::OAuthVerifier;

/// A secret value that never shows itself in `Debug` or `Display`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret; surrounding whitespace (e.g. a trailing newline in a file) is dropped.
    pub fn new(value: impl AsRef<str>) -> Self {
        Self(value.as_ref().trim().to_owned())
    }

    /// The secret itself, for the one place that must print it (`serve --dev`).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Why a request was not authenticated. Never carries the presented value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The header is absent.
    #[error("authentication header missing")]
    Missing,
    /// The header appears more than once.
    #[error("authentication header repeated")]
    Duplicated,
    /// The header matches no configured secret.
    #[error("authentication header does not match")]
    Mismatch,
}

impl AuthError {
    /// The request log line's `reason` for a `401`.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Missing => "missing header",
            Self::Duplicated => "repeated header",
            Self::Mismatch => "no secret matched",
        }
    }
}

/// The accepted secrets (more than one while rotating) and the header that carries them.
#[derive(Clone)]
pub struct SecretSet {
    header: HeaderName,
    /// The process's digest key ([`digest_key`]).
    key: &'static [u8; 16],
    digests: Vec<[u8; 16]>,
}

impl fmt::Debug for SecretSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretSet")
            .field("header", &self.header)
            .field(
                "secrets",
                &format_args!("<{} redacted>", self.digests.len()),
            )
            .finish()
    }
}

/// The process's digest key: 128 random bits, drawn once. Every set of the process (a reload's
/// included) uses it, so digests of one set compare with any presented value.
fn digest_key() -> anyhow::Result<&'static [u8; 16]> {
    static KEY: OnceLock<[u8; 16]> = OnceLock::new();
    if let Some(key) = KEY.get() {
        return Ok(key);
    }
    use ring::rand::{SecureRandom, SystemRandom};
    let mut key = [0u8; 16];
    SystemRandom::new()
        .fill(&mut key)
        .map_err(|_| anyhow::anyhow!("no system randomness for the secrets' digest key"))?;
    Ok(KEY.get_or_init(|| key))
}

/// `bytes`' digest under `key` (constant time in `bytes`' contents: SipHash is only additions,
/// rotations and xors).
fn keyed_digest(key: &[u8; 16], bytes: &[u8]) -> [u8; 16] {
    let mut hasher = SipHasher24::new_with_key(key);
    hasher.write(bytes);
    hasher.finish128().as_bytes()
}

impl SecretSet {
    /// A set accepting any of `secrets` in `header`. Fails only when the system has no
    /// randomness for the digest key (the first set of the process draws it).
    pub fn new(header: HeaderName, secrets: &[Secret]) -> anyhow::Result<Self> {
        let key = digest_key()?;
        Ok(Self {
            header,
            key,
            digests: secrets
                .iter()
                .map(|s| keyed_digest(key, s.0.as_bytes()))
                .collect(),
        })
    }

    /// The header name checked.
    pub fn header(&self) -> &HeaderName {
        &self.header
    }

    /// How many secrets are accepted.
    pub fn len(&self) -> usize {
        self.digests.len()
    }

    /// True when no secret is configured (then nothing is accepted).
    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    /// Checks the request headers: exactly one header, equal to one of the secrets.
    pub fn verify(&self, headers: &HeaderMap) -> Result<(), AuthError> {
        let mut values = headers.get_all(&self.header).iter();
        let presented = values.next().ok_or(AuthError::Missing)?;
        if values.next().is_some() {
            return Err(AuthError::Duplicated);
        }
        let presented = keyed_digest(self.key, presented.as_bytes());
        // Fold over every secret without short-circuiting: the time does not depend on
        // which secret matched, or whether any did.
        let matched = self
            .digests
            .iter()
            .fold(Choice::from(0), |acc, known| acc | known.ct_eq(&presented));
        if bool::from(matched) {
            Ok(())
        } else {
            Err(AuthError::Mismatch)
        }
    }
}

/// How the hook tells Okta's calls from anyone else's: shared secrets in a header, or OAuth
/// bearer tokens. The modes exclude each other (`auth_mode`).
#[derive(Debug)]
pub enum Authenticator {
    /// Secrets compared in constant time; the set is swapped when the secret file is re-read.
    Secrets(ArcSwap<SecretSet>),
    /// Bearer tokens verified against the authorization server's keys.
    OAuth(Arc<OAuthVerifier>),
}

impl Authenticator {
    /// Shared-secret authentication with `secrets`.
    pub fn secrets(secrets: SecretSet) -> Self {
        Self::Secrets(ArcSwap::from_pointee(secrets))
    }

    /// The bearer-token verifier, in OAuth mode.
    pub fn oauth(&self) -> Option<&OAuthVerifier> {
        match self {
            Self::OAuth(verifier) => Some(verifier),
            Self::Secrets(_) => None,
        }
    }
}

/// Reads a secret file: one secret per line, blank lines ignored; at least one.
pub fn read_secret_file(path: &Path) -> anyhow::Result<Vec<Secret>> {
    let text = crate::regular_file::read(path, crate::regular_file::MAX_SMALL_FILE_BYTES, "1 MiB")
        .and_then(|bytes| String::from_utf8(bytes).context("not UTF-8"))
        .with_context(|| format!("cannot read {}", path.display()))?;
    let secrets: Vec<Secret> = text
        .lines()
        .map(Secret::new)
        .filter(|s| !s.expose().is_empty())
        .collect();
    if secrets.is_empty() {
        bail!("{} holds no secret", path.display());
    }
    Ok(secrets)
}

/// 32 random bytes as hex, for `--dev` when no secret is configured.
pub(crate) fn generate_secret() -> anyhow::Result<Secret> {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("no system randomness to generate a dev secret"))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(Secret::new(hex))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(name: &str, values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_str(value).expect("value"),
            );
        }
        map
    }

    fn set(header: &str, secrets: &[&str]) -> SecretSet {
        let secrets: Vec<Secret> = secrets.iter().map(Secret::new).collect();
        SecretSet::new(
            HeaderName::from_bytes(header.as_bytes()).expect("name"),
            &secrets,
        )
        .expect("a digest key")
    }

    #[test]
    fn accepts_every_secret_of_a_rotation() {
        let secrets = set("authorization", &["old-secret", "new-secret"]);
        assert_eq!(
            secrets.verify(&headers("authorization", &["old-secret"])),
            Ok(())
        );
        assert_eq!(
            secrets.verify(&headers("Authorization", &["new-secret"])),
            Ok(())
        );
        assert_eq!(
            secrets.verify(&headers("authorization", &["other"])),
            Err(AuthError::Mismatch)
        );
    }

    #[test]
    fn basic_auth_value_is_compared_verbatim_with_its_scheme() {
        let secrets = set("authorization", &["Basic dXNlcjpwYXNz"]);
        assert_eq!(
            secrets.verify(&headers("authorization", &["Basic dXNlcjpwYXNz"])),
            Ok(())
        );
        assert_eq!(
            secrets.verify(&headers("authorization", &["dXNlcjpwYXNz"])),
            Err(AuthError::Mismatch)
        );
        assert_eq!(
            secrets.verify(&headers("authorization", &["basic dXNlcjpwYXNz"])),
            Err(AuthError::Mismatch)
        );
    }

    #[test]
    fn wrong_lengths_prefixes_and_extensions_are_rejected() {
        let secrets = set("authorization", &["s3cret-value"]);
        for wrong in ["", "s3cret", "s3cret-value-and-more", "s3cret-valuf"] {
            assert_eq!(
                secrets.verify(&headers("authorization", &[wrong])),
                Err(AuthError::Mismatch),
                "{wrong:?}"
            );
        }
    }

    #[test]
    fn missing_or_duplicated_header_is_rejected() {
        let secrets = set("x-okta-secret", &["abc"]);
        assert_eq!(
            secrets.verify(&headers("authorization", &["abc"])),
            Err(AuthError::Missing)
        );
        assert_eq!(
            secrets.verify(&headers("x-okta-secret", &["abc", "abc"])),
            Err(AuthError::Duplicated)
        );
        assert_eq!(secrets.verify(&headers("x-okta-secret", &["abc"])), Ok(()));
    }

    #[test]
    fn each_refusal_has_its_log_reason() {
        let secrets = set("x-okta-secret", &["abc"]);
        let reason = |values: &[&str]| {
            secrets
                .verify(&headers("x-okta-secret", values))
                .expect_err("refused")
                .reason()
        };
        assert_eq!(reason(&[]), "missing header");
        assert_eq!(reason(&["abd"]), "no secret matched");
        assert_eq!(reason(&["abc", "abc"]), "repeated header");
    }

    #[test]
    fn empty_set_accepts_nothing() {
        let secrets = set("authorization", &[]);
        assert!(secrets.is_empty());
        assert_eq!(
            secrets.verify(&headers("authorization", &[""])),
            Err(AuthError::Mismatch)
        );
    }

    #[test]
    fn debug_and_display_are_redacted() {
        let secret = Secret::new("hunter2-canary");
        assert!(!format!("{secret:?} {secret}").contains("hunter2"));
        let set = SecretSet::new(HeaderName::from_static("authorization"), &[secret])
            .expect("a digest key");
        assert!(!format!("{set:?}").contains("hunter2"));
    }
}
