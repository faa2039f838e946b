//! Configuration: one layer type read from flags, `IMPORTHOOK_*` env vars and a TOML file,
//! validated once at start-up into [`Settings`], before anything binds.
//!
//! Precedence: flag, then env var, then file, then default. Secrets are never flags: they come
//! from `IMPORTHOOK_SECRETS` (comma-separated) or `secret_file` (one per line).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use http::header::HeaderName;
use serde::Deserialize;

use crate::auth::{Secret, SecretSet};
use crate::oauth::{JwksSource, OAuthSettings};
use crate::state::StateConfig;

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
}

/// Output format of the logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Where the TLS certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// PEM files.
    Files {
        /// Certificate chain.
        cert: PathBuf,
        /// Private key.
        key: PathBuf,
    },
    /// An in-memory self-signed certificate for localhost (`serve --dev`).
    SelfSigned,
}

/// Connection and request limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest accepted request body.
    pub max_body_bytes: u64,
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
    /// Body read deadline.
    pub body_timeout: Duration,
    /// Graceful shutdown deadline.
    pub drain_timeout: Duration,
    /// Overall deadline of one request.
    pub request_timeout: Duration,
    /// What the request deadline answers.
    pub on_timeout: OnTimeout,
    /// Most requests served at once.
    pub max_in_flight: usize,
    /// Linear memory all plugin instances together may hold, in bytes.
    pub plugin_memory_budget: usize,
    /// Largest plugin file read.
    pub max_plugin_bytes: u64,
    /// Memory request bodies being served may hold together (as charged by
    /// [`crate::body_memory::charge_for`]), in bytes.
    pub max_body_memory: usize,
}

/// What a request that reaches its deadline answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnTimeout {
    /// `204`: Okta goes on with its default action.
    Pass,
    /// An `error` object.
    Error,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 256 * 1024,
            max_connections: 1024,
            handshake_timeout: Duration::from_secs(5),
            header_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(30),
            max_connection_age: Duration::from_secs(300),
            body_timeout: Duration::from_secs(5),
            drain_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(2),
            on_timeout: OnTimeout::Pass,
            max_in_flight: 256,
            plugin_memory_budget: (crate::engine::DEFAULT_MEMORY_BUDGET_MIB << 20) as usize,
            max_plugin_bytes: crate::engine::DEFAULT_MAX_PLUGIN_BYTES,
            max_body_memory: (crate::body_memory::DEFAULT_MIB << 20) as usize,
        }
    }
}

/// The validated configuration the service runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// HTTPS address.
    pub listen: SocketAddr,
    /// Admin address.
    pub admin_listen: SocketAddr,
    /// Certificate source.
    pub tls: TlsSource,
    /// Hook URL path.
    pub hook_path: String,
    /// Accepted secrets (header mode).
    pub secrets: SecretSet,
    /// Secrets that do not come from the secret file (env, generated).
    pub fixed_secrets: Vec<Secret>,
    /// The secret file, re-read on reload.
    pub secret_file: Option<PathBuf>,
    /// OAuth bearer-token verification, when `auth_mode = "oauth"`.
    pub oauth: Option<OAuthSettings>,
    /// Okta directory lookups, when `okta_org_url` is set.
    pub directory: Option<crate::directory::Config>,
    /// A secret generated by `--dev` because none was configured; printed once at start-up.
    pub generated_secret: Option<Secret>,
    /// Plugins folder, or several separated by `:` (see [`crate::engine::folders`]).
    pub plugins_dir: PathBuf,
    /// Compiled-artifact cache folder.
    pub cache_dir: PathBuf,
    /// Log format.
    pub log_format: LogFormat,
    /// Whether `debugContext` carries plugin call times.
    pub debug_timings: bool,
    /// Whether `/readyz` may answer ready with no plugin loaded.
    pub allow_no_plugins: bool,
    /// What Okta accepts as a login in the org (`login_format`): plugin logins it would
    /// refuse are invalid output.
    pub login_format: crate::okta::login::LoginFormat,
    /// Whether a failed plugin call's log line carries the plugin's own words (its `err` text
    /// or panic message). Off by default: a plugin may quote the profile it read.
    pub log_plugin_messages: bool,
    /// Where plugins granted `state` keep it.
    pub state: StateConfig,
    /// Limits.
    pub limits: Limits,
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
struct Origin<'a> {
    file: Option<&'a Path>,
}

impl Origin<'_> {
    fn name(&self, from_cli: bool, field: &str) -> String {
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
    fn missing(&self, field: &str) -> String {
        let cli = self.name(true, field);
        match self.file {
            Some(file) => format!("config file {}: field `{field}` (or {cli})", file.display()),
            None => format!("{cli} (or field `{field}` of the config file)"),
        }
    }
}

