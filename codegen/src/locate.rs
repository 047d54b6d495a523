//! Runs the generator and, when it fails or panics, finds the schema or
//! operation responsible by generating smaller documents.

use std::collections::BTreeSet;
use std::path::Path;

use proc_macro2::TokenStream;
use serde_json::{Map, Value};

use super::SpecError;
use super::settings::generation_settings;
use super::spec::{self, closure, pointer_segment, refs_in};

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
    let (pointer, problem, fix) = explain(raw, pointer, &problem);
    Err(SpecError::new(file, pointer, problem, &fix))
}

/// What the spec does at `pointer` that the generator failed on (`problem`
/// is its message), said in the spec's terms, with the smallest part at
/// fault and what to change: `(pointer, what, fix)`.
fn explain(raw: &Value, pointer: String, problem: &str) -> (String, String, String) {
    if problem.contains("response_types.len() <= 1") {
        return differing_answers(raw, &pointer);
    }
    if problem.contains("more media types than expected") {
        return several_media_types(raw, &pointer);
    }
    if problem.contains("media type encoding") {
        return (
            format!("{pointer}/requestBody"),
            "the request body's media type has an `encoding` (or no schema), which the \
             generator does not support"
                .to_owned(),
            "give the body an `application/json` schema and no `encoding`".to_owned(),
        );
    }
    if problem.contains("upgrade requests") {
        return (
            format!("{pointer}/responses"),
            "a `101` (protocol upgrade) answer beside other non-default answers, which the \
             generator does not support"
                .to_owned(),
            "leave the operation out (this client speaks JSON over HTTP)".to_owned(),
        );
    }
    if pointer.starts_with("/components/schemas/") {
        return refused_schema(raw, &pointer, problem);
    }
    let fix = "rewrite that part in a form the generator supports (plain objects, arrays, \
               strings, numbers, enums of strings; JSON request and response bodies), or \
               leave the operation out";
    let what = format!(
        "the generator (progenitor) cannot handle this: {}",
        first_line(problem)
    );
    (pointer, what, fix.to_owned())
}

/// An operation (at `pointer`) whose success answers differ in schema.
fn differing_answers(raw: &Value, pointer: &str) -> (String, String, String) {
    let responses = format!("{pointer}/responses");
    let answers = success_answers(raw.pointer(&responses));
    (
        responses,
        format!(
            "the success answers ({answers}) have different schemas, and the generated \
             method can return only one type"
        ),
        "give every 2xx answer (and `default`, which counts as one) the same schema, or \
         describe the failures with 4xx/5xx codes instead of `default`"
            .to_owned(),
    )
}

/// An operation (at `pointer`) whose request body offers several media
/// types.
fn several_media_types(raw: &Value, pointer: &str) -> (String, String, String) {
    let content = format!("{pointer}/requestBody/content");
    let types = keys_listed(raw.pointer(&content));
    (
        content,
        format!("the request body offers several media types ({types}); the generator takes one"),
        "keep only `application/json`".to_owned(),
    )
}

/// A schema (at `pointer`) typify refused: its smallest failing part, the
/// keywords there, and a fix for an untyped schema or any other.
fn refused_schema(raw: &Value, pointer: &str, problem: &str) -> (String, String, String) {
    let smallest = smallest_failing_part(raw, pointer);
    let schema = raw.pointer(&smallest).and_then(Value::as_object);
    let keywords = keys_listed(raw.pointer(&smallest));
    let detail = first_line(problem);
    let detail = detail
        .trim_end_matches(':')
        .strip_prefix("the generator panicked: ")
        .unwrap_or(&detail)
        .to_owned();
    let untyped = schema.is_some_and(|schema| {
        !["type", "$ref", "allOf", "oneOf", "anyOf", "not"]
            .iter()
            .any(|k| schema.contains_key(*k))
    });
    let fix = if untyped {
        "give this schema a `type` that fits its keywords (`format: int32` is `type: \
         integer`, `properties` is `type: object`), or leave out what uses it"
    } else {
        "rewrite this schema as a plain object, array, string, number, boolean or string \
         enum (drop a `not`), or leave out what uses it"
    };
    let what = format!(
        "the generator (typify) cannot turn this schema (with {keywords}) into a Rust type \
         ({detail})"
    );
    (smallest, what, fix.to_owned())
}

