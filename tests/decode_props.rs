//! Property test: arbitrary bytes, and arbitrary JSON shaped like the API's
//! (objects keyed by the spec's own property names and enum values), decoded
//! into every response type (the generated `decode_responses` lists them
//! from the spec) never panic, and what decodes round-trips.
//!
//! Runs 256 cases per property by default; run longer with
//! `PROPTEST_CASES=100000 cargo test --release --test decode_props`.

use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::Value;

/// The crate's own fragment, generated with the test-only helpers.
#[allow(dead_code, clippy::all, clippy::pedantic)]
mod this_crate {
    include!(concat!(env!("OUT_DIR"), "/fixtures/this-crate.rs"));
}

#[allow(dead_code, clippy::all, clippy::pedantic)]
mod fixture {
    include!(concat!(env!("OUT_DIR"), "/fixtures/state-and-enums.rs"));
}

/// Property names and enum values of the real fragment and the fixture.
fn words() -> Vec<String> {
    let mut words = BTreeSet::new();
    for file in ["spec/partner.json", "tests/fixtures/state-and-enums.json"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let spec: Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("readable")).expect("JSON");
        collect(&spec, &mut words);
    }
    words.into_iter().collect()
}

fn collect(value: &Value, words: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(properties)) = map.get("properties") {
                words.extend(properties.keys().cloned());
            }
            if let Some(Value::Array(values)) = map.get("enum") {
                words.extend(values.iter().filter_map(|v| v.as_str().map(str::to_owned)));
            }
            map.values().for_each(|v| collect(v, words));
        }
        Value::Array(items) => items.iter().for_each(|v| collect(v, words)),
        _ => {}
    }
}

fn json_value(words: Vec<String>) -> impl Strategy<Value = Value> {
    let word = proptest::sample::select(words);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        word.clone().prop_map(Value::String),
        Just(Value::String("2023-11-07T05:31:56Z".into())),
    ];
    leaf.prop_recursive(5, 64, 8, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(word.clone(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn decode_everything(bytes: &[u8]) -> usize {
    let real = this_crate::operations::decode_responses(bytes);
    let fixture = fixture::operations::decode_responses(bytes);
    assert_eq!(
        real.len(),
        rhombus_partner::Operation::all().len(),
        "every operation of the real fragment"
    );
    assert_eq!(fixture.len(), 3, "all three operations of the fixture");
    real.iter()
        .chain(&fixture)
        .filter(|(_, r)| r.is_ok())
        .count()
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        decode_everything(&bytes);
    }

    #[test]
    fn arbitrary_json_never_panics(value in json_value(words())) {
        let bytes = serde_json::to_vec(&value).expect("serializes");
        decode_everything(&bytes);
    }

    #[test]
    fn any_object_of_known_fields_with_nulls_decodes(
        keys in proptest::collection::btree_set(proptest::sample::select(words()), 0..10)
    ) {
        // null (or absent) in every field, whatever it was: all decode.
        let object: serde_json::Map<String, Value> =
            keys.into_iter().map(|k| (k, Value::Null)).collect();
        let bytes = serde_json::to_vec(&Value::Object(object)).expect("serializes");
        prop_assert_eq!(
            decode_everything(&bytes),
            rhombus_partner::Operation::all().len() + 3
        );
    }
}
