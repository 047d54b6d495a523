//! What a refresh changes in the API, in words a reviewer reads before the
//! diff: operations and schemas added, removed and changed.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use crate::codegen::spec;
use crate::diff::{Diff, diff};

/// The differences between the fragment in place and its replacement.
#[derive(Debug, Default, PartialEq)]
pub struct Summary {
    pub operations_added: Vec<String>,
    pub operations_removed: Vec<String>,
    /// `POST /api/...: what changed`
    pub operations_changed: Vec<String>,
    pub schemas_added: Vec<String>,
    pub schemas_removed: Vec<String>,
    /// `Name: what changed`
    pub schemas_changed: Vec<String>,
    /// Anything else (servers, info, other component kinds).
    pub other_changed: Vec<String>,
}

impl Summary {
    pub fn is_empty(&self) -> bool {
        *self == Summary::default()
    }
}

/// Compares `old` (the fragment in place, if any) with `new`.
pub fn compare(old: Option<&Value>, new: &Value) -> Summary {
    let empty = Value::Object(Map::new());
    let old = old.unwrap_or(&empty);
    let mut summary = Summary::default();

    let (old_ops, new_ops) = (operations(old), operations(new));
    for (key, change) in diff(&old_ops, &new_ops) {
        match change {
            Diff::Added(op) => summary.operations_added.push(label(key, op)),
            Diff::Removed(op) => summary.operations_removed.push(label(key, op)),
            Diff::Changed { old, new } => {
                // A change no line reports (a description) is not listed.
                let changes = operation_changes(old, new);
                if !changes.is_empty() {
                    summary
                        .operations_changed
                        .push(format!("{key}: {}", changes.join(", ")));
                }
            }
        }
    }

    let (old_schemas, new_schemas) = (group(old, "schemas"), group(new, "schemas"));
    for (name, change) in diff(&old_schemas, &new_schemas) {
        match change {
            Diff::Added(_) => summary.schemas_added.push(name.clone()),
            Diff::Removed(_) => summary.schemas_removed.push(name.clone()),
            Diff::Changed { old, new } => summary
                .schemas_changed
                .push(format!("{name}: {}", schema_changes(old, new).join(", "))),
        }
    }

    for key in ["openapi", "info", "servers"] {
        if old.get(key) != new.get(key) {
            summary.other_changed.push(format!("`{key}`"));
        }
    }
    let kinds = |doc: &Value| {
        doc.get("components")
            .and_then(Value::as_object)
            .map(|c| {
                c.keys()
                    .filter(|k| *k != "schemas")
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let mut other_kinds = kinds(old);
    other_kinds.extend(kinds(new));
    other_kinds.sort();
    other_kinds.dedup();
    for kind in other_kinds {
        if group(old, &kind) != group(new, &kind) {
            summary.other_changed.push(format!("components `{kind}`"));
        }
    }
    summary
}

fn label(key: &str, op: &Value) -> String {
    match op.get("operationId").and_then(Value::as_str) {
        Some(id) => format!("{key} ({id})"),
        None => key.to_owned(),
    }
}

/// Operations keyed `METHOD /path`.
fn operations(doc: &Value) -> BTreeMap<String, &Value> {
    spec::operations(doc)
        .map(|op| (op.label(), op.operation))
        .collect()
}

fn group<'a>(doc: &'a Value, kind: &str) -> BTreeMap<String, &'a Value> {
    doc.get("components")
        .and_then(|c| c.get(kind))
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v)).collect())
        .unwrap_or_default()
}

