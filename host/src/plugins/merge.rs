//! The merge rules: plugins run in order, each sees the request as the ones before it left
//! it, later values win, and Okta gets only the net change against what it sent.

use serde_json::{Map, Value as Json};

use crate::okta::{ActionResult, Decision, HookResponse, ImportRequest, Profile};

/// A plugin's validated contribution.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Contribution {
    /// App user profile updates, in the plugin's order.
    pub app_user: Vec<(String, Json)>,
    /// Okta user profile updates.
    pub user: Vec<(String, Json)>,
    /// A new decision.
    pub decision: Option<Decision>,
    /// The plugin's note.
    pub note: Option<String>,
}

/// The request as the plugins so far have left it.
#[derive(Debug, Clone, PartialEq)]
pub struct Working {
    /// Current app user profile.
    pub app_user: Profile,
    /// Current Okta user profile.
    pub user: Profile,
    /// Current action.
    pub action: ActionResult,
    /// Current link target (only meaningful with `LINK_USER`).
    pub link_target: Option<String>,
}

impl Working {
    /// The state Okta sent. The pipeline runs only on requests whose action is known (the
    /// endpoint passes the others through, see [`ImportRequest::unhandled`]); for any other,
    /// Okta's plan reads as `CREATE_USER`.
    pub fn from_request(request: &ImportRequest) -> Self {
        let action = planned(request);
        Self {
            app_user: request.data.app_user.profile.clone(),
            user: request.data.user.profile.clone(),
            action,
            link_target: match action {
                ActionResult::LinkUser => request.data.user.id.clone(),
                ActionResult::CreateUser => None,
            },
        }
    }

    /// Applies one plugin's contribution; later values win.
    pub fn apply(&mut self, contribution: Contribution) {
        for (name, value) in contribution.app_user {
            self.app_user.insert(name, value);
        }
        for (name, value) in contribution.user {
            self.user.insert(name, value);
        }
        match contribution.decision {
            None => {}
            Some(Decision::CreateUser) => {
                self.action = ActionResult::CreateUser;
                self.link_target = None;
            }
            Some(Decision::LinkUser(id)) => {
                self.action = ActionResult::LinkUser;
                self.link_target = Some(id);
            }
        }
    }

    /// The net change against `original`, as Okta commands (`204` when empty).
    pub fn response(&self, original: &ImportRequest) -> HookResponse {
        let app_user = changed(&original.data.app_user.profile, &self.app_user);
        let user = changed(&original.data.user.profile, &self.user);
        // What Okta planned, without cloning its profiles as `from_request` would.
        let initial_action = planned(original);
        let initial_target = match initial_action {
            ActionResult::LinkUser => original.data.user.id.as_ref(),
            ActionResult::CreateUser => None,
        };
        let decision = match (self.action, &self.link_target) {
            (ActionResult::CreateUser, _) if initial_action == ActionResult::CreateUser => None,
            (ActionResult::CreateUser, _) => Some(Decision::CreateUser),
            // A link is only ever emitted together with its target.
            (ActionResult::LinkUser, Some(target))
                if initial_action != ActionResult::LinkUser || initial_target != Some(target) =>
            {
                Some(Decision::LinkUser(target.clone()))
            }
            (ActionResult::LinkUser, _) => None,
        };
        HookResponse::from_changes(app_user, user, decision)
    }
}

/// What Okta planned, as [`Working::from_request`] reads it.
fn planned(request: &ImportRequest) -> ActionResult {
    request
        .data
        .action
        .result
        .known()
        .unwrap_or(ActionResult::CreateUser)
}

