//! Conversions between Okta's JSON and the WIT types plugins see, and the checks on what a
//! plugin returns (a plugin is untrusted: every value it hands back is validated here).

use serde_json::{Map, Number, Value as Json};

use super::bindings::importhook::plugin::types::{self, Attribute, Scalar, Value};
use super::merge::{Contribution, Working};
use crate::okta::{ActionResult, Decision, ImportRequest};

/// Caps on a plugin's outcome. Okta's whole response must stay below 256 KB.
pub mod caps {
    /// Longest attribute name.
    pub const MAX_NAME_BYTES: usize = 256;
    /// Largest single attribute value, serialized.
    pub const MAX_VALUE_BYTES: usize = 64 * 1024;
    /// Most attribute updates in one outcome (both profiles).
    pub const MAX_UPDATES: usize = 1024;
    /// Longest note.
    pub const MAX_NOTE_BYTES: usize = 256;
    /// Longest Okta user id to link to.
    pub const MAX_USER_ID_BYTES: usize = 64;
}

/// Why a plugin's output was refused. Describes the shape, never the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidOutput {
    /// Empty or overlong attribute name.
    #[error(
        "attribute name is empty or longer than {} bytes",
        caps::MAX_NAME_BYTES
    )]
    BadName,
    /// A value too large.
    #[error("a value of attribute `{0}` exceeds {max} bytes", max = caps::MAX_VALUE_BYTES)]
    ValueTooLarge(String),
    /// A `json` value that is not JSON.
    #[error("the json value of attribute `{0}` is not valid JSON")]
    BadJson(String),
    /// NaN or infinity.
    #[error("attribute `{0}` holds a non-finite number")]
    NonFinite(String),
    /// Too many updates.
    #[error("more than {} attribute updates", caps::MAX_UPDATES)]
    TooManyUpdates,
    /// A link without a usable user id.
    #[error(
        "link-user needs a non-empty Okta user id of at most {} ASCII letters and digits",
        caps::MAX_USER_ID_BYTES
    )]
    BadLinkTarget,
    /// Overlong note.
    #[error("note longer than {} bytes", caps::MAX_NOTE_BYTES)]
    NoteTooLong,
}

/// A JSON value as a plugin sees it.
pub fn to_wit(value: &Json) -> Value {
    match value {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Boolean(*b),
        Json::Number(n) => match number_to_scalar(n) {
            Some(Scalar::Integer(i)) => Value::Integer(i),
            Some(Scalar::Number(f)) => Value::Number(f),
            _ => Value::Json(n.to_string()),
        },
        Json::String(s) => Value::Text(s.clone()),
        Json::Array(items) => match items.iter().map(scalar).collect::<Option<Vec<_>>>() {
            Some(list) => Value::List(list),
            None => Value::Json(value.to_string()),
        },
        Json::Object(_) => Value::Json(value.to_string()),
    }
}

fn number_to_scalar(n: &Number) -> Option<Scalar> {
    if let Some(i) = n.as_i64() {
        return Some(Scalar::Integer(i));
    }
    // u64 beyond i64 would lose precision as f64: keep such numbers as JSON text.
    if n.is_f64() {
        return n.as_f64().map(Scalar::Number);
    }
    None
}

fn scalar(value: &Json) -> Option<Scalar> {
    match value {
        Json::Null => Some(Scalar::Null),
        Json::Bool(b) => Some(Scalar::Boolean(*b)),
        Json::Number(n) => number_to_scalar(n),
        Json::String(s) => Some(Scalar::Text(s.clone())),
        Json::Array(_) | Json::Object(_) => None,
    }
}

/// A profile as a list of attributes, in the profile's order.
pub fn profile_to_wit(profile: &Map<String, Json>) -> Vec<Attribute> {
    profile
        .iter()
        .map(|(name, value)| Attribute {
            name: name.clone(),
            value: to_wit(value),
        })
        .collect()
}

/// The request as a plugin sees it: Okta's request with the profiles, action and link target
/// as the plugins before it left them (`working`).
pub fn request_to_wit(request: &ImportRequest, working: &Working) -> types::Request {
    let context = &request.data.context;
    types::Request {
        event_id: request.event_id.clone(),
        app_user: profile_to_wit(&working.app_user),
        user: profile_to_wit(&working.user),
        matched_user_id: request.data.user.id.clone(),
        action: match working.action {
            ActionResult::CreateUser => types::Action::CreateUser,
            ActionResult::LinkUser => types::Action::LinkUser,
        },
        link_target: working.link_target.clone(),
        conflicts: context.conflicts.clone(),
        matches: context.matches.iter().map(to_wit).collect(),
        policy: context.policy.clone(),
        application: context.application.as_ref().map(|a| types::Application {
            id: a.id.clone(),
            name: a.name.clone(),
            label: a.label.clone(),
            status: a.status.clone(),
        }),
        job: context.job.as_ref().map(|j| types::Job {
            id: j.id.clone(),
            kind: j.kind.clone(),
        }),
    }
}

