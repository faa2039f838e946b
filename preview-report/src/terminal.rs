//! The summary printed on the terminal: counts and times only, never a profile value.

use std::fmt::Write as _;

use crate::types::{Decision, Summary};

impl Summary {
    /// The summary as lines for a terminal. It holds counts, times, the input's file name, plugin
    /// names and skip reasons (which hold no profile value): nothing from the rows themselves.
    pub fn to_terminal(&self) -> String {
        let mut out = String::new();
        let previewed = self.rows.saturating_sub(self.skipped);
        let rate = match self.rows_per_second() {
            Some(r) => format!("{r:.0} rows/s"),
            None => "rate n/a".to_owned(),
        };
        let _ = writeln!(
            out,
            "Preview of {}: {} rows read, {} previewed, {} skipped in {} ({rate})",
            self.source,
            self.rows,
            previewed,
            self.skipped,
            duration_ms(self.elapsed_ms),
        );
        let _ = writeln!(out, "Decisions:");
        for d in Decision::ALL {
            let _ = writeln!(out, "  {:<10} {:>9}", d.as_str(), self.decision(d));
        }
        let _ = writeln!(
            out,
            "Collisions inside the file: {}",
            self.collisions_in_file
        );
        if self.skipped > 0 {
            let _ = writeln!(out, "Skipped rows: {}", self.skipped);
            for (reason, count) in &self.skipped_reasons {
                let _ = writeln!(out, "  {count:>9}  {reason}");
            }
        }
        if self.plugin_failures.is_empty() {
            let _ = writeln!(out, "Plugin failures: none");
        } else {
            let _ = writeln!(out, "Plugin failures:");
            for f in &self.plugin_failures {
                let _ = writeln!(out, "  {} {}: {}", f.plugin, f.outcome, f.count);
            }
        }
        let t = self.time_per_user_us;
        let _ = writeln!(
            out,
            "Time per user: p50 {}, p99 {}, max {}",
            duration_us(t.p50),
            duration_us(t.p99),
            duration_us(t.max)
        );
        out
    }
}

/// `850 µs`, `1.2 ms`, `2.50 s`.
pub(crate) fn duration_us(us: u64) -> String {
    if us < 1_000 {
        format!("{us} µs")
    } else if us < 1_000_000 {
        format!("{:.1} ms", us as f64 / 1_000.0)
    } else {
        format!("{:.2} s", us as f64 / 1_000_000.0)
    }
}

pub(crate) fn duration_ms(ms: u64) -> String {
    duration_us(ms.saturating_mul(1_000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Percentiles, PluginFailure, zero_decisions};

    #[test]
    fn the_terminal_summary_lists_every_count() {
        let mut decisions = zero_decisions();
        decisions.insert("renamed".into(), 12);
        decisions.insert("created".into(), 80);
        let summary = Summary {
            source: "users.csv".into(),
            rows: 100,
            skipped: 3,
            skipped_reasons: [("wrong number of fields".to_owned(), 3)].into(),
            decisions,
            collisions_in_file: 2,
            plugin_failures: vec![PluginFailure {
                plugin: "login-counter-suffix".into(),
                outcome: "timeout".into(),
                count: 4,
            }],
            time_per_user_us: Percentiles {
                p50: 850,
                p99: 12_300,
                max: 2_500_000,
            },
            elapsed_ms: 2_000,
            plugins: vec!["login-counter-suffix".into()],
        };
        let text = summary.to_terminal();
        for expected in [
            "Preview of users.csv: 100 rows read, 97 previewed, 3 skipped in 2.00 s (50 rows/s)",
            "  renamed           12",
            "  created           80",
            "  refused            0",
            "Collisions inside the file: 2",
            "Skipped rows: 3",
            "3  wrong number of fields",
            "  login-counter-suffix timeout: 4",
            "Time per user: p50 850 µs, p99 12.3 ms, max 2.50 s",
        ] {
            assert!(text.contains(expected), "{expected:?} not in\n{text}");
        }
    }
}
