//! Failure containment: a disk error under the embedded store (a real full tmpfs, a file made
//! immutable mid-load), a zero-length state file, odd entries in the plugins folder (FIFOs, a
//! `/dev/zero` link, a folder and a 200 MB file named `*.wasm`), readiness that only reports
//! what this replica can fix, a flood of admin connections at a low open-file limit, a log
//! kept beside the watched certificate at `RUST_LOG=trace`, a 250 KB `eventId`, and a value
//! serde cannot read (a lone surrogate, nesting 128 levels deep) in an attribute no plugin
//! reads. The tests mount tmpfs and use `chattr`: they run
//! as root (as CI does) and fail, never skip, without it.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, TempDir, login_conflict, plugins_folder, start};
use http::StatusCode;
use importhook::config::ConfigLayer;
use serde_json::Value;

fn counter_manifest() -> String {
    "timeout_ms = 2000\non_error = \"fail\"\ngrants = [\"state\", \"directory\"]\n[config]\nwidth = 6\n"
        .to_owned()
}

/// The number the counter put in the login, if the answer set one.
fn number(answer: &Value) -> Option<u64> {
    let login = answer["commands"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "com.okta.user.profile.update")?["value"]["login"]
        .as_str()?;
    login
        .strip_prefix("joe")?
        .strip_suffix("@example.com")?
        .parse()
        .ok()
}

fn run(program: &str, args: &[&str]) {
    let status = Command::new(program)
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(status.success(), "{program} {args:?} failed");
}

/// A tmpfs of `size` mounted on a fresh folder, unmounted on drop (needs root).
struct Tmpfs(TempDir);

impl Tmpfs {
    fn mount(size: &str) -> Self {
        let dir = TempDir::new("tmpfs");
        let path = dir.path().to_str().expect("utf-8").to_owned();
        run(
            "mount",
            &["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs", &path],
        );
        Self(dir)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.0.path()).status();
    }
}

/// Fills the filesystem of `dir` until a write fails for want of room.
fn fill(path: &Path) {
    let mut file = std::fs::File::create(path).expect("filler");
    let chunk = vec![1u8; 64 << 10];
    loop {
        if let Err(e) = file.write_all(&chunk).and_then(|()| file.sync_all()) {
            assert_eq!(e.raw_os_error(), Some(28), "ENOSPC expected: {e}");
            return;
        }
    }
}

