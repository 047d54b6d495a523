//! Passes over schemas, wherever they sit.

use serde_json::{Map, Value, json};

use super::walk::{for_each_media_type, for_each_parameter, for_each_schema};
use super::{Outcome, Pass};

pub const SCHEMA_FOR_BARE_MEDIA_TYPE: Pass = Pass {
    name: "schema-for-bare-media-type",
    why: "a JSON media type declared without a schema gets the empty schema `{}` (any JSON \
          value), which is what it means; the generator needs a schema to decode into",
    run: schema_for_bare_media_type,
};

fn schema_for_bare_media_type(doc: &mut Value) -> Outcome {
    let mut changed = 0;
    for_each_media_type(doc, &mut |media_type, media| {
        if media_type.starts_with("application/json") && !media.contains_key("schema") {
            media.insert("schema".to_owned(), json!({}));
            changed += 1;
        }
    });
    Outcome::changed(changed)
}

pub const NON_NULL_PARAMETERS: Pass = Pass {
    name: "non-null-parameters",
    why: "`nullable` is dropped from path, query and header parameter schemas: a parameter is \
          text in the URL or a header and cannot be JSON null (an absent optional parameter \
          is what `required: false` says); nullable, the generator emits code that does not \
          compile",
    run: non_null_parameters,
};

fn non_null_parameters(doc: &mut Value) -> Outcome {
    let mut changed = 0;
    for_each_parameter(doc, &mut |parameter| {
        if let Some(schema) = parameter.get_mut("schema").and_then(Value::as_object_mut)
            && schema.remove("nullable").is_some()
        {
            changed += 1;
        }
    });
    Outcome::changed(changed)
}

pub const FORMAT_ONLY_ON_STRINGS: Pass = Pass {
    name: "format-only-where-typed",
    why: "a `format` the schema's type cannot carry (a string format such as `RUUID` or \
          `date-time` on an object, integer or array, or on a schema without a type) is \
          dropped; it is documentation, and the generator rejects or mistypes it",
    run: format_only_where_typed,
};

fn format_only_where_typed(doc: &mut Value) -> Outcome {
    let mut changed = 0;
    for_each_schema(doc, &mut |schema| {
        let Some(format) = schema.get("format").and_then(Value::as_str) else {
            return;
        };
        let fits = match schema.get("type").and_then(Value::as_str) {
            Some("string") => true,
            Some("integer") => matches!(
                format,
                "int8" | "int16" | "int32" | "int64" | "uint8" | "uint16" | "uint32" | "uint64"
            ),
            Some("number") => matches!(format, "float" | "double"),
            _ => false,
        };
        if !fits {
            schema.remove("format");
            changed += 1;
        }
    });
    Outcome::changed(changed)
}

pub const EMPTY_ENUM_VALUE: Pass = Pass {
    name: "open-enum-with-empty-value",
    why: "a string enum listing `\"\"` (which names no Rust variant) becomes a plain string, \
          its values kept in the description: every value the server sends, `\"\"` included, \
          still decodes",
    run: open_enum_with_empty_value,
};

fn open_enum_with_empty_value(doc: &mut Value) -> Outcome {
    let mut changed = 0;
    for_each_schema(doc, &mut |schema| {
        let has_empty = schema
            .get("enum")
            .and_then(Value::as_array)
            .is_some_and(|values| values.iter().any(|v| v.as_str() == Some("")));
        if !has_empty {
            return;
        }
        let Some(Value::Array(values)) = schema.remove("enum") else {
            return;
        };
        let listed = values
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let note = format!("One of: {listed}.");
        append_description(schema, &note);
        changed += 1;
    });
    Outcome::changed(changed)
}

fn append_description(schema: &mut Map<String, Value>, note: &str) {
    let text = match schema.get("description").and_then(Value::as_str) {
        Some(existing) if existing.contains(note) => return,
        Some(existing) if !existing.trim().is_empty() => format!("{} {note}", existing.trim_end()),
        _ => note.to_owned(),
    };
    schema.insert("description".to_owned(), Value::String(text));
}

pub const INLINE_BASE_OF_SUBTYPE: Pass = Pass {
    name: "inline-base-of-subtype",
    why: "a subtype written as `allOf: [$ref Base, {...}]` whose base lists it again in its \
          `oneOf`/`anyOf` (Java-style polymorphism) gets the base's own properties in place \
          of the `$ref`: the same fields on the wire, and no cycle for the generator to merge \
          forever (it overflows its stack on one)",
    run: inline_base_of_subtype,
};

