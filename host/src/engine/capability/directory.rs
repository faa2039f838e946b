//! The `directory` capability: read-only Okta login lookups for a plugin granted them, each
//! bounded by the plugin call's deadline. A lookup that cannot be answered is `unknown` (or
//! `lookup-error.unavailable`), never a failure of the call: the strategy decides what
//! "maybe taken" means for it.

use std::time::Instant;

use wasmtime::component::{HasSelf, Linker};

use super::InstanceData;
use crate::directory::{Lookup, Presence, Unavailable};
use crate::engine::bindings::plugin::directory::{
    self, LookupError, Presence as WitPresence, UserSummary,
};
use crate::engine::services::DirectoryAccess;

/// Per-instance state of the capability.
#[derive(Debug)]
pub struct DirectoryCap {
    access: Option<DirectoryAccess>,
    deadline: Instant,
}

impl DirectoryCap {
    /// The capability for an instance: `None` when the plugin is not granted `directory` (it
    /// is then refused at load if it imports it; lookups made anyway answer `unknown`).
    pub fn new(access: Option<DirectoryAccess>) -> Self {
        Self {
            access,
            deadline: Instant::now(),
        }
    }

    /// Starts a call that must end by `deadline`: no lookup outlives it.
    pub(super) fn begin_call(&mut self, deadline: Instant) {
        self.deadline = deadline;
    }

    async fn lookup(&self, operation: &'static str, login: &str) -> Lookup {
        let Some(access) = &self.access else {
            return Lookup::Unavailable(Unavailable::NotConfigured);
        };
        let started = Instant::now();
        // The directory cuts its own waits at the deadline; this bounds anything it missed.
        let deadline = tokio::time::Instant::from_std(self.deadline);
        let lookup = tokio::time::timeout_at(
            deadline,
            access.directory.user_by_login(login, self.deadline),
        )
        .await
        .unwrap_or(Lookup::Unavailable(Unavailable::TimedOut));
        let outcome = match &lookup {
            Lookup::Found(_) => "taken",
            Lookup::NotFound => "free",
            Lookup::Unavailable(why) => why.as_str(),
        };
        access.metrics.lookup(operation, outcome, started.elapsed());
        lookup
    }
}

impl directory::Host for DirectoryCap {
    async fn login_exists(&mut self, login: String) -> wasmtime::Result<WitPresence> {
        Ok(match self.lookup("login-exists", &login).await.presence() {
            Presence::Taken => WitPresence::Taken,
            Presence::Free => WitPresence::Free,
            Presence::Unknown => WitPresence::Unknown,
        })
    }

    async fn user_by_login(
        &mut self,
        login: String,
    ) -> wasmtime::Result<Result<Option<UserSummary>, LookupError>> {
        Ok(match self.lookup("user-by-login", &login).await {
            Lookup::Found(user) => Ok(Some(UserSummary {
                id: user.id,
                status: user.status,
            })),
            Lookup::NotFound => Ok(None),
            Lookup::Unavailable(_) => Err(LookupError::Unavailable),
        })
    }
}

/// Links `importhook:plugin/directory`.
pub fn add_to_linker(linker: &mut Linker<InstanceData>) -> wasmtime::Result<()> {
    directory::add_to_linker::<InstanceData, HasSelf<DirectoryCap>>(linker, |state| {
        &mut state.directory
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::directory::Directory;
    use crate::metrics::DirectoryMetrics;
    use directory::Host;

    #[tokio::test]
    async fn without_an_org_or_a_grant_every_lookup_is_unknown() {
        let metrics = DirectoryMetrics::default();
        let mut granted = DirectoryCap::new(Some(DirectoryAccess::new(
            Directory::scratch(),
            metrics.clone(),
        )));
        granted.begin_call(Instant::now() + Duration::from_secs(1));
        assert_eq!(
            granted.login_exists("a@x.io".into()).await.expect("host"),
            WitPresence::Unknown
        );
        assert!(matches!(
            granted.user_by_login("a@x.io".into()).await.expect("host"),
            Err(LookupError::Unavailable)
        ));
        let mut ungranted = DirectoryCap::new(None);
        ungranted.begin_call(Instant::now() + Duration::from_secs(1));
        assert_eq!(
            ungranted.login_exists("a@x.io".into()).await.expect("host"),
            WitPresence::Unknown
        );
        let mut registry = crate::metrics::Metrics::new();
        registry.register_directory(&metrics);
        let text = registry.encode();
        assert!(
            text.contains(
                "importhook_directory_lookups_total{operation=\"user-by-login\",outcome=\"not-configured\"} 1"
            ),
            "{text}"
        );
    }
}
