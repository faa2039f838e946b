//! The plugin side of the contract (wasm only): the host's request resource as a [`Source`],
//! the conversions between the generated WIT types and the SDK's own, the glue from the WIT
//! exports to a [`crate::Strategy`], and the panic hook that tells the host why a plugin
//! trapped.

use crate::__private::bindings::importhook::plugin::{config, types};
use crate::error::Error;
use crate::outcome::Outcome;
use crate::request::Request;
use crate::source::{Action, ProfileKind, Source};
use crate::strategy::Strategy;
use crate::value::{Application, Attribute, Decision, Job, Scalar, Value};

/// The host's request, read through its resource methods: each call copies only its answer.
pub(crate) struct HostRequest<'a>(&'a types::Request);

fn profile(kind: ProfileKind) -> types::Profile {
    match kind {
        ProfileKind::AppUser => types::Profile::AppUser,
        ProfileKind::User => types::Profile::User,
    }
}

fn scalar_from_wit(scalar: types::Scalar) -> Scalar {
    match scalar {
        types::Scalar::Null => Scalar::Null,
        types::Scalar::Boolean(b) => Scalar::Boolean(b),
        types::Scalar::Integer(i) => Scalar::Integer(i),
        types::Scalar::Number(f) => Scalar::Number(f),
        types::Scalar::Text(t) => Scalar::Text(t),
    }
}

fn scalar_to_wit(scalar: Scalar) -> types::Scalar {
    match scalar {
        Scalar::Null => types::Scalar::Null,
        Scalar::Boolean(b) => types::Scalar::Boolean(b),
        Scalar::Integer(i) => types::Scalar::Integer(i),
        Scalar::Number(f) => types::Scalar::Number(f),
        Scalar::Text(t) => types::Scalar::Text(t),
    }
}

fn value_from_wit(value: types::Value) -> Value {
    match value {
        types::Value::Null => Value::Null,
        types::Value::Boolean(b) => Value::Boolean(b),
        types::Value::Integer(i) => Value::Integer(i),
        types::Value::Number(f) => Value::Number(f),
        types::Value::Text(t) => Value::Text(t),
        types::Value::List(items) => Value::List(items.into_iter().map(scalar_from_wit).collect()),
        types::Value::Json(text) => Value::Json(text),
    }
}

fn value_to_wit(value: Value) -> types::Value {
    match value {
        Value::Null => types::Value::Null,
        Value::Boolean(b) => types::Value::Boolean(b),
        Value::Integer(i) => types::Value::Integer(i),
        Value::Number(f) => types::Value::Number(f),
        Value::Text(t) => types::Value::Text(t),
        Value::List(items) => types::Value::List(items.into_iter().map(scalar_to_wit).collect()),
        Value::Json(text) => types::Value::Json(text),
    }
}

fn attributes_to_wit(attributes: Vec<Attribute>) -> Vec<types::Attribute> {
    attributes
        .into_iter()
        .map(|a| types::Attribute {
            name: a.name,
            value: value_to_wit(a.value),
        })
        .collect()
}

fn outcome_to_wit(outcome: Outcome) -> types::Outcome {
    let (app_user, user, decision, note) = outcome.into_parts();
    types::Outcome {
        app_user_updates: attributes_to_wit(app_user),
        user_updates: attributes_to_wit(user),
        decision: decision.map(|d| match d {
            Decision::CreateUser => types::Decision::CreateUser,
            Decision::LinkUser(id) => types::Decision::LinkUser(id),
        }),
        note,
    }
}

impl Source for HostRequest<'_> {
    fn event_id(&self) -> String {
        self.0.event_id()
    }

    fn get(&self, kind: ProfileKind, name: &str) -> Option<Value> {
        self.0.get(profile(kind), name).map(value_from_wit)
    }

    fn names(&self, kind: ProfileKind) -> Vec<String> {
        self.0.names(profile(kind))
    }

    fn changed(&self, kind: ProfileKind) -> Vec<String> {
        self.0.changed(profile(kind))
    }

    fn matched_user_id(&self) -> Option<String> {
        self.0.matched_user_id()
    }

    fn action(&self) -> Action {
        match self.0.action() {
            types::Action::CreateUser => Action::CreateUser,
            types::Action::LinkUser => Action::LinkUser,
        }
    }

    fn link_target(&self) -> Option<String> {
        self.0.link_target()
    }

    fn conflicts(&self) -> Vec<String> {
        self.0.conflicts()
    }

    fn matches(&self) -> Vec<Value> {
        self.0.matches().into_iter().map(value_from_wit).collect()
    }

    fn policy(&self) -> Vec<String> {
        self.0.policy()
    }

    fn application(&self) -> Option<Application> {
        self.0.application().map(|a| Application {
            id: a.id,
            name: a.name,
            label: a.label,
            status: a.status,
        })
    }

    fn job(&self) -> Option<Job> {
        self.0.job().map(|j| Job {
            id: j.id,
            kind: j.kind,
        })
    }
}

/// The plugin's `[config]` read into the strategy's type. Read again on every call: a
/// per-call instance lives for one call anyway, and the table is small.
fn host_config<S: Strategy>() -> Result<S::Config, String> {
    let entries = config::entries()
        .into_iter()
        .map(|a| (a.name, value_from_wit(a.value)));
    crate::config::read(entries).map_err(Error::into_message)
}

/// The WIT `transform` export.
pub fn run<S: Strategy>(request: &types::Request) -> Result<types::Outcome, String> {
    crate::alloc::enter_call();
    install_panic_hook();
    let config = host_config::<S>()?;
    let host = HostRequest(request);
    Request::with_host(&host, |request| S::transform(request, &config))
        .map(outcome_to_wit)
        .map_err(Error::into_message)
}

/// The WIT `validate-config` export: the table must read into the strategy's type, then pass
/// its own checks.
pub fn validate_config<S: Strategy>() -> Result<(), String> {
    crate::alloc::enter_call();
    install_panic_hook();
    let config = host_config::<S>()?;
    S::validate_config(&config).map_err(Error::into_message)
}

/// Sends a panic's message and location to the host before the plugin traps: without WASI
/// there is no stderr, and the host would see only an `unreachable` trap.
fn install_panic_hook() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            crate::__private::bindings::importhook::plugin::log::panicked(&info.to_string());
        }));
    });
}
