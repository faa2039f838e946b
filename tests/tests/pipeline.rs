//! End to end: Okta's samples through the real example strategies built for wasm32-unknown-unknown,
//! over TLS, and the merge rules between plugins.

mod common;

use common::{okta_sample, plugins_folder, start};
use http::StatusCode;
use importhook::config::ConfigLayer;
use serde_json::json;

const NORMALIZE: (&str, &str, &str) = ("10-normalize-login", "normalize-login", "");
// The shipped order (plugins.d): normalize, link, rename.
const LINK: (&str, &str, &str) = ("20-link-single-match", "link-single-match", "");
const MIDDLE: (&str, &str, &str) = (
    "30-login-middle-name",
    "login-middle-name",
    "grants = [\"directory\"]\n",
);

fn commands(reply: &common::Reply) -> serde_json::Value {
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.json()["commands"].clone()
}

#[tokio::test]
async fn the_three_example_strategies_resolve_a_login_conflict() {
    let plugins = plugins_folder(&[NORMALIZE, LINK, MIDDLE]);
    let server = start(ConfigLayer::default(), Some(plugins.path())).await;

    // Okta's reference request, with the middle name the guide's CSV would carry.
    let mut request = okta_sample();
    request["data"]["appUser"]["profile"]["middleName"] = "Elizabeth".into();
    let reply = server.hook(&request).await;
    assert_eq!(
        commands(&reply),
        json!([{"type": "com.okta.user.profile.update", "value": {"login": "sally.elizabeth.admin@clouditude.net"}}])
    );
    let debug = &reply.json()["debugContext"]["plugins"];
    assert_eq!(debug.as_array().map(Vec::len), Some(3));
    assert_eq!(debug[2]["name"], "30-login-middle-name");
    assert_eq!(debug[2]["outcome"], "ok");
    assert!(
        debug[2].get("micros").is_none(),
        "no timing by default: answers stay deterministic"
    );

    // Without a middle name and without a match, nothing changes: 204.
    let reply = server.hook(&okta_sample()).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);

    // The admin listener counts both requests and every plugin call, with no profile value.
    let (status, metrics) = server.admin_get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    for needle in [
        "importhook_requests_total{status=\"200\",outcome=\"changed\",auth=\"header\"} 1",
        "importhook_requests_total{status=\"204\",outcome=\"no_change\",auth=\"header\"} 1",
        "importhook_plugin_calls_total{plugin=\"30-login-middle-name\",outcome=\"ok\"} 2",
        "importhook_plugin_call_duration_seconds_count{plugin=\"10-normalize-login\"} 2",
        "importhook_in_flight_requests 0",
    ] {
        assert!(metrics.contains(needle), "{needle} missing:\n{metrics}");
    }
    for personal in ["sally", "Elizabeth", "clouditude"] {
        assert!(!metrics.contains(personal), "{personal} in metrics");
    }
    server.stop().await;
}

#[tokio::test]
async fn later_plugins_see_earlier_changes_and_only_the_net_diff_is_sent() {
    // normalize runs first, so middle-name infixes into the normalized login, the middle name
    // normalized the same way (no accent comes back); the email is normalized too.
    let plugins = plugins_folder(&[NORMALIZE, MIDDLE]);
    let server = start(ConfigLayer::default(), Some(plugins.path())).await;
    let mut request = okta_sample();
    request["data"]["appUser"]["profile"]["middleName"] = "Élodie".into();
    request["data"]["user"]["profile"]["login"] = " Sally.Admin@Clouditude.NET ".into();
    request["data"]["user"]["profile"]["email"] = "SALLY.admin@clouditude.net".into();
    let reply = server.hook(&request).await;
    assert_eq!(
        commands(&reply),
        json!([{"type": "com.okta.user.profile.update", "value": {
            "login": "sally.elodie.admin@clouditude.net",
            "email": "sally.admin@clouditude.net"
        }}])
    );
    server.stop().await;

    // Reversed order: middle-name runs on the raw login, then normalize folds the result.
    // Later values win, and the answer is the same.
    let reversed = plugins_folder(&[
        (
            "10-login-middle-name",
            "login-middle-name",
            "grants = [\"directory\"]\n",
        ),
        ("20-normalize-login", "normalize-login", ""),
    ]);
    let server = start(ConfigLayer::default(), Some(reversed.path())).await;
    let reply = server.hook(&request).await;
    assert_eq!(
        commands(&reply)[0]["value"]["login"],
        "sally.elodie.admin@clouditude.net"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_single_match_links_with_both_commands_and_several_matches_do_not() {
    let plugins = plugins_folder(&[LINK]);
    let server = start(ConfigLayer::default(), Some(plugins.path())).await;
    let mut request = okta_sample();
    request["data"]["context"]["matches"] = json!([{"id": "00uabc123", "profile": {}}]);
    let reply = server.hook(&request).await;
    assert_eq!(
        commands(&reply),
        json!([
            {"type": "com.okta.action.update", "value": {"result": "LINK_USER"}},
            {"type": "com.okta.user.update", "value": {"id": "00uabc123"}}
        ])
    );

    request["data"]["context"]["matches"] = json!(["00u1", "00u2"]);
    assert_eq!(server.hook(&request).await.status, StatusCode::NO_CONTENT);

    // Okta already links to the single match: the action does not change, nothing is sent.
    request["data"]["context"]["matches"] = json!(["00u1"]);
    request["data"]["action"]["result"] = "LINK_USER".into();
    request["data"]["user"]["id"] = "00u1".into();
    assert_eq!(server.hook(&request).await.status, StatusCode::NO_CONTENT);
    server.stop().await;
}

#[tokio::test]
async fn plugin_configuration_comes_from_the_manifest() {
    let manifest = "grants = [\"directory\"]\n[config]\nmiddle_name_attribute = \"nickName\"\n";
    let plugins = plugins_folder(&[("20-login-middle-name", "login-middle-name", manifest)]);
    let server = start(ConfigLayer::default(), Some(plugins.path())).await;
    let mut request = okta_sample();
    request["data"]["appUser"]["profile"]["nickName"] = "Sal".into();
    request["data"]["appUser"]["profile"]["middleName"] = "Elizabeth".into();
    let reply = server.hook(&request).await;
    assert_eq!(
        commands(&reply)[0]["value"]["login"],
        "sally.sal.admin@clouditude.net"
    );
    server.stop().await;
}

#[tokio::test]
async fn every_okta_request_sample_goes_through_the_full_pipeline() {
    let plugins = plugins_folder(&[NORMALIZE, LINK, MIDDLE]);
    let server = start(ConfigLayer::default(), Some(plugins.path())).await;
    let dir = common::workspace_root().join("host/tests/okta-samples");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).expect("samples") {
        let path = entry.expect("entry").path();
        if !path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("request-"))
        {
            continue;
        }
        let mut request: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        request["data"]["appUser"]["profile"]["middleName"] = "Q".into();
        let reply = server.hook(&request).await;
        let login = commands(&reply)[0]["value"]["login"]
            .as_str()
            .expect("login")
            .to_owned();
        assert!(
            login.starts_with("sally.q.admin@"),
            "{}: {login}",
            path.display()
        );
        seen += 1;
    }
    assert_eq!(seen, 2);
    server.stop().await;
}

