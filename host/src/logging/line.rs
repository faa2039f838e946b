//! The log's event formatter: writes a line straight into a per-thread buffer, byte for byte as
//! tracing-subscriber's own formatter (the `Full` text format, or JSON with the event
//! flattened) writes it, and hands every other event to that formatter.
//!
//! Why: every hook request writes a line, and tracing-subscriber formats each field through
//! `core::fmt` (a `write!` of three arguments per field, `Debug` escaping char by char) and its
//! timestamp with seven padded integers; for the JSON format it goes through serde_json's
//! serializer over an adaptor. Here integers are written with `itoa`, strings that need no
//! escaping (ids, outcomes, key ids) are copied, and the timestamp's second is cached
//! ([`super::clock`]). The fast path takes the common event: no span, fields that are strings,
//! integers, booleans or `Debug`/`Display` values, no colours. Events inside a span, with an
//! error value (its sources are listed), a float, `log` crate metadata or a raw identifier
//! as field name, and every event on a terminal (colours) go to tracing-subscriber's formatter.

use std::cell::RefCell;
use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use super::clock;
use super::escape::{debug_str, escape_json_into, json_escaped, json_str, sanitize_from};

/// Lines longer than this do not keep their buffer's memory after they are written.
const KEPT_CAPACITY: usize = 16 * 1024;

thread_local! {
    static LINE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Which of tracing-subscriber's formats the lines copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// `Format<Full>` with its defaults: timestamp, level, target, fields.
    Text,
    /// `Format<Json>` with `flatten_event(true)`, no current span, its other defaults.
    Json,
}

/// The event formatter: `stock` is tracing-subscriber's formatter for the same style, which
/// writes what the fast path does not take.
#[derive(Debug)]
pub struct Lines<F> {
    style: Style,
    stock: F,
}

impl<F> Lines<F> {
    /// Lines as `stock`, tracing-subscriber's default `Full` text format, writes them.
    pub fn text(stock: F) -> Self {
        Self {
            style: Style::Text,
            stock,
        }
    }

    /// Lines as `stock`, tracing-subscriber's JSON format with the event flattened and
    /// without the current span, writes them.
    pub fn json(stock: F) -> Self {
        Self {
            style: Style::Json,
            stock,
        }
    }
}

impl<S, N, F> FormatEvent<S, N> for Lines<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        if writer.has_ansi_escapes() || event.parent().is_some() || ctx.lookup_current().is_some() {
            return self.stock.format_event(ctx, writer, event);
        }
        let sanitize = writer.sanitizes_ansi_escapes();
        // Not there while the thread's locals are being destroyed.
        let written = LINE.try_with(|line| {
            // Busy when a value's `Debug` logs an event of its own.
            let mut line = line.try_borrow_mut().ok()?;
            line.clear();
            let taken = match self.style {
                Style::Text => text_line(&mut line, event, sanitize),
                Style::Json => json_line(&mut line, event),
            };
            let written = taken.then(|| writer.write_str(&line));
            if line.capacity() > KEPT_CAPACITY {
                *line = String::new();
            }
            written
        });
        match written.ok().flatten() {
            Some(result) => result,
            None => self.stock.format_event(ctx, writer, event),
        }
    }
}

/// The level as the text format pads it.
fn text_level(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "TRACE",
        Level::DEBUG => "DEBUG",
        Level::INFO => " INFO",
        Level::WARN => " WARN",
        _ => "ERROR",
    }
}

/// `<timestamp>  INFO <target>: <message> <name>=<value>...`; `false` when the event is not
/// one the fast path takes.
fn text_line(line: &mut String, event: &Event<'_>, sanitize: bool) -> bool {
    let meta = event.metadata();
    if !clock::write_now(line) {
        return false;
    }
    line.push(' ');
    line.push_str(text_level(meta.level()));
    line.push(' ');
    line.push_str(meta.target());
    line.push_str(": ");
    let mut fields = TextFields {
        line,
        first: true,
        sanitize,
        taken: true,
    };
    event.record(&mut fields);
    if !fields.taken {
        return false;
    }
    line.push('\n');
    true
}

