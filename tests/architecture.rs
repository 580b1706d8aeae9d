//! The layers of `src/`: each top-level module has a rank, and code may only name (`crate::…`)
//! modules of a lower rank, so the modules cannot form a cycle. The references that still point
//! up are listed in `UPWARD`, with their number: the test fails when one appears, grows, shrinks
//! or disappears, so the list always says exactly what is left to move (and only shrinks).
//!
//! Reads the source files; comment lines are not counted (doc links are not dependencies), nor is
//! test code (inline `#[cfg(test)] mod … { … }` blocks and `tests.rs` files): tests may use the
//! development tools of `dev`. Also checks the size of functions and files, tests included.
#![allow(clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

/// Top-level modules of `src/`, lowest first: a module may use those of a lower rank only.
const LAYERS: &[(&str, u8)] = &[
    ("base", 0),     // the clock, FHIR instants, OperationOutcome issues
    ("error", 1),    // the one error type of a request
    ("fhir", 1),     // FHIR mapping, extraction, rendering
    ("search", 2),   // query decoding, parameter parsing, dates, cursors, limits
    ("auth", 3),     // identity, registry, policy, views, the consumer's scope rules
    ("config", 4),   // the server's settings
    ("db", 5),       // connections, migrations, SQL building and running, writes
    ("service", 6),  // a search around its database call: limits, cursors, the Bundle
    ("import", 6),   // the import pipeline (a service over db)
    ("generate", 6), // the demo data generator
    ("http", 7),     // routes, authentication middleware, extractors, answers
    ("dev", 8),      // development PKI, query plans, the benchmark ceiling route
    ("startup", 9),  // wiring
];

/// References that point up (from, to, how many), left to move by issue 10: none left.
const UPWARD: &[(&str, &str, usize)] = &[];

fn rank(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, r)| *r)
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("src is readable").flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`None` for the crate root and the binary).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "lib" && name != "main").then(|| name.to_owned())
}

/// `text` without its inline test modules (`#[cfg(test)]` followed by `mod name {`, to the brace
/// that closes it).
fn without_test_modules(text: &str) -> String {
    let mut out = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let opens_tests = line.trim() == "#[cfg(test)]"
            && lines.peek().is_some_and(|next| next.trim_start().starts_with("mod ") && next.trim_end().ends_with('{'));
        if !opens_tests {
            out.push(line);
            continue;
        }
        let mut depth = 0i64;
        for inner in lines.by_ref() {
            depth += inner.matches('{').count() as i64 - inner.matches('}').count() as i64;
            if depth <= 0 {
                break;
            }
        }
    }
    out.join("\n")
}

/// Every `crate::name` in the code lines of `text`, and each name of a `crate::{a, b::c}` group.
fn crate_references(text: &str) -> Vec<String> {
    let code: Vec<&str> = text.lines().filter(|l| !l.trim_start().starts_with("//")).collect();
    let code = code.join("\n");
    let mut out = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        let preceded_by_ident = rest[..at].chars().last().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        if !preceded_by_ident {
            if let Some(group) = after.strip_prefix('{') {
                out.extend(group_heads(group));
            } else {
                let name = ident(after);
                if !name.is_empty() {
                    out.push(name);
                }
            }
        }
        rest = after;
    }
    out
}

fn ident(text: &str) -> String {
    text.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
}

/// The first name of each item of a `{…}` group (up to its closing brace).
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let (mut depth, mut item_start) = (0usize, true);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => item_start = true,
            c if item_start && !c.is_whitespace() => {
                item_start = false;
                let name = ident(&group[i..]);
                if !name.is_empty() && name != "self" {
                    heads.push(name);
                }
            }
            _ => {}
        }
    }
    heads
}

fn references() -> BTreeMap<(String, String), usize> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges = BTreeMap::new();
    for file in files {
        let Some(from) = module_of(&src, &file) else { continue };
        if file.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("source files are UTF-8");
        for to in crate_references(&without_test_modules(&text)) {
            if to != from {
                *edges.entry((from.clone(), to)).or_insert(0) += 1;
            }
        }
    }
    edges
}

