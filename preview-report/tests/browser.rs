//! The HTML report in a real headless Chromium: the counts it shows, the rows its table holds,
//! the URL fragment's filters, hostile values shown as text, and no network request.
//! Chromium missing fails these tests (Debian: `apt-get install chromium`; `.ci/run` does it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use importhook_preview_report::browser::{self, PageLoad, Row};
use importhook_preview_report::{
    Decision, HtmlReport, Percentiles, PluginFailure, PluginRun, RowReport, Skipped, Summary,
    zero_decisions,
};

/// Markup, a script that would mark the page, a closing script tag, quotes, a comment opener, a
/// load from the network (the canary host, which the proxy would see), U+2028.
const HOSTILE: &str = "<script>document.title='pwned'</script></script>\"q\" 'a' <!-- \
                       <img src=\"http://canary.invalid/escaped.png\" onerror=\"document.title='pwned'\">\u{2028}";

/// A scratch directory per test, removed when the test ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "preview-report-browser-{}-{test}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch directory");
        Scratch(dir)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(plugin: &str, outcome: &str) -> PluginRun {
    PluginRun {
        plugin: plugin.into(),
        outcome: outcome.into(),
        latency_us: 420,
    }
}

fn row(line: u64, decision: Decision, before: &str, after: &str) -> RowReport {
    RowReport {
        line,
        decision,
        login_before: before.into(),
        login_after: after.into(),
        action: if decision == Decision::Linked {
            "LINK_USER"
        } else {
            "CREATE_USER"
        }
        .into(),
        linked_user_id: (decision == Decision::Linked).then(|| "00u1abcd".to_owned()),
        conflicts: if decision == Decision::Created {
            vec![]
        } else {
            vec!["login".into()]
        },
        collision_with_line: None,
        plugins: vec![
            run("normalize-login", "ok"),
            run("login-counter-suffix", "ok"),
        ],
        latency_us: 900,
        error: None,
    }
}

/// The known rows: which ones are in the table, and the summary their counts make.
fn fixture() -> (Vec<RowReport>, Vec<Skipped>, Summary) {
    let mut rows = vec![
        row(2, Decision::Created, "ann@example.com", "ann@example.com"),
        row(
            3,
            Decision::Renamed,
            "bob.smith@example.com",
            "bob.smith2@example.com",
        ),
        row(
            4,
            Decision::Renamed,
            "carl@example.com",
            "carl2@example.com",
        ),
        row(5, Decision::Linked, "dora@example.com", "dora@example.com"),
        row(6, Decision::Unchanged, "eve@example.com", "eve@example.com"),
        row(
            7,
            Decision::Conflict,
            "fay.SMITH@example.com",
            "fay.SMITH@example.com",
        ),
        row(8, Decision::Refused, "gus@example.com", "gus@example.com"),
        row(9, Decision::Created, "hal@example.com", "hal@example.com"),
        row(
            10,
            Decision::Unchanged,
            "ida@example.com",
            "ida@example.com",
        ),
        row(12, Decision::Renamed, HOSTILE, HOSTILE),
    ];
    rows[2].plugins[1].outcome = "changed".into();
    rows[1].plugins[1].outcome = "changed".into();
    rows[6].plugins[1] = run("login-counter-suffix", "timeout");
    rows[6].error = Some(format!("plugin refused: {HOSTILE}"));
    rows[7].collision_with_line = Some(2);
    rows[8].plugins[0] = run("normalize-login", "trap");
    rows[9].plugins[1] = run(HOSTILE, "changed");
    let skipped = vec![Skipped {
        line: 11,
        reason: "wrong number of fields".into(),
    }];
    let mut decisions = zero_decisions();
    for r in &rows {
        *decisions
            .get_mut(r.decision.as_str())
            .expect("every decision has a key") += 1;
    }
    let summary = Summary {
        source: format!("users {HOSTILE}.csv"),
        rows: 11,
        skipped: 1,
        skipped_reasons: BTreeMap::from([("wrong number of fields".to_owned(), 1)]),
        decisions,
        collisions_in_file: 1,
        plugin_failures: vec![
            PluginFailure {
                plugin: "login-counter-suffix".into(),
                outcome: "timeout".into(),
                count: 1,
            },
            PluginFailure {
                plugin: "normalize-login".into(),
                outcome: "trap".into(),
                count: 1,
            },
        ],
        time_per_user_us: Percentiles {
            p50: 900,
            p99: 1_800,
            max: 2_500,
        },
        elapsed_ms: 40,
        plugins: vec!["normalize-login".into(), "login-counter-suffix".into()],
    };
    (rows, skipped, summary)
}

