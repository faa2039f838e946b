//! Harness for the end-to-end tests: builds the real plugins for wasm32-wasip2, starts the real
//! server on 127.0.0.1:0 with a fresh self-signed certificate, and talks to it over real TLS.
#![allow(dead_code)]

pub mod okta_org;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use importhook::app::App;
use importhook::config::{ConfigLayer, Settings};
use importhook::engine::Runtime;
use importhook::service::{Listeners, Service, Strategies};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// The `importhook` binary (the test build of the server, with its fake Okta org hooks).
pub const BIN: &str = env!("CARGO_BIN_EXE_importhook-e2e-server");

/// `importhook serve` on port 0 (admin too) with the plugins of `plugins`, the test
/// certificate in `cert_dir` (`cert.pem`, `key.pem`) and [`SECRET`], logging at `info` to a
/// pipe. Read the address from its log with [`listen_addr`].
pub fn serve_command(plugins: &Path, cert_dir: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(BIN);
    command
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
        ])
        .arg("--plugins")
        .arg(plugins)
        .arg("--tls-cert")
        .arg(cert_dir.join("cert.pem"))
        .arg("--tls-key")
        .arg(cert_dir.join("key.pem"))
        .env("IMPORTHOOK_SECRETS", SECRET)
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped());
    command
}

/// The hook's address in `serve`'s start-up log line, if `line` is that one.
pub fn listen_addr(line: &str) -> Option<SocketAddr> {
    line.split("listen=")
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The hook secret every test server accepts.
pub const SECRET: &str = "e2e-secret-Basic dGVzdDp0ZXN0";
/// The hook path.
pub const PATH: &str = "/okta/import";

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The Okta request sample from the reference docs.
pub fn okta_sample() -> serde_json::Value {
    let path = workspace_root().join("host/tests/okta-samples/request-reference-docs.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("sample")).expect("json")
}

/// The SDK's plugins are built for `wasm32-unknown-unknown` (no WASI; the host turns the core
/// module into a component). The WASI path (other languages' components) is covered by the
/// fault plugins built for `wasm32-wasip2` as well: name them `crate@wasip2`.
const PLUGINS: [&str; 6] = [
    "login-counter-suffix",
    "login-middle-name",
    "normalize-login",
    "link-single-match",
    "fault-plugin",
    "fault-init",
];
const WASIP2_PLUGINS: [&str; 2] = ["fault-plugin", "fault-import"];

/// Builds the example and fault plugins (once per test binary) and returns the folder holding
/// the `.wasm` files of the target `target` (`wasm32-unknown-unknown` or `wasm32-wasip2`).
pub fn wasm_dir_for(target_triple: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let target = BUILT.get_or_init(|| {
        let root = workspace_root();
        // A target folder of its own: the outer `cargo test` may hold the lock on `target/`.
        let target = root.join("target/e2e-wasm");
        for (triple, packages) in [
            ("wasm32-unknown-unknown", &PLUGINS[..]),
            ("wasm32-wasip2", &WASIP2_PLUGINS[..]),
        ] {
            let mut cargo = std::process::Command::new(env!("CARGO"));
            cargo
                .current_dir(&root)
                .args(["build", "--release", "--target", triple, "--target-dir"])
                .arg(&target);
            for package in packages {
                cargo.args(["-p", package]);
            }
            if std::env::var_os("CI").is_some() {
                cargo.arg("--locked");
            }
            let status = cargo.status().expect("run cargo to build the wasm plugins");
            assert!(
                status.success(),
                "building the wasm plugins for {triple} failed (is the target installed?)"
            );
        }
        target
    });
    target.join(target_triple).join("release")
}

/// The folder of the SDK plugins' `.wasm` files (`wasm32-unknown-unknown`).
pub fn wasm_dir() -> PathBuf {
    wasm_dir_for("wasm32-unknown-unknown")
}

/// The `.wasm` file of `crate_name`, or of its `wasm32-wasip2` build for `crate@wasip2`.
pub fn plugin_file(crate_name: &str) -> PathBuf {
    let (name, dir) = match crate_name.split_once('@') {
        Some((name, "wasip2")) => (name, wasm_dir_for("wasm32-wasip2")),
        Some((_, other)) => panic!("unknown plugin build {other:?}"),
        None => (crate_name, wasm_dir()),
    };
    dir.join(format!("{}.wasm", name.replace('-', "_")))
}

/// A temporary folder, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("importhook-e2e-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temp dir");
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh self-signed certificate for `localhost`, written to `dir` as `cert.pem` and
/// `key.pem` (for a child `importhook serve` or `doctor`).
pub fn write_localhost_certificate(dir: &Path) -> CertificateDer<'static> {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("cert");
    std::fs::write(dir.join("cert.pem"), certified.cert.pem()).expect("cert");
    std::fs::write(dir.join("key.pem"), certified.signing_key.serialize_pem()).expect("key");
    CertificateDer::from(certified.cert.der().to_vec())
}

/// This process's resident memory (VmRSS), in bytes.
pub fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmRSS")
        * 1024
}

