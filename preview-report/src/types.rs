//! The report's data: one row's outcome, a skipped row, and the run's summary (counts only).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What the import will do with one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// CREATE_USER with the login it came with (the hook changed no login).
    Created,
    /// CREATE_USER with a login the plugins changed.
    Renamed,
    /// LINK_USER to an existing Okta user (`linked_user_id`).
    Linked,
    /// The row matched an existing user and nothing changes for it.
    Unchanged,
    /// Left in conflict: Okta would stop on it (its login still collides).
    Conflict,
    /// The hook answers an `error`.
    Refused,
}

impl Decision {
    /// Every decision, in the order the report lists them.
    pub const ALL: [Decision; 6] = [
        Decision::Created,
        Decision::Renamed,
        Decision::Linked,
        Decision::Unchanged,
        Decision::Conflict,
        Decision::Refused,
    ];

    /// The JSON name (`renamed`), also the key in [`Summary::decisions`].
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Created => "created",
            Decision::Renamed => "renamed",
            Decision::Linked => "linked",
            Decision::Unchanged => "unchanged",
            Decision::Conflict => "conflict",
            Decision::Refused => "refused",
        }
    }

    /// Whether the import does what it would have done without the hook.
    fn is_neutral(self) -> bool {
        matches!(self, Decision::Created | Decision::Unchanged)
    }
}

/// One plugin's run on one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginRun {
    pub plugin: String,
    /// `ok`, `changed`, or a failure as the engine names it (`timeout`, `trap`, ...).
    pub outcome: String,
    pub latency_us: u64,
}

impl PluginRun {
    /// Whether the plugin failed on this row (any outcome other than `ok` and `changed`).
    pub fn failed(&self) -> bool {
        !is_success_outcome(&self.outcome)
    }
}

/// Whether a plugin outcome is a success: the ones [`Summary::plugin_failures`] leaves out.
pub fn is_success_outcome(outcome: &str) -> bool {
    matches!(outcome, "ok" | "changed")
}

/// One row of the import and what the hook makes of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowReport {
    /// 1-based line of the input file (CSV: the header is line 1).
    pub line: u64,
    pub decision: Decision,
    /// The login as projected from the row.
    pub login_before: String,
    /// The login the import will use (the same as before unless renamed).
    pub login_after: String,
    /// `CREATE_USER` or `LINK_USER`.
    pub action: String,
    pub linked_user_id: Option<String>,
    /// `context.conflicts` sent to the hook, e.g. `["login"]`.
    pub conflicts: Vec<String>,
    /// Another row of the same file that ends with the same login.
    pub collision_with_line: Option<u64>,
    pub plugins: Vec<PluginRun>,
    /// The whole pipeline for this row.
    pub latency_us: u64,
    /// The error summary the hook would answer (no profile value).
    pub error: Option<String>,
}

impl RowReport {
    /// Whether the row belongs in the page's table: the hook changes what the import does
    /// (a decision other than `created`/`unchanged`), or the row collides with another one of the
    /// file, or a plugin failed on it.
    pub fn changes_something(&self) -> bool {
        !self.decision.is_neutral()
            || self.collision_with_line.is_some()
            || self.plugins.iter().any(PluginRun::failed)
    }
}

/// A malformed row, skipped. `reason` holds no profile value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub line: u64,
    pub reason: String,
}

/// How many rows one plugin failed on with one outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginFailure {
    pub plugin: String,
    pub outcome: String,
    pub count: u64,
}

/// Time per user, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50: u64,
    pub p99: u64,
    pub max: u64,
}

/// The whole run in counts: no profile value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// The file name of `--users` (no directory).
    pub source: String,
    /// Rows read, skipped ones included.
    pub rows: u64,
    pub skipped: u64,
    pub skipped_reasons: BTreeMap<String, u64>,
    /// Every decision's name with its count (all six keys, zero included).
    pub decisions: BTreeMap<String, u64>,
    pub collisions_in_file: u64,
    /// Outcomes other than `ok`/`changed`, by plugin and outcome.
    pub plugin_failures: Vec<PluginFailure>,
    pub time_per_user_us: Percentiles,
    pub elapsed_ms: u64,
    /// The plugin set, in pipeline order.
    pub plugins: Vec<String>,
}

impl Summary {
    /// The count for one decision (0 when the key is absent).
    pub fn decision(&self, decision: Decision) -> u64 {
        self.decisions.get(decision.as_str()).copied().unwrap_or(0)
    }

    /// Rows per second over the whole run, when any time elapsed.
    pub fn rows_per_second(&self) -> Option<f64> {
        (self.elapsed_ms > 0).then(|| self.rows as f64 * 1000.0 / self.elapsed_ms as f64)
    }
}

/// All six decision keys at zero: a start for [`Summary::decisions`].
pub fn zero_decisions() -> BTreeMap<String, u64> {
    Decision::ALL
        .iter()
        .map(|d| (d.as_str().to_owned(), 0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(decision: Decision) -> RowReport {
        RowReport {
            line: 2,
            decision,
            login_before: "a@example.com".into(),
            login_after: "a@example.com".into(),
            action: "CREATE_USER".into(),
            linked_user_id: None,
            conflicts: vec![],
            collision_with_line: None,
            plugins: vec![PluginRun {
                plugin: "p".into(),
                outcome: "ok".into(),
                latency_us: 3,
            }],
            latency_us: 5,
            error: None,
        }
    }

    #[test]
    fn decisions_serialize_in_snake_case_and_as_str_agrees() {
        for d in Decision::ALL {
            let json = serde_json::to_string(&d).unwrap();
            assert_eq!(json, format!("\"{}\"", d.as_str()));
            assert_eq!(serde_json::from_str::<Decision>(&json).unwrap(), d);
        }
        assert_eq!(zero_decisions().len(), 6);
    }

    #[test]
    fn a_row_changes_something_when_the_hook_acts_a_login_collides_or_a_plugin_fails() {
        assert!(!row(Decision::Created).changes_something());
        assert!(!row(Decision::Unchanged).changes_something());
        for d in [
            Decision::Renamed,
            Decision::Linked,
            Decision::Conflict,
            Decision::Refused,
        ] {
            assert!(row(d).changes_something(), "{d:?}");
        }
        let mut collides = row(Decision::Created);
        collides.collision_with_line = Some(7);
        assert!(collides.changes_something());
        let mut failed = row(Decision::Unchanged);
        failed.plugins[0].outcome = "timeout".into();
        assert!(failed.changes_something());
        failed.plugins[0].outcome = "changed".into();
        assert!(!failed.changes_something());
    }
}
