//! Following local `$ref`s: what a part of a document reaches.

use std::collections::BTreeSet;

use serde_json::Value;

/// The `$ref` targets reachable, transitively, from `start` (cycles are
/// fine: each target is visited once). Targets that do not resolve are
/// included, so a caller can report them.
pub fn closure(doc: &Value, start: Vec<String>) -> BTreeSet<String> {
    let mut reach = BTreeSet::new();
    let mut todo = start;
    while let Some(target) = todo.pop() {
        if !reach.insert(target.clone()) {
            continue;
        }
        if let Some(value) = target.strip_prefix('#').and_then(|p| doc.pointer(p)) {
            refs_in(value, &mut todo);
        }
    }
    reach
}

/// Every `$ref` target named anywhere inside `value`, except in data.
pub fn refs_in(value: &Value, out: &mut Vec<String>) {
    refs_in_part(value, false, out);
}

/// `names`: `value` maps names to parts (`properties`, `responses`), so its
/// keys are names, not keywords.
fn refs_in_part(value: &Value, names: bool, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if !names && let Some(target) = map.get("$ref").and_then(Value::as_str) {
                out.push(target.to_owned());
            }
            for (key, child) in map {
                if !is_data(key, names) {
                    refs_in_part(child, is_names_map(key, names), out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs_in_part(v, false, out)),
        _ => {}
    }
}

/// Keys whose values are data (examples, defaults, enum values, vendor
/// extensions), where a `$ref` key is a JSON property like any other.
pub const DATA_KEYS: [&str; 4] = ["example", "examples", "default", "enum"];

/// Whether the value under `key` is data; `names` as in [`refs_in`]'s walk.
pub fn is_data(key: &str, names: bool) -> bool {
    !names && (DATA_KEYS.contains(&key) || key.starts_with("x-"))
}

/// Objects whose keys are names (of properties, status codes, media types,
/// components), not keywords: `default` there is a response, not data.
const NAMES_MAPS: [&str; 9] = [
    "properties",
    "responses",
    "schemas",
    "paths",
    "content",
    "headers",
    "requestBodies",
    "securitySchemes",
    "callbacks",
];

/// Whether the value under `key` maps names to parts of the document.
pub fn is_names_map(key: &str, names: bool) -> bool {
    !names && NAMES_MAPS.contains(&key)
}
