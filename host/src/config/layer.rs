//! The configuration layer: every key as one flat struct that is at once the CLI flags (each
//! with its env var) and the TOML file's schema, and the helpers each component's `resolve`
//! uses to pick a value and name where it came from. Depends on nothing else of the crate, so
//! every component can read its keys without importing the composition in `config`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;

/// Env var holding comma-separated hook secrets.
pub const SECRETS_ENV: &str = "IMPORTHOOK_SECRETS";

/// Every configurable key. The same struct is a set of CLI flags (each with its env var) and
/// the schema of the TOML file.
#[derive(Debug, Default, Clone, clap::Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigLayer {
    /// HTTPS address Okta calls [default: 0.0.0.0:8443; 127.0.0.1:8443 with --dev]
    #[arg(long, env = "IMPORTHOOK_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Admin address for /livez, /readyz [default: 127.0.0.1:9901]
    #[arg(long, env = "IMPORTHOOK_ADMIN_LISTEN", value_name = "ADDR")]
    pub admin_listen: Option<String>,
    /// PEM certificate chain
    #[arg(long, env = "IMPORTHOOK_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key
    #[arg(long, env = "IMPORTHOOK_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// URL path of the hook [default: /okta/import]
    #[arg(long, env = "IMPORTHOOK_PATH", value_name = "PATH")]
    pub path: Option<String>,
    /// Header carrying the secret ("Authentication field" in Okta) [default: Authorization]
    #[arg(long, env = "IMPORTHOOK_AUTH_HEADER", value_name = "NAME")]
    pub auth_header: Option<String>,
    /// File with one accepted secret per line (also see IMPORTHOOK_SECRETS)
    #[arg(long, env = "IMPORTHOOK_SECRET_FILE", value_name = "FILE")]
    pub secret_file: Option<PathBuf>,
    /// Folder of plugins (*.wasm, run in file-name order), or several separated by `:`, a
    /// later folder's file replacing an earlier one's of the same name [default: plugins.d]
    #[arg(long, env = "IMPORTHOOK_PLUGINS", value_name = "DIR")]
    pub plugins: Option<PathBuf>,
    /// Folder for compiled plugin artifacts [default: <first plugins folder>/.cache]
    #[arg(long, env = "IMPORTHOOK_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Log format: text or json [default: text]
    #[arg(long, env = "IMPORTHOOK_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Largest accepted request body in bytes [default: 262144]
    #[arg(long, env = "IMPORTHOOK_MAX_BODY_BYTES", value_name = "BYTES")]
    pub max_body_bytes: Option<u64>,
    /// Most open connections; at the cap a new one evicts the oldest that has not authenticated, else it is closed [default: 1024]
    #[arg(long, env = "IMPORTHOOK_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<u64>,
    /// TLS handshake deadline [default: 5000]
    #[arg(long, env = "IMPORTHOOK_HANDSHAKE_TIMEOUT_MS", value_name = "MS")]
    pub handshake_timeout_ms: Option<u64>,
    /// Deadline to receive a request's headers, from its first byte (from the handshake for the first) [default: 5000]
    #[arg(long, env = "IMPORTHOOK_HEADER_TIMEOUT_MS", value_name = "MS")]
    pub header_timeout_ms: Option<u64>,
    /// Longest a pending write of an answer may wait on a client that does not read [default: 5000]
    #[arg(long, env = "IMPORTHOOK_WRITE_TIMEOUT_MS", value_name = "MS")]
    pub write_timeout_ms: Option<u64>,
    /// How long a keep-alive connection may wait for the first byte of its next request [default: 30000]
    #[arg(long, env = "IMPORTHOOK_IDLE_TIMEOUT_MS", value_name = "MS")]
    pub idle_timeout_ms: Option<u64>,
    /// Total lifetime of a connection; past it the next answer carries `Connection: close` [default: 300000]
    #[arg(long, env = "IMPORTHOOK_MAX_CONNECTION_AGE_MS", value_name = "MS")]
    pub max_connection_age_ms: Option<u64>,
    /// Deadline to receive a request's body [default: 5000]
    #[arg(long, env = "IMPORTHOOK_BODY_TIMEOUT_MS", value_name = "MS")]
    pub body_timeout_ms: Option<u64>,
    /// Overall deadline of one request; keep it well under Okta's 3 s [default: 2000]
    #[arg(long, env = "IMPORTHOOK_REQUEST_TIMEOUT_MS", value_name = "MS")]
    pub request_timeout_ms: Option<u64>,
    /// Answer at the deadline: `pass` (204, Okta goes on as planned) or `error` [default: pass]
    #[arg(long, env = "IMPORTHOOK_ON_TIMEOUT", value_name = "POLICY")]
    pub on_timeout: Option<String>,
    /// Most requests served at once; past it `503` with `Retry-After` at once [default: 256]
    #[arg(long, env = "IMPORTHOOK_MAX_IN_FLIGHT", value_name = "N")]
    pub max_in_flight: Option<u64>,
    /// Memory request bodies being served may hold together, parsed form included; past it a request waits briefly, then gets `503` [default: 96]
    #[arg(long, env = "IMPORTHOOK_MAX_BODY_MEMORY_MIB", value_name = "MIB")]
    pub max_body_memory_mib: Option<u64>,
    /// Linear memory all plugin instances together may hold; past it a call fails as `overloaded` [default: 128]
    #[arg(long, env = "IMPORTHOOK_PLUGIN_MEMORY_BUDGET_MIB", value_name = "MIB")]
    pub plugin_memory_budget_mib: Option<u64>,
    /// Largest plugin file read; a larger one is refused [default: 67108864]
    #[arg(long, env = "IMPORTHOOK_MAX_PLUGIN_BYTES", value_name = "BYTES")]
    pub max_plugin_bytes: Option<u64>,
    /// Report ready (`/readyz`) with no plugin loaded: every request then answers 204 [default: false]
    #[arg(long, env = "IMPORTHOOK_ALLOW_NO_PLUGINS", value_name = "BOOL")]
    pub allow_no_plugins: Option<bool>,
    /// Put each plugin call's time in `debugContext` (answers then differ run to run) [default: false]
    #[arg(long, env = "IMPORTHOOK_DEBUG_TIMINGS", value_name = "BOOL")]
    pub debug_timings: Option<bool>,
    /// What Okta accepts as a login: `email` (Okta's default) or `any` (the org's login pattern allows any value); a plugin's login Okta would refuse is its invalid output [default: email]
    #[arg(long, env = "IMPORTHOOK_LOGIN_FORMAT", value_name = "FORMAT")]
    pub login_format: Option<String>,
    /// Log a failed plugin's own words (its error text or panic message), which may hold personal data [default: false]
    #[arg(long, env = "IMPORTHOOK_LOG_PLUGIN_MESSAGES", value_name = "BOOL")]
    pub log_plugin_messages: Option<bool>,
    /// Authentication: `header` (shared secret) or `oauth` (Okta OAuth 2.0 bearer token) [default: header]
    #[arg(long, env = "IMPORTHOOK_AUTH_MODE", value_name = "MODE")]
    pub auth_mode: Option<String>,
    /// OAuth: exact token issuer, a custom authorization server (https://{domain}/oauth2/{id})
    #[arg(long, env = "IMPORTHOOK_OAUTH_ISSUER", value_name = "URL")]
    pub oauth_issuer: Option<String>,
    /// OAuth: required audience (`aud`), e.g. api://default
    #[arg(long, env = "IMPORTHOOK_OAUTH_AUDIENCE", value_name = "AUD")]
    pub oauth_audience: Option<String>,
    /// OAuth (required): client id of the hook's API Services app; tokens must carry it as `cid` and `sub`, and no `uid`
    #[arg(long, env = "IMPORTHOOK_OAUTH_CLIENT_ID", value_name = "ID")]
    pub oauth_client_id: Option<String>,
    /// OAuth (recommended): scope that must be in `scp`
    #[arg(long, env = "IMPORTHOOK_OAUTH_SCOPE", value_name = "SCOPE")]
    pub oauth_scope: Option<String>,
    /// OAuth: clock skew tolerated on exp/nbf/iat, seconds [default: 120]
    #[arg(long, env = "IMPORTHOOK_OAUTH_LEEWAY_S", value_name = "S")]
    pub oauth_leeway_s: Option<u64>,
    /// OAuth: JWKS URL [default: discovered from {issuer}/.well-known/oauth-authorization-server]
    #[arg(long, env = "IMPORTHOOK_OAUTH_JWKS_URL", value_name = "URL")]
    pub oauth_jwks_url: Option<String>,
    /// OAuth: extra PEM CA certificates to trust when fetching keys
    #[arg(long, env = "IMPORTHOOK_OAUTH_CA_FILE", value_name = "FILE")]
    pub oauth_ca_file: Option<PathBuf>,
    /// OAuth: least seconds between key refreshes caused by unknown key ids [default: 60]
    #[arg(long, env = "IMPORTHOOK_OAUTH_REFRESH_S", value_name = "S")]
    pub oauth_refresh_s: Option<u64>,
    /// Okta directory lookups: the org, https://{yourOktaDomain} [default: none, lookups answer unknown]
    #[arg(long, env = "IMPORTHOOK_OKTA_ORG_URL", value_name = "URL")]
    pub okta_org_url: Option<String>,
    /// Okta: file holding an API token (SSWS); or set IMPORTHOOK_OKTA_API_TOKEN (never a flag)
    #[arg(long, env = "IMPORTHOOK_OKTA_API_TOKEN_FILE", value_name = "FILE")]
    pub okta_api_token_file: Option<PathBuf>,
    /// Okta: client id of an API Services app (instead of an API token)
    #[arg(long, env = "IMPORTHOOK_OKTA_CLIENT_ID", value_name = "ID")]
    pub okta_client_id: Option<String>,
    /// Okta: PEM private key (PKCS#8 RSA or P-256) registered on the service app
    #[arg(long, env = "IMPORTHOOK_OKTA_PRIVATE_KEY_FILE", value_name = "FILE")]
    pub okta_private_key_file: Option<PathBuf>,
    /// Okta: key id (`kid`) of that key in Okta
    #[arg(long, env = "IMPORTHOOK_OKTA_KEY_ID", value_name = "KID")]
    pub okta_key_id: Option<String>,
    /// Okta: scopes the service app asks for [default: okta.users.read]
    #[arg(long, env = "IMPORTHOOK_OKTA_SCOPE", value_name = "SCOPES")]
    pub okta_scope: Option<String>,
    /// Okta: extra PEM CA certificates to trust when calling the org
    #[arg(long, env = "IMPORTHOOK_OKTA_CA_FILE", value_name = "FILE")]
    pub okta_ca_file: Option<PathBuf>,
    /// Okta: longest one lookup may take, also cut to the plugin call's deadline [default: 500]
    #[arg(long, env = "IMPORTHOOK_OKTA_TIMEOUT_MS", value_name = "MS")]
    pub okta_timeout_ms: Option<u64>,
    /// Okta: seconds a `taken` answer is reused [default: 3600]
    #[arg(long, env = "IMPORTHOOK_OKTA_CACHE_TAKEN_S", value_name = "S")]
    pub okta_cache_taken_s: Option<u64>,
    /// Okta: seconds a `free` answer is reused [default: 10]
    #[arg(long, env = "IMPORTHOOK_OKTA_CACHE_FREE_S", value_name = "S")]
    pub okta_cache_free_s: Option<u64>,
    /// Okta: most lookups in flight to the org at once (Okta's concurrency limit is per org,
    /// shared with every other client) [default: 8]
    #[arg(long, env = "IMPORTHOOK_OKTA_MAX_CONCURRENT", value_name = "N")]
    pub okta_max_concurrent: Option<u32>,
    /// Okta: percent of an endpoint's rate limit left to the org's other clients: lookups stop
    /// once `X-Rate-Limit-Remaining` is at or below it, until the reset [default: 20]
    #[arg(
        long,
        env = "IMPORTHOOK_OKTA_RATE_HEADROOM_PERCENT",
        value_name = "PERCENT"
    )]
    pub okta_rate_headroom_percent: Option<u8>,
    /// Okta: DPoP for the service app's tokens: auto (without first, with DPoP once Okta asks
    /// for it), on, off [default: auto]
    #[arg(long, env = "IMPORTHOOK_OKTA_DPOP", value_name = "MODE")]
    pub okta_dpop: Option<String>,
    /// On shutdown, how long in-flight requests may take to finish [default: 10000]
    #[arg(long, env = "IMPORTHOOK_DRAIN_TIMEOUT_MS", value_name = "MS")]
    pub drain_timeout_ms: Option<u64>,
    /// State file of plugins granted `state` (embedded store; one process per file)
    /// [default: importhook-state.redb]
    #[arg(long, env = "IMPORTHOOK_STATE_PATH", value_name = "FILE")]
    pub state_path: Option<PathBuf>,
    /// Redis URL for state shared by replicas (redis://, rediss://, redis+unix://), instead of
    /// the state file. May hold a password: prefer the env var or the config file
    #[arg(
        long,
        env = "IMPORTHOOK_STATE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub state_url: Option<String>,
    /// Redis: replicas that must acknowledge each counter number and claim (`WAIT N`, bounded
    /// by the plugin call's deadline) before the plugin gets it [default: 0, no wait]
    #[arg(long, env = "IMPORTHOOK_STATE_REDIS_WAIT", value_name = "N")]
    pub state_redis_wait: Option<u32>,
    /// `[preview]`: how `importhook preview` reads an import file (file only).
    #[arg(skip)]
    #[serde(default)]
    pub preview: Option<PreviewSection>,
}

