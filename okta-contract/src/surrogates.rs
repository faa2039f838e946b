//! Lone UTF-16 surrogates in JSON strings (`"\ud800"` with no low half after it): valid JSON
//! text, but no Unicode string, so a strict parser refuses the whole body. Okta's answer to a
//! refused body is to create the user with the conflict unresolved, which would punish every
//! attribute of the request for one that maybe no strategy reads. So the host reads such a body
//! leniently: each lone surrogate becomes [`INVALID_STRING_MARK`], and only reading a value
//! that holds it is refused (a plugin's read of it fails that call, which its `on_error`
//! handles).

/// What a lone surrogate escape is read as: U+FDD0, a Unicode noncharacter ("permanently
/// reserved for internal use"), which no Okta profile holds.
pub const INVALID_STRING_MARK: char = '\u{FDD0}';

/// `body` with every lone surrogate escape (`\uD800`–`\uDFFF` not part of a high-low pair)
/// inside a JSON string replaced by `\uFDD0`; `None` when it has none. Escapes are only read
/// inside strings, and `\\u` (an escaped backslash, then `u`) is not an escape of `u`.
pub fn mark_lone_surrogates(body: &[u8]) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    let mut in_string = false;
    let mut i = 0;
    while i < body.len() {
        let byte = body[i];
        if !in_string {
            in_string = byte == b'"';
            i += 1;
            continue;
        }
        match byte {
            b'"' => {
                in_string = false;
                i += 1;
            }
            b'\\' if body.get(i + 1) == Some(&b'u') => {
                let unit = hex4(body, i + 2);
                let next = (body.get(i + 6) == Some(&b'\\') && body.get(i + 7) == Some(&b'u'))
                    .then(|| hex4(body, i + 8))
                    .flatten();
                match unit {
                    Some(0xD800..=0xDBFF) if matches!(next, Some(0xDC00..=0xDFFF)) => i += 12,
                    Some(0xD800..=0xDFFF) => {
                        let buffer = out.get_or_insert_with(|| body.to_vec());
                        buffer[i..i + 6].copy_from_slice(b"\\uFDD0");
                        i += 6;
                    }
                    _ => i += 2,
                }
            }
            // Any other escape is two bytes (`\"`, `\\`, `\n`, ...).
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    out
}

/// `read(body)`; when that fails and `body` holds a lone surrogate escape, `read` of the body
/// with each marked ([`mark_lone_surrogates`]) instead. The error, when both fail, is the
/// body's own.
pub(crate) fn read_marked_if_refused<T, E>(
    body: &[u8],
    read: impl Fn(&[u8]) -> Result<T, E>,
) -> Result<T, E> {
    read(body).or_else(|e| match mark_lone_surrogates(body) {
        Some(marked) => read(&marked).map_err(|_| e),
        None => Err(e),
    })
}

/// The four hex digits at `at`, if there are four.
fn hex4(body: &[u8], at: usize) -> Option<u32> {
    let digits = body.get(at..at + 4)?;
    let text = std::str::from_utf8(digits).ok()?;
    u32::from_str_radix(text, 16).ok()
}

/// Whether `value` holds a string (or a key) read from a lone surrogate.
pub fn holds_invalid_string(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(text) => text.contains(INVALID_STRING_MARK),
        Value::Array(items) => items.iter().any(holds_invalid_string),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| k.contains(INVALID_STRING_MARK) || holds_invalid_string(v)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(body: &str) -> Option<String> {
        mark_lone_surrogates(body.as_bytes()).map(|b| String::from_utf8(b).expect("utf-8"))
    }

    #[test]
    fn only_lone_surrogates_inside_strings_are_marked() {
        assert_eq!(
            marked(r#"{"a":"x\ud800y"}"#).as_deref(),
            Some(r#"{"a":"x\uFDD0y"}"#)
        );
        assert_eq!(
            marked(r#"{"a":"\udc00"}"#).as_deref(),
            Some(r#"{"a":"\uFDD0"}"#)
        );
        // A high half at the end of a string, then another string starting with a low half.
        assert_eq!(
            marked(r#"["\uD83D","\uDE00"]"#).as_deref(),
            Some(r#"["\uFDD0","\uFDD0"]"#)
        );
        // A proper pair, other escapes, an escaped backslash before `ud800`: untouched.
        assert_eq!(marked(r#"{"a":"\ud83d\ude00 \u00e9 \" \\ud800"}"#), None);
        assert_eq!(marked(r#"{"a":1}"#), None);
        // Two lone highs in a row: both marked.
        assert_eq!(
            marked(r#"{"a":"\ud800\ud800"}"#).as_deref(),
            Some(r#"{"a":"\uFDD0\uFDD0"}"#)
        );
        let value: serde_json::Value =
            serde_json::from_str(&marked(r#"{"a":["ok","x\ud800"]}"#).expect("marked"))
                .expect("parses once marked");
        assert!(holds_invalid_string(&value));
        assert!(!holds_invalid_string(&serde_json::json!({"a": ["ok"]})));
    }
}
