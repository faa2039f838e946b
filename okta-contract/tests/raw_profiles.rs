//! A profile kept as text reads as serde_json reads the same object: every name in order, each
//! value equal, whatever the spacing, escapes and nesting (by property).

use importhook_okta::{RawList, RawProfile};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Any JSON value, strings and names with escapes and non-ASCII text included.
fn json() -> impl Strategy<Value = Value> {
    let text = "[a-z\"\\\\/\u{0}-\u{1f}é€😀 ]{0,6}";
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        text.prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((text, inner), 0..5)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

fn object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec(("[a-z\"\\\\é]{0,4}", json()), 0..8)
        .prop_map(|pairs| pairs.into_iter().collect())
}

proptest! {
    #[test]
    fn a_kept_profile_reads_as_serde_json_reads_it(map in object(), pretty in any::<bool>()) {
        let text = if pretty {
            serde_json::to_string_pretty(&map)
        } else {
            serde_json::to_string(&map)
        }
        .expect("json");
        let profile = RawProfile::from_json(&text).expect("an object");
        prop_assert_eq!(profile.to_map().expect("readable"), map.clone());
        let names: Vec<String> = profile.names().map(str::to_owned).collect();
        prop_assert_eq!(names, map.keys().cloned().collect::<Vec<_>>());
        for (name, value) in &map {
            prop_assert_eq!(&profile.get(name).expect("present").parse().expect("readable"), value);
            prop_assert_eq!(profile.get_str(name).map(|s| s.into_owned()), value.as_str().map(str::to_owned));
        }
        // Written back and read again: the same profile.
        let again = RawProfile::from_json(&serde_json::to_string(&profile).expect("json"))
            .expect("an object");
        prop_assert_eq!(again, profile);
    }

    #[test]
    fn a_kept_list_reads_as_serde_json_reads_it(values in prop::collection::vec(json(), 0..8)) {
        let text = serde_json::to_string_pretty(&values).expect("json");
        let request: importhook_okta::ImportRequest = serde_json::from_str(&format!(
            r#"{{"data": {{"context": {{"matches": {text}}}}}}}"#
        ))
        .expect("request");
        let list: &RawList = &request.data.context.matches;
        prop_assert_eq!(list.len(), values.len());
        prop_assert_eq!(list.to_values().expect("readable"), values);
    }
}
