//! Requests for native tests without hand-written JSON: [`RequestBuilder`] writes the body Okta
//! would send and reads it back with [`Request::from_okta_json`], so a built request goes
//! through exactly the model (`importhook-okta`) and the value mapping the host uses.

use serde_json::{Map, Value as Json, json};

use crate::request::Request;
use crate::source::{Action, ProfileKind};
use crate::value::{Application, Job, Scalar, Value};

/// Builds a [`Request`] the way Okta would send it, for native tests. Start with
/// [`Request::builder`]; everything not set is empty (no attributes, conflicts or matches),
/// the action is `CREATE_USER` and the event id `test-event`.
///
/// ```
/// use importhook_sdk::{Action, Request};
///
/// let request = Request::builder()
///     .user("login", "george.smith@example.com")
///     .app_user("middleName", "Alexander")
///     .conflict("login")
///     .matches(["00u1"])
///     .action(Action::LinkUser)
///     .matched_user("00u1")
///     .build();
/// assert_eq!(request.app_user().text("middleName").as_deref(), Some("Alexander"));
/// assert!(request.has_conflict("login"));
/// assert_eq!(request.link_target().as_deref(), Some("00u1"));
/// ```
#[derive(Debug, Clone)]
pub struct RequestBuilder {
    event_id: String,
    app_user: Map<String, Json>,
    user: Map<String, Json>,
    user_id: Option<String>,
    action: Action,
    conflicts: Vec<String>,
    matches: Vec<Json>,
    policy: Vec<String>,
    application: Option<Application>,
    job: Option<Job>,
    changed: Vec<(ProfileKind, String)>,
}

impl Default for RequestBuilder {
    fn default() -> Self {
        Self {
            event_id: "test-event".to_owned(),
            app_user: Map::new(),
            user: Map::new(),
            user_id: None,
            action: Action::CreateUser,
            conflicts: Vec::new(),
            matches: Vec::new(),
            policy: Vec::new(),
            application: None,
            job: None,
            changed: Vec::new(),
        }
    }
}

impl RequestBuilder {
    /// Okta's id of the hook call (`eventId`).
    pub fn event_id(mut self, id: &str) -> Self {
        self.event_id = id.to_owned();
        self
    }

    /// Sets an attribute of the app user profile (`data.appUser.profile`), e.g. a CSV column.
    ///
    /// # Panics
    /// When `value` is a [`Value::Json`] whose text is not JSON.
    pub fn app_user(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.app_user.insert(name.to_owned(), to_json(value.into()));
        self
    }

    /// Sets an attribute of the projected Okta user profile (`data.user.profile`).
    ///
    /// # Panics
    /// When `value` is a [`Value::Json`] whose text is not JSON.
    pub fn user(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.user.insert(name.to_owned(), to_json(value.into()));
        self
    }

    /// The existing Okta user the import matched (`data.user.id`): the link target when the
    /// action is [`Action::LinkUser`].
    pub fn matched_user(mut self, id: &str) -> Self {
        self.user_id = Some(id.to_owned());
        self
    }

    /// What Okta is about to do (`data.action.result`).
    pub fn action(mut self, action: Action) -> Self {
        self.action = action;
        self
    }

    /// Adds an attribute in conflict (`data.context.conflicts`), e.g. `"login"`.
    pub fn conflict(mut self, attribute: &str) -> Self {
        self.conflicts.push(attribute.to_owned());
        self
    }

    /// The users Okta matched (`data.context.matches`): ids (`"00u1"`), or objects as
    /// [`Value::Json`] (`Value::Json(r#"{"id": "00u2"}"#.into())`).
    ///
    /// # Panics
    /// When an entry is a [`Value::Json`] whose text is not JSON.
    pub fn matches<V: Into<Value>>(mut self, matches: impl IntoIterator<Item = V>) -> Self {
        self.matches = matches.into_iter().map(|m| to_json(m.into())).collect();
        self
    }

    /// The match policy (`data.context.policy`), e.g. `["EMAIL"]`.
    pub fn policy<S: Into<String>>(mut self, policy: impl IntoIterator<Item = S>) -> Self {
        self.policy = policy.into_iter().map(Into::into).collect();
        self
    }

    /// The app the import comes from (`data.context.application`).
    pub fn application(mut self, application: Application) -> Self {
        self.application = Some(application);
        self
    }

    /// The import job (`data.context.job`).
    pub fn job(mut self, job: Job) -> Self {
        self.job = Some(job);
        self
    }

    /// The body Okta would send, as JSON text (to save as a sample for `importhook try`).
    pub fn okta_json(&self) -> String {
        let mut context = Map::new();
        context.insert("conflicts".into(), json!(self.conflicts));
        context.insert("matches".into(), Json::Array(self.matches.clone()));
        context.insert("policy".into(), json!(self.policy));
        if let Some(app) = &self.application {
            context.insert(
                "application".into(),
                json!({"id": app.id, "name": app.name, "label": app.label, "status": app.status}),
            );
        }
        if let Some(job) = &self.job {
            context.insert("job".into(), json!({"id": job.id, "type": job.kind}));
        }
        let mut user = Map::new();
        if let Some(id) = &self.user_id {
            user.insert("id".into(), json!(id));
        }
        user.insert("profile".into(), Json::Object(self.user.clone()));
        let result = match self.action {
            Action::CreateUser => "CREATE_USER",
            Action::LinkUser => "LINK_USER",
        };
        json!({
            "eventId": self.event_id,
            "eventType": importhook_okta::EVENT_TYPE,
            "data": {
                "context": context,
                "action": {"result": result},
                "appUser": {"profile": self.app_user},
                "user": user,
            }
        })
        .to_string()
    }

