//! `importhook preview` against the real server: a generated 1,000-row CSV (rows matching an
//! `--existing` export, rows conflicting with it, rows conflicting with each other, rows the
//! middle-name or the counter strategy renames, rows normalize-login rewrites, malformed rows)
//! is previewed with the example plugins, then the same rows are sent one by one to a real
//! `serve` with the same plugins and a state store as fresh as the preview's seed. Every row's
//! decision and final login, and every count of the summary, must be what serve's answers say.
//! The test builds Okta's requests and reads serve's answers with its own code, not the host's.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use common::okta_org::same_login;
use importhook::config::ConfigLayer;
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
        .arg(work.path().join("state.redb"))
        .arg("--out")
        .arg(&report)
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
    assert!(
        !work.path().join("state.redb").exists(),
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

    // The same rows, one by one, to a real serve with the same plugins and a fresh store.
    let server = common::start(ConfigLayer::default(), Some(plugins.path())).await;
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
    // The terminal summary: every count, and no profile value.
    for decision in [
        "created",
        "renamed",
        "linked",
        "unchanged",
        "conflict",
        "refused",
    ] {
        let count = counts.get(decision).copied().unwrap_or(0);
        let expected = format!("  {decision:<10} {count}\n");
        assert!(stdout.contains(&expected), "{expected:?} in {stdout}");
    }
    assert!(
        stdout.contains(&format!("({} skipped)", expected_skipped.len())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("collisions inside the file: {collisions}")),
        "{stdout}"
    );
    assert!(!stdout.contains("@example.com"), "{stdout}");
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
