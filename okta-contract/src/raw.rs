//! Profiles and `matches` kept as the JSON text Okta sent: where a profile's attributes lie
//! in it is found when it is first read, and a value is parsed only when something reads it.
//! A strategy reads a handful of a profile's attributes, so a JSON tree of every value would
//! be built for nothing, and it would cost up to 65 times the body's size (a list of tiny
//! elements, each a value of its own). Kept as text, a profile costs its text, and once read
//! an index of 16 bytes an entry (room made for the most entries its text can hold);
//! `matches` costs its text.
//!
//! A value is read as serde_json reads it, at the time it is read: numbers losslessly, strings
//! exactly as sent. What serde_json checks only then (a lone UTF-16 surrogate, nesting 128
//! levels deep or more) makes that one value [`Unreadable`], not the request.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::Profile;

mod scan;

/// One JSON value as Okta sent it (its text, valid JSON, not yet read).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct JsonText<'a>(&'a str);

/// Why a value kept as text cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreadable {
    /// It holds a string (or a key) with a lone UTF-16 surrogate escape: valid JSON, but no
    /// Unicode text.
    InvalidString,
    /// It nests 128 levels deep or more (serde_json reads 127).
    TooDeep,
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidString => "it holds an invalid string (a lone UTF-16 surrogate)",
            Self::TooDeep => "it nests 128 levels deep or more",
        })
    }
}

impl std::error::Error for Unreadable {}

impl<'a> JsonText<'a> {
    /// The value's JSON text, exactly as sent.
    pub fn text(self) -> &'a str {
        self.0
    }

    /// The value, read as serde_json reads it (numbers losslessly, strings as sent).
    pub fn parse(self) -> Result<Value, Unreadable> {
        match serde_json::from_str::<Value>(self.0) {
            Ok(value) if crate::holds_invalid_string(&value) => Err(Unreadable::InvalidString),
            Ok(value) => Ok(value),
            // The text is valid JSON (it was checked when the body was read), so serde_json
            // refuses it only for a lone surrogate or its depth limit; marking the surrogates
            // tells which.
            Err(_) => match crate::mark_lone_surrogates(self.0.as_bytes()) {
                Some(_) => Err(Unreadable::InvalidString),
                None => Err(Unreadable::TooDeep),
            },
        }
    }

    /// The value's text when it is a JSON string (borrowed when it holds no escape); `None` for
    /// any other value, or a string that is not readable.
    pub fn as_str(self) -> Option<Cow<'a, str>> {
        let inner = self.0.strip_prefix('"')?.strip_suffix('"')?;
        if !inner.contains('\\') {
            return (!inner.contains(crate::INVALID_STRING_MARK)).then_some(Cow::Borrowed(inner));
        }
        match self.parse() {
            Ok(Value::String(text)) => Some(Cow::Owned(text)),
            _ => None,
        }
    }

    /// Whether the value reads as `value`: a string is compared without reading anything else,
    /// and a value that cannot be read is none.
    pub fn reads_as(self, value: &Value) -> bool {
        match value {
            Value::String(value) => self.as_str().is_some_and(|text| text == value.as_str()),
            _ => self.parse().is_ok_and(|read| read == *value),
        }
    }
}

impl fmt::Debug for JsonText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for JsonText<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Written back exactly as sent (serde_json's serializer copies raw text verbatim).
        let raw = RawValue::from_string(self.0.to_owned()).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

/// Where one attribute lies in its profile's text (byte offsets; the key's without quotes).
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Start of the key's text; with [`ESCAPED`] set, of its decoded text in
    /// [`Index::escaped_names`] instead.
    key: u32,
    key_end: u32,
    value: u32,
    value_end: u32,
}

/// Set in [`Entry::key`] when the key's text holds an escape: its name is then kept decoded,
/// once, beside the text.
const ESCAPED: u32 = 1 << 31;