#[test]
fn every_module_has_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for file in &files {
        if let Some(m) = module_of(&src, file) {
            assert!(rank(&m).is_some(), "src/{m} has no layer: add it to LAYERS in tests/architecture.rs");
        }
    }
}

#[test]
fn modules_only_use_lower_layers_but_the_listed_ones() {
    let mut upward = BTreeMap::new();
    for ((from, to), n) in references() {
        let (Some(a), Some(b)) = (rank(&from), rank(&to)) else { continue };
        if b >= a {
            upward.insert((from, to), n);
        }
    }
    let listed: BTreeMap<(String, String), usize> =
        UPWARD.iter().map(|(f, t, n)| ((f.to_string(), t.to_string()), *n)).collect();
    let mut problems = Vec::new();
    for (edge, n) in &upward {
        match listed.get(edge) {
            None => problems.push(format!("{} uses {} ({n}×): a layer above it", edge.0, edge.1)),
            Some(k) if k != n => problems.push(format!("{} uses {} {n}× (listed: {k}×)", edge.0, edge.1)),
            Some(_) => {}
        }
    }
    for (edge, k) in &listed {
        if !upward.contains_key(edge) {
            problems.push(format!("{} no longer uses {} (listed: {k}×): remove it from UPWARD", edge.0, edge.1));
        }
    }
    assert!(problems.is_empty(), "layering of src/ (tests/architecture.rs):\n{}", problems.join("\n"));
}

#[test]
fn test_modules_are_not_layered() {
    let text =
        "use crate::db::x;\n#[cfg(test)]\nmod tests {\n    use crate::dev::pki;\n    fn f() {}\n}\nuse crate::auth::y;";
    assert_eq!(crate_references(&without_test_modules(text)), ["db", "auth"].map(str::to_owned));
}

#[test]
fn the_reference_scanner_reads_paths_not_words() {
    let text = "use crate::db::x;\n// crate::http in a comment\nlet a = crate::auth::f(); my_crate::fhir::g();\n\
                use crate::{search::{a, b},\n    http};";
    let found = crate_references(text);
    assert_eq!(found, ["db", "auth", "search", "http"].map(str::to_owned));
}

/// Longest function, in lines from its `fn` line to its closing brace.
const MAX_FUNCTION_LINES: usize = 80;
/// Longest source file, in lines.
const MAX_FILE_LINES: usize = 600;

/// The functions of `text` (as rustfmt lays them out) longer than `max` lines: (name, lines).
fn long_functions(text: &str, max: usize) -> Vec<(String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let signature =
            ["fn ", "pub fn ", "pub(crate) fn ", "pub(super) fn ", "async fn ", "pub async fn ", "const fn "]
                .iter()
                .find_map(|p| trimmed.strip_prefix(p));
        let Some(rest) = signature else { continue };
        if line.trim_end().ends_with(';') {
            continue;
        }
        let close = " ".repeat(indent) + "}";
        let end = lines[i + 1..].iter().position(|l| *l == close).map_or(lines.len() - i, |n| n + 2);
        if end > max {
            out.push((ident(rest), end));
        }
    }
    out
}

#[test]
fn functions_and_files_stay_small() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "crates", "tests"] {
        rust_files(&root.join(dir), &mut files);
    }
    let mut problems = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source files are UTF-8");
        let name = file.strip_prefix(root).unwrap_or(&file).display().to_string();
        let n = text.lines().count();
        if n > MAX_FILE_LINES {
            problems.push(format!("{name}: {n} lines (split it by concern)"));
        }
        for (f, len) in long_functions(&text, MAX_FUNCTION_LINES) {
            problems.push(format!("{name}: fn {f} is {len} lines"));
        }
    }
    assert!(
        problems.is_empty(),
        "over {MAX_FUNCTION_LINES} lines per function or {MAX_FILE_LINES} per file:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_size_check_measures_functions() {
    let text = "fn short() {\n    1\n}\n\nimpl X {\n    pub fn long() {\n        a();\n        b();\n    }\n}\n";
    assert_eq!(long_functions(text, 3), vec![("long".to_owned(), 4)]);
    assert!(long_functions(text, 4).is_empty());
}