fn write(path: &Path, rows: &[RowReport], skipped: &[Skipped], summary: &Summary) {
    let mut report = HtmlReport::create(path).expect("create the report");
    for r in rows {
        report.row(r).expect("write a row");
    }
    for s in skipped {
        report.skipped(s).expect("note a skipped row");
    }
    report.finish(summary).expect("finish the report");
}

/// The line numbers of the rows the table shows.
fn lines(rows: &[Row]) -> Vec<u64> {
    rows.iter()
        .map(|r| r.cells[0].parse().expect("a line number"))
        .collect()
}

/// Nothing left the page: its own check saw no load (resource timing lists blocked ones too) and
/// the proxy saw no request for the canary host.
fn assert_no_network(load: &PageLoad) {
    assert_eq!(
        load.dom.attr("network-check", "data-requests").as_deref(),
        Some("0")
    );
    assert!(
        !load.proxied.iter().any(|l| l.contains("canary")),
        "{:?}",
        load.proxied
    );
}

#[test]
fn the_page_shows_the_summary_and_exactly_the_rows_that_change() {
    let dir = Scratch::new("summary");
    let (rows, skipped, summary) = fixture();
    let path = dir.join("report.html");
    write(&path, &rows, &skipped, &summary);
    let load = browser::load(&path, "").unwrap();
    let dom = &load.dom;

    for d in Decision::ALL {
        let shown = dom.text(&format!("count-{}", d.as_str())).unwrap();
        assert_eq!(shown, summary.decision(d).to_string(), "{d:?}");
        let bar = dom
            .elements("g")
            .into_iter()
            .find(|a| {
                a.iter()
                    .any(|(n, v)| n == "data-decision" && v == d.as_str())
            })
            .unwrap();
        assert!(bar.contains(&("data-count".into(), summary.decision(d).to_string())));
    }
    let shown = browser::shown_counts(dom);
    assert_eq!(shown, browser::expected_counts(&summary));
    assert_eq!(shown["rows"], 11);
    assert_eq!(shown["collisions"], 1);
    assert_eq!(shown["plugin-failures"], 2);
    assert_eq!(shown["skipped"], 1);
    assert_eq!(dom.attr("time-p99", "data-us").as_deref(), Some("1800"));
    let failures = dom.rows("plugin-failures");
    assert_eq!(
        failures[1].cells,
        vec!["login-counter-suffix", "timeout", "1"]
    );
    assert_eq!(failures[2].cells, vec!["normalize-login", "trap", "1"]);
    let skipped_rows = dom.rows("skipped-reasons");
    assert_eq!(
        skipped_rows[1].cells,
        vec!["wrong number of fields", "1", "11"]
    );

    // The table: every row that changes something, none of the others, all shown.
    let table = dom.rows("rows-body");
    let expected: Vec<u64> = rows
        .iter()
        .filter(|r| r.changes_something())
        .map(|r| r.line)
        .collect();
    assert_eq!(expected, vec![3, 4, 5, 7, 8, 9, 10, 12]);
    assert_eq!(lines(&table), expected);
    assert_eq!(dom.text("shown-count").unwrap(), "8 of 8 rows shown");
    assert_eq!(
        dom.text("page-info").unwrap(),
        "rows 1–8 of 8 (page 1 of 1)"
    );

    // Hostile values are text: exactly as given, in the cells, the title and the source name;
    // no element came from them and no script of theirs ran.
    let hostile_row = table.iter().find(|r| r.cells[0] == "12").unwrap();
    assert_eq!(hostile_row.cells[2], HOSTILE);
    assert_eq!(hostile_row.cells[3], HOSTILE);
    assert!(hostile_row.cells[7].contains(&format!("{HOSTILE}: changed")));
    let refused = table.iter().find(|r| r.cells[0] == "8").unwrap();
    assert_eq!(refused.cells[9], format!("plugin refused: {HOSTILE}"));
    assert_eq!(dom.text("source").unwrap(), format!("users {HOSTILE}.csv"));
    let title = dom
        .html()
        .split("<title>")
        .nth(1)
        .unwrap()
        .split("</title>")
        .next()
        .unwrap();
    assert!(title.starts_with("Preview of users "), "{title}");
    assert!(!dom.html().contains("pwned</title>"));
    assert_eq!(dom.count_tag("img"), 0);
    // The head script, one block of rows, the page data, the table's script.
    assert_eq!(dom.count_tag("script"), 4);
    assert_no_network(&load);
    assert!(
        dom.text("network-check")
            .unwrap()
            .contains("loaded nothing from the network")
    );
    println!(
        "10-row page: {:?} from start to exit of chromium",
        load.elapsed
    );
}

