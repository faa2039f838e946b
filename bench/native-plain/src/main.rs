//! `importhook-native-plain`: the benchmark's native reference, the Okta User Import Inline
//! Hook a Rust developer writes by following Okta's guide with no framework: hyper (HTTP/1.1)
//! on tokio (one worker thread per core), rustls with the ring provider and TLS 1.2/1.3 (as
//! importhook), serde_json into typed structs, the middle-name strategy hard-coded. Written
//! apart from importhook so that importhook's CPU per request can be held against what the same
//! HTTP, TLS and JSON work costs without it. No logging, like the Node.js peers.
//!
//! Options, each as a flag or an env var (flags win), the same as `bench/node-peer`'s:
//! `--port`/`PORT` (8443), `--host`/`HOST` (127.0.0.1), `--cert`/`TLS_CERT`,
//! `--key`/`TLS_KEY`, `--secret`/`HOOK_SECRET` (the expected `Authorization` value; prefer the
//! env var), `--workers`/`WORKERS` (default: the cores available).

mod hook;
mod strategy;

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// Command line.
#[derive(Debug, Parser)]
#[command(
    name = "importhook-native-plain",
    about = "Benchmark only: a plain native Okta import hook (hyper + rustls + serde_json)"
)]
struct Cli {
    /// Listening port.
    #[arg(long, env = "PORT", default_value_t = 8443)]
    port: u16,
    /// Listening address.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    host: IpAddr,
    /// PEM certificate chain.
    #[arg(long, env = "TLS_CERT")]
    cert: PathBuf,
    /// PEM private key.
    #[arg(long, env = "TLS_KEY")]
    key: PathBuf,
    /// The expected `Authorization` header value.
    #[arg(long, env = "HOOK_SECRET", hide_env_values = true)]
    secret: String,
    /// Tokio worker threads (default: the cores available).
    #[arg(long, env = "WORKERS")]
    workers: Option<usize>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    anyhow::ensure!(!cli.secret.is_empty(), "the secret must not be empty");
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(workers) = cli.workers {
        runtime.worker_threads(workers);
    }
    runtime
        .enable_all()
        .build()
        .context("tokio runtime")?
        .block_on(serve(cli))
}

/// TLS 1.3 and 1.2 over ring, ALPN `http/1.1`: the configuration importhook serves with.
fn tls_config(cert: &PathBuf, key: &PathBuf) -> anyhow::Result<Arc<ServerConfig>> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .with_context(|| format!("certificate {}", cert.display()))?;
    let key =
        PrivateKeyDer::from_pem_file(key).with_context(|| format!("key {}", key.display()))?;
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .context("TLS versions")?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .context("certificate and key")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

async fn serve(cli: Cli) -> anyhow::Result<()> {
    let acceptor = TlsAcceptor::from(tls_config(&cli.cert, &cli.key)?);
    let address = SocketAddr::new(cli.host, cli.port);
    let listener = TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    let secret: Arc<[u8]> = cli.secret.into_bytes().into();
    let mut http = http1::Builder::new();
    http.keep_alive(true);
    println!(
        "importhook-native-plain: https://{}{}",
        listener.local_addr()?,
        hook::HOOK_PATH
    );
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(pair) => pair,
            Err(e) => {
                // Typically EMFILE: back off instead of spinning.
                eprintln!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (acceptor, secret, http) = (acceptor.clone(), secret.clone(), http.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(stream).await else {
                return;
            };
            let service = service_fn(move |request| {
                let secret = secret.clone();
                async move { Ok::<_, Infallible>(hook::handle(request, &secret).await) }
            });
            let _ = http.serve_connection(TokioIo::new(tls), service).await;
        });
    }
}
