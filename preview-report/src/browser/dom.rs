//! Reading back the DOM Chromium serialized (`--dump-dom`): a small tokenizer that is enough for
//! the serializer's well-formed output (every attribute double-quoted, every non-void element
//! closed), and look-ups by id, attribute and table row.

/// One token of the serialized page.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Start {
        name: String,
        attrs: Vec<(String, String)>,
    },
    End {
        name: String,
    },
    Text(String),
}

/// Elements without an end tag.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];
/// Elements whose content is text, not markup.
const RAW: &[&str] = &["script", "style", "textarea", "title"];

/// The page's DOM after its scripts ran.
#[derive(Debug, Clone)]
pub struct Dom {
    html: String,
    tokens: Vec<Token>,
}

/// One `<tr>` of a table body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub attrs: Vec<(String, String)>,
    /// Each cell's text content.
    pub cells: Vec<String>,
}

impl Row {
    pub fn attr(&self, name: &str) -> Option<&str> {
        lookup(&self.attrs, name)
    }
    /// Whether the row carries the `hidden` attribute (filtered out).
    pub fn hidden(&self) -> bool {
        self.attr("hidden").is_some()
    }
}

impl Dom {
    pub fn parse(html: String) -> Dom {
        let tokens = tokenize(&html);
        Dom { html, tokens }
    }

    /// The serialized page, as Chromium wrote it.
    pub fn html(&self) -> &str {
        &self.html
    }

    fn index_of_id(&self, id: &str) -> Option<usize> {
        self.tokens.iter().position(|t| match t {
            Token::Start { attrs, .. } => lookup(attrs, "id") == Some(id),
            _ => false,
        })
    }

    /// The text content of the element with this id.
    pub fn text(&self, id: &str) -> Option<String> {
        self.index_of_id(id).map(|i| self.text_at(i))
    }

    /// An attribute of the element with this id.
    pub fn attr(&self, id: &str, name: &str) -> Option<String> {
        match &self.tokens[self.index_of_id(id)?] {
            Token::Start { attrs, .. } => lookup(attrs, name).map(str::to_owned),
            _ => None,
        }
    }

    /// How many elements of this tag the page holds.
    pub fn count_tag(&self, tag: &str) -> usize {
        self.tokens
            .iter()
            .filter(|t| matches!(t, Token::Start { name, .. } if name == tag))
            .count()
    }

    /// Every start tag's attributes for this tag name.
    pub fn elements(&self, tag: &str) -> Vec<Vec<(String, String)>> {
        self.tokens
            .iter()
            .filter_map(|t| match t {
                Token::Start { name, attrs } if name == tag => Some(attrs.clone()),
                _ => None,
            })
            .collect()
    }

    /// The rows of the element with this id (a `<tbody>` or `<table>`), with their cells' text.
    pub fn rows(&self, id: &str) -> Vec<Row> {
        let Some(start) = self.index_of_id(id) else {
            return vec![];
        };
        let end = self.end_of(start);
        let mut rows = vec![];
        for i in start + 1..end {
            match &self.tokens[i] {
                Token::Start { name, attrs } if name == "tr" => rows.push(Row {
                    attrs: attrs.clone(),
                    cells: vec![],
                }),
                Token::Start { name, .. } if name == "td" || name == "th" => {
                    let text = self.text_at(i);
                    if let Some(row) = rows.last_mut() {
                        row.cells.push(text);
                    }
                }
                _ => {}
            }
        }
        rows
    }

    /// The index of the end token closing the start token at `start` (or the end).
    fn end_of(&self, start: usize) -> usize {
        if matches!(&self.tokens[start], Token::Start { name, .. } if VOID.contains(&name.as_str()))
        {
            return start;
        }
        let mut depth = 0usize;
        for (i, t) in self.tokens.iter().enumerate().skip(start) {
            match t {
                Token::Start { name, .. } if !VOID.contains(&name.as_str()) => depth += 1,
                Token::End { .. } => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return i;
                    }
                }
                _ => {}
            }
        }
        self.tokens.len()
    }

    fn text_at(&self, start: usize) -> String {
        let end = self.end_of(start);
        let mut text = String::new();
        for t in &self.tokens[start..end.min(self.tokens.len())] {
            if let Token::Text(s) = t {
                text.push_str(s);
            }
        }
        text
    }
}