fn inline_base_of_subtype(doc: &mut Value) -> Outcome {
    const SCHEMAS: &str = crate::codegen::spec::SCHEMA_PREFIX;
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return Outcome::default();
    };
    let lists = |base: &Value, name: &str| {
        let target = format!("{SCHEMAS}{name}");
        ["oneOf", "anyOf"].iter().any(|key| {
            base.get(*key)
                .and_then(Value::as_array)
                .is_some_and(|variants| {
                    variants
                        .iter()
                        .any(|v| v.get("$ref").and_then(Value::as_str) == Some(&target))
                })
        })
    };
    // Decide from an unchanged copy, then rewrite.
    let snapshot = schemas.clone();
    let mut changed = 0;
    for (name, schema) in schemas.iter_mut() {
        let Some(parts) = schema.get_mut("allOf").and_then(Value::as_array_mut) else {
            continue;
        };
        for part in parts.iter_mut() {
            let Some(base_name) = part
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix(SCHEMAS))
            else {
                continue;
            };
            let Some(base) = snapshot.get(base_name) else {
                continue;
            };
            if !lists(base, name) {
                continue;
            }
            let mut own = base.clone();
            if let Some(own) = own.as_object_mut() {
                for key in ["oneOf", "anyOf", "discriminator"] {
                    own.remove(key);
                }
            }
            *part = own;
            changed += 1;
        }
    }
    Outcome::changed(changed)
}

pub const DROP_DISCRIMINATOR: Pass = Pass {
    name: "drop-discriminator",
    why: "`discriminator` is removed: it only annotates which property tells subtypes apart, \
          the property itself stays, and the generator rejects discriminators that do not sit \
          beside a `oneOf`",
    run: drop_discriminator,
};

