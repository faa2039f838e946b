//! The server's connection limits (`max_connections`, the handshake, header, write and idle
//! deadlines, a connection's lifetime, the drain on shutdown), read from their keys.

use std::time::Duration;

use crate::config::layer::{ConfigLayer, Origin, millis, positive};

/// What one connection, and all of them together, may take.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Most open connections.
    pub max_connections: usize,
    /// TLS handshake deadline.
    pub handshake_timeout: Duration,
    /// Header read deadline, from a request's first byte (from the handshake for the first).
    pub header_timeout: Duration,
    /// Longest a write may stay blocked on a client that does not read.
    pub write_timeout: Duration,
    /// Longest wait for the next request on a keep-alive connection.
    pub idle_timeout: Duration,
    /// Total lifetime of a connection before it is closed after its next answer.
    pub max_connection_age: Duration,
    /// Graceful shutdown deadline.
    pub drain_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            handshake_timeout: Duration::from_secs(5),
            header_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(30),
            max_connection_age: Duration::from_secs(300),
            drain_timeout: Duration::from_secs(10),
        }
    }
}

impl Limits {
    /// Reads the connection keys; every one must be above 0.
    pub(crate) fn resolve(
        cli: &ConfigLayer,
        file: &ConfigLayer,
        origin: &Origin<'_>,
    ) -> anyhow::Result<Self> {
        let defaults = Self::default();
        Ok(Self {
            max_connections: positive(
                &cli.max_connections,
                &file.max_connections,
                origin,
                "max_connections",
                defaults.max_connections as u64,
            )? as usize,
            handshake_timeout: millis(
                &cli.handshake_timeout_ms,
                &file.handshake_timeout_ms,
                origin,
                "handshake_timeout_ms",
                defaults.handshake_timeout,
            )?,
            header_timeout: millis(
                &cli.header_timeout_ms,
                &file.header_timeout_ms,
                origin,
                "header_timeout_ms",
                defaults.header_timeout,
            )?,
            write_timeout: millis(
                &cli.write_timeout_ms,
                &file.write_timeout_ms,
                origin,
                "write_timeout_ms",
                defaults.write_timeout,
            )?,
            idle_timeout: millis(
                &cli.idle_timeout_ms,
                &file.idle_timeout_ms,
                origin,
                "idle_timeout_ms",
                defaults.idle_timeout,
            )?,
            max_connection_age: millis(
                &cli.max_connection_age_ms,
                &file.max_connection_age_ms,
                origin,
                "max_connection_age_ms",
                defaults.max_connection_age,
            )?,
            drain_timeout: millis(
                &cli.drain_timeout_ms,
                &file.drain_timeout_ms,
                origin,
                "drain_timeout_ms",
                defaults.drain_timeout,
            )?,
        })
    }
}
