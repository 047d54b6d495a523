//! The one walk over a document as JSON, and the key classes it follows:
//! which keys hold data (never looked into), which hold maps from names to
//! parts (whose keys are names, not keywords), and which hold parts of the
//! document. Every reader that looks for something wherever it sits (`$ref`s,
//! schemas to lower, prose) walks with [`objects`], so they all agree on
//! what a `$ref`, a `description` or a `default` key is.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::pointer_segment;

/// Keys whose values are data (examples, defaults, enum values, an example
/// object's `value`): a `$ref` or `description` key in there is a JSON
/// property like any other.
const DATA_KEYS: [&str; 5] = ["example", "default", "enum", "const", "value"];

/// Keys whose values map names (of properties, paths, components, status
/// codes, media types, ...) to parts: under `responses`, `default` is a
/// response, and under `properties`, `description` is a property.
const NAME_MAPS: [&str; 15] = [
    "properties",
    "paths",
    "schemas",
    "parameters",
    "requestBodies",
    "responses",
    "headers",
    "securitySchemes",
    "links",
    "callbacks",
    "examples",
    "encoding",
    "variables",
    "content",
    "mapping",
];

/// What the value under a key of an OpenAPI object is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyClass {
    /// Data: example values, defaults, enum values, vendor extensions.
    Data,
    /// A map from names to parts.
    Names,
    /// A part of the document (an object or a list of them), or a scalar.
    Part,
}

/// The class of `key`, holding `value`, in an OpenAPI object (not in a name
/// map, where every key is a name).
pub fn key_class(key: &str, value: &Value) -> KeyClass {
    // A vendor extension is its vendor's data; `examples` as a list is a
    // schema's example values, as a map the named example objects of a
    // media type or parameter.
    if key.starts_with("x-") || DATA_KEYS.contains(&key) || (key == "examples" && value.is_array())
    {
        KeyClass::Data
    } else if NAME_MAPS.contains(&key) {
        KeyClass::Names
    } else {
        KeyClass::Part
    }
}

/// Every OpenAPI object inside `value`, `value` itself included, with its
/// JSON pointer relative to `value`, parents before children. Data is not
/// looked into, and a name map is not an object of the document (its values
/// are). A caller that changes the objects walks the pointers afterwards.
pub fn objects(value: &Value) -> Vec<(String, &Map<String, Value>)> {
    let mut found = Vec::new();
    collect(value, false, &mut String::new(), &mut found);
    found
}

/// `names`: `value` maps names to parts.
fn collect<'a>(
    value: &'a Value,
    names: bool,
    at: &mut String,
    found: &mut Vec<(String, &'a Map<String, Value>)>,
) {
    let descend = |key: &str, child: &'a Value, names: bool, at: &mut String, found: &mut _| {
        let len = at.len();
        at.push('/');
        at.push_str(key);
        collect(child, names, at, found);
        at.truncate(len);
    };
    match value {
        Value::Object(map) => {
            if !names {
                found.push((at.clone(), map));
            }
            for (key, child) in map {
                let class = if names {
                    KeyClass::Part
                } else {
                    key_class(key, child)
                };
                if class != KeyClass::Data {
                    let names = class == KeyClass::Names;
                    descend(&pointer_segment(key), child, names, at, found);
                }
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                descend(&index.to_string(), child, false, at, found);
            }
        }
        _ => {}
    }
}

/// Every `$ref` target named inside `value`, except in data.
pub fn refs_in(value: &Value, out: &mut Vec<String>) {
    let targets = objects(value)
        .into_iter()
        .filter_map(|(_, object)| object.get("$ref").and_then(Value::as_str));
    out.extend(targets.map(str::to_owned));
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Sorted: a map's order depends on serde_json's features.
    fn pointers(value: &Value) -> Vec<String> {
        let mut found: Vec<String> = objects(value).into_iter().map(|(p, _)| p).collect();
        found.sort();
        found
    }

    #[test]
    fn names_are_not_keywords_and_data_is_not_walked() {
        let doc = json!({
            "responses": { "default": { "$ref": "#/r" } },
            "properties": { "example": { "$ref": "#/p" }, "a/b": {} },
            "default": { "$ref": "#/not-a-ref" },
            "x-vendor": { "$ref": "#/not-either" },
            "examples": { "one": { "value": { "$ref": "#/data" }, "description": "d" } },
            "allOf": [{ "$ref": "#/item" }]
        });
        assert_eq!(
            pointers(&doc),
            [
                "",
                "/allOf/0",
                "/examples/one",
                "/properties/a~1b",
                "/properties/example",
                "/responses/default",
            ]
        );
        let mut refs = Vec::new();
        refs_in(&doc, &mut refs);
        refs.sort();
        assert_eq!(refs, ["#/item", "#/p", "#/r"]);
    }

    #[test]
    fn a_list_of_examples_is_data() {
        let doc = json!({ "examples": [{ "$ref": "#/data" }] });
        assert_eq!(pointers(&doc), [""]);
        assert_eq!(key_class("examples", &doc["examples"]), KeyClass::Data);
        assert_eq!(key_class("examples", &json!({})), KeyClass::Names);
        assert_eq!(key_class("items", &json!({})), KeyClass::Part);
    }

    #[test]
    fn closure_follows_cycles_and_keeps_dangling_targets() {
        let doc = json!({ "a": { "$ref": "#/b" }, "b": { "x": { "$ref": "#/a" }, "y": { "$ref": "#/gone" } } });
        let reach = closure(&doc, vec!["#/a".to_owned()]);
        assert_eq!(
            reach.into_iter().collect::<Vec<_>>(),
            ["#/a", "#/b", "#/gone"]
        );
    }
}
