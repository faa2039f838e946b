//! Okta's side of an import, simulated: the projected Okta user profile of a row (the
//! attribute mapping), the org's users it matches by the app's matching rules, the login
//! conflict, and the request Okta then sends the hook.
//!
//! Okta's documented behaviour this follows:
//! - "Match imported user attributes" (Okta help,
//!   https://help.okta.com/en-us/Content/Topics/users-groups-profiles/usgp-matching-imported-users.htm):
//!   rules match an attribute mapped from the app user to the Okta user ("user name, email
//!   address, or first and last name"); "Matches are case sensitive"; "If there is no match,
//!   a new user is created. If there is a match, then the user is linked to an existing user
//!   profile in Okta."
//! - The user import inline hook reference (developer.okta.com/docs/reference/import-hook/):
//!   `data.user.profile` is the profile after the mappings, `data.user.id` is present only when
//!   the user matched an existing Okta user, `data.action.result` is `CREATE_USER` or
//!   `LINK_USER`, `data.context.matches` lists the matched users, `data.context.policy` the
//!   matching rules, and `data.context.conflicts` the attributes in conflict (only `login`).
//! - Logins are unique up to case and diacritical marks (Okta's `UserProfile.login`,
//!   [`crate::okta::login::equivalent`]): a projected login equivalent to a user's login is
//!   a conflict even where no rule matched.
//!
//! Not documented by Okta, so chosen here and said in the README: the rules are alternatives
//! (a user matching any of them matches); one match is linked (`LINK_USER`), several leave
//! `CREATE_USER` with all of them in `matches`; the rule names of `context.policy`
//! (`EMAIL` and `FIRST_AND_LAST_NAME` are Okta's sample's, `USERNAME` is ours).

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use crate::okta::login::equivalent;
use crate::okta::{ActionResult, ImportRequest};

/// A matching rule of the app, as `context.policy` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// The Okta username (`login`) is the same.
    Username,
    /// `email` is the same.
    Email,
    /// `firstName` and `lastName` are both the same.
    FirstAndLastName,
}

impl Rule {
    /// Reads a rule name.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_uppercase().as_str() {
            "USERNAME" => Some(Self::Username),
            "EMAIL" => Some(Self::Email),
            "FIRST_AND_LAST_NAME" => Some(Self::FirstAndLastName),
            _ => None,
        }
    }

    /// The name in `context.policy`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Username => "USERNAME",
            Self::Email => "EMAIL",
            Self::FirstAndLastName => "FIRST_AND_LAST_NAME",
        }
    }
}

/// Which column (or JSON key) of the import file each Okta user attribute comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    /// Okta attribute → column. Empty: every column is an Okta attribute of the same name.
    pub attributes: BTreeMap<String, String>,
}

impl Mapping {
    /// The projected Okta user profile of an app-user profile.
    pub fn project(&self, app_user: &Map<String, Value>) -> Map<String, Value> {
        if self.attributes.is_empty() {
            return app_user.clone();
        }
        self.attributes
            .iter()
            .filter_map(|(okta, column)| Some((okta.clone(), app_user.get(column)?.clone())))
            .collect()
    }

    /// The column `login` comes from.
    pub fn login_column(&self) -> &str {
        self.attributes.get("login").map_or("login", String::as_str)
    }
}

/// An Okta user of the org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgUser {
    /// Okta user id.
    pub id: String,
    /// Its login.
    pub login: String,
    /// Its email.
    pub email: Option<String>,
    /// Its first name.
    pub first_name: Option<String>,
    /// Its last name.
    pub last_name: Option<String>,
}

/// The org's users, indexed the ways the rules and the conflict check look them up.
#[derive(Debug, Default)]
pub struct Org {
    by_login: HashMap<String, Vec<usize>>,
    by_email: HashMap<String, Vec<usize>>,
    by_name: HashMap<(String, String), Vec<usize>>,
    /// Equivalent login → index of the user holding it.
    by_login_key: HashMap<String, usize>,
    ids: Vec<String>,
}