/// Picks the CLI/env value over the file value, remembering which one won.
fn pick<T: Clone>(cli: &Option<T>, file: &Option<T>) -> Option<(T, bool)> {
    match (cli, file) {
        (Some(v), _) => Some((v.clone(), true)),
        (None, Some(v)) => Some((v.clone(), false)),
        (None, None) => None,
    }
}

impl Settings {
    /// Validates the layers. `secrets_env` is the value of [`SECRETS_ENV`], if set.
    pub fn resolve(
        cli: &ConfigLayer,
        file: Option<(&Path, ConfigLayer)>,
        secrets_env: Option<&str>,
        dev: bool,
    ) -> anyhow::Result<Self> {
        let (file_path, file) = match file {
            Some((path, layer)) => (Some(path), layer),
            None => (None, ConfigLayer::default()),
        };
        let origin = Origin { file: file_path };

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

        let cert = pick(&cli.tls_cert, &file.tls_cert);
        let key = pick(&cli.tls_key, &file.tls_key);
        let tls = match (cert, key) {
            (Some((cert, _)), Some((key, _))) => TlsSource::Files { cert, key },
            (None, None) if dev => TlsSource::SelfSigned,
            (None, None) => bail!(
                "no TLS certificate configured: set tls_cert and tls_key (--tls-cert/--tls-key), or use --dev"
            ),
            (Some((_, from_cli)), None) => bail!(
                "{}: missing, tls_cert is set",
                origin.name(from_cli, "tls_key")
            ),
            (None, Some((_, from_cli))) => bail!(
                "{}: missing, tls_key is set",
                origin.name(from_cli, "tls_cert")
            ),
        };

        let (hook_path, from_cli) =
            pick(&cli.path, &file.path).unwrap_or(("/okta/import".into(), true));
        if !hook_path.starts_with('/') || hook_path.contains(['?', '#', ' ']) {
            bail!(
                "{}: `{hook_path}` must be a URL path starting with `/`",
                origin.name(from_cli, "path")
            );
        }

        let (header, from_cli) =
            pick(&cli.auth_header, &file.auth_header).unwrap_or(("Authorization".into(), true));
        let header = HeaderName::from_bytes(header.as_bytes()).map_err(|_| {
            anyhow::anyhow!(
                "{}: `{header}` is not a valid HTTP header name",
                origin.name(from_cli, "auth_header")
            )
        })?;

        let mut secrets = Vec::new();
        if let Some(env) = secrets_env {
            secrets.extend(
                env.split(',')
                    .map(Secret::new)
                    .filter(|s| !s.expose().is_empty()),
            );
        }
        let secret_file = match pick(&cli.secret_file, &file.secret_file) {
            Some((path, from_cli)) => {
                let from_file = read_secret_file(&path)
                    .with_context(|| origin.name(from_cli, "secret_file"))?;
                Some((path, from_file))
            }
            None => None,
        };
        let (mode, mode_from_cli) =
            pick(&cli.auth_mode, &file.auth_mode).unwrap_or(("header".into(), true));
        let oauth = match mode.as_str() {
            "header" => None,
            "oauth" => Some(resolve_oauth(cli, &file, &origin)?),
            other => bail!(
                "{}: `{other}` is not one of header, oauth",
                origin.name(mode_from_cli, "auth_mode")
            ),
        };
        let mut generated_secret = None;
        if secrets.is_empty() && secret_file.is_none() && oauth.is_none() {
            if !dev {
                bail!(
                    "no hook secret configured: set {SECRETS_ENV} or secret_file (--secret-file), or use --dev"
                );
            }
            let secret = generate_secret()?;
            secrets.push(secret.clone());
            generated_secret = Some(secret);
        }
        // Env and generated secrets are fixed for the process; the file is re-read on reload.
        let fixed_secrets = secrets.clone();
        let (secret_file, mut all) = match secret_file {
            Some((path, from_file)) => (Some(path), from_file),
            None => (None, Vec::new()),
        };
        all.extend(secrets);
        let secrets = SecretSet::new(header, &all);

        let plugins_dir = pick(&cli.plugins, &file.plugins)
            .map_or_else(|| PathBuf::from("plugins.d"), |(p, _)| p);
        let cache_dir = pick(&cli.cache_dir, &file.cache_dir).map_or_else(
            || crate::engine::default_cache_dir(&plugins_dir),
            |(p, _)| p,
        );

        let (format, from_cli) =
            pick(&cli.log_format, &file.log_format).unwrap_or(("text".into(), true));
        let log_format = match format.as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => bail!(
                "{}: `{other}` is not one of text, json",
                origin.name(from_cli, "log_format")
            ),
        };

