//! End to end: personal data and secrets never leak (canary values through every path, logs
//! captured at TRACE), malformed HTTP is refused without harm, every phase of a connection has
//! a deadline, and shutdown loses no request a client has sent.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::{PATH, TempDir, plugins_folder};
use http::StatusCode;
use importhook::config::{ConfigLayer, Settings};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

const CANARY_SECRET: &str = "canary-secret-7f3a9c";
const CANARIES: [&str; 5] = [
    CANARY_SECRET,
    "canary.person@example.org",
    "Canaryfirst",
    "Canarylast",
    "+1-555-0199-7788",
];

/// Every log line of this test binary, at TRACE.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
        logs
    })
    .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn canary_request(fault: &str) -> serde_json::Value {
    let mut request = common::okta_sample();
    let app = &mut request["data"]["appUser"]["profile"];
    app["firstName"] = "Canaryfirst".into();
    app["lastName"] = "Canarylast".into();
    app["email"] = "canary.person@example.org".into();
    app["mobilePhone"] = "+1-555-0199-7788".into();
    app["middleName"] = "Canarymiddle".into();
    app["fault"] = fault.into();
    let user = &mut request["data"]["user"]["profile"];
    user["login"] = "canary.person@example.org".into();
    user["email"] = "canary.person@example.org".into();
    user["firstName"] = "Canaryfirst".into();
    user["lastName"] = "Canarylast".into();
    user["mobilePhone"] = "+1-555-0199-7788".into();
    request
}

