//! The `state` capability end to end: the counter example through the real server on the
//! embedded store and on a real `redis-server` (started here on a unix socket), two server
//! processes sharing one Redis, Redis killed and back, and a server SIGKILLed under load.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{BIN, TempDir, hook_at, login_conflict, plugins_folder, start};
use http::StatusCode;
use importhook::config::ConfigLayer;
use importhook::engine::{PluginSet, Services};
use serde_json::Value;

/// The counter example's manifest, failing the request when a state call fails (so a test
/// sees it), with a deadline that a debug build on a loaded machine keeps.
fn counter_manifest(timeout_ms: u64) -> String {
    format!(
        "timeout_ms = {timeout_ms}\non_error = \"fail\"\ngrants = [\"state\", \"directory\"]\n[config]\nwidth = 4\n"
    )
}

/// The login the answer sets, if it sets one.
fn new_login(answer: &Value) -> Option<String> {
    answer["commands"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "com.okta.user.profile.update")
        .and_then(|c| c["value"]["login"].as_str())
        .map(str::to_owned)
}

#[tokio::test]
async fn each_conflicting_user_gets_the_next_number_and_a_retry_the_same() {
    let plugins = plugins_folder(&[(
        "40-counter",
        "login-counter-suffix",
        &counter_manifest(2000),
    )]);
    let server = start(ConfigLayer::default(), Some(plugins.path())).await;
    let mut logins = Vec::new();
    for event in ["e1", "e2", "e1", "e3"] {
        let reply = server
            .hook(&login_conflict(event, "Joe.Smith@example.com"))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        logins.push(new_login(&reply.json()).expect("a new login"));
    }
    assert_eq!(
        logins,
        [
            "joe.smith0001@example.com",
            "joe.smith0002@example.com",
            // Okta's retry of e1 gets e1's number, not a new one.
            "joe.smith0001@example.com",
            "joe.smith0003@example.com",
        ]
    );
    let metrics = server.app.metrics().encode();
    assert!(
        metrics.contains(
            "importhook_state_calls_total{backend=\"embedded\",operation=\"next\",outcome=\"ok\"} 4"
        ),
        "{metrics}"
    );
    assert_eq!(server.admin_get("/readyz").await.0, StatusCode::OK);
    server.stop().await;
}

#[test]
fn a_plugin_using_state_without_the_grant_is_refused_naming_the_grant() {
    let plugins = plugins_folder(&[(
        "40-counter",
        "login-counter-suffix",
        "on_error = \"fail\"\n",
    )]);
    let (set, problems) = PluginSet::check(common::runtime(), plugins.path(), &Services::scratch())
        .expect("folder readable");
    assert!(set.plugins().is_empty());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("imports importhook:plugin/state")
            && problems[0].contains("grants = [\"state\"]"),
        "{}",
        problems[0]
    );
}

/// A `redis-server` of this test's own: on a unix socket in a temporary folder (no port to
/// race for), nothing saved to disk.
struct Redis {
    child: Option<Child>,
    dir: TempDir,
    /// Further `redis-server` arguments (memory settings, a TCP port, `--replicaof`).
    extra: Vec<String>,
}

impl Redis {
    fn start() -> Self {
        Self::start_with(&[])
    }

    fn start_with(extra: &[&str]) -> Self {
        let mut redis = Self {
            child: None,
            dir: TempDir::new("redis"),
            extra: extra.iter().map(|a| (*a).to_owned()).collect(),
        };
        redis.restart();
        redis
    }

