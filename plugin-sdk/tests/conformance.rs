//! The SDK's native helper against `conformance/okta-requests.json`, the vectors the host's
//! contract test and the JavaScript and Python SDKs read too: what a strategy reads from each
//! Okta request, or that no strategy runs on it.

use importhook_sdk::{Action, Profile, Request, Scalar, Value};
use serde_json::{Value as Json, json};

fn vectors() -> Json {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../conformance/okta-requests.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("vectors")).expect("json")
}

fn scalar(scalar: &Scalar) -> Json {
    match scalar {
        Scalar::Null => json!({"tag": "null"}),
        Scalar::Boolean(b) => json!({"tag": "boolean", "val": b}),
        Scalar::Integer(i) => json!({"tag": "integer", "val": i}),
        Scalar::Number(f) => json!({"tag": "number", "val": f}),
        Scalar::Text(t) => json!({"tag": "text", "val": t}),
    }
}

/// A value in the vectors' tagged form.
fn tagged(value: &Value) -> Json {
    match value {
        Value::Null => json!({"tag": "null"}),
        Value::Boolean(b) => json!({"tag": "boolean", "val": b}),
        Value::Integer(i) => json!({"tag": "integer", "val": i}),
        Value::Number(f) => json!({"tag": "number", "val": f}),
        Value::Text(t) => json!({"tag": "text", "val": t}),
        Value::List(items) => {
            json!({"tag": "list", "val": items.iter().map(scalar).collect::<Vec<_>>()})
        }
        Value::Json(text) => json!({"tag": "json", "val": text}),
    }
}

fn profile(profile: Profile<'_>) -> Json {
    profile
        .iter()
        .map(|(name, value)| json!([name, tagged(&value)]))
        .collect()
}

/// Everything a strategy reads, in the vectors' form.
fn reads(request: &Request) -> Json {
    json!({
        "eventId": request.event_id(),
        "action": match request.action() {
            Action::CreateUser => "create-user",
            Action::LinkUser => "link-user",
        },
        "linkTarget": request.link_target(),
        "matchedUserId": request.matched_user_id(),
        "conflicts": request.conflicts(),
        "policy": request.policy(),
        "matches": request.matches().iter().map(tagged).collect::<Vec<_>>(),
        "matchIds": request.match_ids(),
        "application": request.application().map(|a| json!({"id": a.id, "name": a.name, "label": a.label, "status": a.status})),
        "job": request.job().map(|j| json!({"id": j.id, "kind": j.kind})),
        "appUser": profile(request.app_user()),
        "user": profile(request.user()),
    })
}

#[test]
fn every_okta_request_reads_as_the_vectors_say() {
    let vectors = vectors();
    let cases = vectors["cases"].as_array().expect("cases");
    let (mut read, mut refused) = (0, 0);
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let request = Request::from_okta_json(&case["body"].to_string());
        if let Some(why) = case.get("refused") {
            assert!(
                request.is_err(),
                "{name}: read, but no strategy runs on it ({why})"
            );
            refused += 1;
        } else {
            let request = request.unwrap_or_else(|e| panic!("{name}: refused: {e}"));
            assert_eq!(reads(&request), case["reads"], "{name}");
            read += 1;
        }
    }
    assert!(read >= 3 && refused >= 10, "{read} read, {refused} refused");
}

/// The JSON-to-WIT value rule of `conformance/json-values.json`, which the other SDKs read too.
#[test]
fn json_values_map_as_the_vectors_say() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../conformance/json-values.json");
    let vectors: Json =
        serde_json::from_str(&std::fs::read_to_string(path).expect("vectors")).expect("json");
    let cases = vectors["cases"].as_array().expect("cases");
    assert!(cases.len() >= 10, "only {} cases", cases.len());
    for case in cases {
        let text = case["json"].as_str().expect("json");
        let json: Json = serde_json::from_str(text).expect("case json");
        assert_eq!(
            tagged(&importhook_sdk::value_from_json(&json)),
            case["value"],
            "{text}"
        );
    }
}
