//! End to end through the real binary: graceful shutdown on SIGTERM, start-up errors,
//! `importhook try` and `importhook check`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Command;
use std::time::Duration;

use common::{BIN, PATH, SECRET, TempDir, listen_addr, okta_sample, plugins_folder, serve_command};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn importhook() -> Command {
    let mut command = Command::new(BIN);
    command
        .env_remove("IMPORTHOOK_SECRETS")
        .env("RUST_LOG", "info");
    command
}

/// `importhook try` of the plugins in `plugins` on the Okta request in `request`.
fn try_request(plugins: &std::path::Path, request: &std::path::Path) -> Command {
    let mut command = importhook();
    command
        .args(["try", "--plugins"])
        .arg(plugins)
        .arg("--request")
        .arg(request);
    command
}

/// Kills the child if the test fails half-way, so no server outlives its test.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn sigterm_lets_an_in_flight_request_finish() {
    let dir = TempDir::new("sigterm");
    let cert = common::write_localhost_certificate(dir.path());
    let start = |plugins: &str| {
        serve_command(&dir.path().join(plugins), dir.path())
            .spawn()
            .expect("spawn importhook")
    };
    // A configured plugins folder that does not exist fails start-up.
    let status = start("no-plugins-here").wait().expect("exits");
    assert!(
        !status.success(),
        "a configured plugins folder that does not exist must fail start-up"
    );

    std::fs::create_dir_all(dir.path().join("plugins")).expect("plugins dir");
    let mut child = start("plugins");
    let stderr = child.stderr.take().expect("stderr");
    let mut child = KillOnDrop(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let addr = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("server starts");
        if let Some(addr) = listen_addr(&line) {
            break addr;
        }
    };

    let config = common::client_config(&cert, &[&rustls::version::TLS13]);
    let tcp = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let mut tls = tokio_rustls::TlsConnector::from(config)
        .connect(ServerName::try_from("localhost").expect("name"), tcp)
        .await
        .expect("tls");
    let body = serde_json::to_vec(&okta_sample()).expect("json");
    let head = format!(
        "POST {PATH} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\nauthorization: {SECRET}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    tls.write_all(head.as_bytes()).await.expect("head");
    tls.write_all(&body[..10]).await.expect("part of the body");
    tls.flush().await.expect("flush");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let pid = child.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    // Wait until the server says it stopped accepting, then finish the request.
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("shutdown logged");
        if line.contains("shutting down") {
            break;
        }
    }
    assert!(
        tokio::net::TcpStream::connect(&addr).await.is_err(),
        "new connections must be refused after SIGTERM"
    );
    tls.write_all(&body[10..]).await.expect("rest of the body");
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), tls.read_to_end(&mut reply))
        .await
        .expect("answered")
        .ok();
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.1 204"), "{reply}");
    let status = child.0.wait().expect("exit");
    assert!(status.success(), "{status:?}");
}

#[test]
fn bad_configuration_fails_before_binding_and_names_the_file_and_field() {
    let dir = TempDir::new("badconfig");
    let config = dir.path().join("importhook.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\nlog_format = \"yaml\"\n",
    )
    .expect("write");
    let output = importhook()
        .args(["serve", "--dev", "--config"])
        .arg(&config)
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("importhook.toml") && stderr.contains("log_format"),
        "{stderr}"
    );

    let output = importhook()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .expect("run");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("tls_cert"));
}

fn write_request(dir: &TempDir, request: &serde_json::Value) -> std::path::PathBuf {
    let path = dir.path().join("request.json");
    std::fs::write(&path, serde_json::to_vec(request).expect("json")).expect("write");
    path
}

