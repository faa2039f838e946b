//! JSON to plugin values, the same mapping the host applies to Okta's request (numbers by
//! `importhook-okta`'s one rule: typed only when the type prints back what Okta sent).

use importhook_okta::{NumberForm, number_form};
use serde_json::Value as Json;

use crate::value::{Scalar, Value};

fn number(n: &serde_json::Number) -> Option<Scalar> {
    match number_form(n) {
        NumberForm::Integer(i) => Some(Scalar::Integer(i)),
        NumberForm::Float(f) => Some(Scalar::Number(f)),
        NumberForm::Text => None,
    }
}

fn scalar(value: &Json) -> Option<Scalar> {
    match value {
        Json::Null => Some(Scalar::Null),
        Json::Bool(b) => Some(Scalar::Boolean(*b)),
        Json::Number(n) => number(n),
        Json::String(s) => Some(Scalar::Text(s.clone())),
        Json::Array(_) | Json::Object(_) => None,
    }
}

/// Okta JSON as a plugin value: scalars and lists of scalars typed, anything else as JSON text.
pub(crate) fn to_value(value: &Json) -> Value {
    match value {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Boolean(*b),
        Json::Number(n) => match number(n) {
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
