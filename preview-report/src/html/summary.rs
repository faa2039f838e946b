//! The page's summary section: the counts (each in an element with a stable id), the chart of
//! the decisions, plugin failures, time per user and skipped rows by reason.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::escape;
use crate::terminal::{duration_ms, duration_us};
use crate::types::{Decision, Summary};

pub(super) fn render(
    s: &mut String,
    summary: &Summary,
    skipped_lines: &BTreeMap<String, Vec<u64>>,
) {
    s.push_str("<section id=\"summary\"><h2>Preview of <span id=\"source\">");
    escape::text(s, &summary.source);
    s.push_str("</span></h2>\n<p>");
    let rate = summary
        .rows_per_second()
        .map(|r| format!(", {r:.0} rows/s"))
        .unwrap_or_default();
    let _ = write!(
        s,
        "<span id=\"count-rows\">{}</span> rows read in <span id=\"elapsed\" data-ms=\"{}\">{}</span>{rate}. Plugins, in pipeline order: ",
        summary.rows,
        summary.elapsed_ms,
        duration_ms(summary.elapsed_ms)
    );
    if summary.plugins.is_empty() {
        s.push_str("none");
    }
    for (i, p) in summary.plugins.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str("<code>");
        escape::text(s, p);
        s.push_str("</code>");
    }
    s.push_str(".</p>\n<div class=\"counts\">");
    for d in Decision::ALL {
        count(
            s,
            &format!("count-{}", d.as_str()),
            summary.decision(d),
            d.as_str(),
            false,
        );
    }
    count(
        s,
        "count-collisions",
        summary.collisions_in_file,
        "collisions inside the file",
        summary.collisions_in_file > 0,
    );
    let failures: u64 = summary.plugin_failures.iter().map(|f| f.count).sum();
    count(
        s,
        "count-plugin-failures",
        failures,
        "plugin failures",
        failures > 0,
    );
    count(
        s,
        "count-skipped",
        summary.skipped,
        "rows skipped",
        summary.skipped > 0,
    );
    s.push_str("</div>\n");
    chart(s, summary);
    failures_table(s, summary);
    let t = summary.time_per_user_us;
    let _ = writeln!(
        s,
        "<h3>Time per user</h3><p id=\"time-per-user\">p50 <span id=\"time-p50\" data-us=\"{}\">{}</span>, \
         p99 <span id=\"time-p99\" data-us=\"{}\">{}</span>, max <span id=\"time-max\" data-us=\"{}\">{}</span> \
         (the whole pipeline for one row).</p>",
        t.p50,
        duration_us(t.p50),
        t.p99,
        duration_us(t.p99),
        t.max,
        duration_us(t.max)
    );
    skipped_table(s, summary, skipped_lines);
    s.push_str("</section>\n");
}

fn count(s: &mut String, id: &str, n: u64, label: &str, warn: bool) {
    let class = if warn { "count warn" } else { "count" };
    let _ = write!(
        s,
        "<div class=\"{class}\"><span class=\"n\" id=\"{id}\">{n}</span>{label}</div>"
    );
}

/// Horizontal bars, one per decision, scaled to the largest count.
fn chart(s: &mut String, summary: &Summary) {
    const ROW: u64 = 26;
    const LABEL: u64 = 90;
    const WIDTH: u64 = 420;
    let max = Decision::ALL
        .iter()
        .map(|d| summary.decision(*d))
        .max()
        .unwrap_or(0)
        .max(1);
    let height = ROW * Decision::ALL.len() as u64;
    let _ = write!(
        s,
        "<h3>Decisions</h3><svg id=\"decision-chart\" role=\"img\" aria-label=\"Rows by decision\" \
         width=\"{w}\" height=\"{height}\" viewBox=\"0 0 {w} {height}\">",
        w = LABEL + WIDTH + 80
    );
    for (i, d) in Decision::ALL.iter().enumerate() {
        let n = summary.decision(*d);
        let y = i as u64 * ROW;
        // Never zero-width for a non-zero count: a single row stays visible.
        let w = if n == 0 { 0 } else { (n * WIDTH / max).max(2) };
        let _ = write!(
            s,
            "<g data-decision=\"{name}\" data-count=\"{n}\"><text x=\"0\" y=\"{ty}\">{name}</text>\
             <rect class=\"bar-{name}\" x=\"{LABEL}\" y=\"{ry}\" width=\"{w}\" height=\"{h}\"></rect>\
             <text x=\"{tx}\" y=\"{ty}\">{n}</text></g>",
            name = d.as_str(),
            ty = y + 17,
            ry = y + 4,
            h = ROW - 8,
            tx = LABEL + w + 6,
        );
    }
    s.push_str("</svg>\n");
}

fn failures_table(s: &mut String, summary: &Summary) {
    s.push_str("<h3>Plugin failures</h3>");
    if summary.plugin_failures.is_empty() {
        s.push_str("<p id=\"plugin-failures\">None: every plugin answered on every row.</p>\n");
        return;
    }
    s.push_str(
        "<table id=\"plugin-failures\"><thead><tr><th>Plugin</th><th>Outcome</th><th>Rows</th></tr></thead><tbody>",
    );
    for f in &summary.plugin_failures {
        s.push_str("<tr data-plugin=\"");
        escape::attr(s, &f.plugin);
        s.push_str("\" data-outcome=\"");
        escape::attr(s, &f.outcome);
        s.push_str("\"><td>");
        escape::text(s, &f.plugin);
        s.push_str("</td><td>");
        escape::text(s, &f.outcome);
        let _ = write!(s, "</td><td>{}</td></tr>", f.count);
    }
    s.push_str("</tbody></table>\n");
}

fn skipped_table(s: &mut String, summary: &Summary, skipped_lines: &BTreeMap<String, Vec<u64>>) {
    s.push_str("<h3>Skipped rows</h3>");
    if summary.skipped_reasons.is_empty() {
        s.push_str("<p id=\"skipped-reasons\">None: every row was read.</p>\n");
        return;
    }
    s.push_str(
        "<table id=\"skipped-reasons\"><thead><tr><th>Reason</th><th>Rows</th><th>Lines</th></tr></thead><tbody>",
    );
    for (reason, n) in &summary.skipped_reasons {
        s.push_str("<tr><td>");
        escape::text(s, reason);
        let _ = write!(s, "</td><td>{n}</td><td>");
        if let Some(lines) = skipped_lines.get(reason) {
            for (i, line) in lines.iter().enumerate() {
                let _ = write!(s, "{}{line}", if i > 0 { ", " } else { "" });
            }
            if (lines.len() as u64) < *n {
                s.push_str(", …");
            }
        }
        s.push_str("</td></tr>");
    }
    s.push_str("</tbody></table>\n");
}
