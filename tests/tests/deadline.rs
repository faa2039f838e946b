//! End to end: the overall request deadline (never answer later than it) and the in-flight
//! bound (excess requests get `503` with `Retry-After` at once).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{okta_sample, plugins_folder, start};
use http::StatusCode;
use importhook::config::ConfigLayer;
use importhook::engine::Services;

const SLOW: &str = "timeout_ms = 2000\non_error = \"skip\"\n[config]\nmode = \"when-asked\"\n";

fn request(fault: &str) -> serde_json::Value {
    let mut request = okta_sample();
    request["data"]["appUser"]["profile"]["fault"] = fault.into();
    request
}

#[tokio::test]
async fn the_request_deadline_cuts_a_slow_pipeline_short_and_passes_through() {
    let plugins = plugins_folder(&[
        ("10-slow", "fault-plugin", SLOW),
        ("20-fault", "fault-plugin", SLOW),
    ]);
    let layer = ConfigLayer {
        request_timeout_ms: Some(400),
        ..ConfigLayer::default()
    };
    let server = start(layer, Some(plugins.path())).await;
    let started = Instant::now();
    let reply = server.hook(&request("loop")).await;
    let elapsed = started.elapsed();
    assert_eq!(
        reply.status,
        StatusCode::NO_CONTENT,
        "pass-through at the deadline"
    );
    assert!(elapsed >= Duration::from_millis(350), "{elapsed:?}");
    assert!(
        elapsed < Duration::from_millis(1_000),
        "answered after the deadline: {elapsed:?}"
    );
    // The plugins' own deadline (2 s) did not apply: the request's came first.
    assert_eq!(server.hook(&request("ok")).await.status, StatusCode::OK);
    server.stop().await;
}

#[tokio::test]
async fn the_request_deadline_can_answer_an_error_instead() {
    let plugins = plugins_folder(&[("10-slow", "fault-plugin", SLOW)]);
    let layer = ConfigLayer {
        request_timeout_ms: Some(300),
        on_timeout: Some("error".into()),
        ..ConfigLayer::default()
    };
    let server = start(layer, Some(plugins.path())).await;
    let started = Instant::now();
    let reply = server.hook(&request("loop")).await;
    assert!(started.elapsed() < Duration::from_millis(1_000));
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json()["error"]["errorSummary"],
        "importhook did not finish within its request deadline"
    );
    server.stop().await;
}