async fn readyz_until(server: &common::TestServer, want: StatusCode) -> String {
    let started = Instant::now();
    loop {
        let (status, text) = server.admin_get("/readyz").await;
        if status == want {
            return text;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "/readyz never answered {want}: {status} {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sends conflicts (events `{tag}-{n}`) until `stop` says so; returns every number handed out
/// and how many calls failed.
async fn load(
    server: &common::TestServer,
    tag: &str,
    mut stop: impl FnMut(usize, usize) -> bool,
) -> (Vec<u64>, usize) {
    let (mut numbers, mut failed) = (Vec::new(), 0);
    for n in 0.. {
        if stop(numbers.len(), failed) {
            break;
        }
        let reply = server
            .hook(&login_conflict(&format!("{tag}-{n}"), "joe@example.com"))
            .await;
        assert!(reply.status.is_success(), "{}", reply.status);
        match number(&reply.json()) {
            Some(number) => numbers.push(number),
            None => {
                // on_error = "fail": the error object, nothing handed out.
                assert!(reply.json()["error"].is_object(), "{}", reply.json());
                failed += 1;
            }
        }
    }
    (numbers, failed)
}

fn assert_distinct(numbers: &[u64]) {
    let unique: HashSet<u64> = numbers.iter().copied().collect();
    assert_eq!(
        unique.len(),
        numbers.len(),
        "a number handed out twice: {numbers:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_store_reopens_after_a_full_disk_and_never_hands_out_a_number_twice() {
    let disk = Tmpfs::mount("3m");
    let plugins = plugins_folder(&[("40-counter", "login-counter-suffix", &counter_manifest())]);
    let layer = ConfigLayer {
        state_path: Some(disk.0.path().join("state.redb")),
        ..ConfigLayer::default()
    };
    let server = start(layer, Some(plugins.path())).await;
    let (mut numbers, failed) = load(&server, "before", |ok, _| ok == 20).await;
    assert_eq!(failed, 0);
    assert_eq!(server.admin_get("/readyz").await.0, StatusCode::OK);

    fill(&disk.0.path().join("filler"));
    let started = Instant::now();
    let (during, _) = load(&server, "full", |_, failed| {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no state call failed on a full disk"
        );
        failed >= 3
    })
    .await;
    numbers.extend(during);
    let text = readyz_until(&server, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(text.contains("state store unavailable"), "{text}");
    let _ = server.admin_get("/metrics").await;
    let metrics = server.app.metrics().encode();
    assert!(
        metrics.contains("importhook_state_store_up{backend=\"embedded\"} 0"),
        "{metrics}"
    );

    std::fs::remove_file(disk.0.path().join("filler")).expect("free the disk");
    let started = Instant::now();
    let (after, _) = load(&server, "after", |ok, _| {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the store never came back after the disk was freed"
        );
        ok == 20
    })
    .await;
    numbers.extend(after);
    readyz_until(&server, StatusCode::OK).await;
    assert_distinct(&numbers);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_file_made_immutable_mid_load_recovers_without_a_number_twice() {
    let plugins = plugins_folder(&[("40-counter", "login-counter-suffix", &counter_manifest())]);
    let dir = TempDir::new("immutable");
    let file = dir.path().join("state.redb");
    let layer = ConfigLayer {
        state_path: Some(file.clone()),
        ..ConfigLayer::default()
    };
    let server = start(layer, Some(plugins.path())).await;
    let (mut numbers, _) = load(&server, "before", |ok, _| ok == 10).await;
    let path = file.to_str().expect("utf-8").to_owned();
    run("chattr", &["+i", &path]);
    let (during, failed) = load(&server, "frozen", |_, failed| failed >= 3).await;
    numbers.extend(during);
    assert!(failed >= 3);
    readyz_until(&server, StatusCode::SERVICE_UNAVAILABLE).await;
    run("chattr", &["-i", &path]);
    let started = Instant::now();
    let (after, _) = load(&server, "thawed", |ok, _| {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never recovered"
        );
        ok == 10
    })
    .await;
    numbers.extend(after);
    readyz_until(&server, StatusCode::OK).await;
    assert_distinct(&numbers);
    server.stop().await;
}

#[test]
fn a_zero_length_state_file_is_refused_not_taken_as_new() {
    let dir = TempDir::new("zero-state");
    let file = dir.path().join("state.redb");
    std::fs::write(&file, b"").expect("empty file");
    let plugins = plugins_folder(&[("40-counter", "login-counter-suffix", &counter_manifest())]);
    let services =
        importhook::engine::Services::new(importhook::state::StateConfig::Embedded(file.clone()));
    let refused = importhook::engine::PluginSet::load(common::runtime(), plugins.path(), &services)
        .expect_err("an empty state file is not a store");
    assert!(format!("{refused:#}").contains("empty"), "{refused:#}");
    assert_eq!(std::fs::metadata(&file).expect("still there").len(), 0);
}

/// A child `importhook serve`, its log lines sent to a channel, killed on drop.
struct Serve {
    child: Child,
    addr: SocketAddr,
    admin: SocketAddr,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Serve {
    fn start(mut command: Command) -> Self {
        let mut child = command.spawn().expect("spawn importhook");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut serve = Self {
            child,
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            admin: SocketAddr::from(([0, 0, 0, 0], 0)),
            lines,
        };
        let line = serve.wait_for("importhook serving", Duration::from_secs(120));
        serve.addr = common::listen_addr(&line).expect("listen address");
        serve.admin = line
            .split("admin=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|a| a.parse().ok())
            .expect("admin address");
        serve
    }

    /// The first log line containing `needle`.
    fn wait_for(&self, needle: &str, within: Duration) -> String {
        let until = Instant::now() + within;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!("no log line with {needle:?} within {within:?}"),
            }
        }
    }

    fn terminate(&mut self) -> Duration {
        let started = Instant::now();
        run("kill", &["-TERM", &self.child.id().to_string()]);
        loop {
            if self.child.try_wait().expect("wait").is_some() {
                return started.elapsed();
            }
            assert!(started.elapsed() < Duration::from_secs(30), "never exited");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends conflicts to a child server until `stop`; returns the numbers and the failures.
async fn load_child(
    serve: &Serve,
    cert: &rustls::pki_types::CertificateDer<'static>,
    tag: &str,
    mut stop: impl FnMut(usize, usize) -> bool,
) -> (Vec<u64>, usize) {
    let (mut numbers, mut failed) = (Vec::new(), 0);
    for n in 0.. {
        if stop(numbers.len(), failed) {
            break;
        }
        let body = login_conflict(&format!("{tag}-{n}"), "joe@example.com");
        let reply = common::hook_at(serve.addr, cert, &body)
            .await
            .expect("answer");
        match number(&reply.json()) {
            Some(number) => numbers.push(number),
            None => failed += 1,
        }
    }
    (numbers, failed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_failure_is_logged_once_per_episode_naming_its_cause() {
    let dir = TempDir::new("episode");
    let cert = common::write_localhost_certificate(dir.path());
    let plugins = plugins_folder(&[("40-counter", "login-counter-suffix", &counter_manifest())]);
    let file = dir.path().join("state.redb");
    let mut command = common::serve_command(plugins.path(), dir.path());
    command.arg("--state-path").arg(&file);
    let serve = Serve::start(command);
    let (mut numbers, _) = load_child(&serve, &cert, "before", |ok, _| ok == 5).await;
    let path = file.to_str().expect("utf-8").to_owned();
    run("chattr", &["+i", &path]);
    let (during, _) = load_child(&serve, &cert, "frozen", |_, failed| failed == 20).await;
    numbers.extend(during);
    run("chattr", &["-i", &path]);
    let started = Instant::now();
    let (after, _) = load_child(&serve, &cert, "thawed", |ok, _| {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never recovered"
        );
        ok == 5
    })
    .await;
    numbers.extend(after);
    assert_distinct(&numbers);
    std::thread::sleep(Duration::from_millis(300));
    let lines: Vec<String> = serve.lines.try_iter().collect();
    let failed: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("state file failed"))
        .collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert!(
        failed[0].contains(&path) && failed[0].contains("error="),
        "{}",
        failed[0]
    );
    let reopened = lines
        .iter()
        .filter(|l| l.contains("state file reopened"))
        .count();
    assert_eq!(reopened, 1, "{lines:#?}");
}

fn mkfifo(path: &Path) {
    run("mkfifo", &[path.to_str().expect("utf-8")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_entries_in_the_plugins_folder_never_block_nor_fill_memory_and_sigterm_exits() {
    let dir = TempDir::new("odd-folder");
    let cert = common::write_localhost_certificate(dir.path());
    let plugins = plugins_folder(&[("10-normalize", "normalize-login", "")]);
    let folder = plugins.path();
    mkfifo(&folder.join("z.wasm"));
    mkfifo(&folder.join("notes"));
    std::os::unix::fs::symlink("/dev/zero", folder.join("y.wasm")).expect("symlink");
    std::fs::create_dir(folder.join("x.wasm")).expect("dir");

    // `check` names each and returns.
    let started = Instant::now();
    let check = Command::new(BIN)
        .args(["check", "--plugins"])
        .arg(folder)
        .output()
        .expect("check");
    assert!(started.elapsed() < Duration::from_secs(60));
    let said = String::from_utf8_lossy(&check.stderr);
    assert!(!check.status.success());
    for (name, what) in [
        ("z.wasm", "FIFO"),
        ("notes", "FIFO"),
        ("y.wasm", "device"),
        ("x.wasm", "folder"),
    ] {
        assert!(
            said.lines().any(|l| l.contains(name) && l.contains(what)),
            "{name}: {said}"
        );
    }

    let mut command = common::serve_command(folder, dir.path());
    command.args([
        "--drain-timeout-ms",
        "2000",
        "--max-plugin-bytes",
        "16777216",
    ]);
    let mut serve = Serve::start(command);
    let reply = common::hook_at(serve.addr, &cert, &common::okta_sample())
        .await
        .expect("served");
    assert!(reply.status.is_success(), "{}", reply.status);

    // A 200 MB plugin (sparse: no disk, but 200 MB of memory if read whole) is refused.
    let huge = std::fs::File::create(folder.join("w.wasm")).expect("huge");
    huge.set_len(200_000_000).expect("set_len");
    drop(huge);
    let refused = serve.wait_for("plugin reload refused", Duration::from_secs(60));
    assert!(refused.contains("max_plugin_bytes"), "{refused}");
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", serve.child.id())).expect("status");
    let rss_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    assert!(
        rss_kib < 150 << 10,
        "RSS {rss_kib} KiB after a 200 MB plugin"
    );

    // The watcher still works: a FIFO added while serving and the huge file removed, the
    // set reloads.
    mkfifo(&folder.join("q.wasm"));
    std::fs::remove_file(folder.join("w.wasm")).expect("rm");
    serve.wait_for("plugin set reloaded", Duration::from_secs(60));
    let reply = common::hook_at(serve.addr, &cert, &common::okta_sample())
        .await
        .expect("served");
    assert!(reply.status.is_success(), "{}", reply.status);

    let took = serve.terminate();
    assert!(
        took < Duration::from_millis(2_000 + 1_500),
        "exit took {took:?}"
    );
}

#[tokio::test]
async fn readiness_fails_only_for_what_this_replica_can_fix() {
    // No plugin: not ready, unless allowed.
    let server = start(ConfigLayer::default(), None).await;
    let (status, text) = server.admin_get("/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(text.contains("allow_no_plugins"), "{text}");
    server.stop().await;
    let allowed = ConfigLayer {
        allow_no_plugins: Some(true),
        ..ConfigLayer::default()
    };
    let server = start(allowed, None).await;
    assert_eq!(server.admin_get("/readyz").await.0, StatusCode::OK);
    server.stop().await;

    // TLS material unreadable at a reload: not ready until it reads again.
    let dir = TempDir::new("tls-unreadable");
    common::write_localhost_certificate(dir.path());
    let plugins = plugins_folder(&[("10-normalize", "normalize-login", "")]);
    let layer = ConfigLayer {
        tls_cert: Some(dir.path().join("cert.pem")),
        tls_key: Some(dir.path().join("key.pem")),
        ..ConfigLayer::default()
    };
    let server = start(layer, Some(plugins.path())).await;
    assert_eq!(server.admin_get("/readyz").await.0, StatusCode::OK);
    let reloader = importhook::reload::Reloader::new(
        server.app.clone(),
        server.tls.clone(),
        common::runtime(),
    );
    std::fs::rename(dir.path().join("key.pem"), dir.path().join("key.away")).expect("mv");
    let reload = reloader.clone();
    tokio::task::spawn_blocking(move || reload.reload())
        .await
        .expect("reload");
    let (status, text) = server.admin_get("/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(text.contains("TLS"), "{text}");
    // The current certificate still serves meanwhile.
    assert!(
        server
            .hook(&common::okta_sample())
            .await
            .status
            .is_success()
    );
    std::fs::rename(dir.path().join("key.away"), dir.path().join("key.pem")).expect("mv");
    tokio::task::spawn_blocking(move || reloader.reload())
        .await
        .expect("reload");
    assert_eq!(server.admin_get("/readyz").await.0, StatusCode::OK);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_admin_connections_leaves_the_hook_its_file_descriptors() {
    let dir = TempDir::new("admin-flood");
    let cert = common::write_localhost_certificate(dir.path());
    let plugins = plugins_folder(&[("10-normalize", "normalize-login", "")]);
    // Hard and soft limit 256: nothing to raise, so only the admin cap protects the hook.
    let serve = {
        let inner = common::serve_command(plugins.path(), dir.path());
        let mut command = Command::new("prlimit");
        command.arg("--nofile=256:256").arg(inner.get_program());
        command.args(inner.get_args());
        for (key, value) in inner.get_envs() {
            if let Some(value) = value {
                command.env(key, value);
            }
        }
        command.stderr(Stdio::piped());
        Serve::start(command)
    };
    let mut held = Vec::new();
    for _ in 0..600 {
        if let Ok(stream) =
            std::net::TcpStream::connect_timeout(&serve.admin, Duration::from_secs(1))
        {
            held.push(stream);
        }
    }
    assert!(held.len() > 300, "{} admin connections", held.len());
    // Let the server accept (and close) what it does not keep.
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Well within the 5 s an idle admin connection may hold its descriptor: uncapped, the
    // held connections use up the limit and the hook's accept fails until they time out.
    for _ in 0..3 {
        let reply = tokio::time::timeout(
            Duration::from_secs(2),
            common::hook_at(serve.addr, &cert, &common::okta_sample()),
        )
        .await
        .expect("the hook answers within 2 s during the admin flood")
        .expect("hook connection");
        assert!(reply.status.is_success(), "{}", reply.status);
    }
    drop(held);
}

#[test]
fn the_open_file_limit_is_raised_to_the_hard_limit() {
    let dir = TempDir::new("nofile");
    common::write_localhost_certificate(dir.path());
    let plugins = plugins_folder(&[("10-normalize", "normalize-login", "")]);
    let inner = common::serve_command(plugins.path(), dir.path());
    let mut command = Command::new("prlimit");
    command.arg("--nofile=256:4096").arg(inner.get_program());
    command.args(inner.get_args());
    for (key, value) in inner.get_envs() {
        if let Some(value) = value {
            command.env(key, value);
        }
    }
    command.stderr(Stdio::piped());
    let serve = Serve::start(command);
    let limits =
        std::fs::read_to_string(format!("/proc/{}/limits", serve.child.id())).expect("limits");
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("Max open files");
    let numbers: Vec<&str> = line.split_whitespace().skip(3).take(2).collect();
    assert_eq!(numbers, ["4096", "4096"], "{line}");
}

#[test]
fn a_log_beside_the_watched_certificate_at_trace_does_not_feed_itself() {
    let dir = TempDir::new("log-feedback");
    common::write_localhost_certificate(dir.path());
    let plugins = plugins_folder(&[("10-normalize", "normalize-login", "")]);
    let log_path = dir.path().join("importhook.log");
    let log = std::fs::File::create(&log_path).expect("log");
    let mut command = common::serve_command(plugins.path(), dir.path());
    command.env("RUST_LOG", "trace").stderr(log);
    let mut child = command.spawn().expect("spawn");
    let started = Instant::now();
    while !std::fs::read_to_string(&log_path)
        .unwrap_or_default()
        .contains("importhook serving")
    {
        assert!(started.elapsed() < Duration::from_secs(120), "never served");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Start-up settles (the watcher's first events), then idle.
    std::thread::sleep(Duration::from_secs(1));
    let before = std::fs::metadata(&log_path).expect("log").len();
    std::thread::sleep(Duration::from_secs(3));
    let grown = std::fs::metadata(&log_path).expect("log").len() - before;
    let _ = child.kill();
    let _ = child.wait();
    assert!(grown < 16 << 10, "the idle log grew {grown} bytes in 3 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_event_id_is_hashed_in_logs_and_state_and_a_retry_still_gets_its_number() {
    let dir = TempDir::new("long-event");
    let cert = common::write_localhost_certificate(dir.path());
    let plugins = plugins_folder(&[("40-counter", "login-counter-suffix", &counter_manifest())]);
    let mut command = common::serve_command(plugins.path(), dir.path());
    command
        .arg("--state-path")
        .arg(dir.path().join("state.redb"));
    let serve = Serve::start(command);
    let long = "e".repeat(250_000);
    let first = common::hook_at(serve.addr, &cert, &login_conflict(&long, "joe@example.com"))
        .await
        .expect("answer");
    let line = serve.wait_for("status=", Duration::from_secs(30));
    assert!(line.len() < 2_000, "a log line of {} bytes", line.len());
    assert!(line.contains("sha256:"), "{line}");
    // Okta's retry of the same event: the same number.
    let retry = common::hook_at(serve.addr, &cert, &login_conflict(&long, "joe@example.com"))
        .await
        .expect("answer");
    let (first, retry) = (number(&first.json()), number(&retry.json()));
    assert!(first.is_some(), "{first:?}");
    assert_eq!(first, retry);
}

#[tokio::test]
async fn an_unreadable_value_no_plugin_reads_does_not_refuse_the_request() {
    let plugins = plugins_folder(&[("10-normalize", "normalize-login", "")]);
    let server = start(ConfigLayer::default(), Some(plugins.path())).await;
    let send = |body: String| {
        let server = &server;
        async move {
            server
                .request(
                    "POST",
                    common::PATH,
                    &[
                        ("authorization", common::SECRET),
                        ("content-type", "application/json"),
                    ],
                    body.into_bytes(),
                )
                .await
        }
    };
    let body = |user: &str| {
        format!(
            r#"{{"eventId":"e1","eventType":"com.okta.import.transform","data":{{"action":{{"result":"CREATE_USER"}},"appUser":{{"profile":{{}}}},"user":{{"profile":{user}}}}}}}"#
        )
    };
    // Nobody reads `department`: the login is normalised as ever.
    let reply = send(body(
        r#"{"login":"JOE@Example.COM","department":"R&D \ud800"}"#,
    ))
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let answer = reply.json();
    assert_eq!(
        answer["commands"][0]["value"]["login"], "joe@example.com",
        "{answer}"
    );
    // The plugin reads `login`: its call fails (on_error skip), the request is still answered.
    let reply = send(body(r#"{"login":"JOE\udc00@Example.COM"}"#)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
    // Valid JSON nested deeper than serde_json reads (127 levels): kept as text, so it costs
    // only the plugins that read it.
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let reply = send(body(&format!(
        r#"{{"login":"JOE@Example.COM","groups":{deep}}}"#
    )))
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(
        reply.json()["commands"][0]["value"]["login"],
        "joe@example.com"
    );
    let reply = send(body(&format!(r#"{{"login":{deep}}}"#))).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
    server.stop().await;
}
