//! Reads the `oauth_*` keys into [`OAuthSettings`] (with `auth_mode = "oauth"`).

use std::time::Duration;

use anyhow::bail;

use super::{JwksSource, OAuthSettings};
use crate::config::layer::{ConfigLayer, Origin, pick};

/// The OAuth settings; every key this mode needs is required here.
pub(crate) fn resolve(
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
    super::check_issuer(&issuer)
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
