//! End to end: reloading plugins, certificate and secrets in a running server, under
//! concurrent load, with no failed request; broken plugins are refused and the last good set
//! keeps serving.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::{PATH, TempDir, okta_sample, plugins_folder, start};
use http::StatusCode;
use importhook::config::ConfigLayer;
use importhook::reload::Reloader;
use rustls::pki_types::CertificateDer;

fn reloader(server: &common::TestServer) -> Reloader {
    Reloader::new(server.app.clone(), server.tls.clone(), common::runtime())
}

async fn reload(reloader: &Reloader) -> importhook::reload::ReloadReport {
    let reloader = reloader.clone();
    tokio::task::spawn_blocking(move || reloader.reload())
        .await
        .expect("reload")
}

/// A server on `folder`'s plugins with the file watcher running; keep the watcher alive.
async fn start_watching(folder: &TempDir) -> (common::TestServer, impl Sized) {
    let layer = ConfigLayer {
        plugins: Some(folder.path().to_path_buf()),
        ..ConfigLayer::default()
    };
    let server = start(layer, Some(folder.path())).await;
    let watcher =
        importhook::watch::spawn(reloader(&server), server.app.settings()).expect("watch");
    (server, watcher)
}

fn request() -> serde_json::Value {
    let mut request = okta_sample();
    request["data"]["appUser"]["profile"]["middleName"] = "Elizabeth".into();
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_reloads_under_load_lose_no_request_and_broken_sets_are_refused() {
    let folder = plugins_folder(&[("30-link-single-match", "link-single-match", "")]);
    let server = Arc::new(start(ConfigLayer::default(), Some(folder.path())).await);
    let reloader = reloader(&server);

    // Load: four clients hammering until told to stop, counting anything but 200/204.
    let (stop, failures, served) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (server, stop, failures, served) = (
            server.clone(),
            stop.clone(),
            failures.clone(),
            served.clone(),
        );
        clients.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let status = server.hook(&request()).await.status;
                if status != StatusCode::OK && status != StatusCode::NO_CONTENT {
                    failures.fetch_add(1, Ordering::SeqCst);
                }
                served.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        server.hook(&request()).await.status,
        StatusCode::NO_CONTENT,
        "old set: nothing to change"
    );

    // A good new plugin: new behaviour.
    // It checks its proposals in the directory: its manifest grants it.
    std::fs::write(
        folder.path().join("20-login-middle-name.toml"),
        "grants = [\"directory\"]\n",
    )
    .expect("manifest");
    std::fs::copy(
        common::wasm_dir().join("login_middle_name.wasm"),
        folder.path().join("20-login-middle-name.wasm"),
    )
    .expect("copy");
    let report = reload(&reloader).await;
    assert_eq!(report.plugins, Some(Ok(2)), "{report:?}");
    let reply = server.hook(&request()).await;
    assert_eq!(
        reply.json()["commands"][0]["value"]["login"],
        "sally.elizabeth.admin@clouditude.net"
    );

    // Broken plugins (invalid bytes, an import the host does not give, one that traps whatever
    // it is given, a bad manifest) are refused, naming the file; the good set keeps serving.
    for (file, bytes) in [
        ("25-garbage.wasm", b"\0asm\x0d\0\x01\0garbage".to_vec()),
        (
            "25-network.wasm",
            std::fs::read(common::plugin_file("fault-import@wasip2")).expect("read"),
        ),
        (
            "25-traps.wasm",
            std::fs::read(common::wasm_dir().join("fault_init.wasm")).expect("read"),
        ),
    ] {
        std::fs::write(folder.path().join(file), bytes).expect("write");
        let report = reload(&reloader).await;
        let reason = report
            .plugins
            .clone()
            .expect("plugins reloaded")
            .expect_err("refused");
        assert!(reason.contains(file), "{reason}");
        std::fs::remove_file(folder.path().join(file)).expect("remove");
        let reply = server.hook(&request()).await;
        assert_eq!(
            reply.json()["commands"][0]["value"]["login"],
            "sally.elizabeth.admin@clouditude.net",
            "{file}"
        );
    }
    std::fs::write(folder.path().join("10-bad.toml"), "timeout_ms = \"soon\"").expect("write");
    std::fs::copy(
        common::wasm_dir().join("link_single_match.wasm"),
        folder.path().join("10-bad.wasm"),
    )
    .expect("copy");
    let report = reload(&reloader).await;
    assert!(
        report.plugins.clone().expect("plugins").is_err(),
        "{report:?}"
    );

    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.await.expect("client");
    }
    assert!(
        served.load(Ordering::SeqCst) > 20,
        "the load ran: {}",
        served.load(Ordering::SeqCst)
    );
    assert_eq!(
        failures.load(Ordering::SeqCst),
        0,
        "requests failed during reloads"
    );
}

