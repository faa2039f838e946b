//! The `state` capability: a plugin's counters, claims and records in the state store, each
//! call bounded by the plugin call's deadline and tied to the call's Okta event, so that
//! Okta's retry of an event gets the numbers and claims of the first try.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use wasmtime::component::{HasSelf, Linker};

use super::InstanceData;
use crate::engine::bindings::plugin::state::{self, Error};
use crate::metrics::StateMetrics;
use crate::state::{Op, Reply, StateError, StateStore};

/// What a plugin granted `state` reaches: its namespace in the store.
#[derive(Debug, Clone)]
pub struct StateAccess {
    plugin: Arc<str>,
    store: Arc<dyn StateStore>,
    metrics: StateMetrics,
}

impl StateAccess {
    /// `plugin`'s namespace in `store`.
    pub fn new(plugin: Arc<str>, store: Arc<dyn StateStore>, metrics: StateMetrics) -> Self {
        Self {
            plugin,
            store,
            metrics,
        }
    }
}

/// Per-instance state of the capability.
#[derive(Debug)]
pub struct StateCap {
    access: Option<StateAccess>,
    event: Arc<str>,
    /// How many `next`s of each counter this call made (the n-th one is remembered per event).
    asked: HashMap<String, u32>,
    deadline: Instant,
}

impl StateCap {
    /// The capability for an instance: `None` when the plugin is not granted `state` (it is
    /// then refused at load if it imports it; calls made anyway answer `invalid`).
    pub fn new(access: Option<StateAccess>) -> Self {
        Self {
            access,
            event: Arc::from(""),
            asked: HashMap::new(),
            deadline: Instant::now(),
        }
    }

    /// Starts a call for Okta event `event`, to end by `deadline`.
    pub(super) fn begin_call(&mut self, event: &str, deadline: Instant) {
        self.deadline = deadline;
        // Every plugin call passes here: one not granted state keeps no event (no copy of it).
        if self.access.is_none() {
            return;
        }
        self.asked.clear();
        let event = crate::state::bounded_event_id(event);
        let event = &*event;
        self.event = if event.is_empty() {
            // Without an event id no retry can be recognised: a call of its own.
            static ANONYMOUS: AtomicU64 = AtomicU64::new(0);
            let n = ANONYMOUS.fetch_add(1, Ordering::Relaxed);
            format!("anonymous-{}-{n}", std::process::id()).into()
        } else if *self.event == *event {
            self.event.clone()
        } else {
            event.into()
        };
    }

    fn event(&self) -> Arc<str> {
        self.event.clone()
    }

    async fn apply(&self, op: impl FnOnce(Arc<str>) -> Op) -> Result<Reply, Error> {
        let Some(access) = &self.access else {
            return Err(Error::Invalid(
                "state is not granted to this plugin (grants = [\"state\"] in its manifest)".into(),
            ));
        };
        let op = op(access.plugin.clone());
        let label = op.label();
        let started = Instant::now();
        let result = match op.validate() {
            Err(e) => Err(e),
            Ok(()) => {
                let deadline = tokio::time::Instant::from_std(self.deadline);
                tokio::time::timeout_at(deadline, access.store.apply_by(op, self.deadline))
                    .await
                    .unwrap_or(Err(StateError::Unavailable))
            }
        };
        let outcome = match &result {
            Ok(_) => "ok",
            Err(StateError::Unavailable) => "unavailable",
            Err(StateError::Full) => "full",
            Err(StateError::Unreplicated) => "unreplicated",
            Err(StateError::Invalid(_)) => "invalid",
        };
        access
            .metrics
            .call(access.store.backend(), label, outcome, started.elapsed());
        result.map_err(|e| match e {
            // The plugin cannot do anything different about these: the log and the metric
            // name them for the operator.
            StateError::Unavailable | StateError::Full | StateError::Unreplicated => {
                Error::Unavailable
            }
            StateError::Invalid(why) => Error::Invalid(why),
        })
    }
}