/// Profiles of up to this many entries are searched in order; larger ones through an index by
/// name, built the first time a name is looked up.
const SEARCHED_IN_ORDER: usize = 32;

/// The longest profile text kept (offsets are 31 bits); a body is capped far below it.
const MAX_TEXT: usize = (ESCAPED - 1) as usize;

impl Entry {
    fn key_range(self) -> std::ops::Range<usize> {
        (self.key & !ESCAPED) as usize..self.key_end as usize
    }

    fn value_range(self) -> std::ops::Range<usize> {
        self.value as usize..self.value_end as usize
    }

    fn escaped(self) -> bool {
        self.key & ESCAPED != 0
    }
}

/// A profile as Okta sent it: attribute name to JSON value, in Okta's order, kept as the
/// object's text. Okta's schema says "string", but real payloads carry `null`, arrays and any
/// custom attribute type. A name sent twice reads as serde_json reads it: the last value, at
/// the first one's place.
///
/// Where each attribute lies is found the first time the profile is read, not when the body
/// is: a request no strategy reads (no plugins, or plugins that read only the envelope) costs
/// serde_json's check of the profile and one copy of its text.
#[derive(Clone, Default)]
pub struct RawProfile {
    /// The object's text exactly as sent (`{…}`), checked as JSON by serde_json; empty for the
    /// empty profile.
    text: Box<str>,
    /// Where its attributes lie, found when first read.
    index: OnceLock<Index>,
}

/// Where a profile's attributes lie in its text.
#[derive(Clone, Default)]
struct Index {
    /// Its entries in the text's order, repeated names included.
    entries: Vec<Entry>,
    /// The names that hold an escape, decoded, one after another.
    escaped_names: String,
    /// Entry positions sorted by name, then position, 4 bytes an entry: built the first time
    /// a name is looked up in a profile of more than [`SEARCHED_IN_ORDER`] entries, or the
    /// names are listed.
    by_name: OnceLock<Box<[u32]>>,
}

impl Index {
    /// Finds the entries of `text`, an object serde_json has checked (at most [`MAX_TEXT`]
    /// bytes, so every offset fits).
    fn of(text: &str) -> Self {
        let mut index = Self {
            // Room for as many entries as the text can hold, so that finding them never grows
            // the list: growing it holds the old and the new list at once, up to 48 bytes an
            // entry for a profile of `"":1,` (5 bytes), past what a body is charged. An entry
            // takes at least `"":` and one byte of value, and a comma before the next one.
            entries: Vec::with_capacity(text.len() / 5 + 1),
            ..Self::default()
        };
        // In bounds: the text is at most MAX_TEXT bytes, below 2^31.
        let offset = |at: usize| at as u32;
        for found in scan::entries(text) {
            let (key, key_end) = if found.key_escaped {
                let start = index.escaped_names.len();
                index
                    .escaped_names
                    .push_str(&decoded_name(&text[found.quoted_key.clone()]));
                (offset(start) | ESCAPED, offset(index.escaped_names.len()))
            } else {
                let quoted = &found.quoted_key;
                (offset(quoted.start + 1), offset(quoted.end - 1))
            };
            index.entries.push(Entry {
                key,
                key_end,
                value: offset(found.value.start),
                value_end: offset(found.value.end),
            });
        }
        index
    }
}

/// A key holding an escape, decoded as serde_json decodes it; a lone UTF-16 surrogate reads as
/// [`crate::INVALID_STRING_MARK`], as it does in a body holding one.
fn decoded_name(quoted: &str) -> String {
    serde_json::from_str::<String>(quoted)
        .ok()
        .or_else(|| {
            let marked = crate::mark_lone_surrogates(quoted.as_bytes())?;
            serde_json::from_slice::<String>(&marked).ok()
        })
        // Not reached for text serde_json has checked: the key as sent, without its quotes.
        .unwrap_or_else(|| quoted[1..quoted.len() - 1].to_owned())
}

/// The text is not one JSON object of at most [`MAX_TEXT`] bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAProfile;

