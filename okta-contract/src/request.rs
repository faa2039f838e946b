//! The request Okta POSTs once per imported user, and the lenient reading of it (the rules are
//! in the crate docs).

use crate::raw::{RawList, RawProfile};
use crate::{EVENT_TYPE, response::ActionResult};
use compact_str::CompactString;
use serde::{Serialize, Serializer};

/// The request envelope. `Deserialize` refuses only a body that is not a JSON object.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportRequest {
    /// Okta's id of this hook call (not personal data; used to correlate logs). Empty when
    /// absent: Okta always sends it, but its OpenAPI does not require it.
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub event_id: CompactString,
    /// When Okta sent the request (ISO-8601).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_time: Option<CompactString>,
    /// The hook type; `None` when absent. A non-string value is kept as its JSON text, so it
    /// reads as another event type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_type: Option<CompactString>,
    /// The hook version; Okta documents `"1.0"` but its OpenAPI example shows a bare number,
    /// kept here as its text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_type_version: Option<CompactString>,
    /// The id of the inline hook (`cal…`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<CompactString>,
    /// The user being imported and its context.
    pub data: ImportData,
    /// JSON paths (a fixed vocabulary, never a value) of values whose type Okta does not
    /// document there; each was read as absent. Not serialized.
    #[serde(skip)]
    pub irregular: Vec<&'static str>,
}

/// `data`: the two profiles, the default action and the read-only context.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportData {
    /// The app user profile being imported (for CSV: the columns).
    pub app_user: ProfileHolder,
    /// The projected Okta user profile, and the matched user's id if any.
    pub user: UserHolder,
    /// What Okta will do if the hook changes nothing.
    #[serde(skip_serializing_if = "ActionHolder::is_missing")]
    pub action: ActionHolder,
    /// Read-only context of the import.
    pub context: ImportContext,
}

/// `data.appUser`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProfileHolder {
    /// The attributes.
    pub profile: RawProfile,
}

/// `data.user`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UserHolder {
    /// Present only when the user was matched to an existing Okta user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<CompactString>,
    /// The attributes.
    pub profile: RawProfile,
}

/// `data.action`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ActionHolder {
    /// Okta's default action.
    #[serde(skip_serializing_if = "RequestedAction::is_missing")]
    pub result: RequestedAction,
}

impl ActionHolder {
    fn is_missing(&self) -> bool {
        self.result.is_missing()
    }
}

/// `data.action.result` as Okta sent it. Okta documents two values and may add more.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum RequestedAction {
    /// `CREATE_USER` or `LINK_USER`.
    Known(ActionResult),
    /// Any other string, exactly as sent.
    Unknown(String),
    /// `data.action` or its `result` absent or `null`.
    #[default]
    Missing,
}

impl RequestedAction {
    /// The action, when it is one this model knows.
    pub fn known(&self) -> Option<ActionResult> {
        match self {
            Self::Known(action) => Some(*action),
            Self::Unknown(_) | Self::Missing => None,
        }
    }

    /// Reads Okta's spelling; anything but the two documented values is [`Self::Unknown`].
    pub fn from_text(text: &str) -> Self {
        ActionResult::from_text(text).map_or_else(|| Self::Unknown(text.to_owned()), Self::Known)
    }

    fn is_missing(&self) -> bool {
        matches!(self, Self::Missing)
    }
}

impl From<ActionResult> for RequestedAction {
    fn from(action: ActionResult) -> Self {
        Self::Known(action)
    }
}

impl Serialize for RequestedAction {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Known(action) => serializer.serialize_str(action.as_str()),
            Self::Unknown(text) => serializer.serialize_str(text),
            Self::Missing => serializer.serialize_none(),
        }
    }
}

