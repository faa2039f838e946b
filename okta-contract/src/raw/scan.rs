//! Finding where a list's elements and an object's entries lie in JSON text serde_json has
//! already checked: the scan only follows the structure (strings, nesting, commas, colons), it
//! never validates.

use std::ops::Range;

fn skip_ws(bytes: &[u8], mut at: usize) -> usize {
    while matches!(bytes.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// The index of the quote closing the string whose text starts at `at`.
fn string_end(bytes: &[u8], at: usize) -> usize {
    string_end_escaped(bytes, at).0
}

/// The index of the quote closing the string whose text starts at `at`, and whether the
/// string holds an escape.
fn string_end_escaped(bytes: &[u8], mut at: usize) -> (usize, bool) {
    let mut escaped = false;
    loop {
        match memchr::memchr2(b'"', b'\\', bytes.get(at..).unwrap_or_default()) {
            // The escaped byte is never the closing quote (`\"`), whatever it is.
            Some(offset) if bytes[at + offset] == b'\\' => {
                escaped = true;
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
        Some(b'"') => string_end(bytes, at + 1) + 1,
        Some(b'[' | b'{') => {
            let mut depth = 0usize;
            let mut i = at;
            while let Some(&byte) = bytes.get(i) {
                match byte {
                    b'"' => i = string_end(bytes, i + 1),
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

/// Where the first member of the list or object `bytes` holds lies, when it opens with
/// `open`; past the end when it does not.
fn first_member(bytes: &[u8], open: u8) -> usize {
    if bytes.first() == Some(&open) {
        skip_ws(bytes, 1)
    } else {
        bytes.len()
    }
}

/// Where the member after the value ending at `end` lies: past the spacing and the comma.
fn next_member(bytes: &[u8], end: usize) -> usize {
    let at = skip_ws(bytes, end);
    if bytes.get(at) == Some(&b',') {
        skip_ws(bytes, at + 1)
    } else {
        at
    }
}

/// The elements of the list `text` holds, each as its text.
pub(super) fn elements(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut at = first_member(bytes, b'[');
    std::iter::from_fn(move || {
        if matches!(bytes.get(at), None | Some(b']')) {
            return None;
        }
        let start = at;
        let end = value_end(bytes, start);
        at = next_member(bytes, end);
        Some(&text[start..end])
    })
}

/// One entry of an object's text.
pub(super) struct Found {
    /// The key's text with its quotes.
    pub(super) quoted_key: Range<usize>,
    /// Whether the key holds an escape.
    pub(super) key_escaped: bool,
    /// The value's text.
    pub(super) value: Range<usize>,
}

/// The entries of the object `text` holds, in order.
pub(super) fn entries(text: &str) -> impl Iterator<Item = Found> {
    let bytes = text.as_bytes();
    let mut at = first_member(bytes, b'{');
    std::iter::from_fn(move || {
        if bytes.get(at) != Some(&b'"') {
            return None;
        }
        let (key_end, key_escaped) = string_end_escaped(bytes, at + 1);
        let quoted_key = at..(key_end + 1).min(bytes.len());
        // Past the key, the colon and the space around it.
        let colon = skip_ws(bytes, quoted_key.end);
        let start = skip_ws(bytes, colon + 1);
        let end = value_end(bytes, start).min(bytes.len());
        at = next_member(bytes, end);
        Some(Found {
            quoted_key,
            key_escaped,
            value: start.min(end)..end,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_are_found() {
        let all: Vec<&str> = elements(r#"[ 1, "a,]" ,{"b":[2]} ,[],null ]"#).collect();
        assert_eq!(all, ["1", r#""a,]""#, r#"{"b":[2]}"#, "[]", "null"]);
        assert_eq!(elements("[]").count(), 0);
        assert_eq!(elements("[ ]").count(), 0);
        assert_eq!(elements("").count(), 0);
    }

    #[test]
    fn entries_are_found() {
        let text = r#"{ "a" : 1 ,"b\\\"":{"c":[1,"}"]}, "":"x\"y" ,"n":null}"#;
        let all: Vec<(&str, bool, &str)> = entries(text)
            .map(|found| {
                (
                    &text[found.quoted_key],
                    found.key_escaped,
                    &text[found.value],
                )
            })
            .collect();
        assert_eq!(
            all,
            [
                (r#""a""#, false, "1"),
                (r#""b\\\"""#, true, r#"{"c":[1,"}"]}"#),
                (r#""""#, false, r#""x\"y""#),
                (r#""n""#, false, "null"),
            ]
        );
        assert_eq!(entries("{}").count(), 0);
        assert_eq!(entries("{ }").count(), 0);
        assert_eq!(entries("").count(), 0);
    }
}