#[tokio::test]
async fn past_the_in_flight_bound_requests_get_503_at_once_and_service_recovers() {
    let manifest = "timeout_ms = 800\non_error = \"skip\"\n[config]\nmode = \"when-asked\"\n";
    let plugins = plugins_folder(&[("10-slow", "fault-plugin", manifest)]);
    let layer = ConfigLayer {
        max_in_flight: Some(1),
        ..ConfigLayer::default()
    };
    let server = Arc::new(start(layer, Some(plugins.path())).await);
    let busy = server.clone();
    let slow = tokio::spawn(async move { busy.hook(&request("loop")).await.status });
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    let body = serde_json::to_vec(&request("ok")).expect("json");
    let mut raw = format!(
        "POST {} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\ncontent-type: application/json\r\nauthorization: {}\r\ncontent-length: {}\r\n\r\n",
        common::PATH,
        common::SECRET,
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(&body);
    let answer = String::from_utf8_lossy(&server.raw(&raw).await).to_ascii_lowercase();
    assert!(answer.starts_with("http/1.1 503"), "{answer}");
    assert!(answer.contains("\r\nretry-after: 1\r\n"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "503 must come at once: {:?}",
        started.elapsed()
    );

    assert_eq!(slow.await.expect("slow"), StatusCode::NO_CONTENT);
    assert_eq!(
        server.hook(&request("ok")).await.status,
        StatusCode::OK,
        "recovered once the slot is free"
    );
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_ten_times_capacity_excess_gets_503_fast_nothing_answers_late_and_memory_stays_flat() {
    let manifest = "timeout_ms = 300\non_error = \"skip\"\n[config]\nmode = \"when-asked\"\n";
    let plugins = plugins_folder(&[("10-slow", "fault-plugin", manifest)]);
    let layer = ConfigLayer {
        max_in_flight: Some(4),
        ..ConfigLayer::default()
    };
    let server = Arc::new(start(layer, Some(plugins.path())).await);

    let burst = |server: Arc<common::TestServer>| async move {
        let mut tasks = Vec::new();
        // One write per request: a client that sends its body after the head may see the
        // early 503 close the connection under its feet (a client-side race of any early answer).
        for _ in 0..40 {
            let server = server.clone();
            tasks.push(tokio::spawn(async move {
                let started = Instant::now();
                let status = StatusCode::from_u16(server.hook_one_write(&request("loop")).await)
                    .expect("an answer");
                (status, started.elapsed())
            }));
        }
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.expect("client"));
        }
        results
    };

    let mut rss_after_first = 0;
    for round in 0..4 {
        let results = burst(server.clone()).await;
        let (shed, admitted): (Vec<_>, Vec<_>) = results
            .iter()
            .partition(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            !shed.is_empty(),
            "round {round}: nothing was shed at 10x capacity"
        );
        assert!(!admitted.is_empty(), "round {round}: nothing was admitted");
        for (status, elapsed) in &admitted {
            assert_eq!(*status, StatusCode::NO_CONTENT, "round {round}");
            assert!(
                *elapsed < Duration::from_millis(2_500),
                "round {round}: admitted request took {elapsed:?}"
            );
        }
        for (_, elapsed) in &shed {
            assert!(
                *elapsed < Duration::from_millis(1_000),
                "round {round}: a 503 took {elapsed:?}"
            );
        }
        assert!(
            results.iter().all(|(_, e)| *e < Duration::from_secs(3)),
            "round {round}: an answer came after 3 s"
        );
        if round == 0 {
            rss_after_first = rss_kib();
        }
    }
    let growth = rss_kib().saturating_sub(rss_after_first);
    assert!(
        growth < 32 * 1024,
        "memory grew by {growth} KiB over three overload rounds"
    );

    // Full recovery.
    for _ in 0..10 {
        assert_eq!(server.hook(&request("ok")).await.status, StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_under_load_answers_every_request_in_flight() {
    // Calls long enough that all twenty are in flight at once even on a loaded machine.
    let manifest = "timeout_ms = 1500\non_error = \"skip\"\n[config]\nmode = \"when-asked\"\n";
    let plugins = plugins_folder(&[("10-slow", "fault-plugin", manifest)]);
    let server = Arc::new(start(ConfigLayer::default(), Some(plugins.path())).await);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let server = server.clone();
        tasks.push(tokio::spawn(async move {
            server.hook(&request("loop")).await.status
        }));
    }
    // Shut down once all twenty are being served.
    let started = Instant::now();
    while server.app.metrics().in_flight.get() < 20 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "requests never got in flight"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.begin_shutdown();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("client"));
    }
    assert!(
        statuses.iter().all(|s| *s == StatusCode::NO_CONTENT),
        "{statuses:?}"
    );
    Arc::into_inner(server)
        .expect("clients are done")
        .stop()
        .await;
}

#[tokio::test]
async fn plugin_sets_share_the_instance_pool_bound_and_wait_for_it_no_longer_than_the_deadline() {
    use importhook::engine::{MAX_CONCURRENT_CALLS, PluginSet, Runtime};
    // An engine of its own: this test fills its bound on purpose.
    let runtime = Runtime::new(
        Some(common::workspace_root().join("target/e2e-cache")),
        false,
    )
    .expect("runtime");
    let manifest = "timeout_ms = 300\non_error = \"skip\"\n[config]\nmode = \"when-asked\"\n";
    let plugins = plugins_folder(&[("10-slow", "fault-plugin", manifest)]);
    // As during a reload: the old and the new set on one engine.
    let old =
        PluginSet::load(runtime.clone(), plugins.path(), &Services::scratch()).expect("old set");
    let new =
        PluginSet::load(runtime.clone(), plugins.path(), &Services::scratch()).expect("new set");
    let parse = |fault: &str| -> std::sync::Arc<importhook::okta::ImportRequest> {
        std::sync::Arc::new(serde_json::from_value(request(fault)).expect("request"))
    };
    let (slow, fast) = (parse("loop"), parse("ok"));

    // Everything but one slot is taken; the old set's slow call takes the last one.
    let mut held = Vec::new();
    for _ in 0..MAX_CONCURRENT_CALLS - 1 {
        held.push(runtime.pipeline_slot().await.expect("slot"));
    }
    let far = Instant::now() + Duration::from_secs(5);
    let (old_run, (new_run, waited)) = tokio::join!(old.run_in_slot(&slow, far), async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = Instant::now();
        let run = new
            .run_in_slot(&fast, started + Duration::from_millis(150))
            .await;
        (run, started.elapsed())
    });
    assert_eq!(
        old_run.reports[0].outcome.as_str(),
        "timeout",
        "the slow call ran"
    );
    assert!(
        new_run.deadline_passed(),
        "the new set ran without room in the pool"
    );
    assert!(new_run.reports.is_empty());
    assert!(waited >= Duration::from_millis(120), "{waited:?}");
    assert!(waited < Duration::from_millis(1_000), "{waited:?}");
    // The run says how long it waited for a slot (the metric's source): all of it.
    assert!(
        new_run.slot_wait >= Duration::from_millis(120) && new_run.slot_wait <= waited,
        "{:?} of {waited:?}",
        new_run.slot_wait
    );

    // Room again: the new set runs.
    held.pop();
    let run = new
        .run_in_slot(&fast, Instant::now() + Duration::from_secs(2))
        .await;
    assert!(!run.deadline_passed());
    assert_eq!(run.reports[0].outcome.as_str(), "ok");
    assert!(
        run.slot_wait < Duration::from_millis(100),
        "{:?}",
        run.slot_wait
    );
}

