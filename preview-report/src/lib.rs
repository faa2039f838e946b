//! The report formats of `importhook preview`: what one row and the whole run look like, and
//! the writers of the JSON Lines and HTML reports. Placeholder with the agreed types and the
//! JSON Lines writer; the HTML writer comes from its own branch.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// What the import will do with one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// `CREATE_USER` with the login it came with.
    Created,
    /// `CREATE_USER` with a login the plugins changed.
    Renamed,
    /// `LINK_USER` to an existing Okta user.
    Linked,
    /// Matched an existing user, and nothing changes for it.
    Unchanged,
    /// Left in conflict: its login still collides.
    Conflict,
    /// The hook answers an `error`.
    Refused,
}

impl Decision {
    /// Every decision, in report order.
    pub const ALL: [Decision; 6] = [
        Self::Created,
        Self::Renamed,
        Self::Linked,
        Self::Unchanged,
        Self::Conflict,
        Self::Refused,
    ];

    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Renamed => "renamed",
            Self::Linked => "linked",
            Self::Unchanged => "unchanged",
            Self::Conflict => "conflict",
            Self::Refused => "refused",
        }
    }
}

/// One plugin's call on one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginRun {
    /// Plugin name.
    pub plugin: String,
    /// `ok`, `changed`, or the engine's failure label.
    pub outcome: String,
    /// Time of the call.
    pub latency_us: u64,
}

/// One row of the import and what happens to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowReport {
    /// 1-based line of the input file (CSV: the header is line 1).
    pub line: u64,
    /// What the import does with it.
    pub decision: Decision,
    /// Login as projected from the row.
    pub login_before: String,
    /// Login the import will use.
    pub login_after: String,
    /// `CREATE_USER` or `LINK_USER`.
    pub action: String,
    /// The user it is linked to.
    pub linked_user_id: Option<String>,
    /// `context.conflicts` sent to the hook.
    pub conflicts: Vec<String>,
    /// Another row of the file that ends with the same login.
    pub collision_with_line: Option<u64>,
    /// Each plugin's call.
    pub plugins: Vec<PluginRun>,
    /// The whole pipeline for this row.
    pub latency_us: u64,
    /// The error summary the hook would answer.
    pub error: Option<String>,
}

/// A malformed row, skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// Its line.
    pub line: u64,
    /// Why (never a profile value).
    pub reason: String,
}

/// Failures of one plugin with one outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginFailure {
    /// Plugin name.
    pub plugin: String,
    /// Failure label.
    pub outcome: String,
    /// Calls that ended so.
    pub count: u64,
}

/// Time per user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Slowest.
    pub max: u64,
}

/// The whole run, counts only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// File name of the users file (no directory).
    pub source: String,
    /// Rows read (including skipped).
    pub rows: u64,
    /// Rows skipped.
    pub skipped: u64,
    /// Skipped rows by reason.
    pub skipped_reasons: BTreeMap<String, u64>,
    /// Every decision with its count (all six, zero included).
    pub decisions: BTreeMap<String, u64>,
    /// Rows whose login collides with another row of the file.
    pub collisions_in_file: u64,
    /// Plugin calls that failed, by plugin and outcome.
    pub plugin_failures: Vec<PluginFailure>,
    /// Pipeline time per user.
    pub time_per_user_us: Percentiles,
    /// Wall time of the run.
    pub elapsed_ms: u64,
    /// The plugin set, in pipeline order.
    pub plugins: Vec<String>,
}

impl Summary {
    /// The summary for a terminal: counts only, never a profile value.
    pub fn to_terminal(&self) -> String {
        let mut out = format!(
            "{}: {} rows ({} skipped) in {} ms\n",
            self.source, self.rows, self.skipped, self.elapsed_ms
        );
        for decision in Decision::ALL {
            let count = self.decisions.get(decision.as_str()).copied().unwrap_or(0);
            out.push_str(&format!("  {:<10} {count}\n", decision.as_str()));
        }
        out.push_str(&format!(
            "  collisions inside the file: {}\n",
            self.collisions_in_file
        ));
        for (reason, count) in &self.skipped_reasons {
            out.push_str(&format!("  skipped ({reason}): {count}\n"));
        }
        for failure in &self.plugin_failures {
            out.push_str(&format!(
                "  plugin {} {}: {}\n",
                failure.plugin, failure.outcome, failure.count
            ));
        }
        out.push_str(&format!(
            "  time per user: p50 {} us, p99 {} us, max {} us\n",
            self.time_per_user_us.p50, self.time_per_user_us.p99, self.time_per_user_us.max
        ));
        out
    }
}

/// Creates `path` for a report: mode 0600 from creation, never through a symlink.
fn create_private(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is a symbolic link: refused", path.display()),
            ));
        }
        Ok(_) => std::fs::remove_file(path)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// The JSON Lines report: one line per row, one per skipped row.
#[derive(Debug)]
pub struct JsonlReport {
    out: BufWriter<File>,
}

impl JsonlReport {
    /// Creates the report file (mode 0600).
    pub fn create(path: &Path) -> io::Result<Self> {
        Ok(Self {
            out: BufWriter::new(create_private(path)?),
        })
    }

    /// Writes one row.
    pub fn row(&mut self, row: &RowReport) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, row)?;
        self.out.write_all(b"\n")
    }

    /// Writes one skipped row: `{"line":N,"skipped":"reason"}`.
    pub fn skipped(&mut self, skipped: &Skipped) -> io::Result<()> {
        let line = serde_json::json!({"line": skipped.line, "skipped": skipped.reason});
        serde_json::to_writer(&mut self.out, &line)?;
        self.out.write_all(b"\n")
    }

    /// Flushes and closes the file.
    pub fn finish(mut self) -> io::Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_all()
    }
}

/// The HTML report (its writer comes from its own branch; this one refuses).
#[derive(Debug)]
pub struct HtmlReport {
    _private: (),
}

impl HtmlReport {
    /// Not built yet: always an error.
    pub fn create(path: &Path) -> io::Result<Self> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!(
                "{}: the HTML report is not built yet in this build",
                path.display()
            ),
        ))
    }

    /// Writes one row into the table when it changes something.
    pub fn row(&mut self, row: &RowReport) -> io::Result<()> {
        let _ = row;
        Ok(())
    }

    /// Notes a skipped row.
    pub fn skipped(&mut self, skipped: &Skipped) -> io::Result<()> {
        let _ = skipped;
        Ok(())
    }

    /// Writes the summary and closes the page.
    pub fn finish(self, summary: &Summary) -> io::Result<()> {
        let _ = summary;
        Ok(())
    }
}
