//! The JSON Lines report: one line per row (its decision and each plugin's outcome), one line
//! per skipped row.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::file::create_private;
use crate::types::{RowReport, Skipped};

/// Writes `--out report.jsonl` as rows come (memory flat in the number of rows).
#[derive(Debug)]
pub struct JsonlReport {
    out: BufWriter<File>,
}

/// The line written for a skipped row: `{"line":N,"skipped":"reason"}`.
#[derive(Serialize, Deserialize)]
struct SkippedLine<'a> {
    line: u64,
    skipped: &'a str,
}

impl JsonlReport {
    /// Creates (or truncates) the file, mode 0600, refusing a symlink.
    pub fn create(path: &Path) -> io::Result<Self> {
        Ok(JsonlReport {
            out: BufWriter::new(create_private(path)?),
        })
    }

    pub fn row(&mut self, row: &RowReport) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, row)?;
        self.out.write_all(b"\n")
    }

    pub fn skipped(&mut self, skipped: &Skipped) -> io::Result<()> {
        let line = SkippedLine {
            line: skipped.line,
            skipped: &skipped.reason,
        };
        serde_json::to_writer(&mut self.out, &line)?;
        self.out.write_all(b"\n")
    }

    /// Flushes and syncs the file.
    pub fn finish(self) -> io::Result<()> {
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()
    }
}

/// One line of a JSON Lines report, read back (for tests and tools).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonlLine {
    Row(RowReport),
    Skipped(Skipped),
}

impl JsonlLine {
    pub fn parse(line: &str) -> serde_json::Result<Self> {
        let value: serde_json::Value = serde_json::from_str(line)?;
        if value.get("skipped").is_some() {
            let s: SkippedOwned = serde_json::from_value(value)?;
            Ok(JsonlLine::Skipped(Skipped {
                line: s.line,
                reason: s.skipped,
            }))
        } else {
            Ok(JsonlLine::Row(serde_json::from_value(value)?))
        }
    }
}

#[derive(Deserialize)]
struct SkippedOwned {
    line: u64,
    skipped: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Decision, PluginRun};
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn rows_and_skipped_lines_round_trip_in_order() {
        let dir = crate::testdir::TestDir::new("jsonl");
        let path = dir.path().join("report.jsonl");
        let row = RowReport {
            line: 2,
            decision: Decision::Renamed,
            login_before: "ann@example.com".into(),
            login_after: "ann2@example.com".into(),
            action: "CREATE_USER".into(),
            linked_user_id: None,
            conflicts: vec!["login".into()],
            collision_with_line: Some(9),
            plugins: vec![PluginRun {
                plugin: "login-counter-suffix".into(),
                outcome: "changed".into(),
                latency_us: 120,
            }],
            latency_us: 150,
            error: None,
        };
        let skipped = Skipped {
            line: 3,
            reason: "wrong number of fields".into(),
        };
        let mut report = JsonlReport::create(&path).unwrap();
        report.row(&row).unwrap();
        report.skipped(&skipped).unwrap();
        report.finish().unwrap();

        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].contains(r#""decision":"renamed""#), "{}", lines[0]);
        assert_eq!(lines[1], r#"{"line":3,"skipped":"wrong number of fields"}"#);
        assert_eq!(JsonlLine::parse(lines[0]).unwrap(), JsonlLine::Row(row));
        assert_eq!(
            JsonlLine::parse(lines[1]).unwrap(),
            JsonlLine::Skipped(skipped)
        );
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o600);
    }
}