impl Org {
    /// Adds a user.
    pub fn add(&mut self, user: OrgUser) {
        let index = self.ids.len();
        self.by_login_key
            .entry(equivalent(&user.login))
            .or_insert(index);
        self.by_login.entry(user.login).or_default().push(index);
        if let Some(email) = user.email {
            self.by_email.entry(email).or_default().push(index);
        }
        if let (Some(first), Some(last)) = (user.first_name, user.last_name) {
            self.by_name.entry((first, last)).or_default().push(index);
        }
        self.ids.push(user.id);
    }

    /// Users in the org.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the org has no user.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Ids of the users `profile` matches by `rules`, each once, in the order they were added.
    pub fn matches(&self, profile: &Map<String, Value>, rules: &[Rule]) -> Vec<String> {
        let text = |name: &str| profile.get(name).and_then(Value::as_str);
        let mut found: Vec<usize> = Vec::new();
        for rule in rules {
            let hits = match rule {
                Rule::Username => text("login").and_then(|l| self.by_login.get(l)),
                Rule::Email => text("email").and_then(|e| self.by_email.get(e)),
                Rule::FirstAndLastName => match (text("firstName"), text("lastName")) {
                    (Some(first), Some(last)) => {
                        self.by_name.get(&(first.to_owned(), last.to_owned()))
                    }
                    _ => None,
                },
            };
            found.extend(hits.into_iter().flatten());
        }
        found.sort_unstable();
        found.dedup();
        found.into_iter().map(|i| self.ids[i].clone()).collect()
    }

    /// Whether a user holds a login equivalent to `login`.
    pub fn holds(&self, login: &str) -> bool {
        self.by_login_key.contains_key(&equivalent(login))
    }
}

/// What Okta found for one row before calling the hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Matched users' ids.
    pub matches: Vec<String>,
    /// Whether the projected login is held by a user (or an earlier row) Okta will not link to.
    pub login_conflict: bool,
}

impl Found {
    /// Okta's default action and the user it links to.
    pub fn default_action(&self) -> (ActionResult, Option<&str>) {
        match self.matches.as_slice() {
            [only] => (ActionResult::LinkUser, Some(only.as_str())),
            _ => (ActionResult::CreateUser, None),
        }
    }

    /// `context.conflicts`: `login` when Okta will create a user whose login is held.
    pub fn conflicts(&self) -> Vec<String> {
        let creating = self.default_action().0 == ActionResult::CreateUser;
        if creating && self.login_conflict {
            vec!["login".to_owned()]
        } else {
            Vec::new()
        }
    }
}

