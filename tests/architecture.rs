//! The library's modules depend one way: each `src/*.rs` names only modules
//! of lower layers (see ARCHITECTURE.md). The generated client, the
//! handwritten client and the operation table form one layer, since the
//! generated code names the client's state and the operation type, and the
//! handwritten code extends the generated `Client`.

use std::collections::BTreeMap;

/// Lowest first; a module may name any module of a lower layer.
const LAYERS: &[&[&str]] = &[
    &["scheme"],
    &["error", "scrub"],
    &["auth", "tls", "response", "paging", "multipart", "pacing"],
    &["attempt", "classify", "decode"],
    &["retry", "download"],
    &["call", "client", "operation", "generated"],
    &["builder", "areas"],
    &["lib", "mock"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// The names a source file uses as `crate::<name>`, comments aside: a
/// module (`crate::retry::...`) or an item `lib.rs` re-exports
/// (`crate::AuthScheme`).
fn named_modules(source: &str) -> Vec<String> {
    let mut named = Vec::new();
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                named.push(name);
            }
            rest = after;
        }
    }
    named
}

/// The module each item `lib.rs` re-exports comes from (`pub use
/// module::{A, B as C};`), by the name it has at the crate root.
fn re_exports(lib: &str) -> BTreeMap<String, String> {
    let mut items = BTreeMap::new();
    for statement in lib.split(';') {
        let Some(path) = statement.trim().rsplit("pub use ").next() else {
            continue;
        };
        if !statement.contains("pub use ") {
            continue;
        }
        let path = path.trim().trim_start_matches("crate::");
        let Some((module, names)) = path.split_once("::") else {
            continue;
        };
        let names = names.trim_matches(|c| c == '{' || c == '}');
        for name in names.split(',') {
            let exported = name.rsplit(" as ").next().unwrap_or(name).trim();
            if !exported.is_empty() {
                items.insert(exported.to_owned(), module.trim().to_owned());
            }
        }
    }
    items
}