#[tokio::test]
async fn canary_values_reach_no_log_metric_error_or_debug_context() {
    let logs = captured_logs();
    let dir = TempDir::new("canary");
    std::fs::write(dir.path().join("secrets"), format!("{CANARY_SECRET}\n")).expect("secret");
    let fault =
        "timeout_ms = 100\nmemory_mib = 16\non_error = \"fail\"\n[config]\nmode = \"when-asked\"\n";
    let plugins = plugins_folder(&[
        ("10-normalize-login", "normalize-login", ""),
        (
            "20-login-middle-name",
            "login-middle-name",
            "grants = [\"directory\"]\n",
        ),
        ("30-fault", "fault-plugin", fault),
    ]);
    let layer = ConfigLayer {
        secret_file: Some(dir.path().join("secrets")),
        ..ConfigLayer::default()
    };
    let server = common::start(layer.clone(), Some(plugins.path())).await;

    let mut bodies = Vec::new();
    let json = ("content-type", "application/json");
    for fault in [
        "ok",
        "loop",
        "memory",
        "trap",
        "panic",
        "error",
        "empty-link",
        "huge-value",
        "bad-json",
    ] {
        let body = serde_json::to_vec(&canary_request(fault)).expect("json");
        let reply = server
            .request(
                "POST",
                PATH,
                &[json, ("authorization", CANARY_SECRET)],
                body,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{fault}");
        bodies.push(
            reply
                .json()
                .get("error")
                .or(reply.json().get("debugContext"))
                .cloned()
                .unwrap_or_default()
                .to_string(),
        );
    }
    // Refusals: wrong secret (the canary secret with a typo), unparsable body with canaries.
    let wrong = format!("{CANARY_SECRET}x");
    let reply = server
        .request(
            "POST",
            PATH,
            &[json, ("authorization", &wrong)],
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    bodies.push(String::from_utf8_lossy(&reply.body).into_owned());
    let reply = server.request("POST", PATH, &[json], b"{}".to_vec()).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let broken = format!(
        "{{\"eventId\": \"e\", \"data\": {{\"note\": \"{}\"",
        CANARIES[1]
    );
    let reply = server
        .request(
            "POST",
            PATH,
            &[json, ("authorization", CANARY_SECRET)],
            broken.into_bytes(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    bodies.push(String::from_utf8_lossy(&reply.body).into_owned());
    let (_, metrics) = server.admin_get("/metrics").await;
    server.stop().await;

    let settings = Settings::resolve(&layer, None, Some(CANARY_SECRET), true).expect("settings");
    let debug = format!("{settings:?} {:?}", settings.secrets);

    let logs = String::from_utf8_lossy(&logs.lock().expect("logs")).into_owned();
    assert!(logs.contains("request"), "logs were captured");
    // Each 401 says why, in words, without the value; durations are whole microseconds.
    for reason in ["reason=\"no secret matched\"", "reason=\"missing header\""] {
        assert!(logs.contains(reason), "{reason} not in the logs:\n{logs}");
    }
    assert!(
        logs.contains("latency_us=") && !logs.contains("latency_ms="),
        "{logs}"
    );
    assert!(
        logs.lines()
            .filter_map(|l| l.split("latency_us=").nth(1))
            .all(|v| v
                .split_whitespace()
                .next()
                .is_some_and(|n| n.parse::<u64>().is_ok())),
        "{logs}"
    );
    for canary in CANARIES {
        assert!(!logs.contains(canary), "{canary} in the logs");
        assert!(!metrics.contains(canary), "{canary} in the metrics");
        assert!(!debug.contains(canary), "{canary} in Debug of the settings");
        for body in &bodies {
            assert!(!body.contains(canary), "{canary} in an answer: {body}");
        }
    }
}

#[tokio::test]
async fn oversized_headers_get_431_and_smuggling_attempts_are_refused() {
    let server = common::start(ConfigLayer::default(), None).await;
    let big = format!(
        "POST {PATH} HTTP/1.1\r\nhost: localhost\r\nx-big: {}\r\ncontent-length: 0\r\n\r\n",
        "a".repeat(20_000)
    );
    let reply = String::from_utf8_lossy(&server.raw(big.as_bytes()).await).into_owned();
    assert!(reply.starts_with("HTTP/1.1 431"), "{reply}");

    let smuggle = format!(
        "POST {PATH} HTTP/1.1\r\nhost: localhost\r\nauthorization: {}\r\ncontent-type: application/json\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
        common::SECRET
    );
    let reply = String::from_utf8_lossy(&server.raw(smuggle.as_bytes()).await).into_owned();
    assert!(
        !reply.starts_with("HTTP/1.1 2"),
        "conflicting framing must not be served: {reply}"
    );

    let plain_http = b"POST /okta/import HTTP/1.1\r\nhost: localhost\r\n\r\n";
    let mut tcp = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    tokio::io::AsyncWriteExt::write_all(&mut tcp, plain_http)
        .await
        .expect("write");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        tokio::io::AsyncReadExt::read_to_end(&mut tcp, &mut answer),
    )
    .await;
    assert!(
        !String::from_utf8_lossy(&answer).contains("HTTP/1.1"),
        "plain HTTP on the TLS port must not be answered"
    );
    assert_eq!(
        server.hook(&common::okta_sample()).await.status,
        StatusCode::NO_CONTENT
    );
    server.stop().await;
}

/// How a client's wait for an answer ended without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NoAnswer {
    /// The connection closed before any byte of an answer.
    Closed,
    /// It closed or broke partway through an answer.
    Truncated,
    /// A read failed (typically a reset) before any byte of an answer.
    Broken,
    /// Nothing came within the client's patience.
    Silent,
}

/// One HTTP/1.1 answer, as much as these tests look at.
#[derive(Debug)]
struct Answer {
    status: u16,
    closes: bool,
}

/// Reads answers off one connection, keeping what arrived past the last one.
#[derive(Default)]
struct Answers {
    buffered: Vec<u8>,
}

impl Answers {
    async fn next<S: AsyncRead + Unpin>(
        &mut self,
        stream: &mut S,
        patience: Duration,
    ) -> Result<Answer, NoAnswer> {
        match tokio::time::timeout(patience, self.read(stream)).await {
            Ok(result) => result,
            Err(_) => Err(NoAnswer::Silent),
        }
    }

    async fn read<S: AsyncRead + Unpin>(&mut self, stream: &mut S) -> Result<Answer, NoAnswer> {
        let head_end = loop {
            if let Some(at) = self.buffered.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            self.fill(stream).await?;
        };
        let head = String::from_utf8_lossy(&self.buffered[..head_end]).to_ascii_lowercase();
        let status = head
            .strip_prefix("http/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .ok_or(NoAnswer::Truncated)?;
        let header = |name: &str| {
            head.lines()
                .filter_map(|line| line.split_once(':'))
                .find(|(n, _)| n.trim() == name)
                .map(|(_, v)| v.trim().to_owned())
        };
        let length: usize = header("content-length").map_or(0, |v| v.parse().unwrap_or(0));
        let closes = header("connection").is_some_and(|v| v == "close");
        while self.buffered.len() < head_end + length {
            self.fill(stream).await.map_err(|_| NoAnswer::Truncated)?;
        }
        self.buffered.drain(..head_end + length);
        Ok(Answer { status, closes })
    }

    async fn fill<S: AsyncRead + Unpin>(&mut self, stream: &mut S) -> Result<(), NoAnswer> {
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) if self.buffered.is_empty() => Err(NoAnswer::Closed),
            Ok(0) => Err(NoAnswer::Truncated),
            Ok(n) => {
                self.buffered.extend_from_slice(&chunk[..n]);
                Ok(())
            }
            Err(_) if self.buffered.is_empty() => Err(NoAnswer::Broken),
            Err(_) => Err(NoAnswer::Truncated),
        }
    }
}

/// A keep-alive hook request with the sample body.
fn hook_bytes() -> Vec<u8> {
    let body = serde_json::to_vec(&common::okta_sample()).expect("json");
    let mut bytes = format!(
        "POST {PATH} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\nauthorization: {}\r\ncontent-length: {}\r\n\r\n",
        common::SECRET,
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(&body);
    bytes
}

/// A TLS connection to `server`, with the client's receive buffer as small as the kernel allows
/// when `small_receive_buffer`.
async fn tls_connection(
    server: &common::TestServer,
    small_receive_buffer: bool,
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    if small_receive_buffer {
        socket.set_recv_buffer_size(4096)?;
    }
    let tcp = socket.connect(server.addr).await?;
    let config = common::client_config(
        &server.cert,
        &[&rustls::version::TLS13, &rustls::version::TLS12],
    );
    tokio_rustls::TlsConnector::from(config)
        .connect(
            rustls::pki_types::ServerName::try_from("localhost").expect("name"),
            tcp,
        )
        .await
}

/// One hook request on a new connection, `None` unless it was answered within 2 s.
async fn try_hook(server: &common::TestServer) -> Option<u16> {
    let attempt = async {
        let mut tls = tls_connection(server, false).await.ok()?;
        tls.write_all(&hook_bytes()).await.ok()?;
        Answers::default()
            .next(&mut tls, Duration::from_secs(2))
            .await
            .ok()
            .map(|answer| answer.status)
    };
    tokio::time::timeout(Duration::from_secs(4), attempt)
        .await
        .ok()
        .flatten()
}

/// Polls `condition` every 20 ms for up to `limit`; whether it came true.
async fn eventually(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    condition()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_never_read_are_cut_at_the_write_deadline_and_free_their_slots() {
    let write_timeout = Duration::from_millis(500);
    // A slow reader's own TCP can stall first: its tiny receive buffer overflows, the kernel
    // drops what the server sends, acknowledgements of its requests go with it, and its
    // requests come only at retransmissions seconds apart, while the server's send buffer
    // (megabytes on loopback) still has room. The server then sees a client that stopped
    // sending, not a blocked write: the idle deadline is what cuts it.
    let idle_timeout = Duration::from_secs(1);
    // Every slot must come back within the later deadline plus this. Generous: a debug
    // server on a loaded machine answers thousands of pipelined requests before its writes
    // block.
    let cut_within = write_timeout.max(idle_timeout) + Duration::from_secs(30);
    let layer = ConfigLayer {
        max_connections: Some(4),
        write_timeout_ms: Some(write_timeout.as_millis() as u64),
        idle_timeout_ms: Some(idle_timeout.as_millis() as u64),
        ..ConfigLayer::default()
    };
    let server = common::start(layer, None).await;
    // Every slot taken by a client that pipelines requests with the right secret for as long
    // as the connection takes them and reads nothing. Its answers pile up until the server
    // cannot write, and then stops reading: only the write deadline can end that. (An
    // unauthenticated client's first answer closes its connection, and such a connection
    // gives way to a new one at the cap: see the flood test below.)
    // Cheap to answer (`415`, after authentication, before any body), so answers pile up fast.
    let batch = format!(
        "POST {PATH} HTTP/1.1\r\nhost: localhost\r\nauthorization: {}\r\ncontent-type: text/plain\r\ncontent-length: 0\r\n\r\n",
        common::SECRET
    )
    .repeat(256);
    let mut writers = Vec::new();
    let started = Instant::now();
    for _ in 0..4 {
        let mut tls = tls_connection(&server, true).await.expect("slow client");
        let batch = batch.clone();
        writers.push(tokio::spawn(async move {
            // Never gives up before the server had its chance: a client that closes frees
            // its slot itself, which would hide a connection the server never cut.
            loop {
                if tls.write_all(batch.as_bytes()).await.is_err() {
                    return;
                }
            }
        }));
    }
    // The server must cut them and serve others.
    let mut served = None;
    while served.is_none() && started.elapsed() < cut_within {
        served = try_hook(&server).await;
        if served.is_none() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert_eq!(
        served,
        Some(204),
        "no request was served while the slow readers held every connection"
    );
    // The slow readers are still writing: only the server can have closed their connections.
    let app = server.app.clone();
    let left = cut_within.saturating_sub(started.elapsed());
    let all_closed = eventually(left, || app.metrics().open_connections.get() == 0).await;
    let open = app.metrics().open_connections.get();
    eprintln!(
        "slow readers cut: every slot back: {all_closed} after {:?}",
        started.elapsed()
    );
    for writer in writers {
        writer.abort();
    }
    assert!(
        all_closed,
        "{open} slow reader connection(s) still open {:?} after they started",
        started.elapsed()
    );
    server.stop().await;
}

/// Four clients open TLS connections as fast as they can, pipeline requests to an unknown path
/// and never read, at `max_connections` 16: the first answer closes each of their connections,
/// and at the cap a new connection evicts the oldest one that has not authenticated, so every
/// request of a client with the right secret, each on a new connection, is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_flooding_unauthenticated_connections_cannot_keep_out_one_with_the_secret() {
    let layer = ConfigLayer {
        max_connections: Some(16),
        ..ConfigLayer::default()
    };
    let server = Arc::new(common::start(layer, None).await);
    let batch = "GET /nothing HTTP/1.1\r\nhost: localhost\r\n\r\n".repeat(64);
    let flooding = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let opened = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let attackers: Vec<_> = (0..4)
        .map(|_| {
            let (server, batch) = (server.clone(), batch.clone());
            let (flooding, opened) = (flooding.clone(), opened.clone());
            tokio::spawn(async move {
                // Held open, never read: only the server can close them. The oldest are let
                // go past 256, long after the server has.
                let mut held = std::collections::VecDeque::new();
                while flooding.load(std::sync::atomic::Ordering::Acquire) {
                    let Ok(mut tls) = tls_connection(&server, true).await else {
                        continue;
                    };
                    opened.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                    let _ = tls.write_all(batch.as_bytes()).await;
                    held.push_back(tls);
                    if held.len() > 256 {
                        held.pop_front();
                    }
                }
            })
        })
        .collect();
    // Let the flood fill every slot first.
    let filled = eventually(Duration::from_secs(20), || {
        opened.load(std::sync::atomic::Ordering::Acquire) >= 32
    })
    .await;
    assert!(filled, "the attackers could not open connections");
    let mut failed = Vec::new();
    for attempt in 0..20 {
        let answer = try_hook(&server).await;
        if answer != Some(204) {
            failed.push((attempt, answer));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    flooding.store(false, std::sync::atomic::Ordering::Release);
    let opened = opened.load(std::sync::atomic::Ordering::Acquire);
    let evicted = server.app.metrics().connections_evicted.get();
    for attacker in attackers {
        attacker.abort();
    }
    eprintln!("attackers opened {opened} connections, {evicted} evicted");
    assert!(
        failed.is_empty(),
        "control requests not served (attempt, answer): {failed:?}"
    );
    assert!(
        evicted > 0,
        "the flood never reached the cap ({opened} connections opened)"
    );
}

/// An answer to a request that did not authenticate (unknown path, wrong method, wrong
/// secret) closes its connection: the requests pipelined behind it are never answered.
#[tokio::test]
async fn an_answer_to_an_unauthenticated_request_closes_the_connection() {
    let server = common::start(ConfigLayer::default(), None).await;
    let body = serde_json::to_vec(&common::okta_sample()).expect("json");
    let wrong_secret = {
        let mut bytes = format!(
            "POST {PATH} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\nauthorization: wrong\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        bytes.extend_from_slice(&body);
        bytes
    };
    for (first, status) in [
        (
            b"GET /nothing HTTP/1.1\r\nhost: localhost\r\n\r\n".to_vec(),
            404,
        ),
        (
            format!("GET {PATH} HTTP/1.1\r\nhost: localhost\r\n\r\n").into_bytes(),
            405,
        ),
        (wrong_secret, 401),
    ] {
        let mut tls = tls_connection(&server, false).await.expect("connect");
        let mut bytes = first;
        bytes.extend_from_slice(&hook_bytes());
        tls.write_all(&bytes).await.expect("write");
        let mut answers = Answers::default();
        let answer = answers
            .next(&mut tls, Duration::from_secs(5))
            .await
            .expect("an answer");
        assert_eq!(answer.status, status);
        assert!(answer.closes, "{status} must say Connection: close");
        assert!(
            matches!(
                answers.next(&mut tls, Duration::from_secs(5)).await,
                Err(NoAnswer::Closed | NoAnswer::Broken)
            ),
            "the request pipelined after a {status} was answered"
        );
    }
    // A request with the right secret keeps its connection.
    let mut tls = tls_connection(&server, false).await.expect("connect");
    let mut answers = Answers::default();
    for _ in 0..2 {
        tls.write_all(&hook_bytes()).await.expect("write");
        let answer = answers
            .next(&mut tls, Duration::from_secs(5))
            .await
            .expect("an answer");
        assert_eq!((answer.status, answer.closes), (204, false));
    }
    server.stop().await;
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed_at_the_idle_deadline() {
    // The header deadline is far: only the idle deadline can close the connection in time.
    let layer = ConfigLayer {
        idle_timeout_ms: Some(300),
        header_timeout_ms: Some(60_000),
        ..ConfigLayer::default()
    };
    let server = common::start(layer, None).await;
    let mut tls = server.connect().await;
    let mut answers = Answers::default();
    tls.write_all(&hook_bytes()).await.expect("request");
    let answer = answers
        .next(&mut tls, Duration::from_secs(10))
        .await
        .expect("answered");
    assert_eq!(answer.status, 204);
    assert!(!answer.closes, "kept alive");
    let idle = Instant::now();
    let end = answers.next(&mut tls, Duration::from_secs(10)).await;
    assert!(
        matches!(end, Err(NoAnswer::Closed | NoAnswer::Broken)),
        "expected the idle connection closed, got {end:?}"
    );
    assert!(
        idle.elapsed() >= Duration::from_millis(250),
        "{:?}",
        idle.elapsed()
    );
    server.stop().await;
}

#[tokio::test]
async fn a_connection_past_its_maximum_age_is_closed_after_an_answer() {
    let layer = ConfigLayer {
        max_connection_age_ms: Some(500),
        ..ConfigLayer::default()
    };
    let server = common::start(layer, None).await;
    let mut tls = server.connect().await;
    let mut answers = Answers::default();
    let opened = Instant::now();
    let mut answered = 0;
    loop {
        assert!(
            opened.elapsed() < Duration::from_secs(15),
            "still kept alive after {answered} answers"
        );
        tls.write_all(&hook_bytes()).await.expect("request");
        let answer = answers
            .next(&mut tls, Duration::from_secs(10))
            .await
            .expect("every request sent is answered");
        assert_eq!(answer.status, 204);
        answered += 1;
        if answer.closes {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(opened.elapsed() >= Duration::from_millis(450));
    let end = answers.next(&mut tls, Duration::from_secs(10)).await;
    assert!(
        matches!(end, Err(NoAnswer::Closed)),
        "expected a clean close after `Connection: close`, got {end:?}"
    );
    server.stop().await;
}

/// Sum of `importhook_requests_total` over its labels.
fn requests_answered(app: &importhook::app::App) -> u64 {
    app.metrics()
        .encode()
        .lines()
        .filter(|line| line.starts_with("importhook_requests_total{"))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_answers_every_request_sent_on_busy_keep_alive_connections() {
    const CLIENTS: usize = 16;
    let server = Arc::new(common::start(ConfigLayer::default(), None).await);
    let answered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let request = Arc::new(hook_bytes());
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let mut tls = server.connect().await;
        let (answered, request) = (answered.clone(), request.clone());
        clients.push(tokio::spawn(async move {
            let mut answers = Answers::default();
            // Back to back until the server closes; bounded in any case.
            for _ in 0..1_000_000 {
                if tls.write_all(&request).await.is_err() {
                    return Err("the request could not be sent");
                }
                match answers.next(&mut tls, Duration::from_secs(20)).await {
                    Ok(answer) => {
                        answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if answer.status != 204 {
                            return Err("answered other than 204");
                        }
                        if answer.closes {
                            return Ok(());
                        }
                    }
                    Err(NoAnswer::Closed) => return Err("closed after the request was sent"),
                    Err(NoAnswer::Broken) => return Err("reset after the request was sent"),
                    Err(NoAnswer::Truncated) => return Err("answer cut short"),
                    Err(NoAnswer::Silent) => return Err("no answer within 20 s"),
                }
            }
            Err("never closed")
        }));
    }
    // Every client has been answered a few times: all sixteen are busy.
    let counter = answered.clone();
    assert!(
        eventually(Duration::from_secs(20), || {
            counter.load(std::sync::atomic::Ordering::Relaxed) >= CLIENTS * 10
        })
        .await,
        "the clients never got going"
    );
    server.begin_shutdown();
    let mut endings = Vec::new();
    for client in clients {
        endings.push(
            tokio::time::timeout(Duration::from_secs(30), client)
                .await
                .expect("client finished")
                .expect("client task"),
        );
    }
    let lost: Vec<_> = endings.iter().filter_map(|e| e.err()).collect();
    assert!(lost.is_empty(), "requests lost at shutdown: {lost:?}");
    assert_eq!(
        requests_answered(&server.app),
        answered.load(std::sync::atomic::Ordering::Relaxed) as u64,
        "every request the server answered reached its client"
    );
    Arc::into_inner(server)
        .expect("clients are done")
        .stop()
        .await;
}

#[tokio::test]
async fn a_repeated_content_type_and_unknown_transfer_codings_are_refused() {
    let server = common::start(ConfigLayer::default(), None).await;
    let body = serde_json::to_vec(&common::okta_sample()).expect("json");
    let auth = format!("authorization: {}\r\n", common::SECRET);
    let status_of = |reply: &[u8]| String::from_utf8_lossy(reply).get(..12).map(str::to_owned);

    let twice = format!(
        "POST {PATH} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n{auth}content-type: application/json\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let reply = server.raw(&[twice.as_bytes(), &body].concat()).await;
    assert_eq!(
        status_of(&reply).as_deref(),
        Some("HTTP/1.1 400"),
        "{}",
        String::from_utf8_lossy(&reply)
    );
    assert!(
        String::from_utf8_lossy(&reply)
            .contains(r#"{"error":{"errorSummary":"content type must be given once"}}"#),
        "{}",
        String::from_utf8_lossy(&reply)
    );

    let chunked = [
        format!("{:x}\r\n", body.len()).into_bytes(),
        body.clone(),
        b"\r\n0\r\n\r\n".to_vec(),
    ]
    .concat();
    for coding in ["foo, chunked", "gzip, chunked", "chunked, chunked"] {
        let head = format!(
            "POST {PATH} HTTP/1.1\r\nhost: localhost\r\n{auth}content-type: application/json\r\ntransfer-encoding: {coding}\r\n\r\n"
        );
        let reply = server.raw(&[head.as_bytes(), &chunked].concat()).await;
        let text = String::from_utf8_lossy(&reply);
        assert_eq!(
            status_of(&reply).as_deref(),
            Some("HTTP/1.1 501"),
            "{coding}: {text}"
        );
        assert!(text.contains("errorSummary"), "{coding}: {text}");
        assert!(
            text.to_ascii_lowercase().contains("connection: close"),
            "{coding}: {text}"
        );
    }
    // `chunked` alone is fine.
    let head = format!(
        "POST {PATH} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n{auth}content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    let reply = server.raw(&[head.as_bytes(), &chunked].concat()).await;
    assert_eq!(
        status_of(&reply).as_deref(),
        Some("HTTP/1.1 204"),
        "{}",
        String::from_utf8_lossy(&reply)
    );
    server.stop().await;
}

#[tokio::test]
async fn the_wait_for_a_pipeline_slot_is_measured() {
    let plugins = plugins_folder(&[("10-normalize-login", "normalize-login", "")]);
    let server = common::start(ConfigLayer::default(), Some(plugins.path())).await;
    assert!(
        server
            .hook(&common::okta_sample())
            .await
            .status
            .is_success()
    );
    let (_, metrics) = server.admin_get("/metrics").await;
    assert!(
        metrics.contains("importhook_pipeline_wait_seconds_count 1"),
        "{metrics}"
    );
    server.stop().await;
}
