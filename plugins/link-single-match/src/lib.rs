//! `link-single-match`: when Okta would create a new user but exactly one existing Okta user
//! matched the imported one, link to that user instead (`LINK_USER` with its id).
//!
//! Match entries may be ids (`"00u…"`) or objects with an `id`, and the same id listed twice
//! counts once. With zero or several matches nothing changes, and so with an entry of any other
//! shape: an unreadable match means "not sure", and a wrong link is worse than none.

use importhook_sdk::{Action, Error, NoConfig, Outcome, Request, Strategy, export_strategy};

/// The strategy.
pub struct LinkSingleMatch;

export_strategy!(LinkSingleMatch);

impl Strategy for LinkSingleMatch {
    type Config = NoConfig;

    fn transform(request: &Request, _config: &NoConfig) -> Result<Outcome, Error> {
        if request.action() != Action::CreateUser {
            return Ok(Outcome::new());
        }
        let matches = request.matches();
        let mut ids = request.match_ids();
        if ids.len() < matches.len() {
            return Ok(Outcome::new().set_note("a match entry is unreadable; left to Okta"));
        }
        ids.sort();
        ids.dedup();
        Ok(match ids.as_slice() {
            [only] => Outcome::new()
                .link_user(only.clone())
                .set_note("linked to the single match"),
            [] => Outcome::new(),
            _ => Outcome::new().set_note("several matches; left to Okta"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use importhook_sdk::{Decision, Value};

    fn decision<const N: usize>(action: Action, matches: [Value; N]) -> Option<Decision> {
        let request = Request::builder().action(action).matches(matches).build();
        LinkSingleMatch::transform(&request, &NoConfig::default())
            .expect("ok")
            .decision()
            .cloned()
    }

    /// A match entry Okta sends as an object.
    fn object(json: &str) -> Value {
        Value::Json(json.to_owned())
    }

    #[test]
    fn a_single_match_is_linked_whatever_its_shape() {
        assert_eq!(
            decision(Action::CreateUser, ["00u1".into()]),
            Some(Decision::LinkUser("00u1".into()))
        );
        assert_eq!(
            decision(
                Action::CreateUser,
                [object(r#"{"id": "00u2", "login": "x"}"#)]
            ),
            Some(Decision::LinkUser("00u2".into()))
        );
        assert_eq!(
            decision(
                Action::CreateUser,
                ["00u3".into(), object(r#"{"id": "00u3"}"#)]
            ),
            Some(Decision::LinkUser("00u3".into()))
        );
    }

    #[test]
    fn an_unreadable_match_entry_means_no_link() {
        let create = Action::CreateUser;
        assert_eq!(
            decision(create, ["00u3".into(), object(r#"{"nope": 1}"#)]),
            None
        );
        assert_eq!(decision(create, ["00u3".into(), 7i64.into()]), None);
        assert_eq!(decision(create, ["00u3".into(), "".into()]), None);
    }

    #[test]
    fn zero_or_several_matches_or_an_existing_link_change_nothing() {
        assert_eq!(decision(Action::CreateUser, []), None);
        assert_eq!(
            decision(Action::CreateUser, ["00u1".into(), "00u2".into()]),
            None
        );
        assert_eq!(decision(Action::LinkUser, ["00u1".into()]), None);
    }

    #[test]
    fn the_load_check_request_changes_nothing() {
        let outcome = LinkSingleMatch::transform(&Request::minimal(), &NoConfig::default());
        assert!(outcome.expect("ok").is_empty());
    }
}
