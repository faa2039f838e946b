//! The hook's URL path and its request limits (body size and deadline, the request deadline
//! and what it answers, requests at once, memory bodies may hold), read from their keys.

use std::time::Duration;

use anyhow::bail;

use crate::config::layer::{ConfigLayer, Origin, millis, pick, positive};

/// The hook's URL path (`path`, `/okta/import` by default).
pub(crate) fn path(
    cli: &ConfigLayer,
    file: &ConfigLayer,
    origin: &Origin<'_>,
) -> anyhow::Result<String> {
    let (hook_path, from_cli) =
        pick(&cli.path, &file.path).unwrap_or(("/okta/import".into(), true));
    if !hook_path.starts_with('/') || hook_path.contains(['?', '#', ' ']) {
        bail!(
            "{}: `{hook_path}` must be a URL path starting with `/`",
            origin.name(from_cli, "path")
        );
    }
    Ok(hook_path)
}

/// What a request that reaches its deadline answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnTimeout {
    /// `204`: Okta goes on with its default action.
    Pass,
    /// An `error` object.
    Error,
}

/// What one request, and all of them together, may take.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest accepted request body.
    pub max_body_bytes: u64,
    /// Body read deadline.
    pub body_timeout: Duration,
    /// Overall deadline of one request.
    pub request_timeout: Duration,
    /// What the request deadline answers.
    pub on_timeout: OnTimeout,
    /// Most requests served at once.
    pub max_in_flight: usize,
    /// Memory request bodies being served may hold together (as charged by
    /// [`crate::body_memory::charge_for`]), in bytes.
    pub max_body_memory: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 256 * 1024,
            body_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(2),
            on_timeout: OnTimeout::Pass,
            max_in_flight: 256,
            max_body_memory: (crate::body_memory::DEFAULT_MIB << 20) as usize,
        }
    }
}

impl Limits {
    /// Reads the request keys; a body memory that cannot hold one body of the largest size is
    /// refused, a request deadline not below Okta's 3 s is warned about.
    pub(crate) fn resolve(
        cli: &ConfigLayer,
        file: &ConfigLayer,
        origin: &Origin<'_>,
    ) -> anyhow::Result<Self> {
        let defaults = Self::default();
        let limits = Self {
            max_body_bytes: positive(
                &cli.max_body_bytes,
                &file.max_body_bytes,
                origin,
                "max_body_bytes",
                defaults.max_body_bytes,
            )?,
            body_timeout: millis(
                &cli.body_timeout_ms,
                &file.body_timeout_ms,
                origin,
                "body_timeout_ms",
                defaults.body_timeout,
            )?,
            request_timeout: millis(
                &cli.request_timeout_ms,
                &file.request_timeout_ms,
                origin,
                "request_timeout_ms",
                defaults.request_timeout,
            )?,
            on_timeout: match pick(&cli.on_timeout, &file.on_timeout) {
                None => defaults.on_timeout,
                Some((policy, _)) if policy == "pass" => OnTimeout::Pass,
                Some((policy, _)) if policy == "error" => OnTimeout::Error,
                Some((other, from_cli)) => {
                    bail!(
                        "{}: `{other}` is not one of pass, error",
                        origin.name(from_cli, "on_timeout")
                    )
                }
            },
            max_in_flight: positive(
                &cli.max_in_flight,
                &file.max_in_flight,
                origin,
                "max_in_flight",
                defaults.max_in_flight as u64,
            )? as usize,
            max_body_memory: (positive(
                &cli.max_body_memory_mib,
                &file.max_body_memory_mib,
                origin,
                "max_body_memory_mib",
                (defaults.max_body_memory >> 20) as u64,
            )? << 20) as usize,
        };
        // A body of the largest accepted size must fit, or it could never be served.
        let largest = crate::body_memory::charge_for(limits.max_body_bytes);
        if largest > limits.max_body_memory {
            let (_, from_cli) =
                pick(&cli.max_body_memory_mib, &file.max_body_memory_mib).unwrap_or((0, true));
            bail!(
                "{}: {} MiB cannot hold one body of max_body_bytes ({} bytes), which is charged {} MiB parsed; raise it to at least {} or lower max_body_bytes",
                origin.name(from_cli, "max_body_memory_mib"),
                limits.max_body_memory >> 20,
                limits.max_body_bytes,
                largest.div_ceil(1 << 20),
                largest.div_ceil(1 << 20)
            );
        }
        if limits.request_timeout >= Duration::from_secs(3) {
            tracing::warn!(
                request_timeout_ms = limits.request_timeout.as_millis() as u64,
                "request_timeout_ms is not below Okta's 3 s timeout: Okta may give up first and retry"
            );
        }
        Ok(limits)
    }
}
