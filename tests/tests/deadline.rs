//! End to end: the overall request deadline (never answer later than it) and the in-flight
//! bound (excess requests get `503` with `Retry-After` at once).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{okta_sample, plugins_folder, start};
use http::StatusCode;
use importhook::config::ConfigLayer;

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
    let reply = server.hook(&request("ok")).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        reply.headers.get("retry-after").map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
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