#[tokio::test]
async fn a_new_certificate_is_used_by_new_handshakes() {
    let dir = TempDir::new("certs");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let write = |names: &str| {
        let certified =
            rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), names.to_owned()])
                .expect("cert");
        std::fs::write(&cert, certified.cert.pem()).expect("cert");
        std::fs::write(&key, certified.signing_key.serialize_pem()).expect("key");
        CertificateDer::from(certified.cert.der().to_vec())
    };
    let first = write("first.test");
    let layer = ConfigLayer {
        tls_cert: Some(cert.clone()),
        tls_key: Some(key.clone()),
        ..ConfigLayer::default()
    };
    let server = start(layer, None).await;
    let reloader = reloader(&server);
    let peer = |stream: &tokio_rustls::client::TlsStream<tokio::net::TcpStream>| {
        stream.get_ref().1.peer_certificates().expect("peer")[0].clone()
    };
    let old_connection = server.connect().await;
    assert_eq!(peer(&old_connection), first);

    let expiry = |metrics: &str| -> i64 {
        let line = metrics
            .lines()
            .find(|l| l.starts_with("importhook_certificate_expiry_timestamp_seconds "))
            .expect("expiry metric");
        line.rsplit(' ')
            .next()
            .expect("value")
            .parse()
            .expect("number")
    };
    assert_eq!(
        expiry(&server.admin_get("/metrics").await.1),
        importhook::tls::not_after(&first).expect("expiry")
    );
    let second = write("second.test");
    let report = reload(&reloader).await;
    assert!(matches!(report.tls, Some(Ok(_))), "{report:?}");
    assert_eq!(
        expiry(&server.admin_get("/metrics").await.1),
        importhook::tls::not_after(&second).expect("expiry")
    );
    let config = common::client_config(&second, &[&rustls::version::TLS13]);
    let new_connection = server
        .connect_with(config)
        .await
        .expect("handshake with the new certificate");
    assert_eq!(peer(&new_connection), second);

    // A broken key is refused and the current certificate keeps serving.
    std::fs::write(&key, "not a key").expect("write");
    let report = reload(&reloader).await;
    assert!(matches!(report.tls, Some(Err(_))), "{report:?}");
    let config = common::client_config(&second, &[&rustls::version::TLS13]);
    server
        .connect_with(config)
        .await
        .expect("still the second certificate");
    server.stop().await;
}

#[tokio::test]
async fn secrets_rotate_without_a_restart() {
    let dir = TempDir::new("secrets");
    let file = dir.path().join("secrets");
    std::fs::write(&file, "old-secret\n").expect("write");
    let layer = ConfigLayer {
        secret_file: Some(file.clone()),
        ..ConfigLayer::default()
    };
    let server = start(layer, None).await;
    let reloader = reloader(&server);
    let body = serde_json::to_vec(&okta_sample()).expect("json");
    let call = |secret: &'static str| {
        let body = body.clone();
        let server = &server;
        async move {
            server
                .request(
                    "POST",
                    PATH,
                    &[
                        ("content-type", "application/json"),
                        ("authorization", secret),
                    ],
                    body,
                )
                .await
                .status
        }
    };
    assert_eq!(call("old-secret").await, StatusCode::NO_CONTENT);
    assert_eq!(call("new-secret").await, StatusCode::UNAUTHORIZED);

    // Rotation step 1: both accepted.
    std::fs::write(&file, "old-secret\nnew-secret\n").expect("write");
    assert_eq!(
        reload(&reloader).await.secrets,
        Some(Ok(3)),
        "two from the file plus the env one"
    );
    assert_eq!(call("old-secret").await, StatusCode::NO_CONTENT);
    assert_eq!(call("new-secret").await, StatusCode::NO_CONTENT);

    // Step 2: the old one retired.
    std::fs::write(&file, "new-secret\n").expect("write");
    reload(&reloader).await;
    assert_eq!(call("old-secret").await, StatusCode::UNAUTHORIZED);
    assert_eq!(call("new-secret").await, StatusCode::NO_CONTENT);

    // An emptied file is refused; the current secrets stay.
    std::fs::write(&file, "\n").expect("write");
    assert!(matches!(reload(&reloader).await.secrets, Some(Err(_))));
    assert_eq!(call("new-secret").await, StatusCode::NO_CONTENT);
    let (_, metrics) = server.admin_get("/metrics").await;
    assert!(
        metrics.contains("importhook_reloads_total{part=\"secrets\",result=\"ok\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("importhook_reloads_total{part=\"secrets\",result=\"rejected\"} 1"),
        "{metrics}"
    );
    assert!(!metrics.contains("new-secret") && !metrics.contains("old-secret"));
    server.stop().await;
}