impl fmt::Display for NotAProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a profile is a JSON object (of less than 2 GiB)")
    }
}

impl std::error::Error for NotAProfile {}

impl RawProfile {
    /// A profile from JSON text: one object. A key holding a lone UTF-16 surrogate reads
    /// with [`crate::INVALID_STRING_MARK`] in its place, as a body holding one does.
    pub fn from_json(text: &str) -> Result<Self, NotAProfile> {
        let checked = serde_json::from_str::<&RawValue>(text).map_err(|_| NotAProfile)?;
        Self::from_text(checked.get()).ok_or(NotAProfile)
    }

    /// A profile from one value's text serde_json has checked; `None` when it is not an
    /// object, or longer than [`MAX_TEXT`].
    pub(crate) fn from_text(text: &str) -> Option<Self> {
        (text.starts_with('{') && text.len() <= MAX_TEXT).then(|| Self {
            text: text.into(),
            index: OnceLock::new(),
        })
    }

    fn index(&self) -> &Index {
        self.index.get_or_init(|| Index::of(&self.text))
    }

    fn name<'p>(&'p self, index: &'p Index, entry: Entry) -> &'p str {
        if entry.escaped() {
            &index.escaped_names[entry.key_range()]
        } else {
            &self.text[entry.key_range()]
        }
    }

    fn value(&self, entry: Entry) -> JsonText<'_> {
        JsonText(&self.text[entry.value_range()])
    }

    /// The entry positions sorted by name, then position: built the first time it is needed.
    fn by_name<'p>(&'p self, index: &'p Index) -> &'p [u32] {
        index.by_name.get_or_init(|| {
            let mut order: Vec<u32> = (0..index.entries.len() as u32).collect();
            order.sort_by(|a, b| {
                let name = |at: &u32| self.name(index, index.entries[*at as usize]);
                name(a).cmp(name(b)).then(a.cmp(b))
            });
            order.into_boxed_slice()
        })
    }

    /// The value of `name`, if the profile has it (a `null` value is `Some`).
    pub fn get(&self, name: &str) -> Option<JsonText<'_>> {
        let index = self.index();
        let name_of = |entry: Entry| self.name(index, entry);
        // The last value of a repeated name wins, as serde_json reads an object.
        if index.entries.len() <= SEARCHED_IN_ORDER {
            let entry = index.entries.iter().rev().find(|e| name_of(**e) == name)?;
            return Some(self.value(*entry));
        }
        let by_name = self.by_name(index);
        // Past the last entry of `name`: the one before it, if it is `name`, is its last value.
        let end = by_name.partition_point(|at| name_of(index.entries[*at as usize]) <= name);
        let last = index.entries[*by_name.get(end.checked_sub(1)?)? as usize];
        (name_of(last) == name).then(|| self.value(last))
    }

    /// The text of `name` when it is a JSON string (see [`JsonText::as_str`]).
    pub fn get_str(&self, name: &str) -> Option<Cow<'_, str>> {
        self.get(name)?.as_str()
    }

    /// Whether the profile has `name`.
    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Whether the profile has no attribute.
    pub fn is_empty(&self) -> bool {
        self.index().entries.is_empty()
    }

    /// The number of attributes (a repeated name counts once).
    pub fn len(&self) -> usize {
        self.distinct().len()
    }

    /// The attribute names in Okta's order, each once.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.iter().map(|(name, _)| name)
    }

    /// Each attribute once, in Okta's order, with its value.
    pub fn iter(&self) -> impl Iterator<Item = (&str, JsonText<'_>)> {
        let index = self.index();
        self.distinct().into_iter().map(move |(first, last)| {
            let entry = |at: u32| index.entries[at as usize];
            (self.name(index, entry(first)), self.value(entry(last)))
        })
    }

    /// Each name once, as the positions of its first and last entries, in the order of the
    /// first ones: serde_json's reading of a name sent twice (the last value, at the first
    /// one's place). Read from the order by name, so that it costs 8 bytes a name beside the 4
    /// an entry that order keeps, and a body of many names no more than its size.
    fn distinct(&self) -> Vec<(u32, u32)> {
        let index = self.index();
        let by_name = self.by_name(index);
        let name_at = |at: u32| self.name(index, index.entries[at as usize]);
        // Counted first, so that the list is made once at its size (grown by doubling, it
        // would hold its old and new room at once).
        let names = 1 + by_name
            .windows(2)
            .filter(|pair| name_at(pair[0]) != name_at(pair[1]))
            .count();
        let mut out: Vec<(u32, u32)> = Vec::with_capacity(names.min(by_name.len()));
        for &at in by_name {
            match out.last_mut() {
                // Sorted by name, then position: a repeated name's entries are together.
                Some((first, last)) if name_at(*first) == name_at(at) => *last = at,
                _ => out.push((at, at)),
            }
        }
        out.sort_unstable_by_key(|&(first, _)| first);
        out
    }

    /// Every attribute read into a JSON map.
    pub fn to_map(&self) -> Result<Profile, Unreadable> {
        self.iter()
            .map(|(name, value)| Ok((name.to_owned(), value.parse()?)))
            .collect()
    }
}

