//! Where the prose of a refreshed fragment comes from: `description` and
//! `summary` texts. A user refreshing their own copy wants upstream's; the
//! repository keeps its own words (upstream's prose is not ours to publish),
//! so its refresh drops upstream's texts and keeps, by JSON pointer, those
//! already in the fragment.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::Error;
use crate::codegen::spec;

/// The `--descriptions` choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Source {
    /// Upstream's texts, as the document has them.
    #[default]
    Upstream,
    /// The texts already in the fragment in place; upstream's are dropped.
    Own,
}

impl Source {
    pub fn parse(value: &str) -> Result<Self, Error> {
        match value {
            "upstream" => Ok(Source::Upstream),
            "own" => Ok(Source::Own),
            other => Err(Error::Argument(format!(
                "--descriptions takes `upstream` or `own`, not {other:?}"
            ))),
        }
    }
}

/// The keys holding prose.
const PROSE_KEYS: [&str; 2] = ["description", "summary"];

/// Every prose text in `doc`, by the JSON pointer of its key. The walk is
/// the one every reader of a document shares ([`spec::objects`]): a
/// property, path or component named `description` is a name, not prose,
/// and example values are data.
pub fn collect(doc: &Value) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    for (pointer, object) in spec::objects(doc) {
        for key in PROSE_KEYS {
            if let Some(text) = object.get(key).and_then(Value::as_str) {
                let at = format!("{pointer}/{}", spec::pointer_segment(key));
                found.insert(at, text.to_owned());
            }
        }
    }
    found
}

/// Applies `source` to the refreshed `doc`: with [`Source::Own`], drops
/// every upstream text and puts back those of `current` (the fragment in
/// place) wherever their place still exists. Returns how many texts were
/// kept from `current`.
pub fn apply(source: Source, doc: &mut Value, current: Option<&Value>) -> usize {
    if source == Source::Upstream {
        return 0;
    }
    strip(doc);
    let mut kept = 0;
    for (pointer, text) in current.map(collect).unwrap_or_default() {
        let Some((parent, key)) = pointer.rsplit_once('/') else {
            continue;
        };
        if let Some(holder) = doc.pointer_mut(parent).and_then(Value::as_object_mut) {
            holder.insert(spec::unescape_segment(key), Value::String(text));
            kept += 1;
        }
    }
    fill_required_response_descriptions(doc);
    kept
}

/// Removes every prose text from `doc`. Only strings go, so the pointers
/// found before the first removal stay valid.
fn strip(doc: &mut Value) {
    let pointers: Vec<String> = spec::objects(doc).into_iter().map(|(p, _)| p).collect();
    for pointer in pointers {
        if let Some(object) = doc.pointer_mut(&pointer).and_then(Value::as_object_mut) {
            object.retain(|key, text| !(PROSE_KEYS.contains(&key.as_str()) && text.is_string()));
        }
    }
}

/// OpenAPI requires a description on every response; one left without is
/// given its status's reason phrase, a fact rather than prose.
fn fill_required_response_descriptions(doc: &mut Value) {
    let fill = |responses: &mut Map<String, Value>| {
        for (status, response) in responses.iter_mut() {
            if let Some(response) = response.as_object_mut()
                && !response.contains_key("$ref")
                && !response.contains_key("description")
            {
                let phrase = match status.as_str() {
                    "200" => "OK".to_owned(),
                    "default" => "Any other status".to_owned(),
                    other => format!("Status {other}"),
                };
                response.insert("description".to_owned(), Value::String(phrase));
            }
        }
    };
    if let Some(responses) = doc
        .pointer_mut("/components/responses")
        .and_then(Value::as_object_mut)
    {
        fill(responses);
    }
    for operation in spec::operations_mut(doc) {
        if let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        {
            fill(responses);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn upstream() -> Value {
        json!({
            "info": { "title": "T", "version": "1", "description": "Upstream's words about the API." },
            "paths": { "/a": { "post": {
                "summary": "Upstream summary", "description": "Upstream operation text.",
                "responses": { "200": { "description": "Upstream OK text" } } } } },
            "components": { "schemas": {
                "description": { "type": "object", "description": "A schema named description",
                    "properties": {
                        "description": { "type": "string", "description": "A field named description" },
                        "summary": { "type": "string", "example": { "description": "data" } } } } } }
        })
    }

    #[test]
    fn upstream_keeps_everything() {
        let mut doc = upstream();
        assert_eq!(apply(Source::Upstream, &mut doc, None), 0);
        assert_eq!(doc, upstream());
    }

    #[test]
    fn own_drops_upstream_prose_but_not_fields_named_like_it() {
        let mut doc = upstream();
        apply(Source::Own, &mut doc, None);
        assert_eq!(
            collect(&doc),
            BTreeMap::from([(
                "/paths/~1a/post/responses/200/description".to_owned(),
                "OK".to_owned()
            )])
        );
        let props = &doc["components"]["schemas"]["description"]["properties"];
        assert_eq!(props["description"], json!({ "type": "string" }));
        assert_eq!(
            props["summary"]["example"],
            json!({ "description": "data" })
        );
    }

    #[test]
    fn own_keeps_the_fragments_texts_where_their_place_still_exists() {
        let current = json!({
            "info": { "description": "Our words." },
            "paths": { "/a": { "post": { "description": "Ours." } }, "/gone": { "post": { "description": "Lost." } } },
            "components": { "schemas": { "description": { "properties": {
                "description": { "description": "Our field text." } } } } }
        });
        let mut doc = upstream();
        assert_eq!(apply(Source::Own, &mut doc, Some(&current)), 3);
        let texts = collect(&doc);
        assert_eq!(texts["/info/description"], "Our words.");
        assert_eq!(texts["/paths/~1a/post/description"], "Ours.");
        assert_eq!(
            texts["/components/schemas/description/properties/description/description"],
            "Our field text."
        );
        assert!(
            !texts.values().any(|t| t.contains("Upstream")),
            "{texts:#?}"
        );
        assert!(doc.pointer("/paths/~1gone").is_none());
    }

    #[test]
    fn the_choice_is_parsed_or_explained() {
        assert_eq!(Source::parse("own").unwrap(), Source::Own);
        assert_eq!(Source::parse("upstream").unwrap(), Source::Upstream);
        let refused = Source::parse("mine").unwrap_err();
        assert!(refused.to_string().contains("`own`"), "{refused}");
    }
}
