//! Cutting a fragment out of the upstream document: the operations under the
//! chosen path prefixes, then exactly the components they reach.

use serde_json::{Map, Value, json};

use crate::Error;
use crate::codegen::spec::{self, METHODS, closure, refs_in};

/// Where the crate's users call the API; upstream names its test host.
pub const PRODUCTION_SERVER: &str = "https://api2.rhombussystems.com";

/// The top-level keys a fragment keeps (`tags` only as far as the kept
/// operations use them). `security` and `securitySchemes`
/// are left out on purpose: the handwritten auth layer owns authentication.
const KEPT_TOP_LEVEL: [&str; 3] = ["openapi", "info", "tags"];

/// A document with the paths under `prefixes` and, for now, every component
/// of `source`; [`prune_components`] trims them once the passes have run.
pub fn select(source: &Value, prefixes: &[String]) -> Result<Value, Error> {
    let paths = source
        .get("paths")
        .and_then(Value::as_object)
        .ok_or(Error::NoPaths)?;
    let kept: Map<String, Value> = paths
        .iter()
        .filter(|(path, _)| prefixes.iter().any(|p| path.starts_with(p.as_str())))
        .map(|(path, item)| (path.clone(), item.clone()))
        .collect();
    if count_operations(&kept) == 0 {
        return Err(Error::NoOperationUnder {
            prefixes: prefixes.join(" or "),
        });
    }
    let mut doc = Map::new();
    for key in KEPT_TOP_LEVEL {
        if let Some(value) = source.get(key) {
            doc.insert(key.to_owned(), value.clone());
        }
    }
    doc.insert(
        "servers".to_owned(),
        json!([{ "description": "Production (US)", "url": PRODUCTION_SERVER }]),
    );
    doc.insert("paths".to_owned(), Value::Object(kept));
    if let Some(components) = source.get("components") {
        doc.insert("components".to_owned(), components.clone());
    }
    Ok(Value::Object(doc))
}

