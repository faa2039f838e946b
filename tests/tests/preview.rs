//! `importhook preview` against the real server: a generated 1,000-row CSV (rows matching an
//! `--existing` export, rows conflicting with it, rows conflicting with each other, rows the
//! middle-name or the counter strategy renames, rows normalize-login rewrites, malformed rows)
//! is previewed with the example plugins, then the same rows are sent one by one to a real
//! `serve` with the same plugins and the same state (a counter used three times). Every row's
//! decision and final login, and every count of the summary, must be what serve's answers say.
//! The test builds Okta's requests and reads serve's answers with its own code, not the host's.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use common::okta_org::same_login;
use importhook::config::ConfigLayer;
use importhook_preview_report::{browser, is_success_outcome};
use serde_json::{Value, json};

const ROWS: usize = 1000;

fn manifest(path: &str) -> String {
    std::fs::read_to_string(common::workspace_root().join(path)).expect("manifest")
}

/// The shipped example plugins with their shipped manifests, and the counter strategy after
/// them as its manifest says.
fn example_plugins() -> common::TempDir {
    common::plugins_folder(&[
        (
            "10-normalize-login",
            "normalize-login",
            &manifest("plugins.d/10-normalize-login.toml"),
        ),
        (
            "20-link-single-match",
            "link-single-match",
            &manifest("plugins.d/20-link-single-match.toml"),
        ),
        (
            "30-login-middle-name",
            "login-middle-name",
            &manifest("plugins.d/30-login-middle-name.toml"),
        ),
        (
            "40-login-counter-suffix",
            "login-counter-suffix",
            &manifest("plugins/login-counter-suffix/login-counter-suffix.toml"),
        ),
    ])
}

/// One row of the import: `(login, email, firstName, middleName, lastName)`, or a malformed
/// line.
enum Line {
    Row([String; 5]),
    Malformed,
}

fn rows() -> Vec<Line> {
    (0..ROWS)
        .map(|i| {
            if i % 97 == 50 {
                return Line::Malformed;
            }
            let middle = if i % 20 < 10 { "Quinn" } else { "" };
            let login = match i % 10 {
                // The org holds it with another case: a conflict, renamed by middle name or counter.
                0 => format!("held{i}@example.com"),
                // The org holds exactly this login: Okta links (USERNAME rule).
                1 => format!("linked{i}@example.com"),
                // Two rows of the file share a login.
                2 | 3 => format!("twin{}@example.com", i / 10),
                // normalize-login rewrites it.
                4 => format!("Jösé.Núñez{i}@Example.com"),
                // The login the counter gives the second twin of the next ten rows (when they
                // have no middle name): that twin is left in conflict with this row.
                5 => format!("twin{}0001@example.com", i / 10 + 1),
                _ => format!("fresh{i}@example.com"),
            };
            Line::Row([
                login.clone(),
                login,
                format!("First{i}"),
                middle.to_owned(),
                format!("Last{i}"),
            ])
        })
        .collect()
}

fn existing() -> Vec<(String, String)> {
    let users = (0..ROWS).filter_map(|i| match i % 10 {
        0 => Some((format!("00uheld{i}"), format!("Held{i}@Example.com"))),
        1 => Some((format!("00ulinked{i}"), format!("linked{i}@example.com"))),
        _ => None,
    });
    // The counter's first number for some held logins without a middle name is held too.
    let numbered = (0..ROWS)
        .filter(|i| i % 40 == 10)
        .map(|i| (format!("00ucount{i}"), format!("held{i}0001@example.com")));
    users.chain(numbered).collect()
}

fn write_files(dir: &Path) {
    let mut users = String::from("login,email,firstName,middleName,lastName\n");
    for line in rows() {
        match line {
            Line::Row(fields) => users.push_str(&format!("{}\n", fields.join(","))),
            Line::Malformed => users.push_str("only,three,fields\n"),
        }
    }
    std::fs::write(dir.join("users.csv"), users).expect("users");
    let mut export = String::from("id,login,email,firstName,lastName\n");
    for (id, login) in existing() {
        export.push_str(&format!("{id},{login},{login},X,Y\n"));
    }
    std::fs::write(dir.join("existing.csv"), export).expect("existing");
}

