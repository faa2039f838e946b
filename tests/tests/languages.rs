//! Strategies in JavaScript and Python (issue 16): the `login-middle-name` examples of
//! `examples/js` and `examples/python`, built from source with their own toolchains, give the
//! same answers as the Rust example through `serve` (both isolation modes) and `try`; `check`
//! accepts them and shows what they import; their `[config]` checks and call errors reach the
//! host as the Rust SDK's do.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{
    BIN, Language, TempDir, language_example, okta_sample, plugin_file, plugins_folder_of,
};
use serde_json::{Value, json};

const STEM: &str = "30-login-middle-name";

/// The component of each implementation of the strategy.
fn implementations() -> [(&'static str, PathBuf); 3] {
    [
        ("rust", plugin_file("login-middle-name")),
        ("javascript", language_example(Language::JavaScript)),
        ("python", language_example(Language::Python)),
    ]
}

/// One case: Okta's request, and the login Okta must be told to use (`None`: nothing to
/// change, `204`).
struct Case {
    name: &'static str,
    request: Value,
    login: Option<&'static str>,
}

fn cases() -> Vec<Case> {
    let base = |conflicts: Value, middle: Option<&str>, login: &str| {
        let mut request = okta_sample();
        request["data"]["context"]["conflicts"] = conflicts;
        match middle {
            Some(middle) => request["data"]["appUser"]["profile"]["middleName"] = middle.into(),
            None => {
                let profile = request["data"]["appUser"]["profile"]
                    .as_object_mut()
                    .expect("profile");
                profile.remove("middleName");
            }
        }
        request["data"]["user"]["profile"]["login"] = login.into();
        request
    };
    let mut link = base(
        json!(["login"]),
        Some("Alexander"),
        "george.smith@example.com",
    );
    link["data"]["action"]["result"] = "LINK_USER".into();
    link["data"]["user"]["id"] = "00u1linktarget".into();
    vec![
        Case {
            name: "login conflict with a middle name",
            request: base(
                json!(["login"]),
                Some("Alexander"),
                "george.smith@example.com",
            ),
            login: Some("george.alexander.smith@example.com"),
        },
        Case {
            name: "no conflict",
            request: base(json!([]), Some("Alexander"), "george.smith@example.com"),
            login: None,
        },
        Case {
            name: "LINK_USER keeps its login",
            request: link,
            login: None,
        },
        Case {
            name: "missing middle name",
            request: base(json!(["login"]), None, "george.smith@example.com"),
            login: None,
        },
        Case {
            name: "accents stripped",
            request: base(
                json!(["login"]),
                Some(" Élodie  Zoë "),
                "sally.admin@clouditude.net",
            ),
            login: Some("sally.elodie.zoe.admin@clouditude.net"),
        },
    ]
}

/// The answer every implementation must give: `(status, login set by the response)`.
fn expected(case: &Case) -> (u16, Option<String>) {
    (
        if case.login.is_some() { 200 } else { 204 },
        case.login.map(str::to_owned),
    )
}

fn login_of(body: &Value) -> Option<String> {
    body["commands"].as_array()?.iter().find_map(|c| {
        (c["type"] == "com.okta.user.profile.update")
            .then(|| c["value"]["login"].as_str().map(str::to_owned))
            .flatten()
    })
}

/// The manifest of every implementation: the instance mode under test, and room for a fresh
/// Python or JavaScript instance on a loaded test machine with an unoptimised host (the
/// default deadline, 200 ms, is met on a quiet machine: BENCHMARKS.md).
fn manifest(mode: &str, extra: &str) -> String {
    // The Rust strategy checks its proposal in the directory (unknown here: no org).
    format!("instance = \"{mode}\"\ntimeout_ms = 2000\ngrants = [\"directory\"]\n{extra}")
}

/// Every case through `serve`, for each implementation, in `mode`. The JavaScript and Python
/// answers (status and whole body) must be the Rust plugin's, and the expected ones.
async fn serve_all_cases(mode: &str) {
    let cases = cases();
    let mut answers: Vec<(&str, Vec<(u16, Value)>)> = Vec::new();
    for (language, wasm) in implementations() {
        let folder = plugins_folder_of(&[(STEM, &wasm, &manifest(mode, ""))]);
        let server = common::start(Default::default(), Some(folder.path())).await;
        let mut replies = Vec::new();
        // Twice over: a warm instance serves the second round, and must answer the same.
        for round in 0..2 {
            for case in &cases {
                let reply = server.hook(&case.request).await;
                let body = if reply.body.is_empty() {
                    Value::Null
                } else {
                    reply.json()
                };
                let got = (reply.status.as_u16(), login_of(&body));
                if language != "rust" {
                    assert_eq!(
                        got,
                        expected(case),
                        "{language} ({mode}, round {round}): {}: {body}",
                        case.name
                    );
                }
                if round == 0 {
                    replies.push((reply.status.as_u16(), body));
                }
            }
        }
        server.stop().await;
        answers.push((language, replies));
    }
    let (_, rust) = &answers[0];
    for (language, replies) in &answers[1..] {
        for ((case, theirs), ours) in cases.iter().zip(replies).zip(rust) {
            assert_eq!(
                theirs, ours,
                "{language} and the Rust login-middle-name answer differently ({mode}): {} \
                 (the Rust example must have issue 12's rules: act only for CREATE_USER, strip diacritics)",
                case.name
            );
        }
    }
}

#[tokio::test]
async fn serve_gives_the_rust_answers_per_call() {
    serve_all_cases("per-call").await;
}

#[tokio::test]
async fn serve_gives_the_rust_answers_warm() {
    serve_all_cases("warm").await;
}

fn importhook(args: &[&str], plugins: &Path, request: Option<&Path>) -> std::process::Output {
    let mut command = Command::new(BIN);
    command
        .env_remove("IMPORTHOOK_SECRETS")
        .env("RUST_LOG", "warn")
        .args(args)
        .arg("--plugins")
        .arg(plugins);
    if let Some(request) = request {
        command.arg("--request").arg(request);
    }
    command.output().expect("run importhook")
}

/// `(status, body)` of `importhook try`: stdout is the body (nothing for 204), stderr ends
/// with the `response:` line.
fn try_case(plugins: &Path, dir: &TempDir, case: &Case, must_run_ok: bool) -> (u16, Value) {
    let file = dir.path().join("request.json");
    std::fs::write(&file, serde_json::to_vec(&case.request).expect("json")).expect("write");
    let output = importhook(&["try"], plugins, Some(&file));
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Status 3: a plugin failed or was skipped (a case may expect that; its answer is checked).
    assert!(
        output.status.success() || (!must_run_ok && output.status.code() == Some(3)),
        "{}: {stderr}",
        case.name
    );
    let response = stderr
        .lines()
        .find_map(|l| l.strip_prefix("response: "))
        .unwrap_or_else(|| panic!("no response line: {stderr}"));
    let status: u16 = response[..3].parse().expect("status");
    assert!(
        !must_run_ok
            || stderr
                .lines()
                .any(|l| l.starts_with(STEM) && l.contains(" ok ")),
        "{}: the plugin did not run ok:\n{stderr}",
        case.name
    );
    let body = if output.stdout.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&output.stdout).expect("stdout is the JSON body")
    };
    (status, body)
}