/// The `[preview]` table of the config file.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewSection {
    /// Okta user attribute = column (or JSON key) of the import file.
    #[serde(default)]
    pub mapping: std::collections::BTreeMap<String, String>,
    /// The app's matching rules, as `context.policy` lists them.
    pub match_on: Option<Vec<String>>,
}

/// Reads the TOML file at `path` as a [`ConfigLayer`], naming the file on any error.
pub fn read_file(path: &Path) -> anyhow::Result<ConfigLayer> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    toml::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "config file {}: {}",
            path.display(),
            crate::tomlerr::one_line(&text, &e)
        )
    })
}

/// Names where a value came from, for error messages.
pub(crate) struct Origin<'a> {
    /// The config file, when one is read.
    pub(crate) file: Option<&'a Path>,
}

impl Origin<'_> {
    pub(crate) fn name(&self, from_cli: bool, field: &str) -> String {
        let flag = field.replace('_', "-");
        let env = format!("IMPORTHOOK_{}", field.to_ascii_uppercase());
        match (from_cli, self.file) {
            (false, Some(file)) => format!("config file {}: field `{field}`", file.display()),
            _ => format!("--{flag} / {env}"),
        }
    }
}

impl Origin<'_> {
    /// Names a key that is missing: the file field (if a file is used) and the flag/env var.
    pub(crate) fn missing(&self, field: &str) -> String {
        let cli = self.name(true, field);
        match self.file {
            Some(file) => format!("config file {}: field `{field}` (or {cli})", file.display()),
            None => format!("{cli} (or field `{field}` of the config file)"),
        }
    }
}

/// Picks the CLI/env value over the file value, remembering which one won.
pub(crate) fn pick<T: Clone>(cli: &Option<T>, file: &Option<T>) -> Option<(T, bool)> {
    match (cli, file) {
        (Some(v), _) => Some((v.clone(), true)),
        (None, Some(v)) => Some((v.clone(), false)),
        (None, None) => None,
    }
}

/// A count or size that must be above 0 (`default` when neither layer sets it).
pub(crate) fn positive(
    cli: &Option<u64>,
    file: &Option<u64>,
    origin: &Origin<'_>,
    field: &str,
    default: u64,
) -> anyhow::Result<u64> {
    let (value, from_cli) = pick(cli, file).unwrap_or((default, true));
    if value == 0 {
        anyhow::bail!("{}: must be greater than 0", origin.name(from_cli, field));
    }
    Ok(value)
}

/// A deadline in milliseconds that must be above 0.
pub(crate) fn millis(
    cli: &Option<u64>,
    file: &Option<u64>,
    origin: &Origin<'_>,
    field: &str,
    default: Duration,
) -> anyhow::Result<Duration> {
    positive(cli, file, origin, field, default.as_millis() as u64).map(Duration::from_millis)
}
