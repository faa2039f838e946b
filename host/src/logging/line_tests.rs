//! The service's log lines against tracing-subscriber's own formatter, set up as the service
//! set it up before it had one of its own: the same bytes for every kind of event, in text and
//! JSON.

use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use tracing::Dispatch;

use super::tests::logged;
use super::{LogFormat, filter};

/// A writer keeping what is written.
#[derive(Clone, Default)]
pub(super) struct Sink(Arc<Mutex<Vec<u8>>>);

impl Sink {
    pub(super) fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("sink").clone()).expect("utf-8")
    }
}

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("sink").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const STAMP: &str = "0000-00-00T00:00:00.000000Z";

/// Every timestamp replaced by `<T>` (a message may span lines: found by its shape).
pub(super) fn masked(text: &str) -> String {
    let is_stamp = |at: &[u8]| {
        at.len() >= STAMP.len()
            && at.iter().zip(STAMP.bytes()).all(|(&b, s)| {
                if s == b'0' {
                    b.is_ascii_digit()
                } else {
                    b == s
                }
            })
    };
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if is_stamp(&bytes[at..]) {
            out.extend_from_slice(b"<T>");
            at += STAMP.len();
        } else {
            out.push(bytes[at]);
            at += 1;
        }
    }
    String::from_utf8(out).expect("utf-8")
}

/// tracing-subscriber's own formatter, configured as the service configured it.
fn stock(format: LogFormat, sink: Sink) -> Dispatch {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(None))
        .with_writer(move || sink.clone())
        .with_ansi(false);
    match format {
        LogFormat::Text => Dispatch::new(builder.finish()),
        LogFormat::Json => Dispatch::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .finish(),
        ),
    }
}

fn by_stock(format: LogFormat, write: impl FnOnce()) -> String {
    let sink = Sink::default();
    tracing::dispatcher::with_default(&stock(format, sink.clone()), write);
    masked(&sink.text())
}

fn assert_same(write: impl Fn()) {
    for format in [LogFormat::Text, LogFormat::Json] {
        let ours = logged(format, None, &write);
        assert!(!ours.is_empty());
        assert_eq!(ours, by_stock(format, &write), "{format:?}");
    }
}

#[derive(Debug)]
struct Failed(Option<std::io::Error>);

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("it failed \"badly\"")
    }
}

impl std::error::Error for Failed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.as_ref().map(|e| e as _)
    }
}

#[test]
fn every_kind_of_event_is_written_as_tracing_subscriber_writes_it() {
    let awkward = [
        "plain",
        "",
        "quote \" and \\ backslash",
        "new\nline\ttab\r\0nul",
        "esc \x1b[31m bel \x07 bs \x08 ff \x0c del \x7f",
        "c1 \u{85} \u{9b}",
        "é ünïcødé 🦀",
        "\u{301} combining first",
        "zero\u{200b}width \u{feff}",
        "'single'",
    ];
    assert_same(|| {
        for text in awkward {
            tracing::info!(target: "importhook::plugin", plugin = "p", "{text}");
            tracing::info!(value = text, "a string");
            tracing::warn!(message = text);
            tracing::error!(shown = %text, debugged = ?text);
        }
        tracing::info!("a message alone");
        tracing::info!(
            count = 3,
            ok = true,
            no = false,
            below = -17i64,
            top = u64::MAX
        );
        tracing::info!(
            ratio = 1.5f64,
            nan = f64::NAN,
            wide = 1u128 << 100,
            "numbers"
        );
        tracing::info!(bytes = &b"\x00ab"[..], "bytes");
        let plain = Failed(None);
        let nested = Failed(Some(std::io::Error::other("below")));
        tracing::warn!(
            error = &plain as &(dyn std::error::Error + 'static),
            "plain"
        );
        tracing::warn!(
            error = &nested as &(dyn std::error::Error + 'static),
            "nested"
        );
        tracing::warn!(error = %nested, "displayed");
        tracing::debug!("filtered out");
        tracing::info!(target: "hyper::proto", "filtered out too");
        let span = tracing::info_span!("outer", id = 1, name = "x");
        let _entered = span.enter();
        tracing::info!(inner = 2, "in a span");
        tracing::info!(parent: None, "a root event while in a span");
    });
}

proptest! {
    /// The request line with any values.
    #[test]
    fn the_request_line_with_any_values(
        request_id in any::<u64>(),
        event_id in any::<String>(),
        status in any::<u16>(),
        outcome in "\\PC*",
        reason in any::<String>(),
        latency_us in any::<u64>(),
    ) {
        let write = || {
            crate::hook::RequestLine {
                request_id,
                event_id: &event_id,
                status,
                outcome: &outcome,
                auth: "header",
                kid: &reason,
                reason: &reason,
                latency_us,
            }
            .write();
            tracing::info!(target: "importhook::plugin", plugin = "p", "{reason}");
        };
        for format in [LogFormat::Text, LogFormat::Json] {
            prop_assert_eq!(logged(format, None, write), by_stock(format, write));
        }
    }
}
