//! The host-wide services that granted capabilities draw on (the state store, the Okta
//! directory): made once per service, shared by every plugin set across reloads, and handed
//! to a plugin's instances only as its manifest grants.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::directory::Directory;
use crate::metrics::{DirectoryMetrics, StateMetrics};
use crate::state::{StateConfig, StateStore};

/// The services plugins may be granted.
#[derive(Debug, Clone)]
pub struct Services {
    state: Arc<LazyState>,
    /// State calls by backend, operation and outcome.
    pub state_metrics: StateMetrics,
    directory: Directory,
    /// Whether "no org configured" was logged (once per service, not per plugin or reload).
    told_unconfigured: Arc<AtomicBool>,
    /// Directory lookups by operation and outcome.
    pub directory_metrics: DirectoryMetrics,
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
    /// `Services`, and a directory answering `unknown` without any network. For a plugin's
    /// load-time probe, `importhook try` and `importhook check`.
    pub fn scratch() -> Self {
        Self::with(None)
    }

    /// Services whose state calls go to `store`, opened by the caller (the seeded scratch
    /// store of `importhook preview`), and a directory answering `unknown` until
    /// [`Services::with_directory`].
    pub fn with_state_store(store: Arc<dyn StateStore>) -> Self {
        let services = Self::with(None);
        *services.lock() = Some(store);
        services
    }

    fn with(config: Option<StateConfig>) -> Self {
        Self {
            state: Arc::new(LazyState {
                config,
                store: Mutex::new(None),
            }),
            state_metrics: StateMetrics::default(),
            directory: Directory::scratch(),
            told_unconfigured: Arc::new(AtomicBool::new(false)),
            directory_metrics: DirectoryMetrics::default(),
        }
    }

    /// These services with `directory` for the lookups of plugins granted `directory` (by
    /// default one answering `unknown` to everything).
    pub fn with_directory(mut self, directory: Directory) -> Self {
        self.directory = directory;
        self
    }

    /// The directory plugins granted `directory` ask.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// What a plugin granted `directory` gets. A serving service without an org says once
    /// that lookups answer `unknown`: the plugin loads and runs as if Okta never answered.
    pub(super) fn directory_access(&self) -> DirectoryAccess {
        if !self.is_scratch()
            && !self.directory.is_configured()
            && !self.told_unconfigured.swap(true, Ordering::Relaxed)
        {
            tracing::info!(
                "a plugin is granted directory but no okta_org_url is configured: its lookups answer unknown"
            );
        }
        DirectoryAccess::new(self.directory.clone(), self.directory_metrics.clone())
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

/// What a plugin granted `directory` reaches: the service's directory (a configured org, or
/// one answering `unknown` to everything).
#[derive(Debug, Clone)]
pub struct DirectoryAccess {
    pub(super) directory: Directory,
    pub(super) metrics: DirectoryMetrics,
}

impl DirectoryAccess {
    /// Lookups in `directory`, recorded in `metrics`.
    pub fn new(directory: Directory, metrics: DirectoryMetrics) -> Self {
        Self { directory, metrics }
    }
}
