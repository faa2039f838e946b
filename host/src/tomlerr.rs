//! One-line TOML errors for config files and plugin manifests: the line, what is wrong, and for
//! an unknown key or value the closest known one ("did you mean"), instead of the parser's
//! multi-line excerpt or a list of every key.

/// `line N: what is wrong`, for the `text` that failed to parse with `err`.
pub fn one_line(text: &str, err: &toml::de::Error) -> String {
    let message = err.message();
    let said = suggest(message).unwrap_or_else(|| {
        message
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ")
    });
    let Some(span) = err.span() else {
        return said;
    };
    let line = text
        .get(..span.start)
        .map_or(1, |before| before.matches('\n').count() + 1);
    // A refused value: name its key, from the line it is on.
    let key = text
        .lines()
        .nth(line - 1)
        .and_then(|l| l.split_once('='))
        .map(|(key, _)| key.trim())
        .filter(|key| {
            !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                && !said.contains(&format!("`{key}`"))
        });
    match key {
        Some(key) => format!("line {line}: `{key}`: {said}"),
        None => format!("line {line}: {said}"),
    }
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" (or "unknown variant"): the key
/// and the closest known one, or the known ones when they are few.
fn suggest(message: &str) -> Option<String> {
    let (what, rest) = if let Some(rest) = message.strip_prefix("unknown field `") {
        ("key", rest)
    } else if let Some(rest) = message.strip_prefix("unknown variant `") {
        ("value", rest)
    } else {
        return None;
    };
    let (given, rest) = rest.split_once('`')?;
    let known: Vec<&str> = rest
        .split_once("expected ")
        .map(|(_, list)| list.split('`').skip(1).step_by(2).collect())
        .unwrap_or_default();
    let hint = match closest(given, &known) {
        Some(best) => format!(" (did you mean `{best}`?)"),
        None if !known.is_empty() && known.len() <= 10 => {
            format!(" (known: {})", known.join(", "))
        }
        None if what == "key" => " (the README lists every key)".to_owned(),
        None => String::new(),
    };
    Some(format!("unknown {what} `{given}`{hint}"))
}

/// The candidate nearest to `word` by edit distance, if near enough to be a typo.
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .iter()
        .map(|c| (distance(&word.to_lowercase(), &c.to_lowercase()), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct File {
        timeout_ms: Option<u64>,
        on_error: Option<Mode>,
        memory_mib: Option<u64>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Mode {
        Skip,
        Fail,
    }

    fn error(text: &str) -> String {
        one_line(text, &toml::from_str::<File>(text).expect_err("invalid"))
    }

    #[test]
    fn a_misspelt_key_or_value_gets_the_closest_known_one_on_one_line() {
        assert_eq!(
            error("memory_mib = 16\ntimout_ms = 100\n"),
            "line 2: unknown key `timout_ms` (did you mean `timeout_ms`?)"
        );
        assert_eq!(
            error("on_error = \"skp\""),
            "line 1: `on_error`: unknown value `skp` (did you mean `skip`?)"
        );
        assert_eq!(
            error("colour = 1"),
            "line 1: unknown key `colour` (known: timeout_ms, on_error, memory_mib)"
        );
        let syntax = error("timeout_ms = \n");
        assert!(
            syntax.starts_with("line 1: ") && !syntax.contains('\n'),
            "{syntax}"
        );
    }

    #[test]
    fn only_near_words_are_suggested() {
        assert_eq!(closest("plugin", &["plugins", "listen"]), Some("plugins"));
        assert_eq!(closest("xyz", &["plugins", "listen"]), None);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
