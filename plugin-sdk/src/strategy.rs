//! The trait a conflict strategy implements: what it reads its `[config]` into, and the two
//! calls the host makes (checking the configuration at load, transforming one user).

use crate::error::Error;
use crate::outcome::Outcome;
use crate::request::Request;

/// A conflict strategy. By default the host creates a fresh instance for every call: nothing
/// survives from one imported user to the next. A plugin the operator runs `warm` keeps its
/// instance between calls, so statics may survive; a strategy must not depend on either.
pub trait Strategy {
    /// The plugin's `[config]` table, read with serde. Refuse unknown keys with
    /// `#[serde(deny_unknown_fields)]`, give defaults with `#[serde(default)]`; [`NoConfig`](crate::NoConfig)
    /// takes none. A table that does not read refuses the plugin at load with serde's words.
    type Config: serde::de::DeserializeOwned;

    /// Decides what to change for one imported user. `request` already holds the changes of the
    /// strategies that ran before this one. An `Err` fails this call; the host's `on_error`
    /// policy for the plugin decides what happens. Its text is shown by `importhook try`,
    /// logged by `serve` only when the operator sets `log_plugin_messages = true`, and never
    /// sent to Okta. `?` works on any error ([`Error`]).
    fn transform(request: &Request, config: &Self::Config) -> Result<Outcome, Error>;

    /// Checks what types cannot say (a value out of range, two keys that exclude each other)
    /// once, when the host loads the plugin (and at `importhook check`), after the table read
    /// into [`Strategy::Config`]: an `Err` refuses the plugin with its text instead of
    /// quietly using a default. Accepts everything unless overridden.
    fn validate_config(config: &Self::Config) -> Result<(), Error> {
        let _ = config;
        Ok(())
    }
}