        let defaults = Limits::default();
        let positive = |cli_v: &Option<u64>, file_v: &Option<u64>, field: &str, default: u64| {
            let (value, from_cli) = pick(cli_v, file_v).unwrap_or((default, true));
            if value == 0 {
                bail!("{}: must be greater than 0", origin.name(from_cli, field));
            }
            Ok(value)
        };
        let millis = |cli_v: &Option<u64>, file_v: &Option<u64>, field: &str, default: Duration| {
            positive(cli_v, file_v, field, default.as_millis() as u64).map(Duration::from_millis)
        };
        let limits = Limits {
            max_body_bytes: positive(
                &cli.max_body_bytes,
                &file.max_body_bytes,
                "max_body_bytes",
                defaults.max_body_bytes,
            )?,
            max_connections: positive(
                &cli.max_connections,
                &file.max_connections,
                "max_connections",
                defaults.max_connections as u64,
            )? as usize,
            handshake_timeout: millis(
                &cli.handshake_timeout_ms,
                &file.handshake_timeout_ms,
                "handshake_timeout_ms",
                defaults.handshake_timeout,
            )?,
            header_timeout: millis(
                &cli.header_timeout_ms,
                &file.header_timeout_ms,
                "header_timeout_ms",
                defaults.header_timeout,
            )?,
            write_timeout: millis(
                &cli.write_timeout_ms,
                &file.write_timeout_ms,
                "write_timeout_ms",
                defaults.write_timeout,
            )?,
            idle_timeout: millis(
                &cli.idle_timeout_ms,
                &file.idle_timeout_ms,
                "idle_timeout_ms",
                defaults.idle_timeout,
            )?,
            max_connection_age: millis(
                &cli.max_connection_age_ms,
                &file.max_connection_age_ms,
                "max_connection_age_ms",
                defaults.max_connection_age,
            )?,
            body_timeout: millis(
                &cli.body_timeout_ms,
                &file.body_timeout_ms,
                "body_timeout_ms",
                defaults.body_timeout,
            )?,
            drain_timeout: millis(
                &cli.drain_timeout_ms,
                &file.drain_timeout_ms,
                "drain_timeout_ms",
                defaults.drain_timeout,
            )?,
            request_timeout: millis(
                &cli.request_timeout_ms,
                &file.request_timeout_ms,
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
                "max_in_flight",
                defaults.max_in_flight as u64,
            )? as usize,
            plugin_memory_budget: (positive(
                &cli.plugin_memory_budget_mib,
                &file.plugin_memory_budget_mib,
                "plugin_memory_budget_mib",
                (defaults.plugin_memory_budget >> 20) as u64,
            )? << 20) as usize,
            max_plugin_bytes: positive(
                &cli.max_plugin_bytes,
                &file.max_plugin_bytes,
                "max_plugin_bytes",
                defaults.max_plugin_bytes,
            )?,
            max_body_memory: (positive(
                &cli.max_body_memory_mib,
                &file.max_body_memory_mib,
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

        let directory = resolve_directory(
            cli,
            &file,
            &origin,
            std::env::var(OKTA_API_TOKEN_ENV).ok().as_deref(),
        )?;

        Ok(Self {
            listen,
            admin_listen,
            tls,
            hook_path,
            secrets,
            fixed_secrets,
            secret_file,
            oauth,
            directory,
            generated_secret,
            plugins_dir,
            cache_dir,
            log_format,
            debug_timings: pick(&cli.debug_timings, &file.debug_timings).is_some_and(|(on, _)| on),
            log_plugin_messages: pick(&cli.log_plugin_messages, &file.log_plugin_messages)
                .is_some_and(|(on, _)| on),
            allow_no_plugins: pick(&cli.allow_no_plugins, &file.allow_no_plugins)
                .is_some_and(|(on, _)| on),
            login_format: match pick(&cli.login_format, &file.login_format) {
                None => crate::okta::login::LoginFormat::default(),
                Some((text, from_cli)) => {
                    login_format(Some(&text), &origin.name(from_cli, "login_format"))?
                }
            },
            state: resolve_state(cli, &file, &origin)?,
            limits,
        })
    }
}

/// Reads `login_format` (`email`, Okta's default, when absent); `field` names where it came
/// from in the error.
pub fn login_format(
    text: Option<&str>,
    field: &str,
) -> anyhow::Result<crate::okta::login::LoginFormat> {
    match text {
        None => Ok(crate::okta::login::LoginFormat::default()),
        Some(text) => crate::okta::login::LoginFormat::parse(text).ok_or_else(|| {
            anyhow::anyhow!(
                "{field}: `{text}` is not one of email (Okta's default: logins are email addresses), any (the org's login pattern is \".+\")"
            )
        }),
    }
}

/// The state backend: a Redis URL if one is given, else the state file.
fn resolve_state(
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
            crate::state::RedisStore::new(&url)
                .with_context(|| origin.name(from_cli, "state_url"))?;
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

fn resolve_oauth(
    cli: &ConfigLayer,
    file: &ConfigLayer,
    origin: &Origin<'_>,
) -> anyhow::Result<OAuthSettings> {
    let required = |cli_v: &Option<String>, file_v: &Option<String>, field: &str| {
        pick(cli_v, file_v)
            .map(|(v, _)| v)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: required with auth_mode = \"oauth\"",
                    origin.missing(field)
                )
            })
    };
    let (issuer, from_cli) = pick(&cli.oauth_issuer, &file.oauth_issuer).ok_or_else(|| {
        anyhow::anyhow!(
            "{}: required with auth_mode = \"oauth\"",
            origin.missing("oauth_issuer")
        )
    })?;
    crate::oauth::check_issuer(&issuer)
        .map_err(|e| anyhow::anyhow!("{}: {e}", origin.name(from_cli, "oauth_issuer")))?;
    let audience = required(&cli.oauth_audience, &file.oauth_audience, "oauth_audience")?;
    let jwks = match pick(&cli.oauth_jwks_url, &file.oauth_jwks_url) {
        None => JwksSource::Discover,
        Some((url, from_cli)) if url.starts_with("https://") => {
            let _ = from_cli;
            JwksSource::Url(url)
        }
        Some((url, from_cli)) => bail!(
            "{}: `{url}` must be an https URL",
            origin.name(from_cli, "oauth_jwks_url")
        ),
    };
    // Every app of the authorization server gets tokens with this `iss` and `aud` (a user's
    // single-page app too): only `cid` (and `sub`) say the token is the hook's client's.
    let client_id = pick(&cli.oauth_client_id, &file.oauth_client_id)
        .map(|(v, _)| v)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{}: required with auth_mode = \"oauth\": the client id of the API Services app Okta's hook authenticates as (its tokens carry it as `cid` and `sub`); without it any token the authorization server issues to any app or user would be accepted",
                origin.missing("oauth_client_id")
            )
        })?;
    let scope = pick(&cli.oauth_scope, &file.oauth_scope)
        .map(|(v, _)| v)
        .filter(|v| !v.trim().is_empty());
    let seconds = |cli_v: &Option<u64>, file_v: &Option<u64>, default: u64| {
        pick(cli_v, file_v).map_or(default, |(v, _)| v)
    };
    Ok(OAuthSettings {
        issuer,
        audience,
        client_id,
        scope,
        leeway: Duration::from_secs(seconds(&cli.oauth_leeway_s, &file.oauth_leeway_s, 120)),
        jwks,
        ca_file: pick(&cli.oauth_ca_file, &file.oauth_ca_file).map(|(v, _)| v),
        refresh_interval: Duration::from_secs(seconds(
            &cli.oauth_refresh_s,
            &file.oauth_refresh_s,
            60,
        )),
        fetch_timeout: Duration::from_secs(2),
    })
}

