//! Okta's User Import Inline Hook contract: the request Okta sends and every response form.
//!
//! Profiles are generic JSON maps because Okta's schema says "string" but real payloads carry
//! `null`, arrays and any custom attribute type. Unknown fields are tolerated everywhere.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// The only event type this hook accepts.
pub const EVENT_TYPE: &str = "com.okta.import.transform";

/// Okta rejects hook responses of 256 KB or more; we stay strictly below in either reading of "KB".
pub const MAX_RESPONSE_BYTES: usize = 256_000;

/// A profile: attribute name to JSON value, in Okta's order.
pub type Profile = Map<String, Value>;

/// The request envelope Okta POSTs once per imported user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportRequest {
    /// Okta's id of this hook call (not personal data; used to correlate logs).
    pub event_id: String,
    /// When Okta sent the request (ISO-8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_time: Option<String>,
    /// Must be [`EVENT_TYPE`].
    pub event_type: String,
    /// The hook version; Okta documents `"1.0"` but its OpenAPI example shows a bare number.
    #[serde(
        default,
        deserialize_with = "string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub event_type_version: Option<String>,
    /// The id of the inline hook (`cal…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The user being imported and its context.
    pub data: ImportData,
}

/// `data`: the two profiles, the default action and the read-only context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportData {
    /// The app user profile being imported (for CSV: the columns).
    #[serde(default)]
    pub app_user: ProfileHolder,
    /// The projected Okta user profile, and the matched user's id if any.
    #[serde(default)]
    pub user: UserHolder,
    /// What Okta will do if the hook changes nothing.
    pub action: ActionValue,
    /// Read-only context of the import.
    #[serde(default)]
    pub context: ImportContext,
}

/// `data.appUser`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProfileHolder {
    /// The attributes.
    #[serde(default)]
    pub profile: Profile,
}

/// `data.user`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserHolder {
    /// Present only when the user was matched to an existing Okta user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The attributes.
    #[serde(default)]
    pub profile: Profile,
}

/// The two actions Okta knows for an imported user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActionResult {
    /// Create a new Okta user.
    CreateUser,
    /// Treat the imported user as a match of an existing Okta user.
    LinkUser,
}

impl ActionResult {
    /// Okta's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreateUser => "CREATE_USER",
            Self::LinkUser => "LINK_USER",
        }
    }
}

/// `{"result": ...}`: both `data.action` and the value of `com.okta.action.update`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionValue {
    /// The action.
    pub result: ActionResult,
}

/// `data.context`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportContext {
    /// Attributes of the projected Okta profile in conflict (today only `login`).
    #[serde(default)]
    pub conflicts: Vec<String>,
    /// The app the import runs for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<Application>,
    /// The import job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<Job>,
    /// Okta users matched to the app user; Okta never documented the element shape.
    #[serde(default)]
    pub matches: Vec<Value>,
    /// Import-matching policies that applied.
    #[serde(default)]
    pub policy: Vec<String>,
}

/// `data.context.application`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Application {
    /// App id (`0oa…`).
    #[serde(default)]
    pub id: String,
    /// App type name.
    #[serde(default)]
    pub name: String,
    /// Display name.
    #[serde(default)]
    pub label: String,
    /// `ACTIVE` or `INACTIVE`.
    #[serde(default)]
    pub status: String,
}

/// `data.context.job`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Job id (`ij1…`).
    #[serde(default)]
    pub id: String,
    /// Job type, e.g. `import:users`.
    #[serde(default, rename = "type")]
    pub kind: String,
}

fn string_or_number<'de, D: Deserializer<'de>>(de: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(de)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    })
}

/// What the service answers with a `200`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookResponse {
    /// Commands for Okta to apply, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<Command>,
    /// A refusal; its summary lands in Okta's System Log, so it never holds personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<HookError>,
    /// Free-form diagnostics copied into Okta's System Log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug_context: Option<Map<String, Value>>,
}

