//! Checks a spec before the generator sees it, so that every mistake is
//! reported with the JSON pointer of the part at fault.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::SpecError;
use super::lower::{Lowered, lower};
use super::spec::{self, pointer_segment, sanitize};

/// A checked spec, ready for the generator.
pub struct Parsed {
    /// The document as written (for locating problems).
    pub raw: Value,
    /// The document the generator gets ([`super::lower`]).
    pub lowered: Lowered,
    /// `lowered`, typed.
    pub spec: openapiv3::OpenAPI,
}

/// Dropshot's mark of a WebSocket endpoint; the generated method would need
/// the `base64` and `rand` crates and return a raw upgraded connection.
pub const WEBSOCKET_EXTENSION: &str = "x-dropshot-websocket";

/// Parses `text` as an OpenAPI 3.0.x document and checks it.
pub fn parse(file: &Path, text: &str) -> Result<Parsed, SpecError> {
    let raw: Value = serde_json::from_str(text).map_err(|e| {
        SpecError::new(
            file,
            "",
            format!(
                "not valid JSON (line {}, column {}): {e}",
                e.line(),
                e.column()
            ),
            "fix the JSON syntax there, or regenerate the file with `cargo xtask refresh-spec`",
        )
    })?;
    check_version(file, &raw)?;
    check_operations(file, &raw)?;
    check_schema_names(file, &raw)?;
    check_refs(file, &raw)?;
    // Structural mistakes are reported against the document as written.
    typed(file, &raw)?;
    let lowered = lower(&raw);
    let spec = typed(file, &lowered.spec)?;
    Ok(Parsed { raw, lowered, spec })
}

pub fn check_version(file: &Path, raw: &Value) -> Result<(), SpecError> {
    if !raw.is_object() {
        return Err(SpecError::new(
            file,
            "",
            "the document is not a JSON object",
            "the spec must be an OpenAPI 3.0 document: an object with `openapi`, `info` and `paths`",
        ));
    }
    if let Some(version) = raw.get("swagger") {
        return Err(SpecError::new(
            file,
            "/swagger",
            format!("this is a Swagger {version} document, which the generator does not read"),
            "convert it to OpenAPI 3.0 first, or refresh from the upstream OpenAPI 3.0 document \
             with `cargo xtask refresh-spec`",
        ));
    }
    match raw.get("openapi").and_then(Value::as_str) {
        Some(v) if v.starts_with("3.0.") => Ok(()),
        Some(v) => Err(SpecError::new(
            file,
            "/openapi",
            format!("OpenAPI {v} is not supported; the generator (progenitor) reads OpenAPI 3.0.x"),
            "provide an OpenAPI 3.0.x document (for 3.1, downgrade it: `type` arrays become \
             `nullable`, `examples` become `example`)",
        )),
        None => Err(SpecError::new(
            file,
            "/openapi",
            "missing or non-string `openapi` version field",
            "add `\"openapi\": \"3.0.3\"` at the top level",
        )),
    }
}

fn check_operations(file: &Path, raw: &Value) -> Result<(), SpecError> {
    if raw.get("paths").and_then(Value::as_object).is_none() {
        return Err(SpecError::new(
            file,
            "/paths",
            "missing `paths` object",
            "add the operations under `paths`",
        ));
    }
    let mut names = Names::default();
    for op in spec::operations(raw) {
        let pointer = op.pointer();
        let Some(id) = op.id().filter(|id| !id.trim().is_empty()) else {
            return Err(SpecError::new(
                file,
                pointer,
                format!("operation `{}` has no operationId", op.label()),
                "add an `operationId` (the generated method is named after it, in snake_case)",
            ));
        };
        check_callable(file, &pointer, id, op.operation)?;
        names.check(file, &pointer, id)?;
        check_path_parameters(file, &pointer, op.item, op.operation)?;
    }
    Ok(())
}

/// Refuses an operation no JSON-over-HTTP call can make: a WebSocket
/// endpoint, or one answering `101`.
fn check_callable(
    file: &Path,
    pointer: &str,
    id: &str,
    operation: &Value,
) -> Result<(), SpecError> {
    if operation.get(WEBSOCKET_EXTENSION).is_some() {
        return Err(SpecError::new(
            file,
            format!("{pointer}/{WEBSOCKET_EXTENSION}"),
            format!(
                "operation `{id}` is a WebSocket endpoint (`{WEBSOCKET_EXTENSION}`), \
                 which this client cannot call: it sends JSON requests over HTTP"
            ),
            "leave the operation out of the fragment",
        ));
    }
    if operation.pointer("/responses/101").is_some() {
        return Err(SpecError::new(
            file,
            format!("{pointer}/responses/101"),
            format!(
                "operation `{id}` answers `101` (a protocol upgrade), which this client \
                 cannot hold open: every answer is read whole within the call"
            ),
            "leave the operation out of the fragment",
        ));
    }
    Ok(())
}

/// The operationIds seen so far, and the methods they name, with where.
#[derive(Default)]
struct Names<'a> {
    ids: BTreeMap<&'a str, String>,
    methods: BTreeMap<String, (&'a str, String)>,
}

impl<'a> Names<'a> {
    /// Refuses `id` (at `pointer`) if an operation seen before has it, or
    /// names the same method; else records it.
    fn check(&mut self, file: &Path, pointer: &str, id: &'a str) -> Result<(), SpecError> {
        if let Some(first) = self.ids.insert(id, pointer.to_owned()) {
            return Err(SpecError::new(
                file,
                pointer,
                format!("operationId `{id}` is already used at {first}"),
                "give each operation a unique operationId",
            ));
        }
        let method_name = sanitize(id, false);
        if let Some((other, first)) = self.methods.get(&method_name) {
            return Err(SpecError::new(
                file,
                format!("{pointer}/operationId"),
                format!(
                    "operationIds `{other}` (at {first}) and `{id}` both name the method \
                     `{method_name}`"
                ),
                "rename one of the two operationIds",
            ));
        }
        self.methods.insert(method_name, (id, pointer.to_owned()));
        Ok(())
    }
}