/// `data.context`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportContext {
    /// Attributes of the projected Okta profile in conflict (today only `login`).
    pub conflicts: Vec<CompactString>,
    /// The app the import runs for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application: Option<Application>,
    /// The import job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<Job>,
    /// Okta users matched to the app user; Okta never documented the element shape.
    pub matches: RawList,
    /// Import-matching policies that applied.
    pub policy: Vec<CompactString>,
}

/// `data.context.application`. A field absent or `null` is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Application {
    /// App id (`0oa…`).
    pub id: CompactString,
    /// App type name.
    pub name: CompactString,
    /// Display name.
    pub label: CompactString,
    /// `ACTIVE` or `INACTIVE`.
    pub status: CompactString,
}

/// `data.context.job`. A field absent or `null` is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Job {
    /// Job id (`ij1…`).
    pub id: CompactString,
    /// Job type, e.g. `import:users`.
    #[serde(rename = "type")]
    pub kind: CompactString,
}

/// `texts` as owned strings: the type the plugin API gives lists of the request's short strings
/// (`conflicts`, `policy`) in.
pub fn to_strings(texts: &[CompactString]) -> Vec<String> {
    texts.iter().map(|text| text.to_string()).collect()
}

/// Why a request that was read should not be acted on: Okta's default action should apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unhandled<'a> {
    /// A value of an undocumented type, at this path.
    UnexpectedShape(&'static str),
    /// No `data.action.result`: without Okta's plan, no net change can be computed.
    MissingAction,
    /// A `data.action.result` this model does not know.
    UnknownAction(&'a str),
}

impl<'a> Unhandled<'a> {
    /// A stable label for metrics and logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::UnexpectedShape(_) => "unexpected_shape",
            Self::MissingAction => "missing_action",
            Self::UnknownAction(_) => "unknown_action",
        }
    }

    /// What may be logged beside the label: the path of an unexpected shape, or an unknown
    /// action when it looks like an enum constant (at most 64 of `A-Z`, `0-9`, `_`). Never
    /// anything else Okta sent.
    pub fn detail(&self) -> Option<&'a str> {
        match *self {
            Self::UnexpectedShape(path) => Some(path),
            Self::MissingAction => None,
            Self::UnknownAction(text) => (!text.is_empty()
                && text.len() <= 64
                && text
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'))
            .then_some(text),
        }
    }
}

impl ImportRequest {
    /// Whether the request is for this hook: `eventType` is [`EVENT_TYPE`] or absent. Okta
    /// always sends it; its OpenAPI does not require it, and a body without one is otherwise an
    /// import request, so absent is accepted.
    pub fn is_for_this_hook(&self) -> bool {
        self.event_type.as_deref().is_none_or(|t| t == EVENT_TYPE)
    }

    /// Why the request should be passed through untouched, if it should: a value of an
    /// undocumented type anywhere, or an action that is missing or unknown.
    pub fn unhandled(&self) -> Option<Unhandled<'_>> {
        if let Some(path) = self.irregular.first() {
            return Some(Unhandled::UnexpectedShape(path));
        }
        match &self.data.action.result {
            RequestedAction::Known(_) => None,
            RequestedAction::Missing => Some(Unhandled::MissingAction),
            RequestedAction::Unknown(text) => Some(Unhandled::UnknownAction(text)),
        }
    }
}

/// The request body is JSON but not an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAnObject;

impl std::fmt::Display for NotAnObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an Okta import hook request is a JSON object")
    }
}

impl std::error::Error for NotAnObject {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn read(value: Value) -> ImportRequest {
        serde_json::from_value(value).expect("lenient parse")
    }

    #[test]
    fn only_a_non_object_is_refused() {
        for body in [json!([]), json!("x"), json!(1), json!(null), json!(true)] {
            assert!(
                serde_json::from_value::<ImportRequest>(body.clone()).is_err(),
                "{body}"
            );
        }
        let empty = read(json!({}));
        assert_eq!(empty, ImportRequest::default());
        assert!(empty.is_for_this_hook());
        assert_eq!(empty.unhandled(), Some(Unhandled::MissingAction));
    }

