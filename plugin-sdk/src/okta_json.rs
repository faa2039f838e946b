//! The native [`Source`]: Okta's JSON body read by `importhook-okta`, the same model of the
//! contract the host reads requests with, and mapped to plugin values the way the host maps
//! them. A request the host would not hand to a strategy (another event type, an unknown or
//! missing action) is refused here with the reason, so a unit test cannot pass on input no
//! plugin would ever see.

use importhook_okta::{ActionResult, ImportRequest, RawProfile};

use crate::source::{Action, ProfileKind, Source};
use crate::value::{Application, Job, Value};

/// A request body Okta sent, for native tests.
#[derive(Debug)]
pub(crate) struct OktaJson {
    request: ImportRequest,
    action: Action,
    /// Attributes an earlier strategy changed (set by the request builder).
    changed: Vec<(ProfileKind, String)>,
}

impl OktaJson {
    pub(crate) fn parse(body: &str) -> Result<Self, String> {
        let json = serde_json::from_str(body).map_err(|e| format!("invalid JSON: {e}"))?;
        let request = ImportRequest::from_json(json).map_err(|e| e.to_string())?;
        if !request.is_for_this_hook() {
            return Err(format!(
                "eventType must be {}: the host answers 400 and runs no strategy",
                importhook_okta::EVENT_TYPE
            ));
        }
        if let Some(unhandled) = request.unhandled() {
            return Err(format!(
                "the host passes this request through without running any strategy ({})",
                unhandled.as_str()
            ));
        }
        let action = match request.data.action.result.known() {
            Some(ActionResult::LinkUser) => Action::LinkUser,
            _ => Action::CreateUser,
        };
        Ok(Self {
            request,
            action,
            changed: Vec::new(),
        })
    }

    /// Marks attributes as changed by a strategy that ran before (the builder's
    /// `changed_user` / `changed_app_user`).
    pub(crate) fn with_changed(mut self, changed: Vec<(ProfileKind, String)>) -> Self {
        self.changed = changed;
        self
    }

    fn profile(&self, kind: ProfileKind) -> &RawProfile {
        match kind {
            ProfileKind::AppUser => &self.request.data.app_user.profile,
            ProfileKind::User => &self.request.data.user.profile,
        }
    }
}

impl Source for OktaJson {
    fn event_id(&self) -> String {
        self.request.event_id.to_string()
    }

    fn get(&self, profile: ProfileKind, name: &str) -> Option<Value> {
        let text = self.profile(profile).get(name)?;
        // The host refuses a plugin's read of a value it cannot read (the call fails); a
        // native test fails here, on the read.
        let value = text
            .parse()
            .unwrap_or_else(|why| panic!("the attribute `{name}` is not readable: {why}"));
        Some(crate::json::to_value(&value))
    }

    fn names(&self, profile: ProfileKind) -> Vec<String> {
        self.profile(profile).names().map(str::to_owned).collect()
    }

    fn changed(&self, profile: ProfileKind) -> Vec<String> {
        // Okta's request as the first strategy sees it changed nothing; a builder may say
        // what earlier strategies did.
        self.changed
            .iter()
            .filter(|(kind, _)| *kind == profile)
            .map(|(_, name)| name.clone())
            .collect()
    }

    fn matched_user_id(&self) -> Option<String> {
        self.request.data.user.id.as_deref().map(str::to_owned)
    }

    fn action(&self) -> Action {
        self.action
    }

    fn link_target(&self) -> Option<String> {
        match self.action {
            Action::LinkUser => self.request.data.user.id.as_deref().map(str::to_owned),
            Action::CreateUser => None,
        }
    }

    fn conflicts(&self) -> Vec<String> {
        importhook_okta::to_strings(&self.request.data.context.conflicts)
    }

    fn matches(&self) -> Vec<Value> {
        let matches = &self.request.data.context.matches;
        let values = matches
            .to_values()
            .unwrap_or_else(|why| panic!("a match is not readable: {why}"));
        values.iter().map(crate::json::to_value).collect()
    }

    fn policy(&self) -> Vec<String> {
        importhook_okta::to_strings(&self.request.data.context.policy)
    }

    fn application(&self) -> Option<Application> {
        let app = self.request.data.context.application.as_ref()?;
        Some(Application {
            id: app.id.to_string(),
            name: app.name.to_string(),
            label: app.label.to_string(),
            status: app.status.to_string(),
        })
    }

    fn job(&self) -> Option<Job> {
        let job = self.request.data.context.job.as_ref()?;
        Some(Job {
            id: job.id.to_string(),
            kind: job.kind.to_string(),
        })
    }
}
