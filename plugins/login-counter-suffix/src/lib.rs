//! `login-counter-suffix`: the counter strategy. When Okta will create a user whose login is
//! in conflict, append the next number of a counter kept for that login to its local part:
//! `joe.smith@example.com` → `joe.smith0001@example.com`, then `joe.smith0002@…` for the next
//! Joe Smith, on every replica alike.
//!
//! The counter lives in the host's state store (the manifest must grant it: `grants =
//! ["state"]`); one counter per login (folded: `Joe.Smith@` and `joe.smith@` share one).
//! Retry-safe: Okta's retry of a call that timed out gets the same number. A login an earlier
//! strategy already rewrote is left alone, and so is a user Okta will link.
//!
//! Each candidate is checked against the Okta org ([`directory::login_exists`]; the manifest
//! grants it too: `grants = ["state", "directory"]`): a login an Okta user already holds (made
//! by hand, say) is skipped for the counter's next number, at most [`MAX_CANDIDATES`] of them;
//! past that the login is left as it is, with a note. An `unknown` answer (rate limit spent,
//! Okta slow, no org configured) is what `when_unverified` says.
//!
//! Configuration (`[config]` of the manifest):
//! - `when_unverified` (default `"propose"`): a candidate Okta could not be asked about is
//!   proposed unchecked (`"propose"`: Okta itself refuses it if someone holds it) or the login
//!   is left as it is with a note (`"leave"`: Okta reports the conflict; the number is spent);
//! - `width` (default 4, 1–12): digits, zero-padded (`0001`); larger numbers keep all digits;
//! - `separator` (default `""`): between the local part and the number (`joe.smith-0001@`);
//! - `login_attribute` (default `"login"`): the conflicting Okta user attribute to rewrite.

use importhook_sdk::directory::{self, Presence};
use importhook_sdk::{Action, Error, Outcome, Request, Strategy, export_strategy, login, state};
use serde::Deserialize;

/// Candidates asked in one call before giving up: each may cost an Okta call, and a long run
/// of taken numbers means the counter is behind logins made elsewhere, for a human to look at.
pub const MAX_CANDIDATES: u32 = 5;

/// The strategy.
pub struct LoginCounterSuffix;

export_strategy!(LoginCounterSuffix);

/// The `[config]` table; a key not listed here refuses the plugin at load.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Digits of the number, zero-padded (1 to 12).
    pub width: i64,
    /// Put between the local part and the number (never `@`).
    pub separator: String,
    /// The conflicting Okta user attribute to rewrite.
    pub login_attribute: String,
    /// When Okta could not be asked whether the candidate is free.
    pub when_unverified: WhenUnverified,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            width: 4,
            separator: String::new(),
            login_attribute: "login".to_owned(),
            when_unverified: WhenUnverified::Propose,
        }
    }
}

/// What to do with a candidate Okta could not be asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WhenUnverified {
    /// Propose it: Okta itself still refuses a duplicate.
    Propose,
    /// Leave the login as it is.
    Leave,
}

impl Strategy for LoginCounterSuffix {
    type Config = Config;

