//! `importhook pull` against a real OCI registry (Debian's `docker-registry`, the CNCF
//! distribution server) this test starts on loopback: an artifact pushed with the distribution
//! API is pulled by digest, served from the folder it landed in (laid between an "image" and a
//! "ConfigMap" folder, as deploy/kubernetes runs it), pulled again over HTTPS from a second
//! registry process on the same storage (trusted through --ca-file only, behind HTTP Basic
//! authentication), and every way of getting it wrong is refused: another digest, a tag, plain
//! HTTP not asked for, an unknown certificate issuer, missing or wrong credentials, a file over
//! the limit, a blob or manifest the registry's storage altered.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::TempDir;
use importhook::config::ConfigLayer;
use serde_json::json;

const REPO: &str = "acme/strategies";

/// The registry process, killed on drop.
struct Registry {
    child: Child,
    addr: SocketAddr,
    storage: TempDir,
}

/// A second registry process serving the same storage over HTTPS, killed on drop.
struct HttpsRegistry {
    child: Child,
    port: u16,
}

impl Drop for HttpsRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The user and password of tests/fixtures/registry.htpasswd (bcrypt, as the registry wants).
const REGISTRY_USER: &str = "e2e";
const REGISTRY_PASSWORD: &str = "s3cret";

/// Serves `registry`'s storage over HTTPS with the localhost certificate in `cert_dir`, to
/// the users of tests/fixtures/registry.htpasswd only (HTTP Basic authentication).
fn start_https_registry(registry: &Registry, cert_dir: &Path) -> HttpsRegistry {
    let port = free_port();
    let config = cert_dir.join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog: {{level: error, accesslog: {{disabled: true}}}}\nstorage: {{filesystem: {{rootdirectory: {}}}}}\nhttp: {{addr: \"127.0.0.1:{port}\", secret: e2e, tls: {{certificate: {}, key: {}}}}}\nauth: {{htpasswd: {{realm: e2e, path: {}}}}}\n",
            registry.storage.path().join("data").display(),
            cert_dir.join("cert.pem").display(),
            cert_dir.join("key.pem").display(),
            common::workspace_root()
                .join("tests/fixtures/registry.htpasswd")
                .display(),
        ),
    )
    .expect("config");
    let child = Command::new("docker-registry")
        .arg("serve")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("docker-registry");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the HTTPS registry did not listen"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    HttpsRegistry { child, port }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn start_registry() -> Registry {
    let storage = TempDir::new("registry");
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
    let config = storage.path().join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog: {{level: error, accesslog: {{disabled: true}}}}\nstorage: {{filesystem: {{rootdirectory: {}}}}}\nhttp: {{addr: \"{addr}\", secret: e2e}}\n",
            storage.path().join("data").display()
        ),
    )
    .expect("config");
    let child = Command::new("docker-registry")
        .arg("serve")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect(
            "docker-registry (Debian package docker-registry; .ci/run installs it) must be on PATH",
        );
    let registry = Registry {
        child,
        addr,
        storage,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok((200, _, _)) = http(addr, "GET", "/v2/", &[], &[]) {
            return registry;
        }
        assert!(
            Instant::now() < deadline,
            "the registry did not answer on {addr}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// An HTTP answer: status, headers (lowercase names), body.
type Answer = (u16, Vec<(String, String)>, Vec<u8>);

/// One HTTP/1.1 exchange (Connection: close).
fn http(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Answer> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let text = String::from_utf8_lossy(&answer[..split]).into_owned();
    let mut lines = text.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok((status, headers, answer[split + 4..].to_vec()))
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} header: {headers:?}"))
}

/// Pushes a blob with the distribution spec's monolithic upload (POST, then PUT ?digest=).
fn push_blob(registry: &Registry, bytes: &[u8]) -> String {
    let digest = importhook::pull::sha256(bytes);
    let (status, headers, _) = http(
        registry.addr,
        "POST",
        &format!("/v2/{REPO}/blobs/uploads/"),
        &[],
        &[],
    )
    .expect("start upload");
    assert_eq!(status, 202, "upload refused");
    let location = header(&headers, "location");
    let location = location
        .strip_prefix(&format!("http://{}", registry.addr))
        .unwrap_or(location);
    let separator = if location.contains('?') { '&' } else { '?' };
    let (status, _, body) = http(
        registry.addr,
        "PUT",
        &format!("{location}{separator}digest={digest}"),
        &[("Content-Type", "application/octet-stream")],
        bytes,
    )
    .expect("upload");
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    digest
}

/// Pushes `files` as an OCI artifact (one layer per file, named by its title annotation, as
/// `oras push` makes them) under `tag`; answers the manifest's digest.
fn push_artifact(registry: &Registry, tag: &str, files: &[(&str, Vec<u8>)]) -> String {
    let config = push_blob(registry, b"{}");
    let layers: Vec<serde_json::Value> = files
        .iter()
        .map(|(name, bytes)| {
            json!({
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": push_blob(registry, bytes),
                "size": bytes.len(),
                "annotations": {"org.opencontainers.image.title": name}
            })
        })
        .collect();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config, "size": 2},
        "layers": layers,
    }))
    .expect("json");
    let (status, headers, body) = http(
        registry.addr,
        "PUT",
        &format!("/v2/{REPO}/manifests/{tag}"),
        &[("Content-Type", "application/vnd.oci.image.manifest.v1+json")],
        &manifest,
    )
    .expect("put manifest");
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let digest = importhook::pull::sha256(&manifest);
    assert_eq!(header(&headers, "docker-content-digest"), digest);
    digest
}

