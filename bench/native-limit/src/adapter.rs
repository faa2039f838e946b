//! Runs an SDK [`Strategy`] natively on the host's working request: the strategy reads it
//! through the SDK's [`Source`] on demand, as a plugin reads the host's request
//! resource, and its outcome becomes a contribution as a plugin's does, minus the sandbox.

use std::marker::PhantomData;

use importhook::engine::{Contribution, NativeStrategy, Working};
use importhook::okta::{ActionResult, Decision, to_strings};
use importhook_sdk::{
    Action, Application, Attribute, Job, ProfileKind, Request, Scalar, Source, Strategy, Value,
    value_from_json,
};
use serde_json::Value as Json;

/// One strategy, compiled in.
pub struct Native<S: Strategy> {
    name: String,
    config: S::Config,
    strategy: PhantomData<fn() -> S>,
}

impl<S: Strategy> std::fmt::Debug for Native<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Native").field("name", &self.name).finish()
    }
}

impl<S: Strategy> Native<S> {
    /// The strategy under `name`, with its configuration from an empty `[config]` table.
    ///
    /// # Panics
    /// When the strategy refuses an empty table.
    pub fn new(name: &str) -> Self {
        let empty: [(&str, Value); 0] = [];
        Self {
            name: name.to_owned(),
            config: importhook_sdk::load_config::<S>(empty)
                .unwrap_or_else(|e| panic!("{name} refuses an empty [config]: {e}")),
            strategy: PhantomData,
        }
    }
}

impl<S: Strategy> NativeStrategy for Native<S>
where
    S::Config: Send + Sync,
{
    fn name(&self) -> &str {
        &self.name
    }

    fn transform(&self, state: &Working) -> Result<Contribution, String> {
        let source = HostState(state);
        let outcome = Request::with_source(&source, |request| S::transform(request, &self.config))
            .map_err(importhook_sdk::Error::into_message)?;
        Ok(Contribution {
            app_user: updates(outcome.app_user_updates()),
            user: updates(outcome.user_updates()),
            decision: outcome.decision().map(|d| match d {
                importhook_sdk::Decision::CreateUser => Decision::CreateUser,
                importhook_sdk::Decision::LinkUser(id) => Decision::LinkUser(id.clone()),
            }),
            note: outcome.note().map(str::to_owned),
        })
    }
}

/// The host's request state as the SDK reads it.
struct HostState<'a>(&'a Working);

impl Source for HostState<'_> {
    fn event_id(&self) -> String {
        self.0.event_id().to_owned()
    }

    fn get(&self, profile: ProfileKind, name: &str) -> Option<Value> {
        let working = self.0;
        let profile = match profile {
            ProfileKind::AppUser => working.app_user(),
            ProfileKind::User => working.user(),
        };
        // An unreadable value (a lone surrogate) reads as absent here; the wasm host fails the
        // plugin's call instead. Okta's benchmark request holds none.
        let value = profile.get(name)?.read().ok()?;
        Some(value_from_json(&value))
    }

    fn names(&self, profile: ProfileKind) -> Vec<String> {
        let working = self.0;
        match profile {
            ProfileKind::AppUser => working.app_user().names().map(str::to_owned).collect(),
            ProfileKind::User => working.user().names().map(str::to_owned).collect(),
        }
    }

    fn changed(&self, profile: ProfileKind) -> Vec<String> {
        match profile {
            ProfileKind::AppUser => self.0.changed_app_user().to_vec(),
            ProfileKind::User => self.0.changed_user().to_vec(),
        }
    }

    fn matched_user_id(&self) -> Option<String> {
        self.0.matched_user_id().map(str::to_owned)
    }

    fn action(&self) -> Action {
        match self.0.action {
            ActionResult::CreateUser => Action::CreateUser,
            ActionResult::LinkUser => Action::LinkUser,
        }
    }

    fn link_target(&self) -> Option<String> {
        self.0.link_target.clone()
    }

    fn conflicts(&self) -> Vec<String> {
        to_strings(&self.0.context().conflicts)
    }

    fn matches(&self) -> Vec<Value> {
        self.0
            .context()
            .matches
            .iter()
            .filter_map(|text| text.parse().ok())
            .map(|value| value_from_json(&value))
            .collect()
    }

    fn policy(&self) -> Vec<String> {
        to_strings(&self.0.context().policy)
    }

    fn application(&self) -> Option<Application> {
        self.0.context().application.as_ref().map(|a| Application {
            id: a.id.to_string(),
            name: a.name.to_string(),
            label: a.label.to_string(),
            status: a.status.to_string(),
        })
    }

    fn job(&self) -> Option<Job> {
        self.0.context().job.as_ref().map(|j| Job {
            id: j.id.to_string(),
            kind: j.kind.to_string(),
        })
    }
}

fn scalar(value: &Scalar) -> Json {
    match value {
        Scalar::Null => Json::Null,
        Scalar::Boolean(b) => Json::Bool(*b),
        Scalar::Integer(i) => Json::from(*i),
        Scalar::Number(f) => Json::from(*f),
        Scalar::Text(t) => Json::String(t.clone()),
    }
}

fn updates(attributes: &[Attribute]) -> Vec<(String, Json)> {
    attributes
        .iter()
        .map(|a| {
            let value = match &a.value {
                Value::Null => Json::Null,
                Value::Boolean(b) => Json::Bool(*b),
                Value::Integer(i) => Json::from(*i),
                Value::Number(f) => Json::from(*f),
                Value::Text(t) => Json::String(t.clone()),
                Value::List(items) => Json::Array(items.iter().map(scalar).collect()),
                Value::Json(text) => serde_json::from_str(text).unwrap_or(Json::Null),
            };
            (a.name.clone(), value)
        })
        .collect()
}
