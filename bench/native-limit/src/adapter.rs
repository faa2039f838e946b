//! Runs an SDK [`Strategy`] natively on the host's state: the request is built from the
//! working profiles exactly as the host builds a plugin's input, and the outcome is turned
//! into a contribution as the host turns a plugin's output, minus the sandbox in between.

use std::marker::PhantomData;

use importhook::okta::{ActionResult, Decision, ImportRequest, Profile};
use importhook::plugins::{Contribution, NativeStrategy, Working};
use importhook_sdk::__private::{request_from_wit, value_from_json};
use importhook_sdk::bindings::importhook::plugin::types;
use importhook_sdk::{Attribute, Config, Scalar, Strategy, Value};
use serde_json::Value as Json;

/// One strategy, compiled in.
pub struct Native<S> {
    name: String,
    config: Config,
    strategy: PhantomData<fn() -> S>,
}

impl<S> std::fmt::Debug for Native<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Native").field("name", &self.name).finish()
    }
}

impl<S> Native<S> {
    /// The strategy under `name`, with its default configuration.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            config: Config::new(),
            strategy: PhantomData,
        }
    }
}

impl<S: Strategy> NativeStrategy for Native<S> {
    fn name(&self) -> &str {
        &self.name
    }

    fn transform(
        &self,
        request: &ImportRequest,
        working: &Working,
    ) -> Result<Contribution, String> {
        let input = request_from_wit(sdk_request(request, working));
        let outcome = S::transform(&input, &self.config)?;
        Ok(Contribution {
            app_user: updates(outcome.app_user_updates()),
            user: updates(outcome.user_updates()),
            decision: outcome.decision().map(|d| match d {
                types::Decision::CreateUser => Decision::CreateUser,
                types::Decision::LinkUser(id) => Decision::LinkUser(id.clone()),
            }),
            note: outcome.note_text().map(str::to_owned),
        })
    }
}

fn profile(profile: &Profile) -> Vec<Attribute> {
    profile
        .iter()
        .map(|(name, value)| Attribute {
            name: name.clone(),
            value: value_from_json(value),
        })
        .collect()
}

fn sdk_request(request: &ImportRequest, working: &Working) -> types::Request {
    let context = &request.data.context;
    types::Request {
        event_id: request.event_id.clone(),
        app_user: profile(&working.app_user),
        user: profile(&working.user),
        matched_user_id: request.data.user.id.clone(),
        action: match working.action {
            ActionResult::CreateUser => types::Action::CreateUser,
            ActionResult::LinkUser => types::Action::LinkUser,
        },
        link_target: working.link_target.clone(),
        conflicts: context.conflicts.clone(),
        matches: context.matches.iter().map(value_from_json).collect(),
        policy: context.policy.clone(),
        application: context.application.as_ref().map(|a| types::Application {
            id: a.id.clone(),
            name: a.name.clone(),
            label: a.label.clone(),
            status: a.status.clone(),
        }),
        job: context.job.as_ref().map(|j| types::Job {
            id: j.id.clone(),
            kind: j.kind.clone(),
        }),
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