fn lookup<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn tokenize(html: &str) -> Vec<Token> {
    let mut tokens = vec![];
    let mut rest = html;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            tokens.push(Token::Text(decode(rest)));
            break;
        };
        if lt > 0 {
            tokens.push(Token::Text(decode(&rest[..lt])));
        }
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |e| &after[e + 3..]);
        } else if rest.starts_with("<!") || rest.starts_with("<?") {
            rest = rest.find('>').map_or("", |e| &rest[e + 1..]);
        } else if let Some(after) = rest.strip_prefix("</") {
            let e = after.find('>').unwrap_or(after.len());
            tokens.push(Token::End {
                name: after[..e].trim().to_ascii_lowercase(),
            });
            rest = after.get(e + 1..).unwrap_or("");
        } else {
            let (token, after) = start_tag(&rest[1..]);
            if let Token::Start { name, .. } = &token
                && RAW.contains(&name.as_str())
            {
                let close = format!("</{name}");
                let e = after.find(&close).unwrap_or(after.len());
                let name = name.clone();
                tokens.push(token);
                tokens.push(Token::Text(decode(&after[..e])));
                tokens.push(Token::End { name });
                rest = after[e..].find('>').map_or("", |g| &after[e + g + 1..]);
                continue;
            }
            tokens.push(token);
            rest = after;
        }
    }
    tokens
}

/// Parses `name attr="v" ...>` (after the `<`); returns the token and the text after the `>`.
fn start_tag(s: &str) -> (Token, &str) {
    let name_end = s
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .unwrap_or(s.len());
    let name = s[..name_end].to_ascii_lowercase();
    let mut rest = &s[name_end..];
    let mut attrs = vec![];
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if rest.is_empty() {
            break;
        }
        if let Some(after) = rest.strip_prefix('>') {
            rest = after;
            break;
        }
        let n_end = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '>' || c == '/')
            .unwrap_or(rest.len());
        let attr = rest[..n_end].to_ascii_lowercase();
        rest = &rest[n_end..];
        let mut value = String::new();
        if let Some(after) = rest.strip_prefix('=') {
            if let Some(q) = after.chars().next().filter(|c| *c == '"' || *c == '\'') {
                let body = &after[1..];
                let e = body.find(q).unwrap_or(body.len());
                value = decode(&body[..e]);
                rest = body.get(e + 1..).unwrap_or("");
            } else {
                let e = after
                    .find(|c: char| c.is_whitespace() || c == '>')
                    .unwrap_or(after.len());
                value = decode(&after[..e]);
                rest = &after[e..];
            }
        }
        attrs.push((attr, value));
    }
    (Token::Start { name, attrs }, rest)
}

/// Character references as the serializer writes them.
fn decode(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let semi = rest.find(';').filter(|i| *i <= 10);
        let decoded = semi.and_then(|i| {
            let entity = &rest[1..i];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, i))
        });
        match decoded {
            Some((c, i)) => {
                out.push(c);
                rest = &rest[i + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_text_attributes_and_rows_of_a_serialized_page() {
        let dom = Dom::parse(
            "<!DOCTYPE html><html><head><script>if (a < b) { x = '</p>'.length }</script></head>\
             <body><p id=\"n\" data-x=\"a &quot;b&quot;\">1&nbsp;&lt;2&gt; &amp; <b>bold</b><br>x</p>\
             <table><tbody id=\"t\"><tr data-d=\"renamed\" hidden=\"\"><td>2</td><td>&lt;script&gt;</td></tr>\
             <tr data-d=\"linked\"><td>3</td><td><span>a</span>b</td></tr></tbody></table></body></html>"
                .to_owned(),
        );
        assert_eq!(dom.text("n").unwrap(), "1\u{a0}<2> & boldx");
        assert_eq!(dom.attr("n", "data-x").unwrap(), "a \"b\"");
        let rows = dom.rows("t");
        assert_eq!(rows.len(), 2);
        assert!(rows[0].hidden() && !rows[1].hidden());
        assert_eq!(rows[0].cells, vec!["2", "<script>"]);
        assert_eq!(rows[1].cells, vec!["3", "ab"]);
        assert_eq!(rows[1].attr("data-d"), Some("linked"));
        assert_eq!(dom.count_tag("script"), 1);
        assert!(dom.text("missing").is_none());
        let void = Dom::parse("<p><input id=\"i\" value=\"v\">after</p>".to_owned());
        assert_eq!(void.text("i").unwrap(), "");
        assert_eq!(void.attr("i", "value").unwrap(), "v");
    }
}
