//! The request's own fields (envelope, `data`, the holders, `context`), each read into its typed
//! place by the rules of the parent module; unknown keys are skipped.

use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::{Deserialize, de::Error as _};
use serde_json::Value;

use super::{Fields, Notes, Strings, Text, entries, field, list, object, profile, skip};
use crate::request::{
    ActionHolder, Application, ImportContext, ImportData, ImportRequest, Job, NotAnObject,
    ProfileHolder, RequestedAction, UserHolder,
};
use crate::response::ActionResult;

/// The envelope's own fields, and what was noted reading it.
#[derive(Default)]
struct Envelope {
    request: ImportRequest,
}

impl Fields for Envelope {
    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        notes: &mut Notes,
    ) -> Result<(), A::Error> {
        let request = &mut self.request;
        match key {
            "eventId" => {
                request.event_id = field(map, notes, "eventId", Text)?.unwrap_or_default();
            }
            "eventTime" => request.event_time = field(map, notes, "eventTime", Text)?,
            // A non-string eventType is another event type, not an absent one.
            "eventType" => {
                request.event_type = match map.next_value::<Value>()? {
                    Value::Null => None,
                    Value::String(text) => Some(text.into()),
                    other => Some(other.to_string().into()),
                };
            }
            "eventTypeVersion" => {
                request.event_type_version = match map.next_value::<Value>()? {
                    Value::Null => None,
                    Value::String(text) => Some(text.into()),
                    Value::Number(n) => Some(n.to_string().into()),
                    _ => {
                        notes.note("eventTypeVersion");
                        None
                    }
                };
            }
            "source" => request.source = field(map, notes, "source", Text)?,
            "data" => request.data = field(map, notes, "data", object())?.unwrap_or_default(),
            _ => skip(map)?,
        }
        Ok(())
    }
}

impl Fields for ImportData {
    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        notes: &mut Notes,
    ) -> Result<(), A::Error> {
        match key {
            "appUser" => {
                self.app_user = field(map, notes, "data.appUser", object())?.unwrap_or_default();
            }
            "user" => self.user = field(map, notes, "data.user", object())?.unwrap_or_default(),
            "action" => {
                self.action = field(map, notes, "data.action", object())?.unwrap_or_default();
            }
            "context" => {
                self.context = field(map, notes, "data.context", object())?.unwrap_or_default();
            }
            _ => skip(map)?,
        }
        Ok(())
    }
}

impl Fields for ProfileHolder {
    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        notes: &mut Notes,
    ) -> Result<(), A::Error> {
        match key {
            "profile" => {
                self.profile = profile(map, notes, "data.appUser.profile")?;
            }
            _ => skip(map)?,
        }
        Ok(())
    }
}

impl Fields for UserHolder {
    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        notes: &mut Notes,
    ) -> Result<(), A::Error> {
        match key {
            "id" => self.id = field(map, notes, "data.user.id", Text)?,
            "profile" => {
                self.profile = profile(map, notes, "data.user.profile")?;
            }
            _ => skip(map)?,
        }
        Ok(())
    }
}

impl Fields for ActionHolder {
    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        notes: &mut Notes,
    ) -> Result<(), A::Error> {
        match key {
            "result" => {
                self.result = match field(map, notes, "data.action.result", Text)? {
                    None => RequestedAction::Missing,
                    Some(text) => ActionResult::from_text(&text).map_or_else(
                        || RequestedAction::Unknown(text.into_string()),
                        RequestedAction::Known,
                    ),
                };
            }
            _ => skip(map)?,
        }
        Ok(())
    }
}

impl Fields for ImportContext {
    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        notes: &mut Notes,
    ) -> Result<(), A::Error> {
        const CONFLICTS: &str = "data.context.conflicts";
        const POLICY: &str = "data.context.policy";
        match key {
            "conflicts" => {
                self.conflicts =
                    field(map, notes, CONFLICTS, Strings(CONFLICTS))?.unwrap_or_default();
            }
            "application" => {
                self.application = field(map, notes, "data.context.application", object())?;
            }
            "job" => self.job = field(map, notes, "data.context.job", object())?,
            "matches" => {
                self.matches = list(map, notes, "data.context.matches")?;
            }
            "policy" => {
                self.policy = field(map, notes, POLICY, Strings(POLICY))?.unwrap_or_default();
            }
            _ => skip(map)?,
        }
        Ok(())
    }
}

impl Fields for Application {
    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        notes: &mut Notes,
    ) -> Result<(), A::Error> {
        let (slot, path) = match key {
            "id" => (&mut self.id, "data.context.application.id"),
            "name" => (&mut self.name, "data.context.application.name"),
            "label" => (&mut self.label, "data.context.application.label"),
            "status" => (&mut self.status, "data.context.application.status"),
            _ => return skip(map),
        };
        *slot = field(map, notes, path, Text)?.unwrap_or_default();
        Ok(())
    }
}

impl Fields for Job {
    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        notes: &mut Notes,
    ) -> Result<(), A::Error> {
        let (slot, path) = match key {
            "id" => (&mut self.id, "data.context.job.id"),
            "type" => (&mut self.kind, "data.context.job.type"),
            _ => return skip(map),
        };
        *slot = field(map, notes, path, Text)?.unwrap_or_default();
        Ok(())
    }
}

