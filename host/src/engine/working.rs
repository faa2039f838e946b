//! The working request: what Okta sent under what the plugins so far changed, shared (not
//! copied) by the calls of one pipeline. Owns the merge rules (plugins run in order, each sees
//! the request as the ones before it left it, later values win, and Okta gets only the net
//! change against what it sent) and the guard on states no plugin may leave
//! ([`Working::check`]).

use std::sync::Arc;

use serde_json::Value as Json;

use crate::okta::login::{LoginFormat, LoginProblem};
use crate::okta::{
    ActionResult, Decision, HookResponse, ImportContext, ImportRequest, JsonText, Profile,
    RawProfile, Unreadable,
};

/// What one plugin call returned, its values within the caps (the pipeline checks it against
/// the working request before applying it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Contribution {
    /// App user profile updates, in the plugin's order.
    pub app_user: Vec<(String, Json)>,
    /// Okta user profile updates.
    pub user: Vec<(String, Json)>,
    /// A new decision.
    pub decision: Option<Decision>,
    /// The plugin's note.
    pub note: Option<String>,
}

/// The request as the plugins so far have left it: what Okta sent, shared and never copied,
/// under the attributes the plugins set. A pipeline of strategies that each touch a login
/// then costs its few changes, not two copies of profiles of ~60 attributes per request.
/// Plugin calls share it behind an `Arc`; the pipeline applies a contribution between calls,
/// when no call holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Working {
    /// What Okta sent.
    original: Arc<ImportRequest>,
    /// Attributes set by the plugins so far, per profile (last value wins).
    app_user_set: Profile,
    user_set: Profile,
    /// Current action.
    pub action: ActionResult,
    /// Current link target (only meaningful with `LINK_USER`).
    pub link_target: Option<String>,
    /// What Okta accepts as a login in this org (`login_format`).
    login_format: LoginFormat,
    /// Attributes the strategies so far changed, per profile, in first-change order (what a
    /// plugin's `changed` reads).
    changed_app_user: Vec<String>,
    changed_user: Vec<String>,
}

/// One profile as the plugins so far have left it.
#[derive(Debug, Clone, Copy)]
pub struct ProfileView<'a> {
    sent: &'a RawProfile,
    set: &'a Profile,
}

/// One attribute's current value: set by a plugin, or as Okta sent it (read when needed).
#[derive(Debug, Clone, Copy)]
pub enum Current<'a> {
    /// A plugin's value.
    Set(&'a Json),
    /// Okta's text.
    Sent(JsonText<'a>),
}

impl Current<'_> {
    /// The value, read.
    pub fn read(self) -> Result<Json, Unreadable> {
        match self {
            Self::Set(value) => Ok(value.clone()),
            Self::Sent(text) => text.parse(),
        }
    }
}

/// Whether Okta sent `value` as `name`.
fn sent_as(sent: &RawProfile, name: &str, value: &Json) -> bool {
    sent.get(name).is_some_and(|text| text.reads_as(value))
}

impl<'a> ProfileView<'a> {
    /// The attribute's current value.
    pub fn get(&self, name: &str) -> Option<Current<'a>> {
        match self.set.get(name) {
            Some(value) => Some(Current::Set(value)),
            None => self.sent.get(name).map(Current::Sent),
        }
    }

    /// Whether the attribute's current value is `value`.
    fn holds(&self, name: &str, value: &Json) -> bool {
        match self.set.get(name) {
            Some(current) => current == value,
            None => sent_as(self.sent, name, value),
        }
    }

    /// The attribute names: Okta's in Okta's order, then the ones plugins added, in the order
    /// they were added.
    pub fn names(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        let sent = self.sent;
        sent.names().chain(
            self.set
                .keys()
                .map(String::as_str)
                .filter(move |name| !sent.contains_key(name)),
        )
    }

    /// Attributes whose value differs from (or is absent in) what Okta sent, in the order the
    /// plugins first set them: the work is the plugins' few changes, not the whole profile.
    fn changed(&self) -> Profile {
        self.set
            .iter()
            .filter(|(name, value)| !sent_as(self.sent, name, value))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect()
    }
}

