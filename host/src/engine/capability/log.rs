//! The `log` capability: plugin log lines into the host's `tracing`, tagged with the plugin's
//! name, bounded per call; and the panic report a plugin sends just before it traps.

use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker};

use super::InstanceData;
use crate::engine::bindings::plugin::log::{self, Level};

/// Longest plugin log line (and panic message) kept.
pub const MAX_LOG_BYTES: usize = 1024;
/// Most log lines kept per call.
pub const MAX_LOG_LINES: u32 = 32;

/// Per-instance log capability: the lines kept and the panic report.
#[derive(Debug)]
pub struct LogCap {
    plugin: Arc<str>,
    lines_left: u32,
    /// The message of the panic reported in the current call, if any.
    pub panic: Option<String>,
}

impl LogCap {
    /// State for `plugin`, allowing `lines` lines in the first call.
    pub fn new(plugin: Arc<str>, lines: u32) -> Self {
        Self {
            plugin,
            lines_left: lines,
            panic: None,
        }
    }

    pub(super) fn begin_call(&mut self, lines: u32) {
        self.lines_left = lines;
        self.panic = None;
    }
}

/// `message` cut to at most `max` bytes, on a character boundary.
pub fn truncate(message: &str, max: usize) -> &str {
    let mut end = message.len().min(max);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    &message[..end]
}

impl log::Host for LogCap {
    fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        if self.lines_left == 0 {
            return Ok(());
        }
        self.lines_left -= 1;
        let (plugin, message) = (&*self.plugin, truncate(&message, MAX_LOG_BYTES));
        match level {
            Level::Trace => tracing::trace!(target: "importhook::plugin", plugin, "{message}"),
            Level::Debug => tracing::debug!(target: "importhook::plugin", plugin, "{message}"),
            Level::Info => tracing::info!(target: "importhook::plugin", plugin, "{message}"),
            Level::Warn => tracing::warn!(target: "importhook::plugin", plugin, "{message}"),
            Level::Error => tracing::error!(target: "importhook::plugin", plugin, "{message}"),
        }
        Ok(())
    }

    fn panicked(&mut self, message: String) -> wasmtime::Result<()> {
        // The first report wins: a panic inside the panic hook must not replace it.
        if self.panic.is_none() {
            self.panic = Some(truncate(&message, MAX_LOG_BYTES).to_owned());
        }
        Ok(())
    }
}

/// Links `importhook:plugin/log`.
pub fn add_to_linker(linker: &mut Linker<InstanceData>) -> wasmtime::Result<()> {
    log::add_to_linker::<InstanceData, HasSelf<LogCap>>(linker, |data| &mut data.log)
}
