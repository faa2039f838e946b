//! The `request` resource: the imported user as the pipeline has left it so far, owned by the
//! host and read by the plugin one answer at a time. Nothing is copied into the plugin that it
//! does not ask for (WIT 0.2's point: 0.1 lowered the whole request into every call).

use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker, Resource, ResourceTable};

use super::CallState;
use crate::okta::{ActionResult, ImportContext, ImportRequest};
use crate::plugins::bindings::importhook::plugin::types::{self, Application, Job, Value};
use crate::plugins::convert;
use crate::plugins::merge::{Contribution, InvalidContribution, ProfileView, Working};

/// One request as every plugin of the pipeline sees it, shared (not copied) by their calls.
/// The pipeline changes `working` between calls, when no call holds it.
#[derive(Debug, Clone)]
pub struct RequestState {
    /// Attributes the strategies so far changed, per profile, in first-change order.
    changed_app_user: Vec<String>,
    changed_user: Vec<String>,
    /// What Okta sent, and the profiles, action and link target as the plugins so far left
    /// them.
    pub working: Working,
}

impl RequestState {
    /// The state Okta sent (shared, not copied).
    pub fn new(request: &Arc<ImportRequest>) -> Self {
        Self {
            changed_app_user: Vec::new(),
            changed_user: Vec::new(),
            working: Working::from_request(request),
        }
    }

    /// The same state, refusing logins Okta would refuse under `format` (see
    /// [`Working::check`]).
    pub fn with_login_format(mut self, format: crate::okta::login::LoginFormat) -> Self {
        self.working = self.working.with_login_format(format);
        self
    }

    /// The request a plugin's load check runs on: no attributes, no conflict, no match.
    pub fn minimal() -> Self {
        Self::new(&Arc::new(ImportRequest {
            event_id: "importhook-load-check".to_owned(),
            ..ImportRequest::default()
        }))
    }

    /// Okta's id of this hook call.
    pub fn event_id(&self) -> &str {
        &self.working.original().event_id
    }

    /// `data.user.id`.
    pub fn matched_user_id(&self) -> Option<&str> {
        self.working.original().data.user.id.as_deref()
    }

    /// `data.context`.
    pub fn context(&self) -> &ImportContext {
        &self.working.original().data.context
    }

    /// Refuses a contribution that would leave a state no plugin may leave (see
    /// [`Working::check`]).
    pub fn check(&self, contribution: &Contribution) -> Result<(), InvalidContribution> {
        self.working.check(contribution)
    }

    /// Applies an accepted contribution (see [`Working::apply`]), noting which attributes it
    /// changed.
    pub fn apply(&mut self, contribution: Contribution) {
        note_changes(
            &mut self.changed_app_user,
            self.working.app_user(),
            &contribution.app_user,
        );
        note_changes(
            &mut self.changed_user,
            self.working.user(),
            &contribution.user,
        );
        self.working.apply(contribution);
    }

    /// The attributes of `profile` the strategies so far changed.
    pub fn changed(&self, profile: types::Profile) -> &[String] {
        match profile {
            types::Profile::AppUser => &self.changed_app_user,
            types::Profile::User => &self.changed_user,
        }
    }

    /// `profile` as the strategies so far left it.
    fn profile(&self, profile: types::Profile) -> ProfileView<'_> {
        match profile {
            types::Profile::AppUser => self.working.app_user(),
            types::Profile::User => self.working.user(),
        }
    }
}

fn note_changes(
    changed: &mut Vec<String>,
    before: ProfileView<'_>,
    updates: &[(String, serde_json::Value)],
) {
    for (name, value) in updates {
        if before.get(name) != Some(value) && !changed.contains(name) {
            changed.push(name.clone());
        }
    }
}

/// What a `request` resource handle points at.
#[derive(Debug)]
pub struct RequestView(pub Arc<RequestState>);

/// Per-instance table of request handles, and how much the current call read.
#[derive(Debug, Default)]
pub struct RequestTable {
    table: ResourceTable,
    /// Payload bytes handed to the plugin in the current call (strings it read).
    pub bytes_read: usize,
}

impl RequestTable {
    /// Hands `state` to the plugin for one call.
    pub fn push(&mut self, state: Arc<RequestState>) -> wasmtime::Result<Resource<RequestView>> {
        Ok(self.table.push(RequestView(state))?)
    }

    /// Takes the handle back once the call is over, so the state is no longer shared.
    pub fn remove(&mut self, handle: Resource<RequestView>) {
        let _ = self.table.delete(handle);
    }

    pub(super) fn begin_call(&mut self) {
        self.bytes_read = 0;
    }

    fn state(&self, handle: &Resource<RequestView>) -> wasmtime::Result<Arc<RequestState>> {
        Ok(self.table.get(handle)?.0.clone())
    }

    fn read<T>(&mut self, answer: T, bytes: usize) -> T {
        self.bytes_read += bytes;
        answer
    }
}

fn strings_size(list: &[String]) -> usize {
    list.iter().map(String::len).sum()
}

impl types::Host for RequestTable {}

