//! The lenient reading of Okta's request, streamed: each field is deserialized straight into
//! its typed place by the crate's rules, with no JSON tree built for the envelope first (its
//! keys are matched where they lie in the body, unknown ones skipped without being kept).
//! Profiles and `matches` are kept as their JSON text ([`crate::raw`]), checked and copied,
//! not read.

use std::fmt;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::raw::{RawList, RawProfile};
use compact_str::CompactString;

mod envelope;

/// serde_json's key for a number read losslessly (`arbitrary_precision`): such a number
/// reaches a visitor as a map holding this one key.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// serde_json's name for a value read as its text (`raw_value`): its deserializer hands such a
/// value over as a map of this one key to the text.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// Every path that can be noted irregular, in the order they are reported (outer before inner,
/// whatever order the body has them in).
const PATHS: &[&str] = &[
    "eventId",
    "eventTime",
    "eventTypeVersion",
    "source",
    "data",
    "data.appUser",
    "data.user",
    "data.action",
    "data.context",
    "data.action.result",
    "data.appUser.profile",
    "data.user.id",
    "data.user.profile",
    "data.context.application",
    "data.context.application.id",
    "data.context.application.name",
    "data.context.application.label",
    "data.context.application.status",
    "data.context.job",
    "data.context.job.id",
    "data.context.job.type",
    "data.context.conflicts",
    "data.context.matches",
    "data.context.policy",
];

/// The paths of irregular values met so far.
#[derive(Default)]
struct Notes(Vec<&'static str>);

impl Notes {
    fn note(&mut self, path: &'static str) {
        if !self.0.contains(&path) {
            self.0.push(path);
        }
    }

    fn into_ordered(mut self) -> Vec<&'static str> {
        self.0
            .sort_by_key(|path| PATHS.iter().position(|p| p == path));
        self.0
    }
}

/// An object key or a value's text, borrowed from the body when serde_json lends it (a key that
/// holds no escape; a value's text always, from a body).
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Self::Borrowed(key) => key,
            Self::Owned(key) => key,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(key))
            }
            fn visit_str<E>(self, key: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(key.to_owned()))
            }
            fn visit_string<E>(self, key: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(key))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// One value's JSON text: borrowed from the body when serde_json reads text (as its
/// `&RawValue`), owned when it reads a `Value` (as its `Box<RawValue>`). serde_json offers no
/// one type for both; this follows its protocol for them. `Plain` is a string handed over
/// where a value's text was asked for: what a lossless number's one entry holds (its digits),
/// never a value of an object.
enum ValueText<'de> {
    Json(Key<'de>),
    Plain,
}

impl<'de> Deserialize<'de> for ValueText<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Token;
        impl<'de> Visitor<'de> for Token {
            type Value = ValueText<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value's text")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                match map.next_key::<Key<'de>>()? {
                    // The text comes as a string, borrowed when it can be (as a key's).
                    Some(key) if key.as_str() == RAW_VALUE_TOKEN => {
                        Ok(ValueText::Json(map.next_value()?))
                    }
                    _ => Err(serde::de::Error::custom("not a JSON value's text")),
                }
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(ValueText::Plain)
            }
        }
        deserializer.deserialize_newtype_struct(RAW_VALUE_TOKEN, Token)
    }
}

/// What one JSON value turned out to be, for a field expecting some shape.
enum Read<T> {
    /// `null`.
    Absent,
    /// The expected shape.
    Got(T),
    /// Anything else, read whole and dropped.
    Other,
}

/// The shape a field expects. What a method does not take is read whole and is
/// [`Read::Other`].
trait Expect<'de>: Sized {
    type Out;
    fn text(self, _text: &str) -> Option<Self::Out> {
        None
    }
    fn seq<A: SeqAccess<'de>>(
        self,
        mut seq: A,
        _notes: &mut Notes,
    ) -> Result<Option<Self::Out>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn map<A: MapAccess<'de>>(
        self,
        mut map: A,
        _notes: &mut Notes,
    ) -> Result<Option<Self::Out>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// Reads one value of any shape, handing the expected one to `E`.
struct Lenient<'n, E> {
    notes: &'n mut Notes,
    expect: E,
}

