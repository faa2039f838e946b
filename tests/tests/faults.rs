//! End to end: misbehaving plugins (endless loop, sleep in a WASI call, memory bomb, trap,
//! panic, error, invalid output) cost one plugin call, under `skip` and under `fail`, and never
//! the process or another request: in both isolation modes (a fresh instance per call, and a
//! warm instance), and for both kinds of plugin (the SDK's WASI-free build, and a component
//! that imports WASI).

mod common;

use std::time::{Duration, Instant};

use common::{okta_sample, plugins_folder, start};
use http::StatusCode;
use importhook::config::ConfigLayer;

/// The fault plugin's builds and the isolation modes every fault test runs in.
const VARIANTS: [(&str, &str); 4] = [
    ("fault-plugin", "per-call"),
    ("fault-plugin", "warm"),
    ("fault-plugin@wasip2", "per-call"),
    ("fault-plugin@wasip2", "warm"),
];

const FAULTS: [(&str, &str); 18] = [
    ("loop", "timeout"),
    ("sleep", "timeout"),
    ("memory", "memory_exceeded"),
    ("trap", "trap"),
    // Bounds and stack checks are in the compiled code (no guard pages): both still trap.
    ("out-of-bounds", "trap"),
    ("stack-overflow", "trap"),
    ("panic", "panic"),
    ("error", "plugin_error"),
    ("empty-link", "invalid_output"),
    ("huge-value", "invalid_output"),
    ("bad-json", "invalid_output"),
    // States no plugin may leave, whatever it is: the host's guards.
    ("empty-login", "invalid_output"),
    ("null-login", "invalid_output"),
    ("rename-and-link", "invalid_output"),
    // Logins Okta would refuse (control characters, a bidi override, 10 KB, not an email
    // address where the org requires one): refused before they reach Okta.
    ("control-login", "invalid_output"),
    ("bidi-login", "invalid_output"),
    ("long-login", "invalid_output"),
    ("not-email-login", "invalid_output"),
];

fn manifest(on_error: &str, timeout_ms: u64, instance: &str) -> String {
    format!(
        "timeout_ms = {timeout_ms}\nmemory_mib = 16\non_error = \"{on_error}\"\ninstance = \"{instance}\"\n[config]\nmode = \"when-asked\"\n"
    )
}

/// The faults a build can show: waiting in a WASI call needs WASI (without it, `sleep` is a
/// panic of Rust's std).
fn faults(build: &str) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
    FAULTS
        .into_iter()
        .filter(move |(fault, _)| *fault != "sleep" || build.ends_with("@wasip2"))
}

fn request(fault: &str) -> serde_json::Value {
    let mut request = okta_sample();
    request["data"]["appUser"]["profile"]["fault"] = fault.into();
    request["data"]["appUser"]["profile"]["middleName"] = "Elizabeth".into();
    request
}

#[tokio::test]
async fn under_skip_a_failing_plugin_is_dropped_and_the_others_still_apply() {
    for (build, instance) in VARIANTS {
        under_skip(build, instance).await;
    }
}

