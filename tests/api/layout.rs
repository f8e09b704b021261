//! The shape of the source tree: layers point one way, no two source files import each
//! other (directly or round a loop), and every file fits in one reading.
//!
//! The import graph is read from the source text: `use` trees and inline `crate::`,
//! `super::` and `self::` paths, each resolved to the file that defines the module it
//! names; a path through a `mod.rs` that re-exports the item counts as an import of the
//! file the item comes from, since that is where the code lives.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Lines a source file may have before its tests.
const MAX_LINES: usize = 600;

struct SourceFile {
    path: PathBuf,
    /// The text before `#[cfg(test)]`, without comments.
    code: String,
    /// Lines before `#[cfg(test)]`.
    lines: usize,
    /// Whether this is a `mod.rs` (its `self` is its folder).
    is_folder: bool,
}

fn module_of(rel: &Path) -> Option<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop()?;
    let stem = last.strip_suffix(".rs")?;
    match stem {
        "lib" | "main" if parts.is_empty() => None,
        "mod" => Some(parts.join("::")),
        _ => {
            parts.push(stem.to_string());
            Some(parts.join("::"))
        }
    }
}

fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('/', Some('/')) => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut prev = ' ';
                for n in chars.by_ref() {
                    if prev == '*' && n == '/' {
                        break;
                    }
                    prev = n;
                }
            }
            ('r', Some('#')) if out.chars().next_back().is_none_or(|p| !is_ident(p)) => {
                // A raw string: copied whole, whatever quotes it holds.
                out.push(c);
                let mut hashes = String::new();
                while chars.peek() == Some(&'#') {
                    hashes.push(chars.next().unwrap());
                }
                out.push_str(&hashes);
                let close = format!("\"{hashes}");
                let mut body = String::new();
                for n in chars.by_ref() {
                    body.push(n);
                    if body.ends_with(&close) {
                        break;
                    }
                }
                out.push_str(&body);
            }
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn sources() -> BTreeMap<String, SourceFile> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(&root).unwrap().to_path_buf();
            let Some(module) = module_of(&rel) else {
                continue;
            };
            let text = std::fs::read_to_string(&path).unwrap();
            let before_tests = text.split("#[cfg(test)]").next().unwrap_or_default();
            files.insert(
                module,
                SourceFile {
                    is_folder: rel.ends_with("mod.rs"),
                    lines: before_tests.lines().count(),
                    code: strip_comments(before_tests),
                    path: rel,
                },
            );
        }
    }
    files
}