#[test]
fn try_prints_the_body_and_a_per_plugin_report() {
    let plugins = plugins_folder(&[
        ("10-normalize-login", "normalize-login", ""),
        (
            "20-login-middle-name",
            "login-middle-name",
            "grants = [\"directory\"]\n",
        ),
    ]);
    let dir = TempDir::new("try");
    let mut request = okta_sample();
    request["data"]["appUser"]["profile"]["middleName"] = "Elizabeth".into();
    request["data"]["user"]["profile"]["login"] = " Sally.Admin@Clouditude.net".into();
    let file = write_request(&dir, &request);
    let output = try_request(plugins.path(), &file)
        .arg("--instructions")
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let body: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is the JSON body");
    assert_eq!(body["commands"][0]["type"], "com.okta.user.profile.update");
    assert_eq!(
        body["commands"][0]["value"]["login"],
        "sally.elizabeth.admin@clouditude.net"
    );
    let report = String::from_utf8_lossy(&output.stderr);
    for needle in [
        "10-normalize-login",
        "20-login-middle-name",
        "instructions",
        "peak mem",
        "response: 200",
    ] {
        assert!(report.contains(needle), "{needle} missing from:\n{report}");
    }
    // Instructions are counted: a number, not a dash, on each plugin line.
    let line = report
        .lines()
        .find(|l| l.starts_with("20-login-middle-name"))
        .expect("plugin line");
    let instructions: u64 = line
        .split_whitespace()
        .nth(3)
        .expect("column")
        .parse()
        .expect("instructions counted");
    assert!(instructions > 0);

    // No conflict: nothing to change, nothing on stdout.
    request["data"]["context"]["conflicts"] = serde_json::json!([]);
    request["data"]["user"]["profile"]["login"] = "sally.admin@clouditude.net".into();
    let file = write_request(&dir, &request);
    let output = try_request(plugins.path(), &file).output().expect("run");
    assert!(output.status.success());
    assert!(
        output.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("204"));
}

#[test]
fn check_accepts_good_plugins_and_names_what_is_wrong_with_bad_ones() {
    let good = plugins_folder(&[("10-link", "link-single-match", "on_error = \"fail\"\n")]);
    let output = importhook()
        .args(["check", "--plugins"])
        .arg(good.path())
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("10-link")
            && stdout.contains(&format!(
                "importhook:plugin@{}",
                importhook::engine::INTERFACE_VERSION
            ))
            && stdout.contains("on_error fail"),
        "{stdout}"
    );
    // An SDK plugin, built for wasm32-unknown-unknown, imports the host's interfaces only.
    let imports = stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("imports: "))
        .expect("an imports line");
    assert!(
        imports.contains("importhook:plugin/") && !imports.contains("wasi:"),
        "{stdout}"
    );

    let importing = plugins_folder(&[("10-net", "fault-import@wasip2", "")]);
    check_refuses(importing.path(), &["10-net.wasm", "test:fault/net"]);

    let trapping = plugins_folder(&[("10-traps", "fault-init", "")]);
    check_refuses(trapping.path(), &["10-traps.wasm", "(trap)"]);

    let garbage = TempDir::new("garbage");
    std::fs::write(garbage.path().join("10-junk.wasm"), b"\0asm not really").expect("write");
    check_refuses(
        garbage.path(),
        &["10-junk.wasm", "not a WebAssembly plugin"],
    );

    // A native library dropped in by mistake says what it is.
    let native = TempDir::new("native");
    std::fs::write(
        native.path().join("10-native.wasm"),
        b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0",
    )
    .expect("write");
    check_refuses(native.path(), &["10-native.wasm", "native ELF"]);

    // A plugin of the previous contract (importhook:plugin@0.1.0, built by the previous SDK)
    // is refused with both versions named.
    let old = TempDir::new("old-wit");
    std::fs::copy(
        common::workspace_root().join("tests/fixtures/link-single-match-wit-0.1.0.wasm"),
        old.path().join("10-old.wasm"),
    )
    .expect("copy fixture");
    let host = format!(
        "importhook:plugin@{}",
        importhook::engine::INTERFACE_VERSION
    );
    check_refuses(
        old.path(),
        &["10-old.wasm", "importhook:plugin@0.1.0", &host],
    );

    // A `[config]` the plugin itself refuses (its validate-config export), with its reason.
    let bad_config =
        plugins_folder(&[("10-fault", "fault-plugin", "[config]\nmode = \"bogus\"\n")]);
    check_refuses(
        bad_config.path(),
        &["10-fault.wasm", "[config]", "mode \"bogus\" is not one of"],
    );

    let bad_manifest = plugins_folder(&[("10-link", "link-single-match", "timeout_ms = 999999\n")]);
    check_refuses(bad_manifest.path(), &["10-link.toml", "timeout_ms"]);
}

