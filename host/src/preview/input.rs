//! The rows of an import file as Okta would read them: a CSV with a header or JSON Lines of
//! app-user profiles, one row at a time (memory flat in the number of rows), each either a
//! profile with its line number or the reason it is skipped (never a value of it).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use anyhow::Context as _;
use serde_json::{Map, Value};

/// What kind of file it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A CSV with a header line.
    Csv,
    /// One JSON object per line.
    JsonLines,
}

/// One row: its 1-based line and its profile, or why it is skipped.
pub type Row = (u64, Result<Map<String, Value>, String>);

/// Tells CSV from JSON Lines by the extension, else by the content; fails at once, saying
/// what the file is not, when it is neither.
pub fn detect(path: &Path) -> anyhow::Result<Format> {
    let mut head = Vec::with_capacity(8192);
    File::open(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .take(8192)
        .read_to_end(&mut head)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let not = |why: &str| {
        anyhow::anyhow!(
            "{} is neither a CSV with a header nor JSON Lines: {why}",
            path.display()
        )
    };
    if head.contains(&0) {
        return Err(not("it holds binary data"));
    }
    // A multi-byte character may be cut at the end of the sample.
    let text = match std::str::from_utf8(&head) {
        Ok(text) => text,
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()])
            .map_err(|_| not("it is not UTF-8 text"))?,
        Err(_) => return Err(not("it is not UTF-8 text")),
    };
    let text = text.trim_start_matches('\u{feff}');
    let first = text.trim_start().chars().next();
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match (extension.as_deref(), first) {
        (_, None) => Err(not("it is empty")),
        (_, Some('[')) => Err(not(
            "it is a JSON array; write one JSON object per line (JSON Lines)",
        )),
        (Some("jsonl" | "ndjson" | "json"), _) | (_, Some('{')) => Ok(Format::JsonLines),
        _ => Ok(Format::Csv),
    }
}

/// Opens the rows of `path`, read as `format`; the CSV header is read here (an error when it
/// is missing or unreadable).
pub fn open(path: &Path, format: Format) -> anyhow::Result<Box<dyn Iterator<Item = Row> + Send>> {
    let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(match format {
        Format::Csv => Box::new(CsvRows::new(file).with_context(|| path.display().to_string())?),
        Format::JsonLines => Box::new(JsonRows::new(file)),
    })
}

/// The columns of the CSV at `path`.
pub fn csv_header(path: &Path) -> anyhow::Result<Vec<String>> {
    let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(CsvRows::new(file)
        .with_context(|| path.display().to_string())?
        .header)
}

/// CSV rows: each record a profile of its header's columns (an empty cell is left out).
pub struct CsvRows<R: Read> {
    reader: csv::Reader<R>,
    header: Vec<String>,
    record: csv::ByteRecord,
}

impl<R: Read> CsvRows<R> {
    /// Reads the header line.
    pub fn new(input: R) -> anyhow::Result<Self> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(true)
            .from_reader(input);
        let header = reader
            .byte_headers()
            .context("cannot read the CSV header line")?
            .iter()
            .map(|h| {
                std::str::from_utf8(h)
                    .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
                    .context("the CSV header line is not UTF-8")
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        anyhow::ensure!(
            header.iter().any(|h| !h.is_empty()),
            "the CSV header line names no column"
        );
        Ok(Self {
            reader,
            header,
            record: csv::ByteRecord::new(),
        })
    }
}

impl<R: Read> Iterator for CsvRows<R> {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        let read = self.reader.read_byte_record(&mut self.record);
        let line = self.record.position().map_or(0, |p| p.line());
        match read {
            Ok(false) => None,
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line());
                Some((line, Err("unreadable CSV record".to_owned())))
            }
            Ok(true) => {
                if self.record.len() != self.header.len() {
                    return Some((
                        line,
                        Err(format!(
                            "{} fields where the header has {}",
                            self.record.len(),
                            self.header.len()
                        )),
                    ));
                }
                let mut profile = Map::with_capacity(self.header.len());
                for (name, field) in self.header.iter().zip(self.record.iter()) {
                    let Ok(value) = std::str::from_utf8(field) else {
                        return Some((line, Err("a field is not UTF-8".to_owned())));
                    };
                    if !value.is_empty() && !name.is_empty() {
                        profile.insert(name.clone(), Value::String(value.to_owned()));
                    }
                }
                Some((line, Ok(profile)))
            }
        }
    }
}

