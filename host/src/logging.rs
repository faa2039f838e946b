//! Log set-up: `tracing` to stderr, as text or JSON, filtered by `RUST_LOG`. Without it, only
//! importhook's own lines (the service's, and its plugins' under `importhook::plugin`) from
//! `info`, and other crates' warnings. While serving, a thread of its own writes the lines.

pub mod batch;
mod clock;
mod escape;
mod line;
#[cfg(test)]
mod line_tests;

use tracing::Dispatch;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::{Format, JsonFields};
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::layer::{ConfigLayer, Origin, pick};

/// Output format of the logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// Reads `log_format` (`text` when absent).
    pub(crate) fn resolve(
        cli: &ConfigLayer,
        file: &ConfigLayer,
        origin: &Origin<'_>,
    ) -> anyhow::Result<Self> {
        let (format, from_cli) =
            pick(&cli.log_format, &file.log_format).unwrap_or(("text".into(), true));
        match format.as_str() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => anyhow::bail!(
                "{}: `{other}` is not one of text, json",
                origin.name(from_cli, "log_format")
            ),
        }
    }
}

/// The filter when `RUST_LOG` is unset or invalid.
pub const DEFAULT_FILTER: &str = "warn,importhook=info";

/// Crates held at `warn` unless `RUST_LOG` names them itself. The wasm compiler and component
/// tooling: at `debug` they print thousands of lines for every plugin compiled (about 15,000
/// for one small plugin), which drowns the service's own lines. The file watcher and its
/// event loop: at `trace` they log every file event, and when the log is written to a file
/// in a watched folder (beside the certificate) each line they write is another event, so the
/// log would feed itself. Targets match by prefix: `cranelift` covers `cranelift_codegen`,
/// `wasmtime` every `wasmtime_*` crate.
const COMPILER_TARGETS: [&str; 10] = [
    "cranelift",
    "regalloc2",
    "wasmtime",
    "wasmparser",
    "wasm_encoder",
    "wit_parser",
    "wit_component",
    "notify",
    "inotify",
    "mio",
];

/// The directives for `rust_log` (the value of `RUST_LOG`, if set): the operator's own, plus
/// `warn` for the compiler crates it does not name.
pub fn directives(rust_log: Option<&str>) -> String {
    let Some(rust_log) = rust_log.map(str::trim).filter(|v| !v.is_empty()) else {
        return DEFAULT_FILTER.to_owned();
    };
    let mut directives = rust_log.to_owned();
    for target in COMPILER_TARGETS {
        if !rust_log.contains(target) {
            directives.push(',');
            directives.push_str(target);
            directives.push_str("=warn");
        }
    }
    directives
}

/// The filter for `rust_log`; an invalid `RUST_LOG` falls back to [`DEFAULT_FILTER`].
pub fn filter(rust_log: Option<&str>) -> EnvFilter {
    EnvFilter::try_new(directives(rust_log)).unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER))
}

/// Bytes of lines buffered for the log thread before a request that logs waits for room: a
/// few seconds of a busy import (one line of ~300 bytes per request) while whatever reads
/// stderr is slow.
const QUEUED_BYTES: usize = 4 * 1024 * 1024;

/// Installs the global subscriber, writing to stderr from the calling thread (the one-shot
/// commands); a second call (tests) is a no-op.
pub fn init(format: LogFormat) {
    install(format, std::io::stderr);
}

/// Installs the global subscriber for `serve`: request threads only buffer their lines and a
/// thread of its own writes them, in batches (see [`batch`]). A write to stderr is a system
/// call, and stderr is often a pipe to a log collector: written from the request threads,
/// those system calls compete with serving for the CPU, and a collector that stopped reading
/// would stall every request at once. Nothing is dropped: once [`QUEUED_BYTES`] wait, logging
/// waits too. The buffer is written out when the returned guard drops: keep it until serving
/// ends.
pub fn init_serving(format: LogFormat) -> std::io::Result<batch::BatchGuard> {
    let (writer, guard) = batch::batched(std::io::stderr(), "importhook-log", QUEUED_BYTES)?;
    install(format, writer);
    Ok(guard)
}

fn install<W>(format: LogFormat, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let rust_log = std::env::var(EnvFilter::DEFAULT_ENV).ok();
    // Colour codes only on a terminal: log collectors (and tests) read plain `key=value`.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = dispatch(format, writer, filter(rust_log.as_deref()), ansi).try_init();
}