/// One command of a hook response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value")]
pub enum Command {
    /// Change attributes of the app user profile.
    #[serde(rename = "com.okta.appUser.profile.update")]
    AppUserProfileUpdate(Profile),
    /// Change attributes of the Okta user profile.
    #[serde(rename = "com.okta.user.profile.update")]
    UserProfileUpdate(Profile),
    /// Create a new user or link to an existing one.
    #[serde(rename = "com.okta.action.update")]
    ActionUpdate(ActionValue),
    /// The existing Okta user to link to (required with `LINK_USER`).
    #[serde(rename = "com.okta.user.update")]
    UserUpdate(UserRef),
}

/// `{"id": ...}` of `com.okta.user.update`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRef {
    /// Okta user id (`00u…`).
    pub id: String,
}

/// The `error` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookError {
    /// One line for the System Log.
    pub error_summary: String,
    /// Details.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub error_causes: Vec<ErrorCause>,
}

/// One entry of `errorCauses`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorCause {
    /// What went wrong.
    pub error_summary: String,
    /// Machine-readable reason, e.g. `PLUGIN_TIMEOUT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `body`, `header`, `url` or `query`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_type: Option<String>,
    /// Where, e.g. a JSON path or a plugin name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Whose fault, e.g. `external-service`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

/// The final decision on an imported user. Linking carries its target, so a `LINK_USER`
/// without a user id cannot be expressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Create a new Okta user.
    CreateUser,
    /// Link to the Okta user with this id.
    LinkUser(String),
}

/// Why a response cannot be sent to Okta as built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// `LINK_USER` without `com.okta.user.update`, or the reverse.
    #[error(
        "LINK_USER must be paired with exactly one com.okta.user.update carrying a non-empty id"
    )]
    UnpairedLink,
    /// The serialized body reaches Okta's size limit.
    #[error("response of {0} bytes exceeds Okta's limit of {MAX_RESPONSE_BYTES} bytes")]
    TooLarge(usize),
}

impl HookResponse {
    /// A response that refuses the request with `summary` (which must hold no personal data).
    pub fn error(summary: impl Into<String>, causes: Vec<ErrorCause>) -> Self {
        Self {
            error: Some(HookError {
                error_summary: summary.into(),
                error_causes: causes,
            }),
            ..Self::default()
        }
    }

    /// The commands for a net change: profile updates (only when non-empty) and the decision.
    pub fn from_changes(app_user: Profile, user: Profile, decision: Option<Decision>) -> Self {
        let mut commands = Vec::with_capacity(4);
        if !app_user.is_empty() {
            commands.push(Command::AppUserProfileUpdate(app_user));
        }
        if !user.is_empty() {
            commands.push(Command::UserProfileUpdate(user));
        }
        match decision {
            None => {}
            Some(Decision::CreateUser) => commands.push(Command::ActionUpdate(ActionValue {
                result: ActionResult::CreateUser,
            })),
            Some(Decision::LinkUser(id)) => {
                commands.push(Command::ActionUpdate(ActionValue {
                    result: ActionResult::LinkUser,
                }));
                commands.push(Command::UserUpdate(UserRef { id }));
            }
        }
        Self {
            commands,
            ..Self::default()
        }
    }

    /// True when Okta should get `204 No Content`: nothing to change and nothing to report.
    pub fn is_no_change(&self) -> bool {
        self.commands.is_empty() && self.error.is_none()
    }

    /// Checks the rules Okta states for a response, and serializes it.
    pub fn to_checked_json(&self) -> Result<Vec<u8>, ResponseError> {
        self.check_link_pairing()?;
        let body = serde_json::to_vec(self).unwrap_or_default();
        if body.len() >= MAX_RESPONSE_BYTES {
            return Err(ResponseError::TooLarge(body.len()));
        }
        Ok(body)
    }

