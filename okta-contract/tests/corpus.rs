//! The request corpus (`tests/corpus/`): every file meets the lenient expectations its name's
//! prefix states (see `tests/corpus/README.md`), and numbers and strings are kept exactly.

use std::path::PathBuf;

use importhook_okta::{ImportRequest, RequestedAction, Unhandled};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// Every `.json` file of the corpus, by name, sorted.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(corpus_dir())
        .expect("corpus folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("name")
                .to_owned();
            (name, std::fs::read(&path).expect("read"))
        })
        .collect();
    files.sort();
    files
}

fn file(name: &str) -> ImportRequest {
    let bytes = std::fs::read(corpus_dir().join(name)).expect("corpus file");
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_file_meets_the_expectations_of_its_prefix() {
    let files = corpus();
    let count = |prefix: &str| files.iter().filter(|(n, _)| n.starts_with(prefix)).count();
    assert!(count("accept-") >= 10 && count("pass-") >= 8 && count("refuse-") >= 4);
    for (name, bytes) in &files {
        let parsed = serde_json::from_slice::<ImportRequest>(bytes);
        if name.starts_with("refuse-") {
            assert!(
                !parsed.as_ref().is_ok_and(ImportRequest::is_for_this_hook),
                "{name} should be refused"
            );
            continue;
        }
        let request = parsed.unwrap_or_else(|e| panic!("{name}: refused: {e}"));
        assert!(request.is_for_this_hook(), "{name}: not for this hook");
        if name.starts_with("accept-") {
            assert_eq!(request.unhandled(), None, "{name}");
        } else if name.starts_with("pass-") {
            assert!(request.unhandled().is_some(), "{name} should be unhandled");
        } else {
            panic!("{name}: the name must start with accept-, pass- or refuse-");
        }
        // What was read serializes and reads again as the same request.
        let again: ImportRequest =
            serde_json::from_slice(&serde_json::to_vec(&request).expect("serialize"))
                .unwrap_or_else(|e| panic!("{name}: does not read again: {e}"));
        let mut expected = request.clone();
        expected.irregular.clear();
        assert_eq!(again, expected, "{name}: does not round-trip");
    }
}

#[test]
fn nulls_and_missing_containers_read_as_empty() {
    let context = file("accept-null-context-fields.json").data.context;
    assert!(context.conflicts.is_empty() && context.matches.is_empty());
    assert!(context.policy.is_empty() && context.job.is_none() && context.application.is_none());

    let profiles = file("accept-null-profiles.json").data;
    assert!(profiles.app_user.profile.is_empty() && profiles.user.profile.is_empty());
    assert_eq!(profiles.user.id, None);

    let fields = file("accept-null-application-and-job-fields.json")
        .data
        .context;
    let application = fields.application.expect("application");
    assert_eq!(
        (application.id.as_str(), application.label.as_str()),
        ("", "")
    );
    assert_eq!(fields.job.expect("job").kind, "");

    let envelope = file("accept-null-envelope.json");
    assert_eq!(envelope.event_id, "");
    assert_eq!(envelope.event_type, None);

    let listed = file("accept-null-list-elements.json").data.context;
    assert_eq!(listed.conflicts, vec!["login".to_owned()]);
    assert!(listed.policy.is_empty());

    let minimal = file("accept-minimal.json");
    assert_eq!(minimal.event_type, None);
    assert!(minimal.data.user.profile.is_empty());
}

#[test]
fn actions_okta_may_add_are_kept_and_unhandled() {
    let unknown = file("pass-unknown-action.json");
    assert_eq!(
        unknown.data.action.result,
        RequestedAction::Unknown("MERGE_USER".into())
    );
    assert_eq!(
        unknown.unhandled(),
        Some(Unhandled::UnknownAction("MERGE_USER"))
    );
    for name in [
        "pass-missing-action.json",
        "pass-null-action.json",
        "pass-null-action-result.json",
    ] {
        assert_eq!(
            file(name).unhandled(),
            Some(Unhandled::MissingAction),
            "{name}"
        );
    }
    assert_eq!(
        file("pass-profile-not-an-object.json").unhandled(),
        Some(Unhandled::UnexpectedShape("data.appUser.profile"))
    );
    let link = file("accept-link-user-with-matches.json");
    assert_eq!(link.data.context.matches.len(), 4);
    assert_eq!(link.data.user.id.as_deref(), Some("00u1abcdEFGH2345ijk7"));
}

#[test]
fn numbers_keep_their_exact_text() {
    let request = file("accept-numbers.json");
    assert_eq!(request.event_type_version.as_deref(), Some("1.0"));
    let profile = &request.data.app_user.profile;
    let read = |name: &str| profile.get(name).expect(name).parse().expect("readable");
    // Every digit is kept; serde_json writes an exponent as `e+N` or `e-N`.
    for (name, text) in [
        ("overflow", "1e+400"),
        ("negativeOverflow", "-1e+400"),
        ("underflow", "1e-400"),
        ("negativeZero", "-0"),
        ("negativeZeroFloat", "-0.0"),
        ("oneFloat", "1.0"),
        ("trailingZero", "1.50"),
        ("upperExponent", "1e+2"),
        ("plusExponent", "2.5e+3"),
        ("tenth", "0.1"),
        ("bigInteger", "123456789012345678901234567890"),
        ("belowI64", "-9223372036854775809"),
        ("maxU64", "18446744073709551615"),
        ("pastU64", "18446744073709551616"),
        ("pastF64Precision", "9007199254740993"),
        ("smallestSubnormal", "5e-324"),
        ("manyDigits", "3.141592653589793238462643383279"),
        ("list", "[1e+400,1,1.0,-0]"),
        ("employeeNumber", "42"),
    ] {
        assert_eq!(read(name).to_string(), text, "{name}");
    }
    assert_eq!(read("employeeNumber").as_i64(), Some(42));
    // And they are written back exactly as they came.
    let written = serde_json::to_string(&request.data.user.profile).expect("json");
    assert!(written.contains(r#""costCenter":1e400"#), "{written}");
    assert!(written.contains(r#""salary":100000.00"#), "{written}");
}

#[test]
fn strings_are_kept_exactly_as_sent() {
    let request = file("accept-unicode.json");
    let profile = &request.data.app_user.profile;
    let text = |name: &str| profile.get_str(name).expect(name).into_owned();
    // No normalization: NFC and NFD stay different, as Okta compares them.
    assert_eq!(text("firstName"), "Ren\u{e9}e");
    assert_eq!(text("lastName"), "Rene\u{301}e");
    assert_eq!(text("nfcRaw"), "Zo\u{eb}");
    assert_eq!(text("nfdRaw"), "Zoe\u{308}");
    assert_ne!(text("nfcRaw"), text("nfdRaw"));
    // An escaped surrogate pair is the astral character itself.
    assert_eq!(text("astralRaw"), text("astralEscaped"));
    assert_eq!(text("astralRaw"), "\u{1d4ae}ally \u{1f600}");
    assert_eq!(
        text("escapes"),
        "quote \" backslash \\ slash / controls \u{8}\u{c}\n\r\t nul \u{0} del \u{7f}"
    );
    assert_eq!(
        text("invisible"),
        "zero\u{200b}width\u{200d}joiner\u{a0}nbsp\u{feff}bom"
    );
    assert_eq!(text("ключ"), "значение");
    // Keys are not normalized either: NFD and NFC "é" are two attributes.
    assert_eq!(text("e\u{301}"), "key in NFD");
    assert_eq!(text("\u{e9}"), "key in NFC");
    let user = &request.data.user.profile;
    assert_eq!(
        user.get_str("displayName").as_deref(),
        Some("Rene\u{301}e \u{1f469}\u{200d}\u{1f4bb}")
    );
}