impl From<&Profile> for RawProfile {
    fn from(profile: &Profile) -> Self {
        let text = serde_json::to_string(profile).expect("a JSON map serializes");
        Self::from_json(&text).expect("a JSON map is an object")
    }
}

impl PartialEq for RawProfile {
    /// Equal when they hold the same names in the same order with equal values (as read).
    fn eq(&self, other: &Self) -> bool {
        same_sequence(self.iter(), other.iter(), |(a, x), (b, y)| {
            a == b && same_value(x, y)
        })
    }
}

impl fmt::Debug for RawProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for RawProfile {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (name, value) in self.iter() {
            map.serialize_entry(&name, &value)?;
        }
        map.end()
    }
}

/// A JSON list as Okta sent it (`matches`), kept as its text; its elements are found when read.
#[derive(Clone, Default)]
pub struct RawList {
    /// The list's text (`[…]`), or empty for an empty list.
    text: Box<str>,
}

impl RawList {
    /// A list from JSON text serde_json has checked; `None` when it is not a list.
    pub(crate) fn from_text(text: &str) -> Option<Self> {
        text.starts_with('[').then(|| Self { text: text.into() })
    }

    /// The elements, in order.
    pub fn iter(&self) -> impl Iterator<Item = JsonText<'_>> {
        scan::elements(&self.text).map(JsonText)
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether the list has no element.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// Every element read.
    pub fn to_values(&self) -> Result<Vec<Value>, Unreadable> {
        self.iter().map(JsonText::parse).collect()
    }
}

impl From<Vec<Value>> for RawList {
    fn from(values: Vec<Value>) -> Self {
        let text = serde_json::to_string(&values).expect("a JSON list serializes");
        Self { text: text.into() }
    }
}

impl PartialEq for RawList {
    fn eq(&self, other: &Self) -> bool {
        same_sequence(self.iter(), other.iter(), same_value)
    }
}

