//! The open-connection cap of the hook listener, and who gives way at it: at `max_connections`
//! a new connection takes the slot of the oldest connection that has not authenticated a
//! request, never one that has. A client that opens connections it never authenticates (and
//! needs no secret for that) can thus only displace its own kind, and a connection with the
//! right secret, once its first request is read, keeps its slot.
//!
//! Among the connections that have not authenticated, those whose request was already refused
//! (they close after that answer anyway) give way before those still in their handshake or
//! sending their first request, oldest first in each group.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// What a connection and the cap share about it.
#[derive(Debug, Default)]
struct Entry {
    /// A request on it passed authentication: it is never evicted.
    authenticated: AtomicBool,
    /// A request on it was refused before authentication: evicted first.
    refused: AtomicBool,
    /// Wakes the connection's task when it is evicted.
    evicted: tokio::sync::Notify,
}

/// The open connections, oldest first.
#[derive(Debug)]
pub struct Slots {
    max: usize,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    next_id: u64,
    /// By id, which is the order connections were accepted in.
    entries: BTreeMap<u64, Arc<Entry>>,
}

/// What [`Slots::admit`] decided for a new connection.
#[derive(Debug)]
pub enum Admission {
    /// A slot was free.
    Admitted(Slot),
    /// The slot of a connection that had not authenticated, which is being closed.
    Evicted(Slot),
    /// Every open connection has authenticated: the new one is refused.
    Full,
}

impl Slots {
    /// At most `max` open connections.
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max,
            open: Mutex::new(Open::default()),
        })
    }

    fn open(&self) -> MutexGuard<'_, Open> {
        // Nothing under the lock can panic; a poisoned lock still holds consistent entries.
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A slot for a connection just accepted, evicting one that has not authenticated when
    /// all are taken.
    pub fn admit(self: &Arc<Self>) -> Admission {
        let mut open = self.open();
        let mut evicted = false;
        if open.entries.len() >= self.max {
            let unauthenticated = || {
                open.entries
                    .iter()
                    .filter(|(_, e)| !e.authenticated.load(Ordering::Acquire))
            };
            let victim = unauthenticated()
                .find(|(_, e)| e.refused.load(Ordering::Acquire))
                .or_else(|| unauthenticated().next())
                .map(|(id, _)| *id);
            let Some(victim) = victim else {
                return Admission::Full;
            };
            if let Some(entry) = open.entries.remove(&victim) {
                entry.evicted.notify_one();
            }
            evicted = true;
        }
        let id = open.next_id;
        open.next_id += 1;
        let entry = Arc::new(Entry::default());
        open.entries.insert(id, entry.clone());
        let slot = Slot {
            slots: self.clone(),
            id,
            entry,
        };
        if evicted {
            Admission::Evicted(slot)
        } else {
            Admission::Admitted(slot)
        }
    }

    /// Connections holding a slot now.
    pub fn len(&self) -> usize {
        self.open().entries.len()
    }

    /// Whether no connection holds a slot.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One connection's slot; its drop frees it.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
    id: u64,
    entry: Arc<Entry>,
}

impl Slot {
    /// Resolves when a new connection took this slot: the connection must close at once.
    pub async fn evicted(&self) {
        self.entry.evicted.notified().await;
    }

    /// The handle requests on this connection carry (as a request extension).
    pub fn mark(&self) -> ConnectionMark {
        ConnectionMark(self.entry.clone())
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        // Absent when it was evicted: its slot is already someone else's.
        self.slots.open().entries.remove(&self.id);
    }
}

/// Lets the request path say what a connection's requests showed.
#[derive(Debug, Clone)]
pub struct ConnectionMark(Arc<Entry>);

impl ConnectionMark {
    /// A request on this connection passed authentication: it keeps its slot from now on.
    pub fn authenticated(&self) {
        self.0.authenticated.store(true, Ordering::Release);
    }

    /// Whether a request on this connection passed authentication.
    pub fn is_authenticated(&self) -> bool {
        self.0.authenticated.load(Ordering::Acquire)
    }

    /// A request on this connection was answered without authenticating.
    pub fn refused(&self) {
        self.0.refused.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(admission: Admission) -> Slot {
        match admission {
            Admission::Admitted(slot) | Admission::Evicted(slot) => slot,
            Admission::Full => panic!("refused"),
        }
    }

    #[tokio::test]
    async fn at_the_cap_the_oldest_unauthenticated_connection_gives_way_never_an_authenticated_one()
    {
        let slots = Slots::new(3);
        let first = slot(slots.admit());
        let second = slot(slots.admit());
        let third = slot(slots.admit());
        first.mark().authenticated();
        // The oldest that has not authenticated is the second.
        let fourth = match slots.admit() {
            Admission::Evicted(slot) => slot,
            other => panic!("expected an eviction, got {other:?}"),
        };
        tokio::time::timeout(std::time::Duration::from_secs(1), second.evicted())
            .await
            .expect("the second connection is told to close");
        assert_eq!(slots.len(), 3);
        drop(second);
        assert_eq!(slots.len(), 3, "an evicted slot's drop frees nothing twice");
        // A refused connection gives way before an older one still sending its request.
        fourth.mark().refused();
        let _fifth = slot(slots.admit());
        tokio::time::timeout(std::time::Duration::from_secs(1), fourth.evicted())
            .await
            .expect("the refused connection gives way first");
        drop(fourth);
        third.mark().authenticated();
        let fifth_mark = {
            let slots = slots.open();
            slots.entries.values().last().cloned().expect("fifth")
        };
        fifth_mark.authenticated.store(true, Ordering::Release);
        assert!(
            matches!(slots.admit(), Admission::Full),
            "every open connection authenticated: the new one is refused"
        );
        drop(first);
        assert!(matches!(slots.admit(), Admission::Admitted(_)));
    }
}