/// Environment variable holding the Okta API token (never a flag).
pub const OKTA_API_TOKEN_ENV: &str = "IMPORTHOOK_OKTA_API_TOKEN";

/// The Okta directory settings: none without `okta_org_url`; with it, exactly one kind of
/// credentials (API token from env or file, or client id + private key).
fn resolve_directory(
    cli: &ConfigLayer,
    file: &ConfigLayer,
    origin: &Origin<'_>,
    token_env: Option<&str>,
) -> anyhow::Result<Option<crate::directory::Config>> {
    use crate::directory::{Config, Credentials};
    let token_file = pick(&cli.okta_api_token_file, &file.okta_api_token_file);
    let client_id = pick(&cli.okta_client_id, &file.okta_client_id);
    let key_file = pick(&cli.okta_private_key_file, &file.okta_private_key_file);
    let Some((org_url, from_cli)) = pick(&cli.okta_org_url, &file.okta_org_url) else {
        if token_file.is_some() || client_id.is_some() || token_env.is_some() {
            bail!(
                "Okta credentials are set but {} is not",
                origin.missing("okta_org_url")
            );
        }
        return Ok(None);
    };
    let uri: http::Uri = org_url.parse().map_err(|_| {
        anyhow::anyhow!(
            "{}: `{org_url}` is not a URL",
            origin.name(from_cli, "okta_org_url")
        )
    })?;
    if uri.scheme_str() != Some("https") || uri.host().is_none() || uri.path().len() > 1 {
        bail!(
            "{}: `{org_url}` must be the org's https URL without a path, e.g. https://dev-123456.okta.com",
            origin.name(from_cli, "okta_org_url")
        );
    }
    let credentials = match (token_env, token_file, client_id, key_file) {
        (Some(token), None, None, None) if !token.trim().is_empty() => {
            Credentials::ApiToken(Secret::new(token))
        }
        (None, Some((path, from_cli)), None, None) => {
            let token = std::fs::read_to_string(&path).map_err(|e| {
                anyhow::anyhow!(
                    "{}: cannot read {}: {e}",
                    origin.name(from_cli, "okta_api_token_file"),
                    path.display()
                )
            })?;
            if token.trim().is_empty() {
                bail!(
                    "{}: {} is empty",
                    origin.name(from_cli, "okta_api_token_file"),
                    path.display()
                );
            }
            Credentials::ApiToken(Secret::new(token))
        }
        (None, None, Some((client_id, _)), Some((key_file, _))) => Credentials::ServiceApp {
            client_id,
            key_file,
            key_id: pick(&cli.okta_key_id, &file.okta_key_id).map(|(v, _)| v),
            scope: pick(&cli.okta_scope, &file.okta_scope)
                .map_or_else(|| "okta.users.read".to_owned(), |(v, _)| v),
        },
        (None, None, Some(_), None) => bail!(
            "{}: required with okta_client_id",
            origin.missing("okta_private_key_file")
        ),
        (None, None, None, Some(_)) => bail!(
            "{}: required with okta_private_key_file",
            origin.missing("okta_client_id")
        ),
        (None, None, None, None) => bail!(
            "{}: okta_org_url is set but no credentials: set {OKTA_API_TOKEN_ENV}, okta_api_token_file, or okta_client_id with okta_private_key_file",
            origin.name(from_cli, "okta_org_url")
        ),
        _ => bail!(
            "{}: set exactly one kind of Okta credentials: {OKTA_API_TOKEN_ENV}, okta_api_token_file, or okta_client_id with okta_private_key_file",
            origin.name(from_cli, "okta_org_url")
        ),
    };
    let mut config = Config::new(&org_url, credentials);
    config.ca_file = pick(&cli.okta_ca_file, &file.okta_ca_file).map(|(v, _)| v);
    if let Some((ms, from_cli)) = pick(&cli.okta_timeout_ms, &file.okta_timeout_ms) {
        if ms == 0 || ms > 2500 {
            bail!(
                "{}: {ms} must be between 1 and 2500 (Okta waits 3 s for the whole hook)",
                origin.name(from_cli, "okta_timeout_ms")
            );
        }
        config.timeout = Duration::from_millis(ms);
    }
    if let Some((s, _)) = pick(&cli.okta_cache_taken_s, &file.okta_cache_taken_s) {
        config.cache_taken = Duration::from_secs(s);
    }
    if let Some((s, _)) = pick(&cli.okta_cache_free_s, &file.okta_cache_free_s) {
        config.cache_free = Duration::from_secs(s);
    }
    if let Some((n, from_cli)) = pick(&cli.okta_max_concurrent, &file.okta_max_concurrent) {
        if n == 0 || n > 75 {
            bail!(
                "{}: {n} must be between 1 and 75 (Okta's largest concurrency limit per org)",
                origin.name(from_cli, "okta_max_concurrent")
            );
        }
        config.max_concurrent = n as usize;
    }
    if let Some((p, from_cli)) = pick(
        &cli.okta_rate_headroom_percent,
        &file.okta_rate_headroom_percent,
    ) {
        if p > 90 {
            bail!(
                "{}: {p} must be between 0 and 90 (percent of the rate limit left to others)",
                origin.name(from_cli, "okta_rate_headroom_percent")
            );
        }
        config.rate_headroom_percent = p;
    }
    if let Some((mode, from_cli)) = pick(&cli.okta_dpop, &file.okta_dpop) {
        config.dpop = match mode.as_str() {
            "auto" => crate::directory::DpopMode::Auto,
            "on" => crate::directory::DpopMode::On,
            "off" => crate::directory::DpopMode::Off,
            other => bail!(
                "{}: {other:?} must be \"auto\", \"on\" or \"off\"",
                origin.name(from_cli, "okta_dpop")
            ),
        };
    }
    Ok(Some(config))
}

