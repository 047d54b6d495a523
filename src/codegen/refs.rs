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

/// Every `$ref` target named anywhere inside `value`.
pub fn refs_in(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(target) = map.get("$ref").and_then(Value::as_str) {
                out.push(target.to_owned());
            }
            map.values().for_each(|v| refs_in(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs_in(v, out)),
        _ => {}
    }
}
