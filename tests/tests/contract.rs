//! End to end: Okta's contract, read leniently. Every request of the corpus
//! (`okta-contract/tests/corpus/`) and every Okta sample goes to the real server, without
//! plugins and with the example strategies: none gets a `400` unless its name says so, and a
//! request that is read but not understood (an action Okta may add) gets `204` untouched.

mod common;

use std::path::{Path, PathBuf};

use common::{PATH, SECRET, okta_sample, plugins_folder, start};
use http::StatusCode;
use importhook::config::ConfigLayer;

const NORMALIZE: (&str, &str, &str) = ("10-normalize-login", "normalize-login", "");
const LINK: (&str, &str, &str) = ("20-link-single-match", "link-single-match", "");
const MIDDLE: (&str, &str, &str) = (
    "30-login-middle-name",
    "login-middle-name",
    "grants = [\"directory\"]\n",
);

/// Every corpus file and Okta request sample, as `(name, bytes)`; Okta's samples count as
/// `accept-`.
fn requests() -> Vec<(String, Vec<u8>)> {
    let root = common::workspace_root();
    let read = |dir: PathBuf, prefix: &str, rename: &dyn Fn(&str) -> String| {
        let mut found: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("entry").path())
            .filter(|path| {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                name.starts_with(prefix) && name.ends_with(".json")
            })
            .map(|path: PathBuf| {
                let name = file_name(&path);
                (rename(&name), std::fs::read(&path).expect("read"))
            })
            .collect();
        found.sort();
        found
    };
    let mut all = read(root.join("okta-contract/tests/corpus"), "", &|n| {
        n.to_owned()
    });
    all.extend(read(
        root.join("host/tests/okta-samples"),
        "request-",
        &|n| format!("accept-okta-{n}"),
    ));
    assert!(all.len() >= 25, "corpus missing: {}", all.len());
    all
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .and_then(|n| n.to_str())
        .expect("name")
        .to_owned()
}

async fn post(server: &common::TestServer, body: Vec<u8>) -> common::Reply {
    server
        .request(
            "POST",
            PATH,
            &[
                ("authorization", SECRET),
                ("content-type", "application/json"),
            ],
            body,
        )
        .await
}

