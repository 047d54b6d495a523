//! Property tests of decoding every response type (the generated
//! `decode_responses` lists them from the spec):
//!
//! - JSON shaped like each operation's response, built by walking its
//!   schema in the spec (objects with their properties, listed enum values
//!   and unknown ones, `date-time` and number formats, arrays, maps, `null`
//!   where nullable, fields the spec does not know), always decodes, and
//!   decode → encode → decode gives an equal value (compared as what each
//!   encodes to: the generated types are not `PartialEq`);
//! - arbitrary bytes never panic the decoders.
//!
//! Runs 64 cases per operation and 256 byte strings by default; run longer
//! with `PROPTEST_CASES=10000 cargo test --release --test decode_props`.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value};

/// The crate's own fragment, generated with the test-only helpers.
#[allow(dead_code, clippy::all, clippy::pedantic)]
mod this_crate {
    include!(concat!(env!("OUT_DIR"), "/fixtures/this-crate.rs"));
}

#[allow(dead_code, clippy::all, clippy::pedantic)]
mod fixture {
    include!(concat!(env!("OUT_DIR"), "/fixtures/state-and-enums.rs"));
}

/// A generated `decode_responses`: each operation's id, and the value
/// decoded from the bytes encoded, decoded and encoded again (or why the
/// bytes did not decode).
type Decode = fn(&[u8]) -> Vec<(&'static str, Result<[Value; 2], serde_json::Error>)>;

/// Each fragment with the decoders generated from it.
const FRAGMENTS: [(&str, Decode); 2] = [
    ("spec/partner.json", this_crate::decoding::decode_responses),
    (
        "tests/fixtures/state-and-enums.json",
        fixture::decoding::decode_responses,
    ),
];

/// How deep nested objects and arrays go; deeper, optional fields are
/// left out and arrays are empty.
const DEPTH: u32 = 3;

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

fn load(file: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    serde_json::from_str(&std::fs::read_to_string(path).expect("readable")).expect("JSON")
}

/// Follows a local `$ref`, if `schema` is one.
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(target) => {
            let pointer = target.strip_prefix('#').expect("a local reference");
            resolve(spec, spec.pointer(pointer).expect("the reference resolves"))
        }
        None => schema,
    }
}

/// Each operation's id and the schema of its JSON success response.
fn response_schemas(spec: &Value) -> BTreeMap<String, Value> {
    let mut schemas = BTreeMap::new();
    for item in spec["paths"].as_object().expect("paths").values() {
        for operation in item.as_object().expect("a path item").values() {
            let Some(id) = operation.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let responses = operation["responses"].as_object().expect("responses");
            let success = responses
                .iter()
                .find(|(status, _)| status.starts_with('2'))
                .or_else(|| responses.iter().find(|(status, _)| *status == "default"));
            let schema = success
                .map(|(_, response)| resolve(spec, response))
                .and_then(|response| response.pointer("/content/application~1json/schema"));
            if let Some(schema) = schema {
                schemas.insert(id.to_owned(), schema.clone());
            }
        }
    }
    schemas
}

/// Values that conform to `schema`.
fn shaped(spec: &Value, schema: &Value, depth: u32) -> BoxedStrategy<Value> {
    let schema = resolve(spec, schema);
    let value = not_null(spec, schema, depth);
    if schema.get("nullable").and_then(Value::as_bool) == Some(true) {
        prop_oneof![1 => Just(Value::Null), 5 => value].boxed()
    } else {
        value
    }
}

fn not_null(spec: &Value, schema: &Value, depth: u32) -> BoxedStrategy<Value> {
    let kind = schema.get("type").and_then(Value::as_str);
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let listed = proptest::sample::select(values.clone());
        if kind != Some("string") {
            return listed.boxed();
        }
        // String enums are open: a value this build does not know decodes
        // and is sent back as it came.
        return prop_oneof![4 => listed, 1 => "[A-Z_]{1,12}".prop_map(Value::String)].boxed();
    }
    let format = schema.get("format").and_then(Value::as_str);
    match kind {
        Some("string") => match format {
            Some("date-time") => date_time().prop_map(Value::String).boxed(),
            _ => ".{0,12}".prop_map(Value::String).boxed(),
        },
        Some("integer") => match format {
            Some("int32") => any::<i32>().prop_map(Value::from).boxed(),
            _ => any::<i64>().prop_map(Value::from).boxed(),
        },
        Some("number") => match format {
            Some("float") => any::<f32>()
                .prop_filter("finite", |x| x.is_finite())
                .prop_map(Value::from)
                .boxed(),
            _ => any::<f64>()
                .prop_filter("finite", |x| x.is_finite())
                .prop_map(Value::from)
                .boxed(),
        },
        Some("boolean") => any::<bool>().prop_map(Value::Bool).boxed(),
        Some("array") if depth >= DEPTH => Just(Value::Array(Vec::new())).boxed(),
        Some("array") => {
            let items = shaped(spec, &schema["items"], depth + 1);
            proptest::collection::vec(items, 0..4)
                .prop_map(Value::Array)
                .boxed()
        }
        Some("object") | None if schema.get("properties").is_some() => object(spec, schema, depth),
        Some("object") => match schema.get("additionalProperties") {
            Some(values @ Value::Object(_)) if depth < DEPTH => {
                let values = shaped(spec, values, depth + 1);
                proptest::collection::btree_map("[a-zA-Z0-9_]{0,8}", values, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect()))
                    .boxed()
            }
            Some(Value::Object(_)) => Just(Value::Object(Map::new())).boxed(),
            _ => any_object().boxed(),
        },
        _ => leaf().boxed(),
    }
}

