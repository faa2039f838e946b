//! The guide's strategy on the parts of Okta's import request it needs: when Okta will create
//! a user whose login is in conflict, infix the app user's middle name into the login's local
//! part (`sally.admin@x` → `sally.elizabeth.admin@x`). The same rules as the
//! `login-middle-name` plugin with its default configuration and no directory lookup.
//!
//! Okta's request and answer:
//! <https://developer.okta.com/docs/reference/import-hook/> (`data.context.conflicts`,
//! `data.action.result`, `data.appUser.profile`, `data.user.profile`; the
//! `com.okta.user.profile.update` command; 204 for no change).

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The event type of an import hook call; any other is refused.
pub const EVENT_TYPE: &str = "com.okta.import.transform";

/// The parts of Okta's request the strategy reads. Every other field is skipped by the
/// parser (which still checks that the whole body is JSON).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportRequest {
    /// `com.okta.import.transform`.
    pub event_type: String,
    /// The import's data.
    pub data: Data,
}

/// `data`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Data {
    /// `data.context`.
    #[serde(default)]
    pub context: Context,
    /// `data.action`.
    #[serde(default)]
    pub action: Action,
    /// `data.appUser`.
    #[serde(default)]
    pub app_user: Holder<AppProfile>,
    /// `data.user`.
    #[serde(default)]
    pub user: Holder<UserProfile>,
}

/// `data.context`: only the conflicting attributes.
#[derive(Debug, Default, Deserialize)]
pub struct Context {
    /// The Okta user attributes in conflict (`["login"]`).
    #[serde(default)]
    pub conflicts: Vec<String>,
}

/// `data.action`.
#[derive(Debug, Default, Deserialize)]
pub struct Action {
    /// `CREATE_USER` or `LINK_USER`.
    #[serde(default)]
    pub result: Option<String>,
}

/// `{"profile": …}`.
#[derive(Debug, Default, Deserialize)]
pub struct Holder<P> {
    /// The profile.
    #[serde(default)]
    pub profile: P,
}

/// `data.appUser.profile`: only the middle name.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppProfile {
    /// The middle name, when it is a string.
    #[serde(default)]
    pub middle_name: Text,
}

/// `data.user.profile`: only the login.
#[derive(Debug, Default, Deserialize)]
pub struct UserProfile {
    /// The login, when it is a string.
    #[serde(default)]
    pub login: Text,
}

/// A profile value kept only when it is a string: `null`, a number or anything else counts as
/// absent, as for the plugin (`Profile::text`), instead of refusing the request.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Text(pub Option<String>);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(Some(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
                Ok(Text(Some(v)))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Text, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Text, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

/// The answer's body: `{"commands":[{"type":"com.okta.user.profile.update","value":{"login":…}}]}`.
#[derive(Debug, Serialize)]
pub struct Commands<'a> {
    /// One profile update.
    pub commands: [Command<'a>; 1],
}

/// One command.
#[derive(Debug, Serialize)]
pub struct Command<'a> {
    /// `com.okta.user.profile.update`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The new profile values.
    pub value: LoginValue<'a>,
}

/// `{"login": …}`.
#[derive(Debug, Serialize)]
pub struct LoginValue<'a> {
    /// The new login.
    pub login: &'a str,
}

/// The new login for `request`, or `None` for no change (a 204).
pub fn new_login(request: &ImportRequest) -> Option<String> {
    let data = &request.data;
    // Login rewrites are for users Okta will create; a user it links keeps its login.
    if data.action.result.as_deref() != Some("CREATE_USER")
        || !data.context.conflicts.iter().any(|c| c == "login")
    {
        return None;
    }
    let login = data.user.profile.login.0.as_deref()?.trim();
    if login.is_empty() {
        return None;
    }
    let middle = slug(data.app_user.profile.middle_name.0.as_deref()?);
    if middle.is_empty() {
        return None;
    }
    infix(login, &middle)
}

/// The response body carrying `login` as the one profile update.
pub fn answer_body(login: &str) -> Vec<u8> {
    let body = Commands {
        commands: [Command {
            kind: "com.okta.user.profile.update",
            value: LoginValue { login },
        }],
    };
    // Serialising plain strings into a Vec cannot fail.
    serde_json::to_vec(&body).unwrap_or_default()
}

/// Trimmed, without diacritics (NFD minus combining marks, recomposed), lowercase.
fn fold(text: &str) -> String {
    let text = text.trim();
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .nfc()
        .collect::<String>()
        .to_lowercase()
}