/// A plugins folder: `(file stem, crate name, manifest text)`.
pub fn plugins_folder(plugins: &[(&str, &str, &str)]) -> TempDir {
    let dir = TempDir::new("plugins");
    for (stem, crate_name, manifest) in plugins {
        let wasm = plugin_file(crate_name);
        std::fs::copy(&wasm, dir.path().join(format!("{stem}.wasm"))).expect("copy plugin");
        if !manifest.is_empty() {
            std::fs::write(dir.path().join(format!("{stem}.toml")), manifest).expect("manifest");
        }
    }
    dir
}

/// One engine for the whole test binary, with a compile cache shared across runs.
pub fn runtime() -> Arc<Runtime> {
    static RUNTIME: OnceLock<Arc<Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            Runtime::new(Some(workspace_root().join("target/e2e-cache")), false).expect("runtime")
        })
        .clone()
}

/// Sends `request` as the only request of a new HTTP/1.1 connection over `io`.
async fn send<IO>(io: IO, request: Request<Full<Bytes>>) -> Reply
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .expect("http handshake");
    tokio::spawn(connection);
    let response = sender.send_request(request).await.expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    Reply {
        status,
        headers,
        body,
    }
}

/// POSTs `body` to the hook of the server at `addr` (certificate `cert`) on a new connection:
/// for servers this harness did not start in-process (a child `importhook serve`).
pub async fn hook_at(
    addr: SocketAddr,
    cert: &CertificateDer<'static>,
    body: &serde_json::Value,
) -> std::io::Result<Reply> {
    let config = client_config(cert, &[&rustls::version::TLS13]);
    let tcp = TcpStream::connect(addr).await?;
    let tls = TlsConnector::from(config)
        .connect(ServerName::try_from("localhost").expect("name"), tcp)
        .await?;
    let request = Request::builder()
        .method("POST")
        .uri(PATH)
        .header("host", "localhost")
        .header("authorization", SECRET)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(
            serde_json::to_vec(body).expect("json"),
        )))
        .expect("request");
    Ok(send(tls, request).await)
}

/// A running server.
pub struct TestServer {
    pub addr: SocketAddr,
    pub admin: SocketAddr,
    pub cert: CertificateDer<'static>,
    pub app: Arc<App>,
    pub tls: Arc<ArcSwap<rustls::ServerConfig>>,
    stop: std::sync::Mutex<Option<oneshot::Sender<()>>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    _state_dir: Option<TempDir>,
}

/// Starts a server with `layer` (listen addresses are forced to port 0) and the plugins of
/// `plugins` (none when `None`).
pub async fn start(layer: ConfigLayer, plugins: Option<&Path>) -> TestServer {
    start_with(layer, plugins, runtime()).await
}

