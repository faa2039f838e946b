//! What the import does with a row, read from the request Okta sent and what `serve` would
//! answer it: the final action, login and linked user, and the row's [`Decision`].

use importhook_preview_report::Decision;
use std::borrow::Cow;

use serde_json::Value;

use crate::engine::{CallOutcome, PluginReport};
use crate::hook::config::OnTimeout;
use crate::hook::{DEADLINE_SUMMARY, INVALID_RESPONSE_SUMMARY};
use crate::okta::{ActionResult, Command, HookResponse, ImportRequest};

/// What the hook answers for one row, as far as the decision goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The decision, before the login is checked against the org and the earlier rows (a
    /// `Created` or `Renamed` may still turn into `Conflict`).
    pub decision: Decision,
    /// The action Okta takes.
    pub action: ActionResult,
    /// The user it links to.
    pub linked_user_id: Option<String>,
    /// The login the import uses.
    pub login_after: String,
    /// The `errorSummary` of a refusal.
    pub error: Option<String>,
}

/// The login of the projected Okta user profile (empty when there is none).
pub fn projected_login(request: &ImportRequest) -> Cow<'_, str> {
    request
        .data
        .user
        .profile
        .get_str("login")
        .unwrap_or_default()
}

/// Reads `response` (`None`: the request deadline came first, answered by `on_timeout`).
pub fn verdict(
    request: &ImportRequest,
    response: Option<&HookResponse>,
    on_timeout: OnTimeout,
) -> Verdict {
    let before = projected_login(request);
    let default_action = request
        .data
        .action
        .result
        .known()
        .unwrap_or(ActionResult::CreateUser);
    let mut verdict = Verdict {
        decision: Decision::Created,
        action: default_action,
        linked_user_id: request.data.user.id.as_deref().map(str::to_owned),
        login_after: before.clone().into_owned(),
        error: None,
    };
    let refused = |mut verdict: Verdict, summary: &str| {
        verdict.decision = Decision::Refused;
        verdict.error = Some(summary.to_owned());
        verdict
    };
    let response = match response {
        Some(response) => response,
        // `pass`: a 204, Okta's default action stands.
        None if on_timeout == OnTimeout::Pass => return settle(verdict, false),
        None => return refused(verdict, DEADLINE_SUMMARY),
    };
    if response.is_no_change() {
        return settle(verdict, false);
    }
    if response.to_checked_json().is_err() {
        return refused(verdict, INVALID_RESPONSE_SUMMARY);
    }
    if let Some(error) = &response.error {
        return refused(verdict, &error.error_summary);
    }
    for command in &response.commands {
        match command {
            Command::UserProfileUpdate(profile) => {
                if let Some(login) = profile.get("login").and_then(Value::as_str) {
                    login.clone_into(&mut verdict.login_after);
                }
            }
            Command::ActionUpdate(value) => verdict.action = value.result,
            Command::UserUpdate(user) => verdict.linked_user_id = Some(user.id.clone()),
            Command::AppUserProfileUpdate(_) => {}
        }
    }
    settle(verdict, true)
}

/// The decision once the final action and login are known.
fn settle(mut verdict: Verdict, answered: bool) -> Verdict {
    verdict.decision = match verdict.action {
        ActionResult::LinkUser if answered => Decision::Linked,
        ActionResult::LinkUser => Decision::Unchanged,
        ActionResult::CreateUser => {
            verdict.linked_user_id = None;
            Decision::Created
        }
    };
    verdict
}

/// A plugin's outcome as the report names it: `changed` when it contributed something, `ok`
/// when it ran and left the request as it was, else the engine's failure label.
pub fn plugin_outcome(report: &PluginReport) -> &'static str {
    match report.outcome {
        CallOutcome::Ok if report.updates > 0 || report.decided => "changed",
        outcome => outcome.as_str(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::okta::{Decision as Link, ErrorCause};
    use serde_json::json;

    fn request(action: &str, id: Option<&str>) -> ImportRequest {
        let mut user = json!({"profile": {"login": "joe@x.io"}});
        if let Some(id) = id {
            user["id"] = json!(id);
        }
        serde_json::from_value(json!({
            "data": {"action": {"result": action}, "user": user, "appUser": {"profile": {}},
                     "context": {"conflicts": ["login"]}}
        }))
        .expect("request")
    }

    fn login(value: &str) -> crate::okta::Profile {
        json!({"login": value})
            .as_object()
            .cloned()
            .expect("object")
    }

    #[test]
    fn decisions_follow_the_final_action_and_login() {
        let create = request("CREATE_USER", None);
        let pass = OnTimeout::Pass;
        let v = verdict(&create, Some(&HookResponse::default()), pass);
        assert_eq!(
            (v.decision, v.login_after.as_str()),
            (Decision::Created, "joe@x.io")
        );
        let renamed = HookResponse::from_changes(Default::default(), login("joe1@x.io"), None);
        let v = verdict(&create, Some(&renamed), pass);
        assert_eq!(v.login_after, "joe1@x.io");
        // `Renamed` is told by the caller, which compares the logins; here the action stands.
        assert_eq!(v.action, ActionResult::CreateUser);
        let link = HookResponse::from_changes(
            Default::default(),
            Default::default(),
            Some(Link::LinkUser("00u9".into())),
        );
        let v = verdict(&create, Some(&link), pass);
        assert_eq!(
            (v.decision, v.linked_user_id.as_deref()),
            (Decision::Linked, Some("00u9"))
        );
        let matched = request("LINK_USER", Some("00u1"));
        let v = verdict(&matched, None, pass);
        assert_eq!(
            (v.decision, v.linked_user_id.as_deref()),
            (Decision::Unchanged, Some("00u1"))
        );
    }

    #[test]
    fn refusals_carry_the_summary_serve_answers() {
        let create = request("CREATE_USER", None);
        let v = verdict(&create, None, OnTimeout::Error);
        assert_eq!(v.decision, Decision::Refused);
        assert_eq!(v.error.as_deref(), Some(DEADLINE_SUMMARY));
        let error =
            HookResponse::error("importhook plugin p failed: trap", Vec::<ErrorCause>::new());
        let v = verdict(&create, Some(&error), OnTimeout::Pass);
        assert_eq!(v.error.as_deref(), Some("importhook plugin p failed: trap"));
    }
}
