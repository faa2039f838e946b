//! `--existing`: an export of the org's users (CSV with a header, or JSON Lines of flat
//! objects or of Okta API user objects with a `profile`), read into the [`Org`] the rows are
//! matched against. Offline: no call to Okta, no rate limit.

use std::path::Path;

use serde_json::{Map, Value};

use super::input;
use super::matching::{Org, OrgUser};

/// The names each field goes by: the Okta attribute, then the columns of the Admin Console's
/// user report.
const ID: &[&str] = &["id", "Okta ID", "User Id"];
const LOGIN: &[&str] = &["login", "Username", "userName"];
const EMAIL: &[&str] = &["email", "Primary email", "Email"];
const FIRST: &[&str] = &["firstName", "First name"];
const LAST: &[&str] = &["lastName", "Last name"];

/// The export read: the org, and how many of its lines were skipped (no id or no login, or
/// malformed).
#[derive(Debug)]
pub struct Export {
    /// The users.
    pub org: Org,
    /// Lines skipped.
    pub skipped: u64,
}

/// Reads the export at `path`.
pub fn read(path: &Path) -> anyhow::Result<Export> {
    let format = input::detect(path)?;
    let mut org = Org::default();
    let mut skipped = 0;
    for (_, row) in input::open(path, format)? {
        match row.ok().and_then(|row| user(&row)) {
            Some(user) => org.add(user),
            None => skipped += 1,
        }
    }
    Ok(Export { org, skipped })
}

/// The user of one export line; `None` without an id or a login.
fn user(row: &Map<String, Value>) -> Option<OrgUser> {
    // An Okta API user object: `id` beside a `profile`.
    let profile = row.get("profile").and_then(Value::as_object).unwrap_or(row);
    let field = |source: &Map<String, Value>, names: &[&str]| {
        names.iter().find_map(|name| {
            source
                .get(*name)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        })
    };
    Some(OrgUser {
        id: field(row, ID)?,
        login: field(profile, LOGIN)?,
        email: field(profile, EMAIL),
        first_name: field(profile, FIRST),
        last_name: field(profile, LAST),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preview::matching::Rule;

    #[test]
    fn csv_and_okta_api_json_lines_exports_read_alike() {
        let dir = std::env::temp_dir().join(format!("importhook-export-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let csv = dir.join("users.csv");
        std::fs::write(
            &csv,
            "Okta ID,Username,Primary email,First name,Last name\n\
             00u1,ann@x.io,ann@x.io,Ann,Lee\n\
             ,nobody@x.io,,,\n\
             00u2,bob@x.io,bob@x.io,Bob,Ray\n",
        )
        .expect("csv");
        let jsonl = dir.join("users.jsonl");
        std::fs::write(
            &jsonl,
            "{\"id\":\"00u1\",\"status\":\"ACTIVE\",\"profile\":{\"login\":\"ann@x.io\",\"email\":\"ann@x.io\",\"firstName\":\"Ann\",\"lastName\":\"Lee\"}}\n\
             not json\n\
             {\"id\":\"00u2\",\"login\":\"bob@x.io\",\"email\":\"bob@x.io\",\"firstName\":\"Bob\",\"lastName\":\"Ray\"}\n",
        )
        .expect("jsonl");
        for path in [&csv, &jsonl] {
            let export = read(path).expect("export");
            assert_eq!((export.org.len(), export.skipped), (2, 1), "{path:?}");
            let row = serde_json::json!({"firstName": "Bob", "lastName": "Ray"});
            let row = row.as_object().expect("object");
            assert_eq!(export.org.matches(row, &[Rule::FirstAndLastName]), ["00u2"]);
            assert!(export.org.holds("ANN@x.io"));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
