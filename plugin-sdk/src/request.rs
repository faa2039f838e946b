//! The imported user as a strategy sees it: typed accessors over a [`Source`], which is the
//! host's request resource inside a plugin and Okta's JSON in native tests. Values are read
//! on demand: a strategy pays only for what it reads.

use serde_json::Value as Json;

use crate::source::{Action, ProfileKind, Source};
use crate::value::{Application, Job, Value};

/// One imported user: Okta's request, with earlier strategies' changes applied.
pub struct Request {
    source: SourceRef,
}

enum SourceRef {
    /// A source that lives for the call [`Request::with_source`] makes: the pointer is never
    /// read after it returns (see there).
    Borrowed(*const (dyn Source + 'static)),
    // Only native code (tests) owns its source: a plugin borrows the host's request.
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    Owned(Box<dyn Source>),
    /// Inside a plugin, the host's request, for the call `Request::with_host` makes (as
    /// `Borrowed`).
    #[cfg(target_arch = "wasm32")]
    Host(*const crate::__guest::HostRequest<'static>),
}

/// What a request reads through. Inside a plugin, the host's request is called directly, not
/// through `dyn Source`: a trait object's table names every method, so each plugin would
/// import every host function, used or not, and each import costs every fresh instance its
/// wiring. Called directly, a plugin imports only what its strategy reads.
#[derive(Clone, Copy)]
enum Reader<'r> {
    Dyn(&'r dyn Source),
    #[cfg(target_arch = "wasm32")]
    Host(&'r crate::__guest::HostRequest<'r>),
}

/// Calls `method` on the source behind a [`Reader`].
macro_rules! read {
    ($reader:expr, $method:ident($($arg:expr),*)) => {
        match $reader {
            Reader::Dyn(source) => source.$method($($arg),*),
            #[cfg(target_arch = "wasm32")]
            Reader::Host(host) => Source::$method(host, $($arg),*),
        }
    };
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the profiles: they hold personal data.
        f.debug_struct("Request")
            .field("event_id", &self.event_id())
            .finish_non_exhaustive()
    }
}

/// A read-only view of one profile.
#[derive(Clone, Copy)]
pub struct Profile<'r> {
    source: Reader<'r>,
    kind: ProfileKind,
}

impl std::fmt::Debug for Profile<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile").field("kind", &self.kind).finish()
    }
}

impl Profile<'_> {
    /// The value of `name`, if the profile has it (a `null` value is `Some(Value::Null)`).
    /// A value the host cannot read (a lone UTF-16 surrogate, nesting 128 levels deep or more) fails
    /// the call, which the plugin's `on_error` handles; in a native test, it panics.
    pub fn get(&self, name: &str) -> Option<Value> {
        read!(self.source, get(self.kind, name))
    }

    /// The text value of `name`; `None` when absent, null or not text.
    pub fn text(&self, name: &str) -> Option<String> {
        match self.get(name)? {
            Value::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The boolean value of `name`.
    pub fn boolean(&self, name: &str) -> Option<bool> {
        self.get(name).and_then(|v| v.as_boolean())
    }

    /// The integer value of `name`.
    pub fn integer(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(|v| v.as_integer())
    }

    /// The number value of `name` (an integer or a number).
    pub fn number(&self, name: &str) -> Option<f64> {
        self.get(name).and_then(|v| v.as_number())
    }

    /// The attribute names, in Okta's order.
    pub fn names(&self) -> Vec<String> {
        read!(self.source, names(self.kind))
    }

    /// The attributes the strategies before this one changed (e.g. `["login"]` when an earlier
    /// strategy already rewrote the login), in first-change order.
    pub fn changed(&self) -> Vec<String> {
        read!(self.source, changed(self.kind))
    }

    /// True when a strategy before this one changed `name`.
    pub fn was_changed(&self, name: &str) -> bool {
        self.changed().iter().any(|n| n == name)
    }

    /// All attributes, in Okta's order (reads every value: prefer [`Profile::get`]).
    pub fn iter(&self) -> impl Iterator<Item = (String, Value)> + '_ {
        self.names().into_iter().filter_map(|name| {
            let value = self.get(&name)?;
            Some((name, value))
        })
    }
}