/// The count of `importhook_passed_through_total{reason="<reason>"}` on `/metrics`.
async fn passed_through(server: &common::TestServer, reason: &str) -> u64 {
    let (_, text) = server.admin_get("/metrics").await;
    let needle = format!("importhook_passed_through_total{{reason=\"{reason}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(needle.as_str()))
        .map_or(0, |n| n.trim().parse().expect("count"))
}

#[tokio::test]
async fn no_request_of_the_corpus_gets_400_unless_it_must() {
    let server = start(ConfigLayer::default(), None).await;
    let mut unknown = 0;
    for (name, body) in requests() {
        let reply = post(&server, body).await;
        if name.starts_with("refuse-") {
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{name}");
            assert!(reply.json()["error"]["errorSummary"].is_string(), "{name}");
        } else {
            // No plugins: every request Okta may send passes through unchanged.
            assert_eq!(
                reply.status,
                StatusCode::NO_CONTENT,
                "{name}: {:?}",
                reply.body
            );
            assert!(reply.body.is_empty(), "{name}");
        }
        if name.starts_with("pass-unknown-action") {
            unknown += 1;
        }
    }
    assert_eq!(passed_through(&server, "unknown_action").await, unknown);
    assert!(passed_through(&server, "missing_action").await >= 3);
    assert!(passed_through(&server, "unexpected_shape").await >= 4);
    server.stop().await;
}

#[tokio::test]
async fn the_corpus_goes_through_the_example_strategies_without_a_400() {
    let plugins = plugins_folder(&[NORMALIZE, LINK, MIDDLE]);
    let server = start(ConfigLayer::default(), Some(plugins.path())).await;
    for (name, body) in requests() {
        let reply = post(&server, body).await;
        let status = reply.status;
        if name.starts_with("refuse-") {
            assert_eq!(status, StatusCode::BAD_REQUEST, "{name}");
        } else if name.starts_with("pass-") {
            assert_eq!(status, StatusCode::NO_CONTENT, "{name}: {:?}", reply.body);
        } else {
            assert!(
                status == StatusCode::OK || status == StatusCode::NO_CONTENT,
                "{name}: {status} {:?}",
                reply.body
            );
            if status == StatusCode::OK {
                let body = reply.json();
                assert!(body["error"].is_null(), "{name}: {body}");
                assert!(body["commands"].is_array(), "{name}: {body}");
            }
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn an_unknown_action_is_passed_through_without_running_the_plugins() {
    let plugins = plugins_folder(&[MIDDLE]);
    let server = start(ConfigLayer::default(), Some(plugins.path())).await;
    // The guide's request: with CREATE_USER the strategy resolves the conflict...
    let mut request = okta_sample();
    request["data"]["appUser"]["profile"]["middleName"] = "Elizabeth".into();
    let reply = server.hook(&request).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    // ...but with an action Okta may add one day, Okta's default applies: 204, no plugin call.
    request["data"]["action"]["result"] = "MERGE_USER".into();
    let calls_before = plugin_calls(&server).await;
    let reply = server.hook(&request).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
    assert_eq!(plugin_calls(&server).await, calls_before);
    assert_eq!(passed_through(&server, "unknown_action").await, 1);
    server.stop().await;
}

/// Plugin calls so far, all plugins and outcomes.
async fn plugin_calls(server: &common::TestServer) -> u64 {
    let (_, text) = server.admin_get("/metrics").await;
    text.lines()
        .filter(|line| line.starts_with("importhook_plugin_calls_total{"))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// One model of the contract: every request a strategy may get reads the same inside a plugin
/// (the host's request resource, served over TLS) and in the SDK's native test helper
/// (`Request::from_okta_json`). The fault plugin's `echo` mode writes down everything it can
/// read; the same strategy runs natively on the same bytes.
#[tokio::test]
async fn the_host_and_the_sdk_read_every_request_the_same() {
    let echo = ("10-echo", "fault-plugin", "[config]\nmode = \"echo\"\n");
    let plugins = plugins_folder(&[echo]);
    let server = start(ConfigLayer::default(), Some(plugins.path())).await;
    let config = importhook_sdk::load_config::<fault_plugin::Fault>([(
        "mode",
        importhook_sdk::Value::from("echo"),
    )])
    .expect("echo is a mode");
    let mut compared = 0;
    for (name, body) in requests() {
        let text = String::from_utf8_lossy(&body).into_owned();
        let native = importhook_sdk::Request::from_okta_json(&text);
        let reply = post(&server, body).await;
        match reply.status {
            StatusCode::OK => {
                let served = reply.json()["commands"][0]["value"]["seen"].clone();
                let native = native.unwrap_or_else(|e| panic!("{name}: the SDK refused: {e}"));
                let outcome =
                    <fault_plugin::Fault as importhook_sdk::Strategy>::transform(&native, &config)
                        .expect("echo");
                let seen = outcome
                    .app_user_update("seen")
                    .and_then(|v| v.as_text())
                    .expect("seen");
                assert_eq!(served, seen, "{name}: host and SDK read it differently");
                compared += 1;
            }
            // Passed through or refused by the host: no strategy runs, and the SDK's helper
            // refuses it too rather than build a request no plugin would see.
            status => assert!(
                native.is_err(),
                "{name}: the host answered {status} but the SDK built a request"
            ),
        }
    }
    assert!(compared >= 15, "only {compared} requests compared");
    server.stop().await;
}

/// The shared vectors (`conformance/okta-requests.json`, which the Rust, JavaScript and Python
/// SDKs' tests read too) hold for the host: a request the vectors say a strategy reads runs the
/// plugin, and it reads there what the SDK's native helper reads; a request they say no
/// strategy runs on gets no plugin call.
#[tokio::test]
async fn the_shared_request_vectors_hold_for_the_host() {
    let path = common::workspace_root().join("conformance/okta-requests.json");
    let vectors: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("vectors")).expect("json");
    let echo = ("10-echo", "fault-plugin", "[config]\nmode = \"echo\"\n");
    let plugins = plugins_folder(&[echo]);
    let server = start(ConfigLayer::default(), Some(plugins.path())).await;
    let config = importhook_sdk::load_config::<fault_plugin::Fault>([(
        "mode",
        importhook_sdk::Value::from("echo"),
    )])
    .expect("echo is a mode");
    let cases = vectors["cases"].as_array().expect("cases");
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let body = case["body"].to_string();
        let reply = post(&server, body.clone().into_bytes()).await;
        let ran = reply.status == StatusCode::OK
            && reply.json()["commands"][0]["value"]["seen"].is_string();
        if case.get("refused").is_some() {
            assert!(!ran, "{name}: the plugin ran ({})", reply.status);
            continue;
        }
        assert!(ran, "{name}: the plugin did not run ({})", reply.status);
        let native = importhook_sdk::Request::from_okta_json(&body)
            .unwrap_or_else(|e| panic!("{name}: the SDK refused: {e}"));
        let outcome =
            <fault_plugin::Fault as importhook_sdk::Strategy>::transform(&native, &config)
                .expect("echo");
        let seen = outcome
            .app_user_update("seen")
            .and_then(|v| v.as_text())
            .expect("seen");
        assert_eq!(
            reply.json()["commands"][0]["value"]["seen"],
            seen,
            "{name}: host and SDK read it differently"
        );
    }
    assert!(cases.len() >= 15, "only {} vectors", cases.len());
    server.stop().await;
}