/// The top level: an object, or the one refusal.
struct Top;

impl<'de> Visitor<'de> for Top {
    type Value = ImportRequest;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an Okta import hook request (a JSON object)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ImportRequest, A::Error> {
        let mut notes = Notes::default();
        let mut envelope = Envelope::default();
        let object = entries(&mut map, |key, map| {
            envelope.field(key.as_str(), map, &mut notes)
        })?;
        if !object {
            return Err(A::Error::custom(NotAnObject));
        }
        envelope.request.irregular = notes.into_ordered();
        Ok(envelope.request)
    }
}

impl<'de> Deserialize<'de> for ImportRequest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Top)
    }
}

impl ImportRequest {
    /// Reads a request body by the lenient rules. A body with a lone UTF-16 surrogate escape
    /// is read with [`crate::INVALID_STRING_MARK`] in its place (see
    /// [`crate::mark_lone_surrogates`]); the error, when there is one, is the body's own.
    pub fn from_body(body: &[u8]) -> Result<Self, serde_json::Error> {
        crate::surrogates::read_marked_if_refused(body, Self::from_body_strict)
    }

    fn from_body_strict(body: &[u8]) -> Result<Self, serde_json::Error> {
        match std::str::from_utf8(body) {
            // Checked as UTF-8 once: serde_json then reads each string without checking it again.
            Ok(text) => serde_json::from_str(text),
            // serde_json says where the body stops being UTF-8.
            Err(_) => serde_json::from_slice(body),
        }
    }

    /// Reads a parsed JSON value by the lenient rules; `Err` only when it is not an object.
    /// Read through its text: deserializing a number from a [`Value`] again parses its text
    /// into a new number, which loses what the text keeps (`-0` becomes `0`).
    pub fn from_json(value: Value) -> Result<Self, NotAnObject> {
        if !value.is_object() {
            return Err(NotAnObject);
        }
        let text = serde_json::to_string(&value).map_err(|_| NotAnObject)?;
        serde_json::from_str(&text).map_err(|_: serde_json::Error| NotAnObject)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_read_as_text_marked_where_it_holds_a_lone_surrogate() {
        // In a value, kept as its text: only reading it fails. In a key, which serde_json
        // reads: the body is read again with the surrogate marked.
        let body = br#"{"eventId": "e1", "data": {"appUser": {"profile": {"a": "x\ud800", "k\udc00": 2, "b": 1}}}}"#;
        let request = ImportRequest::from_body(body).expect("read marked");
        assert_eq!(request.event_id, "e1");
        let profile = &request.data.app_user.profile;
        assert!(
            profile.get("a").expect("a").parse().is_err(),
            "only `a` is unreadable"
        );
        let marked_key = format!("k{}", crate::INVALID_STRING_MARK);
        assert_eq!(
            profile.get(&marked_key).map(crate::JsonText::text),
            Some("2")
        );
        assert_eq!(profile.get("b").map(crate::JsonText::text), Some("1"));
        // Not UTF-8: serde_json's error says where.
        let error = ImportRequest::from_body(b"{\"eventId\": \"\xff\"}").expect_err("not UTF-8");
        assert_eq!((error.line(), error.column()), (1, 14));
    }

    #[test]
    fn a_request_deserialized_from_a_value_reads_as_from_its_text() {
        // Profile values are taken as text borrowed from a body, or owned from a `Value`.
        let text = r#"{"data": {"appUser": {"profile": {"a\u0062": 1, "s": "x", "l": [true]}},
            "user": {"profile": {"login": "a@x.io", "n": null}}}}"#;
        let from_text = ImportRequest::from_body(text.as_bytes()).expect("text");
        let value: Value = serde_json::from_str(text).expect("json");
        let from_value: ImportRequest = serde_json::from_value(value).expect("value");
        assert_eq!(from_value, from_text);
        let names: Vec<&str> = from_value.data.app_user.profile.names().collect();
        assert_eq!(names, ["ab", "s", "l"]);
        assert_eq!(
            from_text.data.user.profile.get_str("login").as_deref(),
            Some("a@x.io")
        );
    }

    #[test]
    fn a_json_value_reads_as_its_text_does_numbers_included() {
        let text = r#"{"data": {"appUser": {"profile": {"zero": -0, "list": [-0, 1.50, 1e400]}},
            "context": {"matches": [-0]}}}"#;
        let from_text: ImportRequest = serde_json::from_str(text).expect("text");
        let value: Value = serde_json::from_str(text).expect("json");
        let from_value = ImportRequest::from_json(value).expect("object");
        assert_eq!(from_value, from_text);
        let profile = &from_value.data.app_user.profile;
        let read = |name| profile.get(name).expect(name).parse().expect("readable");
        assert_eq!(read("zero").to_string(), "-0");
        assert_eq!(read("list").to_string(), "[-0,1.50,1e+400]");
        let matches = from_value
            .data
            .context
            .matches
            .to_values()
            .expect("readable");
        assert_eq!(matches[0].to_string(), "-0");
    }
}