    fn check_link_pairing(&self) -> Result<(), ResponseError> {
        let links = self
            .commands
            .iter()
            .filter(|c| {
                matches!(
                    c,
                    Command::ActionUpdate(ActionValue {
                        result: ActionResult::LinkUser
                    })
                )
            })
            .count();
        let targets: Vec<&UserRef> = self
            .commands
            .iter()
            .filter_map(|c| match c {
                Command::UserUpdate(target) => Some(target),
                _ => None,
            })
            .collect();
        let paired = match (links, targets.as_slice()) {
            (0, []) => true,
            (1, [target]) => !target.id.trim().is_empty(),
            _ => false,
        };
        if paired {
            Ok(())
        } else {
            Err(ResponseError::UnpairedLink)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn samples(prefix: &str) -> Vec<(String, String)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/okta-samples");
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
    fn every_request_sample_parses() {
        let all = samples("request-");
        assert_eq!(all.len(), 2, "expected both request samples");
        for (name, text) in all {
            let request: ImportRequest =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(request.event_type, EVENT_TYPE, "{name}");
            assert_eq!(request.event_id, "JUGOUiYZTaKPmH6db0nDag", "{name}");
            assert_eq!(request.event_type_version.as_deref(), Some("1.0"));
            assert_eq!(request.data.action.result, ActionResult::CreateUser);
            assert_eq!(request.data.context.conflicts, vec!["login".to_owned()]);
            assert_eq!(request.data.context.policy.len(), 2);
            assert_eq!(
                request.data.context.job.as_ref().map(|j| j.kind.as_str()),
                Some("import:users")
            );
            assert!(request.data.user.id.is_none());
            assert!(request.data.app_user.profile["groups"].is_array());
            assert!(request.data.user.profile["city"].is_null());
            assert!(request.data.user.profile["login"].is_string());
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

    #[test]
    fn tolerates_unknown_fields_numbers_and_a_matched_user() {
        let request: ImportRequest = serde_json::from_value(json!({
            "eventId": "e1", "eventType": EVENT_TYPE, "eventTypeVersion": 1, "future": {"x": 1},
            "data": {
                "action": {"result": "LINK_USER", "extra": true},
                "user": {"id": "00u1", "profile": {"login": "a@b.c", "age": 42, "vip": true}},
                "context": {"matches": ["00u1", {"id": "00u2"}], "newThing": []}
            }
        }))
        .expect("lenient parse");
        assert_eq!(request.event_type_version.as_deref(), Some("1"));
        assert_eq!(request.data.user.id.as_deref(), Some("00u1"));
        assert_eq!(request.data.context.matches.len(), 2);
        assert!(request.data.app_user.profile.is_empty());
    }

    #[test]
    fn rejects_an_unknown_action() {
        let err = serde_json::from_value::<ImportRequest>(json!({
            "eventId": "e1", "eventType": EVENT_TYPE, "data": {"action": {"result": "DELETE"}}
        }));
        assert!(err.is_err());
    }

    #[test]
    fn link_is_always_paired_with_its_target() {
        let response = HookResponse::from_changes(
            Profile::new(),
            Profile::new(),
            Some(Decision::LinkUser("00u9".into())),
        );
        let body: Value =
            serde_json::from_slice(&response.to_checked_json().expect("valid")).expect("json");
        assert_eq!(
            body,
            json!({"commands": [
                {"type": "com.okta.action.update", "value": {"result": "LINK_USER"}},
                {"type": "com.okta.user.update", "value": {"id": "00u9"}}
            ]})
        );

        let unpaired = HookResponse {
            commands: vec![Command::ActionUpdate(ActionValue {
                result: ActionResult::LinkUser,
            })],
            ..HookResponse::default()
        };
        assert_eq!(unpaired.to_checked_json(), Err(ResponseError::UnpairedLink));
        let empty_id = HookResponse::from_changes(
            Profile::new(),
            Profile::new(),
            Some(Decision::LinkUser(" ".into())),
        );
        assert_eq!(empty_id.to_checked_json(), Err(ResponseError::UnpairedLink));
    }

    #[test]
    fn no_change_and_oversized_responses() {
        assert!(HookResponse::from_changes(Profile::new(), Profile::new(), None).is_no_change());
        let mut huge = Profile::new();
        huge.insert("blob".into(), Value::String("x".repeat(MAX_RESPONSE_BYTES)));
        let response = HookResponse::from_changes(huge, Profile::new(), None);
        assert!(matches!(
            response.to_checked_json(),
            Err(ResponseError::TooLarge(_))
        ));
    }
}