/// Attributes of `now` whose value differs from (or is absent in) `before`, in `now`'s order.
fn changed(before: &Map<String, Json>, now: &Map<String, Json>) -> Profile {
    now.iter()
        .filter(|(name, value)| before.get(name.as_str()) != Some(value))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(action: &str, user_id: Option<&str>) -> ImportRequest {
        let mut user = json!({"profile": {"login": "a@x.io", "email": "a@x.io"}});
        if let Some(id) = user_id {
            user["id"] = json!(id);
        }
        serde_json::from_value(json!({
            "eventId": "e", "eventType": "com.okta.import.transform",
            "data": {"action": {"result": action}, "appUser": {"profile": {"middleName": "B"}}, "user": user}
        }))
        .expect("request")
    }

    fn update(user: &[(&str, Json)]) -> Contribution {
        Contribution {
            user: user
                .iter()
                .map(|(n, v)| ((*n).to_owned(), v.clone()))
                .collect(),
            ..Contribution::default()
        }
    }

    #[test]
    fn later_values_win_and_only_the_net_change_is_sent() {
        let original = request("CREATE_USER", None);
        let mut working = Working::from_request(&original);
        working.apply(update(&[
            ("login", json!("b@x.io")),
            ("email", json!("b@x.io")),
        ]));
        working.apply(update(&[
            ("login", json!("c@x.io")),
            ("email", json!("a@x.io")),
        ]));
        let response = serde_json::to_value(working.response(&original)).expect("json");
        assert_eq!(
            response,
            json!({"commands": [{"type": "com.okta.user.profile.update", "value": {"login": "c@x.io"}}]})
        );
    }

    #[test]
    fn writing_back_the_original_value_is_no_change() {
        let original = request("CREATE_USER", None);
        let mut working = Working::from_request(&original);
        working.apply(update(&[("login", json!("a@x.io"))]));
        working.apply(Contribution {
            decision: Some(Decision::CreateUser),
            ..Contribution::default()
        });
        assert!(working.response(&original).is_no_change());
    }

    #[test]
    fn action_is_sent_only_when_it_changes_and_links_carry_their_target() {
        let original = request("CREATE_USER", None);
        let mut working = Working::from_request(&original);
        working.apply(Contribution {
            decision: Some(Decision::LinkUser("00u1".into())),
            ..Contribution::default()
        });
        assert_eq!(
            serde_json::to_value(working.response(&original)).expect("json"),
            json!({"commands": [
                {"type": "com.okta.action.update", "value": {"result": "LINK_USER"}},
                {"type": "com.okta.user.update", "value": {"id": "00u1"}}
            ]})
        );
        // A later plugin reverting to CREATE_USER leaves nothing to send.
        working.apply(Contribution {
            decision: Some(Decision::CreateUser),
            ..Contribution::default()
        });
        assert!(working.response(&original).is_no_change());
    }

    #[test]
    fn relinking_an_okta_link_sends_both_commands_and_unlinking_sends_create() {
        let original = request("LINK_USER", Some("00u1"));
        let mut same = Working::from_request(&original);
        same.apply(Contribution {
            decision: Some(Decision::LinkUser("00u1".into())),
            ..Contribution::default()
        });
        assert!(same.response(&original).is_no_change());

        let mut other = Working::from_request(&original);
        other.apply(Contribution {
            decision: Some(Decision::LinkUser("00u2".into())),
            ..Contribution::default()
        });
        let commands = other.response(&original).commands;
        assert_eq!(commands.len(), 2);
        other.response(&original).to_checked_json().expect("paired");

        let mut create = Working::from_request(&original);
        create.apply(Contribution {
            decision: Some(Decision::CreateUser),
            ..Contribution::default()
        });
        assert_eq!(
            serde_json::to_value(create.response(&original)).expect("json"),
            json!({"commands": [{"type": "com.okta.action.update", "value": {"result": "CREATE_USER"}}]})
        );
    }

    #[test]
    fn both_profiles_are_diffed_separately() {
        let original = request("CREATE_USER", None);
        let mut working = Working::from_request(&original);
        working.apply(Contribution {
            app_user: vec![
                ("middleName".into(), json!("C")),
                ("nickName".into(), json!(null)),
            ],
            user: vec![("email".into(), json!("a@x.io"))],
            ..Contribution::default()
        });
        assert_eq!(
            serde_json::to_value(working.response(&original)).expect("json"),
            json!({"commands": [{"type": "com.okta.appUser.profile.update", "value": {"middleName": "C", "nickName": null}}]})
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn value() -> impl Strategy<Value = Json> {
            prop_oneof![
                Just(json!(null)),
                Just(json!("a")),
                Just(json!("b")),
                Just(json!(1)),
                Just(json!(["x"]))
            ]
        }

        fn updates() -> impl Strategy<Value = Vec<(String, Json)>> {
            prop::collection::vec(("[abcd]", value()), 0..5)
        }

        fn decision() -> impl Strategy<Value = Option<Decision>> {
            prop_oneof![
                Just(None),
                Just(Some(Decision::CreateUser)),
                "00u[12]".prop_map(|id| Some(Decision::LinkUser(id))),
            ]
        }

        fn contribution() -> impl Strategy<Value = Contribution> {
            (updates(), updates(), decision()).prop_map(|(app_user, user, decision)| Contribution {
                app_user,
                user,
                decision,
                note: None,
            })
        }

        fn original() -> impl Strategy<Value = ImportRequest> {
            (
                updates(),
                updates(),
                any::<bool>(),
                prop::option::of("00u[12]"),
            )
                .prop_map(|(app, user, link, id)| {
                    let profile = |pairs: Vec<(String, Json)>| {
                        pairs.into_iter().collect::<serde_json::Map<_, _>>()
                    };
                    let mut user_holder = json!({"profile": profile(user)});
                    if let Some(id) = id {
                        user_holder["id"] = json!(id);
                    }
                    serde_json::from_value(json!({
                        "eventId": "e", "eventType": "com.okta.import.transform",
                        "data": {
                            "action": {"result": if link { "LINK_USER" } else { "CREATE_USER" }},
                            "appUser": {"profile": profile(app)},
                            "user": user_holder
                        }
                    }))
                    .expect("request")
                })
        }

        proptest! {
            #[test]
            fn the_net_diff_rebuilds_the_final_state_and_links_are_always_paired(
                request in original(),
                contributions in prop::collection::vec(contribution(), 0..4),
            ) {
                let mut working = Working::from_request(&request);
                for contribution in contributions {
                    working.apply(contribution);
                }
                let response = working.response(&request);
                // Okta's rules hold for every response.
                prop_assert!(response.to_checked_json().is_ok());
                // Applying the commands to what Okta sent gives exactly the final state.
                let mut app_user = request.data.app_user.profile.clone();
                let mut user = request.data.user.profile.clone();
                let mut action = planned(&request);
                for command in &response.commands {
                    match command {
                        crate::okta::Command::AppUserProfileUpdate(p) => {
                            prop_assert!(!p.is_empty());
                            for (k, v) in p {
                                prop_assert_ne!(request.data.app_user.profile.get(k), Some(v), "unchanged value sent");
                                app_user.insert(k.clone(), v.clone());
                            }
                        }
                        crate::okta::Command::UserProfileUpdate(p) => {
                            prop_assert!(!p.is_empty());
                            for (k, v) in p {
                                prop_assert_ne!(request.data.user.profile.get(k), Some(v), "unchanged value sent");
                                user.insert(k.clone(), v.clone());
                            }
                        }
                        crate::okta::Command::ActionUpdate(a) => action = a.result,
                        crate::okta::Command::UserUpdate(_) => {}
                    }
                }
                prop_assert_eq!(app_user, working.app_user);
                prop_assert_eq!(user, working.user);
                prop_assert_eq!(action, working.action);
            }
        }
    }
}
