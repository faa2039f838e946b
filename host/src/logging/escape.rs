//! Strings as the log's formats escape them: Rust's `Debug` for a text field's value,
//! tracing-subscriber's terminal sanitizing for a text message, serde_json's rules for JSON.
//! Each copies a string needing no escaping in one piece.

use std::fmt::Write as _;

/// `value` as `{:?}` writes it: copied between quotes when it is printable ASCII without `"`
/// or `\`, else through `Debug` (which escapes by Unicode's tables).
pub(super) fn debug_str(line: &mut String, value: &str) {
    let escaped = |b: u8| !(0x20..0x7f).contains(&b) || b == b'"' || b == b'\\';
    if !value.bytes().fold(false, |any, b| any | escaped(b)) {
        line.push('"');
        line.push_str(value);
        line.push('"');
    } else {
        let _ = write!(line, "{value:?}");
    }
}

/// Escapes, from `start` on, the terminal control characters tracing-subscriber escapes in a
/// message (ESC, BEL, BS, FF, DEL and the C1 controls).
pub(super) fn sanitize_from(line: &mut String, start: usize) {
    let control = |c: char| {
        matches!(
            c,
            '\x1b' | '\x07' | '\x08' | '\x0c' | '\x7f' | '\u{80}'..='\u{9f}'
        )
    };
    if !line[start..].contains(control) {
        return;
    }
    let raw = line.split_off(start);
    for c in raw.chars() {
        match c {
            '\x1b' => line.push_str("\\x1b"),
            '\x07' => line.push_str("\\x07"),
            '\x08' => line.push_str("\\x08"),
            '\x0c' => line.push_str("\\x0c"),
            '\x7f' => line.push_str("\\x7f"),
            c if control(c) => {
                let _ = write!(line, "\\u{{{:x}}}", c as u32);
            }
            c => line.push(c),
        }
    }
}

/// Bytes serde_json escapes in a string.
pub(super) fn json_escaped(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// `value` as serde_json writes a string.
pub(super) fn json_str(line: &mut String, value: &str) {
    line.push('"');
    escape_json_into(line, value);
    line.push('"');
}

/// `value`'s characters as serde_json escapes them inside a string.
pub(super) fn escape_json_into(line: &mut String, value: &str) {
    // Without an early exit the check compiles to a loop over several bytes at a time.
    if !value.bytes().fold(false, |any, b| any | json_escaped(b)) {
        line.push_str(value);
        return;
    }
    let mut plain = 0;
    for (at, b) in value.bytes().enumerate() {
        if !json_escaped(b) {
            continue;
        }
        line.push_str(&value[plain..at]);
        plain = at + 1;
        match b {
            b'"' => line.push_str("\\\""),
            b'\\' => line.push_str("\\\\"),
            b'\n' => line.push_str("\\n"),
            b'\r' => line.push_str("\\r"),
            b'\t' => line.push_str("\\t"),
            0x08 => line.push_str("\\b"),
            0x0c => line.push_str("\\f"),
            b => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                line.push_str("\\u00");
                line.push(char::from(HEX[usize::from(b >> 4)]));
                line.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
    }
    line.push_str(&value[plain..]);
}
