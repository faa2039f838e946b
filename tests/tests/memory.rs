//! End to end: a storm of memory-bombing plugin calls is held to the plugin memory budget (the
//! calls past it fail as `overloaded`, under their plugin's `on_error`), the process's resident
//! memory stays near the budget, and every byte comes back after the burst. A test binary of
//! its own: resident memory is sampled for the whole process, so its tests run one at a time.
//! The budget is shared fairly: an innocent call waiting for memory in a storm gets it before
//! the bombs grow further, so every innocent call is served.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::{okta_sample, plugins_folder, rss, start_with};
use http::StatusCode;
use importhook::config::ConfigLayer;
use importhook::engine::Runtime;

/// One test at a time: each samples the whole process's memory or fills the budget.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const MIB: u64 = 1 << 20;
const BUDGET_MIB: u64 = 96;

fn request(fault: &str) -> serde_json::Value {
    let mut request = okta_sample();
    request["data"]["appUser"]["profile"]["fault"] = fault.into();
    request["data"]["appUser"]["profile"]["middleName"] = "Elizabeth".into();
    request
}

/// The harness's compile cache, plugin memory held to [`BUDGET_MIB`].
fn budgeted_runtime() -> std::sync::Arc<Runtime> {
    Runtime::with_memory_budget(
        Some(common::workspace_root().join("target/e2e-cache")),
        false,
        (BUDGET_MIB * MIB) as usize,
    )
    .expect("runtime")
}

