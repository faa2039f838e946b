//! Reads the state store's keys (`state_path`, `state_url`, `state_redis_wait`) into a
//! [`StateConfig`].

use std::path::PathBuf;

use anyhow::{Context, bail};

use super::StateConfig;
use crate::config::layer::{ConfigLayer, Origin, pick};

/// The state backend: a Redis URL if one is given, else the state file.
pub(crate) fn resolve(
    cli: &ConfigLayer,
    file: &ConfigLayer,
    origin: &Origin<'_>,
) -> anyhow::Result<StateConfig> {
    let path = pick(&cli.state_path, &file.state_path);
    match pick(&cli.state_url, &file.state_url) {
        Some((url, from_cli)) => {
            if path.is_some() {
                bail!(
                    "{}: set either state_url (Redis, for replicas) or state_path (a file, for one process), not both",
                    origin.name(from_cli, "state_url")
                );
            }
            // Checked here so a typo fails before anything binds; connecting waits for the
            // first plugin call (a Redis that is down then fails calls, not the start).
            super::RedisStore::new(&url).with_context(|| origin.name(from_cli, "state_url"))?;
            let wait_replicas = match pick(&cli.state_redis_wait, &file.state_redis_wait) {
                Some((n, from_cli)) if n > 16 => bail!(
                    "{}: {n} replicas is more than any Redis deployment importhook expects (at most 16)",
                    origin.name(from_cli, "state_redis_wait")
                ),
                Some((n, _)) => n,
                None => 0,
            };
            Ok(StateConfig::Redis { url, wait_replicas })
        }
        None if pick(&cli.state_redis_wait, &file.state_redis_wait).is_some_and(|(n, _)| n > 0) => {
            bail!(
                "{}: state_redis_wait needs state_url (a Redis store)",
                origin.name(cli.state_redis_wait.is_some(), "state_redis_wait")
            )
        }
        None => Ok(StateConfig::Embedded(path.map_or_else(
            || PathBuf::from("importhook-state.redb"),
            |(p, _)| p,
        ))),
    }
}
