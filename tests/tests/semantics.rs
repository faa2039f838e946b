//! End to end: the example strategies' semantics in the shipped order (normalize, link,
//! rename), each case through `serve` (real TLS) and through `importhook try` (the real
//! binary): both must give the same answer. Login rewrites are for users Okta will create; no
//! strategy sends an empty login; an unreadable match means no link.

mod common;

use std::process::Command;

use common::{TempDir, okta_sample, plugins_folder, start};
use http::StatusCode;
use importhook::config::ConfigLayer;
use serde_json::{Value, json};

const SHIPPED: [(&str, &str, &str); 3] = [
    ("10-normalize-login", "normalize-login", ""),
    ("20-link-single-match", "link-single-match", ""),
    (
        "30-login-middle-name",
        "login-middle-name",
        "grants = [\"directory\"]\n",
    ),
];

/// What Okta gets for `request`: `None` for a `204`, else the `commands`.
type Answer = Option<Value>;

/// `importhook try` on `request`: the body it prints, or `None` when it reports a 204.
fn try_answer(plugins: &std::path::Path, request: &Value) -> Answer {
    let dir = TempDir::new("semantics");
    let file = dir.path().join("request.json");
    std::fs::write(&file, serde_json::to_vec(request).expect("json")).expect("write");
    let output = Command::new(env!("CARGO_BIN_EXE_importhook-e2e-server"))
        .args(["try", "--plugins"])
        .arg(plugins)
        .arg("--request")
        .arg(&file)
        .env_remove("IMPORTHOOK_SECRETS")
        .output()
        .expect("run importhook try");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    if output.stdout.is_empty() {
        assert!(stderr.contains("204"), "{stderr}");
        return None;
    }
    let body: Value = serde_json::from_slice(&output.stdout).expect("try prints JSON");
    Some(body["commands"].clone())
}

/// The same for `serve`.
async fn serve_answer(server: &common::TestServer, request: &Value) -> Answer {
    let reply = server.hook(request).await;
    match reply.status {
        StatusCode::NO_CONTENT => None,
        StatusCode::OK => Some(reply.json()["commands"].clone()),
        other => panic!("unexpected status {other}: {:?}", reply.body),
    }
}

fn conflict(login: &str, middle: &str) -> Value {
    let mut request = okta_sample();
    request["data"]["context"]["conflicts"] = json!(["login"]);
    request["data"]["user"]["profile"]["login"] = login.into();
    request["data"]["appUser"]["profile"]["middleName"] = middle.into();
    request
}

fn profile_update(login: &str) -> Answer {
    Some(json!([{"type": "com.okta.user.profile.update", "value": {"login": login}}]))
}

#[tokio::test]
async fn the_shipped_strategies_answer_each_case_the_same_in_serve_and_try() {
    let plugins = plugins_folder(&SHIPPED);
    let server = start(ConfigLayer::default(), Some(plugins.path())).await;

    let mut with_one_match = conflict("sally.admin@clouditude.net", "Elizabeth");
    with_one_match["data"]["context"]["matches"] = json!(["00uabc123"]);

    let mut okta_links = conflict("sally.admin@clouditude.net", "Elizabeth");
    okta_links["data"]["action"]["result"] = "LINK_USER".into();
    okta_links["data"]["user"]["id"] = "00uabc123".into();

    let mut unreadable_match = conflict("sally.admin@clouditude.net", "");
    unreadable_match["data"]["context"]["matches"] = json!(["00uabc123", {"unknown": true}]);

    let cases: Vec<(&str, Value, Answer)> = vec![
        (
            "a login conflict is resolved with the middle name",
            conflict("sally.admin@clouditude.net", "Elizabeth"),
            profile_update("sally.elizabeth.admin@clouditude.net"),
        ),
        (
            "a conflict and one match: linked, the link target keeps its login",
            with_one_match,
            Some(json!([
                {"type": "com.okta.action.update", "value": {"result": "LINK_USER"}},
                {"type": "com.okta.user.update", "value": {"id": "00uabc123"}}
            ])),
        ),
        ("Okta already links: no rename", okta_links, None),
        (
            "a login of only spaces is never normalized to an empty one",
            conflict("   ", "Elizabeth"),
            None,
        ),
        (
            "the infixed middle name is normalized like the login",
            conflict(" Sally.Admin@Clouditude.NET", "Élodie"),
            profile_update("sally.elodie.admin@clouditude.net"),
        ),
        (
            "one readable match and one of unknown shape: not sure, no link",
            unreadable_match,
            None,
        ),
    ];
    for (case, request, expected) in cases {
        let served = serve_answer(&server, &request).await;
        assert_eq!(served, expected, "serve: {case}");
        assert_eq!(try_answer(plugins.path(), &request), served, "try: {case}");
    }
    server.stop().await;
}