/// The memory the runtime still holds once a storm's calls are over. An answer may go out a
/// moment before its request's large memories are torn down (off the workers, on a loaded
/// machine), so this waits for up to a plugin deadline (2 s) for it to reach zero.
async fn reserved_after_teardown(runtime: &Runtime) -> usize {
    let given_back_by = std::time::Instant::now() + Duration::from_secs(2);
    loop {
        let (reserved, _) = runtime.memory_reserved();
        if reserved == 0 || std::time::Instant::now() > given_back_by {
            return reserved;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_storm_is_held_to_the_budget_and_given_back() {
    let _serial = SERIAL.lock().await;
    let runtime = budgeted_runtime();
    let manifest = "memory_mib = 32\ntimeout_ms = 2000\n[config]\nmode = \"when-asked\"\n";
    let plugins = plugins_folder(&[
        ("10-fault", "fault-plugin", manifest),
        // An innocent plugin waits for budget to start in, up to its own deadline.
        (
            "20-login-middle-name",
            "login-middle-name",
            "grants = [\"directory\"]\n",
        ),
    ]);
    // 64 calls filling memory on two workers of a debug build take their time: the request
    // deadline is not what this test is about.
    let layer = ConfigLayer {
        request_timeout_ms: Some(20_000),
        ..ConfigLayer::default()
    };
    let server = Arc::new(start_with(layer, Some(plugins.path()), runtime.clone()).await);
    for _ in 0..5 {
        assert_eq!(server.hook(&request("ok")).await.status, StatusCode::OK);
    }
    let baseline = rss();

    // Sample resident memory while 64 calls each try to grow to their 32 MiB cap (2 GiB in all
    // without a budget).
    let peak = Arc::new(AtomicU64::new(baseline));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        std::thread::spawn(move || {
            while sampling.load(Ordering::Acquire) {
                peak.fetch_max(rss(), Ordering::AcqRel);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let storm: Vec<_> = (0..64)
        .map(|_| {
            let server = server.clone();
            tokio::spawn(async move { server.hook(&request("memory")).await })
        })
        .collect();
    // Every request is answered; the plugins that could not get memory failed as
    // `overloaded` under their `on_error` (skip): the answer is the other plugins' work.
    let (mut outcomes, mut innocent_ok) = (Vec::new(), 0);
    for call in storm {
        let reply = call.await.expect("storm request");
        match reply.status {
            StatusCode::OK => {
                let body = reply.json();
                let plugins = &body["debugContext"]["plugins"];
                outcomes.push(plugins[0]["outcome"].as_str().unwrap_or("?").to_owned());
                assert_eq!(plugins[1]["outcome"], "ok", "{body}");
                assert_eq!(
                    body["commands"][0]["value"]["login"], "sally.elizabeth.admin@clouditude.net",
                    "{body}"
                );
                innocent_ok += 1;
            }
            // Both plugins skipped (the second one overloaded too): Okta goes on as planned.
            StatusCode::NO_CONTENT => outcomes.push("both skipped".to_owned()),
            other => panic!("a storm request got {other}"),
        }
    }
    sampling.store(false, Ordering::Release);
    sampler.join().expect("sampler");

    assert!(
        outcomes
            .iter()
            .all(|o| ["memory_exceeded", "overloaded", "both skipped"].contains(&o.as_str())),
        "{outcomes:?}"
    );
    assert!(innocent_ok > 0, "no request got the other plugin's work");
    assert!(
        outcomes.iter().any(|o| o == "overloaded"),
        "64 calls of 32 MiB never met a 96 MiB budget: {outcomes:?}"
    );
    let grew = peak.load(Ordering::Acquire).saturating_sub(baseline);
    // Plugin memory is held to the budget; the rest is this process's own (64 TLS clients and
    // their server connections, the pool's bookkeeping, allocator slack). Without a budget
    // the storm reaches 64 x 32 MiB.
    assert!(
        grew < (2 * BUDGET_MIB + 64) * MIB,
        "resident memory grew {} MiB with a {BUDGET_MIB} MiB budget",
        grew / MIB
    );
    // Every reservation is given back once the calls are over.
    let reserved = reserved_after_teardown(&runtime).await;
    assert_eq!(reserved, 0, "memory still reserved 2 s after the storm");
    // ... and the pool keeps only a bounded part of it resident: what each memory slot used
    // during the storm last touched, up to 2 MiB a slot (64 pipelines at once).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = rss().saturating_sub(baseline);
    eprintln!(
        "baseline {} MiB, grew {} MiB, after {} MiB",
        baseline / MIB,
        grew / MIB,
        after / MIB
    );
    assert!(
        after < (64 * 2 + 16) * MIB,
        "{} MiB stayed resident after the storm",
        after / MIB
    );
    // The service is intact.
    assert_eq!(server.hook(&request("ok")).await.status, StatusCode::OK);
}

/// 64 calls bombing memory, each followed in its request by an innocent plugin: every
/// innocent call gets the memory it needs to start and to grow (it waits; the bombs past their
/// fair share are refused while it does), so every request carries the innocent plugin's work.
/// Three storms in a row, so a lucky interleaving cannot pass it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_memory_storm_every_innocent_call_is_served() {
    let _serial = SERIAL.lock().await;
    let runtime = budgeted_runtime();
    let bomb = "memory_mib = 32\ntimeout_ms = 2000\n[config]\nmode = \"when-asked\"\n";
    // Its deadline is not what this test is about: 64 bombs on two workers of a debug build
    // take their time, and the innocent call must not fail for want of CPU either.
    let innocent = "grants = [\"directory\"]\ntimeout_ms = 2000\n";
    let plugins = plugins_folder(&[
        ("10-fault", "fault-plugin", bomb),
        ("20-login-middle-name", "login-middle-name", innocent),
    ]);
    let layer = ConfigLayer {
        request_timeout_ms: Some(30_000),
        ..ConfigLayer::default()
    };
    let server = Arc::new(start_with(layer, Some(plugins.path()), runtime.clone()).await);
    for round in 0..3 {
        let storm: Vec<_> = (0..64)
            .map(|_| {
                let server = server.clone();
                tokio::spawn(async move { server.hook(&request("memory")).await })
            })
            .collect();
        let mut bombs = Vec::new();
        for call in storm {
            let reply = call.await.expect("storm request");
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "round {round}: {:?}",
                reply.body
            );
            let body = reply.json();
            let plugins = &body["debugContext"]["plugins"];
            assert_eq!(
                plugins[1]["outcome"], "ok",
                "round {round}: the innocent call was not served: {body}"
            );
            assert_eq!(
                body["commands"][0]["value"]["login"], "sally.elizabeth.admin@clouditude.net",
                "round {round}: {body}"
            );
            bombs.push(plugins[0]["outcome"].as_str().unwrap_or("?").to_owned());
        }
        assert!(
            bombs
                .iter()
                .all(|o| o == "overloaded" || o == "memory_exceeded"),
            "round {round}: {bombs:?}"
        );
        assert!(
            bombs.iter().any(|o| o == "overloaded"),
            "round {round}: 64 bombs of 32 MiB never met a {BUDGET_MIB} MiB budget"
        );
        let reserved = reserved_after_teardown(&runtime).await;
        assert_eq!(
            reserved, 0,
            "round {round}: memory still reserved 2 s after the storm"
        );
    }
}