/// A body of about 256 KB (under the default `max_body_bytes`, 256 KiB) that is nearly all
/// matches: the request whose parsed form costs the most per byte.
fn match_heavy_body() -> Vec<u8> {
    let mut request = okta_sample();
    let matches: Vec<serde_json::Value> = (0..5_300)
        .map(|i| serde_json::json!({"id": format!("00u{i:017}"), "status": "ACTIVE"}))
        .collect();
    request["data"]["context"]["matches"] = matches.into();
    let body = serde_json::to_vec(&request).expect("json");
    assert!(
        (240_000..262_144).contains(&body.len()),
        "body of {} bytes",
        body.len()
    );
    body
}

/// The memory limit of the shipped Kubernetes Deployment, in bytes.
fn deployment_memory_limit() -> u64 {
    let text =
        std::fs::read_to_string(common::workspace_root().join("deploy/kubernetes/deployment.yaml"))
            .expect("deployment.yaml");
    let mib = text
        .split("limits: {memory: ")
        .nth(1)
        .and_then(|rest| rest.split("Mi}").next())
        .and_then(|mib| mib.trim().parse::<u64>().ok())
        .expect("the Deployment's memory limit, in Mi");
    mib << 20
}

/// The resident memory of process `pid`, in bytes.
fn rss_of(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmRSS")
        * 1024
}