/// Runs `importhook pull ARGS`: success, stdout, stderr.
fn pull(args: &[&str]) -> (bool, String, String) {
    pull_with(&[], args)
}

/// [`pull`] with `env` set.
fn pull_with(env: &[(&str, &str)], args: &[&str]) -> (bool, String, String) {
    let output = Command::new(common::BIN)
        .arg("pull")
        .args(args)
        .env_remove("IMPORTHOOK_PULL")
        .env_remove("IMPORTHOOK_REGISTRY_USERNAME")
        .env_remove("IMPORTHOOK_REGISTRY_PASSWORD")
        .envs(env.iter().copied())
        .output()
        .expect("run importhook pull");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread")]
async fn a_digest_pinned_artifact_is_pulled_checked_and_served() {
    let registry = start_registry();
    let wasm = std::fs::read(common::plugin_file("login-middle-name")).expect("plugin");
    let manifest = b"grants = [\"directory\"]\n".to_vec();
    let digest = push_artifact(
        &registry,
        "v1",
        &[
            ("30-login-middle-name.wasm", wasm.clone()),
            ("30-login-middle-name.toml", manifest.clone()),
        ],
    );
    let base = format!("oci://{}/{REPO}", registry.addr);

    // Pulled by digest into the folder the Deployment's init container writes.
    let pulled = TempDir::new("pulled");
    let into = pulled.path().join("pulled-plugins.d");
    let into_arg = into.to_str().expect("utf-8");
    let (ok, stdout, stderr) = pull(&[
        &format!("{base}@{digest}"),
        "--into",
        into_arg,
        "--insecure-http",
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("30-login-middle-name.wasm"), "{stdout}");
    assert_eq!(
        files_in(&into),
        ["30-login-middle-name.toml", "30-login-middle-name.wasm"]
    );
    assert_eq!(
        std::fs::read(into.join("30-login-middle-name.wasm")).expect("read"),
        wasm
    );

    // Served as deploy/kubernetes lays the folders: the image's (normalize), the pulled one,
    // the ConfigMap's, whose manifest replaces the pulled one's (another attribute).
    let image = TempDir::new("image");
    std::fs::copy(
        common::plugin_file("normalize-login"),
        image.path().join("10-normalize-login.wasm"),
    )
    .expect("copy");
    let config_map = TempDir::new("configmap");
    std::fs::write(
        config_map.path().join("30-login-middle-name.toml"),
        "grants = [\"directory\"]\n[config]\nmiddle_name_attribute = \"nickName\"\n",
    )
    .expect("manifest");
    let folders = std::env::join_paths([image.path(), &into, config_map.path()]).expect("join");
    let server = common::start(ConfigLayer::default(), Some(Path::new(&folders))).await;
    let set = server.app.plugins();
    let names: Vec<&str> = set.plugins().iter().map(|p| p.name()).collect();
    assert_eq!(names, ["10-normalize-login", "30-login-middle-name"]);
    let mut request = common::okta_sample();
    request["data"]["appUser"]["profile"]["nickName"] = "Élodie".into();
    request["data"]["user"]["profile"]["login"] = " Sally.Admin@Clouditude.NET ".into();
    let reply = server.hook(&request).await;
    assert_eq!(reply.status, 200);
    let body = reply.json();
    let update = body["commands"]
        .as_array()
        .and_then(|c| {
            c.iter()
                .find(|c| c["type"] == "com.okta.user.profile.update")
        })
        .cloned()
        .unwrap_or_else(|| panic!("no profile update: {body}"));
    assert_eq!(
        update["value"]["login"],
        "sally.elodie.admin@clouditude.net"
    );
    server.stop().await;

    // Another digest than the manifest's: refused, nothing written.
    let other = TempDir::new("other");
    let wrong = importhook::pull::sha256(b"another manifest");
    let (ok, _, stderr) = pull(&[
        &format!("{base}@{wrong}"),
        "--into",
        other.path().to_str().expect("utf-8"),
        "--insecure-http",
    ]);
    assert!(!ok, "a manifest of another digest was accepted");
    assert!(
        stderr.contains("404") || stderr.contains("not the pinned"),
        "{stderr}"
    );
    assert!(files_in(other.path()).is_empty());

    // A tag moves: refused unless asked for, then the digest it stands for is printed.
    let tagged = format!("{base}:v1");
    let (ok, _, stderr) = pull(&[
        &tagged,
        "--into",
        other.path().to_str().expect("utf-8"),
        "--insecure-http",
    ]);
    assert!(!ok && stderr.contains("--allow-tag"), "{stderr}");
    let (ok, _, stderr) = pull(&[
        &tagged,
        "--allow-tag",
        "--into",
        other.path().to_str().expect("utf-8"),
        "--insecure-http",
    ]);
    assert!(ok, "{stderr}");
    assert!(stderr.contains(&format!("{base}@{digest}")), "{stderr}");

    // Over HTTPS (the pooled client's trust store: the public roots plus --ca-file), the same
    // artifact from the same storage; without the CA the certificate is refused, and plain
    // HTTP is not spoken to it.
    let certs = TempDir::new("registry-tls");
    common::write_localhost_certificate(certs.path());
    let https = start_https_registry(&registry, certs.path());
    let secure = format!("oci://localhost:{}/{REPO}@{digest}", https.port);
    let over_https = TempDir::new("https");
    let into_https = over_https.path().to_str().expect("utf-8");
    let ca = certs.path().join("cert.pem");
    let (ok, _, stderr) = pull(&[&secure, "--into", into_https]);
    assert!(!ok, "an unknown issuer was trusted");
    assert!(stderr.to_lowercase().contains("certificate"), "{stderr}");
    let (ok, _, _) = pull(&[&secure, "--into", into_https, "--insecure-http"]);
    assert!(!ok, "plain HTTP to an HTTPS registry");
    let with_ca = [
        secure.as_str(),
        "--into",
        into_https,
        "--ca-file",
        ca.to_str().expect("utf-8"),
    ];
    // A private repository: the registry's Basic challenge needs the credentials.
    let (ok, _, stderr) = pull(&with_ca);
    assert!(!ok, "a private repository without credentials");
    assert!(stderr.contains("IMPORTHOOK_REGISTRY_USERNAME"), "{stderr}");
    let (ok, _, stderr) = pull_with(
        &[
            ("IMPORTHOOK_REGISTRY_USERNAME", REGISTRY_USER),
            ("IMPORTHOOK_REGISTRY_PASSWORD", "wrong"),
        ],
        &with_ca,
    );
    assert!(!ok && stderr.contains("401"), "{stderr}");
    let (ok, _, stderr) = pull_with(
        &[
            ("IMPORTHOOK_REGISTRY_USERNAME", REGISTRY_USER),
            ("IMPORTHOOK_REGISTRY_PASSWORD", REGISTRY_PASSWORD),
        ],
        &with_ca,
    );
    assert!(ok, "{stderr}");
    assert!(!stderr.contains(REGISTRY_PASSWORD) && !stderr.contains("czNjcmV0"));
    assert_eq!(
        files_in(over_https.path()),
        ["30-login-middle-name.toml", "30-login-middle-name.wasm"]
    );
    drop(https);

    // Plain HTTP is spoken only when asked for.
    let (ok, _, stderr) = pull(&[
        &format!("{base}@{digest}"),
        "--into",
        other.path().to_str().expect("utf-8"),
    ]);
    assert!(!ok, "plain HTTP without --insecure-http");
    assert!(
        stderr.contains(&format!("GET https://{}/", registry.addr)),
        "{stderr}"
    );

    // A file over the limit is refused before it is fetched.
    let big = vec![7u8; (1 << 20) + 1];
    let big_digest = push_artifact(&registry, "big", &[("50-big.wasm", big)]);
    let (ok, _, stderr) = pull(&[
        &format!("{base}@{big_digest}"),
        "--into",
        other.path().to_str().expect("utf-8"),
        "--insecure-http",
        "--max-file-mib",
        "1",
    ]);
    assert!(!ok && stderr.contains("over the"), "{stderr}");

    // A blob the registry's storage altered (same length, other bytes) is caught by its digest.
    let wasm_digest = importhook::pull::sha256(&wasm);
    let hex = wasm_digest.trim_start_matches("sha256:");
    let stored = registry
        .storage
        .path()
        .join("data/docker/registry/v2/blobs/sha256")
        .join(&hex[..2])
        .join(hex)
        .join("data");
    let mut tampered = std::fs::read(&stored).expect("stored blob");
    let last = tampered.len() - 1;
    tampered[last] ^= 0xff;
    std::fs::write(&stored, tampered).expect("tamper");
    let fresh = TempDir::new("fresh");
    let (ok, _, stderr) = pull(&[
        &format!("{base}@{digest}"),
        "--into",
        fresh.path().to_str().expect("utf-8"),
        "--insecure-http",
    ]);
    assert!(!ok, "an altered blob was accepted");
    assert!(stderr.contains("hashes to"), "{stderr}");
    assert!(files_in(fresh.path()).is_empty(), "something was written");

    // A manifest the storage altered (still JSON) no longer matches the pin.
    let hex = digest.trim_start_matches("sha256:");
    let stored = stored
        .ancestors()
        .nth(3)
        .expect("blobs folder")
        .join(&hex[..2])
        .join(hex)
        .join("data");
    let altered = String::from_utf8(std::fs::read(&stored).expect("stored manifest"))
        .expect("utf-8")
        .replace("layer.v1.tar", "layer.v1.taR");
    std::fs::write(&stored, altered).expect("tamper");
    let (ok, _, stderr) = pull(&[
        &format!("{base}@{digest}"),
        "--into",
        fresh.path().to_str().expect("utf-8"),
        "--insecure-http",
    ]);
    assert!(!ok, "an altered manifest was accepted");
    assert!(stderr.contains("not the pinned"), "{stderr}");
    assert!(files_in(fresh.path()).is_empty(), "something was written");
}