    /// Sends one command over the socket and returns the start of the raw answer.
    fn command(&self, args: &[&str]) -> String {
        let mut stream = std::os::unix::net::UnixStream::connect(self.socket()).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut request = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            request.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
        }
        stream.write_all(&request).expect("send");
        let mut answer = vec![0u8; 64 * 1024];
        let n = stream.read(&mut answer).expect("answer");
        String::from_utf8_lossy(&answer[..n]).into_owned()
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("redis.sock")
    }

    fn url(&self) -> String {
        format!("redis+unix://{}", self.socket().display())
    }

    /// Starts it (again) and waits until it answers PING.
    fn restart(&mut self) {
        let _ = std::fs::remove_file(self.socket());
        let tcp = self.extra.iter().any(|a| a == "--port");
        let mut command = Command::new("redis-server");
        if !tcp {
            command.args(["--port", "0"]);
        }
        let child = command
            .arg("--unixsocket")
            .arg(self.socket())
            .args(["--unixsocketperm", "700", "--save", "", "--appendonly", "no"])
            // A primary writes an RDB file for a replica's full sync: into the temporary
            // folder, not the working directory.
            .arg("--dir")
            .arg(self.dir.path())
            .args(&self.extra)
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run redis-server ({e}): install it (Debian: apt-get install redis-server; .ci/run does)")
            });
        self.child = Some(child);
        let started = Instant::now();
        while !ping(&self.socket()) {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "redis-server did not answer PING"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no goodbye to its clients.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

fn ping(socket: &Path) -> bool {
    let Ok(mut stream) = std::os::unix::net::UnixStream::connect(socket) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut answer = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut answer).is_ok()
        && &answer == b"+PONG\r\n"
}

/// `importhook serve` as a child process, its address read from its log, killed on drop.
struct Process {
    child: Child,
    addr: SocketAddr,
}

impl Process {
    /// Serves the plugins of `plugins` with the certificate in `dir`, state as `state_args`.
    fn serve(dir: &Path, plugins: &Path, state_args: &[&str]) -> Self {
        let child = common::serve_command(plugins, dir)
            .args(state_args)
            // A debug build on a loaded machine: let requests use nearly all of Okta's 3 s
            // rather than pass through unchanged at the default 2 s.
            .args(["--request-timeout-ms", "2900"])
            .spawn()
            .expect("spawn importhook");
        // Owned (killed on drop) before anything here can fail.
        let mut process = Self {
            child,
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        };
        let stderr = process.child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads the log to its end, so a full pipe never blocks the server.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        loop {
            let line = rx
                .recv_timeout(Duration::from_secs(60))
                .expect("the server starts and logs its address");
            if let Some(addr) = common::listen_addr(&line) {
                process.addr = addr;
                return process;
            }
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_redis_hand_out_distinct_logins() {
    let redis = Redis::start();
    let dir = TempDir::new("state-replicas");
    let cert = common::write_localhost_certificate(dir.path());
    let plugins = plugins_folder(&[(
        "40-counter",
        "login-counter-suffix",
        &counter_manifest(2000),
    )]);
    let url = redis.url();
    let replicas = [
        Process::serve(dir.path(), plugins.path(), &["--state-url", &url]),
        Process::serve(dir.path(), plugins.path(), &["--state-url", &url]),
    ];
    let addrs = [replicas[0].addr, replicas[1].addr];

    // 1,000 users with the same conflicting login, 32 at a time, alternating replicas (more
    // would only queue: two debug builds share this machine's cores with the test).
    const USERS: usize = 1_000;
    let gate = Arc::new(tokio::sync::Semaphore::new(32));
    let mut calls = Vec::with_capacity(USERS);
    for i in 0..USERS {
        let (gate, cert, addr) = (gate.clone(), cert.clone(), addrs[i % 2]);
        calls.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.expect("gate");
            let reply = hook_at(
                addr,
                &cert,
                &login_conflict(&format!("ev-{i}"), "joe@example.com"),
            )
            .await
            .expect("connect");
            assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
            new_login(&reply.json()).expect("a new login")
        }));
    }
    let mut logins = Vec::with_capacity(USERS);
    for call in calls {
        logins.push(call.await.expect("call"));
    }
    let distinct: HashSet<&String> = logins.iter().collect();
    assert_eq!(distinct.len(), USERS, "every user a login of its own");
    let expected: HashSet<String> = (1..=USERS)
        .map(|n| format!("joe{n:04}@example.com"))
        .collect();
    assert_eq!(
        distinct.into_iter().cloned().collect::<HashSet<_>>(),
        expected,
        "no number skipped or repeated"
    );

