//! A profile kept as its text and read when first asked (`raw.rs`, `raw/scan.rs`) reads as
//! serde_json reads the same object, from a body and from a `Value`, and what is not an object
//! is noted and read as empty.

use importhook_okta::{ImportRequest, JsonText, Profile, RawProfile};
use serde_json::Value;

fn body(profile: &str) -> String {
    format!(
        r#"{{"eventId":"e","data":{{"appUser":{{"profile":{profile}}},"user":{{"profile":{{}}}}}}}}"#
    )
}

fn check_equivalent(profile: &str) {
    let map: Profile = serde_json::from_str(profile).expect("map");
    let kept = RawProfile::from_json(profile).expect("profile");
    assert_eq!(kept.to_map().as_ref(), Ok(&map), "{profile}");
    let from_text = ImportRequest::from_body(body(profile).as_bytes()).expect("body");
    assert!(
        from_text.irregular.is_empty(),
        "{profile}: {:?}",
        from_text.irregular
    );
    assert_eq!(
        from_text.data.app_user.profile.to_map().as_ref(),
        Ok(&map),
        "{profile}"
    );
    let value: Value = serde_json::from_str(&body(profile)).expect("json");
    let from_value: ImportRequest = serde_json::from_value(value).expect("value");
    assert_eq!(from_value, from_text, "{profile}");
}

#[test]
fn profiles_read_as_serde_json_reads_them() {
    for p in [
        "{}",
        " { } ",
        r#"{"":1,"":2}"#,
        r#"{ "a" : 1 , "b":2,"a" :  [ 1 , {"x" : "y"} ] }"#,
        r#"{"a\u0062":1,"ab":2,"\u0061b":3}"#,
        r#"{"\"\\\/\b\f\n\r\t":"\u00e9","é":-0,"n":1.50e+3,"big":1e400}"#,
        "{\n\t\"a\"\r\n:\n\"b\"\n}",
    ] {
        check_equivalent(p);
    }
}

/// serde_json hands a number read losslessly over as a map whose one key is its private number
/// token: an object whose first name is that token is still a profile, not a number (the body
/// was refused, "trailing comma", when the profile was taken for a number).
#[test]
fn a_profile_whose_first_name_is_serde_json_s_number_token_is_a_profile() {
    let profile = r#"{"$serde_json::private::Number":"1","login":"a@x.io"}"#;
    let request = ImportRequest::from_body(body(profile).as_bytes()).expect("body");
    assert_eq!(request.irregular, Vec::<&str>::new());
    assert_eq!(
        request
            .data
            .app_user
            .profile
            .get("login")
            .map(JsonText::text),
        Some("\"a@x.io\"")
    );
}

#[test]
fn such_a_profile_reads_from_its_json_text_too() {
    let profile = r#"{"$serde_json::private::Number":"1","login":"a@x.io"}"#;
    assert!(RawProfile::from_json(profile).is_ok());
}

/// `From<&Profile>` takes any JSON map for a profile, this one included.
#[test]
fn any_json_map_is_a_profile() {
    let mut map = Profile::new();
    map.insert("$serde_json::private::Number".into(), Value::from(1));
    let kept = RawProfile::from(&map);
    assert_eq!(kept.to_map(), Ok(map));
}

#[test]
fn serde_json_s_token_names_elsewhere_are_names() {
    for (profile, n) in [
        (r#"{"$serde_json::private::RawValue":1}"#, 1),
        (r#"{"a":1,"$serde_json::private::Number":"1"}"#, 2),
    ] {
        let request = ImportRequest::from_body(body(profile).as_bytes()).expect("body");
        assert!(request.irregular.is_empty());
        assert_eq!(request.data.app_user.profile.len(), n, "{profile}");
    }
}

#[test]
fn a_lone_surrogate_in_a_name_reads_marked_in_a_value_unreadable() {
    let request =
        ImportRequest::from_body(body(r#"{"k\udc00":1,"v":"x\ud800","k\udc00":2}"#).as_bytes())
            .expect("body");
    let p = &request.data.app_user.profile;
    assert_eq!(p.len(), 2);
    assert!(p.get("v").expect("v").parse().is_err());
    assert_eq!(
        p.get(&format!("k{}", importhook_okta::INVALID_STRING_MARK))
            .map(JsonText::text),
        Some("2")
    );
}

#[test]
fn what_is_not_an_object_is_noted_and_read_empty() {
    for (profile, irregular) in [
        ("null", false),
        ("1", true),
        ("1.50", true),
        ("\"x\"", true),
        ("[]", true),
        ("true", true),
        ("[{\"a\":1}]", true),
    ] {
        let request = ImportRequest::from_body(body(profile).as_bytes()).expect("body");
        assert!(request.data.app_user.profile.is_empty(), "{profile}");
        assert_eq!(!request.irregular.is_empty(), irregular, "{profile}");
        let value: Value = serde_json::from_str(&body(profile)).expect("json");
        let from_value: ImportRequest = serde_json::from_value(value).expect("value");
        assert_eq!(from_value.irregular, request.irregular, "{profile}");
    }
}

/// The same in the envelope: an object whose first name is the number token is read as an
/// object (the body was refused, "trailing comma"), and a number where an object belongs is
/// still noted.
#[test]
fn an_envelope_object_whose_first_name_is_the_number_token_is_an_object() {
    let body = r#"{"$serde_json::private::Number":"1","eventId":"e",
        "data":{"$serde_json::private::Number":{"x":1},"appUser":{"profile":{"a":1}}}}"#;
    let request = ImportRequest::from_body(body.as_bytes()).expect("body");
    assert_eq!(request.event_id, "e");
    assert!(request.irregular.is_empty(), "{:?}", request.irregular);
    assert_eq!(
        request.data.app_user.profile.get("a").map(JsonText::text),
        Some("1")
    );
    // (serde_json's own `Value` cannot read this body: it takes such an object for a number.)
    let number = ImportRequest::from_body(br#"{"eventId":"e","data":1.50}"#).expect("body");
    assert_eq!(number.irregular, ["data"]);
}