/// What serve's answer makes of one row, read from the HTTP answer.
struct Served {
    decision: &'static str,
    login_after: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_counts_what_serve_answers_row_by_row() {
    let plugins = example_plugins();
    let work = common::TempDir::new("preview");
    write_files(work.path());
    let report = work.path().join("report.jsonl");
    let page = work.path().join("report.html");

    // The real state: the counter of one login of the file already at 3, by a serve.
    let seed = work.path().join("state.redb");
    let seeding = common::start(
        ConfigLayer {
            state_path: Some(seed.clone()),
            ..ConfigLayer::default()
        },
        Some(plugins.path()),
    )
    .await;
    for k in 1..=3 {
        let answer = seeding
            .hook(&common::login_conflict(
                &format!("seed-{k}"),
                "twin5@example.com",
            ))
            .await;
        assert_eq!(answer.status, 200);
    }
    seeding.stop().await;
    // serve gets a copy of it; the preview reads the real one, which must stay as it is.
    let served_state = work.path().join("served.redb");
    std::fs::copy(&seed, &served_state).expect("copy state");
    let seed_listing = state_listing(&seed);
    assert!(seed_listing.contains('3'), "{seed_listing}");

    // The preview, through the real binary.
    let output = std::process::Command::new(common::BIN)
        .arg("preview")
        .arg("--plugins")
        .arg(plugins.path())
        .arg("--users")
        .arg(work.path().join("users.csv"))
        .arg("--existing")
        .arg(work.path().join("existing.csv"))
        .arg("--state-path")
        .arg(&seed)
        .arg("--out")
        .arg(&report)
        .arg("--html")
        .arg(&page)
        .output()
        .expect("run preview");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "preview failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&report)
        .expect("report")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the report holds profile data");
    assert_eq!(
        state_listing(&seed),
        seed_listing,
        "a preview writes no state"
    );

    let mut previewed: BTreeMap<u64, Value> = BTreeMap::new();
    let mut skipped_lines = Vec::new();
    for line in std::fs::read_to_string(&report).expect("report").lines() {
        let row: Value = serde_json::from_str(line).expect("json line");
        let n = row["line"].as_u64().expect("line");
        if row.get("skipped").is_some() {
            skipped_lines.push(n);
        } else {
            previewed.insert(n, row);
        }
    }

    // The same rows, one by one, to a real serve with the same plugins and state.
    let server = common::start(
        ConfigLayer {
            state_path: Some(served_state),
            ..ConfigLayer::default()
        },
        Some(plugins.path()),
    )
    .await;
    let org: HashMap<String, (String, String)> = existing()
        .into_iter()
        .map(|(id, login)| (same_login(&login), (id, login)))
        .collect();
    let mut created: HashMap<String, u64> = HashMap::new();
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    let mut collisions = 0;
    let mut expected_skipped = Vec::new();
    for (index, line) in rows().into_iter().enumerate() {
        let n = index as u64 + 2;
        let Line::Row([login, email, first, middle, last]) = line else {
            expected_skipped.push(n);
            continue;
        };
        let mut app_user =
            json!({"login": login, "email": email, "firstName": first, "lastName": last});
        if !middle.is_empty() {
            app_user["middleName"] = json!(middle);
        }
        let key = same_login(&login);
        let exact = org.get(&key).filter(|(_, held)| *held == login);
        let held = org.contains_key(&key) || created.contains_key(&key);
        let mut user = json!({"profile": app_user.clone()});
        let action = if let Some((id, _)) = exact {
            user["id"] = json!(id);
            "LINK_USER"
        } else {
            "CREATE_USER"
        };
        let conflicts = if action == "CREATE_USER" && held {
            json!(["login"])
        } else {
            json!([])
        };
        let request = json!({
            "eventId": format!("preview-{n}"),
            "eventType": "com.okta.import.transform",
            "data": {
                "appUser": {"profile": app_user},
                "user": user,
                "action": {"result": action},
                "context": {"conflicts": conflicts, "matches": exact.map(|(id, _)| vec![id.clone()]).unwrap_or_default(), "policy": ["USERNAME"]}
            }
        });
        let reply = server.hook(&request).await;
        let served = read_answer(reply.status.as_u16(), &reply.body, action, &login);
        let mut decision = served.decision;
        let mut collision = false;
        if decision == "created" || decision == "renamed" {
            let after = same_login(&served.login_after);
            if let Some(_earlier) = created.get(&after) {
                decision = "conflict";
                collision = true;
            } else if org.contains_key(&after) {
                decision = "conflict";
            } else {
                created.insert(after, n);
            }
        }
        collisions += u64::from(collision);
        *counts.entry(decision).or_default() += 1;
        let row = previewed
            .get(&n)
            .unwrap_or_else(|| panic!("line {n} missing from the report"));
        assert_eq!(row["decision"], decision, "line {n}: {row}");
        assert_eq!(row["login_after"], served.login_after, "line {n}: {row}");
        assert_eq!(
            row["collision_with_line"].is_u64(),
            collision,
            "line {n}: {row}"
        );
    }
    server.stop().await;

    assert_eq!(skipped_lines, expected_skipped);
    // The second twin5 (line 55, no middle name) got the counter's number after the real
    // store's 3, in the preview as in serve.
    assert_eq!(previewed[&55]["login_after"], "twin50004@example.com");
    assert_eq!(previewed.len() + skipped_lines.len(), ROWS);
    // Each kind of row is there, so the comparison above covered every decision the plugins
    // can reach here.
    for decision in ["created", "renamed", "unchanged", "conflict"] {
        assert!(
            counts.get(decision).copied().unwrap_or(0) > 0,
            "{decision}: {counts:?}"
        );
    }
    assert!(
        collisions > 0,
        "two rows of the file end with the same login"
    );
    // The terminal summary: every count (on the line naming it), and no profile value.
    let shows = |name: &str, count: u64| {
        stdout.lines().any(|line| {
            line.to_lowercase().contains(name)
                && line
                    .split(|c: char| !c.is_ascii_digit())
                    .any(|n| n == count.to_string())
        })
    };
    for decision in [
        "created",
        "renamed",
        "linked",
        "unchanged",
        "conflict",
        "refused",
    ] {
        let count = counts.get(decision).copied().unwrap_or(0);
        assert!(shows(decision, count), "{decision} {count} in {stdout}");
    }
    assert!(shows("skipped", expected_skipped.len() as u64), "{stdout}");
    assert!(shows("collision", collisions), "{stdout}");
    assert!(!stdout.contains("@example.com"), "{stdout}");

    // The HTML page, as a headless Chromium shows it after its scripts ran: the same counts.
    let mode = std::fs::metadata(&page).expect("page").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the page holds profile data");
    let shown = browser::shown_counts(&browser::load(&page, "").expect("chromium").dom);
    let mut expected: BTreeMap<String, u64> = [
        "created",
        "renamed",
        "linked",
        "unchanged",
        "conflict",
        "refused",
    ]
    .into_iter()
    .map(|d| (d.to_owned(), counts.get(d).copied().unwrap_or(0)))
    .collect();
    expected.insert("collisions".into(), collisions);
    expected.insert("skipped".into(), expected_skipped.len() as u64);
    expected.insert("rows".into(), ROWS as u64);
    // Plugin failures are not in serve's answers: the page must count what the JSONL report
    // lists row by row.
    let failures = previewed
        .values()
        .flat_map(|row| row["plugins"].as_array().cloned().unwrap_or_default())
        .filter(|run| !is_success_outcome(run["outcome"].as_str().unwrap_or_default()))
        .count();
    expected.insert("plugin-failures".into(), failures as u64);
    assert_eq!(shown, expected, "the page's counts are serve's");
}

/// What `importhook state list` shows of the counter plugin in the state file `path` (waiting
/// for the server that wrote it to let go of it).
fn state_listing(path: &Path) -> String {
    for _ in 0..50 {
        let output = std::process::Command::new(common::BIN)
            .args(["state", "list", "40-login-counter-suffix", "--state-path"])
            .arg(path)
            .output()
            .expect("run state list");
        if output.status.success() {
            return String::from_utf8_lossy(&output.stdout).into_owned();
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the state file {} stays locked", path.display());
}

/// Reads serve's answer to a row whose default action was `action` and login `login`.
fn read_answer(status: u16, body: &[u8], action: &str, login: &str) -> Served {
    let unchanged = |decision| Served {
        decision,
        login_after: login.to_owned(),
    };
    if status == 204 {
        return unchanged(if action == "LINK_USER" {
            "unchanged"
        } else {
            "created"
        });
    }
    assert_eq!(status, 200);
    let answer: Value = serde_json::from_slice(body).expect("json answer");
    if answer.get("error").is_some() {
        return unchanged("refused");
    }
    let mut final_action = action.to_owned();
    let mut after = login.to_owned();
    for command in answer["commands"].as_array().expect("commands") {
        match command["type"].as_str() {
            Some("com.okta.user.profile.update") => {
                if let Some(new) = command["value"]["login"].as_str() {
                    after = new.to_owned();
                }
            }
            Some("com.okta.action.update") => {
                final_action = command["value"]["result"]
                    .as_str()
                    .expect("result")
                    .to_owned();
            }
            _ => {}
        }
    }
    let decision = match final_action.as_str() {
        "LINK_USER" => "linked",
        _ if after != login => "renamed",
        _ => "created",
    };
    Served {
        decision,
        login_after: after,
    }
}

#[test]
fn a_file_that_is_not_an_import_stops_the_preview_at_once() {
    let work = common::TempDir::new("preview-bad");
    let cases: [(&str, &[u8], &str); 3] = [
        (
            "users.csv",
            b"\x7fELF\x02\x01\x01\x00\x00",
            "neither a CSV with a header nor JSON Lines",
        ),
        (
            "users.json",
            b"[{\"login\": \"a@example.com\"}]",
            "JSON array",
        ),
        (
            "users.csv",
            b"userName,mail\na@example.com,a@example.com\n",
            "no column `login`",
        ),
    ];
    for (name, bytes, why) in cases {
        let path = work.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        let output = std::process::Command::new(common::BIN)
            .args(["preview", "--plugins"])
            .arg(work.path().join("no-plugins-needed"))
            .arg("--users")
            .arg(&path)
            .output()
            .expect("run preview");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{name}: {stderr}");
        assert!(stderr.contains(why), "{name}: {stderr}");
        assert!(output.stdout.is_empty(), "{name}: nothing previewed");
    }
}

/// Without `--existing`, rows are matched against the org through the directory client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_export_each_login_is_looked_up_in_the_org() {
    let org = common::okta_org::FakeOrg::start().await;
    org.add_user("Held@Example.com", "00uheld", "ACTIVE");
    let work = common::TempDir::new("preview-org");
    std::fs::create_dir_all(work.path().join("plugins")).expect("plugins");
    let token = work.path().join("token");
    std::fs::write(&token, common::okta_org::API_TOKEN).expect("token");
    let users = work.path().join("users.jsonl");
    std::fs::write(
        &users,
        "{\"login\":\"held@example.com\"}\n{\"login\":\"new@example.com\"}\n",
    )
    .expect("users");
    let preview = |rules: &str| {
        let report = work.path().join(format!("{rules}.jsonl"));
        let output = std::process::Command::new(common::BIN)
            .args(["preview", "--match-on", rules, "--plugins"])
            .arg(work.path().join("plugins"))
            .arg("--users")
            .arg(&users)
            .args(["--okta-org-url", &org.url, "--okta-ca-file"])
            .arg(org.ca_file())
            .arg("--okta-api-token-file")
            .arg(&token)
            .arg("--out")
            .arg(&report)
            .env_remove("IMPORTHOOK_OKTA_API_TOKEN")
            .output()
            .expect("run preview");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        std::fs::read_to_string(&report)
            .expect("report")
            .lines()
            .map(|line| {
                let row: Value = serde_json::from_str(line).expect("json");
                (
                    row["decision"].as_str().unwrap_or("").to_owned(),
                    row["linked_user_id"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    // The app matches on the username: the user holding it is the match, Okta links.
    assert_eq!(
        preview("USERNAME"),
        [
            ("unchanged".to_owned(), json!("00uheld")),
            ("created".to_owned(), Value::Null)
        ]
    );
    // It matches on email only: the held login is a conflict.
    assert_eq!(preview("EMAIL")[0], ("conflict".to_owned(), Value::Null));
    assert!(org.user_calls() >= 2, "the org was asked");
}
