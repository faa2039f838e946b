//! Finding where a list's elements lie in JSON text serde_json has already checked: the scan
//! only follows the structure (strings, nesting, commas), it never validates.

fn skip_ws(bytes: &[u8], mut at: usize) -> usize {
    while matches!(bytes.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// The index of the quote closing the string whose text starts at `at`.
fn string_end(bytes: &[u8], mut at: usize) -> usize {
    loop {
        match memchr::memchr2(b'"', b'\\', &bytes[at..]) {
            // The escaped byte is never the closing quote (`\"`), whatever it is.
            Some(offset) if bytes[at + offset] == b'\\' => at += offset + 2,
            Some(offset) => return at + offset,
            None => return bytes.len(),
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
}
