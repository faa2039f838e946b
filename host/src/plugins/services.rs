//! The host-wide services that granted capabilities draw on (the state store; next, the Okta
//! directory): made once per service, shared by every plugin set across reloads, and handed
//! to a plugin's instances only as its manifest grants.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::metrics::StateMetrics;
use crate::state::{StateConfig, StateStore};

/// The services plugins may be granted.
#[derive(Debug, Clone)]
pub struct Services {
    state: Arc<LazyState>,
    /// State calls by backend, operation and outcome.
    pub state_metrics: StateMetrics,
}

/// The state store, opened when the first plugin granted `state` loads: a service none of
/// whose plugins keeps state neither creates nor locks a state file.
#[derive(Debug)]
struct LazyState {
    config: Option<StateConfig>,
    store: Mutex<Option<Arc<dyn StateStore>>>,
}

impl Services {
    /// Services for serving, with the state store `state` describes.
    pub fn new(state: StateConfig) -> Self {
        Self::with(Some(state))
    }

    /// Services that change nothing anyone reads afterwards: an in-memory state store per
    /// `Services`. For a plugin's load-time probe, `importhook try` and `importhook check`.
    pub fn scratch() -> Self {
        Self::with(None)
    }

    fn with(config: Option<StateConfig>) -> Self {
        Self {
            state: Arc::new(LazyState {
                config,
                store: Mutex::new(None),
            }),
            state_metrics: StateMetrics::default(),
        }
    }

    /// Whether state calls go to a scratch store.
    pub fn is_scratch(&self) -> bool {
        self.state.config.is_none()
    }

    /// The state store, opened on first use. Fails (naming the file or URL) when it cannot
    /// be opened; the next call tries again.
    pub fn state(&self) -> anyhow::Result<Arc<dyn StateStore>> {
        let mut store = self.lock();
        if let Some(store) = store.as_ref() {
            return Ok(store.clone());
        }
        let opened = match &self.state.config {
            Some(config) => {
                let opened = crate::state::open(config)?;
                tracing::info!(backend = config.backend(), "state store opened");
                opened
            }
            None => crate::state::scratch(),
        };
        *store = Some(opened.clone());
        Ok(opened)
    }

    /// The state store if a plugin has opened it (for `/readyz`).
    pub fn opened_state(&self) -> Option<Arc<dyn StateStore>> {
        self.lock().clone()
    }

    fn lock(&self) -> MutexGuard<'_, Option<Arc<dyn StateStore>>> {
        self.state
            .store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
