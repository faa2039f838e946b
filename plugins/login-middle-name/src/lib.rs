//! `login-middle-name`: the strategy of Okta's own guide. When the login is in conflict, infix
//! the middle name from the app user profile into the login's local part:
//! `george.smith@example.com` → `george.alexander.smith@example.com`.
//!
//! Configuration (`[config]` of the manifest):
//! - `middle_name_attribute` (default `"middleName"`): app user attribute holding the middle name;
//! - `login_attribute` (default `"login"`): the conflicting Okta user attribute to rewrite;
//! - `when_missing` (default `"leave"`): without a middle name, `"leave"` the login as it is
//!   (Okta then reports the conflict) or `"error"` (the host applies the plugin's `on_error`).

use importhook_sdk::{Config, Outcome, Request, Strategy, export_strategy};

/// The strategy.
pub struct LoginMiddleName;

export_strategy!(LoginMiddleName);

impl Strategy for LoginMiddleName {
    fn transform(request: &Request<'_>, config: &Config) -> Result<Outcome, String> {
        let login_attribute = config.text("login_attribute").unwrap_or("login");
        if !request.has_conflict(login_attribute) {
            return Ok(Outcome::new());
        }
        let Some(login) = request.user().text(login_attribute) else {
            return Ok(Outcome::new().note("no login to rewrite"));
        };
        let middle_attribute = config.text("middle_name_attribute").unwrap_or("middleName");
        let middle = request
            .app_user()
            .text(middle_attribute)
            .as_deref()
            .map(slug)
            .unwrap_or_default();
        if middle.is_empty() {
            return match config.text("when_missing").unwrap_or("leave") {
                "error" => Err("no middle name to resolve the login conflict".to_owned()),
                _ => Ok(Outcome::new().note("no middle name; login left unchanged")),
            };
        }
        match infix(&login, &middle) {
            Some(new_login) => Ok(Outcome::new()
                .set_user(login_attribute, new_login)
                .note("middle name infixed")),
            None => Ok(Outcome::new().note("login already holds the middle name")),
        }
    }
}

/// The middle name as it goes into a login: trimmed, lowercase, inner spaces as dots.
fn slug(middle: &str) -> String {
    middle
        .split_whitespace()
        .map(|word| {
            word.chars()
                .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '\'')
                .collect::<String>()
        })
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(".")
        .to_lowercase()
}

/// Puts `middle` after the first dot-separated part of the local part; `None` when it is
/// already there (a retried request must not infix twice).
fn infix(login: &str, middle: &str) -> Option<String> {
    let (local, domain) = match login.rsplit_once('@') {
        Some((local, domain)) => (local, Some(domain)),
        None => (login, None),
    };
    if local
        .split('.')
        .any(|part| part.eq_ignore_ascii_case(middle))
    {
        return None;
    }
    let new_local = match local.split_once('.') {
        Some((first, rest)) => format!("{first}.{middle}.{rest}"),
        None => format!("{local}.{middle}"),
    };
    Some(match domain {
        Some(domain) => format!("{new_local}@{domain}"),
        None => new_local,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use importhook_sdk::Value;

    fn request(conflicts: &str, middle: &str, login: &str) -> Request<'static> {
        Request::from_okta_json(&format!(
            r#"{{"eventId": "e", "data": {{
                "context": {{"conflicts": {conflicts}}},
                "action": {{"result": "CREATE_USER"}},
                "appUser": {{"profile": {{"middleName": {middle}, "nickName": "Alex"}}}},
                "user": {{"profile": {{"login": "{login}"}}}}}}}}"#
        ))
        .expect("request")
    }

    fn login_update(outcome: &Outcome) -> Option<&str> {
        outcome.user_update("login").and_then(Value::as_text)
    }

    #[test]
    fn okta_guide_example() {
        let outcome = LoginMiddleName::transform(
            &request(r#"["login"]"#, r#""Alexander""#, "george.smith@example.com"),
            &Config::new(),
        )
        .expect("ok");
        assert_eq!(
            login_update(&outcome),
            Some("george.alexander.smith@example.com")
        );
    }

    #[test]
    fn no_conflict_means_no_change() {
        let outcome = LoginMiddleName::transform(
            &request("[]", r#""Alexander""#, "george.smith@example.com"),
            &Config::new(),
        )
        .expect("ok");
        assert!(outcome.is_empty());
    }

    #[test]
    fn multi_word_middle_names_and_logins_without_dots() {
        let outcome = LoginMiddleName::transform(
            &request(r#"["login"]"#, r#"" Mary  Ann ""#, "jo@example.com"),
            &Config::new(),
        )
        .expect("ok");
        assert_eq!(login_update(&outcome), Some("jo.mary.ann@example.com"));
    }

    #[test]
    fn missing_middle_name_is_configurable() {
        let missing = request(r#"["login"]"#, "null", "george.smith@example.com");
        let outcome =
            LoginMiddleName::transform(&missing, &Config::new()).expect("leave by default");
        assert!(outcome.is_empty());
        let strict = Config::new().with("when_missing", "error");
        assert!(LoginMiddleName::transform(&missing, &strict).is_err());
    }

    #[test]
    fn attribute_names_are_configurable() {
        let config = Config::new().with("middle_name_attribute", "nickName");
        let outcome = LoginMiddleName::transform(
            &request(r#"["login"]"#, "null", "george.smith@example.com"),
            &config,
        )
        .expect("ok");
        assert_eq!(
            login_update(&outcome),
            Some("george.alex.smith@example.com")
        );
    }

    #[test]
    fn a_retry_does_not_infix_twice() {
        let outcome = LoginMiddleName::transform(
            &request(
                r#"["login"]"#,
                r#""Alexander""#,
                "george.alexander.smith@example.com",
            ),
            &Config::new(),
        )
        .expect("ok");
        assert!(outcome.is_empty());
    }
}