/// Expands a `use` tree (`a::{b, c::{d, e as f}}`) into its paths.
fn expand_use(tree: &str) -> Vec<String> {
    fn split_top(list: &str) -> Vec<&str> {
        let (mut depth, mut start, mut out) = (0, 0, Vec::new());
        for (i, c) in list.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    out.push(&list[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        out.push(&list[start..]);
        out
    }
    let tree: String = tree.split_whitespace().collect::<Vec<_>>().join(" ");
    let tree = tree.trim();
    match tree.find('{') {
        None => {
            let path = tree.split(" as ").next().unwrap_or_default().trim();
            if path.is_empty() {
                vec![]
            } else {
                vec![path.to_string()]
            }
        }
        Some(open) => {
            let prefix = tree[..open].trim_end_matches("::").trim();
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            split_top(inner)
                .into_iter()
                .flat_map(expand_use)
                .map(|p| match (prefix.is_empty(), p.as_str()) {
                    (true, _) => p,
                    (false, "self") => prefix.to_string(),
                    (false, _) => format!("{prefix}::{p}"),
                })
                .collect()
        }
    }
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every `use` path of a file, and whether it is a `pub use`.
fn use_paths(code: &str) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before = &rest[..at];
        let starts_item = before
            .chars()
            .next_back()
            .is_none_or(|c| !is_ident(c) && c != ':');
        let public = before.trim_end().ends_with("pub") || before.trim_end().ends_with(')');
        let after = &rest[at + 4..];
        let Some(end) = after.find(';') else { break };
        if starts_item {
            for path in expand_use(&after[..end]) {
                out.push((public, path));
            }
            rest = &after[end..];
        } else {
            rest = after;
        }
    }
    out
}

/// The code without its `use` items (their paths are read by [`use_paths`]).
fn without_uses(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let starts_item = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !is_ident(c) && c != ':');
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        match (starts_item, after.find(';')) {
            (true, Some(end)) => rest = &after[end..],
            _ => {
                out.push_str("use ");
                rest = &after[4..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Inline paths starting with `crate::`, `super::` or `self::`, outside `use` items.
fn inline_paths(code: &str) -> Vec<String> {
    let code = &without_uses(code);
    let mut out = Vec::new();
    for root in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(found) = code[from..].find(root) {
            let at = from + found;
            from = at + root.len();
            if code[..at].chars().next_back().is_some_and(is_ident) {
                continue;
            }
            let tail: String = code[at..]
                .chars()
                .take_while(|&c| is_ident(c) || c == ':')
                .collect();
            out.push(tail.trim_end_matches(':').to_string());
        }
    }
    out
}

struct Graph {
    modules: BTreeSet<String>,
    /// Per module: item name → the module it is re-exported from.
    reexports: BTreeMap<String, BTreeMap<String, String>>,
}

impl Graph {
    /// The absolute segments of `path` as written in `module` (a `mod.rs` module's `self` is
    /// its folder, a file's is itself; `super` is one up from either).
    fn absolute(&self, module: &str, is_folder: bool, path: &str) -> Vec<String> {
        let mut segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
        let mut base: Vec<String> = module.split("::").map(String::from).collect();
        match segments.first().copied() {
            Some("crate") => {
                segments.remove(0);
                base.clear();
            }
            Some("self") => {
                segments.remove(0);
            }
            Some("super") => {
                while segments.first() == Some(&"super") {
                    segments.remove(0);
                    base.pop();
                }
            }
            Some(first) => {
                // A path relative to this module: only its own child modules count.
                let child = format!("{module}::{first}");
                if !(is_folder && self.modules.contains(&child)) {
                    return vec![];
                }
            }
            None => return vec![],
        }
        base.extend(segments.iter().map(|s| s.to_string()));
        base
    }

    /// The file a path leads to: the longest module prefix, through re-exports.
    fn resolve(&self, segments: &[String]) -> Option<String> {
        for len in (1..=segments.len()).rev() {
            let module = segments[..len].join("::");
            if !self.modules.contains(&module) {
                continue;
            }
            if let Some(item) = segments.get(len)
                && let Some(target) = self.reexports.get(&module).and_then(|r| r.get(item))
                && target != &module
            {
                return Some(target.clone());
            }
            return Some(module);
        }
        None
    }
}

fn import_graph(files: &BTreeMap<String, SourceFile>) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph = Graph {
        modules: files.keys().cloned().collect(),
        reexports: BTreeMap::new(),
    };
    // Re-exports first (two rounds, so a re-export of a re-export resolves too).
    for _ in 0..2 {
        let mut reexports = BTreeMap::new();
        for (module, file) in files {
            let mut map = BTreeMap::new();
            for (public, path) in use_paths(&file.code) {
                if !public {
                    continue;
                }
                let segments = graph.absolute(module, file.is_folder, &path);
                if let (Some(item), Some(target)) = (segments.last(), graph.resolve(&segments)) {
                    map.insert(item.clone(), target);
                }
            }
            reexports.insert(module.clone(), map);
        }
        graph.reexports = reexports;
    }
    let mut edges = BTreeMap::new();
    for (module, file) in files {
        let mut deps = BTreeSet::new();
        let paths = use_paths(&file.code)
            .into_iter()
            .map(|(_, p)| p)
            .chain(inline_paths(&file.code));
        for path in paths {
            let segments = graph.absolute(module, file.is_folder, &path);
            if let Some(target) = graph.resolve(&segments)
                && &target != module
            {
                deps.insert(target);
            }
        }
        edges.insert(module.clone(), deps);
    }
    edges
}

/// The groups of modules that import each other round a loop.
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Tarjan's strongly connected components.
    struct Walk<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(w: &mut Walk<'a>, v: &'a str) {
        let i = w.index.len();
        w.index.insert(v, i);
        w.low.insert(v, i);
        w.stack.push(v);
        w.on_stack.insert(v);
        for next in w.edges.get(v).into_iter().flatten() {
            let next = next.as_str();
            if !w.index.contains_key(next) {
                visit(w, next);
                let low = w.low[v].min(w.low[next]);
                w.low.insert(v, low);
            } else if w.on_stack.contains(next) {
                let low = w.low[v].min(w.index[next]);
                w.low.insert(v, low);
            }
        }
        if w.low[v] == w.index[v] {
            let mut group = Vec::new();
            while let Some(top) = w.stack.pop() {
                w.on_stack.remove(top);
                group.push(top.to_string());
                if top == v {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                w.found.push(group);
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !walk.index.contains_key(v.as_str()) {
            visit(&mut walk, v);
        }
    }
    walk.found
}

fn top(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

#[test]
fn no_two_source_files_import_each_other() {
    let edges = import_graph(&sources());
    let found: Vec<Vec<String>> = cycles(&edges)
        .into_iter()
        .map(|group| {
            // Each file of the loop with what it imports inside the loop.
            let inside = |m: &String| edges[m].iter().filter(|d| group.contains(d));
            group
                .iter()
                .map(|m| format!("{m} -> {:?}", inside(m).collect::<Vec<_>>()))
                .collect()
        })
        .collect();
    assert!(found.is_empty(), "import cycles between files: {found:#?}");
}

#[test]
fn layers_point_one_way() {
    let files = sources();
    let edges = import_graph(&files);
    // What each layer may not import: delivery sits on the service, the service on the
    // domain and the store; the domain knows neither storage nor HTTP.
    let delivery = ["api", "pages", "http", "cli", "jobs", "app"];
    let forbidden: BTreeMap<&str, Vec<&str>> = BTreeMap::from([
        (
            "domain",
            [&delivery[..], &["service", "store", "sessions", "limits"]].concat(),
        ),
        ("store", [&delivery[..], &["service"]].concat()),
        ("service", delivery.to_vec()),
        ("qr", [&delivery[..], &["service"]].concat()),
        ("api", vec!["pages", "cli", "jobs"]),
        ("pages", vec!["api", "cli", "jobs"]),
        ("http", vec!["api", "pages", "cli", "jobs"]),
        ("jobs", vec!["api", "pages", "http", "cli"]),
        ("cli", vec!["api", "pages", "http"]),
    ]);
    let mut wrong = Vec::new();
    for (module, deps) in &edges {
        for dep in deps {
            if forbidden
                .get(top(module))
                .is_some_and(|no| no.contains(&top(dep)))
            {
                wrong.push(format!("{module} -> {dep}"));
            }
        }
    }
    // Crates that belong to one layer only.
    let crates: [(&str, &[&str]); 6] = [
        ("domain", &["sqlx::", "actix_web", "askama", "redis::"]),
        ("service", &["actix_web", "askama"]),
        ("store", &["actix_web", "askama"]),
        ("api", &["sqlx::"]),
        ("pages", &["sqlx::"]),
        ("http", &["sqlx::"]),
    ];
    for (module, file) in &files {
        for (layer, names) in crates {
            if top(module) == layer {
                for name in names {
                    if file.code.contains(name) {
                        wrong.push(format!("{module} uses {name}"));
                    }
                }
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layers: {wrong:#?}");
}

#[test]
fn every_source_file_fits_in_one_reading() {
    let long: Vec<String> = sources()
        .values()
        .filter(|f| f.lines > MAX_LINES)
        .map(|f| format!("{}: {} lines", f.path.display(), f.lines))
        .collect();
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines before their tests: {long:#?}"
    );
}

#[test]
fn the_reader_of_imports_finds_what_it_should() {
    assert_eq!(
        expand_use("crate::store::{self, units::{Unit, find as f}, Store}"),
        [
            "crate::store",
            "crate::store::units::Unit",
            "crate::store::units::find",
            "crate::store::Store"
        ]
    );
    assert_eq!(
        use_paths("pub use super::query::{paging, invalid};\nfn f() { reuse x; }"),
        [
            (true, "super::query::paging".to_string()),
            (true, "super::query::invalid".to_string())
        ]
    );
    assert_eq!(
        inline_paths("use crate::x::{a, b};\nlet a = crate::store::instant(1);\nsuper::State"),
        ["crate::store::instant", "super::State"]
    );
    let edges = import_graph(&sources());
    // A known import, so that a reader that finds nothing fails here.
    assert!(edges["app"].contains("config"), "{:?}", edges["app"]);
}
