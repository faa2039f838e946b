//! The imported user as a strategy sees it, with typed accessors.

use serde_json::Value as Json;

use crate::bindings::importhook::plugin::types;
use crate::{Application, Attribute, Job, Scalar, Value};

/// What Okta will do with the imported user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Create a new Okta user.
    CreateUser,
    /// Link to an existing Okta user ([`Request::link_target`]).
    LinkUser,
}

/// One imported user: Okta's request, with earlier strategies' changes applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    inner: types::Request,
}

/// A read-only view of one profile.
#[derive(Debug, Clone, Copy)]
pub struct Profile<'a> {
    attributes: &'a [Attribute],
}

impl<'a> Profile<'a> {
    /// The value of `name`, if the profile has it (a `null` value is `Some(Value::Null)`).
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.attributes
            .iter()
            .find(|a| a.name == name)
            .map(|a| &a.value)
    }

    /// The text value of `name`; `None` when absent, null or not text.
    pub fn text(&self, name: &str) -> Option<&'a str> {
        self.get(name).and_then(Value::as_text)
    }

    /// The boolean value of `name`.
    pub fn boolean(&self, name: &str) -> Option<bool> {
        self.get(name).and_then(Value::as_bool)
    }

    /// The integer value of `name`.
    pub fn integer(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(Value::as_integer)
    }

    /// All attributes, in Okta's order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a Value)> {
        self.attributes.iter().map(|a| (a.name.as_str(), &a.value))
    }

    /// Number of attributes.
    pub fn len(&self) -> usize {
        self.attributes.len()
    }

    /// True when the profile has no attribute.
    pub fn is_empty(&self) -> bool {
        self.attributes.is_empty()
    }
}

impl Value {
    /// The text, when this is `text`.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }

    /// The boolean, when this is `boolean`.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// The integer, when this is `integer`.
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Value::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// The number, when this is `integer` or `number`.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Integer(i) => Some(*i as f64),
            Value::Number(f) => Some(*f),
            _ => None,
        }
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::Text(text.to_owned())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::Text(text)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Boolean(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Integer(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Number(f)
    }
}

impl From<Vec<String>> for Value {
    fn from(items: Vec<String>) -> Self {
        Value::List(items.into_iter().map(Scalar::Text).collect())
    }
}

impl Request {
    /// Wraps what the host sent.
    pub(crate) fn from_wit(inner: types::Request) -> Self {
        Self { inner }
    }