/// Why a plugin's contribution is refused: it would leave a state Okta must never get. Says
/// what is wrong, never the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidContribution {
    /// The Okta user profile's `login` set to `null` or to something other than a string.
    #[error("user profile login set to null or to a value that is not a string")]
    LoginNotText,
    /// The Okta user profile's `login` set to an empty or whitespace-only string.
    #[error("user profile login set to an empty or whitespace-only string")]
    BlankLogin,
    /// The Okta user profile's `login` set to a value Okta refuses (too long, a control or
    /// bidirectional-control character, not an email address where the org requires one).
    #[error("user profile login refused as Okta would: {0}")]
    LoginRefused(LoginProblem),
    /// A `LINK_USER` outcome together with a `login` other than the one Okta sent.
    #[error("user profile login changed while the user is to be linked (LINK_USER)")]
    LoginChangedOnLink,
}

/// The Okta user profile attribute Okta requires and keys users on.
const LOGIN: &str = "login";

impl Working {
    /// Checks a plugin's `contribution` before it is applied (`self` is the request as the
    /// plugins before it left it, over what Okta sent). Refused, the contribution is the
    /// plugin's invalid output, and the request stays as it was. Refuses:
    ///
    /// - a `login` update (Okta user profile) to `null` or a non-string: Okta requires a login;
    /// - a `login` update to an empty or whitespace-only string;
    /// - a `login` update Okta would refuse ([`crate::okta::login::check`] under the
    ///   configured `login_format`): more than 100 characters, a control or bidirectional
    ///   control character, or (format `email`, Okta's default) not `local@domain` of 5 or
    ///   more characters. Okta would refuse to create the user, after the hook answered;
    /// - a state after applying in which the user is to be linked (`LINK_USER`, decided by this
    ///   or an earlier plugin, or planned by Okta) with a `login` other than Okta's: a link
    ///   takes an existing user as is, and a changed login would be sent with it as a profile
    ///   update. The contribution that brings the two together is the one refused, whichever
    ///   came first.
    ///
    /// Only the Okta user profile is checked: app user profiles have no `login` of Okta's.
    /// Since every applied contribution passed, the final state never breaks these rules.
    pub fn check(&self, contribution: &Contribution) -> Result<(), InvalidContribution> {
        let sent = &self.original.data.user.profile;
        // Whether the login is still the one Okta sent (or still absent, as Okta sent it).
        let mut login_as_sent = match self.user_set.get(LOGIN) {
            None => true,
            Some(value) => sent_as(sent, LOGIN, value),
        };
        for (name, value) in &contribution.user {
            if name != LOGIN {
                continue;
            }
            match value {
                Json::String(text) if text.trim().is_empty() => {
                    return Err(InvalidContribution::BlankLogin);
                }
                Json::String(text) => {
                    // Okta's own value is no change (the net diff leaves it out).
                    login_as_sent = sent_as(sent, LOGIN, value);
                    if !login_as_sent {
                        crate::okta::login::check(text, self.login_format)
                            .map_err(InvalidContribution::LoginRefused)?;
                    }
                }
                _ => return Err(InvalidContribution::LoginNotText),
            }
        }
        let action = match &contribution.decision {
            None => self.action,
            Some(Decision::CreateUser) => ActionResult::CreateUser,
            Some(Decision::LinkUser(_)) => ActionResult::LinkUser,
        };
        if action == ActionResult::LinkUser && !login_as_sent {
            return Err(InvalidContribution::LoginChangedOnLink);
        }
        Ok(())
    }

    /// The request as Okta sent it. The pipeline runs only on requests whose action is known (the
    /// endpoint passes the others through, see [`ImportRequest::unhandled`]); for any other,
    /// Okta's plan reads as `CREATE_USER`.
    pub fn from_request(request: &Arc<ImportRequest>) -> Self {
        let action = planned(request);
        Self {
            original: request.clone(),
            app_user_set: Profile::new(),
            user_set: Profile::new(),
            action,
            link_target: match action {
                ActionResult::LinkUser => request.data.user.id.as_deref().map(str::to_owned),
                ActionResult::CreateUser => None,
            },
            login_format: LoginFormat::default(),
            changed_app_user: Vec::new(),
            changed_user: Vec::new(),
        }
    }

    /// The request a plugin's load check runs on: no attributes, no conflict, no match.
    pub fn minimal() -> Self {
        Self::from_request(&Arc::new(ImportRequest {
            event_id: "importhook-load-check".into(),
            ..ImportRequest::default()
        }))
    }