/// Most attribute updates [`apply_to_wit`] is worth using for; each is a lookup by name.
pub const MAX_PATCHED_UPDATES: usize = 16;

/// Applies an accepted contribution to a request already converted, exactly as
/// [`Working::apply`] does to the JSON state: the result equals converting the updated state
/// again, without converting the attributes that did not change.
pub fn apply_to_wit(input: &mut types::Request, contribution: &Contribution) {
    fn update(attributes: &mut Vec<Attribute>, updates: &[(String, Json)]) {
        for (name, value) in updates {
            let value = to_wit(value);
            // A profile map keeps an updated key in its place and appends a new one (serde_json
            // with `preserve_order`, which the workspace enables).
            match attributes.iter_mut().find(|a| a.name == *name) {
                Some(attribute) => attribute.value = value,
                None => attributes.push(Attribute {
                    name: name.clone(),
                    value,
                }),
            }
        }
    }
    update(&mut input.app_user, &contribution.app_user);
    update(&mut input.user, &contribution.user);
    match &contribution.decision {
        None => {}
        Some(Decision::CreateUser) => {
            input.action = types::Action::CreateUser;
            input.link_target = None;
        }
        Some(Decision::LinkUser(id)) => {
            input.action = types::Action::LinkUser;
            input.link_target = Some(id.clone());
        }
    }
}

fn finite(f: f64, name: &str) -> Result<Json, InvalidOutput> {
    Number::from_f64(f)
        .map(Json::Number)
        .ok_or_else(|| InvalidOutput::NonFinite(name.to_owned()))
}

fn scalar_to_json(s: &Scalar, name: &str) -> Result<Json, InvalidOutput> {
    Ok(match s {
        Scalar::Null => Json::Null,
        Scalar::Boolean(b) => Json::Bool(*b),
        Scalar::Integer(i) => Json::from(*i),
        Scalar::Number(f) => finite(*f, name)?,
        Scalar::Text(t) => Json::String(t.clone()),
    })
}

/// A plugin's attribute value as JSON, checked against the caps.
pub fn from_wit(value: &Value, name: &str) -> Result<Json, InvalidOutput> {
    let json = match value {
        Value::Null => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Integer(i) => Json::from(*i),
        Value::Number(f) => finite(*f, name)?,
        Value::Text(t) => {
            if t.len() > caps::MAX_VALUE_BYTES {
                return Err(InvalidOutput::ValueTooLarge(name.to_owned()));
            }
            Json::String(t.clone())
        }
        Value::List(items) => Json::Array(
            items
                .iter()
                .map(|s| scalar_to_json(s, name))
                .collect::<Result<_, _>>()?,
        ),
        Value::Json(text) => {
            if text.len() > caps::MAX_VALUE_BYTES {
                return Err(InvalidOutput::ValueTooLarge(name.to_owned()));
            }
            serde_json::from_str(text).map_err(|_| InvalidOutput::BadJson(name.to_owned()))?
        }
    };
    if matches!(value, Value::List(_)) && json.to_string().len() > caps::MAX_VALUE_BYTES {
        return Err(InvalidOutput::ValueTooLarge(name.to_owned()));
    }
    Ok(json)
}

/// Validates a list of attribute updates into (name, JSON) pairs.
pub fn updates_from_wit(updates: &[Attribute]) -> Result<Vec<(String, Json)>, InvalidOutput> {
    updates
        .iter()
        .map(|a| {
            if a.name.is_empty() || a.name.len() > caps::MAX_NAME_BYTES {
                return Err(InvalidOutput::BadName);
            }
            Ok((a.name.clone(), from_wit(&a.value, &a.name)?))
        })
        .collect()
}

/// Checks an Okta user id a plugin wants to link to.
pub fn check_user_id(id: &str) -> Result<(), InvalidOutput> {
    let ok = !id.is_empty()
        && id.len() <= caps::MAX_USER_ID_BYTES
        && id.bytes().all(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(InvalidOutput::BadLinkTarget)
    }
}

fn scalar_size(s: &Scalar) -> usize {
    match s {
        Scalar::Text(t) => t.len(),
        _ => 8,
    }
}

fn value_size(v: &Value) -> usize {
    match v {
        Value::Text(t) | Value::Json(t) => t.len(),
        Value::List(items) => items.iter().map(scalar_size).sum(),
        _ => 8,
    }
}

/// Payload bytes of attributes (names and values), for `importhook try` reports.
pub fn attributes_size(attributes: &[Attribute]) -> usize {
    attributes
        .iter()
        .map(|a| a.name.len() + value_size(&a.value))
        .sum()
}

/// Payload bytes of a list of values.
pub fn values_size(values: &[Value]) -> usize {
    values.iter().map(value_size).sum()
}

