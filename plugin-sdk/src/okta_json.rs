//! The native [`Source`]: Okta's JSON body, parsed once, read the way the host reads its
//! request for a plugin (the same value mapping, the same link target rule).

use serde_json::{Map, Value as Json};

use crate::request::{Action, ProfileKind, Source};
use crate::{Application, Job, Value};

/// A request body Okta sent, for native tests.
#[derive(Debug)]
pub(crate) struct OktaJson {
    event_id: String,
    app_user: Map<String, Json>,
    user: Map<String, Json>,
    matched_user_id: Option<String>,
    action: Action,
    context: Json,
}

impl OktaJson {
    pub(crate) fn parse(body: &str) -> Result<Self, String> {
        let mut json: Json =
            serde_json::from_str(body).map_err(|e| format!("invalid JSON: {e}"))?;
        let data = &mut json["data"];
        let action = match data["action"]["result"].as_str() {
            Some("CREATE_USER") => Action::CreateUser,
            Some("LINK_USER") => Action::LinkUser,
            other => {
                return Err(format!(
                    "data.action.result must be CREATE_USER or LINK_USER, not {other:?}"
                ));
            }
        };
        let mut profile = |holder: &str| match data[holder]["profile"].take() {
            Json::Object(map) => map,
            _ => Map::new(),
        };
        let (app_user, user) = (profile("appUser"), profile("user"));
        Ok(Self {
            event_id: json["eventId"].as_str().unwrap_or_default().to_owned(),
            app_user,
            user,
            matched_user_id: json["data"]["user"]["id"].as_str().map(str::to_owned),
            action,
            context: json["data"]["context"].take(),
        })
    }

    fn strings(&self, key: &str) -> Vec<String> {
        self.context[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn text(value: &Json) -> String {
        value.as_str().unwrap_or_default().to_owned()
    }

    fn profile(&self, kind: ProfileKind) -> &Map<String, Json> {
        match kind {
            ProfileKind::AppUser => &self.app_user,
            ProfileKind::User => &self.user,
        }
    }
}

impl Source for OktaJson {
    fn event_id(&self) -> String {
        self.event_id.clone()
    }

    fn get(&self, profile: ProfileKind, name: &str) -> Option<Value> {
        self.profile(profile).get(name).map(crate::json::to_value)
    }

    fn names(&self, profile: ProfileKind) -> Vec<String> {
        self.profile(profile).keys().cloned().collect()
    }

    fn changed(&self, _profile: ProfileKind) -> Vec<String> {
        // Okta's request as the first strategy sees it: nothing changed yet.
        Vec::new()
    }

    fn matched_user_id(&self) -> Option<String> {
        self.matched_user_id.clone()
    }

    fn action(&self) -> Action {
        self.action
    }

    fn link_target(&self) -> Option<String> {
        match self.action {
            Action::LinkUser => self.matched_user_id.clone(),
            Action::CreateUser => None,
        }
    }

    fn conflicts(&self) -> Vec<String> {
        self.strings("conflicts")
    }

    fn matches(&self) -> Vec<Value> {
        self.context["matches"]
            .as_array()
            .map(|m| m.iter().map(crate::json::to_value).collect())
            .unwrap_or_default()
    }

    fn policy(&self) -> Vec<String> {
        self.strings("policy")
    }

    fn application(&self) -> Option<Application> {
        let app = &self.context["application"];
        app.as_object().map(|_| Application {
            id: Self::text(&app["id"]),
            name: Self::text(&app["name"]),
            label: Self::text(&app["label"]),
            status: Self::text(&app["status"]),
        })
    }

    fn job(&self) -> Option<Job> {
        let job = &self.context["job"];
        job.as_object().map(|_| Job {
            id: Self::text(&job["id"]),
            kind: Self::text(&job["type"]),
        })
    }
}
