//! Finding where entries and elements lie in JSON text serde_json has already checked: the
//! scan only follows the structure (strings, nesting, commas), it never validates.

use super::{ESCAPED, Entry};

fn skip_ws(bytes: &[u8], mut at: usize) -> usize {
    while matches!(bytes.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// The index of the quote closing the string whose text starts at `at`, and whether the
/// string holds an escape.
fn string_end(bytes: &[u8], mut at: usize) -> (usize, bool) {
    let mut escaped = false;
    loop {
        match memchr::memchr2(b'"', b'\\', &bytes[at..]) {
            Some(offset) if bytes[at + offset] == b'\\' => {
                escaped = true;
                // The escaped byte is never the closing quote (`\"`), whatever it is.
                at += offset + 2;
            }
            Some(offset) => return (at + offset, escaped),
            None => return (bytes.len(), escaped),
        }
    }
}

/// The end (exclusive) of the value starting at `at`.
fn value_end(bytes: &[u8], at: usize) -> usize {
    match bytes.get(at) {
        Some(b'"') => string_end(bytes, at + 1).0 + 1,
        Some(b'[' | b'{') => {
            let mut depth = 0usize;
            let mut i = at;
            while let Some(&byte) = bytes.get(i) {
                match byte {
                    b'"' => i = string_end(bytes, i + 1).0,
                    b'[' | b'{' => depth += 1,
                    b']' | b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            bytes.len()
        }
        // A number or `true` / `false` / `null`: up to the next delimiter.
        _ => {
            let mut i = at;
            while !matches!(
                bytes.get(i),
                None | Some(b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
            ) {
                i += 1;
            }
            i
        }
    }
}

fn offset(at: usize) -> u32 {
    // The caller keeps texts below 2^31 bytes.
    u32::try_from(at).unwrap_or(u32::MAX) & !ESCAPED
}

/// The entries of the object `text` holds, and the names that hold an escape, decoded, one
/// after another (where such an entry's key points); `None` when it is not an object.
pub(super) fn object(text: &str) -> Option<(Vec<Entry>, String)> {
    let bytes = text.as_bytes();
    if bytes.first() != Some(&b'{') {
        return None;
    }
    let mut entries = Vec::new();
    let mut escaped_names = String::new();
    let mut at = skip_ws(bytes, 1);
    while bytes.get(at) == Some(&b'"') {
        let key = at + 1;
        let (key_end, escaped) = string_end(bytes, key);
        at = skip_ws(bytes, key_end + 1);
        // The colon.
        at = skip_ws(bytes, at + 1);
        let value = at;
        let end = value_end(bytes, value);
        let (key, key_end) = if escaped {
            let start = escaped_names.len();
            escaped_names.push_str(&decode_key(&text[key..key_end]));
            (offset(start) | ESCAPED, offset(escaped_names.len()))
        } else {
            (offset(key), offset(key_end))
        };
        entries.push(Entry {
            key,
            key_end,
            value: offset(value),
            value_end: offset(end),
        });
        at = skip_ws(bytes, end);
        if bytes.get(at) == Some(&b',') {
            at = skip_ws(bytes, at + 1);
        }
    }
    entries.shrink_to_fit();
    Some((entries, escaped_names))
}

/// The elements of the list `text` holds, each as its text.
pub(super) fn elements(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut at = if bytes.first() == Some(&b'[') {
        skip_ws(bytes, 1)
    } else {
        bytes.len()
    };
    std::iter::from_fn(move || {
        if matches!(bytes.get(at), None | Some(b']')) {
            return None;
        }
        let start = at;
        let end = value_end(bytes, start);
        at = skip_ws(bytes, end);
        if bytes.get(at) == Some(&b',') {
            at = skip_ws(bytes, at + 1);
        }
        Some(&text[start..end])
    })
}

/// A key's text (between its quotes) with its escapes read. A lone surrogate reads as
/// [`crate::INVALID_STRING_MARK`], so that the name is known to be unreadable.
pub(super) fn decode_key(raw: &str) -> String {
    let quoted = format!("\"{raw}\"");
    serde_json::from_str(&quoted)
        .ok()
        .or_else(|| {
            let marked = crate::mark_lone_surrogates(quoted.as_bytes())?;
            serde_json::from_slice(&marked).ok()
        })
        .unwrap_or_else(|| crate::INVALID_STRING_MARK.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(json: &str) -> Vec<(String, String)> {
        let (entries, escaped_names) = object(json).expect("object");
        entries
            .into_iter()
            .map(|e| {
                let names = if e.escaped() { &escaped_names } else { json };
                (
                    names[e.key_range()].to_owned(),
                    json[e.value_range()].to_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn entries_are_found_whatever_the_spacing_and_nesting() {
        let json = " {\"a\" : 1 ,\n\"b\\\"c\":\"x\\\\\",\"d\":[1,{\"e\":\"]}\"}],\"f\":{},\"g\":null,\"h\":-1.5e+3}";
        let json = json.trim_start();
        assert_eq!(
            texts(json),
            [
                ("a", "1"),
                ("b\"c", "\"x\\\\\""),
                ("d", "[1,{\"e\":\"]}\"}]"),
                ("f", "{}"),
                ("g", "null"),
                ("h", "-1.5e+3"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        assert!(object("{ }").expect("object").0.is_empty());
        assert!(object("[1]").is_none());
        let (escaped, names) = object(r#"{"a\u0062":1,"ab":2}"#).expect("object");
        assert!(escaped[0].escaped() && !escaped[1].escaped());
        assert_eq!(names, "ab");
        assert_eq!(decode_key(r"a\u0062"), "ab");
        assert_eq!(
            decode_key(r"x\ud800"),
            format!("x{}", crate::INVALID_STRING_MARK)
        );
    }

    #[test]
    fn elements_are_found() {
        let all: Vec<&str> = elements(r#"[ 1, "a,]" ,{"b":[2]} ,[],null ]"#).collect();
        assert_eq!(all, ["1", r#""a,]""#, r#"{"b":[2]}"#, "[]", "null"]);
        assert_eq!(elements("[]").count(), 0);
        assert_eq!(elements("[ ]").count(), 0);
        assert_eq!(elements("").count(), 0);
    }
}
