//! Helpers every login strategy needs, so the examples (and yours) rewrite logins the same
//! way: split a login at its domain, fold it to what Okta users expect (no surrounding space,
//! no diacritics, lowercase), and turn a name into a login-safe slug. And Okta's own rules, the
//! ones the host applies: [`equivalent`] (logins differing only in case or diacritical marks
//! are one login to Okta) and [`check`] (what Okta accepts as a login: at most 100
//! characters, no control or bidirectional-control characters, an email address unless the
//! org's login pattern allows any value).

pub use importhook_login::{
    LoginFormat, LoginProblem, MAX_LOGIN_CHARS, MIN_EMAIL_LOGIN_CHARS, check, equivalent,
    is_bidi_control,
};

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The local part and the domain of `login`, split at the last `@` (`None` without one).
pub fn split(login: &str) -> (&str, Option<&str>) {
    match login.rsplit_once('@') {
        Some((local, domain)) => (local, Some(domain)),
        None => (login, None),
    }
}

/// `local@domain`, or `local` alone without a domain.
pub fn join(local: &str, domain: Option<&str>) -> String {
    match domain {
        Some(domain) => format!("{local}@{domain}"),
        None => local.to_owned(),
    }
}

/// Trimmed, without diacritics, lowercase, recomposed (NFC): `  José.Núñez@Example.COM ` →
/// `jose.nunez@example.com`. Diacritics go by canonical decomposition (NFD) minus combining
/// marks; letters that do not decompose (`ß`, `ø`, `ł`) stay as they are.
pub fn fold(text: &str) -> String {
    let text = text.trim();
    // Most logins and names are ASCII: nothing to decompose, and the Unicode tables (large
    // data a fresh plugin instance would fault in page by page) stay untouched.
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .nfc()
        .collect::<String>()
        .to_lowercase()
}

/// A name as it goes into a login: folded (see [`fold`]), words joined by dots, keeping only
/// letters, digits and hyphens: ` Mary  Ann ` → `mary.ann`, `Élodie` → `elodie`. Empty when
/// nothing usable is left.
pub fn slug(name: &str) -> String {
    fold(name)
        .split_whitespace()
        .map(|word| {
            word.chars()
                .filter(|c| c.is_alphanumeric() || *c == '-')
                .collect::<String>()
        })
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(".")
}

/// True when `login` is empty or only whitespace: never a login to send to Okta.
pub fn is_blank(login: &str) -> bool {
    login.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vectors(name: &str) -> serde_json::Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../conformance")
            .join(name);
        serde_json::from_str(&std::fs::read_to_string(path).expect("vectors")).expect("json")
    }

    fn pairs<'v>(vectors: &'v serde_json::Value, key: &str) -> Vec<&'v [serde_json::Value]> {
        let cases = vectors[key].as_array().expect("cases");
        assert!(!cases.is_empty(), "{key}: no cases");
        cases
            .iter()
            .map(|c| c.as_array().expect("case").as_slice())
            .collect()
    }

    /// The cases of `conformance/login-normalize.json`, which the other SDKs read too.
    #[test]
    fn fold_slug_split_and_blank_match_the_shared_vectors() {
        let vectors = vectors("login-normalize.json");
        for case in pairs(&vectors, "fold") {
            let (input, folded) = (
                case[0].as_str().expect("in"),
                case[1].as_str().expect("out"),
            );
            assert_eq!(fold(input), folded, "fold({input:?})");
        }
        for case in pairs(&vectors, "slug") {
            let (input, slugged) = (
                case[0].as_str().expect("in"),
                case[1].as_str().expect("out"),
            );
            assert_eq!(slug(input), slugged, "slug({input:?})");
        }
        for case in pairs(&vectors, "split") {
            let login = case[0].as_str().expect("login");
            let parts = (case[1].as_str().expect("local"), case[2].as_str());
            assert_eq!(split(login), parts, "split({login:?})");
            assert_eq!(join(parts.0, parts.1), login, "join of {login:?}");
        }
        for case in pairs(&vectors, "blank") {
            let text = case[0].as_str().expect("text");
            assert_eq!(is_blank(text), case[1].as_bool().expect("bool"), "{text:?}");
        }
    }

    /// The conformance vectors the host and the JavaScript and Python SDKs read too.
    #[test]
    fn equivalence_and_acceptance_match_the_shared_vectors() {
        let read = vectors;
        let equivalence = read("login-equivalence.json");
        for pair in equivalence["equivalent"].as_array().expect("pairs") {
            let (a, b) = (pair[0].as_str().expect("a"), pair[1].as_str().expect("b"));
            assert_eq!(equivalent(a), equivalent(b), "{a:?} ~ {b:?}");
        }
        for pair in equivalence["distinct"].as_array().expect("pairs") {
            let (a, b) = (pair[0].as_str().expect("a"), pair[1].as_str().expect("b"));
            assert_ne!(equivalent(a), equivalent(b), "{a:?} !~ {b:?}");
        }
        let acceptance = read("login-acceptance.json");
        for case in acceptance["cases"].as_array().expect("cases") {
            let login = case["login"].as_str().expect("login");
            for (format, field) in [(LoginFormat::Email, "email"), (LoginFormat::Any, "any")] {
                let got = check(login, format).err().map(LoginProblem::code);
                assert_eq!(got, case[field].as_str(), "{login:?} as {field}");
            }
        }
    }
}
