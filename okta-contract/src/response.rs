//! What the service answers Okta: the commands, the `error` object, and the rules Okta states
//! for them (a `LINK_USER` paired with its target, a body under 256 KB).

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::{MAX_RESPONSE_BYTES, Profile};

/// The two actions Okta documents for an imported user.
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

    /// Reads Okta's spelling (exactly: Okta's enums are upper case).
    pub fn from_text(text: &str) -> Option<Self> {
        match text {
            "CREATE_USER" => Some(Self::CreateUser),
            "LINK_USER" => Some(Self::LinkUser),
            _ => None,
        }
    }
}

/// `{"result": ...}`, the value of `com.okta.action.update`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionValue {
    /// The action.
    pub result: ActionResult,
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
    pub debug_context: Option<DebugContext>,
}

/// `debugContext`: a JSON object, kept as its text. The host writes it straight from its
/// per-plugin reports on every answer that changes something; built as a map of JSON values
/// it cost more than the rest of the answer (each key, string and map allocated and hashed).
#[derive(Clone)]
pub struct DebugContext(Box<RawValue>);

/// The text is not a JSON object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotADebugContext;

impl std::fmt::Display for NotADebugContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("debugContext is a JSON object")
    }
}

impl std::error::Error for NotADebugContext {}

impl DebugContext {
    /// `value` serialized; it must serialize as a JSON object. (serde_json's own output is
    /// not parsed again to be checked, as text from elsewhere is.)
    pub fn of<T: Serialize>(value: &T) -> Result<Self, NotADebugContext> {
        let raw = serde_json::value::to_raw_value(value).map_err(|_| NotADebugContext)?;
        if raw.get().starts_with('{') {
            Ok(Self(raw))
        } else {
            Err(NotADebugContext)
        }
    }

    /// A JSON object's text.
    pub fn from_text(text: String) -> Result<Self, NotADebugContext> {
        if !text.trim_start().starts_with('{') {
            return Err(NotADebugContext);
        }
        RawValue::from_string(text)
            .map(Self)
            .map_err(|_| NotADebugContext)
    }

    /// Its JSON text.
    pub fn text(&self) -> &str {
        self.0.get()
    }

    /// Read as a JSON map; `None` when serde_json cannot read it (a lone UTF-16 surrogate, its
    /// depth limit), though it is valid JSON text.
    pub fn to_map(&self) -> Option<Map<String, Value>> {
        serde_json::from_str(self.0.get()).ok()
    }
}

impl PartialEq for DebugContext {
    /// Equal when they read as the same map (whatever the spacing); one that cannot be read
    /// equals only the same text.
    fn eq(&self, other: &Self) -> bool {
        self.text() == other.text()
            || matches!((self.to_map(), other.to_map()), (Some(a), Some(b)) if a == b)
    }
}

impl std::fmt::Debug for DebugContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.text())
    }
}

impl Serialize for DebugContext {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for DebugContext {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        // serde_json's raw text starts at the value itself.
        if raw.get().starts_with('{') {
            Ok(Self(raw))
        } else {
            Err(serde::de::Error::custom(NotADebugContext))
        }
    }
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

/// Where in Okta's request a cause lies (Okta's `locationType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LocationType {
    /// The JSON body; `location` is then a JSON path such as `data.user.profile.login`.
    Body,
    /// A header.
    Header,
    /// The URL.
    Url,
    /// The query string.
    Query,
}

/// One entry of `errorCauses`. Okta lists every field for every cause; build one with
/// [`ErrorCause::in_body`] to have them all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorCause {
    /// What went wrong.
    pub error_summary: String,
    /// Machine-readable reason, e.g. `PLUGIN_TIMEOUT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Where `location` points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_type: Option<LocationType>,
    /// Where: with [`LocationType::Body`], a JSON path in Okta's request (`data`,
    /// `data.user.profile.login`), never a plugin or file name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Whose fault, e.g. `external-service`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

impl ErrorCause {
    /// A cause located at `path` (a JSON path such as `data.user.profile.login`) of Okta's
    /// request body. `summary` and `reason` must hold no personal data.
    pub fn in_body(
        summary: impl Into<String>,
        reason: impl Into<String>,
        path: impl Into<String>,
        domain: impl Into<String>,
    ) -> Self {
        Self {
            error_summary: summary.into(),
            reason: Some(reason.into()),
            location_type: Some(LocationType::Body),
            location: Some(path.into()),
            domain: Some(domain.into()),
        }
    }
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseError {
    /// `LINK_USER` without `com.okta.user.update`, or the reverse.
    UnpairedLink,
    /// The serialized body reaches Okta's size limit.
    TooLarge(usize),
}

impl std::fmt::Display for ResponseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnpairedLink => f.write_str(
                "LINK_USER must be paired with exactly one com.okta.user.update carrying a non-empty id",
            ),
            Self::TooLarge(len) => write!(
                f,
                "response of {len} bytes exceeds Okta's limit of {MAX_RESPONSE_BYTES} bytes"
            ),
        }
    }
}

impl std::error::Error for ResponseError {}

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
    fn debug_context_is_an_object_kept_as_its_text() {
        let context =
            DebugContext::of(&serde_json::json!({"plugins": [{"name": "a"}]})).expect("an object");
        assert_eq!(context.text(), r#"{"plugins":[{"name":"a"}]}"#);
        let spaced: DebugContext =
            serde_json::from_str(r#"{ "plugins" : [ {"name": "a"} ] }"#).expect("reads");
        assert_eq!(spaced, context, "equal as read, whatever the spacing");
        assert!(DebugContext::from_text("[1]".to_owned()).is_err());
        // Valid JSON text serde_json cannot read (a lone surrogate): equal only to itself.
        let unreadable = |text: &str| DebugContext::from_text(text.to_owned()).expect("JSON");
        assert_ne!(
            unreadable(r#"{"a":"\ud800"}"#),
            unreadable(r#"{"b":"\ud800"}"#)
        );
        assert_ne!(unreadable(r#"{"a":"\ud800"}"#), unreadable("{}"));
        assert_eq!(
            unreadable(r#"{"a":"\ud800"}"#),
            unreadable(r#"{"a":"\ud800"}"#)
        );
        assert!(serde_json::from_str::<DebugContext>("\"x\"").is_err());
        let response = HookResponse {
            debug_context: Some(context),
            ..HookResponse::default()
        };
        let body: Value =
            serde_json::from_slice(&response.to_checked_json().expect("valid")).expect("json");
        assert_eq!(body["debugContext"]["plugins"][0]["name"], "a");
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

    #[test]
    fn every_cause_built_in_body_carries_all_of_okta_s_fields() {
        let cause = ErrorCause::in_body("s", "PLUGIN_TIMEOUT", "data", "importhook");
        assert_eq!(
            serde_json::to_value(&cause).expect("json"),
            json!({"errorSummary": "s", "reason": "PLUGIN_TIMEOUT", "locationType": "body",
                   "location": "data", "domain": "importhook"})
        );
    }
}
