//! `login-middle-name`: the strategy of Okta's own guide. When Okta will create a user whose
//! login is in conflict, infix the middle name from the app user profile into the login's
//! local part: `george.smith@example.com` → `george.alexander.smith@example.com`.
//!
//! The middle name goes in as the login is normalised: lowercase, without diacritics, words
//! joined by dots ([`importhook_sdk::login::slug`]). A user Okta will link keeps its login (a
//! link target must not be renamed), and no empty login is ever proposed.
//!
//! The proposal is checked against the Okta org ([`directory::login_exists`]; the manifest
//! must grant it: `grants = ["directory"]`): a login another Okta user holds is not proposed.
//! An `unknown` answer (no org configured, Okta slow or rate-limited) proposes it as before:
//! Okta itself still refuses a duplicate.
//!
//! Configuration (`[config]` of the manifest):
//! - `middle_name_attribute` (default `"middleName"`): app user attribute holding the middle name;
//! - `login_attribute` (default `"login"`): the conflicting Okta user attribute to rewrite;
//! - `when_missing` (default `"leave"`): without a middle name, `"leave"` the login as it is
//!   (Okta then reports the conflict) or `"error"` (the host applies the plugin's `on_error`);
//! - `when_taken` (default `"leave"`): when an Okta user already holds the proposed login,
//!   `"leave"` the login as it is (with a note) or `"error"`.

use importhook_sdk::directory::{self, Presence};
use importhook_sdk::{Action, Error, Outcome, Request, Strategy, export_strategy, login};
use serde::Deserialize;

/// The `[config]` table; a key not listed here refuses the plugin at load.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// App user attribute holding the middle name.
    pub middle_name_attribute: String,
    /// The conflicting Okta user attribute to rewrite.
    pub login_attribute: String,
    /// Without a middle name.
    pub when_missing: Otherwise,
    /// When an Okta user already holds the proposed login.
    pub when_taken: Otherwise,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            middle_name_attribute: "middleName".to_owned(),
            login_attribute: "login".to_owned(),
            when_missing: Otherwise::Leave,
            when_taken: Otherwise::Leave,
        }
    }
}

/// What to do when the login cannot be rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Otherwise {
    /// Leave the login as it is (Okta then reports the conflict).
    Leave,
    /// Fail the call: the host applies the plugin's `on_error`.
    Error,
}

/// The strategy.
pub struct LoginMiddleName;

export_strategy!(LoginMiddleName);

impl Strategy for LoginMiddleName {
    type Config = Config;

    fn transform(request: &Request, config: &Config) -> Result<Outcome, Error> {
        let login_attribute = config.login_attribute.as_str();
        // Login rewrites are for users Okta will create (a strategy before this one may have
        // decided to link instead).
        if request.action() != Action::CreateUser || !request.has_conflict(login_attribute) {
            return Ok(Outcome::new());
        }
        let Some(login) = request
            .user()
            .text(login_attribute)
            .filter(|l| !login::is_blank(l))
        else {
            return Ok(Outcome::new().set_note("no login to rewrite"));
        };
        let middle = request
            .app_user()
            .text(&config.middle_name_attribute)
            .as_deref()
            .map(login::slug)
            .unwrap_or_default();
        if middle.is_empty() {
            return match config.when_missing {
                Otherwise::Error => Err("no middle name to resolve the login conflict".into()),
                Otherwise::Leave => {
                    Ok(Outcome::new().set_note("no middle name; login left unchanged"))
                }
            };
        }
        // Surrounding whitespace is not part of a login (Okta refuses one with it, and so does
        // the host): the proposal is built on the login without it.
        let Some(new_login) = infix(login.trim(), &middle) else {
            return Ok(Outcome::new().set_note("login already holds the middle name"));
        };
        match directory::login_exists(&new_login) {
            Presence::Taken => match config.when_taken {
                Otherwise::Error => Err("the middle-name login is taken in Okta too".into()),
                Otherwise::Leave => {
                    Ok(Outcome::new().set_note("middle-name login taken; login left unchanged"))
                }
            },
            // Unknown: propose it as without lookups; Okta refuses a duplicate anyway.
            Presence::Free | Presence::Unknown => Ok(Outcome::new()
                .set_user(login_attribute, new_login)
                .set_note("middle name infixed")),
        }
    }
}

/// Puts `middle` after the first dot-separated part of the local part; `None` when it is
/// already there (a retried request must not infix twice).
fn infix(login: &str, middle: &str) -> Option<String> {
    let (local, domain) = login::split(login);
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
    Some(login::join(&new_local, domain))
}

#[cfg(test)]
mod tests {
    use super::*;
    use importhook_sdk::{RequestBuilder, Value, load_config};

    /// A `[config]` table read and checked as the host does when it loads the plugin.
    fn config<const N: usize>(entries: [(&str, Value); N]) -> Result<Config, Error> {
        load_config::<LoginMiddleName>(entries)
    }

    /// A user Okta will create (add `.conflict("login")` for the conflict the strategy
    /// resolves).
    fn import(middle: impl Into<Value>, login: &str) -> RequestBuilder {
        Request::builder()
            .app_user("middleName", middle)
            .app_user("nickName", "Alex")
            .user("login", login)
    }

    fn login_update(outcome: &Outcome) -> Option<&str> {
        outcome.user_update("login").and_then(Value::as_text)
    }

    #[test]
    fn okta_guide_example() {
        let outcome = LoginMiddleName::transform(
            &import("Alexander", "george.smith@example.com")
                .conflict("login")
                .build(),
            &Config::default(),
        )
        .expect("ok");
        assert_eq!(
            login_update(&outcome),
            Some("george.alexander.smith@example.com")
        );
        // A login the host would refuse (as Okta would) fails here first.
        assert_eq!(
            outcome.check_login(importhook_sdk::login::LoginFormat::Email),
            Ok(())
        );
    }

