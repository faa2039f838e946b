//! The plugin's `[config]` table, read into the strategy's own type ([`crate::Strategy::Config`])
//! with serde: the same reading when the host loads the plugin (its `validate-config` export)
//! and on every call, so a key or type the strategy does not know is refused at load with
//! serde's words, never quietly defaulted.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value as Json};

use crate::error::Error;
use crate::strategy::Strategy;
use crate::value::{Scalar, Value};

fn scalar_json(scalar: &Scalar) -> Json {
    match scalar {
        Scalar::Null => Json::Null,
        Scalar::Boolean(b) => Json::Bool(*b),
        Scalar::Integer(i) => Json::from(*i),
        Scalar::Number(f) => Json::from(*f),
        Scalar::Text(t) => Json::String(t.clone()),
    }
}

/// A `[config]` value as the JSON serde reads: a `json` value (a TOML table or nested array)
/// is parsed back, so a strategy may read it into a struct or a map.
fn value_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Integer(i) => Json::from(*i),
        Value::Number(f) => Json::from(*f),
        Value::Text(t) => Json::String(t.clone()),
        Value::List(items) => Json::Array(items.iter().map(scalar_json).collect()),
        Value::Json(text) => serde_json::from_str(text).unwrap_or(Json::String(text.clone())),
    }
}

/// Reads `entries` (a `[config]` table, in the manifest's order) into `C`.
pub(crate) fn read<C: DeserializeOwned>(
    entries: impl IntoIterator<Item = (String, Value)>,
) -> Result<C, Error> {
    let table: Map<String, Json> = entries
        .into_iter()
        .map(|(name, value)| {
            let json = value_json(&value);
            (name, json)
        })
        .collect();
    serde_json::from_value(Json::Object(table)).map_err(|e| Error::new(format!("[config]: {e}")))
}

/// Reads a `[config]` table into `S`'s configuration and checks it with
/// [`Strategy::validate_config`]: exactly what the host does when it loads the plugin. For
/// native tests of a configuration:
///
/// ```
/// use importhook_sdk::{Error, Outcome, Request, Strategy, Value, load_config};
///
/// #[derive(serde::Deserialize, Default)]
/// #[serde(default, deny_unknown_fields)]
/// struct Settings {
///     width: i64,
/// }
///
/// struct Counter;
///
/// impl Strategy for Counter {
///     type Config = Settings;
///
///     fn transform(_: &Request, _: &Settings) -> Result<Outcome, Error> {
///         Ok(Outcome::new())
///     }
///
///     fn validate_config(config: &Settings) -> Result<(), Error> {
///         if config.width < 1 {
///             return Err("width must be at least 1".into());
///         }
///         Ok(())
///     }
/// }
///
/// assert_eq!(load_config::<Counter>([("width", Value::from(4))]).unwrap().width, 4);
/// assert!(load_config::<Counter>([("width", Value::from(0))]).is_err());
/// assert!(load_config::<Counter>([("widht", Value::from(4))]).is_err());
/// assert!(load_config::<Counter>([("width", Value::from("4"))]).is_err());
/// ```
pub fn load_config<S: Strategy>(
    entries: impl IntoIterator<Item = (impl Into<String>, Value)>,
) -> Result<S::Config, Error> {
    let config = read(
        entries
            .into_iter()
            .map(|(name, value)| (name.into(), value)),
    )?;
    S::validate_config(&config)?;
    Ok(config)
}

/// A configuration that takes no keys, for a strategy without settings: any key in its
/// `[config]` is refused at load.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoConfig {}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Typed {
        name: String,
        n: i64,
        on: bool,
        tags: Vec<String>,
        nested: std::collections::BTreeMap<String, i64>,
    }

    #[test]
    fn every_value_kind_reads_into_a_typed_config() {
        let entries = vec![
            ("name".to_owned(), Value::from("x")),
            ("n".to_owned(), Value::Integer(3)),
            ("on".to_owned(), Value::Boolean(true)),
            ("tags".to_owned(), Value::from(vec!["a".to_owned()])),
            ("nested".to_owned(), Value::Json(r#"{"k": 1}"#.to_owned())),
        ];
        let typed: Typed = read(entries).expect("reads");
        assert_eq!(typed.name, "x");
        assert_eq!((typed.n, typed.on), (3, true));
        assert_eq!(typed.tags, ["a"]);
        assert_eq!(typed.nested.get("k"), Some(&1));
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_refused_with_the_key() {
        let unknown = read::<NoConfig>([("x".to_owned(), Value::Null)]).unwrap_err();
        assert!(unknown.message().contains("unknown field `x`"), "{unknown}");
        let wrong = read::<Typed>([("n".to_owned(), Value::from("3"))]).unwrap_err();
        assert!(wrong.message().starts_with("[config]: "), "{wrong}");
        assert_eq!(read::<NoConfig>(Vec::new()), Ok(NoConfig {}));
    }
}
