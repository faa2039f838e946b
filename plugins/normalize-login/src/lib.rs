//! `normalize-login`: strips diacritics and surrounding whitespace and lowercases the login
//! and email of the Okta user profile (`  José.Núñez@Example.COM ` → `jose.nunez@example.com`).
//!
//! Diacritics are removed by Unicode canonical decomposition (NFD) and dropping combining
//! marks; letters that do not decompose (`ß`, `ø`, `ł`) are kept as they are.
//!
//! Configuration: `attributes` (default `"login,email"`): comma-separated Okta user
//! attributes to normalise.

use importhook_sdk::{Config, Outcome, Request, Strategy, export_strategy};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The strategy.
pub struct NormalizeLogin;

export_strategy!(NormalizeLogin);

impl Strategy for NormalizeLogin {
    fn transform(request: &Request<'_>, config: &Config) -> Result<Outcome, String> {
        let attributes = config.text("attributes").unwrap_or("login,email");
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
            if normalized != value {
                outcome = outcome.set_user(name, normalized);
                changed += 1;
            }
        }
        Ok(if changed > 0 {
            outcome.note(format!("normalized {changed} attribute(s)"))
        } else {
            outcome
        })
    }
}

/// Trimmed, without diacritics, lowercase, and recomposed (NFC).
pub fn normalize(value: &str) -> String {
    value
        .trim()
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .nfc()
        .collect::<String>()
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use importhook_sdk::Value;

    fn request(login: &str, email: &str) -> Request<'static> {
        Request::from_okta_json(&format!(
            r#"{{"eventId": "e", "data": {{"action": {{"result": "CREATE_USER"}},
                "user": {{"profile": {{"login": "{login}", "email": "{email}", "firstName": "José"}}}}}}}}"#
        ))
        .expect("request")
    }

    #[test]
    fn strips_diacritics_whitespace_and_case() {
        let outcome = NormalizeLogin::transform(
            &request("  José.Núñez@Example.COM ", "ÅSA@x.se"),
            &Config::new(),
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
        let outcome = NormalizeLogin::transform(&request("a.b@c.io", "a.b@c.io"), &Config::new())
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
        let config = Config::new().with("attributes", "email");
        let outcome =
            NormalizeLogin::transform(&request("Upper@x.io", "Upper@x.io"), &config).expect("ok");
        assert_eq!(outcome.user_update("login"), None);
        assert!(outcome.user_update("email").is_some());
    }
}
