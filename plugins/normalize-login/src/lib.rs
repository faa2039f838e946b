//! `normalize-login`: strips diacritics and surrounding whitespace and lowercases the login
//! and email of the Okta user profile (`  José.Núñez@Example.COM ` → `jose.nunez@example.com`),
//! for users Okta will create.
//!
//! Diacritics are removed by Unicode canonical decomposition (NFD) and dropping combining
//! marks; letters that do not decompose (`ß`, `ø`, `ł`) are kept as they are
//! ([`importhook_sdk::login::fold`]). It never sends an empty login: a value that folds to
//! nothing is left as it is.
//!
//! Configuration: `attributes` (default `"login,email"`): comma-separated Okta user
//! attributes to normalise.

use importhook_sdk::{Action, Error, Outcome, Request, Strategy, export_strategy, login};
use serde::Deserialize;

/// The `[config]` table; a key not listed here refuses the plugin at load.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Comma-separated Okta user attributes to normalise.
    pub attributes: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            attributes: "login,email".to_owned(),
        }
    }
}

/// The strategy.
pub struct NormalizeLogin;

export_strategy!(NormalizeLogin);

impl Strategy for NormalizeLogin {
    type Config = Config;

    fn transform(request: &Request, config: &Config) -> Result<Outcome, Error> {
        // Login rewrites are for users Okta will create: a user it links keeps its login.
        if request.action() != Action::CreateUser {
            return Ok(Outcome::new());
        }
        let attributes = config.attributes.as_str();
        let mut outcome = Outcome::new();
        let mut changed = 0;
        for name in attributes
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            let Some(value) = request.user().text(name) else {
                continue;
            };
            let normalized = normalize(&value);
            if normalized != value && !login::is_blank(&normalized) {
                outcome = outcome.set_user(name, normalized);
                changed += 1;
            }
        }
        Ok(if changed > 0 {
            outcome.set_note(format!("normalized {changed} attribute(s)"))
        } else {
            outcome
        })
    }
}

/// Trimmed, without diacritics, lowercase, and recomposed (NFC).
pub fn normalize(value: &str) -> String {
    login::fold(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use importhook_sdk::load_config;

    /// A `[config]` table read and checked as the host does when it loads the plugin.
    fn config<const N: usize>(entries: [(&str, Value); N]) -> Result<Config, Error> {
        load_config::<NormalizeLogin>(entries)
    }
    use importhook_sdk::Value;

    fn request(login: &str, email: &str) -> Request {
        request_with(Action::CreateUser, login, email)
    }

    fn request_with(action: Action, login: &str, email: &str) -> Request {
        Request::builder()
            .action(action)
            .user("login", login)
            .user("email", email)
            .user("firstName", "José")
            .build()
    }

    #[test]
    fn strips_diacritics_whitespace_and_case() {
        let outcome = NormalizeLogin::transform(
            &request("  José.Núñez@Example.COM ", "ÅSA@x.se"),
            &Config::default(),
        )
        .expect("ok");
        assert_eq!(
            outcome.user_update("login").and_then(Value::as_text),
            Some("jose.nunez@example.com")
        );
        assert_eq!(
            outcome.user_update("email").and_then(Value::as_text),
            Some("asa@x.se")
        );
        assert_eq!(outcome.user_update("firstName"), None);
    }

    #[test]
    fn already_normal_values_are_not_updated() {
        let outcome =
            NormalizeLogin::transform(&request("a.b@c.io", "a.b@c.io"), &Config::default())
                .expect("ok");
        assert!(outcome.is_empty());
    }

    #[test]
    fn precomposed_and_decomposed_input_agree_and_undecomposable_letters_stay() {
        assert_eq!(normalize("Cafe\u{301}"), "cafe");
        assert_eq!(normalize("Café"), "cafe");
        assert_eq!(normalize("Straße"), "straße");
        assert_eq!(normalize("Søren"), "søren");
    }

    #[test]
    fn attributes_are_configurable() {
        let config = config([("attributes", Value::from("email"))]).expect("valid");
        let outcome =
            NormalizeLogin::transform(&request("Upper@x.io", "Upper@x.io"), &config).expect("ok");
        assert_eq!(outcome.user_update("login"), None);
        assert!(outcome.user_update("email").is_some());
    }

    #[test]
    fn a_user_okta_will_link_keeps_its_login() {
        let outcome = NormalizeLogin::transform(
            &request_with(Action::LinkUser, " José@X.io", "A@x.io"),
            &Config::default(),
        )
        .expect("ok");
        assert!(outcome.is_empty());
    }

    #[test]
    fn a_login_of_only_spaces_is_never_sent_empty() {
        let outcome =
            NormalizeLogin::transform(&request("   ", "a@x.io"), &Config::default()).expect("ok");
        assert_eq!(outcome.user_update("login"), None);
    }

    #[test]
    fn a_config_of_the_wrong_type_is_refused() {
        assert!(config([("attributes", Value::from(3i64))]).is_err());
        assert!(config([("attributes", Value::from("login"))]).is_ok());
    }
}
