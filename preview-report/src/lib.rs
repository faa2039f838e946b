//! The report formats of `importhook preview`: the row and summary types, the JSON Lines writer,
//! the self-contained HTML page and the terminal summary (counts only).
//!
//! Both report files hold profile data: they are created with mode 0600 and never through a
//! symlink. The terminal summary holds counts only.

mod escape;
mod file;
mod html;
mod jsonl;
mod terminal;
#[cfg(test)]
mod testdir;
mod types;

#[cfg(feature = "browser-test")]
pub mod browser;

pub use html::HtmlReport;
pub use jsonl::{JsonlLine, JsonlReport};
pub use types::{
    Decision, Percentiles, PluginFailure, PluginRun, RowReport, Skipped, Summary,
    is_success_outcome, zero_decisions,
};
