//! `importhook try`: one Okta request through exactly the serving pipeline, with a per-plugin
//! report (outcome, time, instructions, peak memory, sizes), after Shopify's function-runner.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::engine::{CallOutcome, PluginSet, Runtime};
use crate::okta::{EVENT_TYPE, ImportRequest};

/// The exit status of `try` when it ran but a plugin failed, timed out or was skipped by its
/// `on_error` (1 stays "could not run at all").
pub const EXIT_PLUGIN_FAILED: u8 = 3;

/// `try` ran, and `0` plugins did not contribute: the exit status is [`EXIT_PLUGIN_FAILED`].
#[derive(Debug, thiserror::Error)]
#[error("{0} plugin(s) failed, timed out or were skipped (exit status 3)")]
pub struct PluginsFailed(pub usize);

/// Runs `request_file` through the plugins of `plugins_dir`. The body Okta would get goes to
/// stdout (nothing for `204`); the report goes to stderr. `instructions` counts the
/// instructions each plugin ran (fuel): that engine compiles plugins apart from `check` and
/// `serve`, so its first run compiles each plugin once more. A plugin that did not contribute
/// makes the result [`PluginsFailed`], once the report and the response are written.
pub fn run_try(
    plugins_dir: &Path,
    request_file: &Path,
    instructions: bool,
    login_format: crate::okta::login::LoginFormat,
) -> anyhow::Result<()> {
    let body = std::fs::read(request_file)
        .with_context(|| format!("cannot read {}", request_file.display()))?;
    let request = ImportRequest::from_body(&body).map_err(|e| {
        anyhow::anyhow!(
            "{} is not an Okta import hook request (line {}, column {})",
            request_file.display(),
            e.line(),
            e.column()
        )
    })?;
    if !request.is_for_this_hook() {
        anyhow::bail!(
            "{}: eventType must be {EVENT_TYPE}; the server would answer 400",
            request_file.display()
        );
    }
    if let Some(why) = request.unhandled() {
        writeln!(
            std::io::stderr().lock(),
            "response: 204 No Content (passed through unhandled: {}, no plugin runs)",
            why.as_str()
        )?;
        return Ok(());
    }
    // The compile cache `check` and `serve` use: a JS or Python component takes seconds to
    // compile, a cached one milliseconds. Unmetered, `try` shares their compiled artifacts;
    // fuel counting needs code of its own.
    let runtime = Runtime::new(
        Some(crate::engine::default_cache_dir(plugins_dir)),
        instructions,
    )?;
    // Scratch state (in memory, fresh each run): trying a request never uses up a number or
    // a claim of the service's store.
    let set = PluginSet::load(runtime, plugins_dir, &crate::engine::Services::scratch())?
        .with_login_format(login_format);
    let run = crate::engine::block_on(set.run(&std::sync::Arc::new(request), None))?;

    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "{:<24} {:<18} {:>10} {:>14} {:>10} {:>9} {:>9}  note",
        "plugin", "outcome", "time", "instructions", "peak mem", "read", "returned"
    )?;
    for report in &run.reports {
        writeln!(
            err,
            "{:<24} {:<18} {:>8.3}ms {:>14} {:>7} KiB {:>7} B {:>7} B  {}",
            report.name,
            report.outcome,
            report.stats.elapsed.as_secs_f64() * 1000.0,
            report
                .stats
                .instructions
                .map_or_else(|| "-".to_owned(), |n| n.to_string()),
            report.stats.peak_memory_bytes / 1024,
            report.stats.bytes_read,
            report.stats.bytes_returned,
            report.note.as_deref().unwrap_or("")
        )?;
        // Why it failed, in the plugin's own words: the author's debugging aid. `serve` keeps
        // this text out of its logs (it may hold personal data).
        if let Some(message) = &report.message {
            writeln!(err, "  {}: {message}", report.outcome)?;
        }
    }
    let failed = run
        .reports
        .iter()
        .filter(|r| r.outcome != CallOutcome::Ok)
        .count();
    let verdict = || -> anyhow::Result<()> {
        if failed > 0 || run.deadline_passed() {
            Err(PluginsFailed(failed.max(1)).into())
        } else {
            Ok(())
        }
    };
    let Some(response) = run.response() else {
        // The deadline came first: there is no answer to show.
        return verdict();
    };
    if response.is_no_change() {
        writeln!(
            err,
            "response: 204 No Content ({} plugin(s))",
            run.reports.len()
        )?;
        return verdict();
    }
    let body = response
        .to_checked_json()
        .context("the pipeline built a response Okta would reject")?;
    writeln!(err, "response: 200, {} bytes", body.len())?;
    let mut out = std::io::stdout().lock();
    out.write_all(&body)?;
    out.write_all(b"\n")?;
    verdict()
}