/// Path parameters whose names give one Rust argument (`Id`, `id`) cannot
/// be told apart by the generated method; other parameters are renamed
/// (see `lower`), but these names are also in the path template.
fn check_path_parameters(
    file: &Path,
    pointer: &str,
    item: &Value,
    operation: &Value,
) -> Result<(), SpecError> {
    let mut by_argument: BTreeMap<String, &str> = BTreeMap::new();
    let listed = [item, operation]
        .into_iter()
        .filter_map(|holder| holder.get("parameters").and_then(Value::as_array))
        .flatten();
    for param in listed {
        if param.get("in").and_then(Value::as_str) != Some("path") {
            continue;
        }
        let Some(name) = param.get("name").and_then(Value::as_str) else {
            continue;
        };
        let argument = sanitize(name, false);
        match by_argument.get(&argument) {
            Some(first) if *first != name => {
                return Err(SpecError::new(
                    file,
                    pointer,
                    format!(
                        "path parameters `{first}` and `{name}` both become the argument \
                         `{argument}`"
                    ),
                    "rename one of them, in the path template and in its parameter",
                ));
            }
            _ => {
                by_argument.insert(argument, name);
            }
        }
    }
    Ok(())
}

/// Two schemas whose names give one Rust type (`Foo-Bar`, `FooBar`).
fn check_schema_names(file: &Path, raw: &Value) -> Result<(), SpecError> {
    let schemas = raw
        .pointer("/components/schemas")
        .and_then(Value::as_object);
    let mut by_type: BTreeMap<String, &str> = BTreeMap::new();
    for name in schemas.into_iter().flat_map(|s| s.keys()) {
        let type_name = sanitize(name, true);
        if let Some(first) = by_type.insert(type_name.clone(), name) {
            return Err(SpecError::new(
                file,
                spec::schema_pointer(name),
                format!("schemas `{first}` and `{name}` both become the Rust type `{type_name}`"),
                "rename one of them (and the `$ref`s to it)",
            ));
        }
    }
    Ok(())
}

/// Every local `$ref` must point at something that exists. Data (examples,
/// defaults) is not walked ([`spec::walk`]): a `$ref` key there is a value.
fn check_refs(file: &Path, root: &Value) -> Result<(), SpecError> {
    for (at, object) in spec::objects(root) {
        let Some(target) = object.get("$ref").and_then(Value::as_str) else {
            continue;
        };
        let Some(local) = target.strip_prefix('#') else {
            return Err(SpecError::new(
                file,
                at,
                format!("`$ref` to `{target}` points outside this file"),
                "inline the referenced schema under `components` and refer to it with `#/...`",
            ));
        };
        if root.pointer(local).is_none() {
            return Err(SpecError::new(
                file,
                at,
                format!("`$ref` to `{target}`, which does not exist"),
                "add the missing component, or correct the reference",
            ));
        }
    }
    Ok(())
}

/// Deserializes into `openapiv3` types, turning a serde path into a pointer.
fn typed(file: &Path, raw: &Value) -> Result<openapiv3::OpenAPI, SpecError> {
    serde_path_to_error::deserialize(raw).map_err(|e| {
        let (pointer, problem) = within_paths(raw, to_pointer(e.path()), e.inner().to_string());
        SpecError::new(
            file,
            pointer,
            format!("not a valid OpenAPI 3.0 structure: {problem}"),
            "correct that part against the OpenAPI 3.0 specification",
        )
    })
}

/// `paths` is a flattened map in `openapiv3`, where serde loses the path:
/// an error located at `/paths` is found again path item by path item.
fn within_paths(raw: &Value, pointer: String, problem: String) -> (String, String) {
    if pointer != "/paths" {
        return (pointer, problem);
    }
    let items = raw
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten();
    for (path, item) in items {
        if let Err(e) = serde_path_to_error::deserialize::<_, openapiv3::PathItem>(item) {
            let inner = to_pointer(e.path());
            return (
                format!("{}{inner}", spec::path_pointer(path)),
                e.inner().to_string(),
            );
        }
    }
    (pointer, problem)
}

fn to_pointer(path: &serde_path_to_error::Path) -> String {
    path.iter()
        .map(|segment| match segment {
            serde_path_to_error::Segment::Seq { index } => format!("/{index}"),
            serde_path_to_error::Segment::Map { key } => format!("/{}", pointer_segment(key)),
            serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => {
                String::new()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operation_id_used_twice_or_naming_a_method_twice_is_refused_where_it_is() {
        let file = Path::new("spec/partner.json");
        let mut names = Names::default();
        names
            .check(file, "/paths/~1a/post", "getThing")
            .expect("first");
        let twice = names
            .check(file, "/paths/~1b/post", "getThing")
            .expect_err("twice");
        assert!(
            twice
                .to_string()
                .contains("already used at /paths/~1a/post"),
            "{twice}"
        );
        let same_method =
            (names.check(file, "/paths/~1c/post", "get_thing")).expect_err("the same method");
        let said = same_method.to_string();
        assert!(said.contains("/paths/~1c/post/operationId"), "{said}");
        assert!(said.contains("both name the method `get_thing`"), "{said}");
    }
}