fn drop_discriminator(doc: &mut Value) -> Outcome {
    let mut changed = 0;
    for_each_schema(doc, &mut |schema| {
        if schema.remove("discriminator").is_some() {
            changed += 1;
        }
    });
    Outcome::changed(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::tests::run;

    fn with_schemas(schemas: Value) -> Value {
        json!({ "components": { "schemas": schemas } })
    }

    #[test]
    fn bare_json_media_type_gets_an_empty_schema() {
        let doc = json!({ "paths": { "/a": { "post": {
            "requestBody": { "content": { "application/json": {} } },
            "responses": { "200": { "content": { "application/json": { "schema": { "type": "object" } } } } }
        } } } });
        let (doc, outcome) = run(&SCHEMA_FOR_BARE_MEDIA_TYPE, doc);
        assert_eq!(outcome.changed, 1);
        assert_eq!(
            doc["paths"]["/a"]["post"]["requestBody"]["content"]["application/json"],
            json!({ "schema": {} })
        );
    }

    #[test]
    fn parameters_are_never_null() {
        let doc = json!({
            "paths": { "/a/{id}": {
                "parameters": [{ "in": "path", "name": "id", "required": true, "schema": { "type": "string", "nullable": true } }],
                "post": { "parameters": [{ "in": "header", "name": "h", "schema": { "type": "string", "nullable": true, "default": "" } }] }
            } },
            "components": {
                "parameters": { "Q": { "in": "query", "name": "q", "schema": { "type": "string", "nullable": true } } },
                "schemas": { "S": { "type": "string", "nullable": true } }
            }
        });
        let (doc, outcome) = run(&NON_NULL_PARAMETERS, doc);
        assert_eq!(outcome.changed, 3);
        assert_eq!(
            doc["paths"]["/a/{id}"]["post"]["parameters"][0]["schema"],
            json!({ "type": "string", "default": "" })
        );
        // Body schemas keep their nullability.
        assert_eq!(doc["components"]["schemas"]["S"]["nullable"], json!(true));
    }

    #[test]
    fn formats_stay_only_where_the_type_carries_them() {
        let doc = with_schemas(json!({
            "S": { "type": "object", "format": "RUUID", "properties": {
                "a": { "type": "string", "format": "RUUID" },
                "b": { "type": "integer", "format": "int64" },
                "c": { "type": "integer", "format": "date-time" },
                "d": { "type": "number", "format": "double" },
                "e": { "type": "array", "format": "RUUID", "items": { "type": "string", "format": "date-time" } },
                "f": { "format": "int32" }
            } }
        }));
        let (doc, outcome) = run(&FORMAT_ONLY_ON_STRINGS, doc);
        assert_eq!(outcome.changed, 4);
        let s = &doc["components"]["schemas"]["S"];
        assert!(s.get("format").is_none());
        assert_eq!(s["properties"]["a"]["format"], "RUUID");
        assert_eq!(s["properties"]["b"]["format"], "int64");
        assert!(s["properties"]["c"].get("format").is_none());
        assert_eq!(s["properties"]["d"]["format"], "double");
        assert!(s["properties"]["e"].get("format").is_none());
        assert_eq!(s["properties"]["e"]["items"]["format"], "date-time");
        assert!(s["properties"]["f"].get("format").is_none());
    }

    #[test]
    fn enum_with_empty_value_becomes_an_open_string() {
        let doc = with_schemas(json!({
            "E": { "type": "string", "enum": ["", "A", "B"], "description": "Kind." },
            "F": { "type": "string", "enum": ["A", "B"] }
        }));
        let (doc, outcome) = run(&EMPTY_ENUM_VALUE, doc);
        assert_eq!(outcome.changed, 1);
        assert_eq!(
            doc["components"]["schemas"]["E"],
            json!({ "type": "string", "description": "Kind. One of: \"\", \"A\", \"B\"." })
        );
        assert_eq!(doc["components"]["schemas"]["F"]["enum"], json!(["A", "B"]));
    }

    /// The values are listed once, and a blank description is replaced.
    #[test]
    fn open_enum_notes_are_not_repeated_and_replace_blank_text() {
        let doc = with_schemas(json!({
            "Listed": { "type": "string", "enum": ["", "A"], "description": "Kind. One of: \"\", \"A\"." },
            "Blank": { "type": "string", "enum": ["", "B"], "description": "   " }
        }));
        let (doc, outcome) = run(&EMPTY_ENUM_VALUE, doc);
        assert_eq!(outcome.changed, 2);
        assert_eq!(
            doc["components"]["schemas"],
            json!({
                "Listed": { "type": "string", "description": "Kind. One of: \"\", \"A\"." },
                "Blank": { "type": "string", "description": "One of: \"\", \"B\"." }
            })
        );
    }

    #[test]
    fn a_subtype_gets_its_base_inlined_when_the_base_lists_it() {
        let doc = with_schemas(json!({
            "Base": { "type": "object", "discriminator": { "propertyName": "type" },
                      "oneOf": [{ "$ref": "#/components/schemas/Static" }],
                      "properties": { "type": { "type": "string" } }, "required": ["type"] },
            "Static": { "type": "object", "allOf": [
                { "$ref": "#/components/schemas/Base" },
                { "type": "object", "properties": { "value": { "type": "integer" } } }
            ] },
            "Unrelated": { "allOf": [{ "$ref": "#/components/schemas/Plain" }] },
            "Plain": { "type": "object" }
        }));
        let (doc, outcome) = run(&INLINE_BASE_OF_SUBTYPE, doc);
        assert_eq!(outcome.changed, 1);
        let schemas = &doc["components"]["schemas"];
        assert_eq!(
            schemas["Static"]["allOf"][0],
            json!({ "type": "object", "properties": { "type": { "type": "string" } }, "required": ["type"] })
        );
        // The base keeps its variants; a plain `allOf` reference stays.
        assert!(schemas["Base"].get("oneOf").is_some());
        assert_eq!(
            schemas["Unrelated"]["allOf"][0]["$ref"],
            "#/components/schemas/Plain"
        );
    }

    #[test]
    fn discriminators_are_dropped_and_properties_kept() {
        let doc = with_schemas(json!({
            "Base": { "type": "object", "discriminator": { "propertyName": "kind" },
                      "properties": { "kind": { "type": "string" } } }
        }));
        let (doc, outcome) = run(&DROP_DISCRIMINATOR, doc);
        assert_eq!(outcome.changed, 1);
        assert_eq!(
            doc["components"]["schemas"]["Base"],
            json!({ "type": "object", "properties": { "kind": { "type": "string" } } })
        );
    }
}