fn operation_changes(old: &Value, new: &Value) -> Vec<String> {
    let mut changes = Vec::new();
    let field = |op: &Value, key: &str| op.get(key).cloned();
    if field(old, "operationId") != field(new, "operationId") {
        changes.push(format!(
            "operationId {} -> {}",
            old.get("operationId").unwrap_or(&Value::Null),
            new.get("operationId").unwrap_or(&Value::Null)
        ));
    }
    if field(old, "requestBody") != field(new, "requestBody") {
        changes.push(format!(
            "request {} -> {}",
            body_type(old.get("requestBody")),
            body_type(new.get("requestBody"))
        ));
    }
    if field(old, "responses") != field(new, "responses") {
        let response = |op: &Value| {
            body_type(
                op.get("responses")
                    .and_then(|r| r.get("200").or_else(|| r.get("default"))),
            )
        };
        changes.push(format!("response {} -> {}", response(old), response(new)));
    }
    if field(old, "parameters") != field(new, "parameters") {
        changes.push("parameters".to_owned());
    }
    let flag = |op: &Value, key: &str| op.get(key).and_then(Value::as_bool).unwrap_or(false);
    if flag(old, "deprecated") != flag(new, "deprecated") {
        changes.push(
            if flag(new, "deprecated") {
                "now deprecated"
            } else {
                "no longer deprecated"
            }
            .to_owned(),
        );
    }
    let read_only = crate::codegen::spec::READ_ONLY_EXTENSION;
    if flag(old, read_only) != flag(new, read_only) {
        changes.push(
            if flag(new, read_only) {
                "now read-only"
            } else {
                "now state-changing"
            }
            .to_owned(),
        );
    }
    if changes.is_empty() && old != new {
        changes.push("description".to_owned());
    }
    changes
}

/// The schema a request body or response carries as JSON, in short.
fn body_type(body: Option<&Value>) -> String {
    match body {
        None => "none".to_owned(),
        Some(body) => body
            .pointer("/content/application~1json/schema")
            .map(type_of)
            .unwrap_or_else(|| "no JSON body".to_owned()),
    }
}

fn schema_changes(old: &Value, new: &Value) -> Vec<String> {
    let (old_props, new_props) = (properties(old), properties(new));
    let mut changes: Vec<String> = (diff(&old_props, &new_props).into_iter())
        .map(|(name, change)| match change {
            Diff::Added(schema) => format!("+{name}: {}", type_of(schema)),
            Diff::Removed(schema) => format!("-{name}: {}", type_of(schema)),
            Diff::Changed { old, new } if type_of(old) != type_of(new) => {
                format!("{name}: {} -> {}", type_of(old), type_of(new))
            }
            Diff::Changed { .. } => format!("{name}: description"),
        })
        .collect();
    let without = |s: &Value, key: &str| {
        let mut s = s.clone();
        if let Some(map) = s.as_object_mut() {
            map.remove(key);
        }
        s
    };
    if without(old, "properties") == without(new, "properties") {
        return changes;
    }
    if let Some(values) = enum_values_change(old, new) {
        changes.push(values);
    }
    if type_of(&without(old, "enum")) != type_of(&without(new, "enum")) {
        changes.push(format!("{} -> {}", type_of(old), type_of(new)));
    } else {
        if old.get("required") != new.get("required") {
            changes.push("required fields".to_owned());
        }
        if changes.is_empty() {
            changes.push("description".to_owned());
        }
    }
    changes
}

/// A schema's properties by name (none for a schema without).
fn properties(schema: &Value) -> BTreeMap<&String, &Value> {
    (schema.get("properties").and_then(Value::as_object))
        .map(|props| props.iter().collect())
        .unwrap_or_default()
}

