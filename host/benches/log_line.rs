//! The request's log line (`importhook::hook::RequestLine`): `LINES` lines (default 1,000,000)
//! through tracing-subscriber's own formatter, set up as the service set it up before it had
//! a formatter of its own, and through the service's (`importhook::logging::dispatch`), in
//! text and JSON, with the default filter, into a writer that discards them. `ROUNDS` rounds
//! (default 5), the two set-ups interleaved and their order alternating; nanoseconds per line.
//! `WRITER=batch` writes through the serving log's batched writer to a sink; `ONLY=ours` runs
//! the service's alone. A micro-benchmark: one thread, the line's formatting and dispatch only.

use std::hint::black_box;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use importhook::hook::RequestLine;
use importhook::logging::batch::{BatchGuard, batched};
use importhook::logging::{LogFormat, dispatch, filter};
use tracing::Dispatch;
use tracing_subscriber::fmt::MakeWriter;

/// Discards the lines, after reading their length.
struct Discard;

impl Write for Discard {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(black_box(buf.len()))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The set-up before: tracing-subscriber's formatter, configured as `logging::install` did.
fn stock<W>(format: LogFormat, writer: W) -> Dispatch
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(None))
        .with_writer(writer)
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

fn line(i: u64) -> RequestLine<'static> {
    RequestLine {
        request_id: i,
        event_id: "Fx3TcQWlRnGmOQ2J0bCQyw",
        status: 204,
        outcome: "no_change",
        auth: "header",
        kid: "primary",
        reason: "-",
        latency_us: 180 + i % 900,
    }
}

/// Nanoseconds per line for `lines` lines through `dispatch`.
fn run(dispatch: &Dispatch, lines: u64) -> f64 {
    tracing::dispatcher::with_default(dispatch, || {
        let started = Instant::now();
        for i in 0..lines {
            line(black_box(i)).write();
        }
        started.elapsed().as_nanos() as f64 / lines as f64
    })
}

/// Keeps what is written.
#[derive(Clone, Default)]
struct Keep(Arc<Mutex<Vec<u8>>>);

impl Write for Keep {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("kept").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Checks that both set-ups write the same line, but for the timestamp (27 bytes, after
/// `{"timestamp":"` in JSON), before timing them.
fn same_line(format: LogFormat) {
    let written = |dispatch: Dispatch, kept: Keep| {
        tracing::dispatcher::with_default(&dispatch, || line(7).write());
        let mut line = String::from_utf8(kept.0.lock().expect("kept").clone()).expect("utf-8");
        let at = if line.starts_with('{') { 14 } else { 0 };
        line.replace_range(at..at + 27, "<T>");
        line
    };
    let (before, after) = (Keep::default(), Keep::default());
    let into = |kept: &Keep| {
        let kept = kept.clone();
        move || kept.clone()
    };
    let before = written(stock(format, into(&before)), before);
    let after = written(dispatch(format, into(&after), filter(None), false), after);
    assert_eq!(before, after, "{format:?}");
    print!("{after}");
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let lines = env("LINES", 1_000_000);
    let rounds = env("ROUNDS", 5);
    // `ONLY=ours` runs the service's formatter alone (for a profile of it); `WRITER=batch`
    // writes through the serving log's batched writer (to a sink) instead of discarding.
    let only_ours = std::env::var("ONLY").is_ok_and(|v| v == "ours");
    let batch = std::env::var("WRITER").is_ok_and(|v| v == "batch");
    println!(
        "{lines} lines a run, {rounds} rounds, {} writer, ns per line (stock / ours)",
        if batch { "batched" } else { "discarding" }
    );
    for format in [LogFormat::Text, LogFormat::Json] {
        let mut guards = Vec::new();
        if batch {
            let mut writer = || {
                let (writer, guard) =
                    batched(std::io::sink(), "bench-log", 4 << 20).expect("thread");
                guards.push(guard);
                writer
            };
            compare(format, lines, rounds, only_ours, &mut writer);
        } else {
            compare(format, lines, rounds, only_ours, &mut || || Discard);
        }
        drop::<Vec<BatchGuard>>(guards);
    }
}

fn compare<W>(
    format: LogFormat,
    lines: u64,
    rounds: u64,
    only_ours: bool,
    writer: &mut dyn FnMut() -> W,
) where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    same_line(format);
    let after = dispatch(format, writer(), filter(None), false);
    if only_ours {
        for round in 0..rounds {
            println!("{format:?} round {}: {:.0}", round + 1, run(&after, lines));
        }
        return;
    }
    let before = stock(format, writer());
    // Warm both (thread-local buffers, callsite interest).
    run(&before, lines / 10);
    run(&after, lines / 10);
    let (mut stock_ns, mut ours_ns) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        if round % 2 == 0 {
            stock_ns.push(run(&before, lines));
            ours_ns.push(run(&after, lines));
        } else {
            ours_ns.push(run(&after, lines));
            stock_ns.push(run(&before, lines));
        }
        println!(
            "{format:?} round {}: {:.0} / {:.0}",
            round + 1,
            stock_ns[stock_ns.len() - 1],
            ours_ns[ours_ns.len() - 1]
        );
    }
    let (s, o) = (median(stock_ns), median(ours_ns));
    println!(
        "{format:?} median: {s:.0} / {o:.0} ns per line ({:.2}x)",
        o / s
    );
}