    // Okta retries ev-17 on the other replica: it gets ev-17's login again.
    let retried = hook_at(addrs[1], &cert, &login_conflict("ev-17", "joe@example.com"))
        .await
        .expect("retry");
    assert_eq!(new_login(&retried.json()).as_ref(), Some(&logins[17]));

    // The operator's view of the same Redis.
    let state = |args: &[&str]| operator(&["--state-url", &url], args);
    let (ok, listing) = state(&["list", "40-counter"]);
    assert!(ok, "{listing}");
    assert!(
        listing
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["counter", "joe@example.com", "1000"]),
        "{listing}"
    );
    assert_eq!(
        state(&["get", "40-counter", "counter", "joe@example.com"]),
        (true, "1000\n".into())
    );
    assert!(state(&["delete", "40-counter", "counter", "joe@example.com"]).0);
    let (ok, listing) = state(&["list", "40-counter"]);
    assert!(ok && !listing.contains("joe@example.com"), "{listing}");
    let (ok, why) = state(&["get", "40-counter", "counter", "joe@example.com"]);
    assert!(!ok && why.contains("no counter"), "{why}");
}

/// Runs `importhook state` with `store` options; (success, stdout or else stderr).
fn operator(store: &[&str], args: &[&str]) -> (bool, String) {
    let output = Command::new(BIN)
        .arg("state")
        .args(store)
        .args(args)
        .output()
        .expect("run importhook state");
    let text = if output.status.success() {
        output.stdout
    } else {
        output.stderr
    };
    (
        output.status.success(),
        String::from_utf8_lossy(&text).into_owned(),
    )
}

