//! `importhook state`: what an operator reads and deletes in the state store, plugin by plugin
//! (a counter to restart, a claim left by an aborted import, a record).

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;

use super::{EntryKind, Op, Reply, StateConfig, StateError, StateStore};

/// Where the store is: the same keys `serve` reads.
#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    /// TOML configuration file (its `state_path` and `state_url` keys are used)
    #[arg(long, env = "IMPORTHOOK_CONFIG", value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    /// State file [default: importhook-state.redb]
    #[arg(
        long,
        env = "IMPORTHOOK_STATE_PATH",
        value_name = "FILE",
        global = true
    )]
    state_path: Option<PathBuf>,
    /// Redis URL, instead of the state file
    #[arg(
        long,
        env = "IMPORTHOOK_STATE_URL",
        value_name = "URL",
        hide_env_values = true,
        global = true
    )]
    state_url: Option<String>,
}

/// What to do.
#[derive(Debug, clap::Subcommand)]
pub enum StateCommand {
    /// Lists a plugin's counters, claims and records
    List {
        /// Plugin name (its file stem, e.g. 40-login-counter-suffix)
        plugin: String,
    },
    /// Prints one entry: a counter's last number, a claim's event, a record's bytes
    Get {
        /// Plugin name
        plugin: String,
        /// Kind of entry
        kind: EntryKind,
        /// Counter name, claimed value or record key
        name: String,
    },
    /// Deletes one entry (a deleted counter starts again from 1)
    Delete {
        /// Plugin name
        plugin: String,
        /// Kind of entry
        kind: EntryKind,
        /// Counter name, claimed value or record key
        name: String,
    },
}

/// Runs `command` against the store `args` names.
pub fn run(args: StoreArgs, command: StateCommand) -> anyhow::Result<()> {
    let config = resolve(args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let store = super::open(&config).with_context(|| match &config {
            StateConfig::Embedded(path) => format!(
                "state file {} (a running importhook holds it: stop it first, or use Redis to share state)",
                path.display()
            ),
            StateConfig::Redis { .. } => "state_url".to_owned(),
        })?;
        execute(store, command).await
    })
}

fn resolve(args: StoreArgs) -> anyhow::Result<StateConfig> {
    let file = match &args.config {
        Some(path) => Some(crate::config::read_file(path)?),
        None => None,
    };
    let url = args
        .state_url
        .or_else(|| file.as_ref().and_then(|f| f.state_url.clone()));
    let path = args
        .state_path
        .or_else(|| file.as_ref().and_then(|f| f.state_path.clone()));
    Ok(match (url, path) {
        (Some(_), Some(_)) => anyhow::bail!("set either state_url or state_path, not both"),
        (Some(url), None) => StateConfig::Redis {
            url,
            wait_replicas: 0,
        },
        (None, path) => {
            let path = path.unwrap_or_else(|| PathBuf::from("importhook-state.redb"));
            // Opening creates a missing file: an operator's typo must not look like an empty
            // store.
            anyhow::ensure!(path.exists(), "no state file at {}", path.display());
            StateConfig::Embedded(path)
        }
    })
}

/// The name an entry is stored under: a claim is keyed on its value as Okta compares logins,
/// so `José@x.io` names the claim `jose@x.io` a plugin made.
fn stored_name(kind: EntryKind, name: String) -> String {
    match kind {
        EntryKind::Claim => crate::okta::login::equivalent(&name),
        _ => name,
    }
}

async fn execute(store: Arc<dyn StateStore>, command: StateCommand) -> anyhow::Result<()> {
    let unavailable = |e: StateError| anyhow::anyhow!("{e}");
    let mut out = std::io::stdout().lock();
    match command {
        StateCommand::List { plugin } => {
            for entry in store.list(&plugin).await? {
                let expires = entry
                    .expires_at
                    .map_or_else(String::new, |at| format!("  expires at {at} (Unix time)"));
                writeln!(
                    out,
                    "{:<8} {}  {}{expires}",
                    entry.kind.as_str(),
                    entry.name,
                    entry.summary
                )?;
            }
        }
        StateCommand::Get { plugin, kind, name } => {
            let name = stored_name(kind, name);
            if kind == EntryKind::Record {
                let op = Op::Get {
                    plugin: plugin.into(),
                    key: name.clone(),
                };
                match store.apply(op).await.map_err(unavailable)? {
                    Reply::Value(Some(bytes)) => out.write_all(&bytes)?,
                    _ => anyhow::bail!("no record {name:?}"),
                }
            } else {
                let entry = store
                    .list(&plugin)
                    .await?
                    .into_iter()
                    .find(|e| e.kind == kind && e.name == name)
                    .with_context(|| format!("no {} {name:?}", kind.as_str()))?;
                writeln!(out, "{}", entry.summary)?;
            }
        }
        StateCommand::Delete { plugin, kind, name } => {
            let name = stored_name(kind, name);
            let op = Op::Delete {
                plugin: plugin.into(),
                kind,
                name: name.clone(),
            };
            match store.apply(op).await.map_err(unavailable)? {
                Reply::Deleted(true) => writeln!(out, "deleted {} {name:?}", kind.as_str())?,
                _ => anyhow::bail!("no {} {name:?}", kind.as_str()),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_claim_is_found_and_deleted_by_any_equivalent_spelling() {
        let store = crate::state::scratch();
        let claim = Op::Claim {
            plugin: "counter".into(),
            value: crate::okta::login::equivalent("José.Álvarez@example.com"),
            event: "event-1".into(),
            ttl: 60,
        };
        assert_eq!(store.apply(claim).await, Ok(Reply::Held(true)));
        assert_eq!(
            stored_name(EntryKind::Claim, "JOSE.ALVAREZ@example.com".into()),
            "jose.alvarez@example.com"
        );
        // Counters and records keep their names as given.
        assert_eq!(stored_name(EntryKind::Counter, "Jöe".into()), "Jöe");
        assert_eq!(store.list("counter").await.expect("list").len(), 1);
        let delete = StateCommand::Delete {
            plugin: "counter".into(),
            kind: EntryKind::Claim,
            name: "jose.álvarez@EXAMPLE.com".into(),
        };
        execute(store.clone(), delete).await.expect("deleted");
        assert!(store.list("counter").await.expect("list").is_empty());
    }
}
