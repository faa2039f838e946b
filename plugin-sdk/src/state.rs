//! Durable state for strategies that need it (a counter suffix, a claimed login), shared by all
//! instances of the plugin and every replica of the service. Only for a plugin whose manifest
//! grants it (`grants = ["state"]`): the host refuses to load a plugin that uses this module
//! without the grant. Every call is bounded by the plugin call's deadline.
//!
//! Retry-safe: Okta calls again with the same event id when a call timed out, and the n-th
//! [`next`] of a counter in that call gets the number the n-th one got the first time; a claim
//! made by an event is still held by it when it asks again.
//!
//! Natively (`cargo test`) the functions work on a store in memory, one per test thread, whose
//! event and availability [`testing`] sets.
//!
//! ```
//! use importhook_sdk::state;
//!
//! state::testing::reset();
//! assert_eq!(state::next("login"), Ok(1));
//! assert_eq!(state::next("login"), Ok(2));
//! assert_eq!(state::claim("joe@example.com", 3600), Ok(true));
//! state::testing::set_event("another-user");
//! assert_eq!(state::claim("joe@example.com", 3600), Ok(false));
//! // Okta holds logins differing only in case or diacritics to be one: so does a claim.
//! assert_eq!(state::claim("Jöe@Example.com", 3600), Ok(false));
//! ```

/// Why a state call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateError {
    /// The store is down or did not answer in time: nothing is known to have changed.
    /// Returning the error (`?`) fails the call, and the plugin's `on_error` decides.
    Unavailable,
    /// The host refused the arguments (an empty or too long key, a too large value), with why.
    Invalid(String),
}

impl std::fmt::Display for StateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unavailable => f.write_str("state store unavailable"),
            Self::Invalid(why) => write!(f, "state call refused: {why}"),
        }
    }
}

impl std::error::Error for StateError {}

/// The next number of `counter`, from 1, never handed out twice (see the module's retry note).
pub fn next(counter: &str) -> Result<u64, StateError> {
    imp::next(counter)
}

/// Claims `value` for this event for `ttl_seconds`: `true` if this event now holds it, `false`
/// while another event does. Values are compared as Okta compares logins
/// ([`crate::login::equivalent`]): `José@x.io` and `jose@x.io` are one claim.
pub fn claim(value: &str, ttl_seconds: u32) -> Result<bool, StateError> {
    imp::claim(value, ttl_seconds)
}

/// Gives up a claim this event holds.
pub fn release(value: &str) -> Result<(), StateError> {
    imp::release(value)
}

/// A record (at most 64 KiB), `None` when not set or expired.
pub fn get(key: &str) -> Result<Option<Vec<u8>>, StateError> {
    imp::get(key)
}