/// Every case through `importhook try` (the real binary; each run compiles the component).
fn try_all_cases(language: Language) {
    let dir = TempDir::new("try-lang");
    let per_call = manifest("per-call", "");
    let theirs = plugins_folder_of(&[(STEM, &language_example(language), &per_call)]);
    let rust = plugins_folder_of(&[(STEM, &plugin_file("login-middle-name"), &per_call)]);
    for case in cases() {
        let (status, body) = try_case(theirs.path(), &dir, &case, true);
        assert_eq!(
            (status, login_of(&body)),
            expected(&case),
            "{language:?}: {}: {body}",
            case.name
        );
        assert_eq!(
            (status, body),
            try_case(rust.path(), &dir, &case, false),
            "{language:?} and the Rust login-middle-name answer differently through try: {}",
            case.name
        );
    }
}

#[test]
fn try_gives_the_rust_answers_javascript() {
    try_all_cases(Language::JavaScript);
}

#[test]
fn try_gives_the_rust_answers_python() {
    try_all_cases(Language::Python);
}

/// `check` accepts both and lists their imports: the JavaScript component, built with every
/// ComponentizeJS feature disabled, imports the host's interfaces only; the Python one
/// imports WASI too (CPython needs it), which the host answers with its empty WASI. A
/// `[config]` the strategy refuses (its validate-config, a StrategyError) fails `check` with
/// the strategy's own words.
#[test]
fn check_lists_imports_and_the_strategies_refuse_a_bad_config() {
    for language in [Language::JavaScript, Language::Python] {
        let wasm = language_example(language);
        let good = plugins_folder_of(&[(
            STEM,
            &wasm,
            &manifest("per-call", "[config]\nwhen_missing = \"error\"\n"),
        )]);
        let output = importhook(&["check"], good.path(), None);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{language:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let imports = stdout
            .lines()
            .find_map(|line| line.trim().strip_prefix("imports: "))
            .expect("an imports line");
        assert!(imports.contains("importhook:plugin/log@"), "{imports}");
        match language {
            Language::JavaScript => assert!(!imports.contains("wasi:"), "{imports}"),
            Language::Python => assert!(imports.contains("wasi:"), "{imports}"),
        }

        let bad = plugins_folder_of(&[(
            STEM,
            &wasm,
            &manifest("per-call", "[config]\nwhen_missing = \"bogus\"\n"),
        )]);
        let output = importhook(&["check"], bad.path(), None);
        assert!(
            !output.status.success(),
            "{language:?}: check accepted a bad config"
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("[config]")
                && stderr.contains("when_missing must be \"leave\" or \"error\", not \"bogus\""),
            "{language:?}: {stderr}"
        );
    }
}

/// A StrategyError thrown by `transform` is the call's error (`plugin_error`, with the
/// plugin's `on_error` applied: skip, so Okta gets 204), not a trap, in both modes.
#[tokio::test]
async fn a_strategy_error_is_a_plugin_error() {
    let mut request = okta_sample();
    request["data"]["context"]["conflicts"] = json!(["login"]);
    for language in [Language::JavaScript, Language::Python] {
        for mode in ["per-call", "warm"] {
            let wasm = language_example(language);
            let folder = plugins_folder_of(&[(
                STEM,
                &wasm,
                &manifest(mode, "[config]\nwhen_missing = \"error\"\n"),
            )]);
            let server = common::start(Default::default(), Some(folder.path())).await;
            let reply = server.hook(&request).await;
            assert_eq!(reply.status.as_u16(), 204, "{language:?} ({mode})");
            let (_, metrics) = server.admin_get("/metrics").await;
            let line = format!(
                "importhook_plugin_calls_total{{plugin=\"{STEM}\",outcome=\"plugin_error\"}} 1"
            );
            assert!(
                metrics.lines().any(|l| l == line),
                "{language:?} ({mode}): {line} missing from:\n{metrics}"
            );
            server.stop().await;
        }
    }
}
