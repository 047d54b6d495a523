//! The library's modules depend one way: each `src/*.rs` names only modules
//! of lower layers (see ARCHITECTURE.md). The generated client, the
//! handwritten client and the operation table form one layer, since the
//! generated code names the client's state and the operation type, and the
//! handwritten code extends the generated `Client`.

use std::collections::BTreeMap;

/// Lowest first; a module may name any module of a lower layer.
const LAYERS: &[&[&str]] = &[
    &["error"],
    &["auth", "tls", "response"],
    &["retry"],
    &["checked"],
    &["client", "operation", "generated"],
    &["builder"],
    &["lib", "mock"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// The modules a source file names as `crate::<module>`, comments aside.
fn named_modules(source: &str) -> Vec<String> {
    let mut named = Vec::new();
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !name.is_empty() {
                named.push(name);
            }
            rest = after;
        }
    }
    named
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
    let mut violations = Vec::new();
    for (module, named) in &graph {
        let Some(own) = layer_of(module) else {
            violations.push(format!("src/{module}.rs is in no layer: add it to LAYERS"));
            continue;
        };
        for other in named {
            // `crate::types` and the like are re-exports from `lib`'s
            // generated module; anything unknown must be placed.
            let Some(theirs) = layer_of(other).or_else(|| {
                ["types", "Client", "Error"]
                    .contains(&other.as_str())
                    .then(|| layer_of("generated"))
                    .flatten()
            }) else {
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
fn named_modules_reads_paths_not_comments() {
    let source = "use crate::error::Error; // crate::builder\nlet x = crate::retry::f();";
    assert_eq!(named_modules(source), ["error", "retry"]);
}
