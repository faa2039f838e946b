//! The HTML report: one self-contained page (inline CSS and JS, no asset, no network), written as
//! rows come: the table of the rows that change streams out first, the summary is written at the
//! end and placed above the table by the style sheet.

mod summary;

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;

use serde::Serialize;

use crate::escape;
use crate::file::create_private;
use crate::types::{Decision, RowReport, Skipped, Summary};

const STYLE: &str = include_str!("html/style.css");
const SCRIPT: &str = include_str!("html/page.js");
/// Counts the page's security-policy refusals from the start (the page's own script runs last).
const HEAD_SCRIPT: &str = "window.reportPolicyViolations=0;document.addEventListener('securitypolicyviolation',function(){window.reportPolicyViolations++;});";

/// Distinct plugin outcomes offered in the page's filter; more are still shown and filterable
/// through the URL fragment.
const MAX_OUTCOMES: usize = 64;
/// Rows per JSON data block (each block is one `<script type="application/json">`).
const ROWS_PER_BLOCK: u64 = 1_000;
/// Skipped line numbers shown per reason (the JSON Lines report has all of them).
const MAX_SKIPPED_LINES: usize = 20;
const MAX_SKIPPED_REASONS: usize = 64;

/// Writes `--html report.html`.
#[derive(Debug)]
pub struct HtmlReport {
    out: BufWriter<File>,
    nonce: String,
    rows_in_table: u64,
    outcomes: BTreeSet<String>,
    skipped_lines: BTreeMap<String, Vec<u64>>,
    buf: String,
}

/// The JSON block the page's script reads.
#[derive(Serialize)]
struct PageData<'a> {
    summary: &'a Summary,
    table: TableData<'a>,
}

#[derive(Serialize)]
struct TableData<'a> {
    rows: u64,
    outcomes: &'a BTreeSet<String>,
}

impl HtmlReport {
    /// Creates (or truncates) the file, mode 0600, refusing a symlink, and writes the page's head
    /// and the table's header.
    pub fn create(path: &Path) -> io::Result<Self> {
        let file = create_private(path)?;
        let nonce = nonce()?;
        let mut report = HtmlReport {
            out: BufWriter::with_capacity(1 << 16, file),
            nonce,
            rows_in_table: 0,
            outcomes: BTreeSet::new(),
            skipped_lines: BTreeMap::new(),
            buf: String::with_capacity(1024),
        };
        report.head()?;
        Ok(report)
    }

    fn head(&mut self) -> io::Result<()> {
        let n = &self.nonce;
        // The policy comes first so it governs everything after it: nothing may be fetched
        // (`default-src 'none'`), and only this page's own style and scripts (which carry the
        // nonce) run; a value that escaped its escaping still could not run or load anything.
        let mut decisions = String::new();
        for d in Decision::ALL {
            let _ = write!(decisions, "<option value=\"{0}\">{0}</option>", d.as_str());
        }
        write!(
            self.out,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
             script-src 'nonce-{n}'; style-src 'nonce-{n}'; img-src 'none'; font-src 'none'; \
             connect-src 'none'; base-uri 'none'; form-action 'none'\">\n\
             <meta name=\"referrer\" content=\"no-referrer\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>importhook preview</title>\n<style nonce=\"{n}\">\n{STYLE}</style>\n\
             <script nonce=\"{n}\">{HEAD_SCRIPT}</script>\n</head>\n<body>\n\
             <header><h1>importhook preview</h1>\
             <p class=\"muted\">What the import will do, row by row, before Okta runs it. \
             This page holds profile data: keep it private.</p></header>\n\
             <section id=\"rows-section\"><h2>Rows that change</h2>\
             <p class=\"muted\">Renamed, linked, in conflict, refused, colliding with another row \
             of the file, or with a plugin failure. Rows created or left as they are without a \
             failure are counted in the summary only.</p>\n\
             <noscript><p>The table needs JavaScript; the JSON Lines report (<code>--out</code>) holds every row too.</p></noscript>\n\
             <form id=\"filters\">\
             <label>Decision<select id=\"filter-decision\"><option value=\"\">any</option>{decisions}</select></label>\
             <label>Plugin<select id=\"filter-plugin\"><option value=\"\">any</option></select></label>\
             <label>Outcome<select id=\"filter-outcome\"><option value=\"\">any</option></select></label>\
             <label>Login contains<input id=\"filter-q\" type=\"search\" autocomplete=\"off\"></label>\
             <output id=\"shown-count\"></output></form>\n\
             <table id=\"rows\"><thead><tr><th>Line</th><th>Decision</th><th>Login before</th>\
             <th>Login after</th><th>Action</th><th>Conflicts</th><th>Collides with line</th>\
             <th>Plugins</th><th>Time</th><th>Error</th></tr></thead>\n<tbody id=\"rows-body\"></tbody></table>\n\
             <p class=\"pager\"><button type=\"button\" id=\"page-prev\">Previous</button> \
             <span id=\"page-info\"></span> <button type=\"button\" id=\"page-next\">Next</button></p>\n"
        )
    }