/// Keeps exactly the components that the paths reach, transitively, of any
/// kind (schemas, parameters, responses, ...). Fails on a reference to a
/// component that does not exist, naming it.
pub fn prune_components(doc: &mut Value) -> Result<(), Error> {
    let mut start = Vec::new();
    if let Some(paths) = doc.get("paths") {
        refs_in(paths, &mut start);
    }
    let reach = closure(doc, start);
    let mut kept: Map<String, Value> = Map::new();
    for target in &reach {
        let found = target
            .strip_prefix("#/components/")
            .and_then(|rest| rest.split_once('/'))
            .and_then(|(kind, name)| {
                let name = spec::unescape_segment(name);
                let value = doc.pointer(&format!("/components/{kind}"))?.get(&name)?;
                Some((kind, name, value.clone()))
            });
        let Some((kind, name, value)) = found else {
            return Err(Error::UnresolvedRef {
                target: target.clone(),
            });
        };
        let group = kept
            .entry(kind.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(group) = group.as_object_mut() {
            group.insert(name, value);
        }
    }
    let used_tags = used_tags(doc);
    let object = doc.as_object_mut().ok_or(Error::NotAnObject)?;
    if let Some(Value::Array(tags)) = object.get_mut("tags") {
        tags.retain(|tag| {
            tag.get("name")
                .and_then(Value::as_str)
                .is_some_and(|name| used_tags.iter().any(|used| used == name))
        });
        if tags.is_empty() {
            object.remove("tags");
        }
    }
    if kept.is_empty() {
        object.remove("components");
    } else {
        object.insert("components".to_owned(), Value::Object(kept));
    }
    Ok(())
}

/// The tag names the operations use.
fn used_tags(doc: &Value) -> Vec<String> {
    spec::operations(doc)
        .flat_map(|op| op.operation.get("tags").and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// Operations in a `paths` object.
pub fn count_operations(paths: &Map<String, Value>) -> usize {
    paths
        .values()
        .map(|item| METHODS.iter().filter(|m| item.get(**m).is_some()).count())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_ref(name: &str) -> Value {
        json!({ "$ref": format!("#/components/schemas/{name}") })
    }

    fn operation(request: &str, response: &str) -> Value {
        let tag = if request == "CReq" {
            "Camera"
        } else {
            "Partner"
        };
        json!({
            "post": {
                "operationId": request,
                "tags": [tag],
                "requestBody": { "content": { "application/json": { "schema": schema_ref(request) } } },
                "responses": { "200": { "content": { "application/json": { "schema": schema_ref(response) } } } }
            }
        })
    }

    fn upstream() -> Value {
        json!({
            "openapi": "3.0.1",
            "info": { "title": "t", "version": "1" },
            "servers": [{ "url": "https://test.example" }],
            "security": [{ "ApiKeyAuth": [] }],
            "tags": [{ "name": "Partner" }, { "name": "Camera" }],
            "paths": {
                "/api/partner/a": operation("AReq", "ARes"),
                "/api/partner/b": operation("BReq", "Shared"),
                "/api/camera/c": operation("CReq", "Shared"),
            },
            "components": {
                "schemas": {
                    "AReq": { "type": "object" },
                    "ARes": { "type": "object", "properties": { "node": schema_ref("Node") } },
                    "Node": { "type": "object", "properties": { "next": schema_ref("Node"), "leaf": schema_ref("Leaf") } },
                    "Leaf": { "type": "string" },
                    "BReq": { "type": "object", "properties": { "p": { "$ref": "#/components/parameters/Unused" } } },
                    "Shared": { "type": "object" },
                    "CReq": { "type": "object", "properties": { "only": schema_ref("OnlyCamera") } },
                    "OnlyCamera": { "type": "string" }
                },
                "parameters": { "Unused": { "name": "x", "in": "query" }, "Other": { "name": "y", "in": "query" } },
                "securitySchemes": { "ApiKeyAuth": { "type": "apiKey", "in": "header", "name": "x-auth-apikey" } }
            }
        })
    }

    fn names(doc: &Value, kind: &str) -> Vec<String> {
        doc["components"][kind]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    #[test]
    fn keeps_prefixed_paths_and_exactly_what_they_reach() {
        let mut doc = select(&upstream(), &["/api/partner/".to_owned()]).unwrap();
        prune_components(&mut doc).unwrap();
        let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
        assert_eq!(paths, ["/api/partner/a", "/api/partner/b"]);
        // Through a cycle (Node -> Node) to Leaf; not CReq or OnlyCamera.
        let mut schemas = names(&doc, "schemas");
        schemas.sort();
        assert_eq!(schemas, ["AReq", "ARes", "BReq", "Leaf", "Node", "Shared"]);
        // Other component kinds follow the same rule.
        assert_eq!(names(&doc, "parameters"), ["Unused"]);
        assert_eq!(names(&doc, "securitySchemes"), Vec::<String>::new());
        assert_eq!(doc["servers"][0]["url"], PRODUCTION_SERVER);
        assert_eq!(doc["tags"], json!([{ "name": "Partner" }]));
        assert!(doc.get("security").is_none());
    }

    #[test]
    fn several_prefixes() {
        let prefixes = ["/api/camera/".to_owned(), "/api/partner/a".to_owned()];
        let mut doc = select(&upstream(), &prefixes).unwrap();
        prune_components(&mut doc).unwrap();
        assert_eq!(count_operations(doc["paths"].as_object().unwrap()), 2);
        assert!(names(&doc, "schemas").contains(&"OnlyCamera".to_owned()));
    }

    #[test]
    fn a_prefix_that_matches_nothing_is_refused() {
        let err = select(&upstream(), &["/api/nothing/".to_owned()]).unwrap_err();
        assert!(err.to_string().contains("/api/nothing/"), "{err}");
    }

    #[test]
    fn a_dangling_reference_is_named() {
        let mut source = upstream();
        source["components"]["schemas"]
            .as_object_mut()
            .unwrap()
            .remove("Leaf");
        let mut doc = select(&source, &["/api/partner/".to_owned()]).unwrap();
        let err = prune_components(&mut doc).unwrap_err();
        assert!(
            matches!(&err, Error::UnresolvedRef { target } if target == "#/components/schemas/Leaf")
        );
        assert!(
            err.to_string().contains("#/components/schemas/Leaf"),
            "{err}"
        );
    }
}
