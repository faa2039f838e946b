//! TLS: the server configuration (TLS 1.2/1.3, ALPN `http/1.1`) from PEM files or from an
//! in-memory self-signed certificate for `serve --dev`.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use ring::digest::{SHA256, digest};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::TlsSource;

/// A server configuration and what to tell the operator about it.
#[derive(Debug, Clone)]
pub struct LoadedTls {
    /// Ready for `TlsAcceptor::from`.
    pub config: Arc<ServerConfig>,
    /// SHA-256 of the leaf certificate, colon-separated hex (what browsers and curl show).
    pub fingerprint: String,
    /// The leaf certificate, PEM, for clients to pin (dev mode prints it).
    pub leaf_der: CertificateDer<'static>,
}

/// Loads the certificate chain and key named by `source`.
pub fn load(source: &TlsSource) -> anyhow::Result<LoadedTls> {
    match source {
        TlsSource::Files { cert, key } => {
            let (chain, key) = read_pem_files(cert, key)?;
            build(chain, key)
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
    let chain = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("cannot read TLS certificate {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("invalid PEM in TLS certificate {}", cert.display()))?;
    if chain.is_empty() {
        bail!(
            "TLS certificate {} holds no CERTIFICATE block",
            cert.display()
        );
    }
    let key = PrivateKeyDer::from_pem_file(key)
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
        .context("the TLS certificate and key do not form a usable pair")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(LoadedTls {
        config: Arc::new(config),
        fingerprint: fingerprint(&leaf_der),
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
    }
}