    /// Says that a strategy before this one changed the Okta user attribute `name` (what
    /// [`crate::Profile::was_changed`] then reports), as in a pipeline of several plugins.
    pub fn changed_user(mut self, name: &str) -> Self {
        self.changed.push((ProfileKind::User, name.to_owned()));
        self
    }

    /// Says that a strategy before this one changed the app user attribute `name`.
    pub fn changed_app_user(mut self, name: &str) -> Self {
        self.changed.push((ProfileKind::AppUser, name.to_owned()));
        self
    }

    /// The request, read from [`RequestBuilder::okta_json`] as the host reads Okta's body.
    pub fn build(&self) -> Request {
        let body = self.okta_json();
        let source = crate::okta_json::OktaJson::parse(&body).unwrap_or_else(|e| {
            // Every body this builder writes is one the host hands to a strategy.
            panic!("the request builder wrote a body the host would not run: {e}")
        });
        Request::from_owned_source(Box::new(source.with_changed(self.changed.clone())))
    }
}

impl Request {
    /// A builder for a request as Okta would send it (see [`RequestBuilder`]).
    pub fn builder() -> RequestBuilder {
        RequestBuilder::default()
    }

    /// The request the host runs every plugin on once when it loads it (and at
    /// `importhook check`): no attribute, no conflict, no match, `CREATE_USER`, event id
    /// `importhook-load-check`. A strategy that panics or traps on it is refused at load; an
    /// `Err` or an empty outcome is fine. Test yours with it.
    pub fn minimal() -> Self {
        Self::builder().event_id("importhook-load-check").build()
    }
}

fn scalar_to_json(scalar: Scalar) -> Json {
    match scalar {
        Scalar::Null => Json::Null,
        Scalar::Boolean(b) => Json::Bool(b),
        Scalar::Integer(i) => json!(i),
        Scalar::Number(f) => json!(f),
        Scalar::Text(t) => Json::String(t),
    }
}

/// A plugin value as Okta's JSON: the inverse of the host's mapping.
fn to_json(value: Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Boolean(b) => Json::Bool(b),
        Value::Integer(i) => json!(i),
        Value::Number(f) => json!(f),
        Value::Text(t) => Json::String(t),
        Value::List(items) => Json::Array(items.into_iter().map(scalar_to_json).collect()),
        Value::Json(text) => serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("Value::Json holds text that is not JSON ({e}): {text}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_request_reads_like_the_same_json_written_by_hand() {
        let built = Request::builder()
            .event_id("ev1")
            .app_user("middleName", "Alexander")
            .app_user("age", 40i64)
            .app_user("vip", true)
            .app_user("x", Value::Null)
            .app_user("groups", vec!["a".to_owned(), "b".to_owned()])
            .user("login", "george.smith@example.com")
            .matched_user("00u9")
            .action(Action::LinkUser)
            .conflict("login")
            .matches([Value::from("00u1"), Value::Json(r#"{"id": "00u2"}"#.into())])
            .policy(["EMAIL"])
            .application(Application {
                id: "0oa1".into(),
                name: "csv".into(),
                label: "CSV".into(),
                status: "ACTIVE".into(),
            })
            .job(Job {
                id: "ij1".into(),
                kind: "import:users".into(),
            })
            .build();
        let by_hand = Request::from_okta_json(
            r#"{"eventId": "ev1", "eventType": "com.okta.import.transform",
            "data": {
                "context": {"conflicts": ["login"], "matches": ["00u1", {"id": "00u2"}],
                            "policy": ["EMAIL"], "application": {"id": "0oa1", "name": "csv", "label": "CSV", "status": "ACTIVE"},
                            "job": {"id": "ij1", "type": "import:users"}},
                "action": {"result": "LINK_USER"},
                "appUser": {"profile": {"middleName": "Alexander", "age": 40, "vip": true, "x": null, "groups": ["a", "b"]}},
                "user": {"id": "00u9", "profile": {"login": "george.smith@example.com"}}
            }}"#,
        )
        .expect("parses");
        for request in [&built, &by_hand] {
            assert_eq!(
                request.app_user().names(),
                ["middleName", "age", "vip", "x", "groups"]
            );
        }
        let read = |r: &Request| {
            (
                r.event_id(),
                r.app_user().iter().collect::<Vec<_>>(),
                r.user().iter().collect::<Vec<_>>(),
                r.action(),
                r.link_target(),
                r.matched_user_id(),
                r.conflicts(),
                r.matches(),
                r.match_ids(),
                r.policy(),
                r.application(),
                r.job(),
            )
        };
        assert_eq!(read(&built), read(&by_hand));
        assert_eq!(built.match_ids(), ["00u1", "00u2"]);
    }

    #[test]
    fn an_empty_builder_and_the_load_check_request() {
        let request = Request::builder().build();
        assert_eq!(request.event_id(), "test-event");
        assert_eq!(request.action(), Action::CreateUser);
        assert!(request.user().names().is_empty() && request.conflicts().is_empty());

        let minimal = Request::minimal();
        assert_eq!(minimal.event_id(), "importhook-load-check");
        assert_eq!(minimal.action(), Action::CreateUser);
        assert_eq!(minimal.link_target(), None);
        assert_eq!(minimal.matched_user_id(), None);
        assert!(minimal.app_user().names().is_empty() && minimal.user().names().is_empty());
        assert!(minimal.conflicts().is_empty() && minimal.matches().is_empty());
        assert!(minimal.application().is_none() && minimal.job().is_none());
    }

    #[test]
    #[should_panic(expected = "not JSON")]
    fn json_values_must_be_json() {
        let _ = Request::builder().user("x", Value::Json("{nope".into()));
    }
}
