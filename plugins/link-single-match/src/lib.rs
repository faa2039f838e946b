//! `link-single-match`: when Okta would create a new user but exactly one existing Okta user
//! matched the imported one, link to that user instead (`LINK_USER` with its id).
//!
//! Match entries may be ids (`"00u…"`) or objects with an `id`, and the same id listed twice
//! counts once. With zero or several matches nothing changes, and so with an entry of any other
//! shape: an unreadable match means "not sure", and a wrong link is worse than none.

use importhook_sdk::{Action, Config, Outcome, Request, Strategy, export_strategy};

/// The strategy.
pub struct LinkSingleMatch;

export_strategy!(LinkSingleMatch);

impl Strategy for LinkSingleMatch {
    fn transform(request: &Request<'_>, _config: &Config) -> Result<Outcome, String> {
        if request.action() != Action::CreateUser {
            return Ok(Outcome::new());
        }
        let matches = request.matches();
        let mut ids = request.match_ids();
        if ids.len() < matches.len() {
            return Ok(Outcome::new().note("a match entry is unreadable; left to Okta"));
        }
        ids.sort();
        ids.dedup();
        Ok(match ids.as_slice() {
            [only] => Outcome::new()
                .link_user(only.clone())
                .note("linked to the single match"),
            [] => Outcome::new(),
            _ => Outcome::new().note("several matches; left to Okta"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use importhook_sdk::Decision;

    fn request(action: &str, matches: &str) -> Request<'static> {
        Request::from_okta_json(&format!(
            r#"{{"eventId": "e", "data": {{"action": {{"result": "{action}"}}, "context": {{"matches": {matches}}}}}}}"#
        ))
        .expect("request")
    }

    fn decision(action: &str, matches: &str) -> Option<Decision> {
        LinkSingleMatch::transform(&request(action, matches), &Config::new())
            .expect("ok")
            .decision()
            .cloned()
    }

    #[test]
    fn a_single_match_is_linked_whatever_its_shape() {
        assert_eq!(
            decision("CREATE_USER", r#"["00u1"]"#),
            Some(Decision::LinkUser("00u1".into()))
        );
        assert_eq!(
            decision("CREATE_USER", r#"[{"id": "00u2", "login": "x"}]"#),
            Some(Decision::LinkUser("00u2".into()))
        );
        assert_eq!(
            decision("CREATE_USER", r#"["00u3", {"id": "00u3"}]"#),
            Some(Decision::LinkUser("00u3".into()))
        );
    }

    #[test]
    fn an_unreadable_match_entry_means_no_link() {
        assert_eq!(decision("CREATE_USER", r#"["00u3", {"nope": 1}]"#), None);
        assert_eq!(decision("CREATE_USER", r#"["00u3", 7]"#), None);
        assert_eq!(decision("CREATE_USER", r#"["00u3", ""]"#), None);
    }

    #[test]
    fn zero_or_several_matches_or_an_existing_link_change_nothing() {
        assert_eq!(decision("CREATE_USER", "[]"), None);
        assert_eq!(decision("CREATE_USER", r#"["00u1", "00u2"]"#), None);
        assert_eq!(decision("LINK_USER", r#"["00u1"]"#), None);
    }
}
