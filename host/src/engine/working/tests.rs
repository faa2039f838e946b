//! The merge rules and the output check, by example and by property.

use super::*;
use serde_json::json;

fn request(action: &str, user_id: Option<&str>) -> Arc<ImportRequest> {
    let mut user = json!({"profile": {"login": "a@x.io", "email": "a@x.io"}});
    if let Some(id) = user_id {
        user["id"] = json!(id);
    }
    Arc::new(serde_json::from_value(json!({
        "eventId": "e", "eventType": "com.okta.import.transform",
        "data": {"action": {"result": action}, "appUser": {"profile": {"middleName": "B"}}, "user": user}
    }))
    .expect("request"))
}

/// The whole profile a view shows, as one map.
fn whole(view: ProfileView<'_>) -> Profile {
    view.names()
        .filter_map(|name| {
            let value = view.get(name)?.read().expect("readable");
            Some((name.to_owned(), value))
        })
        .collect()
}

/// What Okta sent as `name`, read.
fn sent(profile: &crate::okta::RawProfile, name: &str) -> Option<Json> {
    profile
        .get(name)
        .map(|text| text.parse().expect("readable"))
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
    let response = serde_json::to_value(working.response()).expect("json");
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
    assert!(working.response().is_no_change());
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
        serde_json::to_value(working.response()).expect("json"),
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
    assert!(working.response().is_no_change());
}

#[test]
fn relinking_an_okta_link_sends_both_commands_and_unlinking_sends_create() {
    let original = request("LINK_USER", Some("00u1"));
    let mut same = Working::from_request(&original);
    same.apply(Contribution {
        decision: Some(Decision::LinkUser("00u1".into())),
        ..Contribution::default()
    });
    assert!(same.response().is_no_change());

    let mut other = Working::from_request(&original);
    other.apply(Contribution {
        decision: Some(Decision::LinkUser("00u2".into())),
        ..Contribution::default()
    });
    let commands = other.response().commands;
    assert_eq!(commands.len(), 2);
    other.response().to_checked_json().expect("paired");

    let mut create = Working::from_request(&original);
    create.apply(Contribution {
        decision: Some(Decision::CreateUser),
        ..Contribution::default()
    });
    assert_eq!(
        serde_json::to_value(create.response()).expect("json"),
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
        serde_json::to_value(working.response()).expect("json"),
        json!({"commands": [{"type": "com.okta.appUser.profile.update", "value": {"middleName": "C", "nickName": null}}]})
    );
}

fn link(id: &str) -> Contribution {
    Contribution {
        decision: Some(Decision::LinkUser(id.into())),
        ..Contribution::default()
    }
}

