//! What keeps lookups cheap and bounded: answers cached (`taken` long, `free` briefly),
//! concurrent lookups of one login sharing one call, at most `max_concurrent` calls in flight
//! to the org, a pause while Okta's rate limit (less the headroom left to others) is spent,
//! and every wait cut at the calling plugin's deadline.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, watch};

use super::okta::OktaClient;
use super::{Config, Lookup, Unavailable};

/// Most answers kept; past it expired ones are dropped, and if that is not enough, all.
const MAX_ENTRIES: usize = 50_000;

/// Counters, for tests and `doctor`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Calls made to the users endpoint.
    pub calls: u64,
    /// Lookups answered from the cache.
    pub cache_hits: u64,
    /// Lookups that joined a call already under way.
    pub coalesced: u64,
}

type InFlight = watch::Receiver<Option<Lookup>>;

/// The Okta client behind the cache.
#[derive(Debug)]
pub struct CachedOkta {
    client: Arc<OktaClient>,
    answers: Mutex<HashMap<String, (Lookup, Instant)>>,
    in_flight: Arc<Mutex<HashMap<String, InFlight>>>,
    paused_until: Arc<Mutex<Option<Instant>>>,
    /// Places for calls in flight (Okta's concurrency limit is per org and shared).
    places: Arc<Semaphore>,
    timeout: Duration,
    cache_taken: Duration,
    cache_free: Duration,
    calls: Arc<AtomicU64>,
    cache_hits: AtomicU64,
    coalesced: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The maps stay consistent even if a holder panicked: every update is one insert/remove.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl CachedOkta {
    pub fn new(client: OktaClient, config: &Config) -> Self {
        Self {
            client: Arc::new(client),
            answers: Mutex::new(HashMap::new()),
            in_flight: Arc::new(Mutex::new(HashMap::new())),
            paused_until: Arc::new(Mutex::new(None)),
            places: Arc::new(Semaphore::new(config.max_concurrent.max(1))),
            timeout: config.timeout,
            cache_taken: config.cache_taken,
            cache_free: config.cache_free,
            calls: Arc::new(AtomicU64::new(0)),
            cache_hits: AtomicU64::new(0),
            coalesced: AtomicU64::new(0),
        }
    }

    pub fn client(&self) -> &OktaClient {
        &self.client
    }

    pub fn stats(&self) -> Stats {
        Stats {
            calls: self.calls.load(Ordering::Relaxed),
            cache_hits: self.cache_hits.load(Ordering::Relaxed),
            coalesced: self.coalesced.load(Ordering::Relaxed),
        }
    }

    /// Answers `login` by `deadline` (or by this directory's timeout, if sooner).
    pub async fn lookup(&self, login: &str, deadline: Instant) -> Lookup {
        // An empty login would list users. Okta's Users API: a login containing `/` or `?`
        // can only be fetched by id, never by path (a 404 would then read as "free").
        if login.is_empty() || login.contains(['/', '?']) {
            return Lookup::Unavailable(Unavailable::UnsupportedLogin);
        }
        // Okta holds logins differing only in case or diacritical marks to be one login:
        // equivalent logins share one answer and one call.
        let key = crate::okta::login::equivalent(login);
        let now = Instant::now();
        if let Some((answer, until)) = lock(&self.answers).get(&key)
            && now < *until
        {
            self.cache_hits.fetch_add(1, Ordering::Relaxed);
            return answer.clone();
        }
        if lock(&self.paused_until).is_some_and(|until| now < until) {
            return Lookup::Unavailable(Unavailable::RateLimited);
        }
        let deadline = deadline.min(now + self.timeout);
        if deadline <= now {
            return Lookup::Unavailable(Unavailable::TimedOut);
        }
        let mut receiver = self.join_or_start(&key, login, deadline);
        let answer = tokio::time::timeout_at(
            deadline.into(),
            receiver.wait_for(|answer| answer.is_some()),
        )
        .await;
        let lookup = match answer {
            Ok(Ok(answer)) => answer.clone(),
            _ => None,
        };
        let lookup = lookup.unwrap_or(Lookup::Unavailable(Unavailable::TimedOut));
        if let Lookup::Found(_) | Lookup::NotFound = lookup {
            let keep = match lookup {
                Lookup::Found(_) => self.cache_taken,
                _ => self.cache_free,
            };
            let mut answers = lock(&self.answers);
            if answers.len() >= MAX_ENTRIES {
                answers.retain(|_, (_, until)| now < *until);
                if answers.len() >= MAX_ENTRIES {
                    answers.clear();
                }
            }
            answers.insert(key, (lookup.clone(), Instant::now() + keep));
        }
        lookup
    }

    /// The call under way for `key`, or a new one bounded by `deadline` (so it never outlives
    /// the plugin call that started it, even if that call is abandoned).
    fn join_or_start(&self, key: &str, login: &str, deadline: Instant) -> InFlight {
        let mut in_flight = lock(&self.in_flight);
        if let Some(receiver) = in_flight.get(key) {
            self.coalesced.fetch_add(1, Ordering::Relaxed);
            return receiver.clone();
        }
        let (sender, receiver) = watch::channel(None);
        in_flight.insert(key.to_owned(), receiver.clone());
        drop(in_flight);
        let (client, calls, paused, in_flight, places) = (
            self.client.clone(),
            self.calls.clone(),
            self.paused_until.clone(),
            self.in_flight.clone(),
            self.places.clone(),
        );
        let (key, login) = (key.to_owned(), login.to_owned());
        tokio::spawn(async move {
            // Waiting for a place counts against the deadline like the call itself.
            let fetched = tokio::time::timeout_at(deadline.into(), async {
                let _place = places.acquire().await.ok();
                // A pause may have begun while this call waited for its place.
                if lock(&paused).is_some_and(|until| Instant::now() < until) {
                    return None;
                }
                calls.fetch_add(1, Ordering::Relaxed);
                Some(client.get_user(&login).await)
            })
            .await;
            let lookup = match fetched {
                Ok(None) => Lookup::Unavailable(Unavailable::RateLimited),
                Ok(Some(fetched)) => {
                    if let Some(pause) = fetched.pause {
                        tracing::warn!(
                            pause_ms = pause.as_millis() as u64,
                            "Okta rate limit (less the headroom left to other clients) spent or the org at its concurrency limit: lookups answer unknown until the pause ends"
                        );
                        *lock(&paused) = Some(Instant::now() + pause);
                    }
                    fetched.lookup
                }
                Err(_) => Lookup::Unavailable(Unavailable::TimedOut),
            };
            lock(&in_flight).remove(&key);
            let _ = sender.send(Some(lookup));
        });
        receiver
    }
}