/// A name as it goes into a login: folded, words joined by dots, only letters, digits and
/// hyphens kept (` Mary  Ann ` → `mary.ann`, `Élodie` → `elodie`).
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for word in fold(name).split_whitespace() {
        let kept: String = word
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '-')
            .collect();
        if kept.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(&kept);
    }
    out
}

/// `middle` after the first dot-separated part of the local part; `None` when the local part
/// already holds it (a retried request must not infix twice).
pub fn infix(login: &str, middle: &str) -> Option<String> {
    let (local, domain) = match login.rsplit_once('@') {
        Some((local, domain)) => (local, Some(domain)),
        None => (login, None),
    };
    if local
        .split('.')
        .any(|part| part.eq_ignore_ascii_case(middle))
    {
        return None;
    }
    let mut out = String::with_capacity(login.len() + middle.len() + 1);
    match local.split_once('.') {
        Some((first, rest)) => {
            out.push_str(first);
            out.push('.');
            out.push_str(middle);
            out.push('.');
            out.push_str(rest);
        }
        None => {
            out.push_str(local);
            out.push('.');
            out.push_str(middle);
        }
    }
    if let Some(domain) = domain {
        out.push('@');
        out.push_str(domain);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: &str) -> ImportRequest {
        serde_json::from_str(json).expect("parses")
    }

    fn guide(middle: &str, login: &str, action: &str, conflicts: &str) -> String {
        format!(
            r#"{{"eventType":"com.okta.import.transform","data":{{"context":{{"conflicts":{conflicts}}},
            "action":{{"result":"{action}"}},"appUser":{{"profile":{{"middleName":{middle}}}}},
            "user":{{"profile":{{"login":{login}}}}}}}}}"#
        )
    }

    #[test]
    fn the_bench_request_gets_the_guide_s_login() {
        let text = include_str!("../../request.json");
        let parsed = request(text);
        assert_eq!(parsed.event_type, EVENT_TYPE);
        let login = new_login(&parsed).expect("a new login");
        assert_eq!(login, "sally.elizabeth.admin@clouditude.net");
        let body: serde_json::Value = serde_json::from_slice(&answer_body(&login)).expect("json");
        assert_eq!(
            body,
            serde_json::json!({"commands":[{"type":"com.okta.user.profile.update",
                "value":{"login":"sally.elizabeth.admin@clouditude.net"}}]})
        );
    }

    #[test]
    fn okta_guide_example_and_logins_without_dots() {
        let r = request(&guide(
            r#""Alexander""#,
            r#""george.smith@example.com""#,
            "CREATE_USER",
            r#"["login"]"#,
        ));
        assert_eq!(
            new_login(&r).as_deref(),
            Some("george.alexander.smith@example.com")
        );
        assert_eq!(
            infix("jo@example.com", "mary.ann").as_deref(),
            Some("jo.mary.ann@example.com")
        );
        assert_eq!(infix("jo", "ann").as_deref(), Some("jo.ann"));
    }

    #[test]
    fn no_change_without_conflict_for_a_link_or_without_a_usable_name() {
        let cases = [
            guide(r#""A""#, r#""g.s@x.com""#, "CREATE_USER", "[]"),
            guide(r#""A""#, r#""g.s@x.com""#, "LINK_USER", r#"["login"]"#),
            guide("null", r#""g.s@x.com""#, "CREATE_USER", r#"["login"]"#),
            guide("42", r#""g.s@x.com""#, "CREATE_USER", r#"["login"]"#),
            guide(r#""  ""#, r#""g.s@x.com""#, "CREATE_USER", r#"["login"]"#),
            guide(r#""A""#, r#""   ""#, "CREATE_USER", r#"["login"]"#),
            guide(r#""A""#, r#"{"x":[1]}"#, "CREATE_USER", r#"["login"]"#),
            // A retry: the middle name is already there.
            guide(
                r#""Alexander""#,
                r#""george.Alexander.smith@x.com""#,
                "CREATE_USER",
                r#"["login"]"#,
            ),
        ];
        for case in &cases {
            assert_eq!(new_login(&request(case)), None, "{case}");
        }
    }

    #[test]
    fn names_are_slugged_like_the_plugin_s() {
        assert_eq!(slug(" Mary  Ann "), "mary.ann");
        assert_eq!(slug("Élodie"), "elodie");
        assert_eq!(slug("O'Neil-Smith"), "oneil-smith");
        assert_eq!(slug("!!"), "");
        let r = request(&guide(
            r#""Élodie""#,
            r#"" sally.admin@example.com ""#,
            "CREATE_USER",
            r#"["login"]"#,
        ));
        assert_eq!(
            new_login(&r).as_deref(),
            Some("sally.elodie.admin@example.com")
        );
    }
}