#[tokio::test]
async fn a_plugin_dropped_into_the_watched_folder_is_picked_up() {
    let folder = plugins_folder(&[]);
    let (server, _watcher) = start_watching(&folder).await;
    assert_eq!(server.hook(&request()).await.status, StatusCode::NO_CONTENT);

    // It checks its proposals in the directory: its manifest grants it.
    std::fs::write(
        folder.path().join("20-login-middle-name.toml"),
        "grants = [\"directory\"]\n",
    )
    .expect("manifest");
    std::fs::copy(
        common::wasm_dir().join("login_middle_name.wasm"),
        folder.path().join("20-login-middle-name.wasm"),
    )
    .expect("copy");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let reply = server.hook(&request()).await;
        if reply.status == StatusCode::OK {
            assert_eq!(
                reply.json()["commands"][0]["value"]["login"],
                "sally.elizabeth.admin@clouditude.net"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the new plugin was not picked up within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.stop().await;
}

#[tokio::test]
async fn reading_watched_files_never_triggers_a_reload() {
    let folder = plugins_folder(&[(
        "20-login-middle-name",
        "login-middle-name",
        "grants = [\"directory\"]\n",
    )]);
    let (server, _watcher) = start_watching(&folder).await;
    let plugin = folder.path().join("20-login-middle-name.wasm");
    // A backup or monitoring agent reading the files (as the reload itself does).
    for _ in 0..5 {
        std::fs::read(&plugin).expect("read");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(importhook::watch::QUIET_PERIOD * 3).await;
    let (_, metrics) = server.admin_get("/metrics").await;
    assert!(
        !metrics.contains("importhook_reloads_total{part=\"plugins\""),
        "a read caused a reload: {metrics}"
    );

    // The watcher is alive: a real change is picked up, once, and does not loop.
    std::fs::write(
        folder.path().join("20-login-middle-name.toml"),
        "timeout_ms = 500\ngrants = [\"directory\"]\n",
    )
    .expect("write");
    tokio::time::sleep(importhook::watch::QUIET_PERIOD * 4).await;
    let (_, metrics) = server.admin_get("/metrics").await;
    assert!(
        metrics.contains("importhook_reloads_total{part=\"plugins\",result=\"ok\"} 1\n"),
        "{metrics}"
    );
    server.stop().await;
}

/// Kubernetes mounts a ConfigMap as symlinks through `..data` and updates it by pointing
/// `..data` at a new folder (its atomic writer): the files' own names see no event. Here the
/// ConfigMap folder is laid over an "image" folder holding the plugin, as deploy/kubernetes
/// does, and only carries the plugin's manifest: swapping it takes effect.
#[tokio::test]
async fn a_configmap_swapped_through_its_data_symlink_is_picked_up() {
    let image = plugins_folder(&[(
        "30-login-middle-name",
        "login-middle-name",
        "grants = [\"directory\"]\n",
    )]);
    let config_map = TempDir::new("configmap");
    let version = |n: u32, attribute: &str| {
        let dir = config_map.path().join(format!("..2026_{n}"));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(
            dir.join("30-login-middle-name.toml"),
            format!(
                "grants = [\"directory\"]\n[config]\nmiddle_name_attribute = \"{attribute}\"\n"
            ),
        )
        .expect("manifest");
        dir
    };
    let first = version(1, "middleName");
    std::os::unix::fs::symlink(
        first.file_name().expect("name"),
        config_map.path().join("..data"),
    )
    .expect("..data");
    std::os::unix::fs::symlink(
        "..data/30-login-middle-name.toml",
        config_map.path().join("30-login-middle-name.toml"),
    )
    .expect("file link");
    let folders = std::env::join_paths([image.path(), config_map.path()]).expect("join");
    let folders = std::path::Path::new(&folders);
    let layer = ConfigLayer {
        plugins: Some(folders.to_path_buf()),
        ..ConfigLayer::default()
    };
    let server = start(layer, Some(folders)).await;
    let _watcher =
        importhook::watch::spawn(reloader(&server), server.app.settings()).expect("watch");
    let mut request = request();
    request["data"]["appUser"]["profile"]["nickName"] = "Nick".into();
    let login = |reply: &common::Reply| reply.json()["commands"][0]["value"]["login"].clone();
    assert_eq!(
        login(&server.hook(&request).await),
        "sally.elizabeth.admin@clouditude.net"
    );

    // The kubelet's update: a new folder, a temporary link to it renamed over ..data.
    let second = version(2, "nickName");
    let tmp = config_map.path().join("..data_tmp");
    std::os::unix::fs::symlink(second.file_name().expect("name"), &tmp).expect("tmp link");
    std::fs::rename(&tmp, config_map.path().join("..data")).expect("swap");
    std::fs::remove_dir_all(&first).expect("old version");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if login(&server.hook(&request).await) == "sally.nick.admin@clouditude.net" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the swapped ConfigMap was not picked up within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.stop().await;
}
