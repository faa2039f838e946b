//! The WIT boundary: the host bindings generated from the SDK's WIT package (the source of
//! truth), the conversions between Okta's JSON and the WIT types plugins see, and the caps on
//! what a plugin returns (a plugin is untrusted: every value it hands back is validated here
//! before the pipeline checks it against the working request).

use serde_json::{Number, Value as Json};

use super::working::Contribution;
use crate::okta::Decision;
use generated::importhook::plugin::types::{self, Attribute, Scalar, Value};

pub use generated::importhook::plugin;
pub use generated::{GrantedPlugin, GrantedPluginPre};

#[allow(missing_docs, unreachable_pub, missing_debug_implementations)]
mod generated {
    wasmtime::component::bindgen!({
        path: "../plugin-sdk/wit",
        world: "granted-plugin",
        imports: {
            "importhook:plugin/state": async | trappable,
            "importhook:plugin/directory": async | trappable,
            default: trappable,
        },
        exports: { default: async },
        with: {
            "importhook:plugin/types.request": crate::engine::working::RequestView,
        },
    });
}

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

/// Typed only when the type prints back what Okta sent (see [`crate::okta::number_form`]).
fn number_to_scalar(n: &Number) -> Option<Scalar> {
    match crate::okta::number_form(n) {
        crate::okta::NumberForm::Integer(i) => Some(Scalar::Integer(i)),
        crate::okta::NumberForm::Float(f) => Some(Scalar::Number(f)),
        crate::okta::NumberForm::Text => None,
    }
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

/// Payload bytes of one value.
pub fn value_size(v: &Value) -> usize {
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

/// Payload bytes of a plugin's outcome, for `importhook try` reports.
pub fn outcome_size(o: &types::Outcome) -> usize {
    attributes_size(&o.app_user_updates)
        + attributes_size(&o.user_updates)
        + match &o.decision {
            Some(types::Decision::LinkUser(id)) => id.len(),
            _ => 0,
        }
        + o.note.as_ref().map_or(0, String::len)
}

/// Converts a plugin's outcome into a contribution, every value within the caps. Whether it
/// leaves a state no plugin may leave is the pipeline's check, the same for every isolation
/// mode ([`super::working::Working::check`]).
pub fn contribution(outcome: types::Outcome) -> Result<Contribution, InvalidOutput> {
    if outcome.app_user_updates.len() + outcome.user_updates.len() > caps::MAX_UPDATES {
        return Err(InvalidOutput::TooManyUpdates);
    }
    let decision = match outcome.decision {
        None => None,
        Some(types::Decision::CreateUser) => Some(Decision::CreateUser),
        Some(types::Decision::LinkUser(id)) => {
            check_user_id(&id)?;
            Some(Decision::LinkUser(id))
        }
    };
    if outcome
        .note
        .as_ref()
        .is_some_and(|n| n.len() > caps::MAX_NOTE_BYTES)
    {
        return Err(InvalidOutput::NoteTooLong);
    }
    let contribution = Contribution {
        app_user: updates_from_wit(&outcome.app_user_updates)?,
        user: updates_from_wit(&outcome.user_updates)?,
        decision,
        note: outcome.note,
    };
    Ok(contribution)
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