    /// Adds the row to the table when it changes something ([`RowReport::changes_something`]);
    /// the others are counted in the summary only. The row is written at once, as JSON inside a
    /// data block (a browser parses that far faster than tens of thousands of table rows); the
    /// page's script renders the table from it a page at a time.
    pub fn row(&mut self, row: &RowReport) -> io::Result<()> {
        if !row.changes_something() {
            return Ok(());
        }
        for run in &row.plugins {
            if self.outcomes.len() < MAX_OUTCOMES && !self.outcomes.contains(&run.outcome) {
                self.outcomes.insert(run.outcome.clone());
            }
        }
        let runs: Vec<(&str, &str, u64)> = row
            .plugins
            .iter()
            .map(|r| (r.plugin.as_str(), r.outcome.as_str(), r.latency_us))
            .collect();
        // Positional, to keep 30,000 rows small; page.js reads the same order.
        let compact = (
            row.line,
            row.decision,
            &row.login_before,
            &row.login_after,
            &row.action,
            &row.linked_user_id,
            &row.conflicts,
            row.collision_with_line,
            runs,
            row.latency_us,
            &row.error,
        );
        let json = escape::json_for_script(&compact).map_err(io::Error::other)?;
        let b = &mut self.buf;
        b.clear();
        if self.rows_in_table.is_multiple_of(ROWS_PER_BLOCK) {
            if self.rows_in_table > 0 {
                b.push_str("]</script>\n");
            }
            b.push_str("<script type=\"application/json\" class=\"rows\">[");
        } else {
            b.push(',');
        }
        b.push_str(&json);
        b.push('\n');
        self.rows_in_table += 1;
        self.out.write_all(b.as_bytes())
    }

    /// Notes a skipped row: the page lists the first line numbers of each reason (additive to the
    /// summary's counts, which come from [`Summary::skipped_reasons`]).
    pub fn skipped(&mut self, skipped: &Skipped) -> io::Result<()> {
        if let Some(lines) = self.skipped_lines.get_mut(&skipped.reason) {
            if lines.len() < MAX_SKIPPED_LINES {
                lines.push(skipped.line);
            }
        } else if self.skipped_lines.len() < MAX_SKIPPED_REASONS {
            self.skipped_lines
                .insert(skipped.reason.clone(), vec![skipped.line]);
        }
        Ok(())
    }

    /// The rows written to the table so far.
    pub fn rows_in_table(&self) -> u64 {
        self.rows_in_table
    }

    /// Writes the summary, the page data and the script, closes the page and syncs the file.
    pub fn finish(mut self, summary: &Summary) -> io::Result<()> {
        let mut s = String::with_capacity(8192);
        if self.rows_in_table > 0 {
            s.push_str("]</script>\n");
        }

        if self.rows_in_table == 0 {
            s.push_str("<p id=\"no-rows\">No row changes anything.</p>\n");
        }
        s.push_str("</section>\n");
        summary::render(&mut s, summary, &self.skipped_lines);
        s.push_str(
            "<footer><p id=\"network-check\">Checking what this page loads needs JavaScript.</p>\
             <p class=\"muted\">Made by <code>importhook preview</code>.</p></footer>\n",
        );
        let data = PageData {
            summary,
            table: TableData {
                rows: self.rows_in_table,
                outcomes: &self.outcomes,
            },
        };
        let json = escape::json_for_script(&data).map_err(io::Error::other)?;
        let n = &self.nonce;
        let _ = write!(
            s,
            "<script type=\"application/json\" id=\"page-data\">{json}</script>\n\
             <script nonce=\"{n}\">\n{SCRIPT}</script>\n</body></html>\n"
        );
        self.out.write_all(s.as_bytes())?;
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()
    }
}

/// A fresh nonce for the page's policy: 128 bits from the kernel.
fn nonce() -> io::Result<String> {
    let mut bytes = [0u8; 16];
    File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    let mut hex = String::with_capacity(32);
    for b in bytes {
        let _ = write!(hex, "{b:02x}");
    }
    Ok(hex)
}

#[cfg(test)]
mod tests;