/// `importhook check` on `folder` fails, and its message holds every one of `needles`.
fn check_refuses(folder: &std::path::Path, needles: &[&str]) {
    let output = importhook()
        .args(["check", "--plugins"])
        .arg(folder)
        .output()
        .expect("run");
    assert!(
        !output.status.success(),
        "check accepted {}",
        folder.display()
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    for needle in needles {
        assert!(stderr.contains(needle), "{needle} missing from: {stderr}");
    }
}

#[test]
fn plugin_logs_are_tagged_truncated_and_capped() {
    let plugins = plugins_folder(&[("10-fault", "fault-plugin", "[config]\nmode = \"log\"\n")]);
    let dir = TempDir::new("log");
    let file = write_request(&dir, &okta_sample());
    let output = try_request(plugins.path(), &file)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("fault plugin line"))
        .collect();
    assert_eq!(lines.len(), 32, "at most 32 lines per call:\n{stderr}");
    assert!(
        lines.iter().all(|l| l.contains("plugin=\"10-fault\"")),
        "{}",
        lines[0]
    );
    assert!(
        lines.iter().all(|l| l.len() < 1024 + 200),
        "lines are truncated to 1 KiB: {}",
        lines[0].len()
    );
}

#[test]
fn try_shows_why_a_plugin_failed_in_its_own_words() {
    for (mode, needles) in [
        (
            "panic",
            &["panic: ", "fault plugin panicked on purpose", "src/lib.rs:"][..],
        ),
        (
            "error",
            &["plugin_error: fault plugin refused on purpose"][..],
        ),
    ] {
        let manifest = "[config]\nmode = \"when-asked\"\n";
        let plugins = plugins_folder(&[("10-fault", "fault-plugin", manifest)]);
        let dir = TempDir::new("why");
        let mut request = okta_sample();
        request["data"]["appUser"]["profile"]["fault"] = mode.into();
        let file = write_request(&dir, &request);
        let output = try_request(plugins.path(), &file).output().expect("run");
        let stderr = String::from_utf8_lossy(&output.stderr);
        // The plugin failed (and was skipped: on_error's default): try says so by its status.
        assert_eq!(output.status.code(), Some(3), "{mode}: {stderr}");
        assert!(stderr.contains("exit status 3"), "{mode}: {stderr}");
        for needle in needles {
            assert!(
                stderr.contains(needle),
                "{mode}: {needle:?} missing from {stderr}"
            );
        }
    }
}

/// A `serve` process on the test certificate, its stderr read line by line.
struct Served {
    child: KillOnDrop,
    lines: std::sync::mpsc::Receiver<String>,
    /// What it logged before it listened.
    startup: Vec<String>,
    addr: std::net::SocketAddr,
    cert: CertificateDer<'static>,
    _dir: TempDir,
}

impl Served {
    /// Starts `serve` on `plugins` with the extra `args`, and waits until it listens.
    fn start(plugins: &std::path::Path, args: &[&str]) -> Self {
        let dir = TempDir::new("served");
        let cert = common::write_localhost_certificate(dir.path());
        let mut child = serve_command(plugins, dir.path())
            .args(args)
            .spawn()
            .expect("spawn importhook");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut startup = Vec::new();
        let addr = loop {
            let line = lines
                .recv_timeout(Duration::from_secs(60))
                .expect("server starts");
            if let Some(addr) = listen_addr(&line) {
                break addr;
            }
            startup.push(line);
        };
        Self {
            child: KillOnDrop(child),
            lines,
            startup,
            addr,
            cert,
            _dir: dir,
        }
    }

