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

    #[test]
    fn split_and_join_at_the_last_at_sign() {
        assert_eq!(split("a.b@x.io"), ("a.b", Some("x.io")));
        assert_eq!(split("\"a@b\"@x.io"), ("\"a@b\"", Some("x.io")));
        assert_eq!(split("nodomain"), ("nodomain", None));
        assert_eq!(join("a", Some("x.io")), "a@x.io");
        assert_eq!(join("a", None), "a");
    }

    #[test]
    fn fold_strips_space_diacritics_and_case_whatever_the_unicode_form() {
        assert_eq!(fold("  José.Núñez@Example.COM "), "jose.nunez@example.com");
        assert_eq!(fold("Cafe\u{301}"), fold("Café"));
        assert_eq!(fold("Straße"), "straße");
        assert_eq!(fold("Søren"), "søren");
        assert_eq!(fold("  Plain.ASCII@X.io "), "plain.ascii@x.io");
    }

    /// The conformance vectors the host and the JavaScript and Python SDKs read too.
    #[test]
    fn equivalence_and_acceptance_match_the_shared_vectors() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../conformance");
        let read = |name: &str| -> serde_json::Value {
            serde_json::from_str(&std::fs::read_to_string(dir.join(name)).expect("vectors"))
                .expect("json")
        };
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

    #[test]
    fn slugs_are_login_safe() {
        assert_eq!(slug(" Mary  Ann "), "mary.ann");
        assert_eq!(slug("Élodie"), "elodie");
        assert_eq!(slug("Jean-Luc O'Neil!"), "jean-luc.oneil");
        assert_eq!(slug(" !? "), "");
        assert!(is_blank("  \t"));
        assert!(!is_blank(" a "));
    }
}