    /// The same request, checking logins against `format` (the org's `login_format`).
    pub fn with_login_format(mut self, format: LoginFormat) -> Self {
        self.login_format = format;
        self
    }

    /// What Okta sent.
    pub fn original(&self) -> &ImportRequest {
        &self.original
    }

    /// The app user profile as the plugins so far left it.
    pub fn app_user(&self) -> ProfileView<'_> {
        ProfileView {
            sent: &self.original.data.app_user.profile,
            set: &self.app_user_set,
        }
    }

    /// The Okta user profile as the plugins so far left it.
    pub fn user(&self) -> ProfileView<'_> {
        ProfileView {
            sent: &self.original.data.user.profile,
            set: &self.user_set,
        }
    }

    /// Okta's id of this hook call.
    pub fn event_id(&self) -> &str {
        &self.original.event_id
    }

    /// `data.user.id`: the user Okta matched, if any.
    pub fn matched_user_id(&self) -> Option<&str> {
        self.original.data.user.id.as_deref()
    }

    /// `data.context`.
    pub fn context(&self) -> &ImportContext {
        &self.original.data.context
    }

    /// The app user attributes the strategies so far changed, in first-change order.
    pub fn changed_app_user(&self) -> &[String] {
        &self.changed_app_user
    }

    /// The Okta user attributes the strategies so far changed, in first-change order.
    pub fn changed_user(&self) -> &[String] {
        &self.changed_user
    }

    /// Applies one plugin's accepted contribution; later values win.
    pub fn apply(&mut self, contribution: Contribution) {
        let app_user = ProfileView {
            sent: &self.original.data.app_user.profile,
            set: &self.app_user_set,
        };
        note_changes(&mut self.changed_app_user, app_user, &contribution.app_user);
        let user = ProfileView {
            sent: &self.original.data.user.profile,
            set: &self.user_set,
        };
        note_changes(&mut self.changed_user, user, &contribution.user);
        for (name, value) in contribution.app_user {
            self.app_user_set.insert(name, value);
        }
        for (name, value) in contribution.user {
            self.user_set.insert(name, value);
        }
        match contribution.decision {
            None => {}
            Some(Decision::CreateUser) => {
                self.action = ActionResult::CreateUser;
                self.link_target = None;
            }
            Some(Decision::LinkUser(id)) => {
                self.action = ActionResult::LinkUser;
                self.link_target = Some(id);
            }
        }
    }

    /// The net change against what Okta sent, as Okta commands (`204` when empty).
    pub fn response(&self) -> HookResponse {
        let original = &*self.original;
        let app_user = self.app_user().changed();
        let user = self.user().changed();
        let initial_action = planned(original);
        let initial_target = match initial_action {
            ActionResult::LinkUser => original.data.user.id.as_deref(),
            ActionResult::CreateUser => None,
        };
        let decision = match (self.action, &self.link_target) {
            (ActionResult::CreateUser, _) if initial_action == ActionResult::CreateUser => None,
            (ActionResult::CreateUser, _) => Some(Decision::CreateUser),
            // A link is only ever emitted together with its target.
            (ActionResult::LinkUser, Some(target))
                if initial_action != ActionResult::LinkUser
                    || initial_target != Some(target.as_str()) =>
            {
                Some(Decision::LinkUser(target.clone()))
            }
            (ActionResult::LinkUser, _) => None,
        };
        HookResponse::from_changes(app_user, user, decision)
    }
}

/// Adds to `changed` the attributes of `updates` whose value differs from `before`'s.
fn note_changes(changed: &mut Vec<String>, before: ProfileView<'_>, updates: &[(String, Json)]) {
    for (name, value) in updates {
        if !before.holds(name, value) && !changed.contains(name) {
            changed.push(name.clone());
        }
    }
}

/// What Okta planned, as [`Working::from_request`] reads it.
fn planned(request: &ImportRequest) -> ActionResult {
    request
        .data
        .action
        .result
        .known()
        .unwrap_or(ActionResult::CreateUser)
}

#[cfg(test)]
mod tests;

/// What a plugin's `request` resource handle points at: the working request, shared for the
/// call (the WIT bindings name it; [`super::capability::request`] serves it).
#[derive(Debug)]
pub struct RequestView(pub Arc<Working>);
