//! The login rules against the conformance vectors every SDK's tests read too
//! (`conformance/login-equivalence.json`, `conformance/login-acceptance.json`).

use importhook_login::{LoginFormat, check, equivalent};
use serde_json::Value;

fn vectors(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../conformance")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("vectors are JSON")
}

fn pairs<'a>(vectors: &'a Value, field: &str) -> Vec<(&'a str, &'a str)> {
    vectors[field]
        .as_array()
        .expect("list")
        .iter()
        .map(|pair| {
            (
                pair[0].as_str().expect("text"),
                pair[1].as_str().expect("text"),
            )
        })
        .collect()
}

#[test]
fn equivalence_matches_the_vectors() {
    let vectors = vectors("login-equivalence.json");
    let equivalent_pairs = pairs(&vectors, "equivalent");
    assert!(equivalent_pairs.len() >= 10);
    for (a, b) in equivalent_pairs {
        assert_eq!(equivalent(a), equivalent(b), "{a:?} ~ {b:?}");
    }
    for (a, b) in pairs(&vectors, "distinct") {
        assert_ne!(equivalent(a), equivalent(b), "{a:?} !~ {b:?}");
    }
    for (login, key) in pairs(&vectors, "keys") {
        assert_eq!(equivalent(login), key, "key of {login:?}");
    }
}

#[test]
fn acceptance_matches_the_vectors() {
    let vectors = vectors("login-acceptance.json");
    let cases = vectors["cases"].as_array().expect("cases");
    assert!(cases.len() >= 30);
    for case in cases {
        let login = case["login"].as_str().expect("login");
        for (format, field) in [(LoginFormat::Email, "email"), (LoginFormat::Any, "any")] {
            let expected = case[field].as_str();
            let got = check(login, format).err().map(|problem| problem.code());
            assert_eq!(got, expected, "{login:?} as {field}");
        }
    }
}
