//! Runs the generator and, when it fails or panics, finds the schema or
//! operation responsible by generating smaller documents.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use proc_macro2::TokenStream;
use serde_json::{Map, Value};

use super::check::METHODS;
use super::refs::{closure, refs_in};
use super::{SpecError, generation_settings, pointer_segment};

const SCHEMA_PREFIX: &str = "#/components/schemas/";

/// Generates tokens for `spec`; on failure names the part at fault.
pub fn generate_tokens(
    file: &Path,
    raw: &Value,
    spec: &openapiv3::OpenAPI,
) -> Result<TokenStream, SpecError> {
    let problem = match attempt(spec) {
        Ok(tokens) => return Ok(tokens),
        Err(problem) => problem,
    };
    let (pointer, problem) = match locate(raw) {
        Some((pointer, local_problem)) => (pointer, local_problem),
        None => (String::new(), problem),
    };
    Err(SpecError::new(
        file,
        pointer,
        format!(
            "the generator (progenitor) cannot handle this: {}",
            first_line(&problem)
        ),
        "rewrite that part in a form the generator supports (plain objects, arrays, strings, \
         numbers, enums of strings; JSON request and response bodies), or leave the operation out",
    ))
}

/// The generator's messages often end in a multi-line debug dump of the
/// offending structure; the pointer already says where it is.
fn first_line(problem: &str) -> String {
    let line = problem.lines().next().unwrap_or_default();
    let line = line.trim_end_matches(|c: char| c == '{' || c == '(' || c.is_whitespace());
    match line.char_indices().nth(300) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line.to_owned(),
    }
}

/// One run of the generator, with panics turned into errors.
fn attempt(spec: &openapiv3::OpenAPI) -> Result<TokenStream, String> {
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        progenitor_impl::Generator::new(&generation_settings()).generate_tokens(spec)
    }));
    std::panic::set_hook(previous_hook);
    match outcome {
        Ok(Ok(tokens)) => Ok(tokens),
        Ok(Err(error)) => Err(error.to_string()),
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("no message");
            Err(format!("the generator panicked: {message}"))
        }
    }
}

/// Finds the smallest schema, else the first operation, that fails alone.
fn locate(raw: &Value) -> Option<(String, String)> {
    let schemas = raw
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();

    let mut failing_schemas: Vec<(usize, String, String)> = Vec::new();
    for name in schemas.keys() {
        let reach = closure(raw, vec![format!("{SCHEMA_PREFIX}{name}")]);
        let doc = subset(raw, Map::new(), &reach);
        if let Err(problem) = attempt_raw(&doc) {
            failing_schemas.push((reach.len(), name.clone(), problem));
        }
    }
    if let Some((_, name, problem)) = failing_schemas.into_iter().min() {
        return Some((
            format!("/components/schemas/{}", pointer_segment(&name)),
            problem,
        ));
    }

    let paths = raw.get("paths").and_then(Value::as_object)?;
    for (path, item) in paths {
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let mut only = Map::new();
            only.insert(method.to_owned(), operation.clone());
            if let Some(params) = item.get("parameters") {
                only.insert("parameters".to_owned(), params.clone());
            }
            let mut one_path = Map::new();
            one_path.insert(path.clone(), Value::Object(only));
            let mut start = Vec::new();
            refs_in(operation, &mut start);
            let reach = closure(raw, start);
            let doc = subset(raw, one_path, &reach);
            if let Err(problem) = attempt_raw(&doc) {
                let pointer = format!("/paths/{}/{method}", pointer_segment(path));
                return Some((pointer, problem));
            }
        }
    }
    None
}

fn attempt_raw(doc: &Value) -> Result<TokenStream, String> {
    let spec: openapiv3::OpenAPI =
        serde_json::from_value(doc.clone()).map_err(|e| e.to_string())?;
    attempt(&spec)
}

/// A copy of `raw` with only `paths` and the schemas in `reach`.
fn subset(raw: &Value, paths: Map<String, Value>, reach: &BTreeSet<String>) -> Value {
    let mut doc = raw.clone();
    let kept: Map<String, Value> = raw
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|all| {
            all.iter()
                .filter(|(name, _)| reach.contains(&format!("{SCHEMA_PREFIX}{name}")))
                .map(|(name, schema)| (name.clone(), schema.clone()))
                .collect()
        })
        .unwrap_or_default();
    if let Some(object) = doc.as_object_mut() {
        object.insert("paths".to_owned(), Value::Object(paths));
        let components = object
            .entry("components")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(components) = components.as_object_mut() {
            components.insert("schemas".to_owned(), Value::Object(kept));
        }
    }
    doc
}