#[test]
fn check_refuses_a_login_that_is_null_not_text_empty_or_blank() {
    let original = request("CREATE_USER", None);
    let working = Working::from_request(&original);
    for (value, expected) in [
        (json!(null), InvalidContribution::LoginNotText),
        (json!(42), InvalidContribution::LoginNotText),
        (json!(["a@x.io"]), InvalidContribution::LoginNotText),
        (json!(""), InvalidContribution::BlankLogin),
        (json!(" \t\n"), InvalidContribution::BlankLogin),
        // U+3000 IDEOGRAPHIC SPACE: Unicode whitespace counts too.
        (json!("\u{3000}"), InvalidContribution::BlankLogin),
    ] {
        assert_eq!(
            working.check(&update(&[("login", value.clone())])),
            Err(expected),
            "{value}"
        );
    }
    // The last of two writes would win, but a blank one is refused wherever it is.
    assert_eq!(
        working.check(&update(&[("login", json!("")), ("login", json!("b@x.io"))])),
        Err(InvalidContribution::BlankLogin)
    );
    // Other attributes may be null or blank; a real login passes.
    assert_eq!(
        working.check(&update(&[
            ("login", json!("b@x.io")),
            ("email", json!(null)),
            ("nick", json!(""))
        ])),
        Ok(())
    );
    // Okta's login rules: length, control and bidi characters, the email shape.
    let refused = |login: &str| {
        working
            .check(&update(&[("login", json!(login))]))
            .err()
            .map(|e| e.to_string())
    };
    for (login, problem) in [
        (
            "Joe\u{0}\u{7}\u{1b}[2J\r\nSmith@Example.com",
            LoginProblem::ControlCharacter,
        ),
        ("joe\u{202e}moc.elpmaxe@x.io", LoginProblem::BidiControl),
        (
            format!("{}@x.io", "a".repeat(96)).as_str(),
            LoginProblem::TooLong,
        ),
        ("a".repeat(60 * 1024).as_str(), LoginProblem::TooLong),
        ("a@b", LoginProblem::TooShort),
        ("joe.smith", LoginProblem::NotEmail),
        ("joe smith@x.io", LoginProblem::NotEmail),
    ] {
        assert_eq!(
            working.check(&update(&[("login", json!(login))])),
            Err(InvalidContribution::LoginRefused(problem)),
            "{login:?}"
        );
    }
    assert_eq!(
        refused(&format!("{}@x.io", "a".repeat(95))),
        None,
        "100 characters"
    );
    assert_eq!(refused("josé.álvarez@exämple.com"), None);
    // The message names the problem, never the value.
    let message = refused("joe.smith").expect("refused");
    assert!(
        message.contains("email") && !message.contains("joe"),
        "{message}"
    );
    // With login_format = "any", only the email shape and minimum length go.
    let any = Working::from_request(&original).with_login_format(LoginFormat::Any);
    for login in ["joe.smith", "a@b", "EMP-0042"] {
        assert_eq!(
            any.check(&update(&[("login", json!(login))])),
            Ok(()),
            "{login}"
        );
    }
    assert_eq!(
        any.check(&update(&[("login", json!("joe\u{7}"))])),
        Err(InvalidContribution::LoginRefused(
            LoginProblem::ControlCharacter
        ))
    );
    // Writing back the login Okta sent is no change, whatever the format says of it.
    let odd = Arc::new(serde_json::from_value(json!({
        "eventId": "e", "eventType": "com.okta.import.transform",
        "data": {"action": {"result": "CREATE_USER"}, "user": {"profile": {"login": "EMP-0042"}}}
    })).expect("request"));
    let odd = Working::from_request(&odd);
    assert_eq!(odd.check(&update(&[("login", json!("EMP-0042"))])), Ok(()));
    assert!(odd.check(&update(&[("login", json!("EMP-0043"))])).is_err());
    // The app user profile is not Okta's user profile.
    let app = Contribution {
        app_user: vec![("login".into(), json!(null))],
        ..Contribution::default()
    };
    assert_eq!(working.check(&app), Ok(()));
}

