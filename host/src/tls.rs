//! TLS: the server configuration (TLS 1.2/1.3, ALPN `http/1.1`) from PEM files or from an
//! in-memory self-signed certificate for `serve --dev`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use ring::digest::{SHA256, digest};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::layer::{ConfigLayer, Origin, pick};

/// Where the TLS certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// PEM files.
    Files {
        /// Certificate chain.
        cert: PathBuf,
        /// Private key.
        key: PathBuf,
    },
    /// An in-memory self-signed certificate for localhost (`serve --dev`).
    SelfSigned,
}

impl TlsSource {
    /// Reads `tls_cert` and `tls_key`: both, or neither with `--dev` (self-signed).
    pub(crate) fn resolve(
        cli: &ConfigLayer,
        file: &ConfigLayer,
        origin: &Origin<'_>,
        dev: bool,
    ) -> anyhow::Result<Self> {
        let cert = pick(&cli.tls_cert, &file.tls_cert);
        let key = pick(&cli.tls_key, &file.tls_key);
        Ok(match (cert, key) {
            (Some((cert, _)), Some((key, _))) => Self::Files { cert, key },
            (None, None) if dev => Self::SelfSigned,
            (None, None) => bail!(
                "no TLS certificate configured: set tls_cert and tls_key (--tls-cert/--tls-key), or use --dev"
            ),
            (Some((_, from_cli)), None) => bail!(
                "{}: missing, tls_cert is set",
                origin.name(from_cli, "tls_key")
            ),
            (None, Some((_, from_cli))) => bail!(
                "{}: missing, tls_key is set",
                origin.name(from_cli, "tls_cert")
            ),
        })
    }
}

/// A server configuration and what to tell the operator about it.
#[derive(Debug, Clone)]
pub struct LoadedTls {
    /// Ready for `TlsAcceptor::from`.
    pub config: Arc<ServerConfig>,
    /// SHA-256 of the leaf certificate, colon-separated hex (what browsers and curl show).
    pub fingerprint: String,
    /// The leaf certificate, PEM, for clients to pin (dev mode prints it).
    pub leaf_der: CertificateDer<'static>,
    /// When the leaf certificate expires (Unix seconds), if its validity could be read.
    pub not_after: Option<i64>,
}

/// Loads the certificate chain and key named by `source`.
pub fn load(source: &TlsSource) -> anyhow::Result<LoadedTls> {
    match source {
        TlsSource::Files { cert, key } => {
            let (chain, key_der) = read_pem_files(cert, key)?;
            build(chain, key_der).with_context(|| {
                format!(
                    "TLS certificate {} and key {}",
                    cert.display(),
                    key.display()
                )
            })
        }
        TlsSource::SelfSigned => {
            let (chain, key) = self_signed(&["localhost", "127.0.0.1", "::1"])?;
            build(chain, key)
        }
    }
}

/// Reads a PEM chain and key, naming the file that fails.
pub fn read_pem_files(
    cert: &Path,
    key: &Path,
) -> anyhow::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let small = crate::regular_file::MAX_SMALL_FILE_BYTES;
    let cert_pem = crate::regular_file::read(cert, small, "1 MiB")
        .with_context(|| format!("cannot read TLS certificate {}", cert.display()))?;
    let key_pem = crate::regular_file::read(key, small, "1 MiB")
        .with_context(|| format!("cannot read a private key from {}", key.display()))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("invalid PEM in TLS certificate {}", cert.display()))?;
    if chain.is_empty() {
        bail!(
            "TLS certificate {} holds no CERTIFICATE block",
            cert.display()
        );
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .with_context(|| format!("cannot read a private key from {}", key.display()))?;
    Ok((chain, key))
}

/// A fresh self-signed certificate for `names`, in memory only.
pub fn self_signed(
    names: &[&str],
) -> anyhow::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let certified =
        rcgen::generate_simple_self_signed(names).context("cannot generate a dev certificate")?;
    let key = PrivateKeyDer::try_from(certified.signing_key.serialize_der())
        .map_err(|e| anyhow::anyhow!("dev key: {e}"))?;
    Ok((vec![certified.cert.der().clone()], key))
}

/// The provider every TLS object in the process uses.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server configuration for `chain` and `key`: TLS 1.2 and 1.3 only, ALPN `http/1.1`.
pub fn build(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> anyhow::Result<LoadedTls> {
    let leaf_der = chain[0].clone();
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
                anyhow::anyhow!(
                    "the private key does not match the certificate (it is the key of another certificate): give the key the certificate was issued for"
                )
            }
            other => {
                anyhow::anyhow!("the TLS certificate and key do not form a usable pair: {other}")
            }
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(LoadedTls {
        config: Arc::new(config),
        fingerprint: fingerprint(&leaf_der),
        not_after: not_after(&leaf_der),
        leaf_der,
    })
}