async fn under_skip(build: &str, instance: &str) {
    let manifest = manifest("skip", 1_000, instance);
    let plugins = plugins_folder(&[
        ("10-fault", build, &manifest),
        (
            "20-login-middle-name",
            "login-middle-name",
            "grants = [\"directory\"]\n",
        ),
    ]);
    let server = start(ConfigLayer::default(), Some(plugins.path())).await;
    for (fault, kind) in faults(build) {
        let case = format!("{fault} ({build}, {instance})");
        let started = Instant::now();
        let reply = server.hook(&request(fault)).await;
        let elapsed = started.elapsed();
        assert_eq!(reply.status, StatusCode::OK, "{case}");
        let body = reply.json();
        assert_eq!(
            body["commands"].as_array().map(Vec::len),
            Some(1),
            "{case}: {body}"
        );
        assert_eq!(
            body["commands"][0]["value"]["login"], "sally.elizabeth.admin@clouditude.net",
            "{case}"
        );
        assert_eq!(
            body["debugContext"]["plugins"][0]["outcome"], kind,
            "{case}: {body}"
        );
        assert_eq!(
            body["debugContext"]["plugins"][1]["outcome"], "ok",
            "{case}"
        );
        assert!(elapsed < Duration::from_secs(2), "{case} took {elapsed:?}");
    }
    // The service is intact: 100 more requests, all served, with the fault plugin's own
    // contribution back (it ran and set `touchedBy`).
    for _ in 0..100 {
        let reply = server.hook(&request("ok")).await;
        assert_eq!(reply.status, StatusCode::OK);
        let body = reply.json();
        assert_eq!(
            body["commands"][0]["value"]["touchedBy"], "fault-plugin",
            "{body}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn under_fail_the_answer_names_the_plugin_and_the_failure_and_nothing_personal() {
    for (build, instance) in VARIANTS {
        under_fail(build, instance).await;
    }
}

async fn under_fail(build: &str, instance: &str) {
    let manifest = manifest("fail", 1_000, instance);
    let plugins = plugins_folder(&[
        ("10-fault", build, &manifest),
        (
            "20-login-middle-name",
            "login-middle-name",
            "grants = [\"directory\"]\n",
        ),
    ]);
    let server = start(ConfigLayer::default(), Some(plugins.path())).await;
    for (fault, kind) in faults(build) {
        let case = format!("{fault} ({build}, {instance})");
        let reply = server.hook(&request(fault)).await;
        assert_eq!(reply.status, StatusCode::OK, "{case}");
        let body = reply.json();
        assert!(
            body.get("commands").is_none(),
            "{case}: a failed pipeline sends no command: {body}"
        );
        let error = &body["error"];
        assert_eq!(
            error["errorSummary"],
            format!("importhook plugin 10-fault failed: {kind}"),
            "{case}"
        );
        // Okta reads a cause's location as a JSON path of its request; the plugin is named
        // in the summary and in debugContext.
        assert_eq!(error["errorCauses"][0]["locationType"], "body");
        assert_eq!(error["errorCauses"][0]["location"], "data");
        assert_eq!(body["debugContext"]["plugins"][0]["name"], "10-fault");
        let text = body.to_string();
        for personal in [
            "sally",
            "Sally",
            "Elizabeth",
            "clouditude",
            "administrator2",
            "user221",
        ] {
            assert!(
                !text.contains(personal),
                "{case}: personal data {personal:?} in {text}"
            );
        }
    }
    for _ in 0..100 {
        assert_eq!(server.hook(&request("ok")).await.status, StatusCode::OK);
    }
    server.stop().await;
}

/// `login_format = "any"` (the org's login pattern allows any value): a login that is not an
/// email address goes to Okta; control characters and overlong logins are still refused.
#[tokio::test]
async fn with_login_format_any_a_plain_login_goes_out_and_the_rest_is_still_refused() {
    let manifest = manifest("skip", 1_000, "per-call");
    // The fault plugin runs last, so its login is the one Okta would get.
    let plugins = plugins_folder(&[
        (
            "10-login-middle-name",
            "login-middle-name",
            "grants = [\"directory\"]\n",
        ),
        ("20-fault", "fault-plugin", &manifest),
    ]);
    let layer = ConfigLayer {
        login_format: Some("any".into()),
        ..ConfigLayer::default()
    };
    let server = start(layer, Some(plugins.path())).await;
    let body = server.hook(&request("not-email-login")).await.json();
    assert_eq!(body["commands"][0]["value"]["login"], "joe.smith", "{body}");
    assert_eq!(
        body["debugContext"]["plugins"][1]["outcome"], "ok",
        "{body}"
    );
    for fault in ["control-login", "bidi-login", "long-login"] {
        let body = server.hook(&request(fault)).await.json();
        assert_eq!(
            body["debugContext"]["plugins"][1]["outcome"], "invalid_output",
            "{fault}: {body}"
        );
        assert_eq!(
            body["commands"][0]["value"]["login"], "sally.elizabeth.admin@clouditude.net",
            "{fault}: the plugin before it still applies"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn a_slow_plugin_on_one_request_does_not_delay_a_concurrent_fast_one() {
    let manifest = manifest("skip", 1_500, "per-call");
    let plugins = plugins_folder(&[("10-fault", "fault-plugin", &manifest)]);
    let server = std::sync::Arc::new(start(ConfigLayer::default(), Some(plugins.path())).await);
    // Baseline latency of a fast request.
    let started = Instant::now();
    for _ in 0..5 {
        assert_eq!(server.hook(&request("ok")).await.status, StatusCode::OK);
    }
    let baseline = started.elapsed() / 5;

    let slow_server = server.clone();
    let slow = tokio::spawn(async move {
        let started = Instant::now();
        let reply = slow_server.hook(&request("loop")).await;
        (reply.status, started.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut worst = Duration::ZERO;
    for _ in 0..10 {
        let started = Instant::now();
        assert_eq!(server.hook(&request("ok")).await.status, StatusCode::OK);
        worst = worst.max(started.elapsed());
    }
    let (status, slow_elapsed) = slow.await.expect("slow request");
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "the looping plugin is skipped and changes nothing"
    );
    assert!(
        slow_elapsed >= Duration::from_millis(1_400),
        "the slow call ran to its deadline: {slow_elapsed:?}"
    );
    assert!(
        worst < baseline + Duration::from_millis(500),
        "fast requests were held up by the slow one: worst {worst:?}, baseline {baseline:?}"
    );
}

#[tokio::test]
async fn no_state_survives_from_one_user_to_the_next() {
    let manifest = "timeout_ms = 1000\n[config]\nmode = \"counter\"\n";
    let plugins = plugins_folder(&[("10-counter", "fault-plugin", manifest)]);
    let server = start(ConfigLayer::default(), Some(plugins.path())).await;
    for _ in 0..20 {
        let reply = server.hook(&okta_sample()).await;
        assert_eq!(
            reply.json()["commands"][0]["value"]["callsSeen"],
            1,
            "a static kept its value between calls"
        );
    }
    server.stop().await;
}

/// Memory a call frees is reused within the call, whatever the SDK's allocator does for a
/// fresh instance: 64 MiB allocated and freed in one call of a plugin capped at 16 MiB
/// succeeds, in every build and isolation mode, call after call.
#[tokio::test]
async fn a_call_that_frees_as_it_goes_stays_within_its_memory_cap() {
    for (build, instance) in VARIANTS {
        let manifest = manifest("fail", 2_000, instance);
        let plugins = plugins_folder(&[("10-churn", build, &manifest)]);
        let server = start(ConfigLayer::default(), Some(plugins.path())).await;
        for call in 0..3 {
            let reply = server.hook(&request("churn")).await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "{build} {instance} call {call}"
            );
            assert_eq!(
                reply.json()["commands"][0]["value"]["churned"],
                64,
                "{build} {instance} call {call}"
            );
        }
        server.stop().await;
    }
}

/// A warm instance waiting idle between calls does not keep the epoch ticker awake (it runs
/// no wasm), and one taken up again for a call ticks: a loop in it still times out.
#[tokio::test]
async fn an_idle_warm_instance_lets_the_epoch_ticker_sleep_and_a_reused_one_still_times_out() {
    // An engine of its own: the test binary's shared one serves other tests' calls meanwhile.
    let runtime = importhook::engine::Runtime::new(
        Some(common::workspace_root().join("target/e2e-cache")),
        false,
    )
    .expect("runtime");
    let manifest = "instance = \"warm\"\nmax_calls = 100\ntimeout_ms = 1000\n[config]\nmode = \"when-asked\"\n";
    let plugins = plugins_folder(&[("10-counter", "fault-plugin", manifest)]);
    let server = common::start_with(
        ConfigLayer::default(),
        Some(plugins.path()),
        runtime.clone(),
    )
    .await;
    // The load's checks ran in stores of their own, dropped since.
    assert_eq!(runtime.epoch_guards(), 0, "before any call");
    for call in 1..=3 {
        let reply = server.hook(&request("counter")).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.json()["commands"][0]["value"]["callsSeen"], call);
        // Put aside before the answer went out: idle, without a guard.
        assert_eq!(runtime.epoch_guards(), 0, "idle after call {call}");
    }
    // The same instance, taken up again, loops: only the ticking epoch can stop it (were the
    // reused instance not ticking, the call would spin on and this test would hang).
    let started = Instant::now();
    let reply = server.hook(&request("loop")).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the loop was cut at its deadline"
    );
    let reply = server.hook(&request("counter")).await;
    assert_eq!(
        reply.json()["commands"][0]["value"]["callsSeen"],
        1,
        "a fresh instance"
    );
    assert_eq!(runtime.epoch_guards(), 0, "idle at the end");
    server.stop().await;
}

/// A warm instance keeps its statics from call to call; any failure, `max_calls` and a reload
/// replace it.
#[tokio::test]
async fn a_warm_instance_keeps_its_state_until_it_fails_or_reaches_max_calls() {
    let manifest =
        "instance = \"warm\"\nmax_calls = 5\ntimeout_ms = 1000\n[config]\nmode = \"when-asked\"\n";
    let plugins = plugins_folder(&[("10-counter", "fault-plugin", manifest)]);
    let server = start(ConfigLayer::default(), Some(plugins.path())).await;
    let mut seen = Vec::new();
    let counter = request("counter");
    let calls_seen = async |seen: &mut Vec<i64>| {
        let reply = server.hook(&counter).await;
        let body = reply.json();
        seen.push(
            body["commands"][0]["value"]["callsSeen"]
                .as_i64()
                .unwrap_or(-1),
        );
    };
    for _ in 0..3 {
        calls_seen(&mut seen).await;
    }
    // Each failure kind discards the instance: the next call starts from a fresh one.
    for fault in ["trap", "loop", "error", "panic", "memory", "empty-link"] {
        let reply = server.hook(&request(fault)).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{fault}");
        calls_seen(&mut seen).await;
    }
    // Two more on the last fresh instance, then `max_calls` (5) replaces it.
    for _ in 0..6 {
        calls_seen(&mut seen).await;
    }
    assert_eq!(
        seen,
        [1, 2, 3, 1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 1, 2],
        "calls seen by successive warm calls"
    );
    server.stop().await;
}