    /// POSTs `body` to the hook and returns the raw answer.
    async fn hook(&self, body: &serde_json::Value) -> String {
        let config = common::client_config(&self.cert, &[&rustls::version::TLS13]);
        let tcp = tokio::net::TcpStream::connect(&self.addr)
            .await
            .expect("connect");
        let mut tls = tokio_rustls::TlsConnector::from(config)
            .connect(ServerName::try_from("localhost").expect("name"), tcp)
            .await
            .expect("tls");
        let body = serde_json::to_vec(body).expect("json");
        let head = format!(
            "POST {PATH} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\ncontent-type: application/json\r\nauthorization: {SECRET}\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        tls.write_all(head.as_bytes()).await.expect("head");
        tls.write_all(&body).await.expect("body");
        let mut reply = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), tls.read_to_end(&mut reply))
            .await
            .expect("answered")
            .ok();
        String::from_utf8_lossy(&reply).into_owned()
    }

    /// Stops the server (SIGTERM) and returns every log line it wrote.
    fn stop(mut self) -> String {
        let pid = self.child.0.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .expect("kill")
                .success()
        );
        let status = self.child.0.wait().expect("exit");
        assert!(status.success(), "{status:?}");
        let mut all = std::mem::take(&mut self.startup);
        // The reader thread ends at the pipe's end: wait for it rather than race it.
        all.extend(self.lines.iter());
        all.join("\n")
    }
}

#[tokio::test]
async fn serve_logs_a_plugins_own_words_only_when_the_operator_opts_in() {
    let plugins = plugins_folder(&[(
        "10-fault",
        "fault-plugin",
        "[config]\nmode = \"when-asked\"\n",
    )]);
    let mut request = okta_sample();
    request["data"]["appUser"]["profile"]["fault"] = "error".into();
    for (args, logged) in [
        (&[][..], false),
        (&["--log-plugin-messages", "false"][..], false),
        (&["--log-plugin-messages", "true"][..], true),
    ] {
        let served = Served::start(plugins.path(), args);
        let reply = served.hook(&request).await;
        assert!(reply.starts_with("HTTP/1.1 204"), "{args:?}: {reply}");
        let logs = served.stop();
        // The failure itself is always logged, by kind.
        assert!(
            logs.contains("plugin call failed") && logs.contains("failure=\"plugin_error\""),
            "{args:?}: {logs}"
        );
        assert_eq!(
            logs.contains("fault plugin refused on purpose"),
            logged,
            "{args:?}: {logs}"
        );
    }
}

/// A log collector that stops reading stderr must not stop the import: `serve` writes its
/// lines from a thread of its own, so requests go on while the pipe stays full.
#[tokio::test]
async fn a_log_reader_that_stops_reading_does_not_stall_requests() {
    let dir = TempDir::new("stalled-log");
    let cert = common::write_localhost_certificate(dir.path());
    std::fs::create_dir_all(dir.path().join("plugins")).expect("plugins dir");
    let child = serve_command(&dir.path().join("plugins"), dir.path())
        .spawn()
        .expect("spawn importhook");
    let mut child = KillOnDrop(child);
    // Read up to the address, then never again: the pipe (64 KiB on Linux) fills after a few
    // hundred request lines, as when a log collector stops reading.
    let mut log = BufReader::new(child.0.stderr.take().expect("stderr"));
    let addr: std::net::SocketAddr = loop {
        let mut line = String::new();
        assert!(log.read_line(&mut line).expect("log") > 0, "server starts");
        if let Some(addr) = listen_addr(&line) {
            break addr;
        }
    };
    let body = okta_sample();
    // Each request logs one line of ~200 bytes or more: 1,000 of them overfill the pipe.
    for n in 0..1000 {
        let reply =
            tokio::time::timeout(Duration::from_secs(10), common::hook_at(addr, &cert, &body))
                .await
                .unwrap_or_else(|_| panic!("request {n} stalled behind the unread log"))
                .expect("request");
        assert_eq!(reply.status, 204, "request {n}");
    }
    drop(log);
}

