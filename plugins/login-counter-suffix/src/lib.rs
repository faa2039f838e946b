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
use importhook_sdk::{
    Action, Config, Error, Outcome, Request, Strategy, export_strategy, login, state,
};

/// Candidates asked in one call before giving up: each may cost an Okta call, and a long run
/// of taken numbers means the counter is behind logins made elsewhere, for a human to look at.
pub const MAX_CANDIDATES: u32 = 5;

/// The strategy.
pub struct LoginCounterSuffix;

export_strategy!(LoginCounterSuffix);

const KEYS: [&str; 4] = ["width", "separator", "login_attribute", "when_unverified"];

impl Strategy for LoginCounterSuffix {
    fn transform(request: &Request<'_>, config: &Config) -> Result<Outcome, Error> {
        let login_attribute = config.text("login_attribute").unwrap_or("login");
        if request.action() != Action::CreateUser || !request.has_conflict(login_attribute) {
            return Ok(Outcome::new());
        }
        // An earlier strategy (the middle name, say) already proposed another login.
        if request.user().was_changed(login_attribute) {
            return Ok(Outcome::new().note("login already rewritten"));
        }
        let Some(current) = request
            .user()
            .text(login_attribute)
            .filter(|l| !login::is_blank(l))
        else {
            return Ok(Outcome::new().note("no login to rewrite"));
        };
        let folded = login::fold(&current);
        let width = config.integer("width").unwrap_or(4) as usize;
        let separator = config.text("separator").unwrap_or("");
        let (local, domain) = login::split(&folded);
        for _ in 0..MAX_CANDIDATES {
            // `?`: with the store unavailable the call fails and the manifest's `on_error`
            // decides (skip: the login stays and Okta reports the conflict; fail: Okta gets a
            // 200 with an error object, which it never retries: only a timeout or a 5xx is).
            let number = state::next(&folded)?;
            let candidate = login::join(&format!("{local}{separator}{number:0width$}"), domain);
            match directory::login_exists(&candidate) {
                Presence::Taken => continue,
                Presence::Unknown if config.text("when_unverified") == Some("leave") => {
                    return Ok(Outcome::new().note(
                        "Okta could not be asked whether the counter candidate is free; login left unchanged",
                    ));
                }
                Presence::Free | Presence::Unknown => {
                    return Ok(Outcome::new()
                        .set_user(login_attribute, candidate)
                        .note("counter suffix appended"));
                }
            }
        }
        Ok(Outcome::new().note("every counter candidate is taken in Okta; login left unchanged"))
    }

    fn validate_config(config: &Config) -> Result<(), Error> {
        for (key, _) in config.iter() {
            if !KEYS.contains(&key) {
                return Err(format!("unknown key {key:?} (known: {})", KEYS.join(", ")).into());
            }
        }
        if let Some(width) = config.get("width") {
            match width.as_integer() {
                Some(1..=12) => {}
                _ => return Err("width must be an integer from 1 to 12".into()),
            }
        }
        for key in ["separator", "login_attribute"] {
            if config.get(key).is_some_and(|v| v.as_text().is_none()) {
                return Err(format!("{key} must be a string").into());
            }
        }
        if config.get("when_unverified").is_some()
            && !matches!(config.text("when_unverified"), Some("propose" | "leave"))
        {
            return Err("when_unverified must be \"propose\" or \"leave\"".into());
        }
        if config.text("separator").is_some_and(|s| s.contains('@')) {
            return Err("separator must not contain '@'".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
            new_login(&joe, &Config::new()).as_deref(),
            Some("joe.smith0001@example.com")
        );
        assert_eq!(
            new_login(&joe, &Config::new()).as_deref(),
            Some("joe.smith0002@example.com")
        );
        // Another login counts on its own.
        let ann = conflict("ann@example.com");
        assert_eq!(
            new_login(&ann, &Config::new()).as_deref(),
            Some("ann0001@example.com")
        );
        assert_eq!(testing::counter("joe.smith@example.com"), 2);
    }

    #[test]
    fn width_and_separator_are_configurable() {
        testing::reset();
        let config = Config::new().with("width", 2).with("separator", "-");
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
        assert_eq!(new_login(&no_conflict, &Config::new()), None);
        let link = conflict("joe@example.com").action(Action::LinkUser);
        assert_eq!(new_login(&link, &Config::new()), None);
        assert_eq!(new_login(&conflict("  "), &Config::new()), None);
        assert_eq!(testing::counter("joe@example.com"), 0, "no number used up");
    }

    #[test]
    fn a_login_an_earlier_strategy_rewrote_is_left_alone() {
        testing::reset();
        let rewritten = conflict("joe.alexander.smith@example.com").changed_user("login");
        assert_eq!(new_login(&rewritten, &Config::new()), None);
    }

    #[test]
    fn an_unavailable_store_fails_the_call() {
        testing::reset();
        testing::set_unavailable(true);
        let err =
            LoginCounterSuffix::transform(&conflict("joe@example.com").build(), &Config::new())
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
            new_login(&joe, &Config::new()).as_deref(),
            Some("joe0002@example.com")
        );
        assert_eq!(directory::testing::lookups(), 2);
        // The next Joe goes on from there: 0001 is not asked again.
        assert_eq!(
            new_login(&joe, &Config::new()).as_deref(),
            Some("joe0003@example.com")
        );
    }

    #[test]
    fn a_free_or_unknown_candidate_is_taken_at_once() {
        testing::reset();
        directory::testing::reset();
        let joe = conflict("joe@example.com");
        assert_eq!(
            new_login(&joe, &Config::new()).as_deref(),
            Some("joe0001@example.com")
        );
        directory::testing::add_user("joe0002@example.com", "00u2", "ACTIVE");
        directory::testing::set_unavailable(true);
        assert_eq!(
            new_login(&joe, &Config::new()).as_deref(),
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
        let leave = Config::new().with("when_unverified", "leave");
        let outcome = LoginCounterSuffix::transform(&conflict("joe@example.com").build(), &leave)
            .expect("ok");
        assert_eq!(outcome.user_update("login"), None);
        assert!(
            outcome
                .note_text()
                .is_some_and(|n| n.contains("could not be asked")),
            "{:?}",
            outcome.note_text()
        );
        let propose = Config::new().with("when_unverified", "propose");
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
            LoginCounterSuffix::transform(&conflict("joe@example.com").build(), &Config::new())
                .expect("ok");
        assert_eq!(outcome.user_update("login"), None);
        assert!(outcome.note_text().is_some_and(|n| n.contains("taken")));
        assert_eq!(
            testing::counter("joe@example.com"),
            u64::from(MAX_CANDIDATES)
        );
    }

    #[test]
    fn bad_configurations_are_refused() {
        for config in [
            Config::new().with("width", 0),
            Config::new().with("width", 13),
            Config::new().with("width", "4"),
            Config::new().with("separator", "@"),
            Config::new().with("login_attribut", "login"),
            Config::new().with("when_unverified", "guess"),
            Config::new().with("when_unverified", 1),
        ] {
            assert!(
                LoginCounterSuffix::validate_config(&config).is_err(),
                "{config:?}"
            );
        }
        assert!(LoginCounterSuffix::validate_config(&Config::new().with("width", 6)).is_ok());
    }
}
