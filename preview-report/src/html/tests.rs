//! The page's markup as written: escaping, streaming order and the file's rules. (What a browser
//! makes of it: tests/browser.rs.)

use super::*;
use crate::testdir::TestDir;
use crate::types::{Percentiles, PluginRun, zero_decisions};

const HOSTILE: &str = "</td></tr></tbody></table><script>document.title='pwned'</script>\"'&<!--";

fn row(line: u64, decision: Decision, login: &str) -> RowReport {
    RowReport {
        line,
        decision,
        login_before: login.to_owned(),
        login_after: login.to_owned(),
        action: "CREATE_USER".into(),
        linked_user_id: None,
        conflicts: vec![],
        collision_with_line: None,
        plugins: vec![PluginRun {
            plugin: "p".into(),
            outcome: "ok".into(),
            latency_us: 10,
        }],
        latency_us: 20,
        error: None,
    }
}

fn summary(source: &str) -> Summary {
    Summary {
        source: source.into(),
        rows: 3,
        skipped: 0,
        skipped_reasons: BTreeMap::new(),
        decisions: zero_decisions(),
        collisions_in_file: 0,
        plugin_failures: vec![],
        time_per_user_us: Percentiles::default(),
        elapsed_ms: 1,
        plugins: vec!["p".into()],
    }
}

fn write(path: &Path, rows: &[RowReport], summary: &Summary) -> String {
    let mut report = HtmlReport::create(path).unwrap();
    for r in rows {
        report.row(r).unwrap();
    }
    report.finish(summary).unwrap();
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn untrusted_values_never_reach_the_page_unescaped() {
    let dir = TestDir::new("html-hostile");
    let path = dir.path().join("hostile.html");
    let mut r = row(2, Decision::Renamed, HOSTILE);
    r.plugins[0].plugin = HOSTILE.into();
    r.plugins[0].outcome = HOSTILE.into();
    r.error = Some(HOSTILE.into());
    r.linked_user_id = Some(HOSTILE.into());
    let mut s = summary(HOSTILE);
    s.plugins = vec![HOSTILE.into()];
    s.skipped_reasons.insert(HOSTILE.into(), 1);
    s.plugin_failures.push(crate::types::PluginFailure {
        plugin: HOSTILE.into(),
        outcome: HOSTILE.into(),
        count: 1,
    });
    let page = write(&path, &[r], &s);
    assert!(!page.contains(HOSTILE));
    assert!(!page.contains("<script>document.title"));
    // The page's own scripts and data blocks and nothing else: the head script, one block of rows,
    // the page data, the table's script.
    assert_eq!(page.matches("<script").count(), 4, "{page}");
    assert_eq!(page.matches("</script>").count(), 4);
    assert_eq!(page.matches("<!--").count(), 0);
}

#[test]
fn only_rows_that_change_something_are_in_the_table() {
    let dir = TestDir::new("html-changed");
    let path = dir.path().join("changed.html");
    let mut failed = row(4, Decision::Created, "c@example.com");
    failed.plugins[0].outcome = "timeout".into();
    let rows = [
        row(2, Decision::Created, "a@example.com"),
        row(3, Decision::Renamed, "b@example.com"),
        failed,
        row(5, Decision::Unchanged, "d@example.com"),
    ];
    let mut report = HtmlReport::create(&path).unwrap();
    for r in &rows {
        report.row(r).unwrap();
    }
    assert_eq!(report.rows_in_table(), 2);
    report.finish(&summary("users.csv")).unwrap();
    let page = std::fs::read_to_string(&path).unwrap();
    assert_eq!(page.matches("\"CREATE_USER\"").count(), 2);
    assert!(page.contains("b@example.com") && page.contains("c@example.com"));
    assert!(!page.contains("a@example.com") && !page.contains("d@example.com"));
}

#[test]
fn rows_are_on_disk_before_the_summary_exists() {
    let dir = TestDir::new("html-stream");
    let path = dir.path().join("stream.html");
    let mut report = HtmlReport::create(&path).unwrap();
    for line in 0..2_000 {
        report
            .row(&row(line + 2, Decision::Renamed, "streamed@example.com"))
            .unwrap();
    }
    // Written as they came (the buffer holds 64 KiB), not kept for `finish`.
    let on_disk = std::fs::read_to_string(&path).unwrap();
    assert!(on_disk.matches("streamed@example.com").count() > 1_000);
    assert!(!on_disk.contains("id=\"summary\""));
    report.finish(&summary("users.csv")).unwrap();
}

#[test]
fn the_page_forbids_every_load_and_each_run_gets_its_own_nonce() {
    let dir = TestDir::new("html-csp");
    let a = write(&dir.path().join("a.html"), &[], &summary("users.csv"));
    let b = write(&dir.path().join("b.html"), &[], &summary("users.csv"));
    let csp_of = |page: &str| {
        let start = page.find("Content-Security-Policy\" content=\"").unwrap();
        let rest = &page[start + 34..];
        rest[..rest.find('"').unwrap()].to_owned()
    };
    let csp = csp_of(&a);
    assert!(
        csp.starts_with("default-src 'none'; script-src 'nonce-"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe") && !csp.contains("http") && !csp.contains('*'));
    assert_ne!(csp, csp_of(&b));
    // No URL anywhere in the page's own markup, style or script.
    for scheme in ["http:", "https:", "//cdn", "url("] {
        assert!(!a.contains(scheme), "{scheme}");
    }
    assert!(a.contains("<p id=\"no-rows\">"));
}