    /// Builds a request from the JSON body Okta sends (`com.okta.import.transform`), exactly
    /// as the host presents it to the first plugin. For native unit tests.
    pub fn from_okta_json(body: &str) -> Result<Self, String> {
        let json: Json = serde_json::from_str(body).map_err(|e| format!("invalid JSON: {e}"))?;
        let data = &json["data"];
        let profile = |holder: &str| -> Vec<Attribute> {
            data[holder]["profile"]
                .as_object()
                .map(|map| {
                    map.iter()
                        .map(|(name, value)| Attribute {
                            name: name.clone(),
                            value: crate::json::to_value(value),
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let strings = |value: &Json| -> Vec<String> {
            value
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let text = |value: &Json| value.as_str().unwrap_or_default().to_owned();
        let matched_user_id = data["user"]["id"].as_str().map(str::to_owned);
        let action = match data["action"]["result"].as_str() {
            Some("CREATE_USER") => types::Action::CreateUser,
            Some("LINK_USER") => types::Action::LinkUser,
            other => {
                return Err(format!(
                    "data.action.result must be CREATE_USER or LINK_USER, not {other:?}"
                ));
            }
        };
        let context = &data["context"];
        Ok(Self::from_wit(types::Request {
            event_id: text(&json["eventId"]),
            app_user: profile("appUser"),
            user: profile("user"),
            link_target: if action == types::Action::LinkUser {
                matched_user_id.clone()
            } else {
                None
            },
            matched_user_id,
            action,
            conflicts: strings(&context["conflicts"]),
            matches: context["matches"]
                .as_array()
                .map(|m| m.iter().map(crate::json::to_value).collect())
                .unwrap_or_default(),
            policy: strings(&context["policy"]),
            application: context["application"].as_object().map(|_| Application {
                id: text(&context["application"]["id"]),
                name: text(&context["application"]["name"]),
                label: text(&context["application"]["label"]),
                status: text(&context["application"]["status"]),
            }),
            job: context["job"].as_object().map(|_| Job {
                id: text(&context["job"]["id"]),
                kind: text(&context["job"]["type"]),
            }),
        }))
    }

    /// Okta's id of this hook call.
    pub fn event_id(&self) -> &str {
        &self.inner.event_id
    }

    /// The app user profile (`data.appUser.profile`), e.g. the CSV columns.
    pub fn app_user(&self) -> Profile<'_> {
        Profile {
            attributes: &self.inner.app_user,
        }
    }

    /// The projected Okta user profile (`data.user.profile`).
    pub fn user(&self) -> Profile<'_> {
        Profile {
            attributes: &self.inner.user,
        }
    }

    /// The existing Okta user the import matched (`data.user.id`), if any.
    pub fn matched_user_id(&self) -> Option<&str> {
        self.inner.matched_user_id.as_deref()
    }

    /// The current action.
    pub fn action(&self) -> Action {
        match self.inner.action {
            types::Action::CreateUser => Action::CreateUser,
            types::Action::LinkUser => Action::LinkUser,
        }
    }

    /// The Okta user the import will link to, when the action is [`Action::LinkUser`].
    pub fn link_target(&self) -> Option<&str> {
        self.inner.link_target.as_deref()
    }

    /// Attributes in conflict (`data.context.conflicts`), e.g. `["login"]`.
    pub fn conflicts(&self) -> &[String] {
        &self.inner.conflicts
    }

    /// True when `attribute` is among the conflicts.
    pub fn has_conflict(&self, attribute: &str) -> bool {
        self.inner.conflicts.iter().any(|c| c == attribute)
    }

    /// `data.context.matches` as Okta sent them.
    pub fn matches(&self) -> &[Value] {
        &self.inner.matches
    }

    /// The Okta user ids of `data.context.matches`: entries that are ids, or objects with a
    /// string `id`. Other entries are skipped.
    pub fn match_ids(&self) -> Vec<String> {
        self.inner
            .matches
            .iter()
            .filter_map(|m| match m {
                Value::Text(id) => Some(id.clone()),
                Value::Json(text) => serde_json::from_str::<Json>(text)
                    .ok()?
                    .get("id")?
                    .as_str()
                    .map(str::to_owned),
                _ => None,
            })
            .filter(|id| !id.is_empty())
            .collect()
    }

    /// `data.context.policy`.
    pub fn policy(&self) -> &[String] {
        &self.inner.policy
    }

    /// `data.context.application`.
    pub fn application(&self) -> Option<&Application> {
        self.inner.application.as_ref()
    }

    /// `data.context.job`.
    pub fn job(&self) -> Option<&Job> {
        self.inner.job.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"eventId": "ev1", "eventType": "com.okta.import.transform",
        "data": {
            "context": {"conflicts": ["login"], "matches": ["00u1", {"id": "00u2"}, {"x": 1}, 7],
                        "policy": ["EMAIL"], "application": {"id": "0oa1", "name": "csv", "label": "CSV", "status": "ACTIVE"},
                        "job": {"id": "ij1", "type": "import:users"}},
            "action": {"result": "LINK_USER"},
            "appUser": {"profile": {"middleName": "Alexander", "groups": ["a", "b"], "age": 40, "vip": true, "x": null}},
            "user": {"id": "00u9", "profile": {"login": "george.smith@example.com"}}
        }}"#;

    #[test]
    fn okta_json_becomes_a_typed_request() {
        let request = Request::from_okta_json(SAMPLE).expect("parses");
        assert_eq!(request.event_id(), "ev1");
        assert_eq!(request.app_user().text("middleName"), Some("Alexander"));
        assert_eq!(request.app_user().integer("age"), Some(40));
        assert_eq!(request.app_user().boolean("vip"), Some(true));
        assert_eq!(request.app_user().get("x"), Some(&Value::Null));
        assert_eq!(request.app_user().text("missing"), None);
        assert!(matches!(request.app_user().get("groups"), Some(Value::List(l)) if l.len() == 2));
        assert_eq!(
            request.user().text("login"),
            Some("george.smith@example.com")
        );
        assert_eq!(request.action(), Action::LinkUser);
        assert_eq!(request.link_target(), Some("00u9"));
        assert_eq!(request.matched_user_id(), Some("00u9"));
        assert!(request.has_conflict("login"));
        assert_eq!(
            request.match_ids(),
            vec!["00u1".to_owned(), "00u2".to_owned()]
        );
        assert_eq!(request.policy(), ["EMAIL".to_owned()]);
        assert_eq!(request.application().map(|a| a.label.as_str()), Some("CSV"));
        assert_eq!(request.job().map(|j| j.kind.as_str()), Some("import:users"));
    }

    #[test]
    fn a_request_without_an_action_is_refused() {
        assert!(Request::from_okta_json(r#"{"data": {}}"#).is_err());
        assert!(Request::from_okta_json("not json").is_err());
    }
}
