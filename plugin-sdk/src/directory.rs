//! Read-only lookups in the Okta org the service is configured for: is a login already held
//! by an Okta user, and by whom. Only for a plugin whose manifest grants it (`grants =
//! ["directory"]`): the host refuses to load a plugin that uses this module without the grant.
//!
//! Three answers: [`Presence::Taken`] (a user of any status holds the login: a deactivated user
//! keeps it), [`Presence::Free`] (none does, as of the answer), and [`Presence::Unknown`]: the
//! lookup was not answered (it would have outlived the plugin call's deadline, Okta's rate
//! limit is spent, Okta failed, or no org is configured, as in the host's load-time check and
//! `importhook try`). `Unknown` never fails the call: treat it as "maybe taken" and carry on
//! as the strategy did before it could ask.
//!
//! Natively (`cargo test`) the functions ask a directory in memory, one per test thread,
//! whose users and availability [`testing`] sets.
//!
//! ```
//! use importhook_sdk::directory::{self, Presence};
//!
//! directory::testing::reset();
//! directory::testing::add_user("joe@example.com", "00u1", "ACTIVE");
//! assert_eq!(directory::login_exists("Joe@Example.com"), Presence::Taken);
//! // Okta holds logins differing only in case or diacritical marks to be one login.
//! assert_eq!(directory::login_exists("jöe@example.com"), Presence::Taken);
//! assert_eq!(directory::login_exists("ann@example.com"), Presence::Free);
//! // A login with `/` or `?` cannot be asked by path: the host answers it unknown.
//! assert_eq!(directory::login_exists("a?b@example.com"), Presence::Unknown);
//! directory::testing::set_unavailable(true);
//! assert_eq!(directory::login_exists("joe@example.com"), Presence::Unknown);
//! assert!(directory::user_by_login("joe@example.com").is_err());
//! ```

/// Whether an Okta user holds a login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// A user holds it.
    Taken,
    /// No user holds it.
    Free,
    /// Not answered: maybe taken.
    Unknown,
}

/// The part of an Okta user a strategy may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    /// The Okta user id (`00u…`).
    pub id: String,
    /// Its status (`ACTIVE`, `STAGED`, `SUSPENDED`, `DEPROVISIONED`…).
    pub status: String,
}

/// Why a lookup has no answer: nothing is known about the login (not "no such user").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupError {
    /// Not answered in time, rate-limited, an Okta error, or no org configured.
    Unavailable,
}

impl std::fmt::Display for LookupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unavailable => f.write_str("directory lookup unavailable"),
        }
    }
}

impl std::error::Error for LookupError {}

/// Whether `login` is held by an Okta user (matched case-insensitively, as Okta does).
pub fn login_exists(login: &str) -> Presence {
    imp::login_exists(login)
}

/// The user holding `login`: `Ok(None)` when none does, `Err` when the lookup has no answer.
pub fn user_by_login(login: &str) -> Result<Option<UserSummary>, LookupError> {
    imp::user_by_login(login)
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::{LookupError, Presence, UserSummary};
    use crate::__private::bindings::importhook::plugin::directory as host;

    pub fn login_exists(login: &str) -> Presence {
        match host::login_exists(login) {
            host::Presence::Taken => Presence::Taken,
            host::Presence::Free => Presence::Free,
            host::Presence::Unknown => Presence::Unknown,
        }
    }

    pub fn user_by_login(login: &str) -> Result<Option<UserSummary>, LookupError> {
        match host::user_by_login(login) {
            Ok(user) => Ok(user.map(|u| UserSummary {
                id: u.id,
                status: u.status,
            })),
            Err(host::LookupError::Unavailable) => Err(LookupError::Unavailable),
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use super::{LookupError, Presence, UserSummary};

    #[derive(Default)]
    pub(super) struct Memory {
        pub(super) unavailable: bool,
        /// Users by their login's equivalence key (Okta's: case and diacritics ignored).
        pub(super) users: HashMap<String, UserSummary>,
        pub(super) lookups: u64,
    }

    thread_local! {
        pub(super) static MEMORY: RefCell<Memory> = RefCell::new(Memory::default());
    }

    pub fn user_by_login(login: &str) -> Result<Option<UserSummary>, LookupError> {
        MEMORY.with(|memory| {
            let mut memory = memory.borrow_mut();
            memory.lookups += 1;
            // The host answers these unknown too: they cannot be asked by path.
            if memory.unavailable || login.is_empty() || login.contains(['/', '?']) {
                return Err(LookupError::Unavailable);
            }
            Ok(memory.users.get(&crate::login::equivalent(login)).cloned())
        })
    }

    pub fn login_exists(login: &str) -> Presence {
        match user_by_login(login) {
            Ok(Some(_)) => Presence::Taken,
            Ok(None) => Presence::Free,
            Err(LookupError::Unavailable) => Presence::Unknown,
        }
    }
}

/// Native tests only: the in-memory directory the [`directory`](self) functions ask on this
/// thread.
#[cfg(not(target_arch = "wasm32"))]
pub mod testing {
    use super::UserSummary;
    use super::imp::{MEMORY, Memory};

    /// Empties the directory and makes it answer again. Tests share a thread's directory only
    /// if they run on the same thread: call this first.
    pub fn reset() {
        MEMORY.with(|m| *m.borrow_mut() = Memory::default());
    }

    /// Adds an Okta user holding `login` (matched as Okta matches logins: a lookup of a login
    /// differing only in case or diacritical marks finds it).
    pub fn add_user(login: &str, id: &str, status: &str) {
        MEMORY.with(|m| {
            m.borrow_mut().users.insert(
                crate::login::equivalent(login),
                UserSummary {
                    id: id.to_owned(),
                    status: status.to_owned(),
                },
            );
        });
    }

    /// Makes every lookup unanswered ([`super::Presence::Unknown`]), or answered again.
    pub fn set_unavailable(unavailable: bool) {
        MEMORY.with(|m| m.borrow_mut().unavailable = unavailable);
    }

    /// How many lookups were made since the last [`reset`].
    pub fn lookups() -> u64 {
        MEMORY.with(|m| m.borrow().lookups)
    }
}