#[test]
fn the_url_fragment_filters_the_table() {
    let dir = Scratch::new("url");
    let (rows, skipped, summary) = fixture();
    let path = dir.join("filtered.html");
    write(&path, &rows, &skipped, &summary);
    for (fragment, expected) in [
        ("decision=renamed", vec![3, 4, 12]),
        ("q=SMITH", vec![3, 7]),
        ("decision=renamed&q=smith", vec![3]),
        ("outcome=timeout", vec![8]),
        ("plugin=normalize-login&outcome=trap", vec![10]),
        ("plugin=login-counter-suffix&outcome=changed", vec![3, 4]),
        ("q=%3Cscript%3E", vec![12]),
        ("decision=linked&outcome=trap", vec![]),
    ] {
        let load = browser::load(&path, fragment).unwrap();
        let table = load.dom.rows("rows-body");
        assert_eq!(lines(&table), expected, "{fragment}");
        assert_eq!(
            load.dom.text("shown-count").unwrap(),
            format!("{} of 8 rows shown", expected.len()),
            "{fragment}"
        );
        assert_eq!(
            load.dom.attr("shown-count", "data-shown").unwrap(),
            expected.len().to_string()
        );
        assert_eq!(load.dom.attr("shown-count", "data-total").unwrap(), "8");
        assert_no_network(&load);
    }
}

/// Typing in the filters and turning the page write the filter to the URL fragment. A harness
/// page frames the report (`--allow-file-access-from-files` lets it reach into the frame), drives
/// its controls as a user would and writes what it saw into its own DOM.
#[test]
fn the_filters_write_themselves_to_the_url_fragment() {
    let dir = Scratch::new("filters");
    let (rows, skipped, summary) = fixture();
    let report = dir.join("driven.html");
    write(&report, &rows, &skipped, &summary);
    let harness = dir.join("harness.html");
    std::fs::write(
        &harness,
        r#"<!DOCTYPE html><html><body><p id="typed"></p><p id="cleared"></p><p id="reloaded"></p>
<iframe id="f" src="driven.html#decision=renamed"></iframe>
<script>
var f = document.getElementById("f");
f.addEventListener("load", function () {
  var d = f.contentDocument, w = f.contentWindow;
  var q = d.getElementById("filter-q");
  q.value = "SMITH";
  q.dispatchEvent(new Event("input"));
  setTimeout(function () {
    document.getElementById("typed").textContent =
      w.location.hash + "|" + d.getElementById("shown-count").textContent;
    var sel = d.getElementById("filter-decision");
    sel.value = "";
    sel.dispatchEvent(new Event("input"));
    setTimeout(function () {
      document.getElementById("cleared").textContent =
        w.location.hash + "|" + d.getElementById("shown-count").textContent;
      w.location.hash = "outcome=trap";
      setTimeout(function () {
        document.getElementById("reloaded").textContent =
          w.location.hash + "|" + d.getElementById("shown-count").textContent +
          "|" + d.getElementById("filter-outcome").value;
      }, 300);
    }, 300);
  }, 300);
});
</script></body></html>"#,
    )
    .unwrap();
    let load = browser::load_with(&harness, "", &["--allow-file-access-from-files"]).unwrap();
    assert_eq!(
        load.dom.text("typed").unwrap(),
        "#decision=renamed&q=SMITH|1 of 8 rows shown"
    );
    // Clearing the decision drops it from the fragment; a fragment set from outside filters too.
    assert_eq!(
        load.dom.text("cleared").unwrap(),
        "#q=SMITH|2 of 8 rows shown"
    );
    assert_eq!(
        load.dom.text("reloaded").unwrap(),
        "#outcome=trap|1 of 8 rows shown|trap"
    );
}

/// The two network checks above can fail: a page that loads from the network is seen by the
/// proxy, and a report with markup slipped past its escaping is stopped by its policy and says so.
#[test]
fn the_network_checks_see_a_page_that_loads_something() {
    let dir = Scratch::new("network");
    let control = dir.join("control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><html><body><img src=\"http://canary.invalid/control.png\"></body></html>",
    )
    .unwrap();
    let load = browser::load(&control, "").unwrap();
    assert!(
        load.proxied
            .iter()
            .any(|l| l.contains("canary.invalid/control.png")),
        "{:?}",
        load.proxied
    );

    let (rows, skipped, summary) = fixture();
    let tampered = dir.join("tampered.html");
    write(&tampered, &rows, &skipped, &summary);
    let page = std::fs::read_to_string(&tampered).unwrap();
    let page = page.replacen(
        "<body>",
        "<body><img src=\"http://canary.invalid/tampered.png\"><script>document.title='pwned'</script>",
        1,
    );
    std::fs::write(&tampered, page).unwrap();
    let load = browser::load(&tampered, "").unwrap();
    let requests = load.dom.attr("network-check", "data-requests").unwrap();
    assert_ne!(requests, "0");
    assert!(
        load.dom
            .text("network-check")
            .unwrap()
            .starts_with("Warning")
    );
    assert!(
        !load.proxied.iter().any(|l| l.contains("canary")),
        "the policy let it out"
    );
    assert!(
        !load.dom.html().contains("<title>pwned"),
        "the policy let the script run"
    );
}

