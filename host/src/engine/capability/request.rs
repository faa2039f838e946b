//! The `request` resource: the imported user as the pipeline has left it so far (the
//! [`Working`] request), owned by the host and read by the plugin one answer at a time. Nothing
//! is copied into the plugin that it does not ask for: a strategy reads a handful of a
//! profile's attributes, and lowering the whole request into every call would cost each call
//! the whole request.

use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker, Resource, ResourceTable};

use super::InstanceData;
use crate::engine::bindings::plugin::types::{
    self, Application, Job, Profile as WhichProfile, Value,
};
use crate::engine::bindings::{to_wit, value_size};
use crate::engine::working::{Current, ProfileView, RequestView, Working};
use crate::okta::ActionResult;

/// One profile of the working request, as the plugin names it (the WIT `profile` enum, not
/// Okta's profile map).
fn view(working: &Working, which: WhichProfile) -> ProfileView<'_> {
    match which {
        WhichProfile::AppUser => working.app_user(),
        WhichProfile::User => working.user(),
    }
}

/// The attributes of one profile the strategies so far changed.
fn changed(working: &Working, which: WhichProfile) -> &[String] {
    match which {
        WhichProfile::AppUser => working.changed_app_user(),
        WhichProfile::User => working.changed_user(),
    }
}

/// Per-instance table of request handles, and how much the current call read.
#[derive(Debug, Default)]
pub struct RequestCap {
    table: ResourceTable,
    /// Payload bytes handed to the plugin in the current call (strings it read).
    pub bytes_read: usize,
}

impl RequestCap {
    /// Hands `working` to the plugin for one call.
    pub fn push(&mut self, working: Arc<Working>) -> wasmtime::Result<Resource<RequestView>> {
        Ok(self.table.push(RequestView(working))?)
    }

    /// Takes the handle back once the call is over, so the request is no longer shared.
    pub fn remove(&mut self, handle: Resource<RequestView>) {
        let _ = self.table.delete(handle);
    }

    pub(super) fn begin_call(&mut self) {
        self.bytes_read = 0;
    }

    fn working(&self, handle: &Resource<RequestView>) -> wasmtime::Result<Arc<Working>> {
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

impl types::Host for RequestCap {}

impl types::HostRequest for RequestCap {
    fn event_id(&mut self, handle: Resource<RequestView>) -> wasmtime::Result<String> {
        let working = self.working(&handle)?;
        let id = working.event_id();
        Ok(self.read(id.to_owned(), id.len()))
    }

    fn get(
        &mut self,
        handle: Resource<RequestView>,
        profile: WhichProfile,
        name: String,
    ) -> wasmtime::Result<Option<Value>> {
        let working = self.working(&handle)?;
        let value = match view(&working, profile).get(&name) {
            None => None,
            Some(Current::Set(value)) => Some(to_wit(value)),
            // Okta's value is read now, the first time anything reads it (most are strings,
            // taken straight from the text). Read leniently, so that other attributes still
            // serve; reading this one is refused.
            Some(Current::Sent(text)) => Some(match text.as_str() {
                Some(string) => Value::Text(string.into_owned()),
                None => to_wit(&text.parse().map_err(|why| {
                    wasmtime::Error::msg(format!("the attribute is not readable: {why}"))
                })?),
            }),
        };
        let size = value.as_ref().map_or(0, value_size);
        Ok(self.read(value, size))
    }

    fn names(
        &mut self,
        handle: Resource<RequestView>,
        profile: WhichProfile,
    ) -> wasmtime::Result<Vec<String>> {
        let working = self.working(&handle)?;
        let names: Vec<String> = view(&working, profile).names().map(str::to_owned).collect();
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
        profile: WhichProfile,
    ) -> wasmtime::Result<Vec<String>> {
        let changed = changed(&*self.working(&handle)?, profile).to_vec();
        let size = strings_size(&changed);
        Ok(self.read(changed, size))
    }

    fn matched_user_id(
        &mut self,
        handle: Resource<RequestView>,
    ) -> wasmtime::Result<Option<String>> {
        let id = self.working(&handle)?.matched_user_id().map(str::to_owned);
        let size = id.as_ref().map_or(0, String::len);
        Ok(self.read(id, size))
    }

    fn action(&mut self, handle: Resource<RequestView>) -> wasmtime::Result<types::Action> {
        Ok(match self.working(&handle)?.action {
            ActionResult::CreateUser => types::Action::CreateUser,
            ActionResult::LinkUser => types::Action::LinkUser,
        })
    }

    fn link_target(&mut self, handle: Resource<RequestView>) -> wasmtime::Result<Option<String>> {
        let target = self.working(&handle)?.link_target.clone();
        let size = target.as_ref().map_or(0, String::len);
        Ok(self.read(target, size))
    }

    fn conflicts(&mut self, handle: Resource<RequestView>) -> wasmtime::Result<Vec<String>> {
        let conflicts = importhook_okta::to_strings(&self.working(&handle)?.context().conflicts);
        let size = strings_size(&conflicts);
        Ok(self.read(conflicts, size))
    }

    fn matches(&mut self, handle: Resource<RequestView>) -> wasmtime::Result<Vec<Value>> {
        let working = self.working(&handle)?;
        let matches = working.context().matches.iter().map(|text| {
            text.parse()
                .map(|value| to_wit(&value))
                .map_err(|why| wasmtime::Error::msg(format!("a match is not readable: {why}")))
        });
        let matches = matches.collect::<wasmtime::Result<Vec<Value>>>()?;
        let size = matches.iter().map(value_size).sum();
        Ok(self.read(matches, size))
    }

    fn policy(&mut self, handle: Resource<RequestView>) -> wasmtime::Result<Vec<String>> {
        let policy = importhook_okta::to_strings(&self.working(&handle)?.context().policy);
        let size = strings_size(&policy);
        Ok(self.read(policy, size))
    }

    fn application(
        &mut self,
        handle: Resource<RequestView>,
    ) -> wasmtime::Result<Option<Application>> {
        let working = self.working(&handle)?;
        let app = working.context().application.as_ref().map(|a| Application {
            id: a.id.to_string(),
            name: a.name.to_string(),
            label: a.label.to_string(),
            status: a.status.to_string(),
        });
        let size = app.as_ref().map_or(0, |a| {
            a.id.len() + a.name.len() + a.label.len() + a.status.len()
        });
        Ok(self.read(app, size))
    }

    fn job(&mut self, handle: Resource<RequestView>) -> wasmtime::Result<Option<Job>> {
        let working = self.working(&handle)?;
        let job = working.context().job.as_ref().map(|j| Job {
            id: j.id.to_string(),
            kind: j.kind.to_string(),
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
pub fn add_to_linker(linker: &mut Linker<InstanceData>) -> wasmtime::Result<()> {
    types::add_to_linker::<InstanceData, HasSelf<RequestCap>>(linker, |data| &mut data.request)
}