#[test]
fn check_refuses_a_login_change_together_with_a_link() {
    let original = request("CREATE_USER", None);
    let working = Working::from_request(&original);
    // In one contribution.
    let both = Contribution {
        user: vec![("login".into(), json!("b@x.io"))],
        decision: Some(Decision::LinkUser("00u1".into())),
        ..Contribution::default()
    };
    assert_eq!(
        working.check(&both),
        Err(InvalidContribution::LoginChangedOnLink)
    );
    // A login change, then a link by a later plugin: the link is refused.
    let mut renamed = Working::from_request(&original);
    let rename = update(&[("login", json!("b@x.io"))]);
    assert_eq!(renamed.check(&rename), Ok(()));
    renamed.apply(rename);
    assert_eq!(
        renamed.check(&link("00u1")),
        Err(InvalidContribution::LoginChangedOnLink)
    );
    // A link, then a login change by a later plugin: the change is refused...
    let mut linked = Working::from_request(&original);
    linked.apply(link("00u1"));
    assert_eq!(
        linked.check(&update(&[("login", json!("b@x.io"))])),
        Err(InvalidContribution::LoginChangedOnLink)
    );
    // ...unless it writes Okta's own login back, or also decides to create the user.
    assert_eq!(linked.check(&update(&[("login", json!("a@x.io"))])), Ok(()));
    let create_instead = Contribution {
        user: vec![("login".into(), json!("b@x.io"))],
        decision: Some(Decision::CreateUser),
        ..Contribution::default()
    };
    assert_eq!(linked.check(&create_instead), Ok(()));
    // Okta planned the link itself: a login change alone is refused too.
    let okta_link = request("LINK_USER", Some("00u1"));
    assert_eq!(
        Working::from_request(&okta_link).check(&update(&[("login", json!("b@x.io"))])),
        Err(InvalidContribution::LoginChangedOnLink)
    );
    // A link with the login Okta sent passes.
    assert_eq!(working.check(&link("00u1")), Ok(()));
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

    fn login_value() -> impl Strategy<Value = Json> {
        prop_oneof![
            Just(json!(null)),
            Just(json!("")),
            Just(json!(" ")),
            Just(json!("a@x.io")),
            Just(json!("b@x.io")),
            Just(json!("b@x")),
            Just(json!("b\u{7}@x.io")),
            Just(json!(1)),
        ]
    }

    fn login_contribution() -> impl Strategy<Value = Contribution> {
        (prop::option::of(login_value()), decision()).prop_map(|(login, decision)| Contribution {
            user: login.map(|v| ("login".to_owned(), v)).into_iter().collect(),
            decision,
            ..Contribution::default()
        })
    }

    proptest! {
        #[test]
        fn applying_only_checked_contributions_never_reaches_a_refused_state(
            link in any::<bool>(),
            contributions in prop::collection::vec(login_contribution(), 0..5),
        ) {
            let original = request(if link { "LINK_USER" } else { "CREATE_USER" }, Some("00u1"));
            let mut working = Working::from_request(&original);
            for contribution in contributions {
                if working.check(&contribution).is_ok() {
                    working.apply(contribution);
                }
            }
            let login = working.user().get("login").map(|l| l.read().expect("readable"));
            let text = login.as_ref().and_then(Json::as_str).unwrap_or_default();
            prop_assert!(!text.trim().is_empty());
            prop_assert!(crate::okta::login::check(text, LoginFormat::Email).is_ok());
            if working.action == ActionResult::LinkUser {
                prop_assert_eq!(login, sent(&original.data.user.profile, "login"));
            }
        }

        #[test]
        fn the_net_diff_rebuilds_the_final_state_and_links_are_always_paired(
            request in original(),
            contributions in prop::collection::vec(contribution(), 0..4),
        ) {
            let request = Arc::new(request);
            let mut working = Working::from_request(&request);
            for contribution in contributions {
                working.apply(contribution);
            }
            let response = working.response();
            // Okta's rules hold for every response.
            prop_assert!(response.to_checked_json().is_ok());
            // Applying the commands to what Okta sent gives exactly the final state.
            let mut app_user = request.data.app_user.profile.to_map().expect("readable");
            let mut user = request.data.user.profile.to_map().expect("readable");
            let mut action = planned(&request);
            for command in &response.commands {
                match command {
                    crate::okta::Command::AppUserProfileUpdate(p) => {
                        prop_assert!(!p.is_empty());
                        for (k, v) in p {
                            prop_assert_ne!(sent(&request.data.app_user.profile, k), Some(v.clone()), "unchanged value sent");
                            app_user.insert(k.clone(), v.clone());
                        }
                    }
                    crate::okta::Command::UserProfileUpdate(p) => {
                        prop_assert!(!p.is_empty());
                        for (k, v) in p {
                            prop_assert_ne!(sent(&request.data.user.profile, k), Some(v.clone()), "unchanged value sent");
                            user.insert(k.clone(), v.clone());
                        }
                    }
                    crate::okta::Command::ActionUpdate(a) => action = a.result,
                    crate::okta::Command::UserUpdate(_) => {}
                }
            }
            prop_assert_eq!(app_user, whole(working.app_user()));
            prop_assert_eq!(user, whole(working.user()));
            prop_assert_eq!(action, working.action);
        }
    }
}
