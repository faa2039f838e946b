//! Test only: no two modules of the host or SDK crates import each other, directly or around a
//! loop. A cycle makes a module impossible to read, test or move without the others (one
//! function in `outbound.rs` once tied fifteen files together).
//!
//! The graph is read from the source: each `.rs` file is a module; every `crate::…` and
//! `super::…` path outside the trailing `#[cfg(test)] mod tests` (and outside `//` comments)
//! is an edge to the deepest module file the path names, followed through `pub use`
//! re-exports to the module that defines the item. A module naming its own descendants is no
//! edge (a module's children are part of it), nor is a `$crate::` path (a macro's caller's).

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

/// The paths named in `text` (a module's code) by `crate::` and `super::` anchors; `$crate`
/// paths belong to a macro's caller and are left out.
fn named_paths(text: &str, module: &[String]) -> Vec<Module> {
    let mut named = Vec::new();
    for (at, _) in text.match_indices("::") {
        let before = &text[..at];
        let word_start = before
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map_or(0, |i| i + 1);
        let (anchor, start) = (&before[word_start..], at + 2);
        // Only the first segment of a path anchors it (not `a::crate`, not `super::super`
        // after the first `super`).
        let prefix = &before[..word_start];
        if prefix.ends_with("::") || prefix.ends_with('$') {
            continue;
        }
        let mut base: Module = match anchor {
            "crate" => Vec::new(),
            "super" => module[..module.len().saturating_sub(1)].to_vec(),
            _ => continue,
        };
        let mut rest = &text[start..];
        while let Some(next) = rest.strip_prefix("super::").filter(|_| anchor == "super") {
            base.pop();
            rest = next;
        }
        paths(rest, &base, &mut named);
    }
    named
}

/// What each module re-exports (`pub use …;`, any visibility): name → the full path it names.
fn reexports(
    modules: &BTreeMap<Module, PathBuf>,
    texts: &BTreeMap<Module, String>,
) -> BTreeMap<Module, BTreeMap<String, Module>> {
    let mut out = BTreeMap::new();
    for (module, text) in texts {
        let mut names = BTreeMap::new();
        for (at, _) in text.match_indices("use ") {
            let head = text[..at].trim_end();
            if !(head.ends_with("pub") || head.ends_with(')')) {
                continue;
            }
            let tree = &text[at + 4..];
            let tree = &tree[..tree.find(';').unwrap_or(tree.len())];
            let mut found = Vec::new();
            let (first, rest) = tree.split_once("::").unwrap_or((tree, ""));
            let base = match first.trim() {
                "crate" => Vec::new(),
                "self" => module.clone(),
                "super" => module[..module.len().saturating_sub(1)].to_vec(),
                child => {
                    let mut base = module.clone();
                    base.push(child.to_owned());
                    if !modules.contains_key(&base) {
                        continue;
                    }
                    base
                }
            };
            paths(rest.trim_start(), &base, &mut found);
            for mut path in found {
                if path.last().is_some_and(|last| last == "self") {
                    path.pop();
                }
                if let Some(name) = path.last().cloned() {
                    names.insert(name, path);
                }
            }
        }
        out.insert(module.clone(), names);
    }
    out
}

/// The import graph: module → the modules its `crate::` and `super::` paths name, through
/// re-exports to where the item is defined. A module naming one of its own descendants is no
/// edge: a module's children are part of it.
fn graph(src: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let modules = modules(src);
    let texts: BTreeMap<Module, String> = modules
        .iter()
        .map(|(m, file)| {
            let text = std::fs::read_to_string(file).expect("read module");
            (m.clone(), code(&text))
        })
        .collect();
    let reexports = reexports(&modules, &texts);
    let resolve = |path: &[String]| {
        let mut path = path.to_vec();
        for _ in 0..8 {
            let module = (0..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|m| modules.contains_key(m))?;
            let Some(target) = path
                .get(module.len())
                .and_then(|name| reexports.get(&module)?.get(name))
            else {
                return Some(module);
            };
            let mut next = target.clone();
            next.extend_from_slice(&path[module.len() + 1..]);
            if next == path {
                return Some(module);
            }
            path = next;
        }
        None
    };
    let mut edges = BTreeMap::new();
    for (module, text) in &texts {
        let targets = edges.entry(module.clone()).or_insert_with(BTreeSet::new);
        for path in named_paths(text, module) {
            if let Some(target) = resolve(&path).filter(|t| !t.starts_with(module)) {
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
fn the_detector_follows_groups_super_and_reexports_and_ignores_comments_macros_and_children() {
    let src = std::env::temp_dir().join(format!("importhook-cycles-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&src);
    std::fs::create_dir_all(src.join("a")).expect("dir");
    let files = [
        ("lib.rs", "mod a;\nmod b;\nmod c;\n"),
        // a → c through a nested group, a → b; naming its own child is no edge.
        (
            "a/mod.rs",
            "mod child;\nuse crate::{x::Y, c::{self, Z}};\npub use child::K;\nfn f() { crate::b::g(); crate::a::child::K::new(); }\n",
        ),
        ("a/child.rs", "use super::super::a::Thing;\n"),
        // Neither a comment nor a macro's `$crate` path is an edge back to a.
        (
            "b.rs",
            "// use crate::a;\nmacro_rules! m { () => { $crate::a::K }; }\npub fn g() {}\n",
        ),
        // a::K is re-exported from a::child: the edge goes to where it is defined.
        ("c.rs", "fn g() { crate::a::K::new(); }\n"),
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
    assert!(found.is_empty(), "import cycles: {found:?}");
}

#[test]
fn no_module_of_the_sdk_imports_itself_around_a_loop() {
    let found = cycles(&crate_src("plugin-sdk"));
    assert!(found.is_empty(), "import cycles: {found:?}");
}