#[test]
fn modules_depend_one_way() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = BTreeMap::new();
    for entry in std::fs::read_dir(&src).expect("src/") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let module = path
            .file_stem()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let source = std::fs::read_to_string(&path).expect("readable");
        graph.insert(module, named_modules(&source));
    }
    let exported = re_exports(&std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs"));
    let mut violations = Vec::new();
    for (module, named) in &graph {
        let Some(own) = layer_of(module) else {
            violations.push(format!("src/{module}.rs is in no layer: add it to LAYERS"));
            continue;
        };
        for other in named {
            // A re-exported item counts as the module it comes from.
            let other = exported.get(other).unwrap_or(other);
            let Some(theirs) = layer_of(other) else {
                violations.push(format!("src/{module}.rs names crate::{other}, in no layer"));
                continue;
            };
            let same_cluster = own == theirs && own == layer_of("generated").expect("placed");
            if theirs >= own && !same_cluster && other != module {
                violations.push(format!(
                    "src/{module}.rs (layer {own}) names crate::{other} (layer {theirs})"
                ));
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn re_exported_items_count_as_their_module() {
    let lib = "pub use scheme::AuthScheme;\npub use decode::ApiStatus as Status;\n\
               pub use generated::{Client, types};";
    let items = re_exports(lib);
    assert_eq!(items["AuthScheme"], "scheme");
    assert_eq!(items["Status"], "decode");
    assert_eq!(items["types"], "generated");
    assert_eq!(
        named_modules("x: crate::AuthScheme, y: crate::types::T"),
        ["AuthScheme", "types"]
    );
}

#[test]
fn named_modules_reads_paths_not_comments() {
    let source = "use crate::error::Error; // crate::builder\nlet x = crate::retry::f();";
    assert_eq!(named_modules(source), ["error", "retry"]);
}

#[test]
fn scrubbing_knows_no_http() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/scrub.rs");
    let source = std::fs::read_to_string(path).expect("src/scrub.rs");
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or_default();
        for name in ["reqwest", "http::", "http_body", "Header"] {
            assert!(
                !code.contains(name),
                "src/scrub.rs names {name}: scrubbing takes bytes and text\n{line}"
            );
        }
    }
}

/// The most lines a function of the workspace may have: one screen.
const SCREEN: usize = 60;

/// The functions of `source` longer than [`SCREEN`], as `name (lines)`:
/// a function runs from its `fn` line to the line that closes its body
/// (braces counted outside string and character literals).
fn long_functions(source: &str) -> Vec<String> {
    let lines: Vec<&str> = source.lines().collect();
    let mut long = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let Some(name) = function_name(lines[index]) else {
            index += 1;
            continue;
        };
        let end = body_end(&lines, index);
        let length = end - index + 1;
        if length > SCREEN {
            long.push(format!("{name} ({length} lines)"));
        }
        index = end + 1;
    }
    long
}

/// The name of the function a line starts, if it starts one.
fn function_name(line: &str) -> Option<&str> {
    let code = line.trim_start();
    let at = code.find("fn ")?;
    let before = &code[..at];
    let qualifiers = [
        "pub",
        "pub(crate)",
        "pub(super)",
        "async",
        "const",
        "unsafe",
    ];
    if !before
        .split_whitespace()
        .all(|word| qualifiers.contains(&word))
    {
        return None;
    }
    let rest = &code[at + 3..];
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
    Some(&rest[..end])
}

/// `line` without a `//` comment; a `//` inside a string (a URL) is code.
fn without_comment(line: &str) -> &str {
    let mut in_string = false;
    let mut previous = ' ';
    for (at, c) in line.char_indices() {
        match c {
            '"' if previous != '\\' && previous != '\'' => in_string = !in_string,
            '/' if previous == '/' && !in_string => return &line[..at - 1],
            _ => {}
        }
        previous = c;
    }
    line
}

/// The line that closes the body opened at or after `start`; `start` itself
/// for a declaration without a body.
fn body_end(lines: &[&str], start: usize) -> usize {
    let mut depth = 0i32;
    let mut opened = false;
    for (offset, line) in lines[start..].iter().enumerate() {
        let code = without_comment(line);
        let mut in_string = false;
        let mut previous = ' ';
        for c in code.chars() {
            match c {
                '"' if previous != '\\' && previous != '\'' => in_string = !in_string,
                '{' if !in_string && previous != '\'' => {
                    depth += 1;
                    opened = true;
                }
                '}' if !in_string && previous != '\'' => depth -= 1,
                _ => {}
            }
            previous = c;
        }
        if (opened && depth <= 0) || (!opened && code.trim_end().ends_with(';')) {
            return start + offset;
        }
    }
    lines.len() - 1
}

/// The handwritten code of every crate of the workspace (tests and
/// benches aside): the library, the generator, the audit, the fake and
/// xtask.
const SOURCES: [&str; 5] = ["src", "codegen/src", "cli/src", "fake/src", "xtask/src"];

#[test]
fn every_function_in_the_workspace_fits_a_screen() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in SOURCES {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 50, "the sources: {files:?}");
    let mut long = Vec::new();
    for path in files {
        let source = std::fs::read_to_string(&path).expect("a source file");
        for function in long_functions(&source) {
            let shown = path.strip_prefix(root).unwrap_or(&path).display();
            long.push(format!("{shown}: {function}"));
        }
    }
    assert!(
        long.is_empty(),
        "longer than {SCREEN} lines:\n{}",
        long.join("\n")
    );
}

/// The `.rs` files under `dir`, into `out`.
fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn a_long_function_is_found_and_a_short_one_is_not() {
    let short = "fn short() {\n    let x = \"}\";\n}\n";
    assert!(long_functions(short).is_empty());
    // A `//` in a string is no comment: the braces after it count.
    let url = "fn url() {\n    let x = [{ \"u\": \"https://a\" }]; // {\n}\nfn after() {\n}\n";
    assert_eq!(body_end(&url.lines().collect::<Vec<_>>(), 0), 2);
    let body = "    let _ = 1;\n".repeat(SCREEN);
    let long = format!("pub(crate) async fn long() {{\n{body}}}\nfn after() {{}}\n");
    assert_eq!(
        long_functions(&long),
        [format!("long ({} lines)", SCREEN + 2)]
    );
}