    fn transform(request: &Request, config: &Config) -> Result<Outcome, Error> {
        let login_attribute = config.login_attribute.as_str();
        if request.action() != Action::CreateUser || !request.has_conflict(login_attribute) {
            return Ok(Outcome::new());
        }
        // An earlier strategy (the middle name, say) already proposed another login.
        if request.user().was_changed(login_attribute) {
            return Ok(Outcome::new().set_note("login already rewritten"));
        }
        let Some(current) = request
            .user()
            .text(login_attribute)
            .filter(|l| !login::is_blank(l))
        else {
            return Ok(Outcome::new().set_note("no login to rewrite"));
        };
        let folded = login::fold(&current);
        let width = config.width as usize;
        let separator = config.separator.as_str();
        let (local, domain) = login::split(&folded);
        for _ in 0..MAX_CANDIDATES {
            // `?`: with the store unavailable the call fails and the manifest's `on_error`
            // decides (skip: the login stays and Okta reports the conflict; fail: Okta gets a
            // 200 with an error object, which it never retries: only a timeout or a 5xx is).
            let number = state::next(&folded)?;
            let candidate = login::join(&format!("{local}{separator}{number:0width$}"), domain);
            match directory::login_exists(&candidate) {
                Presence::Taken => continue,
                Presence::Unknown if config.when_unverified == WhenUnverified::Leave => {
                    return Ok(Outcome::new().set_note(
                        "Okta could not be asked whether the counter candidate is free; login left unchanged",
                    ));
                }
                Presence::Free | Presence::Unknown => {
                    return Ok(Outcome::new()
                        .set_user(login_attribute, candidate)
                        .set_note("counter suffix appended"));
                }
            }
        }
        Ok(Outcome::new()
            .set_note("every counter candidate is taken in Okta; login left unchanged"))
    }