/// [`start`] on a wasm runtime of the caller's (its own memory budget, say).
pub async fn start_with(
    mut layer: ConfigLayer,
    plugins: Option<&Path>,
    runtime: Arc<Runtime>,
) -> TestServer {
    layer.listen = Some("127.0.0.1:0".into());
    layer.admin_listen = Some("127.0.0.1:0".into());
    if let Some(dir) = plugins {
        layer.plugins = Some(dir.to_path_buf());
    }
    // Every server its own state file (redb allows one opener per file), removed with it.
    let state_dir = (layer.state_path.is_none() && layer.state_url.is_none()).then(|| {
        let dir = TempDir::new("state");
        layer.state_path = Some(dir.path().join("state.redb"));
        dir
    });
    let settings = Settings::resolve(&layer, None, Some(SECRET), true).expect("settings");
    // The one wiring `serve` uses, on port 0 and with the test binary's shared engine.
    let listeners = Listeners::bind(&settings).await.expect("bind");
    let service = Service::build(&settings, listeners, Strategies::Shared(runtime))
        .await
        .expect("service");
    let (addr, admin_addr) = (
        service.hook_addr().expect("addr"),
        service.admin_addr().expect("addr"),
    );
    let (app, tls_config, cert) = (
        service.app().clone(),
        service.tls().clone(),
        service.certificate().clone(),
    );
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(service.run(async move {
        let _ = stop_rx.await;
    }));
    TestServer {
        addr,
        admin: admin_addr,
        cert,
        app,
        tls: tls_config,
        stop: std::sync::Mutex::new(Some(stop_tx)),
        task,
        _state_dir: state_dir,
    }
}

/// A client configuration trusting `cert` for `localhost`, limited to `versions`.
pub fn client_config(
    cert: &CertificateDer<'static>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).expect("trust the test certificate");
    let mut config = rustls::ClientConfig::builder_with_provider(importhook::tls::provider())
        .with_protocol_versions(versions)
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// An HTTP reply.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.body))
    }
}

impl TestServer {
    /// A TLS connection (TLS 1.2 or 1.3).
    pub async fn connect(&self) -> TlsStream<TcpStream> {
        self.connect_with(client_config(
            &self.cert,
            &[&rustls::version::TLS13, &rustls::version::TLS12],
        ))
        .await
        .expect("tls connect")
    }

    pub async fn connect_with(
        &self,
        config: Arc<rustls::ClientConfig>,
    ) -> std::io::Result<TlsStream<TcpStream>> {
        let tcp = TcpStream::connect(self.addr).await?;
        TlsConnector::from(config)
            .connect(ServerName::try_from("localhost").expect("name"), tcp)
            .await
    }

    /// Sends one request on a new connection.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Reply {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "localhost");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        send(
            self.connect().await,
            builder.body(Full::new(Bytes::from(body))).expect("request"),
        )
        .await
    }

    /// POSTs `body` to the hook with the right secret and content type.
    pub async fn hook(&self, body: &serde_json::Value) -> Reply {
        self.request(
            "POST",
            PATH,
            &[
                ("authorization", SECRET),
                ("content-type", "application/json"),
            ],
            serde_json::to_vec(body).expect("json"),
        )
        .await
    }

    /// POSTs `body` to the hook the way a simple client does: head and body in one write,
    /// `connection: close`. Returns the status line's code (0 when the connection closed
    /// without an answer).
    pub async fn hook_one_write(&self, body: &serde_json::Value) -> u16 {
        let body = serde_json::to_vec(body).expect("json");
        let mut bytes = format!(
            "POST {PATH} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\ncontent-type: application/json\r\nauthorization: {SECRET}\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        bytes.extend_from_slice(&body);
        let answer = self.raw(&bytes).await;
        String::from_utf8_lossy(&answer)
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .unwrap_or(0)
    }

    /// Writes raw bytes on a TLS connection and reads until the server closes it (or 5 s).
    pub async fn raw(&self, bytes: &[u8]) -> Vec<u8> {
        let mut stream = self.connect().await;
        stream.write_all(bytes).await.expect("write");
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out)).await;
        out
    }

    /// GETs an admin path (plain HTTP).
    pub async fn admin_get(&self, path: &str) -> (StatusCode, String) {
        let tcp = TcpStream::connect(self.admin).await.expect("admin connect");
        let request = Request::builder()
            .uri(path)
            .header("host", "localhost")
            .body(Full::new(Bytes::new()))
            .expect("request");
        let reply = send(tcp, request).await;
        (
            reply.status,
            String::from_utf8_lossy(&reply.body).into_owned(),
        )
    }

    /// Signals shutdown (as SIGTERM would) without waiting.
    pub fn begin_shutdown(&self) {
        if let Some(stop) = self.stop.lock().expect("stop").take() {
            let _ = stop.send(());
        }
    }

    /// Stops the server and waits for it to drain.
    pub async fn stop(self) {
        self.begin_shutdown();
        self.task
            .await
            .expect("server task")
            .expect("server result");
    }
}

