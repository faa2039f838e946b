//! What a run adds up to: the counts of the summary (memory independent of the number of
//! rows), and the progress line on a terminal.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use importhook_preview_report::{Decision, Percentiles, PluginFailure, RowReport, Summary};

use super::input;

/// The counts of a run, in memory independent of the number of rows (but for the latency
/// histogram's fixed buckets).
#[derive(Default)]
pub(super) struct Tally {
    pub(super) rows: u64,
    pub(super) skipped: u64,
    pub(super) skipped_reasons: BTreeMap<String, u64>,
    decisions: BTreeMap<Decision, u64>,
    collisions: u64,
    failures: BTreeMap<(String, String), u64>,
    latency: Histogram,
    started: Option<Instant>,
}

impl Tally {
    /// Counts from now.
    pub(super) fn starting_now() -> Self {
        Self {
            started: Some(Instant::now()),
            ..Self::default()
        }
    }

    pub(super) fn add(&mut self, row: &RowReport) {
        self.rows += 1;
        *self.decisions.entry(row.decision).or_default() += 1;
        self.collisions += u64::from(row.collision_with_line.is_some());
        for run in &row.plugins {
            if run.outcome != "ok" && run.outcome != "changed" {
                *self
                    .failures
                    .entry((run.plugin.clone(), run.outcome.clone()))
                    .or_default() += 1;
            }
        }
        self.latency.record(row.latency_us);
    }

    pub(super) fn summary(&self, users: &Path, plugins: Vec<String>) -> Summary {
        Summary {
            source: users
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            rows: self.rows,
            skipped: self.skipped,
            skipped_reasons: self.skipped_reasons.clone(),
            decisions: Decision::ALL
                .iter()
                .map(|d| {
                    (
                        d.as_str().to_owned(),
                        self.decisions.get(d).copied().unwrap_or(0),
                    )
                })
                .collect(),
            collisions_in_file: self.collisions,
            plugin_failures: self
                .failures
                .iter()
                .map(|((plugin, outcome), count)| PluginFailure {
                    plugin: plugin.clone(),
                    outcome: outcome.clone(),
                    count: *count,
                })
                .collect(),
            time_per_user_us: Percentiles {
                p50: self.latency.quantile(0.50),
                p99: self.latency.quantile(0.99),
                max: self.latency.max,
            },
            elapsed_ms: self.started.map_or(0, |s| {
                u64::try_from(s.elapsed().as_millis()).unwrap_or(u64::MAX)
            }),
            plugins,
        }
    }
}

/// Latencies in log-linear buckets (exact below 1024 µs, then 64 per power of two: within
/// 1.6 %), so percentiles of a million rows take a few kilobytes.
struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            counts: vec![0; 1024 + 54 * 64],
            total: 0,
            max: 0,
        }
    }
}

impl Histogram {
    fn bucket(value: u64) -> usize {
        if value < 1024 {
            return value as usize;
        }
        let exponent = 63 - u64::from(value.leading_zeros());
        1024 + (exponent as usize - 10) * 64 + ((value >> (exponent - 6)) & 63) as usize
    }

    fn floor(bucket: usize) -> u64 {
        if bucket < 1024 {
            return bucket as u64;
        }
        let exponent = (bucket - 1024) / 64 + 10;
        let step = ((bucket - 1024) % 64) as u64;
        (1 << exponent) + (step << (exponent - 6))
    }

    fn record(&mut self, value: u64) {
        self.counts[Self::bucket(value)] += 1;
        self.total += 1;
        self.max = self.max.max(value);
    }

    fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((self.total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (bucket, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Self::floor(bucket).min(self.max);
            }
        }
        self.max
    }
}

/// Counts the rows of the file for the progress line's ETA (a terminal only).
pub(super) fn count_rows(path: &Path, format: input::Format) -> u64 {
    input::open(path, format).map_or(0, |rows| rows.count() as u64)
}

/// The progress line on stderr, on a terminal only: rows done, rate, ETA.
pub(super) struct Progress {
    total: Option<u64>,
    started: Instant,
    shown: Instant,
}

impl Progress {
    pub(super) fn new(total: Option<u64>) -> Self {
        let now = Instant::now();
        Self {
            total,
            started: now,
            shown: now,
        }
    }

    pub(super) fn tick(&mut self, done: u64) {
        let Some(total) = self.total else { return };
        if self.shown.elapsed() < Duration::from_millis(200) {
            return;
        }
        self.shown = Instant::now();
        let rate = done as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
        let eta = total.saturating_sub(done) as f64 / rate.max(1e-3);
        let _ = write!(
            std::io::stderr().lock(),
            "\r{done}/{total} rows  {rate:.0} rows/s  ETA {eta:.0} s   "
        );
    }

    pub(super) fn done(&self) {
        if self.total.is_some() {
            let _ = writeln!(std::io::stderr().lock());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_keeps_percentiles_within_its_precision() {
        let mut histogram = Histogram::default();
        for value in 1..=100_000u64 {
            histogram.record(value);
        }
        let p50 = histogram.quantile(0.5);
        let p99 = histogram.quantile(0.99);
        assert!((49_000..=50_000).contains(&p50), "{p50}");
        assert!((97_500..=99_000).contains(&p99), "{p99}");
        assert_eq!(histogram.max, 100_000);
        for value in [0, 1, 1023, 1024, 5000, u64::from(u32::MAX)] {
            let floor = Histogram::floor(Histogram::bucket(value));
            assert!(
                floor <= value && value - floor <= value / 64,
                "{value} {floor}"
            );
        }
    }
}