/// The service's subscriber: `filter` decides which events are written, its own formatter
/// formats them as tracing-subscriber's `Full` text format (colours when `ansi`) or its JSON
/// format with the event flattened, one line each, to `writer`.
pub fn dispatch<W>(format: LogFormat, writer: W, filter: EnvFilter, ansi: bool) -> Dispatch
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => Dispatch::new(
            builder
                .with_ansi(ansi)
                .event_format(line::Lines::text(Format::default()))
                .finish(),
        ),
        LogFormat::Json => Dispatch::new(
            builder
                // JSON has no colours (tracing-subscriber's own `json()` turns them off).
                .with_ansi(false)
                .fmt_fields(JsonFields::new())
                .event_format(line::Lines::json(
                    Format::default()
                        .json()
                        .flatten_event(true)
                        .with_current_span(false),
                ))
                .finish(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Which of a fixed set of events `rust_log` lets through, as `target:level`.
    fn passed(rust_log: Option<&str>) -> Vec<String> {
        let sink = line_tests::Sink::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(filter(rust_log))
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .without_time()
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "importhook::server", "importhook:info");
            tracing::debug!(target: "importhook::server", "importhook:debug");
            tracing::info!(target: "importhook::plugin", "plugin:info");
            tracing::debug!(target: "cranelift_codegen::machinst", "cranelift:debug");
            tracing::debug!(target: "wasmtime_internal_cranelift", "wasmtime:debug");
            tracing::debug!(target: "wit_parser::resolve", "wit_parser:debug");
            tracing::info!(target: "hyper::proto", "hyper:info");
            tracing::warn!(target: "rustls::conn", "rustls:warn");
            tracing::trace!(target: "notify::inotify", "notify:trace");
            tracing::trace!(target: "mio::poll", "mio:trace");
        });
        let text = sink.text();
        text.lines()
            .filter_map(|line| line.split_whitespace().last().map(str::to_owned))
            .collect()
    }

    /// What `write` logs through [`dispatch`] with `rust_log`, the timestamp replaced by `<T>`.
    pub(super) fn logged(
        format: LogFormat,
        rust_log: Option<&str>,
        write: impl FnOnce(),
    ) -> String {
        let sink = line_tests::Sink::default();
        let writer = sink.clone();
        let dispatch = dispatch(format, move || writer.clone(), filter(rust_log), false);
        tracing::dispatcher::with_default(&dispatch, write);
        line_tests::masked(&sink.text())
    }

    fn request_line() -> crate::hook::RequestLine<'static> {
        crate::hook::RequestLine {
            request_id: 7,
            event_id: "evt-1",
            status: 401,
            outcome: "unauthorized",
            auth: "-",
            kid: "-",
            reason: "no secret matched",
            latency_us: 1234,
        }
    }

    #[test]
    fn the_request_line_in_text_and_json() {
        assert_eq!(
            logged(LogFormat::Text, None, || request_line().write()),
            "<T>  INFO importhook::hook: request request_id=7 event_id=\"evt-1\" status=401 \
             outcome=\"unauthorized\" auth=\"-\" kid=\"-\" reason=\"no secret matched\" \
             latency_us=1234\n"
        );
        assert_eq!(
            logged(LogFormat::Json, None, || request_line().write()),
            "{\"timestamp\":\"<T>\",\"level\":\"INFO\",\"message\":\"request\",\
             \"request_id\":7,\"event_id\":\"evt-1\",\"status\":401,\"outcome\":\"unauthorized\",\
             \"auth\":\"-\",\"kid\":\"-\",\"reason\":\"no secret matched\",\"latency_us\":1234,\
             \"target\":\"importhook::hook\"}\n"
        );
    }

    #[test]
    fn rust_log_decides_whether_the_request_line_is_written() {
        for format in [LogFormat::Text, LogFormat::Json] {
            assert_eq!(
                logged(format, Some("importhook=warn"), || request_line().write()),
                ""
            );
            assert_eq!(
                logged(format, Some("importhook::hook=info"), || request_line()
                    .write())
                .lines()
                .count(),
                1
            );
        }
    }

    #[test]
    fn by_default_only_importhook_lines_and_other_crates_warnings() {
        assert_eq!(
            passed(None),
            ["importhook:info", "plugin:info", "rustls:warn"]
        );
    }

    #[test]
    fn rust_log_overrides_but_the_compiler_stays_quiet_unless_named() {
        assert_eq!(
            passed(Some("debug")),
            [
                "importhook:info",
                "importhook:debug",
                "plugin:info",
                "hyper:info",
                "rustls:warn"
            ]
        );
        assert_eq!(
            passed(Some("warn,cranelift_codegen=debug")),
            ["cranelift:debug", "rustls:warn"]
        );
        assert_eq!(passed(Some("error")), Vec::<String>::new());
        // The watcher's own trace lines would feed a log kept in a watched folder.
        assert!(
            !passed(Some("trace"))
                .iter()
                .any(|l| l.starts_with("notify") || l.starts_with("mio"))
        );
        assert_eq!(
            passed(Some("warn,notify=trace")),
            ["rustls:warn", "notify:trace"]
        );
        // Not a filter: the default applies rather than no logs at all.
        assert_eq!(
            passed(Some("importhook=loud")),
            ["importhook:info", "plugin:info", "rustls:warn"]
        );
    }
}
