//! One vocabulary for an OpenAPI document as JSON, shared by the generator
//! and the spec refresh: its operations (path, method, pointer, `"METHOD
//! path"` label), JSON pointers and their escaping, references, the vendor
//! extensions this crate reads, how the generator names things
//! ([`naming`]), and the one walk over a whole document with the key
//! classes it follows ([`walk`]). Nothing else in `codegen/` or `xtask/`
//! escapes a pointer, names an identifier or walks a document its own way.

pub mod naming;
pub mod walk;

use serde_json::Value;

pub use naming::sanitize;
pub use walk::{closure, objects, refs_in};

/// The vendor extension that marks an operation as safe to repeat; absent
/// means state-changing, the safe default. The refresh sets it, the glue
/// reads it into `operations::ALL`, and the retry policy obeys it.
pub const READ_ONLY_EXTENSION: &str = "x-rhombus-read-only";

/// The HTTP methods a path item can hold, in OpenAPI 3.0.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// What a `$ref` to a component schema starts with.
/// The media type of an upload's request body. The generator cannot send
/// one, so the body is taken out before it runs ([`is_multipart`]) and the
/// method takes the caller's parts instead (`glue/methods.rs`).
pub const MULTIPART: &str = "multipart/form-data";

/// Whether `operation`'s request body is `multipart/form-data` only.
pub fn is_multipart(operation: &serde_json::Map<String, Value>) -> bool {
    operation
        .get("requestBody")
        .and_then(|body| body.get("content"))
        .and_then(Value::as_object)
        .is_some_and(|content| content.len() == 1 && content.contains_key(MULTIPART))
}

pub const SCHEMA_PREFIX: &str = "#/components/schemas/";

/// One operation of a document.
#[derive(Clone, Copy, Debug)]
pub struct SpecOperation<'a> {
    /// Its path, e.g. `/api/partner/getClients`.
    pub path: &'a str,
    /// Its method, lower case as in the document.
    pub method: &'static str,
    /// The operation object.
    pub operation: &'a Value,
    /// The path item holding it (with the parameters its operations share).
    pub item: &'a Value,
}

impl<'a> SpecOperation<'a> {
    /// Its JSON pointer, e.g. `/paths/~1api~1partner~1getClients/post`.
    pub fn pointer(&self) -> String {
        operation_pointer(self.path, self.method)
    }

    /// The JSON pointer of its path item, e.g. `/paths/~1api~1partner~1getClients`.
    pub fn item_pointer(&self) -> String {
        path_pointer(self.path)
    }

    /// How people name it: `POST /api/partner/getClients`.
    pub fn label(&self) -> String {
        label(self.path, self.method)
    }

    /// Its `operationId`, if it has one.
    pub fn id(&self) -> Option<&'a str> {
        self.operation.get("operationId").and_then(Value::as_str)
    }
}

/// Every operation of `doc`, path by path in the document's order.
pub fn operations(doc: &Value) -> impl Iterator<Item = SpecOperation<'_>> {
    doc.get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            METHODS.iter().filter_map(move |method| {
                Some(SpecOperation {
                    path,
                    method,
                    operation: item.get(*method)?,
                    item,
                })
            })
        })
}

/// The operation objects of `doc`, to change in place.
pub fn operations_mut(doc: &mut Value) -> Vec<&mut serde_json::Map<String, Value>> {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return Vec::new();
    };
    paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| {
            item.iter_mut()
                .filter(|(method, _)| METHODS.contains(&method.as_str()))
                .filter_map(|(_, operation)| operation.as_object_mut())
        })
        .collect()
}

/// `POST /path`.
pub fn label(path: &str, method: &str) -> String {
    format!("{} {path}", method.to_uppercase())
}

/// The JSON pointer of the operation at `path` and `method`.
pub fn operation_pointer(path: &str, method: &str) -> String {
    format!("{}/{method}", path_pointer(path))
}

/// The JSON pointer of the path item at `path`.
pub fn path_pointer(path: &str) -> String {
    format!("/paths/{}", pointer_segment(path))
}

/// The JSON pointer of the component schema `name`.
pub fn schema_pointer(name: &str) -> String {
    format!("/components/schemas/{}", pointer_segment(name))
}

/// A `$ref` to the component schema `name`.
pub fn schema_ref(name: &str) -> String {
    format!("{SCHEMA_PREFIX}{name}")
}

/// Escapes one JSON pointer segment (RFC 6901).
pub fn pointer_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Undoes [`pointer_segment`].
pub fn unescape_segment(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// `part`, or what it refers to when it is a local `$ref` (a parameter, a
/// response, ... shared under `components`); a reference that does not
/// resolve leaves `part` as it is, for the checks to report.
pub fn resolve<'a>(doc: &'a Value, part: &'a Value) -> &'a Value {
    part.get("$ref")
        .and_then(Value::as_str)
        .and_then(|target| target.strip_prefix('#'))
        .and_then(|pointer| doc.pointer(pointer))
        .unwrap_or(part)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations_in_document_order_with_pointers_and_labels() {
        let doc = json!({ "paths": {
            "/a/{id}": { "post": { "operationId": "a" }, "parameters": [] },
            "/b": { "get": {}, "delete": { "operationId": "d" } },
        }});
        let seen: Vec<_> = operations(&doc)
            .map(|op| (op.label(), op.pointer(), op.id().map(str::to_owned)))
            .collect();
        assert_eq!(
            seen,
            [
                (
                    "POST /a/{id}".to_owned(),
                    "/paths/~1a~1{id}/post".to_owned(),
                    Some("a".to_owned())
                ),
                ("GET /b".to_owned(), "/paths/~1b/get".to_owned(), None),
                (
                    "DELETE /b".to_owned(),
                    "/paths/~1b/delete".to_owned(),
                    Some("d".to_owned())
                ),
            ]
        );
        assert_eq!(operations(&json!({})).count(), 0);
    }

    #[test]
    fn pointer_segments_round_trip() {
        for text in ["/a~b/c", "~1", "plain", ""] {
            assert_eq!(unescape_segment(&pointer_segment(text)), text);
        }
        assert_eq!(pointer_segment("a/b~c"), "a~1b~0c");
    }

    #[test]
    fn a_local_ref_resolves_one_step() {
        let doc = json!({ "components": { "parameters": { "P": { "name": "p" } } } });
        let shared = json!({ "$ref": "#/components/parameters/P" });
        assert_eq!(resolve(&doc, &shared), &json!({ "name": "p" }));
        let missing = json!({ "$ref": "#/components/parameters/Q" });
        assert_eq!(resolve(&doc, &missing), &missing);
        let inline = json!({ "name": "i" });
        assert_eq!(resolve(&doc, &inline), &inline);
    }

    #[test]
    fn schema_refs() {
        assert_eq!(schema_ref("Foo"), "#/components/schemas/Foo");
        assert_eq!(schema_pointer("a/b"), "/components/schemas/a~1b");
    }
}
