//! Escaping untrusted values (profile data) for each context of the HTML page they land in.

use std::fmt::Write as _;

/// For HTML text content.
pub(crate) fn text(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // NUL is dropped by HTML parsers in some contexts and replaced in others: make it visible.
            '\0' => out.push('\u{FFFD}'),
            _ => out.push(c),
        }
    }
}

/// For a double-quoted attribute value (every attribute the page writes is double-quoted).
pub(crate) fn attr(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\0' => out.push('\u{FFFD}'),
            _ => out.push(c),
        }
    }
}

/// JSON for inside a `<script>` element: serde_json's output with every `<`, `>` and `&` written as
/// a `\u` escape (only possible inside JSON strings, where the escape means the same character), so
/// neither `</script>` nor `<!--` can appear, and U+2028/U+2029 escaped, which older JavaScript
/// parsers read as line ends.
pub(crate) fn json_for_script<T: serde::Serialize>(value: &T) -> serde_json::Result<String> {
    let json = serde_json::to_string(value)?;
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            _ => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_escape_markup_and_quotes() {
        let hostile = "</td><script>alert(\"x\")</script>&'";
        let mut t = String::new();
        text(&mut t, hostile);
        assert_eq!(
            t,
            "&lt;/td&gt;&lt;script&gt;alert(\"x\")&lt;/script&gt;&amp;'"
        );
        let mut a = String::new();
        attr(&mut a, hostile);
        assert_eq!(
            a,
            "&lt;/td&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"
        );
    }

    #[test]
    fn json_in_a_script_cannot_close_it_and_reads_back_the_same() {
        let hostile = "</script><!-- <script> \u{2028}\u{2029} & \"q\"";
        let json = json_for_script(&hostile).unwrap();
        for bad in ["<", ">", "&", "\u{2028}", "\u{2029}"] {
            assert!(!json.contains(bad), "{bad:?} in {json}");
        }
        assert_eq!(serde_json::from_str::<String>(&json).unwrap(), hostile);
    }
}
