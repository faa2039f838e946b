//! Test only: no two modules of the host or SDK crates import each other, directly or around a
//! loop. A cycle makes a module impossible to read, test or move without the others (one
//! function in `outbound.rs` once tied fifteen files together).
//!
//! The graph is read from the source: each `.rs` file is a module; every `crate::…` and
//! `super::…` path outside the trailing `#[cfg(test)] mod tests` (and outside `//` comments)
//! is an edge to the deepest module file the path names. A parent naming its own children by a
//! relative path (`mod x; pub use x::Item;`) is not an edge: a module's children are part of it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

/// Every module file under `src`, by its module path (`lib.rs` and `main.rs` are the root).
fn modules(src: &Path) -> BTreeMap<Module, PathBuf> {
    fn walk(dir: &Path, src: &Path, out: &mut BTreeMap<Module, PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("read src")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, src, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path
                    .strip_prefix(src)
                    .expect("under src")
                    .with_extension("");
                let mut module: Module = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if module.last().is_some_and(|last| last == "mod") {
                    module.pop();
                }
                if module == ["lib"] || module == ["main"] {
                    module.clear();
                }
                out.insert(module, path);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(src, src, &mut out);
    out
}

/// The source without its trailing tests module and without `//` comments.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|line| line.find("//").map_or(line, |at| &line[..at]))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path a use tree starting at `rest` names, each as segments after `prefix`.
fn paths(rest: &str, prefix: &[String], out: &mut Vec<Module>) {
    let mut path = prefix.to_vec();
    let mut rest = rest;
    loop {
        let ident: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !ident.is_empty() {
            rest = &rest[ident.len()..];
            path.push(ident);
        } else if let Some(group) = rest.strip_prefix('{') {
            // A group: split its items at top-level commas.
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        paths(group[start..i].trim(), &path, out);
                        return;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        paths(group[start..i].trim(), &path, out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            return;
        }
        match rest.strip_prefix("::") {
            Some(next) => rest = next.trim_start(),
            None => break,
        }
    }
    out.push(path);
}

/// The import graph: module → the modules its `crate::` and `super::` paths name.
fn graph(src: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let modules = modules(src);
    let deepest = |path: &[String]| {
        (0..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|m| modules.contains_key(m))
    };
    let mut edges = BTreeMap::new();
    for (module, file) in &modules {
        let text = code(&std::fs::read_to_string(file).expect("read module"));
        let mut named = Vec::new();
        for (at, _) in text.match_indices("::") {
            let before = &text[..at];
            let word_start = before
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
                .map_or(0, |i| i + 1);
            let (anchor, start) = (&before[word_start..], at + 2);
            // Only the first segment of a path anchors it (not `a::crate`, not `super::super`
            // after the first `super`).
            let preceded = before[..word_start].ends_with("::");
            let base: Module = match anchor {
                "crate" if !preceded => Vec::new(),
                "super" if !preceded => {
                    let mut base = module[..module.len().saturating_sub(1)].to_vec();
                    let mut rest = &text[start..];
                    while let Some(next) = rest.strip_prefix("super::") {
                        base.pop();
                        rest = next;
                    }
                    paths(rest, &base, &mut named);
                    continue;
                }
                _ => continue,
            };
            paths(&text[start..], &base, &mut named);
        }
        let targets = edges.entry(module.clone()).or_insert_with(BTreeSet::new);
        for path in named {
            if let Some(target) = deepest(&path).filter(|t| t != module) {
                // A child naming its ancestor is fine only while the ancestor does not name it.
                targets.insert(target);
            }
        }
    }
    edges
}

/// The strongly connected components with more than one module (Tarjan), each sorted.
fn cycles(src: &Path) -> Vec<Vec<String>> {
    struct Search<'a> {
        edges: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Search<'a> {
        fn visit(&mut self, v: &'a Module) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            for w in self.edges.get(v).into_iter().flatten() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.stack.contains(&w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    component.push(if w.is_empty() {
                        "crate".to_owned()
                    } else {
                        w.join("::")
                    });
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let edges = graph(src);
    let mut search = Search {
        edges: &edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !search.index.contains_key(v) {
            search.visit(v);
        }
    }
    search.found.sort();
    search.found
}

fn crate_src(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(dir)
        .join("src")
}

#[test]
fn the_detector_finds_a_cycle_through_a_group_and_super_and_ignores_children() {
    let src = std::env::temp_dir().join(format!("importhook-cycles-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&src);
    std::fs::create_dir_all(src.join("a")).expect("dir");
    let files = [
        ("lib.rs", "mod a;\nmod b;\nmod c;\n"),
        // a → c through a group with a nested path; a's child only names its parent.
        (
            "a/mod.rs",
            "mod child;\nuse crate::{x::Y, c::{self, Z}};\npub use child::K;\n",
        ),
        ("a/child.rs", "use super::Thing;\n"),
        (
            "b.rs",
            "// use crate::a; (a comment is no edge)\nfn f() {}\n",
        ),
        ("c.rs", "fn g() { super::a::child::K::new(); }\n"),
    ];
    for (name, text) in files {
        std::fs::write(src.join(name), text).expect("write");
    }
    let found = cycles(&src);
    std::fs::remove_dir_all(&src).ok();
    assert_eq!(
        found,
        vec![vec!["a".to_owned(), "a::child".to_owned(), "c".to_owned()]]
    );
}

#[test]
fn no_module_of_the_host_imports_itself_around_a_loop() {
    let found = cycles(&crate_src("host"));
    // The engine's `capability::request` ↔ `convert` pair (the output check split between
    // them) is the one loop the engine restructuring removes; nothing else may form one.
    let allowed = [vec![
        "plugins::capability::request".to_owned(),
        "plugins::convert".to_owned(),
    ]];
    let unexpected: Vec<_> = found.iter().filter(|c| !allowed.contains(c)).collect();
    assert!(unexpected.is_empty(), "import cycles: {unexpected:?}");
}

#[test]
fn no_module_of_the_sdk_imports_itself_around_a_loop() {
    let found = cycles(&crate_src("plugin-sdk"));
    // The SDK's JSON view of a request and the request type name each other through the crate
    // root (`okta_json` <-> `request`); the SDK's API rework removes that loop. No other.
    let allowed = [["crate", "guest", "json", "okta_json", "request"].map(str::to_owned)];
    let unexpected: Vec<_> = found
        .iter()
        .filter(|c| !allowed.iter().any(|a| a.as_slice() == c.as_slice()))
        .collect();
    assert!(unexpected.is_empty(), "import cycles: {unexpected:?}");
}