/// `` `a`, `b` `` for the keys of an object; empty for anything else.
fn keys_listed(value: Option<&Value>) -> String {
    value
        .and_then(Value::as_object)
        .map(|object| {
            (object.keys())
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// `` `200` (`#/components/schemas/A`), `default` (`#/...`) `` for the 2xx
/// and default answers of `responses`.
fn success_answers(responses: Option<&Value>) -> String {
    let Some(responses) = responses.and_then(Value::as_object) else {
        return String::new();
    };
    responses
        .iter()
        .filter(|(status, _)| status.starts_with('2') || *status == "default")
        .map(|(status, response)| {
            let schema = response
                .get("content")
                .and_then(Value::as_object)
                .and_then(|content| content.values().next())
                .and_then(|media| media.get("schema"));
            let what = match schema {
                None => "no body".to_owned(),
                Some(schema) => match schema.get("$ref").and_then(Value::as_str) {
                    Some(target) => format!("`{target}`"),
                    None => "an inline schema".to_owned(),
                },
            };
            format!("`{status}`: {what}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The deepest part of the schema at `pointer` (a property, an item, a
/// branch) that the generator also fails on alone.
fn smallest_failing_part(raw: &Value, pointer: &str) -> String {
    let mut at = pointer.to_owned();
    'descend: loop {
        let Some(schema) = raw.pointer(&at).and_then(Value::as_object) else {
            return at;
        };
        let mut children = Vec::new();
        for (key, value) in schema {
            match (key.as_str(), value) {
                ("properties", Value::Object(properties)) => {
                    for name in properties.keys() {
                        children.push(format!("{at}/properties/{}", pointer_segment(name)));
                    }
                }
                ("items" | "additionalProperties" | "not", Value::Object(_)) => {
                    children.push(format!("{at}/{key}"));
                }
                ("allOf" | "oneOf" | "anyOf", Value::Array(branches)) => {
                    for index in 0..branches.len() {
                        children.push(format!("{at}/{key}/{index}"));
                    }
                }
                _ => {}
            }
        }
        // A part that fails only by reaching back into this schema (a
        // recursive property) is not where the fault is: the parts that do
        // not reach it are tried first.
        let component = component_of(&at);
        let reaches_back = |part: &Value| {
            let mut start = Vec::new();
            refs_in(part, &mut start);
            component
                .as_ref()
                .is_some_and(|c| closure(raw, start).contains(c))
        };
        let parts = children.into_iter().filter_map(|child| {
            let part = raw.pointer(&child)?;
            part.get("$ref").is_none().then_some((child, part))
        });
        let (mut own, back): (Vec<_>, Vec<_>) = parts.partition(|(_, part)| !reaches_back(part));
        own.extend(back);
        if let Some((child, _)) = own.into_iter().find(|(_, part)| fails_alone(raw, part)) {
            at = child;
            continue 'descend;
        }
        return at;
    }
}

/// The `$ref` target of the component schema `pointer` is in
/// (`#/components/schemas/X` for `/components/schemas/X/properties/y`).
fn component_of(pointer: &str) -> Option<String> {
    let name = pointer
        .strip_prefix("/components/schemas/")?
        .split('/')
        .next()?;
    Some(format!("#/components/schemas/{name}"))
}

/// Whether the generator fails on `part` as the only schema of the
/// document (with the components it reaches).
fn fails_alone(raw: &Value, part: &Value) -> bool {
    const PROBE: &str = "RhombusPartnerProbe";
    let mut start = Vec::new();
    refs_in(part, &mut start);
    let reach = closure(raw, start);
    let mut doc = subset(raw, Map::new(), &reach);
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.insert(PROBE.to_owned(), part.clone());
    }
    attempt_raw(&doc).is_err()
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
    let outcome = super::panics::catching(|| {
        progenitor_impl::Generator::new(&generation_settings()).generate_tokens(spec)
    });
    match outcome {
        Ok(Ok(tokens)) => Ok(tokens),
        Ok(Err(error)) => Err(error.to_string()),
        Err(message) => Err(format!("the generator panicked: {message}")),
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
        let reach = closure(raw, vec![spec::schema_ref(name)]);
        let doc = subset(raw, Map::new(), &reach);
        if let Err(problem) = attempt_raw(&doc) {
            failing_schemas.push((reach.len(), name.clone(), problem));
        }
    }
    if let Some((_, name, problem)) = failing_schemas.into_iter().min() {
        return Some((spec::schema_pointer(&name), problem));
    }

    for op in spec::operations(raw) {
        let mut only = Map::new();
        only.insert(op.method.to_owned(), op.operation.clone());
        if let Some(params) = op.item.get("parameters") {
            only.insert("parameters".to_owned(), params.clone());
        }
        let mut one_path = Map::new();
        one_path.insert(op.path.to_owned(), Value::Object(only));
        let mut start = Vec::new();
        refs_in(op.operation, &mut start);
        let reach = closure(raw, start);
        let doc = subset(raw, one_path, &reach);
        if let Err(problem) = attempt_raw(&doc) {
            return Some((op.pointer(), problem));
        }
    }
    None
}

fn attempt_raw(doc: &Value) -> Result<TokenStream, String> {
    // The same deserializer as `check::typed`, so that `openapiv3`'s
    // deserialization is compiled once (it is most of this crate's code).
    let spec: openapiv3::OpenAPI =
        serde_path_to_error::deserialize(doc).map_err(|e| e.into_inner().to_string())?;
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
                .filter(|(name, _)| reach.contains(&spec::schema_ref(name)))
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