impl<'de, E: Expect<'de>> DeserializeSeed<'de> for Lenient<'_, E> {
    type Value = Read<E::Out>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

fn got<T>(out: Option<T>) -> Read<T> {
    out.map_or(Read::Other, Read::Got)
}

impl<'de, E: Expect<'de>> Visitor<'de> for Lenient<'_, E> {
    type Value = Read<E::Out>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<Er>(self) -> Result<Self::Value, Er> {
        Ok(Read::Absent)
    }
    fn visit_none<Er>(self) -> Result<Self::Value, Er> {
        Ok(Read::Absent)
    }
    fn visit_some<D: Deserializer<'de>>(self, inner: D) -> Result<Self::Value, D::Error> {
        inner.deserialize_any(self)
    }
    fn visit_bool<Er>(self, _: bool) -> Result<Self::Value, Er> {
        Ok(Read::Other)
    }
    fn visit_i64<Er>(self, _: i64) -> Result<Self::Value, Er> {
        Ok(Read::Other)
    }
    fn visit_u64<Er>(self, _: u64) -> Result<Self::Value, Er> {
        Ok(Read::Other)
    }
    fn visit_f64<Er>(self, _: f64) -> Result<Self::Value, Er> {
        Ok(Read::Other)
    }
    fn visit_str<Er>(self, text: &str) -> Result<Self::Value, Er> {
        Ok(got(self.expect.text(text)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Ok(got(self.expect.seq(seq, self.notes)?))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Ok(got(self.expect.map(map, self.notes)?))
    }
}

/// Reads the value of the current key; `None` when it is `null` or, noted at `path`, of
/// another shape than `expect`'s.
fn field<'de, A: MapAccess<'de>, E: Expect<'de>>(
    map: &mut A,
    notes: &mut Notes,
    path: &'static str,
    expect: E,
) -> Result<Option<E::Out>, A::Error> {
    Ok(
        match map.next_value_seed(Lenient {
            notes: &mut *notes,
            expect,
        })? {
            Read::Absent => None,
            Read::Got(out) => Some(out),
            Read::Other => {
                notes.note(path);
                None
            }
        },
    )
}

/// Walks an object's entries, `entry` reading each value; `false` when the "object" was a
/// number read losslessly (then it is consumed and nothing else is read). An object whose
/// first name is serde_json's number token is still an object: that entry, which no field of
/// the envelope has, is skipped.
fn entries<'de, A: MapAccess<'de>>(
    map: &mut A,
    mut entry: impl FnMut(Key<'de>, &mut A) -> Result<(), A::Error>,
) -> Result<bool, A::Error> {
    let mut first = true;
    while let Some(key) = map.next_key::<Key<'de>>()? {
        if first && key.as_str() == NUMBER_TOKEN {
            first = false;
            match map.next_value()? {
                ValueText::Plain => return Ok(false),
                ValueText::Json(_) => continue,
            }
        }
        first = false;
        entry(key, map)?;
    }
    Ok(true)
}

/// A string.
struct Text;

impl Expect<'_> for Text {
    type Out = CompactString;
    fn text(self, text: &str) -> Option<CompactString> {
        Some(CompactString::new(text))
    }
}

/// A list of strings; `null` elements are dropped, other elements noted at the path.
struct Strings(&'static str);

impl<'de> Expect<'de> for Strings {
    type Out = Vec<CompactString>;
    fn seq<A: SeqAccess<'de>>(
        self,
        mut seq: A,
        notes: &mut Notes,
    ) -> Result<Option<Vec<CompactString>>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        loop {
            let element = seq.next_element_seed(Lenient {
                notes: &mut *notes,
                expect: Text,
            })?;
            match element {
                None => break,
                Some(Read::Got(text)) => out.push(text),
                Some(Read::Absent) => {}
                Some(Read::Other) => notes.note(self.0),
            }
        }
        Ok(Some(out))
    }
}

/// A profile, kept as its text ([`RawProfile`]): serde_json checks it and the text is copied
/// once; where its attributes lie is found when something first reads it.
fn profile<'de, A: MapAccess<'de>>(
    map: &mut A,
    notes: &mut Notes,
    path: &'static str,
) -> Result<RawProfile, A::Error> {
    kept_as_text(map, notes, path, RawProfile::from_text)
}

/// A list of JSON values kept as its text ([`RawList`]).
fn list<'de, A: MapAccess<'de>>(
    map: &mut A,
    notes: &mut Notes,
    path: &'static str,
) -> Result<RawList, A::Error> {
    kept_as_text(map, notes, path, RawList::from_text)
}

/// Reads the current key's value as its text, kept by `keep` when it has the shape `keep`
/// takes; `null` is the default, any other shape is noted at `path`.
fn kept_as_text<'de, A: MapAccess<'de>, T: Default>(
    map: &mut A,
    notes: &mut Notes,
    path: &'static str,
    keep: fn(&str) -> Option<T>,
) -> Result<T, A::Error> {
    let kept = match map.next_value()? {
        ValueText::Json(text) if text.as_str() == "null" => return Ok(T::default()),
        ValueText::Json(text) => keep(text.as_str()),
        ValueText::Plain => None,
    };
    if kept.is_none() {
        notes.note(path);
    }
    Ok(kept.unwrap_or_default())
}

/// A part of the envelope that is an object of known fields.
trait Fields: Default {
    /// Reads the value of `key` (consuming it, known or not).
    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        notes: &mut Notes,
    ) -> Result<(), A::Error>;
}

/// An object read into `T`.
struct Object<T>(std::marker::PhantomData<T>);

fn object<T>() -> Object<T> {
    Object(std::marker::PhantomData)
}

impl<'de, T: Fields> Expect<'de> for Object<T> {
    type Out = T;
    fn map<A: MapAccess<'de>>(self, mut map: A, notes: &mut Notes) -> Result<Option<T>, A::Error> {
        let mut out = T::default();
        let object = entries(&mut map, |key, map| out.field(key.as_str(), map, notes))?;
        Ok(object.then_some(out))
    }
}

fn skip<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<IgnoredAny>().map(drop)
}