/// A strategy written in another language, built from its example folder with its own
/// toolchain (issue 16): the JavaScript SDK's (ComponentizeJS, through npm) or the Python
/// SDK's (componentize-py, from the repository's `.venv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    JavaScript,
    Python,
}

/// Builds the `login-middle-name` example of `language` (once per test binary) and returns
/// its component. A missing toolchain fails the test with what to install: never a skip.
pub fn language_example(language: Language) -> PathBuf {
    static JS: OnceLock<PathBuf> = OnceLock::new();
    static PY: OnceLock<PathBuf> = OnceLock::new();
    let root = workspace_root();
    let out_dir = root.join("target/e2e-languages");
    match language {
        Language::JavaScript => JS
            .get_or_init(|| {
                let example = root.join("examples/js/login-middle-name");
                assert!(
                    example.join("node_modules/.bin/importhook-build-js").exists(),
                    "the JavaScript toolchain is not installed: run `npm ci` in {} (Node.js >= 20; .ci/run does it)",
                    example.display()
                );
                let out = out_dir.join("login_middle_name_js.wasm");
                run_build(
                    std::process::Command::new("npm")
                        .current_dir(&example)
                        .args(["run", "--silent", "build", "--", "-o"])
                        .arg(&out),
                    "npm run build (JavaScript example)",
                );
                out
            })
            .clone(),
        Language::Python => PY
            .get_or_init(|| {
                let venv = root.join(".venv/bin");
                assert!(
                    venv.join("componentize-py").exists(),
                    "the Python toolchain is not installed: run `python3 -m venv .venv && .venv/bin/pip install -r sdk-python/requirements.txt` in {} (.ci/run does it)",
                    root.display()
                );
                let out = out_dir.join("login_middle_name_py.wasm");
                run_build(
                    std::process::Command::new("sh")
                        .arg(root.join("examples/python/login-middle-name/build.sh"))
                        .arg(&out)
                        .env("PYTHON", venv.join("python")),
                    "build.sh (Python example)",
                );
                out
            })
            .clone(),
    }
}

fn run_build(command: &mut std::process::Command, what: &str) {
    let started = std::time::Instant::now();
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e} (is the toolchain on PATH?)"));
    assert!(status.success(), "{what} failed: {status}");
    eprintln!("{what}: built in {:.1} s", started.elapsed().as_secs_f64());
}

/// A plugins folder of built components: `(file stem, component, manifest text)`.
pub fn plugins_folder_of(plugins: &[(&str, &Path, &str)]) -> TempDir {
    let dir = TempDir::new("plugins");
    for (stem, wasm, manifest) in plugins {
        std::fs::copy(wasm, dir.path().join(format!("{stem}.wasm"))).expect("copy plugin");
        if !manifest.is_empty() {
            std::fs::write(dir.path().join(format!("{stem}.toml")), manifest).expect("manifest");
        }
    }
    dir
}

/// A `CREATE_USER` request of Okta's with a login conflict on `login` (appUser Joe), under
/// the event id `event`: what a counter or claim strategy acts on.
pub fn login_conflict(event: &str, login: &str) -> serde_json::Value {
    serde_json::json!({
        "eventId": event,
        "eventType": "com.okta.import.transform",
        "data": {
            "context": {"conflicts": ["login"]},
            "action": {"result": "CREATE_USER"},
            "appUser": {"profile": {"firstName": "Joe"}},
            "user": {"profile": {"login": login}}
        }
    })
}