/// `importhook check` on `folder`: (success, stdout, stderr).
fn run_check(folder: &std::path::Path) -> (bool, String, String) {
    let output = importhook()
        .args(["check", "--plugins"])
        .arg(folder)
        .output()
        .expect("run");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn check_refuses_a_folder_without_plugins_and_says_how_to_build_them() {
    let empty = TempDir::new("empty");
    let (ok, _, stderr) = run_check(empty.path());
    assert!(!ok, "an empty folder passed check");
    assert!(
        stderr.contains("no plugin") && stderr.contains("wasm32-unknown-unknown"),
        "{stderr}"
    );

    // The repository's plugins.d before the examples are built: its manifests only.
    let unbuilt = TempDir::new("unbuilt");
    let shipped = common::workspace_root().join("plugins.d");
    let mut manifests = 0;
    for entry in std::fs::read_dir(&shipped).expect("plugins.d") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            std::fs::copy(&path, unbuilt.path().join(path.file_name().expect("name")))
                .expect("copy");
            manifests += 1;
        }
    }
    assert!(manifests > 0);
    let (ok, _, stderr) = run_check(unbuilt.path());
    assert!(!ok, "manifests without plugins passed check");
    assert_eq!(
        stderr.matches("a manifest without its plugin").count(),
        manifests,
        "{stderr}"
    );
    assert!(
        stderr.contains("10-normalize-login.wasm") && stderr.contains("scripts/dev.sh"),
        "{stderr}"
    );
}

#[test]
fn check_lists_every_file_that_is_not_a_plugin_and_every_orphan_manifest() {
    let folder = plugins_folder(&[("10-link", "link-single-match", "on_error = \"skip\"\n")]);
    for (name, bytes) in [
        ("libstrategy.so", &b"\x7fELF\x02\x01\x01\0\0\0\0\0"[..]),
        (
            "libstrategy.dylib",
            &[0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1][..],
        ),
        ("strategy.dll", &b"MZ\x90\0\x03\0\0\0\0\0"[..]),
        ("README.md", &b"# my plugins\n"[..]),
        // A core module built without the SDK (or for the wrong target): no component type.
        ("20-core.wasm", &[0, b'a', b's', b'm', 1, 0, 0, 0][..]),
        // A manifest whose plugin is missing, with a misspelled key as well.
        ("30-gone.toml", &b"timout_ms = 50\n"[..]),
        (".keep", &b""[..]),
    ] {
        std::fs::write(folder.path().join(name), bytes).expect("write");
    }
    let (ok, stdout, stderr) = run_check(folder.path());
    assert!(!ok, "check accepted:\n{stdout}\n{stderr}");
    // The good plugin is still checked and shown.
    assert!(stdout.contains("ok  10-link"), "{stdout}");
    for needle in [
        "libstrategy.so: not a plugin: a native ELF",
        "libstrategy.dylib: not a plugin: a macOS (Mach-O)",
        "strategy.dll: not a plugin: a Windows",
        "README.md: not a plugin: not a wasm binary",
        "20-core.wasm rejected: it is a core wasm module without a component type",
        "30-gone.toml: a manifest without its plugin",
        "30-gone.wasm",
        "30-gone.toml: line 1: unknown key `timout_ms` (did you mean `timeout_ms`?)",
        "7 problem(s)",
    ] {
        assert!(
            stderr.contains(needle),
            "{needle:?} missing from:\n{stderr}"
        );
    }
    assert!(!stderr.contains(".keep"), "hidden files are not looked at");
    assert!(
        stderr.lines().filter(|l| l.starts_with("error: ")).count() == 7,
        "one line each:\n{stderr}"
    );
}

