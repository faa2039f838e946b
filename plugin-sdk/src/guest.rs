//! The plugin side of the contract (wasm only): the host's request resource as a [`Source`],
//! the glue from the WIT export to a [`crate::Strategy`], and the panic hook that tells the
//! host why a plugin trapped.

use crate::bindings::importhook::plugin::types;
use crate::request::{Action, ProfileKind, Source};
use crate::{Application, Job, Value};

/// The host's request, read through its resource methods: each call copies only its answer.
pub(crate) struct HostRequest<'a>(pub(crate) &'a types::Request);

fn profile(kind: ProfileKind) -> types::Profile {
    match kind {
        ProfileKind::AppUser => types::Profile::AppUser,
        ProfileKind::User => types::Profile::User,
    }
}

impl Source for HostRequest<'_> {
    fn event_id(&self) -> String {
        self.0.event_id()
    }

    fn get(&self, kind: ProfileKind, name: &str) -> Option<Value> {
        self.0.get(profile(kind), name)
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
        self.0.matches()
    }

    fn policy(&self) -> Vec<String> {
        self.0.policy()
    }

    fn application(&self) -> Option<Application> {
        self.0.application()
    }

    fn job(&self) -> Option<Job> {
        self.0.job()
    }
}

/// Sends a panic's message and location to the host before the plugin traps: without WASI
/// there is no stderr, and the host would see only an `unreachable` trap.
pub(crate) fn install_panic_hook() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            crate::bindings::importhook::plugin::log::panicked(&info.to_string());
        }));
    });
}
