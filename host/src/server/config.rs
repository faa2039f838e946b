//! The server's connection limits (`max_connections`, the handshake, header, write and idle
//! deadlines, a connection's lifetime, the drain on shutdown) and the addresses it listens
//! on, read from their keys.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;

use crate::config::layer::{ConfigLayer, Origin, millis, pick, positive};

/// The hook's and the admin server's addresses (`listen`, `admin_listen`).
pub(crate) fn addresses(
    cli: &ConfigLayer,
    file: &ConfigLayer,
    origin: &Origin<'_>,
    dev: bool,
) -> anyhow::Result<(SocketAddr, SocketAddr)> {
    let addr = |cli_v: &Option<String>, file_v: &Option<String>, field: &str, default: &str| {
        let (text, from_cli) = pick(cli_v, file_v).unwrap_or((default.to_owned(), true));
        text.parse::<SocketAddr>().with_context(|| {
            format!(
                "{}: `{text}` is not a socket address like 127.0.0.1:8443",
                origin.name(from_cli, field)
            )
        })
    };
    // Dev mode is for trying it locally: stay on loopback unless told otherwise.
    let default_listen = if dev {
        "127.0.0.1:8443"
    } else {
        "0.0.0.0:8443"
    };
    let listen = addr(&cli.listen, &file.listen, "listen", default_listen)?;
    let admin_listen = addr(
        &cli.admin_listen,
        &file.admin_listen,
        "admin_listen",
        "127.0.0.1:9901",
    )?;
    Ok((listen, admin_listen))
}

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
