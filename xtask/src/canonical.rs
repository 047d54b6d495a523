//! The one textual form of a fragment: keys sorted, two-space indentation,
//! a trailing newline. A fragment in this form diffs line by line.

use serde_json::{Map, Value};

/// Sorts object keys at every level. Explicit, so the output does not depend
/// on whether some crate in the build turned on serde_json's
/// `preserve_order` feature.
pub fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sorted(v)))
                    .collect::<Map<_, _>>(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// The canonical text of `value`.
pub fn to_text(value: Value) -> String {
    // Serializing a `Value` cannot fail: its keys are strings.
    let mut text = serde_json::to_string_pretty(&sorted(value)).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_nested_keys_and_ends_with_newline() {
        let text = to_text(json!({"b": {"z": 1, "a": [ {"y": 1, "x": 2} ]}, "a": null}));
        assert_eq!(
            text,
            "{\n  \"a\": null,\n  \"b\": {\n    \"a\": [\n      {\n        \"x\": 2,\n        \"y\": 1\n      }\n    ],\n    \"z\": 1\n  }\n}\n"
        );
    }

    #[test]
    fn is_a_fixed_point() {
        let once = to_text(json!({"k": [3, 1, {"q": "é", "p": 1.5}]}));
        let twice = to_text(serde_json::from_str(&once).unwrap());
        assert_eq!(once, twice);
    }
}