    #[test]
    fn nulls_read_as_empty_at_every_level() {
        let request = read(json!({
            "eventId": null, "eventTime": null, "eventType": null, "eventTypeVersion": null,
            "source": null,
            "data": {
                "appUser": {"profile": null}, "user": {"id": null, "profile": null},
                "action": {"result": "CREATE_USER"},
                "context": {
                    "conflicts": null, "matches": null, "policy": null, "job": null,
                    "application": {"id": null, "name": null, "label": null, "status": null}
                }
            }
        }));
        assert!(request.irregular.is_empty());
        assert_eq!(request.unhandled(), None);
        assert_eq!(
            request.data.context.application,
            Some(Application::default())
        );
        assert_eq!(request.data.context.job, None);
        let null_containers = read(json!({
            "data": {"appUser": null, "user": null, "action": null, "context": null}
        }));
        assert!(null_containers.irregular.is_empty());
        assert_eq!(null_containers.data.action.result, RequestedAction::Missing);
        assert!(read(json!({"data": null})).irregular.is_empty());
    }

    #[test]
    fn unknown_actions_keep_their_text_and_are_unhandled() {
        let request = read(json!({"data": {"action": {"result": "MERGE_USER"}}}));
        assert_eq!(
            request.data.action.result,
            RequestedAction::Unknown("MERGE_USER".into())
        );
        let why = request.unhandled().expect("unhandled");
        assert_eq!(why.as_str(), "unknown_action");
        assert_eq!(why.detail(), Some("MERGE_USER"));
        let odd = read(json!({"data": {"action": {"result": "sally@example.com"}}}));
        assert_eq!(odd.unhandled().and_then(|u| u.detail()), None);
        // Okta's spelling only: the case differs, so it is not CREATE_USER.
        let lower = read(json!({"data": {"action": {"result": "create_user"}}}));
        assert_eq!(lower.data.action.result.known(), None);
    }

    #[test]
    fn undocumented_types_are_read_as_absent_and_noted() {
        let request = read(json!({
            "eventId": 7,
            "data": {
                "appUser": {"profile": "not a map"},
                "action": {"result": "LINK_USER"},
                "context": {"conflicts": ["login", 3, null], "application": {"label": 5}, "job": "j"}
            }
        }));
        assert_eq!(request.event_id, "");
        assert!(request.data.app_user.profile.is_empty());
        assert_eq!(request.data.context.conflicts, vec!["login".to_owned()]);
        assert_eq!(request.data.context.job, None);
        assert_eq!(
            request.irregular,
            vec![
                "eventId",
                "data.appUser.profile",
                "data.context.application.label",
                "data.context.job",
                "data.context.conflicts"
            ]
        );
        assert_eq!(
            request.unhandled(),
            Some(Unhandled::UnexpectedShape("eventId"))
        );
    }

    #[test]
    fn event_types() {
        assert!(read(json!({"eventType": EVENT_TYPE})).is_for_this_hook());
        assert!(!read(json!({"eventType": "com.okta.oauth2.tokens.transform"})).is_for_this_hook());
        let number = read(json!({"eventType": 1}));
        assert_eq!(number.event_type.as_deref(), Some("1"));
        assert!(!number.is_for_this_hook());
    }

    #[test]
    fn serializing_and_reading_again_gives_the_same_request() {
        for value in [
            json!({}),
            json!({"eventId": "e", "eventTypeVersion": 1, "data": {"action": {"result": "NEW"}}}),
            serde_json::from_str(
                r#"{"data": {"action": {"result": "LINK_USER"}, "user": {"id": "00u1"},
                "context": {"application": {}, "job": {"type": "import:users"}, "matches": [1e400]}}}"#,
            )
            .expect("json"),
        ] {
            let request = read(value);
            let again = read(serde_json::to_value(&request).expect("serialize"));
            assert_eq!(again, request);
        }
    }
}