/// The value `pick` finds in a reply. A reply of the wrong kind is a backend bug, reported as
/// the store being unusable rather than trapping the plugin.
fn expect<T>(
    reply: Result<Reply, Error>,
    pick: impl FnOnce(Reply) -> Result<T, Reply>,
) -> wasmtime::Result<Result<T, Error>> {
    Ok(reply.and_then(|reply| {
        pick(reply).map_err(|reply| {
            tracing::error!(?reply, "state store answered with the wrong kind of reply");
            Error::Unavailable
        })
    }))
}

impl state::Host for StateCap {
    async fn next(&mut self, counter: String) -> wasmtime::Result<Result<u64, Error>> {
        let nth = self.asked.get(&counter).copied().unwrap_or(0);
        let event = self.event();
        let asked = counter.clone();
        let reply = self
            .apply(|plugin| Op::Next {
                plugin,
                counter,
                event,
                nth,
            })
            .await;
        if reply.is_ok() {
            self.asked.insert(asked, nth + 1);
        }
        expect(reply, |r| match r {
            Reply::Number(n) => Ok(n),
            other => Err(other),
        })
    }

    async fn claim(
        &mut self,
        value: String,
        ttl_seconds: u32,
    ) -> wasmtime::Result<Result<bool, Error>> {
        let event = self.event();
        // Okta holds logins differing only in case or diacritical marks to be one login: two
        // events must not hold two of them at once.
        let value = crate::okta::login::equivalent(&value);
        let reply = self
            .apply(|plugin| Op::Claim {
                plugin,
                value,
                event,
                ttl: ttl_seconds,
            })
            .await;
        expect(reply, |r| match r {
            Reply::Held(held) => Ok(held),
            other => Err(other),
        })
    }

    async fn release(&mut self, value: String) -> wasmtime::Result<Result<(), Error>> {
        let event = self.event();
        let value = crate::okta::login::equivalent(&value);
        let reply = self
            .apply(|plugin| Op::Release {
                plugin,
                value,
                event,
            })
            .await;
        Ok(reply.map(|_| ()))
    }

    async fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        let reply = self.apply(|plugin| Op::Get { plugin, key }).await;
        expect(reply, |r| match r {
            Reply::Value(value) => Ok(value),
            other => Err(other),
        })
    }

    async fn set(
        &mut self,
        key: String,
        value: Vec<u8>,
        ttl_seconds: Option<u32>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let reply = self
            .apply(|plugin| Op::Set {
                plugin,
                key,
                value,
                ttl: ttl_seconds,
            })
            .await;
        Ok(reply.map(|_| ()))
    }
}

/// Links `importhook:plugin/state`.
pub fn add_to_linker(linker: &mut Linker<InstanceData>) -> wasmtime::Result<()> {
    state::add_to_linker::<InstanceData, HasSelf<StateCap>>(linker, |state| &mut state.state)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::engine::bindings::plugin::state::Host as _;

    fn cap() -> StateCap {
        let access = StateAccess::new(
            Arc::from("counter"),
            crate::state::scratch(),
            StateMetrics::default(),
        );
        StateCap::new(Some(access))
    }

    #[tokio::test]
    async fn logins_okta_holds_to_be_one_are_one_claim() {
        let mut cap = cap();
        let soon = || Instant::now() + Duration::from_secs(5);
        cap.begin_call("event-1", soon());
        let held = |r: wasmtime::Result<Result<bool, Error>>| r.expect("call").expect("claim");
        assert!(held(cap.claim("José.Álvarez@example.com".into(), 60).await));
        cap.begin_call("event-2", soon());
        assert!(
            !held(cap.claim("jose.alvarez@EXAMPLE.com".into(), 60).await),
            "an equivalent login is held by the first event"
        );
        assert!(held(
            cap.claim("jose.alvarez2@example.com".into(), 60).await
        ));
        cap.begin_call("event-1", soon());
        cap.release("JOSE.ALVAREZ@example.com".into())
            .await
            .expect("call")
            .expect("release");
        cap.begin_call("event-2", soon());
        assert!(held(cap.claim("jose.alvarez@example.com".into(), 60).await));
    }
}