#[tokio::test]
async fn the_same_request_gets_a_byte_identical_answer_unless_timings_are_asked_for() {
    let plugins = plugins_folder(&[NORMALIZE, LINK, MIDDLE]);
    let mut request = okta_sample();
    request["data"]["appUser"]["profile"]["middleName"] = "Elizabeth".into();
    request["data"]["context"]["matches"] = json!(["00u1"]);

    let server = start(ConfigLayer::default(), Some(plugins.path())).await;
    let first = server.hook(&request).await.body;
    for _ in 0..20 {
        assert_eq!(
            server.hook(&request).await.body,
            first,
            "answers differ for the same request"
        );
    }
    server.stop().await;

    let layer = ConfigLayer {
        debug_timings: Some(true),
        ..ConfigLayer::default()
    };
    let server = start(layer, Some(plugins.path())).await;
    let reply = server.hook(&request).await;
    assert!(
        reply.json()["debugContext"]["plugins"][0]["micros"].is_u64(),
        "{:?}",
        reply.body
    );
    server.stop().await;
}

#[tokio::test]
async fn a_strategy_sees_which_attributes_earlier_strategies_changed() {
    let changed = (
        "20-changed",
        "fault-plugin",
        "[config]\nmode = \"changed\"\n",
    );
    let plugins = plugins_folder(&[NORMALIZE, changed]);
    let server = start(ConfigLayer::default(), Some(plugins.path())).await;
    let mut request = okta_sample();
    request["data"]["user"]["profile"]["login"] = " Sally.Admin@Clouditude.NET ".into();
    request["data"]["user"]["profile"]["email"] = "sally.admin@clouditude.net".into();
    let reply = server.hook(&request).await;
    let app_user = commands(&reply)
        .as_array()
        .and_then(|c| {
            c.iter()
                .find(|c| c["type"] == "com.okta.appUser.profile.update")
                .cloned()
        })
        .expect("an app user update");
    // normalize-login changed the login; the email was already normal.
    assert_eq!(app_user["value"]["changedBefore"], json!(["login"]));
    server.stop().await;
}

/// A plugin built against an earlier patch of the contract (`importhook:plugin@0.2.0`, the
/// login-middle-name example as the SDK of commit 3aac964 built it) runs unchanged on this host
/// and answers what the current build answers: additions to 0.2 (state) break nobody.
#[tokio::test]
async fn a_plugin_built_against_an_earlier_0_2_patch_runs_unchanged() {
    let old = common::TempDir::new("wit-0.2.0");
    std::fs::copy(
        common::workspace_root().join("tests/fixtures/login-middle-name-wit-0.2.0.wasm"),
        old.path().join("30-middle.wasm"),
    )
    .expect("copy fixture");
    // Today's build also asks the directory (no org here: `unknown`), which it must be granted.
    let current = plugins_folder(&[(
        "30-middle",
        "login-middle-name",
        "grants = [\"directory\"]\n",
    )]);
    let mut request = okta_sample();
    request["data"]["appUser"]["profile"]["middleName"] = json!("Elizabeth");
    let mut answers = Vec::new();
    for folder in [old.path(), current.path()] {
        let server = start(ConfigLayer::default(), Some(folder)).await;
        let version = server.app.plugins().plugins()[0].interface_version.clone();
        answers.push((version, server.hook(&request).await));
        server.stop().await;
    }
    assert_eq!(answers[0].0, "0.2.0");
    assert_eq!(answers[1].0, importhook::engine::INTERFACE_VERSION);
    assert_eq!(answers[0].1.status, StatusCode::OK);
    assert_eq!(
        answers[0].1.json()["commands"],
        answers[1].1.json()["commands"]
    );
    assert_eq!(
        answers[0].1.json()["commands"][0]["value"]["login"],
        "sally.elizabeth.admin@clouditude.net"
    );
}