    fn validate_config(config: &Config) -> Result<(), Error> {
        if !(1..=12).contains(&config.width) {
            return Err("width must be an integer from 1 to 12".into());
        }
        if config.separator.contains('@') {
            return Err("separator must not contain '@'".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use importhook_sdk::load_config;

    /// A `[config]` table read and checked as the host does when it loads the plugin.
    fn config<const N: usize>(entries: [(&str, Value); N]) -> Result<Config, Error> {
        load_config::<LoginCounterSuffix>(entries)
    }
    use importhook_sdk::state::{StateError, testing};
    use importhook_sdk::{RequestBuilder, Value};

    fn conflict(login: &str) -> RequestBuilder {
        Request::builder().user("login", login).conflict("login")
    }

    fn new_login(request: &RequestBuilder, config: &Config) -> Option<String> {
        let outcome = LoginCounterSuffix::transform(&request.clone().build(), config).expect("ok");
        outcome
            .user_update("login")
            .and_then(Value::as_text)
            .map(str::to_owned)
    }

    #[test]
    fn each_conflicting_user_gets_the_next_number_of_its_login() {
        testing::reset();
        let joe = conflict("Joe.Smith@Example.com");
        assert_eq!(
            new_login(&joe, &Config::default()).as_deref(),
            Some("joe.smith0001@example.com")
        );
        assert_eq!(
            new_login(&joe, &Config::default()).as_deref(),
            Some("joe.smith0002@example.com")
        );
        // Another login counts on its own.
        let ann = conflict("ann@example.com");
        assert_eq!(
            new_login(&ann, &Config::default()).as_deref(),
            Some("ann0001@example.com")
        );
        assert_eq!(testing::counter("joe.smith@example.com"), 2);
    }

    #[test]
    fn width_and_separator_are_configurable() {
        testing::reset();
        let config =
            config([("width", Value::from(2)), ("separator", Value::from("-"))]).expect("valid");
        let joe = conflict("joe@example.com");
        assert_eq!(
            new_login(&joe, &config).as_deref(),
            Some("joe-01@example.com")
        );
        for _ in 0..98 {
            new_login(&joe, &config);
        }
        // Past the width the number keeps all its digits.
        assert_eq!(
            new_login(&joe, &config).as_deref(),
            Some("joe-100@example.com")
        );
    }

    #[test]
    fn only_a_login_conflict_of_a_user_okta_will_create_is_rewritten() {
        testing::reset();
        let no_conflict = Request::builder().user("login", "joe@example.com");
        assert_eq!(new_login(&no_conflict, &Config::default()), None);
        let link = conflict("joe@example.com").action(Action::LinkUser);
        assert_eq!(new_login(&link, &Config::default()), None);
        assert_eq!(new_login(&conflict("  "), &Config::default()), None);
        assert_eq!(testing::counter("joe@example.com"), 0, "no number used up");
    }

    #[test]
    fn a_login_an_earlier_strategy_rewrote_is_left_alone() {
        testing::reset();
        let rewritten = conflict("joe.alexander.smith@example.com").changed_user("login");
        assert_eq!(new_login(&rewritten, &Config::default()), None);
    }

    #[test]
    fn an_unavailable_store_fails_the_call() {
        testing::reset();
        testing::set_unavailable(true);
        let err =
            LoginCounterSuffix::transform(&conflict("joe@example.com").build(), &Config::default())
                .expect_err("fails");
        assert_eq!(err.message(), StateError::Unavailable.to_string());
    }

    #[test]
    fn a_candidate_taken_in_okta_is_skipped() {
        testing::reset();
        directory::testing::reset();
        directory::testing::add_user("joe0001@example.com", "00u1", "ACTIVE");
        let joe = conflict("joe@example.com");
        assert_eq!(
            new_login(&joe, &Config::default()).as_deref(),
            Some("joe0002@example.com")
        );
        assert_eq!(directory::testing::lookups(), 2);
        // The next Joe goes on from there: 0001 is not asked again.
        assert_eq!(
            new_login(&joe, &Config::default()).as_deref(),
            Some("joe0003@example.com")
        );
    }

    #[test]
    fn a_free_or_unknown_candidate_is_taken_at_once() {
        testing::reset();
        directory::testing::reset();
        let joe = conflict("joe@example.com");
        assert_eq!(
            new_login(&joe, &Config::default()).as_deref(),
            Some("joe0001@example.com")
        );
        directory::testing::add_user("joe0002@example.com", "00u2", "ACTIVE");
        directory::testing::set_unavailable(true);
        assert_eq!(
            new_login(&joe, &Config::default()).as_deref(),
            Some("joe0002@example.com"),
            "unknown: taken as without lookups"
        );
        assert_eq!(testing::counter("joe@example.com"), 2);
    }

    #[test]
    fn an_unverified_candidate_is_left_when_the_config_says_so() {
        testing::reset();
        directory::testing::reset();
        directory::testing::set_unavailable(true);
        let leave = config([("when_unverified", Value::from("leave"))]).expect("valid");
        let outcome = LoginCounterSuffix::transform(&conflict("joe@example.com").build(), &leave)
            .expect("ok");
        assert_eq!(outcome.user_update("login"), None);
        assert!(
            outcome
                .note()
                .is_some_and(|n| n.contains("could not be asked")),
            "{:?}",
            outcome.note()
        );
        let propose = config([("when_unverified", Value::from("propose"))]).expect("valid");
        assert_eq!(
            new_login(&conflict("joe@example.com"), &propose).as_deref(),
            Some("joe0002@example.com")
        );
    }

    #[test]
    fn a_run_of_taken_candidates_leaves_the_login() {
        testing::reset();
        directory::testing::reset();
        for n in 1..=MAX_CANDIDATES {
            directory::testing::add_user(&format!("joe{n:04}@example.com"), "00u", "ACTIVE");
        }
        let outcome =
            LoginCounterSuffix::transform(&conflict("joe@example.com").build(), &Config::default())
                .expect("ok");
        assert_eq!(outcome.user_update("login"), None);
        assert!(outcome.note().is_some_and(|n| n.contains("taken")));
        assert_eq!(
            testing::counter("joe@example.com"),
            u64::from(MAX_CANDIDATES)
        );
    }

    #[test]
    fn bad_configurations_are_refused() {
        for entry in [
            ("width", Value::from(0)),
            ("width", Value::from(13)),
            ("width", Value::from("4")),
            ("separator", Value::from("@")),
            ("login_attribut", Value::from("login")),
            ("when_unverified", Value::from("guess")),
            ("when_unverified", Value::from(1)),
        ] {
            assert!(config([entry.clone()]).is_err(), "{entry:?}");
        }
        assert!(config([("width", Value::from(6))]).is_ok());
    }
}
