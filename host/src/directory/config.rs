//! Reads the `okta_*` keys into the directory's [`Config`].

use std::time::Duration;

use anyhow::bail;

use super::{Config, Credentials, DpopMode};
use crate::auth::Secret;
use crate::config::layer::{ConfigLayer, Origin, pick};

/// Environment variable holding the Okta API token (never a flag).
pub const OKTA_API_TOKEN_ENV: &str = "IMPORTHOOK_OKTA_API_TOKEN";

/// The Okta directory settings: none without `okta_org_url`; with it, exactly one kind of
/// credentials (API token from env or file, or client id + private key).
pub(crate) fn resolve(
    cli: &ConfigLayer,
    file: &ConfigLayer,
    origin: &Origin<'_>,
    token_env: Option<&str>,
) -> anyhow::Result<Option<crate::directory::Config>> {
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
            "auto" => DpopMode::Auto,
            "on" => DpopMode::On,
            "off" => DpopMode::Off,
            other => bail!(
                "{}: {other:?} must be \"auto\", \"on\" or \"off\"",
                origin.name(from_cli, "okta_dpop")
            ),
        };
    }
    Ok(Some(config))
}