    #[test]
    fn surrounding_whitespace_is_left_out_of_the_proposal() {
        let outcome = LoginMiddleName::transform(
            &import("Alexander", " george.smith@example.com ")
                .conflict("login")
                .build(),
            &Config::default(),
        )
        .expect("ok");
        assert_eq!(
            login_update(&outcome),
            Some("george.alexander.smith@example.com")
        );
        assert_eq!(
            outcome.check_login(importhook_sdk::login::LoginFormat::Email),
            Ok(())
        );
    }

    #[test]
    fn no_conflict_means_no_change() {
        let outcome = LoginMiddleName::transform(
            &import("Alexander", "george.smith@example.com").build(),
            &Config::default(),
        )
        .expect("ok");
        assert!(outcome.is_empty());
    }

    #[test]
    fn multi_word_middle_names_and_logins_without_dots() {
        let outcome = LoginMiddleName::transform(
            &import(" Mary  Ann ", "jo@example.com")
                .conflict("login")
                .build(),
            &Config::default(),
        )
        .expect("ok");
        assert_eq!(login_update(&outcome), Some("jo.mary.ann@example.com"));
    }

    #[test]
    fn missing_middle_name_is_configurable() {
        let missing = import(Value::Null, "george.smith@example.com")
            .conflict("login")
            .build();
        let outcome =
            LoginMiddleName::transform(&missing, &Config::default()).expect("leave by default");
        assert!(outcome.is_empty());
        let strict = config([("when_missing", Value::from("error"))]).expect("valid");
        assert!(LoginMiddleName::transform(&missing, &strict).is_err());
    }

    #[test]
    fn attribute_names_are_configurable() {
        let config = config([("middle_name_attribute", Value::from("nickName"))]).expect("valid");
        let outcome = LoginMiddleName::transform(
            &import(Value::Null, "george.smith@example.com")
                .conflict("login")
                .build(),
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
            &import("Alexander", "george.alexander.smith@example.com")
                .conflict("login")
                .build(),
            &Config::default(),
        )
        .expect("ok");
        assert!(outcome.is_empty());
    }

    #[test]
    fn a_user_okta_will_link_keeps_its_login() {
        let outcome = LoginMiddleName::transform(
            &import("Alexander", "george.smith@example.com")
                .conflict("login")
                .action(Action::LinkUser)
                .build(),
            &Config::default(),
        )
        .expect("ok");
        assert!(outcome.is_empty());
    }

    #[test]
    fn the_middle_name_is_normalized_like_the_login() {
        let outcome = LoginMiddleName::transform(
            &import("Élodie", "sally.admin@example.com")
                .conflict("login")
                .build(),
            &Config::default(),
        )
        .expect("ok");
        assert_eq!(
            login_update(&outcome),
            Some("sally.elodie.admin@example.com")
        );
    }

    #[test]
    fn a_blank_login_is_never_rewritten() {
        let outcome = LoginMiddleName::transform(
            &import("Alexander", "   ").conflict("login").build(),
            &Config::default(),
        )
        .expect("ok");
        assert_eq!(login_update(&outcome), None);
    }

    #[test]
    fn the_load_check_request_changes_nothing() {
        let outcome = LoginMiddleName::transform(&Request::minimal(), &Config::default());
        assert!(outcome.expect("ok").is_empty());
    }

    fn resolve(config: &Config) -> Result<Outcome, Error> {
        LoginMiddleName::transform(
            &import("Alexander", "george.smith@example.com")
                .conflict("login")
                .build(),
            config,
        )
    }

    #[test]
    fn a_free_login_is_proposed() {
        directory::testing::reset();
        directory::testing::add_user("george.smith@example.com", "00u1", "ACTIVE");
        let outcome = resolve(&Config::default()).expect("ok");
        assert_eq!(
            login_update(&outcome),
            Some("george.alexander.smith@example.com")
        );
        assert_eq!(directory::testing::lookups(), 1, "the proposal was asked");
    }

    #[test]
    fn a_taken_login_is_not_proposed() {
        directory::testing::reset();
        directory::testing::add_user(
            "George.Alexander.Smith@example.com",
            "00u2",
            "DEPROVISIONED",
        );
        let left = resolve(&Config::default()).expect("left by default");
        assert_eq!(login_update(&left), None);
        assert_eq!(
            left.note(),
            Some("middle-name login taken; login left unchanged")
        );
        let strict = config([("when_taken", Value::from("error"))]).expect("valid");
        assert!(resolve(&strict).is_err());
    }

    #[test]
    fn an_unknown_answer_proposes_the_login_as_before() {
        directory::testing::reset();
        directory::testing::add_user("george.alexander.smith@example.com", "00u2", "ACTIVE");
        directory::testing::set_unavailable(true);
        let outcome =
            resolve(&config([("when_taken", Value::from("error"))]).expect("valid")).expect("ok");
        assert_eq!(
            login_update(&outcome),
            Some("george.alexander.smith@example.com")
        );
    }

    #[test]
    fn a_wrong_or_misspelled_config_is_refused() {
        assert!(config([("when_taken", Value::from("error"))]).is_ok());
        assert!(config([("when_taken", Value::from("retry"))]).is_err());
        assert!(config([]).is_ok());
        assert!(config([("when_missing", Value::from("skip"))]).is_err());
        assert!(config([("login_attribute", Value::from(true))]).is_err());
        assert!(config([("middle_name_atribute", Value::from("x"))]).is_err());
    }
}