#[tokio::test]
async fn with_redis_down_calls_fail_within_their_deadline_and_recover_when_it_is_back() {
    let mut redis = Redis::start();
    let plugins = plugins_folder(&[("40-counter", "login-counter-suffix", &counter_manifest(500))]);
    let layer = ConfigLayer {
        state_url: Some(redis.url()),
        ..ConfigLayer::default()
    };
    let server = start(layer, Some(plugins.path())).await;
    let first = server.hook(&login_conflict("e1", "ann@example.com")).await;
    assert_eq!(
        new_login(&first.json()).as_deref(),
        Some("ann0001@example.com")
    );
    assert_eq!(server.admin_get("/readyz").await.0, StatusCode::OK);

    redis.kill();
    let started = Instant::now();
    let refused = server.hook(&login_conflict("e2", "ann@example.com")).await;
    let took = started.elapsed();
    // on_error = "fail": Okta gets an error object naming the plugin; no personal data.
    assert_eq!(refused.status, StatusCode::OK);
    let body = refused.json();
    let summary = body["error"]["errorSummary"]
        .as_str()
        .expect("an error object");
    assert!(summary.contains("40-counter"), "{summary}");
    assert!(!refused.body.windows(3).any(|w| w == b"ann"), "{body}");
    assert!(
        took < Duration::from_millis(1_500),
        "the call ends at its 500 ms deadline, not Redis's: {took:?}"
    );
    // Redis is shared by every replica: its outage must not take them all out of the load
    // balancer (plugins that never use state keep serving). The metrics say it.
    assert_eq!(server.admin_get("/readyz").await.0, StatusCode::OK);
    tokio::time::sleep(importhook::app::STATE_PROBE_EVERY).await;
    let _ = server.admin_get("/metrics").await;
    let metrics = server.app.metrics().encode();
    assert!(
        metrics.contains("importhook_state_store_up{backend=\"redis\"} 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "importhook_state_calls_total{backend=\"redis\",operation=\"next\",outcome=\"unavailable\"} 1"
        ),
        "{metrics}"
    );

    redis.restart();
    let started = Instant::now();
    let login = loop {
        let reply = server.hook(&login_conflict("e3", "ann@example.com")).await;
        if let Some(login) = new_login(&reply.json()) {
            break login;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the service recovers when Redis is back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // This Redis kept nothing (no persistence): counting starts again.
    assert!(
        login.starts_with("ann") && login.ends_with("@example.com"),
        "{login}"
    );
    assert_eq!(server.admin_get("/readyz").await.0, StatusCode::OK);

    // A flood of probes and scrapes: at most one PING a second reaches Redis.
    tokio::time::sleep(importhook::app::STATE_PROBE_EVERY).await;
    let before = ping_calls(&redis.socket());
    let started = Instant::now();
    for _ in 0..200 {
        assert_eq!(server.admin_get("/readyz").await.0, StatusCode::OK);
        let _ = server.admin_get("/metrics").await;
    }
    let pings = ping_calls(&redis.socket()) - before;
    let most = started.elapsed().as_secs() + 2;
    assert!(
        (1..=most).contains(&pings),
        "{pings} PINGs in {:?}",
        started.elapsed()
    );
    server.stop().await;
}

/// How many PINGs Redis has answered (`INFO commandstats`).
fn ping_calls(socket: &Path) -> u64 {
    let mut stream = std::os::unix::net::UnixStream::connect(socket).expect("redis");
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    stream.write_all(b"INFO commandstats\r\n").expect("write");
    // A bulk string: `$<length>\r\n<text>\r\n`.
    let mut text = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).expect("read");
        assert!(n > 0, "redis closed");
        text.extend_from_slice(&chunk[..n]);
        let head = String::from_utf8_lossy(&text);
        if let Some((length, _)) = head.strip_prefix('$').and_then(|r| r.split_once("\r\n")) {
            let length: usize = length.parse().expect("bulk length");
            if text.len() >= length + length.to_string().len() + 5 {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&text);
    text.lines()
        .find_map(|l| l.strip_prefix("cmdstat_ping:calls="))
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .expect("cmdstat_ping in INFO commandstats (the start-up PING made it)")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_process_never_hands_out_an_acknowledged_number_again() {
    let dir = TempDir::new("state-crash");
    let cert = common::write_localhost_certificate(dir.path());
    let plugins = plugins_folder(&[(
        "40-counter",
        "login-counter-suffix",
        &counter_manifest(2000),
    )]);
    let state = dir.path().join("state.redb");
    let state_arg = state.to_str().expect("utf-8 path").to_owned();
    let mut process = Process::serve(dir.path(), plugins.path(), &["--state-path", &state_arg]);
    let addr = process.addr;

    // 16 clients importing new users back to back until the server is killed under them.
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut clients = Vec::new();
    for client in 0..16 {
        let (cert, acknowledged) = (cert.clone(), acknowledged.clone());
        clients.push(tokio::spawn(async move {
            for i in 0.. {
                let event = format!("ev-{client}-{i}");
                let Ok(reply) =
                    hook_at(addr, &cert, &login_conflict(&event, "kim@example.com")).await
                else {
                    return;
                };
                if let Some(login) = (reply.status == StatusCode::OK)
                    .then(|| new_login(&reply.json()))
                    .flatten()
                {
                    acknowledged.lock().expect("lock").push(login);
                }
            }
        }));
    }
    let started = Instant::now();
    while acknowledged.lock().expect("lock").len() < 200 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the server answers"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    process.kill();
    for client in clients {
        let _ = tokio::time::timeout(Duration::from_secs(10), client).await;
    }
    let acknowledged: HashSet<String> =
        acknowledged.lock().expect("lock").iter().cloned().collect();
    assert!(acknowledged.len() >= 200);

    // Reopened after the crash: the numbers go on after every acknowledged one.
    let reopened = Process::serve(dir.path(), plugins.path(), &["--state-path", &state_arg]);
    for i in 0..20 {
        let reply = hook_at(
            reopened.addr,
            &cert,
            &login_conflict(&format!("after-{i}"), "kim@example.com"),
        )
        .await
        .expect("connect");
        let login = new_login(&reply.json()).expect("a new login");
        assert!(
            !acknowledged.contains(&login),
            "{login} was acknowledged before the crash and handed out again"
        );
    }
    drop(reopened);

    // The operator reads the file once no server holds it.
    let store = ["--state-path", state_arg.as_str()];
    let (ok, last) = operator(&store, &["get", "40-counter", "counter", "kim@example.com"]);
    let last: usize = last
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{ok} {last}"));
    assert!(last >= acknowledged.len() + 20, "{last}");
    let (ok, why) = operator(
        &["--state-path", "no/such/state.redb"],
        &["list", "40-counter"],
    );
    assert!(!ok && why.contains("no state file"), "{why}");
}

#[test]
fn doctor_says_whether_the_state_store_answers() {
    let mut redis = Redis::start();
    let plugins = plugins_folder(&[("40-counter", "login-counter-suffix", &counter_manifest(500))]);
    let doctor = |url: &str| {
        let output = Command::new(BIN)
            .args(["doctor", "--dev", "--state-url", url, "--plugins"])
            .arg(plugins.path())
            .env("IMPORTHOOK_SECRETS", common::SECRET)
            .output()
            .expect("run doctor");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let (ok, report) = doctor(&redis.url());
    assert!(ok, "{report}");
    assert!(
        report.contains("ok    state: redis store answers"),
        "{report}"
    );
    redis.kill();
    let (ok, report) = doctor(&redis.url());
    assert!(!ok, "{report}");
    assert!(
        report.contains("FAIL  state: the redis store does not answer"),
        "{report}"
    );
}

/// Runs `importhook doctor` against the Redis at `url`; (passed, report).
fn doctor_on(url: &str, plugins: &Path) -> (bool, String) {
    let output = Command::new(BIN)
        .args(["doctor", "--dev", "--state-url", url, "--plugins"])
        .arg(plugins)
        .env("IMPORTHOOK_SECRETS", common::SECRET)
        .output()
        .expect("run doctor");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn an_evicting_redis_is_refused_by_doctor_and_at_start_up_with_the_line_to_fix_it() {
    let plugins = plugins_folder(&[("40-counter", "login-counter-suffix", &counter_manifest(500))]);
    let evicting = Redis::start_with(&["--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"]);
    let (ok, report) = doctor_on(&evicting.url(), plugins.path());
    assert!(!ok, "{report}");
    assert!(
        report.contains("FAIL  state: Redis maxmemory-policy is allkeys-lru")
            && report.contains("maxmemory-policy noeviction")
            && report.contains("of maxmemory 64.0 MiB"),
        "{report}"
    );
    let dir = TempDir::new("state-evicting");
    common::write_localhost_certificate(dir.path());
    let output = common::serve_command(plugins.path(), dir.path())
        .arg("--state-url")
        .arg(evicting.url())
        .output()
        .expect("run serve");
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{log}");
    assert!(
        log.contains("state_url: Redis maxmemory-policy is allkeys-lru")
            && log.contains("maxmemory-policy noeviction"),
        "{log}"
    );

    let keeping = Redis::start_with(&["--maxmemory", "64mb", "--maxmemory-policy", "noeviction"]);
    let (ok, report) = doctor_on(&keeping.url(), plugins.path());
    assert!(ok, "{report}");
    assert!(
        report.contains("ok    state: redis store answers; maxmemory-policy noeviction; ")
            && report.contains("MiB used of maxmemory 64.0 MiB"),
        "{report}"
    );
}

#[tokio::test]
async fn a_full_redis_is_named_full_not_unavailable() {
    let redis = Redis::start_with(&["--maxmemory-policy", "noeviction"]);
    let plugins = plugins_folder(&[(
        "40-counter",
        "login-counter-suffix",
        &counter_manifest(1000),
    )]);
    let layer = ConfigLayer {
        state_url: Some(redis.url()),
        ..ConfigLayer::default()
    };
    let server = start(layer, Some(plugins.path())).await;
    let first = server.hook(&login_conflict("f1", "ann@example.com")).await;
    assert_eq!(
        new_login(&first.json()).as_deref(),
        Some("ann0001@example.com")
    );
    // Fill it, then lower maxmemory under what it holds: noeviction refuses every write.
    let filler = "x".repeat(512 * 1024);
    for n in 0..4 {
        let answer = redis.command(&["SET", &format!("filler-{n}"), &filler]);
        assert!(answer.starts_with("+OK"), "{answer}");
    }
    let answer = redis.command(&["CONFIG", "SET", "maxmemory", "1mb"]);
    assert!(answer.starts_with("+OK"), "{answer}");
    let answer = redis.command(&["SET", "probe", "1"]);
    assert!(
        answer.starts_with("-OOM"),
        "Redis refuses writes once full: {answer}"
    );
    let refused = server.hook(&login_conflict("f2", "ann@example.com")).await;
    assert!(refused.json()["error"].is_object(), "{:?}", refused.json());
    let metrics = server.app.metrics().encode();
    assert!(
        metrics.contains(
            "importhook_state_calls_total{backend=\"redis\",operation=\"next\",outcome=\"full\"} 1"
        ),
        "{metrics}"
    );
    assert!(!metrics.contains("outcome=\"unavailable\""), "{metrics}");
    server.stop().await;
}

/// A TCP port free a moment ago (Redis replication needs TCP).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_redis_wait_holds_each_number_until_a_replica_has_it() {
    // No replica: WAIT 1 gets no acknowledgement, and the number is not handed out.
    let alone = Redis::start();
    let plugins = plugins_folder(&[("40-counter", "login-counter-suffix", &counter_manifest(600))]);
    let layer = ConfigLayer {
        state_url: Some(alone.url()),
        state_redis_wait: Some(1),
        ..ConfigLayer::default()
    };
    let server = start(layer, Some(plugins.path())).await;
    let started = Instant::now();
    let refused = server.hook(&login_conflict("w1", "ann@example.com")).await;
    assert!(refused.json()["error"].is_object(), "{:?}", refused.json());
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "WAIT ended within the call's deadline: {:?}",
        started.elapsed()
    );
    let metrics = server.app.metrics().encode();
    assert!(
        metrics.contains(
            "importhook_state_calls_total{backend=\"redis\",operation=\"next\",outcome=\"unreplicated\"} 1"
        ),
        "{metrics}"
    );
    server.stop().await;

    // A primary on TCP and one replica of it: the same call succeeds.
    let port = free_port();
    let primary = Redis::start_with(&["--port", &port.to_string(), "--bind", "127.0.0.1"]);
    let replica = Redis::start_with(&["--replicaof", "127.0.0.1", &port.to_string()]);
    let started = Instant::now();
    while !replica
        .command(&["INFO", "replication"])
        .contains("master_link_status:up")
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the replica never caught up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let layer = ConfigLayer {
        state_url: Some(primary.url()),
        state_redis_wait: Some(1),
        ..ConfigLayer::default()
    };
    let server = start(layer, Some(plugins.path())).await;
    let answer = server.hook(&login_conflict("w2", "ann@example.com")).await;
    assert_eq!(
        new_login(&answer.json()).as_deref(),
        Some("ann0001@example.com")
    );
    let keys = replica.command(&["KEYS", "*"]);
    assert!(
        keys.contains(":c:ann@example.com}"),
        "the replica holds the counter: {keys}"
    );
    server.stop().await;
}