/// Whether two sequences are as long and `same` holds for each pair.
fn same_sequence<T>(
    mut mine: impl Iterator<Item = T>,
    mut theirs: impl Iterator<Item = T>,
    same: impl Fn(T, T) -> bool,
) -> bool {
    loop {
        match (mine.next(), theirs.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) => {
                if !same(x, y) {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// Whether two values are equal as read (`1.0` and `1.00` differ, `"\u0061"` and `"a"` do
/// not); a value that cannot be read equals only the same text.
fn same_value(x: JsonText<'_>, y: JsonText<'_>) -> bool {
    x == y || matches!((x.parse(), y.parse()), (Ok(a), Ok(b)) if a == b)
}

impl fmt::Debug for RawList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for RawList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut list = serializer.serialize_seq(None)?;
        for element in self.iter() {
            list.serialize_element(&element)?;
        }
        list.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn profile(text: &str) -> RawProfile {
        RawProfile::from_json(text).expect("object")
    }

    #[test]
    fn values_are_read_when_asked_exactly_as_sent() {
        let p = profile(
            r#"{"login": "a@x.io", "n": 1.50, "big": 1e400, "l": [1, {"a": null}], "z": null}"#,
        );
        assert_eq!(p.get("n").map(JsonText::text), Some("1.50"));
        let big = p.get("big").expect("big").parse().expect("readable");
        assert_eq!(big.to_string(), "1e+400");
        assert_eq!(p.get("l").expect("l").parse(), Ok(json!([1, {"a": null}])));
        assert_eq!(p.get("z").map(JsonText::text), Some("null"));
        assert_eq!(p.get("missing"), None);
        assert!(matches!(p.get_str("login"), Some(Cow::Borrowed("a@x.io"))));
        assert_eq!(p.get_str("n"), None);
        assert_eq!(
            p.names().collect::<Vec<_>>(),
            ["login", "n", "big", "l", "z"]
        );
        assert_eq!(p.len(), 5);
        // Written back as sent.
        assert_eq!(
            serde_json::to_string(&p).expect("json"),
            r#"{"login":"a@x.io","n":1.50,"big":1e400,"l":[1, {"a": null}],"z":null}"#
        );
    }

    #[test]
    fn escaped_names_and_strings_read_as_their_text() {
        let p = profile(r#"{"a\u0062": "x\u0040y", "q\"": "\"", "é": "\u00e9"}"#);
        assert_eq!(p.get_str("ab").as_deref(), Some("x@y"));
        assert_eq!(p.get_str("q\"").as_deref(), Some("\""));
        assert_eq!(p.get_str("é").as_deref(), Some("é"));
        assert!(p.contains_key("ab") && !p.contains_key("a\\u0062"));
        assert_eq!(p.names().collect::<Vec<_>>(), ["ab", "q\"", "é"]);
    }

    #[test]
    fn a_repeated_name_reads_as_serde_json_reads_an_object() {
        let text = r#"{"a": 1, "b": 2, "a": 3}"#;
        let p = profile(text);
        let map: Profile = serde_json::from_str(text).expect("map");
        assert_eq!(p.to_map(), Ok(map.clone()));
        assert_eq!(p.get("a").map(JsonText::text), Some("3"));
        assert_eq!(p.names().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(p.len(), 2);
        assert_eq!(p, RawProfile::from(&map));
    }

    #[test]
    fn only_the_value_that_cannot_be_read_is_unreadable() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let p = profile(&format!(
            r#"{{"ok": "x", "bad": "\ud800", "deep": {deep}, "k\udc00": 1}}"#
        ));
        assert_eq!(p.get("ok").expect("ok").parse(), Ok(json!("x")));
        assert_eq!(
            p.get("bad").expect("bad").parse(),
            Err(Unreadable::InvalidString)
        );
        assert_eq!(p.get_str("bad"), None);
        assert_eq!(
            p.get("deep").expect("deep").parse(),
            Err(Unreadable::TooDeep)
        );
        let marked = format!("k{}", crate::INVALID_STRING_MARK);
        assert!(p.names().any(|name| name == marked));
        // A string already marked (the host marks a body a strict parse refuses) is unreadable.
        let marked = profile(r#"{"a": "\uFDD0"}"#);
        assert_eq!(
            marked.get("a").expect("a").parse(),
            Err(Unreadable::InvalidString)
        );
        assert_eq!(marked.get_str("a"), None);
    }

    #[test]
    fn a_large_profile_is_looked_up_by_name_as_a_small_one_is() {
        // Past SEARCHED_IN_ORDER entries, through the index by name: repeated and escaped names
        // included, the last value wins, absent names are absent.
        let mut text = String::from("{");
        for i in 0..100 {
            text.push_str(&format!(r#""a{i}":{i},"\u0062{i}":"b{i}","#));
        }
        text.push_str(r#""a7":"last","":0,"\u0061":1}"#);
        let p = profile(&text);
        let map: Profile = serde_json::from_str(&text).expect("map");
        for (name, value) in &map {
            assert_eq!(
                p.get(name).expect(name).parse().as_ref(),
                Ok(value),
                "{name}"
            );
        }
        assert_eq!(p.get_str("a7").as_deref(), Some("last"));
        assert_eq!(p.get_str("b42").as_deref(), Some("b42"));
        for absent in ["a100", "b", "\\u0062", "zzz", "a-1"] {
            assert!(
                p.get(absent).is_none() && !p.contains_key(absent),
                "{absent}"
            );
        }
        assert_eq!(p.len(), map.len());
        assert_eq!(
            p.names().collect::<Vec<_>>(),
            map.keys().map(String::as_str).collect::<Vec<_>>()
        );
    }

    #[test]
    fn unreadable_values_equal_only_the_same_text() {
        assert_ne!(
            profile(r#"{"a": "x\ud800"}"#),
            profile(r#"{"a": "y\ud800"}"#)
        );
        assert_eq!(
            profile(r#"{"a": "x\ud800"}"#),
            profile(r#"{"a":"x\ud800"}"#)
        );
        let list = RawList::from_text;
        assert_ne!(list(r#"["x\ud800"]"#), list(r#"["y\ud800"]"#));
        assert_eq!(list(r#"["\u0061", 1.0]"#), list(r#"["a", 1.0]"#));
        assert_ne!(list("[1.0]"), list("[1.00]"));
    }

    #[test]
    fn serde_json_reads_127_levels_and_no_more() {
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let p = profile(&format!(
            r#"{{"ok": {}, "deep": {}}}"#,
            nested(127),
            nested(128)
        ));
        assert!(p.get("ok").expect("ok").parse().is_ok());
        assert_eq!(
            p.get("deep").expect("deep").parse(),
            Err(Unreadable::TooDeep)
        );
    }

    #[test]
    fn a_value_reads_as_what_serde_json_reads() {
        let p = profile(r#"{"s": "a\u0040b", "n": 1.0, "bad": "\ud800", "l": [1]}"#);
        let reads_as = |name, value: Value| p.get(name).expect(name).reads_as(&value);
        assert!(reads_as("s", json!("a@b")) && !reads_as("s", json!("a\\u0040b")));
        assert!(reads_as("l", json!([1])) && !reads_as("l", json!(["1"])));
        let one: Value = serde_json::from_str("1.0").expect("number");
        assert!(reads_as("n", one) && !reads_as("n", json!(1)));
        assert!(!reads_as("bad", json!("\u{FDD0}")) && !reads_as("bad", json!(null)));
    }

    #[test]
    fn only_an_object_is_a_profile() {
        for text in ["[]", "1", "\"a\"", "null", "{", ""] {
            assert_eq!(RawProfile::from_json(text), Err(NotAProfile), "{text}");
        }
        let empty = RawProfile::default();
        assert!(empty.is_empty() && empty.get("a").is_none());
        assert_eq!(empty, profile("{ }"));
        assert_eq!(serde_json::to_string(&empty).expect("json"), "{}");
    }

    #[test]
    fn lists_are_split_when_read() {
        let list = RawList::from_text(r#"[ "00u1", {"id": "00u2"}, 1e400 ]"#).expect("list");
        assert_eq!(list.len(), 3);
        let values = list.to_values().expect("readable");
        assert_eq!(values[..2], [json!("00u1"), json!({"id": "00u2"})]);
        assert_eq!(values[2].to_string(), "1e+400");
        assert_eq!(list, RawList::from(values));
        assert!(RawList::default().is_empty());
        assert_eq!(
            serde_json::to_string(&list).expect("json"),
            r#"["00u1",{"id": "00u2"},1e400]"#
        );
    }
}
