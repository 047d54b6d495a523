//! Visiting the operations and the schemas of a document, wherever they sit.

use serde_json::{Map, Value};

use crate::codegen::spec::METHODS;

/// Calls `f(method, path, operation)` for every operation; `f` returns
/// `false` to remove the operation (and an emptied path item).
pub fn retain_operations(
    doc: &mut Value,
    mut f: impl FnMut(&str, &str, &mut Map<String, Value>) -> bool,
) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    paths.retain(|path, item| {
        let Some(item) = item.as_object_mut() else {
            return true;
        };
        for method in METHODS {
            let keep = match item.get_mut(method).and_then(Value::as_object_mut) {
                Some(operation) => f(method, path, operation),
                None => true,
            };
            if !keep {
                item.remove(method);
            }
        }
        METHODS.iter().any(|m| item.contains_key(*m))
    });
}

/// Calls `f` on every schema object in the document: component schemas,
/// the schemas of parameters, request bodies and responses (in components
/// and in operations), and every schema nested in those.
pub fn for_each_schema(doc: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    if let Some(components) = doc.get_mut("components").and_then(Value::as_object_mut) {
        for (kind, group) in components.iter_mut() {
            let Some(group) = group.as_object_mut() else {
                continue;
            };
            for item in group.values_mut() {
                match kind.as_str() {
                    "schemas" => schema(item, f),
                    "parameters" | "headers" => holder(item, f),
                    "requestBodies" | "responses" => body(item, f),
                    _ => {}
                }
            }
        }
    }
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            for (key, value) in item.iter_mut() {
                if key == "parameters" {
                    each(value, |p| holder(p, f));
                } else if METHODS.contains(&key.as_str()) {
                    operation(value, f);
                }
            }
        }
    }
}

fn operation(op: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    if let Some(params) = op.get_mut("parameters") {
        each(params, |p| holder(p, f));
    }
    if let Some(request) = op.get_mut("requestBody") {
        body(request, f);
    }
    if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
        responses.values_mut().for_each(|r| body(r, f));
    }
}

/// A parameter or header: its `schema`.
fn holder(value: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    if let Some(s) = value.get_mut("schema") {
        schema(s, f);
    }
}

/// A request body or response: the schema of each media type.
fn body(value: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    if let Some(content) = value.get_mut("content").and_then(Value::as_object_mut) {
        content.values_mut().for_each(|media| holder(media, f));
    }
}

/// Calls `f` on every parameter object: in components, on path items and
/// on operations.
pub fn for_each_parameter(doc: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    let mut list = |params: Option<&mut Value>| {
        for param in params.and_then(Value::as_array_mut).into_iter().flatten() {
            if let Some(param) = param.as_object_mut() {
                f(param);
            }
        }
    };
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            list(item.get_mut("parameters"));
            for method in METHODS {
                list(item.get_mut(method).and_then(|op| op.get_mut("parameters")));
            }
        }
    }
    if let Some(group) = doc
        .pointer_mut("/components/parameters")
        .and_then(Value::as_object_mut)
    {
        group
            .values_mut()
            .filter_map(Value::as_object_mut)
            .for_each(f);
    }
}

/// Calls `f` on the `content` map (media type to media object) of every
/// request body and response, in operations and in components.
pub fn for_each_content(doc: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    let mut content = |body: &mut Value| {
        if let Some(content) = body.get_mut("content").and_then(Value::as_object_mut) {
            f(content);
        }
    };
    for kind in ["requestBodies", "responses"] {
        if let Some(group) = doc
            .pointer_mut(&format!("/components/{kind}"))
            .and_then(Value::as_object_mut)
        {
            group.values_mut().for_each(&mut content);
        }
    }
    retain_operations(doc, |_, _, operation| {
        if let Some(request) = operation.get_mut("requestBody") {
            content(request);
        }
        if let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        {
            responses.values_mut().for_each(&mut content);
        }
        true
    });
}

/// Calls `f(media_type, media)` for every media type of every request body
/// and response, in operations and in components.
pub fn for_each_media_type(doc: &mut Value, f: &mut dyn FnMut(&str, &mut Map<String, Value>)) {
    for_each_content(doc, &mut |content| {
        for (media_type, media) in content.iter_mut() {
            if let Some(media) = media.as_object_mut() {
                f(media_type, media);
            }
        }
    });
}

fn schema(value: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    let Some(map) = value.as_object_mut() else {
        return;
    };
    f(map);
    for key in ["items", "additionalProperties", "not"] {
        if let Some(inner) = map.get_mut(key) {
            schema(inner, f);
        }
    }
    if let Some(properties) = map.get_mut("properties").and_then(Value::as_object_mut) {
        properties.values_mut().for_each(|p| schema(p, f));
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(list) = map.get_mut(key) {
            each(list, |s| schema(s, f));
        }
    }
}

fn each(list: &mut Value, mut f: impl FnMut(&mut Value)) {
    if let Some(items) = list.as_array_mut() {
        items.iter_mut().for_each(&mut f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn visits_schemas_everywhere_they_can_sit() {
        let mut doc = json!({
            "paths": { "/p": {
                "parameters": [{ "schema": { "title": "path-param" } }],
                "post": {
                    "parameters": [{ "schema": { "title": "op-param" } }],
                    "requestBody": { "content": { "application/json": { "schema": { "title": "request" } } } },
                    "responses": { "200": { "content": { "application/json": { "schema": {
                        "title": "response",
                        "properties": { "a": { "title": "property", "items": { "title": "item" } } },
                        "additionalProperties": { "title": "map-value" },
                        "allOf": [{ "title": "all" }], "anyOf": [{ "title": "any" }], "oneOf": [{ "title": "one" }],
                        "not": { "title": "not" }
                    } } } } }
                }
            } },
            "components": {
                "schemas": { "S": { "title": "component" } },
                "parameters": { "P": { "schema": { "title": "component-param" } } },
                "responses": { "R": { "content": { "application/json": { "schema": { "title": "component-response" } } } } }
            }
        });
        let mut seen = Vec::new();
        for_each_schema(&mut doc, &mut |s| {
            seen.push(s["title"].as_str().unwrap().to_owned());
        });
        seen.sort();
        let mut expected = [
            "path-param",
            "op-param",
            "request",
            "response",
            "property",
            "item",
            "map-value",
            "all",
            "any",
            "one",
            "not",
            "component",
            "component-param",
            "component-response",
        ];
        expected.sort();
        assert_eq!(seen, expected);
    }

    #[test]
    fn removing_the_last_operation_removes_the_path() {
        let mut doc = json!({ "paths": {
            "/a": { "post": {}, "get": {} },
            "/b": { "post": {} }
        } });
        retain_operations(&mut doc, |method, _, _| method != "post");
        assert_eq!(doc, json!({ "paths": { "/a": { "get": {} } } }));
    }
}
