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
use importhook_sdk::{Action, Config, Error, Outcome, Request, Strategy, export_strategy, login};

const KEYS: [&str; 4] = [
    "middle_name_attribute",
    "login_attribute",
    "when_missing",
    "when_taken",
];

/// The strategy.
pub struct LoginMiddleName;

export_strategy!(LoginMiddleName);

impl Strategy for LoginMiddleName {
    fn transform(request: &Request<'_>, config: &Config) -> Result<Outcome, Error> {
        let login_attribute = config.text("login_attribute").unwrap_or("login");
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
            return Ok(Outcome::new().note("no login to rewrite"));
        };
        let middle_attribute = config.text("middle_name_attribute").unwrap_or("middleName");
        let middle = request
            .app_user()
            .text(middle_attribute)
            .as_deref()
            .map(login::slug)
            .unwrap_or_default();
        if middle.is_empty() {
            return match config.text("when_missing").unwrap_or("leave") {
                "error" => Err("no middle name to resolve the login conflict".into()),
                _ => Ok(Outcome::new().note("no middle name; login left unchanged")),
            };
        }
        // Surrounding whitespace is not part of a login (Okta refuses one with it, and so does
        // the host): the proposal is built on the login without it.
        let Some(new_login) = infix(login.trim(), &middle) else {
            return Ok(Outcome::new().note("login already holds the middle name"));
        };
        match directory::login_exists(&new_login) {
            Presence::Taken => match config.text("when_taken").unwrap_or("leave") {
                "error" => Err("the middle-name login is taken in Okta too".into()),
                _ => Ok(Outcome::new().note("middle-name login taken; login left unchanged")),
            },
            // Unknown: propose it as without lookups; Okta refuses a duplicate anyway.
            Presence::Free | Presence::Unknown => Ok(Outcome::new()
                .set_user(login_attribute, new_login)
                .note("middle name infixed")),
        }
    }

    fn validate_config(config: &Config) -> Result<(), Error> {
        for key in KEYS {
            if config.get(key).is_some_and(|v| v.as_text().is_none()) {
                return Err(format!("{key} must be a string").into());
            }
        }
        for (key, _) in config.iter() {
            if !KEYS.contains(&key) {
                return Err(format!("unknown key {key:?} (known: {})", KEYS.join(", ")).into());
            }
        }
        for key in ["when_missing", "when_taken"] {
            match config.text(key) {
                None | Some("leave" | "error") => {}
                Some(other) => {
                    return Err(
                        format!("{key} must be \"leave\" or \"error\", not {other:?}").into(),
                    );
                }
            }
        }
        Ok(())
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
    use importhook_sdk::{RequestBuilder, Value};

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
            &Config::new(),
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
            &Config::new(),
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
            &Config::new(),
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
            &Config::new(),
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
            LoginMiddleName::transform(&missing, &Config::new()).expect("leave by default");
        assert!(outcome.is_empty());
        let strict = Config::new().with("when_missing", "error");
        assert!(LoginMiddleName::transform(&missing, &strict).is_err());
    }

    #[test]
    fn attribute_names_are_configurable() {
        let config = Config::new().with("middle_name_attribute", "nickName");
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
            &Config::new(),
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
            &Config::new(),
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
            &Config::new(),
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
            &Config::new(),
        )
        .expect("ok");
        assert_eq!(login_update(&outcome), None);
    }

    #[test]
    fn the_load_check_request_changes_nothing() {
        let outcome = LoginMiddleName::transform(&Request::minimal(), &Config::new());
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
        let outcome = resolve(&Config::new()).expect("ok");
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
        let left = resolve(&Config::new()).expect("left by default");
        assert_eq!(login_update(&left), None);
        assert_eq!(
            left.note_text(),
            Some("middle-name login taken; login left unchanged")
        );
        let strict = Config::new().with("when_taken", "error");
        assert!(resolve(&strict).is_err());
    }

    #[test]
    fn an_unknown_answer_proposes_the_login_as_before() {
        directory::testing::reset();
        directory::testing::add_user("george.alexander.smith@example.com", "00u2", "ACTIVE");
        directory::testing::set_unavailable(true);
        let outcome = resolve(&Config::new().with("when_taken", "error")).expect("ok");
        assert_eq!(
            login_update(&outcome),
            Some("george.alexander.smith@example.com")
        );
    }

    #[test]
    fn a_wrong_or_misspelled_config_is_refused() {
        assert!(
            LoginMiddleName::validate_config(&Config::new().with("when_taken", "error")).is_ok()
        );
        assert!(
            LoginMiddleName::validate_config(&Config::new().with("when_taken", "retry")).is_err()
        );
        assert!(LoginMiddleName::validate_config(&Config::new()).is_ok());
        assert!(
            LoginMiddleName::validate_config(&Config::new().with("when_missing", "skip")).is_err()
        );
        assert!(
            LoginMiddleName::validate_config(&Config::new().with("login_attribute", true)).is_err()
        );
        assert!(
            LoginMiddleName::validate_config(&Config::new().with("middle_name_atribute", "x"))
                .is_err()
        );
    }
}