/// 256 authenticated connections (`max_in_flight`) each send a 256 KB match-heavy body at
/// once, to a real `importhook serve` process with the shipped plugins and default limits:
/// its resident memory stays under the Deployment's memory limit (the body memory budget lets
/// only so many be read and parsed at once), and every request is answered within Okta's 3 s,
/// served or `503` with `Retry-After`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_bodies_at_max_in_flight_stay_within_the_deployment_memory_limit() {
    use std::io::BufRead as _;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    const CONNECTIONS: usize = 256;
    let limit = deployment_memory_limit();
    let dir = common::TempDir::new("body-memory");
    let cert = common::write_localhost_certificate(dir.path());
    // The shipped plugin set, with its shipped manifests.
    let manifest = |name: &str| {
        std::fs::read_to_string(common::workspace_root().join("plugins.d").join(name))
            .expect("shipped manifest")
    };
    let plugins = plugins_folder(&[
        (
            "10-normalize-login",
            "normalize-login",
            &manifest("10-normalize-login.toml"),
        ),
        (
            "20-link-single-match",
            "link-single-match",
            &manifest("20-link-single-match.toml"),
        ),
        (
            "30-login-middle-name",
            "login-middle-name",
            &manifest("30-login-middle-name.toml"),
        ),
    ]);
    let mut child = common::serve_command(plugins.path(), dir.path())
        .arg("--state-path")
        .arg(dir.path().join("state.redb"))
        .arg("--cache-dir")
        .arg(common::workspace_root().join("target/e2e-cache"))
        .spawn()
        .expect("spawn importhook");
    let pid = child.id();
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let addr = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("the server starts and logs its address");
        if let Some(addr) = common::listen_addr(&line) {
            break addr;
        }
    };
    let body = match_heavy_body();
    let mut request = format!(
        "POST {} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\nauthorization: {}\r\ncontent-length: {}\r\n\r\n",
        common::PATH,
        common::SECRET,
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    let request = Arc::new(request);
    let config = common::client_config(&cert, &[&rustls::version::TLS13]);
    let connect = || async {
        let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        tokio_rustls::TlsConnector::from(config.clone())
            .connect(
                rustls::pki_types::ServerName::try_from("localhost").expect("name"),
                tcp,
            )
            .await
            .expect("tls")
    };
    // Warm up (plugins' first calls, allocator arenas), then note where memory starts.
    for _ in 0..4 {
        let mut tls = connect().await;
        tls.write_all(&request).await.expect("write");
        let mut head = [0u8; 12];
        tls.read_exact(&mut head).await.expect("answer");
    }
    let baseline = rss_of(pid);

    let mut connections = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        connections.push(connect().await);
    }
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(baseline));
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        std::thread::spawn(move || {
            while sampling.load(std::sync::atomic::Ordering::Acquire) {
                peak.fetch_max(rss_of(pid), std::sync::atomic::Ordering::AcqRel);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let start = Arc::new(tokio::sync::Barrier::new(CONNECTIONS));
    let clients: Vec<_> = connections
        .into_iter()
        .map(|mut tls| {
            let (request, start) = (request.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                let sent = Instant::now();
                // An early 503 may close the connection before all of the body is written.
                let _ = tls.write_all(&request).await;
                let mut head = [0u8; 12];
                let status = match tls.read_exact(&mut head).await {
                    Ok(_) => String::from_utf8_lossy(&head[9..12]).into_owned(),
                    Err(e) => format!("no answer: {e}"),
                };
                (status, sent.elapsed())
            })
        })
        .collect();
    let mut statuses = std::collections::BTreeMap::<String, usize>::new();
    let mut slowest = Duration::ZERO;
    for client in clients {
        let (status, took) = client.await.expect("client");
        *statuses.entry(status).or_default() += 1;
        slowest = slowest.max(took);
    }
    sampling.store(false, std::sync::atomic::Ordering::Release);
    sampler.join().expect("sampler");
    let peak = peak.load(std::sync::atomic::Ordering::Acquire);
    eprintln!(
        "answers {statuses:?}, slowest {slowest:?}; RSS baseline {} MiB, peak {} MiB, limit {} MiB",
        baseline >> 20,
        peak >> 20,
        limit >> 20
    );
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        statuses
            .keys()
            .all(|s| ["200", "204", "503"].contains(&s.as_str())),
        "every request is answered, served or shed: {statuses:?}"
    );
    assert!(
        statuses.get("204").or(statuses.get("200")).is_some(),
        "some were served: {statuses:?}"
    );
    assert!(
        slowest < Duration::from_secs(3),
        "an answer took {slowest:?}, past Okta's 3 s"
    );
    assert!(
        peak < limit,
        "resident memory reached {} MiB, past the Deployment's {} MiB",
        peak >> 20,
        limit >> 20
    );
    // The burst adds no more than the body memory account (the default, 96 MiB) it is held to.
    assert!(
        peak - baseline < importhook::body_memory::DEFAULT_MIB << 20,
        "the burst added {} MiB",
        (peak - baseline) >> 20
    );
}