#[tokio::test]
async fn serve_warns_about_files_that_are_not_plugins_but_refuses_a_broken_plugin() {
    let folder = plugins_folder(&[("10-link", "link-single-match", "")]);
    std::fs::write(
        folder.path().join("libstrategy.so"),
        b"\x7fELF\x02\x01\x01\0",
    )
    .expect("so");
    std::fs::write(folder.path().join("20-gone.toml"), b"on_error = \"fail\"\n").expect("toml");
    let served = Served::start(folder.path(), &[]);
    let reply = served.hook(&okta_sample()).await;
    assert!(reply.starts_with("HTTP/1.1 "), "{reply}");
    let logs = served.stop();
    for needle in [
        "not a plugin; ignored",
        "libstrategy.so",
        "plugin manifest without its .wasm; ignored",
        "20-gone.toml",
        "plugin=\"10-link\"",
    ] {
        assert!(logs.contains(needle), "{needle:?} missing from:\n{logs}");
    }

    // A broken plugin still fails start-up, naming the file.
    std::fs::write(
        folder.path().join("30-core.wasm"),
        [0, b'a', b's', b'm', 1, 0, 0, 0],
    )
    .expect("core module");
    let output = importhook()
        .args([
            "serve",
            "--dev",
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
        ])
        .arg("--plugins")
        .arg(folder.path())
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("30-core.wasm rejected"), "{stderr}");
}

#[test]
fn try_exits_3_when_a_plugin_failed_whatever_its_on_error() {
    for (on_error, status) in [("skip", "204"), ("fail", "200")] {
        let manifest = format!("on_error = \"{on_error}\"\n[config]\nmode = \"when-asked\"\n");
        let plugins = plugins_folder(&[("10-fault", "fault-plugin", &manifest)]);
        let dir = TempDir::new("failed");
        let mut request = okta_sample();
        request["data"]["appUser"]["profile"]["fault"] = "panic".into();
        let file = write_request(&dir, &request);
        let output = try_request(plugins.path(), &file).output().expect("run");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{on_error}: {stderr}");
        assert!(
            stderr.contains(&format!("response: {status}")),
            "{on_error}: the response is still printed: {stderr}"
        );
    }
}

#[test]
fn check_try_and_serve_share_one_compile_per_plugin() {
    let plugins = plugins_folder(&[("10-normalize-login", "normalize-login", "")]);
    let cache = plugins.path().join(".cache");
    let artifacts = || -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&cache)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".cwasm"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    let (ok, stdout, stderr) = run_check(plugins.path());
    assert!(ok, "{stdout}\n{stderr}");
    let after_check = artifacts();
    assert_eq!(after_check.len(), 1, "{after_check:?}");
    let dir = TempDir::new("cache");
    let file = write_request(&dir, &okta_sample());
    let output = try_request(plugins.path(), &file).output().expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // `try` loaded what `check` compiled: no artifact of its own; nor has `serve`.
    assert_eq!(artifacts(), after_check);
    let served = Served::start(plugins.path(), &[]);
    drop(served);
    assert_eq!(artifacts(), after_check);
    // Counting instructions needs a metered engine, and so an artifact of its own.
    let output = try_request(plugins.path(), &file)
        .arg("--instructions")
        .output()
        .expect("run");
    assert!(output.status.success());
    assert_eq!(artifacts().len(), 2);
}

#[test]
fn check_warns_of_plugins_sharing_an_order_number() {
    let plugins = plugins_folder(&[
        ("10-normalize-login", "normalize-login", ""),
        ("10-link-single-match", "link-single-match", ""),
    ]);
    let (ok, stdout, stderr) = run_check(plugins.path());
    assert!(ok, "a warning, not a problem: {stdout}\n{stderr}");
    assert!(
        stderr.contains(
            "warning: 10-link-single-match.wasm, 10-normalize-login.wasm share the order number 10"
        ),
        "{stderr}"
    );
    // `serve` says the same at start-up, and serves.
    let served = Served::start(plugins.path(), &[]);
    assert!(
        served.startup.iter().any(|l| l.contains("WARN")
            && l.contains(
                "10-link-single-match.wasm, 10-normalize-login.wasm share the order number 10"
            )),
        "{:#?}",
        served.startup
    );
}
