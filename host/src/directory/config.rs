//! Reads the `okta_*` keys into the directory's [`Config`].

use std::time::Duration;

use anyhow::bail;

use super::{Config, Credentials, DpopMode};
use crate::auth::Secret;
use crate::config::layer::{ConfigLayer, Origin, pick};

/// Environment variable holding the Okta API token (never a flag).
pub const OKTA_API_TOKEN_ENV: &str = "IMPORTHOOK_OKTA_API_TOKEN";

/// [`resolve`] with the API token from the process's environment ([`OKTA_API_TOKEN_ENV`]),
/// as `serve` and `preview` read it.
pub(crate) fn resolve_from_env(
    cli: &ConfigLayer,
    file: &ConfigLayer,
    origin: &Origin<'_>,
) -> anyhow::Result<Option<crate::directory::Config>> {
    resolve(
        cli,
        file,
        origin,
        std::env::var(OKTA_API_TOKEN_ENV).ok().as_deref(),
    )
}

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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn file_layer(text: &str) -> ConfigLayer {
        toml::from_str(text).expect("toml")
    }

    #[test]
    fn okta_directory_needs_an_https_org_and_exactly_one_kind_of_credentials() {
        let origin = Origin {
            file: Some(Path::new("/etc/importhook.toml")),
        };
        let none = ConfigLayer::default();
        let resolve = |text: &str, env: Option<&str>| {
            let file = file_layer(text);
            resolve(&none, &file, &origin, env)
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
            matches!(&app.credentials, Credentials::ServiceApp { scope, .. } if scope == "okta.users.read")
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
            let file = file_layer(&format!("okta_org_url = \"https://x.okta.com\"\n{text}"));
            resolve(&none, &file, &origin, Some("t"))
        };
        let default = resolve("").expect("valid").expect("configured");
        assert_eq!(default.max_concurrent, 8);
        assert_eq!(default.rate_headroom_percent, 20);
        assert_eq!(default.dpop, DpopMode::Auto);
        let set =
            resolve("okta_max_concurrent = 3\nokta_rate_headroom_percent = 0\nokta_dpop = \"on\"")
                .expect("valid")
                .expect("configured");
        assert_eq!(set.max_concurrent, 3);
        assert_eq!(set.rate_headroom_percent, 0);
        assert_eq!(set.dpop, DpopMode::On);
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