/// SHA-256 of a certificate, as `AB:CD:…`.
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    digest(&SHA256, cert.as_ref())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// One DER element: (tag, contents, what follows).
fn der_element(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = data.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let len = rest[..count]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[count..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// `notAfter` of an X.509 certificate, as Unix seconds: for the expiry metric, so a walk of
/// the few DER elements before it is all that is needed.
pub fn not_after(cert: &CertificateDer<'_>) -> Option<i64> {
    let (_, certificate, _) = der_element(cert.as_ref())?;
    let (_, tbs, _) = der_element(certificate)?;
    let mut rest = tbs;
    // Optional [0] version, then serial, signature algorithm, issuer, validity.
    let (tag, _, after) = der_element(rest)?;
    if tag == 0xa0 {
        rest = after;
    }
    for _ in 0..3 {
        rest = der_element(rest)?.2;
    }
    let (_, validity, _) = der_element(rest)?;
    let (_, _, after_not_before) = der_element(validity)?;
    let (tag, time, _) = der_element(after_not_before)?;
    let digits = std::str::from_utf8(time).ok()?.strip_suffix('Z')?;
    let (year, rest) = match tag {
        0x17 => {
            let yy: i64 = digits.get(..2)?.parse().ok()?;
            (
                if yy < 50 { 2000 + yy } else { 1900 + yy },
                digits.get(2..)?,
            )
        }
        0x18 => (digits.get(..4)?.parse().ok()?, digits.get(4..)?),
        _ => return None,
    };
    let field = |i: usize| -> Option<i64> { rest.get(i..i + 2)?.parse().ok() };
    let (month, day, hour, minute, second) =
        (field(0)?, field(2)?, field(4)?, field(6)?, field(8)?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_builds_with_http1_alpn_and_a_fingerprint() {
        let tls = load(&TlsSource::SelfSigned).expect("dev tls");
        assert_eq!(tls.config.alpn_protocols, vec![b"http/1.1".to_vec()]);
        assert_eq!(tls.fingerprint.len(), 32 * 3 - 1);
        assert_eq!(tls.fingerprint, fingerprint(&tls.leaf_der));
    }

    #[test]
    fn expiry_is_read_from_utc_and_generalized_times() {
        for (year, month, day, expected) in
            [(2031, 5, 17, 1_936_742_400), (2050, 1, 1, 2_524_608_000)]
        {
            let mut params =
                rcgen::CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
            params.not_after = rcgen::date_time_ymd(year, month, day);
            let key = rcgen::KeyPair::generate().expect("key");
            let cert = params.self_signed(&key).expect("cert");
            assert_eq!(
                not_after(cert.der()),
                Some(expected),
                "{year}-{month}-{day}"
            );
        }
        assert_eq!(
            not_after(&CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01])),
            None
        );
    }

    #[test]
    fn pem_files_load_and_bad_files_are_named() {
        let dir = std::env::temp_dir().join(format!("importhook-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let certified =
            rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("cert");
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert, certified.cert.pem()).expect("write");
        std::fs::write(&key, certified.signing_key.serialize_pem()).expect("write");
        let source = TlsSource::Files {
            cert: cert.clone(),
            key: key.clone(),
        };
        load(&source).expect("valid pem");

        let err = format!(
            "{:#}",
            load(&TlsSource::Files {
                cert: key.clone(),
                key: key.clone()
            })
            .unwrap_err()
        );
        assert!(err.contains("key.pem"), "{err}");
        let err = format!(
            "{:#}",
            load(&TlsSource::Files {
                cert: cert.clone(),
                key: cert
            })
            .unwrap_err()
        );
        assert!(err.contains("cert.pem"), "{err}");

        // Another certificate's key: said in words, naming both files.
        let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("cert");
        let other_key = dir.join("other-key.pem");
        std::fs::write(&other_key, other.signing_key.serialize_pem()).expect("write");
        let err = format!(
            "{:#}",
            load(&TlsSource::Files {
                cert: dir.join("cert.pem"),
                key: other_key
            })
            .unwrap_err()
        );
        assert!(
            err.contains("the private key does not match the certificate")
                && err.contains("other-key.pem")
                && !err.contains("KeyMismatch"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