impl Request {
    /// Runs `f` on a request reading from `source` (see [`Source`]): how a plugin reads the
    /// host's request resource, and how a host runs a strategy natively on its own state.
    pub fn with_source<R>(source: &dyn Source, f: impl FnOnce(&Request) -> R) -> R {
        let borrowed: *const (dyn Source + '_) = source;
        // SAFETY: only the lifetime bound of the trait object changes (same layout). The
        // request lives in this frame and `f` gets it by a reference it cannot return (`R`
        // does not borrow from it) and cannot clone; everything read through it is owned. So
        // the pointer is dereferenced only while `source` is borrowed here.
        #[allow(unsafe_code)]
        let borrowed: *const (dyn Source + 'static) = unsafe { std::mem::transmute(borrowed) };
        let request = Request {
            source: SourceRef::Borrowed(borrowed),
        };
        f(&request)
    }

    /// Runs `f` on a request reading the host's request resource (see `with_source`).
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn with_host<R>(
        host: &crate::__guest::HostRequest<'_>,
        f: impl FnOnce(&Request) -> R,
    ) -> R {
        let borrowed: *const crate::__guest::HostRequest<'_> = host;
        // SAFETY: as in `with_source`: only the lifetime changes, and the pointer is read
        // only while `host` is borrowed here.
        #[allow(unsafe_code)]
        let borrowed: *const crate::__guest::HostRequest<'static> =
            unsafe { std::mem::transmute(borrowed) };
        let request = Request {
            source: SourceRef::Host(borrowed),
        };
        f(&request)
    }

    fn source(&self) -> Reader<'_> {
        match &self.source {
            // SAFETY: see `with_source`: the source outlives every `&Request` to this one.
            #[allow(unsafe_code)]
            SourceRef::Borrowed(source) => Reader::Dyn(unsafe { &**source }),
            SourceRef::Owned(source) => Reader::Dyn(source.as_ref()),
            // SAFETY: see `with_host`, as for `Borrowed`.
            #[cfg(target_arch = "wasm32")]
            #[allow(unsafe_code)]
            SourceRef::Host(host) => Reader::Host(unsafe { &**host }),
        }
    }

    /// Okta's id of this hook call.
    pub fn event_id(&self) -> String {
        read!(self.source(), event_id())
    }

    /// The app user profile (`data.appUser.profile`), e.g. the CSV columns.
    pub fn app_user(&self) -> Profile<'_> {
        Profile {
            source: self.source(),
            kind: ProfileKind::AppUser,
        }
    }

    /// The projected Okta user profile (`data.user.profile`).
    pub fn user(&self) -> Profile<'_> {
        Profile {
            source: self.source(),
            kind: ProfileKind::User,
        }
    }

    /// The existing Okta user the import matched (`data.user.id`), if any.
    pub fn matched_user_id(&self) -> Option<String> {
        read!(self.source(), matched_user_id())
    }

    /// The current action.
    pub fn action(&self) -> Action {
        read!(self.source(), action())
    }

    /// The Okta user the import will link to, when the action is [`Action::LinkUser`].
    pub fn link_target(&self) -> Option<String> {
        read!(self.source(), link_target())
    }

    /// Attributes in conflict (`data.context.conflicts`), e.g. `["login"]`.
    pub fn conflicts(&self) -> Vec<String> {
        read!(self.source(), conflicts())
    }

    /// True when `attribute` is among the conflicts.
    pub fn has_conflict(&self, attribute: &str) -> bool {
        self.conflicts().iter().any(|c| c == attribute)
    }

    /// `data.context.matches` as Okta sent them.
    pub fn matches(&self) -> Vec<Value> {
        read!(self.source(), matches())
    }

    /// The Okta user ids of `data.context.matches`: entries that are ids, or objects with a
    /// string `id`. Other entries are skipped.
    pub fn match_ids(&self) -> Vec<String> {
        self.matches()
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
    pub fn policy(&self) -> Vec<String> {
        read!(self.source(), policy())
    }

    /// `data.context.application`.
    pub fn application(&self) -> Option<Application> {
        read!(self.source(), application())
    }

    /// `data.context.job`.
    pub fn job(&self) -> Option<Job> {
        read!(self.source(), job())
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Request {
    /// Builds a request from the JSON body Okta sends (`com.okta.import.transform`), exactly
    /// as the host presents it to the first plugin. For native unit tests.
    pub fn from_okta_json(body: &str) -> Result<Self, String> {
        let source = crate::okta_json::OktaJson::parse(body)?;
        Ok(Self::from_owned_source(Box::new(source)))
    }

    pub(crate) fn from_owned_source(source: Box<dyn Source>) -> Self {
        Self {
            source: SourceRef::Owned(source),
        }
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
        assert_eq!(
            request.app_user().text("middleName").as_deref(),
            Some("Alexander")
        );
        assert_eq!(request.app_user().integer("age"), Some(40));
        assert_eq!(request.app_user().boolean("vip"), Some(true));
        assert_eq!(request.app_user().get("x"), Some(Value::Null));
        assert_eq!(request.app_user().text("missing"), None);
        assert!(matches!(request.app_user().get("groups"), Some(Value::List(l)) if l.len() == 2));
        assert_eq!(
            request.app_user().names(),
            ["middleName", "groups", "age", "vip", "x"]
        );
        assert_eq!(
            request.user().text("login").as_deref(),
            Some("george.smith@example.com")
        );
        assert_eq!(request.action(), Action::LinkUser);
        assert_eq!(request.link_target().as_deref(), Some("00u9"));
        assert_eq!(request.matched_user_id().as_deref(), Some("00u9"));
        assert!(request.has_conflict("login"));
        assert_eq!(
            request.match_ids(),
            vec!["00u1".to_owned(), "00u2".to_owned()]
        );
        assert_eq!(request.policy(), ["EMAIL".to_owned()]);
        assert_eq!(
            request.application().map(|a| a.label),
            Some("CSV".to_owned())
        );
        assert_eq!(
            request.job().map(|j| j.kind),
            Some("import:users".to_owned())
        );
    }

    #[test]
    fn a_request_without_an_action_is_refused() {
        assert!(Request::from_okta_json(r#"{"data": {}}"#).is_err());
        assert!(Request::from_okta_json("not json").is_err());
    }
}
