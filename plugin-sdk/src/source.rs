//! Where a [`crate::Request`] reads from: the host's request resource inside a plugin, Okta's
//! JSON in native tests, or a host's own state when it runs strategies natively.

use crate::value::{Application, Job, Value};

/// What Okta will do with the imported user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Create a new Okta user.
    CreateUser,
    /// Link to an existing Okta user ([`Request::link_target`]).
    LinkUser,
}

/// Which of the two profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileKind {
    /// The app user profile (`data.appUser.profile`).
    AppUser,
    /// The projected Okta user profile (`data.user.profile`).
    User,
}

/// Where a [`Request`] reads from. Inside a plugin this is the host's request resource; in
/// native tests, Okta's JSON ([`Request::from_okta_json`]). A host that runs strategies
/// natively (importhook's native-limit benchmark) implements it over its own state.
pub trait Source {
    /// Okta's id of this hook call.
    fn event_id(&self) -> String;
    /// The value of `name` in `profile`, `None` when absent (a JSON `null` is `Some(Null)`).
    fn get(&self, profile: ProfileKind, name: &str) -> Option<Value>;
    /// The attribute names of `profile`, in Okta's order.
    fn names(&self, profile: ProfileKind) -> Vec<String>;
    /// The attributes of `profile` the strategies before this one changed.
    fn changed(&self, profile: ProfileKind) -> Vec<String>;
    /// `data.user.id`.
    fn matched_user_id(&self) -> Option<String>;
    /// The current action.
    fn action(&self) -> Action;
    /// The link target, when the action is [`Action::LinkUser`].
    fn link_target(&self) -> Option<String>;
    /// `data.context.conflicts`.
    fn conflicts(&self) -> Vec<String>;
    /// `data.context.matches`.
    fn matches(&self) -> Vec<Value>;
    /// `data.context.policy`.
    fn policy(&self) -> Vec<String>;
    /// `data.context.application`.
    fn application(&self) -> Option<Application>;
    /// `data.context.job`.
    fn job(&self) -> Option<Job>;
}
