//! Okta's own samples (`host/tests/okta-samples/`, verbatim from Okta's docs and OpenAPI):
//! every request reads as Okta means it, every response round-trips and passes the checks.

use std::path::PathBuf;

use importhook_okta::{ActionResult, EVENT_TYPE, HookResponse, ImportRequest};
use serde_json::Value;

fn samples(prefix: &str) -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../host/tests/okta-samples");
    let mut found: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("samples folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with(prefix) && name.ends_with(".json")
        })
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("read sample");
            (path.display().to_string(), text)
        })
        .collect();
    found.sort();
    found
}

#[test]
fn every_request_sample_reads_as_okta_means_it() {
    let all = samples("request-");
    assert_eq!(all.len(), 2, "expected both request samples");
    for (name, text) in all {
        let request: ImportRequest =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(request.event_type.as_deref(), Some(EVENT_TYPE), "{name}");
        assert!(request.is_for_this_hook());
        assert_eq!(request.unhandled(), None, "{name}");
        assert!(request.irregular.is_empty(), "{name}");
        assert_eq!(request.event_id, "JUGOUiYZTaKPmH6db0nDag", "{name}");
        assert_eq!(request.event_type_version.as_deref(), Some("1.0"));
        assert_eq!(
            request.data.action.result.known(),
            Some(ActionResult::CreateUser)
        );
        assert_eq!(request.data.context.conflicts, vec!["login".to_owned()]);
        assert_eq!(request.data.context.policy.len(), 2);
        assert_eq!(
            request.data.context.job.as_ref().map(|j| j.kind.as_str()),
            Some("import:users")
        );
        assert!(request.data.user.id.is_none());
        let read = |profile: &importhook_okta::RawProfile, name: &str| {
            profile.get(name).expect(name).parse().expect("readable")
        };
        assert!(read(&request.data.app_user.profile, "groups").is_array());
        assert!(read(&request.data.user.profile, "city").is_null());
        assert!(read(&request.data.user.profile, "login").is_string());
    }
}

#[test]
fn every_response_sample_round_trips() {
    let all = samples("response-");
    assert!(all.len() >= 11, "expected all response samples");
    for (name, text) in all {
        let original: Value = serde_json::from_str(&text).expect("json");
        let parsed: HookResponse =
            serde_json::from_value(original.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let again = serde_json::to_value(&parsed).expect("serialize");
        assert_eq!(again, original, "{name} does not round-trip");
        parsed
            .to_checked_json()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