/// `values +A, +B, -C` for a changed enum (the first few of each).
fn enum_values_change(old: &Value, new: &Value) -> Option<String> {
    let values = |s: &Value| -> Vec<String> {
        s.get("enum")
            .and_then(Value::as_array)
            .map(|v| {
                v.iter()
                    .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (before, after) = (values(old), values(new));
    if before == after || (before.is_empty() && after.is_empty()) {
        return None;
    }
    const SHOWN: usize = 8;
    let mut parts = Vec::new();
    for (sign, list, other) in [("+", &after, &before), ("-", &before, &after)] {
        let changed: Vec<&String> = list.iter().filter(|v| !other.contains(v)).collect();
        parts.extend(changed.iter().take(SHOWN).map(|v| format!("{sign}{v}")));
        if changed.len() > SHOWN {
            parts.push(format!("{sign}{} more", changed.len() - SHOWN));
        }
    }
    if parts.is_empty() {
        parts.push("reordered".to_owned());
    }
    Some(format!("values {}", parts.join(", ")))
}

/// A short description of a schema's type: `string(date-time)?`,
/// `array<LicenseFeature>`, `map<string, integer(int32)>`.
pub fn type_of(schema: &Value) -> String {
    let nullable = if schema.get("nullable").and_then(Value::as_bool) == Some(true) {
        "?"
    } else {
        ""
    };
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        return target.rsplit('/').next().unwrap_or(target).to_owned() + nullable;
    }
    let base = match schema.get("type").and_then(Value::as_str) {
        Some("array") => format!(
            "array<{}>",
            schema.get("items").map(type_of).unwrap_or_default()
        ),
        Some("object") => match schema.get("additionalProperties") {
            Some(Value::Object(values)) if schema.get("properties").is_none() => {
                format!("map<string, {}>", type_of(&Value::Object(values.clone())))
            }
            _ => "object".to_owned(),
        },
        Some(kind) => match schema.get("format").and_then(Value::as_str) {
            Some(format) => format!("{kind}({format})"),
            None => kind.to_owned(),
        },
        None if schema.get("allOf").is_some() => "allOf".to_owned(),
        None if schema.get("oneOf").is_some() => "oneOf".to_owned(),
        None if schema.get("anyOf").is_some() => "anyOf".to_owned(),
        None => "any".to_owned(),
    };
    let base = match schema.get("enum").and_then(Value::as_array) {
        Some(values) => format!("{base} enum of {}", values.len()),
        None => base,
    };
    base + nullable
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return writeln!(
                f,
                "no changes: the fragment in place already says all of this"
            );
        }
        let section = |f: &mut fmt::Formatter<'_>,
                       what: &str,
                       added: &[String],
                       removed: &[String],
                       changed: &[String]|
         -> fmt::Result {
            writeln!(
                f,
                "{what}: {} added, {} removed, {} changed",
                added.len(),
                removed.len(),
                changed.len()
            )?;
            for line in added {
                writeln!(f, "  + {line}")?;
            }
            for line in removed {
                writeln!(f, "  - {line}")?;
            }
            for line in changed {
                writeln!(f, "  ~ {line}")?;
            }
            Ok(())
        };
        section(
            f,
            "operations",
            &self.operations_added,
            &self.operations_removed,
            &self.operations_changed,
        )?;
        section(
            f,
            "schemas",
            &self.schemas_added,
            &self.schemas_removed,
            &self.schemas_changed,
        )?;
        if !self.other_changed.is_empty() {
            writeln!(f, "also changed: {}", self.other_changed.join(", "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(paths: Value, schemas: Value) -> Value {
        json!({ "openapi": "3.0.3", "paths": paths, "components": { "schemas": schemas } })
    }

    fn op(id: &str, response: &str) -> Value {
        json!({ "post": { "operationId": id, "responses": { "200": { "content": { "application/json": {
            "schema": { "$ref": format!("#/components/schemas/{response}") } } } } } } })
    }

    #[test]
    fn nothing_changed_says_so() {
        let d = doc(
            json!({ "/a": op("getA", "A") }),
            json!({ "A": { "type": "object" } }),
        );
        let summary = compare(Some(&d), &d);
        assert!(summary.is_empty());
        assert!(summary.to_string().starts_with("no changes"));
    }

    #[test]
    fn names_every_kind_of_change() {
        let old = doc(
            json!({ "/a": op("getA", "A"), "/gone": op("gone", "A") }),
            json!({
                "A": { "type": "object", "properties": {
                    "kept": { "type": "string" }, "dropped": { "type": "boolean" },
                    "retyped": { "type": "integer", "format": "int32" } } },
                "Old": { "type": "string" }
            }),
        );
        let mut new = doc(
            json!({ "/a": op("getA", "B"), "/new": op("addNew", "B") }),
            json!({
                "A": { "type": "object", "properties": {
                    "kept": { "type": "string" }, "added": { "type": "array", "items": { "$ref": "#/components/schemas/B" } },
                    "retyped": { "type": "integer", "format": "int64", "nullable": true } } },
                "B": { "type": "object" }
            }),
        );
        new["paths"]["/a"]["post"]["deprecated"] = json!(true);
        new["components"]["schemas"]["Kind"] = json!({ "type": "string", "enum": ["A", "C", "D"] });
        let mut old = old;
        old["components"]["schemas"]["Kind"] = json!({ "type": "string", "enum": ["A", "B"] });
        let summary = compare(Some(&old), &new);
        assert_eq!(summary.operations_added, ["POST /new (addNew)"]);
        assert_eq!(summary.operations_removed, ["POST /gone (gone)"]);
        assert_eq!(
            summary.operations_changed,
            ["POST /a: response A -> B, now deprecated"]
        );
        assert_eq!(summary.schemas_added, ["B"]);
        assert_eq!(summary.schemas_removed, ["Old"]);
        assert_eq!(
            summary.schemas_changed,
            [
                "A: +added: array<B>, retyped: integer(int32) -> integer(int64)?, -dropped: boolean",
                "Kind: values +C, +D, -B",
            ]
        );
        let text = summary.to_string();
        assert!(
            text.contains("operations: 1 added, 1 removed, 1 changed"),
            "{text}"
        );
        assert!(text.contains("  ~ A: +added"), "{text}");
    }

    /// The three changes a reviewer must not miss on an operation whose
    /// path stays: what it sends, its parameters, and whether it is retried.
    #[test]
    fn names_request_parameter_and_read_only_changes() {
        let body = |schema: &str| {
            json!({ "content": { "application/json": {
                "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
        };
        let mut old = doc(
            json!({ "/a": op("getA", "A"), "/b": op("setB", "A") }),
            json!({ "A": { "type": "object" } }),
        );
        let mut new = old.clone();
        let (a, b) = ("/paths/~1a/post", "/paths/~1b/post");
        old.pointer_mut(a).unwrap()["requestBody"] = body("ARequest");
        old.pointer_mut(a).unwrap()["x-rhombus-read-only"] = json!(false);
        new.pointer_mut(a).unwrap()["requestBody"] = body("ARequestV2");
        new.pointer_mut(a).unwrap()["parameters"] =
            json!([{ "in": "query", "name": "page", "schema": { "type": "integer" } }]);
        new.pointer_mut(a).unwrap()["x-rhombus-read-only"] = json!(true);
        old.pointer_mut(b).unwrap()["x-rhombus-read-only"] = json!(true);
        new.pointer_mut(b).unwrap()["requestBody"] = body("BRequest");

        let summary = compare(Some(&old), &new);
        assert_eq!(
            summary.operations_changed,
            [
                "POST /a: request ARequest -> ARequestV2, parameters, now read-only",
                "POST /b: request none -> BRequest, now state-changing",
            ]
        );
        let text = summary.to_string();
        assert!(
            text.contains(
                "  ~ POST /a: request ARequest -> ARequestV2, parameters, now read-only\n"
            ),
            "{text}"
        );
        // Back again: each change in the other direction.
        let back = compare(Some(&new), &old);
        assert_eq!(
            back.operations_changed,
            [
                "POST /a: request ARequestV2 -> ARequest, parameters, now state-changing",
                "POST /b: request BRequest -> none, now read-only",
            ]
        );
    }

    /// What is not an operation or a schema is still named when it changes,
    /// and a property whose text alone changed is named as such.
    #[test]
    fn names_other_changes_and_description_only_changes() {
        let old = doc(
            json!({ "/a": op("getA", "A") }),
            json!({ "A": { "type": "object", "properties": {
                "n": { "type": "string", "description": "Old words." } } } }),
        );
        let mut new = old.clone();
        new["info"] = json!({ "title": "Renamed", "version": "2" });
        new["components"]["schemas"]["A"]["properties"]["n"]["description"] = json!("New words.");
        new["components"]["parameters"] = json!({ "P": { "in": "query", "name": "p" } });
        let summary = compare(Some(&old), &new);
        assert_eq!(summary.schemas_changed, ["A: n: description"]);
        assert_eq!(summary.other_changed, ["`info`", "components `parameters`"]);
        assert!(
            summary
                .to_string()
                .ends_with("also changed: `info`, components `parameters`\n"),
            "{summary}"
        );
        // The same document against itself: none of these.
        assert!(compare(Some(&new), &new).is_empty());
    }

    #[test]
    fn enum_changes_name_the_values_up_to_eight() {
        let kind = |values: Value, description: &str| {
            doc(
                json!({ "/a": op("getA", "K") }),
                json!({ "K": { "type": "string", "enum": values, "description": description } }),
            )
        };
        let changed = |old: &Value, new: &Value| compare(Some(old), new).schemas_changed;
        let plain = doc(
            json!({ "/a": op("getA", "K") }),
            json!({ "K": { "type": "string", "description": "d" } }),
        );
        // Values given where there were none: each named.
        assert_eq!(
            changed(&plain, &kind(json!(["A", "B"]), "d")),
            ["K: values +A, +B"]
        );
        // Only the text changed: no value is named.
        assert_eq!(
            changed(&kind(json!(["A"]), "d"), &kind(json!(["A"]), "e")),
            ["K: description"]
        );
        assert_eq!(
            changed(&kind(json!(["A", "B"]), "d"), &kind(json!(["B", "A"]), "d")),
            ["K: values reordered"]
        );
        // Eight are all named; past eight, the rest are counted.
        let eight: Vec<String> = (1..=8).map(|n| format!("V{n}")).collect();
        assert_eq!(
            changed(&kind(json!([]), "d"), &kind(json!(eight), "d")),
            ["K: values +V1, +V2, +V3, +V4, +V5, +V6, +V7, +V8"]
        );
        let nine: Vec<String> = (1..=9).map(|n| format!("V{n}")).collect();
        assert_eq!(
            changed(&kind(json!(nine), "d"), &kind(json!([]), "d")),
            ["K: values -V1, -V2, -V3, -V4, -V5, -V6, -V7, -V8, -1 more"]
        );
    }

    #[test]
    fn type_of_says_each_shape_in_short() {
        for (schema, expected) in [
            (
                json!({ "allOf": [{ "$ref": "#/components/schemas/A" }] }),
                "allOf",
            ),
            (json!({ "oneOf": [{ "type": "string" }] }), "oneOf"),
            (json!({ "anyOf": [{ "type": "string" }] }), "anyOf"),
            (json!({}), "any"),
            (
                json!({ "type": "object", "additionalProperties": { "type": "integer", "format": "int32" } }),
                "map<string, integer(int32)>",
            ),
            (
                json!({ "type": "object", "properties": {}, "additionalProperties": { "type": "integer" } }),
                "object",
            ),
            (
                json!({ "type": "array", "items": { "$ref": "#/components/schemas/B" }, "nullable": true }),
                "array<B>?",
            ),
            (
                json!({ "type": "string", "enum": ["A", "B"] }),
                "string enum of 2",
            ),
        ] {
            assert_eq!(type_of(&schema), expected, "{schema}");
        }
    }

    #[test]
    fn a_first_refresh_adds_everything() {
        let new = doc(
            json!({ "/a": op("getA", "A") }),
            json!({ "A": { "type": "object" } }),
        );
        let summary = compare(None, &new);
        assert_eq!(summary.operations_added.len(), 1);
        assert_eq!(summary.schemas_added, ["A"]);
    }
}