/// An object with the schema's properties (each optional one present or
/// not) and now and then a field the schema does not describe.
fn object(spec: &Value, schema: &Value, depth: u32) -> BoxedStrategy<Value> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut fields: Vec<BoxedStrategy<Option<(String, Value)>>> = Vec::new();
    for (name, property) in schema["properties"].as_object().expect("properties") {
        let is_required = required.contains(&name.as_str());
        if depth >= DEPTH && !is_required {
            continue;
        }
        let name = name.clone();
        let value = shaped(spec, property, depth + 1).prop_map(move |v| (name.clone(), v));
        fields.push(if is_required {
            value.prop_map(Some).boxed()
        } else {
            proptest::option::weighted(0.7, value).boxed()
        });
    }
    let unknown = proptest::option::weighted(0.2, ("zz[a-z]{1,6}", leaf()));
    (fields, unknown)
        .prop_map(|(fields, unknown)| {
            let map: Map<String, Value> = fields.into_iter().flatten().chain(unknown).collect();
            Value::Object(map)
        })
        .boxed()
}

/// An RFC 3339 timestamp, in UTC or another offset, with or without
/// fractional seconds.
fn date_time() -> impl Strategy<Value = String> {
    // Years 1 to 9999.
    let seconds = -62_135_596_800i64..253_402_300_799;
    let nanos = prop_oneof![Just(0u32), 0u32..1_000_000_000];
    let offset_minutes = prop_oneof![Just(0i32), -14 * 60..=14 * 60i32];
    (seconds, nanos, offset_minutes, any::<bool>()).prop_map(|(s, n, minutes, z)| {
        let offset = chrono::FixedOffset::east_opt(minutes * 60).expect("within a day");
        chrono::DateTime::from_timestamp(s, n)
            .expect("in range")
            .with_timezone(&offset)
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, z)
    })
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        ".{0,8}".prop_map(Value::String),
    ]
}

fn any_object() -> impl Strategy<Value = Value> {
    proptest::collection::btree_map("[a-z]{1,6}", leaf(), 0..4)
        .prop_map(|map| Value::Object(map.into_iter().collect()))
}

#[test]
fn json_shaped_like_each_response_decodes_and_round_trips() {
    for (file, decode) in FRAGMENTS {
        let spec = load(file);
        let schemas = response_schemas(&spec);
        let ids: Vec<&str> = decode(b"").into_iter().map(|(id, _)| id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            schemas.keys().map(String::as_str).collect::<Vec<_>>(),
            "{file}: a decoder for every JSON response, and only those"
        );
        for id in ids {
            let schema = schemas
                .get(id)
                .unwrap_or_else(|| panic!("{file}: {id} has no JSON success response"));
            let mut runner = TestRunner::new(Config {
                cases: cases(64),
                failure_persistence: None,
                ..Config::default()
            });
            runner
                .run(&shaped(&spec, schema, 0), |value| {
                    let bytes = serde_json::to_vec(&value).expect("serializes");
                    let decoded = decode(&bytes);
                    let (_, result) = decoded
                        .iter()
                        .find(|(decoded_id, _)| *decoded_id == id)
                        .expect("each id decoded");
                    match result {
                        Ok([first, second]) => {
                            prop_assert_eq!(first, second, "decoded from {}", value);
                            Ok(())
                        }
                        Err(e) => Err(TestCaseError::fail(format!("{e}, decoding {value}"))),
                    }
                })
                .unwrap_or_else(|e| panic!("{file}: {id}: {e}"));
        }
    }
}

proptest! {
    #![proptest_config(Config { cases: cases(256), ..Config::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        for (_, decode) in FRAGMENTS {
            decode(&bytes);
        }
    }
}

/// Every property name in the fragments.
fn property_names() -> Vec<String> {
    fn collect(value: &Value, names: &mut std::collections::BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::Object(properties)) = map.get("properties") {
                    names.extend(properties.keys().cloned());
                }
                map.values().for_each(|v| collect(v, names));
            }
            Value::Array(items) => items.iter().for_each(|v| collect(v, names)),
            _ => {}
        }
    }
    let mut names = std::collections::BTreeSet::new();
    for (file, _) in FRAGMENTS {
        collect(&load(file), &mut names);
    }
    names.into_iter().collect()
}

proptest! {
    /// `null` (or absence) in any field, whatever its type: every response
    /// type decodes it.
    #[test]
    fn any_object_of_known_fields_with_nulls_decodes(
        keys in proptest::collection::btree_set(proptest::sample::select(property_names()), 0..10)
    ) {
        let object: Map<String, Value> = keys.into_iter().map(|k| (k, Value::Null)).collect();
        let bytes = serde_json::to_vec(&Value::Object(object)).expect("serializes");
        for (file, decode) in FRAGMENTS {
            for (id, result) in decode(&bytes) {
                prop_assert!(result.is_ok(), "{}: {}: {:?}", file, id, result);
            }
        }
    }
}