/// 100,000 rows of which 30,000 change, streamed into the page; the browser shows all 30,000.
/// Times are printed (a measured note, not an assertion).
#[test]
fn a_page_of_30000_changed_rows_renders_and_filters() {
    let dir = Scratch::new("large");
    let path = dir.join("large.html");
    let started = Instant::now();
    let mut report = HtmlReport::create(&path).unwrap();
    let mut decisions = zero_decisions();
    for i in 0..100_000u64 {
        let decision = match i % 10 {
            0 | 1 => Decision::Renamed,
            2 => Decision::Linked,
            3 => Decision::Created,
            _ if i % 2 == 0 => Decision::Created,
            _ => Decision::Unchanged,
        };
        let login = format!("user{i}@example.com");
        let mut r = row(i + 2, decision, &login, &login);
        if i % 10 == 2 {
            r.plugins[1].outcome = "timeout".into();
        }
        *decisions.get_mut(decision.as_str()).unwrap() += 1;
        report.row(&r).unwrap();
    }
    assert_eq!(report.rows_in_table(), 30_000);
    let summary = Summary {
        source: "large.csv".into(),
        rows: 100_000,
        skipped: 0,
        skipped_reasons: BTreeMap::new(),
        decisions,
        collisions_in_file: 0,
        plugin_failures: vec![PluginFailure {
            plugin: "login-counter-suffix".into(),
            outcome: "timeout".into(),
            count: 10_000,
        }],
        time_per_user_us: Percentiles {
            p50: 900,
            p99: 900,
            max: 900,
        },
        elapsed_ms: 1_000,
        plugins: vec!["normalize-login".into(), "login-counter-suffix".into()],
    };
    report.finish(&summary).unwrap();
    let written = started.elapsed();
    let size = std::fs::metadata(&path).unwrap().len();

    let all = browser::load(&path, "").unwrap();
    let table = all.dom.rows("rows-body");
    // The first page of 500: the first changed rows (i % 10 in 0, 1, 2: lines i + 2).
    let changed: Vec<u64> = (0..100_000u64)
        .filter(|i| i % 10 < 3)
        .map(|i| i + 2)
        .collect();
    assert_eq!(lines(&table), changed[..500]);
    assert_eq!(
        all.dom.text("shown-count").unwrap(),
        "30000 of 30000 rows shown"
    );
    assert_eq!(
        all.dom.text("page-info").unwrap(),
        "rows 1–500 of 30000 (page 1 of 60)"
    );
    assert_eq!(all.dom.text("count-renamed").unwrap(), "20000");
    assert_no_network(&all);

    let last = browser::load(&path, "page=60").unwrap();
    assert_eq!(lines(&last.dom.rows("rows-body")), changed[29_500..]);

    let filtered = browser::load(&path, "outcome=timeout&q=user1&page=3").unwrap();
    // Rows i % 10 == 2 (the timeouts) whose login contains "user1"; page 3 from the 1001st.
    let expected: Vec<u64> = (0..100_000u64)
        .filter(|i| i % 10 == 2 && format!("user{i}@").contains("user1"))
        .map(|i| i + 2)
        .collect();
    assert_eq!(
        filtered.dom.text("shown-count").unwrap(),
        format!("{} of 30000 rows shown", expected.len())
    );
    assert_eq!(lines(&filtered.dom.rows("rows-body")), expected[1000..]);

    let small = dir.join("small.html");
    let (rows, skipped, summary) = fixture();
    write(&small, &rows, &skipped, &summary);
    let baseline = browser::load(&small, "").unwrap();
    println!(
        "100,000 rows (30,000 in the table) written in {written:?}, {} MB; chromium start to exit: \
         {:?} (unfiltered), {:?} (last page), {:?} (filtered), against {:?} for the 8-row page",
        size / 1_000_000,
        all.elapsed,
        last.elapsed,
        filtered.elapsed,
        baseline.elapsed
    );
}
