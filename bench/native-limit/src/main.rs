//! `importhook-native-limit`: the importhook server (same CLI, TLS, auth, parsing, merge and
//! answer) with the three example strategies compiled in natively instead of loaded as wasm.
//! It measures the physical limit of the architecture for `bench/`; it isolates nothing and
//! is never to be deployed.

mod adapter;

use std::process::ExitCode;

use adapter::Native;
use importhook::engine::NativeStrategy;

fn strategies() -> Vec<Box<dyn NativeStrategy>> {
    vec![
        Box::new(Native::<normalize_login::NormalizeLogin>::new(
            "10-normalize-login",
        )),
        Box::new(Native::<link_single_match::LinkSingleMatch>::new(
            "20-link-single-match",
        )),
        Box::new(Native::<login_middle_name::LoginMiddleName>::new(
            "30-login-middle-name",
        )),
    ]
}

fn main() -> ExitCode {
    importhook::cli::main_native(strategies)
}

#[cfg(test)]
mod tests {
    use super::*;
    use importhook::engine::PluginSet;
    use importhook::okta::ImportRequest;
    use serde_json::{Value, json};
    use std::sync::Arc;

    fn reference(middle_name: &str, matches: Value) -> Arc<ImportRequest> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../host/tests/okta-samples/request-reference-docs.json"
        );
        let mut json: Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("sample")).expect("json");
        json["data"]["appUser"]["profile"]["middleName"] = middle_name.into();
        json["data"]["context"]["matches"] = matches;
        Arc::new(serde_json::from_value(json).expect("request"))
    }

    fn answer(request: &Arc<ImportRequest>) -> Value {
        let run = importhook::engine::block_on(PluginSet::native(strategies()).run(request, None))
            .expect("run");
        serde_json::to_value(run.response().expect("answered")).expect("response")
    }

    #[test]
    fn the_bench_request_gets_the_middle_name_login() {
        let body = answer(&reference("Elizabeth", json!([])));
        assert_eq!(
            body["commands"],
            json!([{"type": "com.okta.user.profile.update",
                    "value": {"login": "sally.elizabeth.admin@clouditude.net"}}])
        );
        assert_eq!(
            body["debugContext"]["plugins"][2]["name"],
            "30-login-middle-name"
        );
    }

    #[test]
    fn strategies_see_earlier_changes_and_decide_a_link() {
        let body = answer(&reference("Elizabeth", json!(["00uabc"])));
        let commands = body["commands"].as_array().expect("commands");
        assert!(commands.contains(&json!({"type": "com.okta.action.update",
                                          "value": {"result": "LINK_USER"}})));
        assert!(commands.contains(&json!({"type": "com.okta.user.update",
                                          "value": {"id": "00uabc"}})));
    }
}