/// Sets a record, kept for `ttl_seconds` or, with `None`, until set again or deleted.
pub fn set(key: &str, value: &[u8], ttl_seconds: Option<u32>) -> Result<(), StateError> {
    imp::set(key, value, ttl_seconds)
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::StateError;
    use crate::__private::bindings::importhook::plugin::state as host;

    fn convert(e: host::Error) -> StateError {
        match e {
            host::Error::Unavailable => StateError::Unavailable,
            host::Error::Invalid(why) => StateError::Invalid(why),
        }
    }

    pub fn next(counter: &str) -> Result<u64, StateError> {
        host::next(counter).map_err(convert)
    }

    pub fn claim(value: &str, ttl: u32) -> Result<bool, StateError> {
        host::claim(value, ttl).map_err(convert)
    }

    pub fn release(value: &str) -> Result<(), StateError> {
        host::release(value).map_err(convert)
    }

    pub fn get(key: &str) -> Result<Option<Vec<u8>>, StateError> {
        host::get(key).map_err(convert)
    }

    pub fn set(key: &str, value: &[u8], ttl: Option<u32>) -> Result<(), StateError> {
        host::set(key, value, ttl).map_err(convert)
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use super::StateError;

    #[derive(Default)]
    pub(super) struct Memory {
        pub(super) event: String,
        pub(super) unavailable: bool,
        pub(super) counters: HashMap<String, u64>,
        pub(super) claims: HashMap<String, String>,
        pub(super) records: HashMap<String, Vec<u8>>,
    }

    thread_local! {
        pub(super) static MEMORY: RefCell<Memory> = RefCell::new(Memory {
            event: super::testing::DEFAULT_EVENT.to_owned(),
            ..Memory::default()
        });
    }

    fn with<T>(f: impl FnOnce(&mut Memory) -> T) -> Result<T, StateError> {
        MEMORY.with(|memory| {
            let mut memory = memory.borrow_mut();
            if memory.unavailable {
                return Err(StateError::Unavailable);
            }
            Ok(f(&mut memory))
        })
    }

    fn key(name: &str) -> Result<(), StateError> {
        // The host's limits, so a native test meets the refusal the plugin would.
        if name.is_empty() {
            Err(StateError::Invalid("empty key".into()))
        } else if name.len() > 512 {
            Err(StateError::Invalid("key longer than 512 bytes".into()))
        } else {
            Ok(())
        }
    }

    pub fn next(counter: &str) -> Result<u64, StateError> {
        key(counter)?;
        with(|m| {
            let n = m.counters.entry(counter.to_owned()).or_insert(0);
            *n += 1;
            *n
        })
    }

    // Claims are keyed as the host keys them: logins Okta holds to be one are one claim.
    pub fn claim(value: &str, _ttl: u32) -> Result<bool, StateError> {
        key(value)?;
        let value = crate::login::equivalent(value);
        with(|m| {
            let event = m.event.clone();
            let holder = m.claims.entry(value).or_insert(event.clone());
            *holder == event
        })
    }

    pub fn release(value: &str) -> Result<(), StateError> {
        key(value)?;
        let value = crate::login::equivalent(value);
        with(|m| {
            if m.claims.get(&value) == Some(&m.event) {
                m.claims.remove(&value);
            }
        })
    }

    pub fn get(name: &str) -> Result<Option<Vec<u8>>, StateError> {
        key(name)?;
        with(|m| m.records.get(name).cloned())
    }

    pub fn set(name: &str, value: &[u8], _ttl: Option<u32>) -> Result<(), StateError> {
        key(name)?;
        if value.len() > 64 << 10 {
            return Err(StateError::Invalid("value larger than 65536 bytes".into()));
        }
        with(|m| {
            m.records.insert(name.to_owned(), value.to_vec());
        })
    }
}

/// Native tests only: the in-memory store the [`state`](self) functions use on this thread.
#[cfg(not(target_arch = "wasm32"))]
pub mod testing {
    use super::imp::MEMORY;

    /// The event the store starts with.
    pub const DEFAULT_EVENT: &str = "test-event";

    /// Empties the store, makes it available again and sets the event back to
    /// [`DEFAULT_EVENT`]. Tests share a thread's store only if they run on the same thread:
    /// call this first.
    pub fn reset() {
        MEMORY.with(|m| {
            let mut m = m.borrow_mut();
            *m = super::imp::Memory::default();
            m.event = DEFAULT_EVENT.to_owned();
        });
    }

    /// Makes the following calls those of Okta event `event` (another imported user).
    pub fn set_event(event: &str) {
        MEMORY.with(|m| m.borrow_mut().event = event.to_owned());
    }

    /// Makes every call fail as [`super::StateError::Unavailable`] (or work again).
    pub fn set_unavailable(down: bool) {
        MEMORY.with(|m| m.borrow_mut().unavailable = down);
    }

    /// The last number `counter` handed out (0 if none).
    pub fn counter(counter: &str) -> u64 {
        MEMORY.with(|m| m.borrow().counters.get(counter).copied().unwrap_or(0))
    }
}