/// The request Okta sends the hook for one row, built through the contract's own reading of
/// Okta's JSON (so it is exactly what `serve` parses).
pub fn request(
    event_id: &str,
    app_user: Map<String, Value>,
    user: Map<String, Value>,
    found: &Found,
    rules: &[Rule],
) -> ImportRequest {
    let (action, user_id) = found.default_action();
    let mut user_holder = Map::new();
    if let Some(id) = user_id {
        user_holder.insert("id".into(), Value::String(id.to_owned()));
    }
    user_holder.insert("profile".into(), Value::Object(user));
    let json = serde_json::json!({
        "eventId": event_id,
        "eventType": crate::okta::EVENT_TYPE,
        "eventTypeVersion": "1.0",
        "contentType": "application/json",
        "cloudEventVersion": "0.1",
        "data": {
            "appUser": {"profile": app_user},
            "user": user_holder,
            "action": {"result": action.as_str()},
            "context": {
                "conflicts": found.conflicts(),
                "matches": found.matches,
                "policy": rules.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                "job": {"id": "importhook-preview", "type": "import:users"},
            }
        }
    });
    // An object always reads.
    ImportRequest::from_json(json).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(id: &str, login: &str, email: &str, first: &str, last: &str) -> OrgUser {
        OrgUser {
            id: id.into(),
            login: login.into(),
            email: Some(email.into()),
            first_name: Some(first.into()),
            last_name: Some(last.into()),
        }
    }

    fn org() -> Org {
        let mut org = Org::default();
        org.add(user("00u1", "ann.lee@x.io", "ann@x.io", "Ann", "Lee"));
        org.add(user("00u2", "bob.ray@x.io", "bob@x.io", "Bob", "Ray"));
        org.add(user("00u3", "b.ray@x.io", "b.ray@x.io", "Bob", "Ray"));
        org
    }

    fn profile(value: serde_json::Value) -> Map<String, Value> {
        value.as_object().cloned().expect("object")
    }

    #[test]
    fn the_mapping_projects_columns_and_defaults_to_okta_names() {
        let row = profile(json!({"userName": "a@x.io", "mail": "a@x.io", "other": "1"}));
        let mapping = Mapping {
            attributes: [("login", "userName"), ("email", "mail"), ("city", "none")]
                .into_iter()
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .collect(),
        };
        assert_eq!(
            Value::Object(mapping.project(&row)),
            json!({"email": "a@x.io", "login": "a@x.io"})
        );
        assert_eq!(mapping.login_column(), "userName");
        assert_eq!(Mapping::default().project(&row), row);
        assert_eq!(Mapping::default().login_column(), "login");
    }

    #[test]
    fn rules_match_exactly_and_several_matches_leave_create_user() {
        let org = org();
        let row = profile(json!({"login": "ann.lee@x.io", "email": "bob@x.io"}));
        assert_eq!(org.matches(&row, &[Rule::Username]), ["00u1"]);
        assert_eq!(
            org.matches(&row, &[Rule::Email, Rule::Username]),
            ["00u1", "00u2"]
        );
        // Case sensitive, as Okta's help page says.
        let shouting = profile(json!({"login": "ANN.LEE@x.io"}));
        assert!(org.matches(&shouting, &[Rule::Username]).is_empty());
        let bob = profile(json!({"firstName": "Bob", "lastName": "Ray"}));
        let both = org.matches(&bob, &[Rule::FirstAndLastName]);
        assert_eq!(both, ["00u2", "00u3"]);
        let found = Found {
            matches: both,
            login_conflict: true,
        };
        assert_eq!(found.default_action(), (ActionResult::CreateUser, None));
        assert_eq!(found.conflicts(), ["login"]);
    }

    #[test]
    fn a_login_differing_in_case_or_accents_is_held_and_a_link_has_no_conflict() {
        let org = org();
        assert!(org.holds("Ann.Lée@X.io"));
        assert!(!org.holds("ann.lee2@x.io"));
        let linked = Found {
            matches: vec!["00u1".into()],
            login_conflict: true,
        };
        assert_eq!(
            linked.default_action(),
            (ActionResult::LinkUser, Some("00u1"))
        );
        assert!(linked.conflicts().is_empty());
    }

    #[test]
    fn the_request_is_what_okta_sends_and_serve_reads() {
        let found = Found {
            matches: vec!["00u1".into()],
            login_conflict: false,
        };
        let request = request(
            "ev1",
            profile(json!({"userName": "a"})),
            profile(json!({"login": "ann.lee@x.io"})),
            &found,
            &[Rule::Username, Rule::Email],
        );
        assert!(request.is_for_this_hook() && request.unhandled().is_none());
        let json = serde_json::to_value(&request).expect("json");
        assert_eq!(json["data"]["user"]["id"], "00u1");
        assert_eq!(json["data"]["action"]["result"], "LINK_USER");
        assert_eq!(
            json["data"]["context"]["policy"],
            json!(["USERNAME", "EMAIL"])
        );
        assert_eq!(json["data"]["context"]["matches"], json!(["00u1"]));
        assert_eq!(json["data"]["context"]["conflicts"], json!([]));
        assert_eq!(json["data"]["appUser"]["profile"]["userName"], "a");
    }
}