/// Reads a secret file: one secret per line, blank lines ignored; at least one.
pub fn read_secret_file(path: &Path) -> anyhow::Result<Vec<Secret>> {
    let text = crate::regular_file::read(path, crate::regular_file::MAX_SMALL_FILE_BYTES, "1 MiB")
        .and_then(|bytes| String::from_utf8(bytes).context("not UTF-8"))
        .with_context(|| format!("cannot read {}", path.display()))?;
    let secrets: Vec<Secret> = text
        .lines()
        .map(Secret::new)
        .filter(|s| !s.expose().is_empty())
        .collect();
    if secrets.is_empty() {
        bail!("{} holds no secret", path.display());
    }
    Ok(secrets)
}

impl Settings {
    /// The accepted secrets as they are now: the fixed ones plus the secret file re-read.
    pub fn reread_secrets(&self) -> anyhow::Result<SecretSet> {
        let mut all = match &self.secret_file {
            Some(path) => read_secret_file(path)?,
            None => Vec::new(),
        };
        all.extend(self.fixed_secrets.iter().cloned());
        Ok(SecretSet::new(self.secrets.header().clone(), &all))
    }
}

/// 32 random bytes as hex, for `--dev` when no secret is configured.
fn generate_secret() -> anyhow::Result<Secret> {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("no system randomness to generate a dev secret"))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(Secret::new(hex))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_file_typo_is_one_line_naming_the_closest_key() {
        let path =
            std::env::temp_dir().join(format!("importhook-typo-{}.toml", std::process::id()));
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:8443\"\nplugin = \"plugins.d\"\n",
        )
        .expect("write");
        let err = format!("{:#}", read_file(&path).expect_err("typo"));
        let _ = std::fs::remove_file(&path);
        assert!(
            err.ends_with("line 2: unknown key `plugin` (did you mean `plugins`?)")
                && !err.contains('\n'),
            "{err}"
        );
    }

    fn file_layer(text: &str) -> anyhow::Result<ConfigLayer> {
        Ok(toml::from_str(text)?)
    }

    fn resolve_file(text: &str) -> anyhow::Result<Settings> {
        let layer = file_layer(text)?;
        Settings::resolve(
            &ConfigLayer::default(),
            Some((Path::new("/etc/importhook.toml"), layer)),
            Some("s1"),
            true,
        )
    }

    #[test]
    fn defaults_with_dev_mode() {
        let settings =
            Settings::resolve(&ConfigLayer::default(), None, None, true).expect("dev defaults");
        assert_eq!(
            settings.listen.to_string(),
            "127.0.0.1:8443",
            "dev mode stays on loopback"
        );
        assert_eq!(settings.admin_listen.to_string(), "127.0.0.1:9901");
        assert_eq!(settings.tls, TlsSource::SelfSigned);
        assert_eq!(settings.hook_path, "/okta/import");
        assert_eq!(settings.secrets.header().as_str(), "authorization");
        assert_eq!(settings.secrets.len(), 1);
        assert_eq!(
            settings.generated_secret.as_ref().map(|s| s.expose().len()),
            Some(64)
        );
        assert_eq!(settings.plugins_dir, PathBuf::from("plugins.d"));
        assert_eq!(settings.limits.max_body_bytes, 262_144);
    }

    #[test]
    fn without_dev_a_certificate_and_a_secret_are_required() {
        let err = Settings::resolve(&ConfigLayer::default(), None, Some("s"), false).unwrap_err();
        assert!(err.to_string().contains("tls_cert"), "{err}");
        let cli = ConfigLayer {
            tls_cert: Some("c.pem".into()),
            tls_key: Some("k.pem".into()),
            ..ConfigLayer::default()
        };
        let err = Settings::resolve(&cli, None, None, false).unwrap_err();
        assert!(err.to_string().contains("IMPORTHOOK_SECRETS"), "{err}");
        let settings = Settings::resolve(&cli, None, Some("a, b ,,"), false).expect("valid");
        assert_eq!(settings.secrets.len(), 2);
        assert!(settings.generated_secret.is_none());
    }

    #[test]
    fn bad_file_values_name_the_file_and_field() {
        for (text, field) in [
            ("listen = \"nope\"", "field `listen`"),
            ("admin_listen = \"1.2.3.4\"", "field `admin_listen`"),
            ("path = \"okta\"", "field `path`"),
            ("auth_header = \"bad header\"", "field `auth_header`"),
            ("log_format = \"xml\"", "field `log_format`"),
            ("max_body_bytes = 0", "field `max_body_bytes`"),
            ("request_timeout_ms = 0", "field `request_timeout_ms`"),
            ("on_timeout = \"retry\"", "field `on_timeout`"),
            ("max_in_flight = 0", "field `max_in_flight`"),
            (
                "plugin_memory_budget_mib = 0",
                "field `plugin_memory_budget_mib`",
            ),
            ("max_body_memory_mib = 0", "field `max_body_memory_mib`"),
            // Less than one body of the default max_body_bytes is charged.
            ("max_body_memory_mib = 16", "field `max_body_memory_mib`"),
            ("write_timeout_ms = 0", "field `write_timeout_ms`"),
            ("max_plugin_bytes = 0", "field `max_plugin_bytes`"),
            ("idle_timeout_ms = 0", "field `idle_timeout_ms`"),
            ("max_connection_age_ms = 0", "field `max_connection_age_ms`"),
            ("tls_cert = \"c.pem\"", "field `tls_key`"),
            (
                "secret_file = \"/nonexistent/secret\"",
                "field `secret_file`",
            ),
        ] {
            let err = format!("{:#}", resolve_file(text).unwrap_err());
            assert!(err.contains("/etc/importhook.toml"), "{text}: {err}");
            assert!(err.contains(field), "{text}: {err}");
        }
    }

    #[test]
    fn unknown_or_mistyped_file_keys_are_rejected() {
        assert!(file_layer("lisen = \"x\"").is_err());
        assert!(file_layer("max_connections = \"many\"").is_err());
        assert!(file_layer("allow_no_plugins = \"yes\"").is_err());
        let dir = std::env::temp_dir().join(format!("importhook-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("bad.toml");
        std::fs::write(&path, "lisen = 1").expect("write");
        let err = format!("{:#}", read_file(&path).unwrap_err());
        assert!(err.contains("bad.toml") && err.contains("lisen"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn flags_override_the_file_and_errors_then_name_the_flag() {
        let cli = ConfigLayer {
            listen: Some("127.0.0.1:1".into()),
            ..ConfigLayer::default()
        };
        let file = file_layer("listen = \"127.0.0.1:2\"\npath = \"/hook\"").expect("toml");
        let settings = Settings::resolve(&cli, Some((Path::new("f.toml"), file)), Some("s"), true)
            .expect("valid");
        assert_eq!(settings.listen.to_string(), "127.0.0.1:1");
        assert_eq!(settings.hook_path, "/hook");

        let cli = ConfigLayer {
            listen: Some("bad".into()),
            ..ConfigLayer::default()
        };
        let err = Settings::resolve(&cli, None, Some("s"), true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--listen / IMPORTHOOK_LISTEN"), "{err}");
    }

    #[test]
    fn oauth_mode_needs_a_custom_issuer_and_an_audience_but_no_secret() {
        let err = format!(
            "{:#}",
            resolve_file("auth_mode = \"oauth\"\noauth_audience = \"api://default\"").unwrap_err()
        );
        assert!(err.contains("oauth_issuer"), "{err}");
        let err = format!(
            "{:#}",
            resolve_file("auth_mode = \"oauth\"\noauth_issuer = \"https://dev-1.okta.com\"\noauth_audience = \"a\"").unwrap_err()
        );
        assert!(
            err.contains("field `oauth_issuer`") && err.contains("org authorization server"),
            "{err}"
        );
        let err = format!(
            "{:#}",
            resolve_file("auth_mode = \"oauth\"\noauth_issuer = \"https://x.io/oauth2/default\"")
                .unwrap_err()
        );
        assert!(err.contains("oauth_audience"), "{err}");
        // Without the hook's client id, every token of the server (any app's, any user's) would do.
        let err = format!(
            "{:#}",
            resolve_file("auth_mode = \"oauth\"\noauth_issuer = \"https://x.io/oauth2/default\"\noauth_audience = \"api://default\"\noauth_scope = \"okta.hooks\"")
                .unwrap_err()
        );
        assert!(
            err.contains("config file /etc/importhook.toml: field `oauth_client_id`")
                && err.contains("required with auth_mode = \"oauth\"")
                && err.contains("any token"),
            "{err}"
        );
        let err = format!("{:#}", resolve_file("auth_mode = \"jwt\"").unwrap_err());
        assert!(err.contains("field `auth_mode`"), "{err}");

        let file = file_layer("auth_mode = \"oauth\"\noauth_issuer = \"https://x.io/oauth2/default\"\noauth_audience = \"api://default\"\noauth_client_id = \"0oahook\"\noauth_scope = \"okta.hooks\"")
            .expect("toml");
        let settings = Settings::resolve(
            &ConfigLayer::default(),
            Some((Path::new("f.toml"), file)),
            None,
            true,
        )
        .expect("valid oauth settings");
        assert!(
            settings.generated_secret.is_none(),
            "no secret is generated in oauth mode"
        );
        let oauth = settings.oauth.expect("oauth");
        assert_eq!(oauth.jwks, JwksSource::Discover);
        assert_eq!(oauth.leeway, Duration::from_secs(120));
        assert_eq!(oauth.scope.as_deref(), Some("okta.hooks"));
        assert_eq!(oauth.client_id, "0oahook");
    }

    #[test]
    fn login_format_is_email_unless_the_org_allows_any_login() {
        use crate::okta::login::LoginFormat;
        assert_eq!(
            resolve_file("").expect("valid").login_format,
            LoginFormat::Email
        );
        let any = resolve_file("login_format = \"any\"").expect("valid");
        assert_eq!(any.login_format, LoginFormat::Any);
        let err = format!("{:#}", resolve_file("login_format = \"upn\"").unwrap_err());
        assert!(
            err.contains("field `login_format`") && err.contains("`upn` is not one of email"),
            "{err}"
        );
    }

    #[test]
    fn plugin_messages_are_logged_only_when_asked() {
        let settings = resolve_file("").expect("valid");
        assert!(!settings.log_plugin_messages);
        let settings = resolve_file("log_plugin_messages = true").expect("valid");
        assert!(settings.log_plugin_messages);
        let cli = ConfigLayer {
            log_plugin_messages: Some(false),
            ..ConfigLayer::default()
        };
        let file = file_layer("log_plugin_messages = true").expect("toml");
        let settings = Settings::resolve(&cli, Some((Path::new("f.toml"), file)), Some("s"), true)
            .expect("valid");
        assert!(!settings.log_plugin_messages, "the flag wins over the file");
        assert!(file_layer("log_plugin_messages = \"yes\"").is_err());
    }

    #[test]
    fn secret_file_lines_are_secrets_and_debug_is_redacted() {
        let dir = std::env::temp_dir().join(format!("importhook-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("secrets");
        std::fs::write(&path, "canary-one\n\ncanary-two\n").expect("write");
        let cli = ConfigLayer {
            secret_file: Some(path),
            ..ConfigLayer::default()
        };
        let settings = Settings::resolve(&cli, None, None, true).expect("valid");
        assert_eq!(settings.secrets.len(), 2);
        assert!(settings.generated_secret.is_none());
        let debug = format!("{settings:?}");
        assert!(!debug.contains("canary"), "{debug}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn okta_directory_needs_an_https_org_and_exactly_one_kind_of_credentials() {
        let origin = Origin {
            file: Some(Path::new("/etc/importhook.toml")),
        };
        let none = ConfigLayer::default();
        let resolve = |text: &str, env: Option<&str>| {
            let file = file_layer(text).expect("toml");
            resolve_directory(&none, &file, &origin, env)
        };
        assert!(resolve("", None).expect("no org").is_none());
        let err = resolve("", Some("tok"))
            .expect_err("token without org")
            .to_string();
        assert!(err.contains("okta_org_url"), "{err}");
        let err = resolve("okta_org_url = \"http://x.okta.com\"", Some("t"))
            .expect_err("http")
            .to_string();
        assert!(
            err.contains("/etc/importhook.toml") && err.contains("field `okta_org_url`"),
            "{err}"
        );
        let err = resolve("okta_org_url = \"https://x.okta.com\"", None)
            .expect_err("no credentials")
            .to_string();
        assert!(err.contains("no credentials"), "{err}");
        let both = "okta_org_url = \"https://x.okta.com\"\nokta_client_id = \"0oa1\"\nokta_private_key_file = \"/k.pem\"";
        let err = resolve(both, Some("t")).expect_err("both").to_string();
        assert!(err.contains("exactly one"), "{err}");
        let app = resolve(both, None).expect("app").expect("configured");
        assert!(
            matches!(&app.credentials, crate::directory::Credentials::ServiceApp { scope, .. } if scope == "okta.users.read")
        );
        let token = resolve("okta_org_url = \"https://x.okta.com/\"", Some("00tok"))
            .expect("token")
            .expect("configured");
        assert_eq!(token.org_url, "https://x.okta.com");
        assert_eq!(token.timeout, Duration::from_millis(500));
        assert!(!format!("{token:?}").contains("00tok"));
        let err = resolve(
            "okta_org_url = \"https://x.okta.com\"\nokta_timeout_ms = 5000",
            Some("t"),
        )
        .expect_err("too long")
        .to_string();
        assert!(err.contains("okta_timeout_ms"), "{err}");
    }

    #[test]
    fn okta_outbound_limits_and_dpop_have_defaults_and_bounds() {
        let origin = Origin {
            file: Some(Path::new("/etc/importhook.toml")),
        };
        let none = ConfigLayer::default();
        let resolve = |text: &str| {
            let file = file_layer(&format!("okta_org_url = \"https://x.okta.com\"\n{text}"))
                .expect("toml");
            resolve_directory(&none, &file, &origin, Some("t"))
        };
        let default = resolve("").expect("valid").expect("configured");
        assert_eq!(default.max_concurrent, 8);
        assert_eq!(default.rate_headroom_percent, 20);
        assert_eq!(default.dpop, crate::directory::DpopMode::Auto);
        let set =
            resolve("okta_max_concurrent = 3\nokta_rate_headroom_percent = 0\nokta_dpop = \"on\"")
                .expect("valid")
                .expect("configured");
        assert_eq!(set.max_concurrent, 3);
        assert_eq!(set.rate_headroom_percent, 0);
        assert_eq!(set.dpop, crate::directory::DpopMode::On);
        for (text, field) in [
            ("okta_max_concurrent = 0", "okta_max_concurrent"),
            ("okta_max_concurrent = 76", "okta_max_concurrent"),
            (
                "okta_rate_headroom_percent = 95",
                "okta_rate_headroom_percent",
            ),
            ("okta_dpop = \"maybe\"", "okta_dpop"),
        ] {
            let err = resolve(text).expect_err(text).to_string();
            assert!(
                err.contains("/etc/importhook.toml") && err.contains(field),
                "{text}: {err}"
            );
        }
    }
}