/// JSON Lines rows: each non-blank line one JSON object, the app-user profile.
pub struct JsonRows<R: Read> {
    reader: BufReader<R>,
    line: u64,
    buffer: Vec<u8>,
}

impl<R: Read> JsonRows<R> {
    /// Rows of `input`.
    pub fn new(input: R) -> Self {
        Self {
            reader: BufReader::new(input),
            line: 0,
            buffer: Vec::new(),
        }
    }
}

impl<R: Read> Iterator for JsonRows<R> {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        loop {
            self.buffer.clear();
            match self.reader.read_until(b'\n', &mut self.buffer) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(_) => {
                    self.line += 1;
                    return Some((self.line, Err("unreadable line".to_owned())));
                }
            }
            self.line += 1;
            if self.buffer.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let row = match serde_json::from_slice::<Value>(&self.buffer) {
                Ok(Value::Object(profile)) => Ok(profile),
                Ok(_) => Err("not a JSON object".to_owned()),
                // serde's message can quote the input: only where it failed.
                Err(e) => Err(format!("not valid JSON (column {})", e.column())),
            };
            return Some((self.line, row));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str, format: Format) -> Vec<Row> {
        match format {
            Format::Csv => CsvRows::new(text.as_bytes()).expect("header").collect(),
            Format::JsonLines => JsonRows::new(text.as_bytes()).collect(),
        }
    }

    #[test]
    fn csv_rows_carry_their_line_and_skip_malformed_ones() {
        let text = "login,email,firstName\n\
                    a@x.io,a@x.io,Ann\n\
                    b@x.io,b@x.io\n\
                    \"c@x.io\",\"c@x.io\",\"Multi\nline\"\n\
                    d@x.io,,Dee\n";
        let rows = rows(text, Format::Csv);
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].0, 2);
        assert_eq!(rows[0].1.as_ref().expect("ok")["firstName"], "Ann");
        assert_eq!(rows[1].0, 3);
        assert_eq!(
            rows[1].1.as_ref().expect_err("short"),
            "2 fields where the header has 3"
        );
        assert_eq!(rows[2].0, 4);
        assert_eq!(rows[2].1.as_ref().expect("ok")["firstName"], "Multi\nline");
        // The quoted newline makes the next record start on line 6; its empty cell is absent.
        assert_eq!(rows[3].0, 6);
        assert!(!rows[3].1.as_ref().expect("ok").contains_key("email"));
    }

    #[test]
    fn json_lines_skip_blank_lines_and_report_bad_ones_without_their_text() {
        let text =
            "{\"login\":\"a@x.io\"}\n\n[1]\n{\"login\": \"secret\n{\"login\":\"b@x.io\",\"n\":3}\n";
        let rows = rows(text, Format::JsonLines);
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].0, 1);
        assert_eq!(rows[1], (3, Err("not a JSON object".to_owned())));
        assert_eq!(rows[2].0, 4);
        let why = rows[2].1.as_ref().expect_err("bad json");
        assert!(
            why.starts_with("not valid JSON") && !why.contains("secret"),
            "{why}"
        );
        assert_eq!(rows[3].0, 5);
        assert_eq!(rows[3].1.as_ref().expect("ok")["n"], 3);
    }

    #[test]
    fn the_format_is_told_by_extension_or_content_and_junk_fails_at_once() {
        let dir = std::env::temp_dir().join(format!("importhook-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.join(name);
            std::fs::write(&path, bytes).expect("write");
            path
        };
        assert_eq!(
            detect(&write("a.csv", b"login\nx@y.z\n")).ok(),
            Some(Format::Csv)
        );
        assert_eq!(
            detect(&write("a.txt", b"login,email\n")).ok(),
            Some(Format::Csv)
        );
        assert_eq!(
            detect(&write("a", b"  {\"login\":1}\n")).ok(),
            Some(Format::JsonLines)
        );
        assert_eq!(
            detect(&write("a.jsonl", b"{}\n")).ok(),
            Some(Format::JsonLines)
        );
        for (name, bytes, why) in [
            ("b.csv", &b"\x00\x01\x02PK"[..], "binary"),
            ("c.csv", b"\xff\xfe\xfa text", "UTF-8"),
            ("d.json", b"[{\"login\":\"x\"}]", "JSON array"),
            ("e.csv", b"  \n", "empty"),
        ] {
            let e = detect(&write(name, bytes)).expect_err(name).to_string();
            assert!(e.contains("neither a CSV") && e.contains(why), "{e}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