/// The fields as tracing-subscriber's `DefaultFields` writes them.
struct TextFields<'a> {
    line: &'a mut String,
    first: bool,
    sanitize: bool,
    taken: bool,
}

impl TextFields<'_> {
    /// The separator and `name=`, or `false` for a name the fast path leaves alone.
    fn name(&mut self, field: &Field) -> bool {
        let name = field.name();
        // `log.` fields are the `log` crate's metadata, which tracing-subscriber reads apart;
        // it writes raw identifiers without their `r#`.
        if !self.taken || name.starts_with("log.") || name.starts_with("r#") {
            self.taken = false;
            return false;
        }
        self.separate();
        if name != "message" {
            self.line.push_str(name);
            self.line.push('=');
        }
        true
    }

    fn separate(&mut self) {
        if self.first {
            self.first = false;
        } else {
            self.line.push(' ');
        }
    }

    /// The message as tracing-subscriber writes it: its text, with terminal control
    /// characters escaped when the writer sanitizes.
    fn message(&mut self, start: usize) {
        if self.sanitize {
            sanitize_from(self.line, start);
        }
    }
}

impl Visit for TextFields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if !self.name(field) {
            return;
        }
        let start = self.line.len();
        if field.name() == "message" {
            self.line.push_str(value);
            self.message(start);
        } else {
            debug_str(self.line, value);
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.name(field) {
            self.line.push_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.name(field) {
            self.line.push_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.name(field) {
            self.line.push_str(if value { "true" } else { "false" });
        }
    }

    fn record_error(&mut self, _: &Field, _: &(dyn std::error::Error + 'static)) {
        self.taken = false;
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if !self.name(field) {
            return;
        }
        let start = self.line.len();
        if write!(self.line, "{value:?}").is_err() {
            self.taken = false;
        } else if field.name() == "message" {
            self.message(start);
        }
    }
}

/// `{"timestamp":"…","level":"INFO",<fields>,"target":"…"}`; `false` when the event is not
/// one the fast path takes.
fn json_line(line: &mut String, event: &Event<'_>) -> bool {
    let meta = event.metadata();
    line.push_str("{\"timestamp\":\"");
    if !clock::write_now(line) {
        return false;
    }
    line.push_str("\",\"level\":\"");
    line.push_str(meta.level().as_str());
    line.push('"');
    let mut fields = JsonFields { line, taken: true };
    event.record(&mut fields);
    if !fields.taken {
        return false;
    }
    line.push_str(",\"target\":");
    json_str(line, meta.target());
    line.push_str("}\n");
    true
}

/// The fields as `tracing-serde`'s map visitor serializes them with serde_json, in the
/// event's order.
struct JsonFields<'a> {
    line: &'a mut String,
    taken: bool,
}

impl JsonFields<'_> {
    /// `,"name":`, or `false` for a name the fast path leaves alone.
    fn name(&mut self, field: &Field) -> bool {
        // `log.` fields mean the level and target are read from them.
        if !self.taken || field.name().starts_with("log.") {
            self.taken = false;
            return false;
        }
        self.line.push(',');
        json_str(self.line, field.name());
        self.line.push(':');
        true
    }
}

impl Visit for JsonFields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.name(field) {
            json_str(self.line, value);
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.name(field) {
            self.line.push_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.name(field) {
            self.line.push_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.name(field) {
            self.line.push_str(if value { "true" } else { "false" });
        }
    }

    fn record_f64(&mut self, _: &Field, _: f64) {
        self.taken = false;
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if !self.name(field) {
            return;
        }
        // Written in place, then escaped only if it has to be.
        self.line.push('"');
        let start = self.line.len();
        if write!(self.line, "{value:?}").is_err() {
            self.taken = false;
            return;
        }
        if self.line[start..].bytes().any(json_escaped) {
            let raw = self.line.split_off(start);
            escape_json_into(self.line, &raw);
        }
        self.line.push('"');
    }
}