impl types::HostRequest for RequestTable {
    fn event_id(&mut self, handle: Resource<RequestView>) -> wasmtime::Result<String> {
        let state = self.state(&handle)?;
        let id = state.event_id();
        Ok(self.read(id.to_owned(), id.len()))
    }

    fn get(
        &mut self,
        handle: Resource<RequestView>,
        profile: types::Profile,
        name: String,
    ) -> wasmtime::Result<Option<Value>> {
        let state = self.state(&handle)?;
        let raw = state.profile(profile).get(&name);
        if raw.is_some_and(importhook_okta::holds_invalid_string) {
            // Read leniently so that other attributes still serve; reading this one is refused.
            return Err(wasmtime::Error::msg(
                "the attribute holds an invalid string (a lone UTF-16 surrogate): not readable",
            ));
        }
        let value = raw.map(convert::to_wit);
        let size = value.as_ref().map_or(0, convert::value_size);
        Ok(self.read(value, size))
    }

    fn names(
        &mut self,
        handle: Resource<RequestView>,
        profile: types::Profile,
    ) -> wasmtime::Result<Vec<String>> {
        let state = self.state(&handle)?;
        let names: Vec<String> = state.profile(profile).names().cloned().collect();
        if names
            .iter()
            .any(|n| n.contains(importhook_okta::INVALID_STRING_MARK))
        {
            return Err(wasmtime::Error::msg(
                "an attribute name holds an invalid string (a lone UTF-16 surrogate): not readable",
            ));
        }
        let size = strings_size(&names);
        Ok(self.read(names, size))
    }

    fn changed(
        &mut self,
        handle: Resource<RequestView>,
        profile: types::Profile,
    ) -> wasmtime::Result<Vec<String>> {
        let changed = self.state(&handle)?.changed(profile).to_vec();
        let size = strings_size(&changed);
        Ok(self.read(changed, size))
    }

    fn matched_user_id(
        &mut self,
        handle: Resource<RequestView>,
    ) -> wasmtime::Result<Option<String>> {
        let id = self.state(&handle)?.matched_user_id().map(str::to_owned);
        let size = id.as_ref().map_or(0, String::len);
        Ok(self.read(id, size))
    }

    fn action(&mut self, handle: Resource<RequestView>) -> wasmtime::Result<types::Action> {
        Ok(match self.state(&handle)?.working.action {
            ActionResult::CreateUser => types::Action::CreateUser,
            ActionResult::LinkUser => types::Action::LinkUser,
        })
    }

    fn link_target(&mut self, handle: Resource<RequestView>) -> wasmtime::Result<Option<String>> {
        let target = self.state(&handle)?.working.link_target.clone();
        let size = target.as_ref().map_or(0, String::len);
        Ok(self.read(target, size))
    }

    fn conflicts(&mut self, handle: Resource<RequestView>) -> wasmtime::Result<Vec<String>> {
        let conflicts = self.state(&handle)?.context().conflicts.clone();
        let size = strings_size(&conflicts);
        Ok(self.read(conflicts, size))
    }

    fn matches(&mut self, handle: Resource<RequestView>) -> wasmtime::Result<Vec<Value>> {
        let state = self.state(&handle)?;
        let matches: Vec<Value> = state
            .context()
            .matches
            .iter()
            .map(convert::to_wit)
            .collect();
        let size = matches.iter().map(convert::value_size).sum();
        Ok(self.read(matches, size))
    }

    fn policy(&mut self, handle: Resource<RequestView>) -> wasmtime::Result<Vec<String>> {
        let policy = self.state(&handle)?.context().policy.clone();
        let size = strings_size(&policy);
        Ok(self.read(policy, size))
    }

    fn application(
        &mut self,
        handle: Resource<RequestView>,
    ) -> wasmtime::Result<Option<Application>> {
        let state = self.state(&handle)?;
        let app = state.context().application.as_ref().map(|a| Application {
            id: a.id.clone(),
            name: a.name.clone(),
            label: a.label.clone(),
            status: a.status.clone(),
        });
        let size = app.as_ref().map_or(0, |a| {
            a.id.len() + a.name.len() + a.label.len() + a.status.len()
        });
        Ok(self.read(app, size))
    }

    fn job(&mut self, handle: Resource<RequestView>) -> wasmtime::Result<Option<Job>> {
        let state = self.state(&handle)?;
        let job = state.context().job.as_ref().map(|j| Job {
            id: j.id.clone(),
            kind: j.kind.clone(),
        });
        let size = job.as_ref().map_or(0, |j| j.id.len() + j.kind.len());
        Ok(self.read(job, size))
    }

    fn drop(&mut self, handle: Resource<RequestView>) -> wasmtime::Result<()> {
        // The host owns the request and removes it after the call; a plugin only ever holds a
        // borrow, so this runs only for handles the host itself gives up.
        let _ = self.table.delete(handle);
        Ok(())
    }
}

/// Links `importhook:plugin/types` (the `request` resource's methods).
pub fn add_to_linker(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    types::add_to_linker::<CallState, HasSelf<RequestTable>>(linker, |state| &mut state.request)
}