/// A TOML value (from a manifest's `[config]`) as a plugin sees it.
pub fn toml_to_wit(value: &toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::Text(s.clone()),
        toml::Value::Integer(i) => Value::Integer(*i),
        toml::Value::Float(f) => Value::Number(*f),
        toml::Value::Boolean(b) => Value::Boolean(*b),
        toml::Value::Datetime(d) => Value::Text(d.to_string()),
        other => to_wit(&serde_json::to_value(other).unwrap_or(Json::Null)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn updates(pairs: &[(&str, Json)]) -> Vec<(String, Json)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.clone()))
            .collect()
    }

    /// Applies `contributions` in turn both ways and compares after each.
    fn patching_matches_converting(action: &str, contributions: Vec<Contribution>) {
        let request: ImportRequest = serde_json::from_value(json!({
            "eventId": "e", "eventType": "com.okta.import.transform",
            "data": {
                "action": {"result": action},
                "appUser": {"profile": {"middleName": "B", "groups": ["a", "b"], "n": 3}},
                "user": {"id": "00u1", "profile": {"login": "a@x.io", "email": "a@x.io", "x": null}}
            }
        }))
        .expect("request");
        let mut working = Working::from_request(&request);
        let mut patched = request_to_wit(&request, &working);
        for contribution in contributions {
            apply_to_wit(&mut patched, &contribution);
            working.apply(contribution);
            assert_eq!(
                format!("{patched:?}"),
                format!("{:?}", request_to_wit(&request, &working))
            );
        }
    }

    #[test]
    fn applying_a_contribution_to_the_converted_request_equals_converting_again() {
        patching_matches_converting(
            "CREATE_USER",
            vec![
                Contribution {
                    user: updates(&[("login", json!("a.b@x.io")), ("nickName", json!("ab"))]),
                    ..Contribution::default()
                },
                Contribution {
                    app_user: updates(&[
                        ("groups", json!(["c"])),
                        ("n", json!(null)),
                        ("o", json!({"k": 1})),
                    ]),
                    user: updates(&[("login", json!("a.b.c@x.io"))]),
                    decision: Some(Decision::LinkUser("00u2".to_owned())),
                    note: Some("n".to_owned()),
                },
                Contribution {
                    decision: Some(Decision::CreateUser),
                    ..Contribution::default()
                },
            ],
        );
        // Okta planned a link; one name twice in one contribution, new and then existing.
        patching_matches_converting(
            "LINK_USER",
            vec![
                Contribution {
                    user: updates(&[
                        ("nickName", json!("one")),
                        ("nickName", json!("two")),
                        ("email", json!(1.5)),
                        ("email", json!(true)),
                    ]),
                    ..Contribution::default()
                },
                Contribution {
                    decision: Some(Decision::CreateUser),
                    ..Contribution::default()
                },
                Contribution {
                    decision: Some(Decision::LinkUser("00u3".to_owned())),
                    ..Contribution::default()
                },
            ],
        );
    }

    #[test]
    fn json_round_trips_through_wit_losslessly() {
        for value in [
            json!(null),
            json!(true),
            json!(42),
            json!(-7),
            json!(1.5),
            json!(18446744073709551615u64),
            json!("é ü"),
            json!(["a", 1, null, 2.5, false]),
            json!([["nested"]]),
            json!({"k": [1, {"x": null}]}),
            json!([]),
        ] {
            let wit = to_wit(&value);
            assert_eq!(from_wit(&wit, "a").expect("valid"), value, "{value}");
        }
        assert!(matches!(
            to_wit(&json!(18446744073709551615u64)),
            Value::Json(_)
        ));
        assert!(matches!(to_wit(&json!(["a", 1])), Value::List(_)));
        assert!(matches!(to_wit(&json!([{"id": "x"}])), Value::Json(_)));
    }

    #[test]
    fn invalid_plugin_values_are_refused() {
        assert_eq!(
            from_wit(&Value::Number(f64::NAN), "a"),
            Err(InvalidOutput::NonFinite("a".into()))
        );
        assert_eq!(
            from_wit(&Value::Json("{".into()), "a"),
            Err(InvalidOutput::BadJson("a".into()))
        );
        let big = "x".repeat(caps::MAX_VALUE_BYTES + 1);
        assert_eq!(
            from_wit(&Value::Text(big.clone()), "a"),
            Err(InvalidOutput::ValueTooLarge("a".into()))
        );
        let many = vec![Scalar::Text("x".repeat(1024)); 80];
        assert_eq!(
            from_wit(&Value::List(many), "a"),
            Err(InvalidOutput::ValueTooLarge("a".into()))
        );
        let unnamed = Attribute {
            name: String::new(),
            value: Value::Null,
        };
        assert_eq!(updates_from_wit(&[unnamed]), Err(InvalidOutput::BadName));
    }

    #[test]
    fn link_targets_must_look_like_okta_ids() {
        assert!(check_user_id("00u1abcDEF").is_ok());
        for bad in ["", " ", "00u 1", "00u1\"}", &"a".repeat(65)] {
            assert_eq!(
                check_user_id(bad),
                Err(InvalidOutput::BadLinkTarget),
                "{bad:?}"
            );
        }
    }
}
