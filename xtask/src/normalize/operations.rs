//! Passes over operations: parameters, bodies and responses.

use serde_json::{Map, Value, json};

use super::walk::{for_each_content, retain_operations};
use super::{LeftOut, Outcome, Pass};
// The extension the client reads to decide whether a failed call may be
// sent again (see the README's "Errors and retries").
use crate::codegen::spec::{self, READ_ONLY_EXTENSION, closure, refs_in};

/// The headers the handwritten auth layer sets on every request.
const AUTH_HEADERS: [&str; 3] = ["x-auth-scheme", "x-auth-apikey", "x-auth-org"];
const JSON: &str = "application/json";

pub const DROP_AUTH_HEADERS: Pass = Pass {
    name: "drop-auth-headers",
    why: "removes `x-auth-scheme`, `x-auth-apikey` and `x-auth-org` header parameters (any \
          letter case): the auth layer sends them, and declared they would add an argument and \
          an enum to every method",
    run: drop_auth_headers,
};

fn drop_auth_headers(doc: &mut Value) -> Outcome {
    // A parameter may be a `$ref` to a shared one; look through it, in the
    // document as it was before any is removed.
    let before = doc.clone();
    let is_auth_header = |param: &Value| {
        let param = spec::resolve(&before, param);
        param.get("in").and_then(Value::as_str) == Some("header")
            && param.get("name").and_then(Value::as_str).is_some_and(|n| {
                AUTH_HEADERS
                    .iter()
                    .any(|h| h.eq_ignore_ascii_case(n.trim()))
            })
    };
    let mut changed = 0;
    let mut filter = |holder: &mut Map<String, Value>| {
        if let Some(params) = holder.get_mut("parameters").and_then(Value::as_array_mut) {
            let before = params.len();
            params.retain(|p| !is_auth_header(p));
            changed += before - params.len();
            if params.is_empty() {
                holder.remove("parameters");
            }
        }
    };
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            filter(item);
        }
    }
    retain_operations(doc, |_, _, operation| {
        filter(operation);
        true
    });
    Outcome::changed(changed)
}

pub const LONE_DEFAULT_TO_200: Pass = Pass {
    name: "lone-default-to-200",
    why: "an operation whose only response is `default` answers `200` (as the endpoint \
          documentation shows); the generator treats `default` as possibly an error",
    run: lone_default_to_200,
};

fn lone_default_to_200(doc: &mut Value) -> Outcome {
    let mut changed = 0;
    retain_operations(doc, |_, _, operation| {
        if let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
            && responses.len() == 1
            && let Some(default) = responses.remove("default")
        {
            responses.insert("200".to_owned(), default);
            changed += 1;
        }
        true
    });
    Outcome::changed(changed)
}

pub const JSON_WITH_PARAMETERS: Pass = Pass {
    name: "json-with-parameters",
    why: "a media type with parameters (`application/json; charset=utf-8`) is JSON; it is \
          declared `application/json` (unless that is declared beside it), so that the passes \
          below and the client treat it as JSON",
    run: json_with_parameters,
};

/// `application/json` with parameters, in any letter case.
fn is_json_with_parameters(media_type: &str) -> bool {
    media_type
        .split_once(';')
        .is_some_and(|(essence, _)| essence.trim().eq_ignore_ascii_case(JSON))
}

fn json_with_parameters(doc: &mut Value) -> Outcome {
    let mut changed = 0;
    for_each_content(doc, &mut |content| {
        let Some(key) = content.keys().find(|k| is_json_with_parameters(k)).cloned() else {
            return;
        };
        if let Some(media) = content.remove(&key)
            && !content.contains_key(JSON)
        {
            content.insert(JSON.to_owned(), media);
        }
        content.retain(|k, _| !is_json_with_parameters(k));
        changed += 1;
    });
    Outcome::changed(changed)
}

pub const WILDCARD_BODY_AS_JSON: Pass = Pass {
    name: "wildcard-body-as-json",
    why: "a request body declared as `*/*` with a schema is a JSON object the server accepts \
          under any type; it is declared `application/json`, which the generator can send",
    run: wildcard_body_as_json,
};

fn wildcard_body_as_json(doc: &mut Value) -> Outcome {
    let mut changed = 0;
    retain_operations(doc, |_, _, operation| {
        let content = operation
            .get_mut("requestBody")
            .and_then(|b| b.get_mut("content"))
            .and_then(Value::as_object_mut);
        if let Some(content) = content
            && !content.contains_key(JSON)
            && content
                .get("*/*")
                .is_some_and(|m| m.get("schema").is_some())
            && let Some(media) = content.remove("*/*")
        {
            content.insert(JSON.to_owned(), media);
            changed += 1;
        }
        true
    });
    Outcome::changed(changed)
}

pub const JSON_WHEN_OFFERED: Pass = Pass {
    name: "json-when-offered",
    why: "where a body or response offers JSON beside other media types (multipart, \
          octet-stream), only the JSON one is kept: the client sends and accepts JSON, and the \
          generator takes one media type per body",
    run: json_when_offered,
};

fn json_when_offered(doc: &mut Value) -> Outcome {
    let mut changed = 0;
    for_each_content(doc, &mut |content| {
        if content.len() > 1 && content.contains_key(JSON) {
            content.retain(|media_type, _| media_type == JSON);
            changed += 1;
        }
    });
    Outcome::changed(changed)
}

/// The media type of an upload's parts.
const MULTIPART: &str = "multipart/form-data";

/// The vendor extension left where a `$ref` named a schema the document
/// does not define; its value is the `$ref`. The listing notes each one.
pub use crate::codegen::layout::DANGLING_REF_EXTENSION;

pub const MULTIPART_PARTS_BY_CALLER: Pass = Pass {
    name: "multipart-parts-by-caller",
    why: "a `multipart/form-data` request body (an upload) gets the schema `{\"type\": \"object\"}`: \
          upstream's `FormDataMultiPart` is its server framework's internal type and says \
          nothing of the parts; the generated method takes the caller's `Multipart` instead",
    run: multipart_parts_by_caller,
};

fn multipart_parts_by_caller(doc: &mut Value) -> Outcome {
    let mut changed = 0;
    let open = json!({ "schema": { "type": "object" } });
    retain_operations(doc, |_, _, operation| {
        let media = operation
            .get_mut("requestBody")
            .and_then(|b| b.get_mut("content"))
            .and_then(Value::as_object_mut)
            .filter(|content| content.len() == 1)
            .and_then(|content| content.get_mut(MULTIPART));
        if let Some(media) = media
            && *media != open
        {
            *media = open.clone();
            changed += 1;
        }
        true
    });
    Outcome::changed(changed)
}

pub const NON_JSON_ANSWER_AS_BYTES: Pass = Pass {
    name: "non-json-answer-as-bytes",
    why: "a success response that is not JSON (CSV, zip) gets the schema `{\"type\": \"string\", \
          \"format\": \"binary\"}`, what it is on the wire (upstream names a server-side \
          `StreamingOutput` type); its method returns a `Download` of the bytes",
    run: non_json_answer_as_bytes,
};

fn non_json_answer_as_bytes(doc: &mut Value) -> Outcome {
    let mut changed = 0;
    let bytes = json!({ "type": "string", "format": "binary" });
    retain_operations(doc, |_, _, operation| {
        let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        else {
            return true;
        };
        for (status, response) in responses.iter_mut() {
            let success = status.starts_with('2') || status == "default";
            let content = response.get_mut("content").and_then(Value::as_object_mut);
            let Some(content) = content.filter(|c| success && !c.contains_key(JSON)) else {
                continue;
            };
            for media in content.values_mut().filter_map(Value::as_object_mut) {
                if media.get("schema") != Some(&bytes) {
                    media.insert("schema".to_owned(), bytes.clone());
                    changed += 1;
                }
            }
        }
        true
    });
    Outcome::changed(changed)
}

pub const LEAVE_OUT_UNKNOWN_REQUEST_BODIES: Pass = Pass {
    name: "leave-out-unknown-request-bodies",
    why: "operations whose request body is neither JSON nor `multipart/form-data` (octet-stream, \
          text, form-urlencoded) are left out, each with the reason printed: no upstream operation \
          has one, so no shape for it is known to be right",
    run: leave_out_unknown_request_bodies,
};

fn leave_out_unknown_request_bodies(doc: &mut Value) -> Outcome {
    let mut left_out = Vec::new();
    retain_operations(doc, |method, path, operation| {
        let Some(content) = operation
            .get("requestBody")
            .and_then(|b| b.get("content"))
            .and_then(Value::as_object)
        else {
            return true;
        };
        let multipart = content.len() == 1 && content.contains_key(MULTIPART);
        if content.contains_key(JSON) || multipart {
            return true;
        }
        left_out.push(LeftOut {
            operation: spec::label(path, method),
            reason: format!(
                "request body is {}, neither JSON nor multipart",
                media_types(content)
            ),
        });
        false
    });
    Outcome {
        changed: left_out.len(),
        left_out,
    }
}

fn media_types(content: &Map<String, Value>) -> String {
    content
        .keys()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub const OPEN_DANGLING_SCHEMA_REFS: Pass = Pass {
    name: "open-dangling-schema-refs",
    why: "a `$ref` to a schema the document does not define (the 2026-04-09 document names \
          `IBoulevardType` without defining it) becomes an open schema, any JSON value \
          (`serde_json::Value`), marked `x-rhombus-dangling-ref` with the target, which the \
          listing notes: the value still decodes, whatever upstream meant",
    run: open_dangling_schema_refs,
};

fn open_dangling_schema_refs(doc: &mut Value) -> Outcome {
    let snapshot = doc.clone();
    let mut changed = 0;
    open_refs(doc, &snapshot, &mut changed);
    Outcome::changed(changed)
}

/// Replaces, under `value`, every `$ref` to a schema `doc` lacks.
fn open_refs(value: &mut Value, doc: &Value, changed: &mut usize) {
    match value {
        Value::Object(map) => {
            let dangling = map
                .get("$ref")
                .and_then(Value::as_str)
                .filter(|target| target.starts_with(spec::SCHEMA_PREFIX))
                .filter(|target| doc.pointer(&target[1..]).is_none())
                .map(str::to_owned);
            if let Some(target) = dangling {
                map.remove("$ref");
                map.insert(DANGLING_REF_EXTENSION.to_owned(), Value::String(target));
                *changed += 1;
            }
            map.values_mut().for_each(|v| open_refs(v, doc, changed));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| open_refs(v, doc, changed)),
        _ => {}
    }
}

pub const LEAVE_OUT_DANGLING_REFS: Pass = Pass {
    name: "leave-out-dangling-refs",
    why: "operations that still reach, through any chain of `$ref`s, something the document \
          does not define (a parameter, a response, a request body: no schema can stand in for \
          those) are left out, each printed with the missing target",
    run: leave_out_dangling_refs,
};

fn leave_out_dangling_refs(doc: &mut Value) -> Outcome {
    let snapshot = doc.clone();
    let resolves = |target: &str| {
        target
            .strip_prefix('#')
            .is_some_and(|pointer| snapshot.pointer(pointer).is_some())
    };
    let mut left_out = Vec::new();
    retain_operations(doc, |method, path, operation| {
        let mut start = Vec::new();
        refs_in(&Value::Object(operation.clone()), &mut start);
        let missing: Vec<String> = closure(&snapshot, start)
            .into_iter()
            .filter(|target| !resolves(target))
            .collect();
        if missing.is_empty() {
            return true;
        }
        left_out.push(LeftOut {
            operation: spec::label(path, method),
            reason: format!(
                "{} does not resolve to a component of the upstream document",
                missing
                    .iter()
                    .map(|m| format!("`$ref` to `{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
        false
    });
    Outcome {
        changed: left_out.len(),
        left_out,
    }
}

/// Operation names that only read. Anything else counts as changing state,
/// so an unknown verb is never retried after a server error.
const READ_VERBS: [&str; 5] = ["get", "list", "find", "search", "count"];

pub const MARK_READ_ONLY: Pass = Pass {
    name: "mark-read-only",
    why: "sets `x-rhombus-read-only` on every operation from its operationId (`get…`, `list…`, \
          `find…`, `search…`, `count…` read; everything else may change state), so which calls \
          the client retries after a server error shows in the fragment's diff",
    run: mark_read_only,
};

fn mark_read_only(doc: &mut Value) -> Outcome {
    let mut changed = 0;
    retain_operations(doc, |_, _, operation| {
        let id = operation
            .get("operationId")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let marker = json!(is_read_only(id));
        if operation.get(READ_ONLY_EXTENSION) != Some(&marker) {
            operation.insert(READ_ONLY_EXTENSION.to_owned(), marker);
            changed += 1;
        }
        true
    });
    Outcome::changed(changed)
}

pub const UNIQUE_OPERATION_IDS: Pass = Pass {
    name: "unique-operation-ids",
    why: "an operationId used by several operations (upstream has had `setFlag` under both \
          `/api/customer/` and `/api/org/`) is kept by the first path in order, and the others \
          are prefixed with their distinguishing path segments (`orgSetFlag`); method names are \
          made from operationIds and must be unique",
    run: unique_operation_ids,
};

fn unique_operation_ids(doc: &mut Value) -> Outcome {
    let mut seen: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let mut changed = 0;
    retain_operations(doc, |_, path, operation| {
        let Some(id) = operation.get("operationId").and_then(Value::as_str) else {
            return true;
        };
        let mut unique = id.to_owned();
        if seen.contains(&unique) {
            let prefix: String = path
                .trim_start_matches("/api/")
                .split('/')
                .filter(|s| !s.is_empty() && !s.starts_with('{'))
                .rev()
                .skip(1)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .enumerate()
                .map(|(i, s)| if i == 0 { s.to_owned() } else { capitalized(s) })
                .collect();
            let base = if prefix.is_empty() {
                id.to_owned()
            } else {
                format!("{prefix}{}", capitalized(id))
            };
            unique = base.clone();
            let mut n = 2;
            while seen.contains(&unique) {
                unique = format!("{base}{n}");
                n += 1;
            }
            operation.insert("operationId".to_owned(), Value::String(unique.clone()));
            changed += 1;
        }
        seen.insert(unique);
        true
    });
    Outcome::changed(changed)
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// `getClients`, `PartnerGetShipments`, `partner_getApiTokens` read;
/// `partner_revokeApiToken`, `createPartnerClient` do not.
fn is_read_only(operation_id: &str) -> bool {
    let words = words(operation_id);
    let verb = words.iter().find(|w| *w != "partner");
    verb.is_some_and(|v| READ_VERBS.contains(&v.as_str()))
}

/// Lower-cased words of a camelCase, PascalCase or snake_case name.
fn words(name: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            previous_lower = false;
            words.push(String::new());
            continue;
        }
        if c.is_uppercase() && previous_lower || words.is_empty() {
            words.push(String::new());
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        if let Some(last) = words.last_mut() {
            last.extend(c.to_lowercase());
        }
    }
    words.retain(|w| !w.is_empty());
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::tests::run;

    #[test]
    fn drops_auth_headers_in_any_case_and_through_refs() {
        let doc = json!({
            "paths": { "/a": {
                "parameters": [{ "in": "header", "name": "X-Auth-Org" }],
                "post": { "parameters": [
                    { "in": "header", "name": "x-auth-scheme", "schema": { "enum": ["api-token"] } },
                    { "$ref": "#/components/parameters/Key" },
                    { "in": "query", "name": "x-auth-scheme" },
                    { "in": "header", "name": "x-request-id" }
                ] }
            } },
            "components": { "parameters": { "Key": { "in": "header", "name": "X-AUTH-APIKEY" } } }
        });
        let (doc, outcome) = run(&DROP_AUTH_HEADERS, doc);
        assert_eq!(outcome.changed, 3);
        assert!(doc["paths"]["/a"].get("parameters").is_none());
        assert_eq!(
            doc["paths"]["/a"]["post"]["parameters"],
            json!([{ "in": "query", "name": "x-auth-scheme" }, { "in": "header", "name": "x-request-id" }])
        );
    }

    /// The shape of the newer partner slice: `x-auth-scheme` declared in
    /// each operation, inline, required, an enum with a default, beside the
    /// body; the name in any letter case.
    #[test]
    fn drops_an_inline_auth_scheme_enum_declared_in_each_operation() {
        let scheme = |name: &str| {
            json!({
                "in": "header", "name": name, "required": true,
                "example": "partner-api-token",
                "schema": { "type": "string", "default": "partner-api-token",
                            "enum": ["api-token", "api", "partner-api-token", "partner-api"] }
            })
        };
        let body = json!({ "content": { "application/json": { "schema": {} } } });
        let doc = json!({ "paths": {
            "/api/partner/license/getPool": { "post": {
                "operationId": "getLicensePool",
                "parameters": [scheme("x-auth-scheme")], "requestBody": body.clone()
            } },
            "/api/partner/deactivateClient": { "post": {
                "operationId": "deactivateClient",
                "parameters": [scheme("X-Auth-Scheme"), { "in": "query", "name": "dryRun" }],
                "requestBody": body.clone()
            } }
        } });
        let (doc, outcome) = run(&DROP_AUTH_HEADERS, doc);
        assert_eq!(outcome, Outcome::changed(2));
        let pool = &doc["paths"]["/api/partner/license/getPool"]["post"];
        assert!(pool.get("parameters").is_none(), "{pool}");
        assert_eq!(pool["requestBody"], body);
        assert_eq!(
            doc["paths"]["/api/partner/deactivateClient"]["post"]["parameters"],
            json!([{ "in": "query", "name": "dryRun" }])
        );
        // Idempotent: a second run finds nothing.
        let (_, again) = run(&DROP_AUTH_HEADERS, doc);
        assert_eq!(again, Outcome::changed(0));
    }

    #[test]
    fn lone_default_becomes_200_but_not_beside_others() {
        let doc = json!({ "paths": {
            "/a": { "post": { "responses": { "default": { "description": "a" } } } },
            "/b": { "post": { "responses": { "200": { "description": "ok" }, "default": { "description": "err" } } } }
        } });
        let (doc, outcome) = run(&LONE_DEFAULT_TO_200, doc);
        assert_eq!(outcome.changed, 1);
        assert_eq!(
            doc["paths"]["/a"]["post"]["responses"],
            json!({ "200": { "description": "a" } })
        );
        assert!(
            doc["paths"]["/b"]["post"]["responses"]
                .get("default")
                .is_some()
        );
    }

    #[test]
    fn json_with_parameters_is_json() {
        let schema = json!({ "schema": { "$ref": "#/components/schemas/R" } });
        let doc = json!({ "paths": { "/a": { "post": {
            "requestBody": { "content": { "application/json; charset=utf-8": schema } },
            "responses": { "200": { "content": { "Application/JSON;charset=UTF-8": schema, "text/plain": schema } } }
        } } } });
        let (doc, outcome) = run(&JSON_WITH_PARAMETERS, doc);
        assert_eq!(outcome.changed, 2);
        assert_eq!(
            doc["paths"]["/a"]["post"]["requestBody"]["content"],
            json!({ "application/json": schema })
        );
        assert_eq!(
            doc["paths"]["/a"]["post"]["responses"]["200"]["content"],
            json!({ "application/json": schema, "text/plain": schema })
        );
    }

    #[test]
    fn wildcard_body_with_schema_becomes_json() {
        let schema = json!({ "$ref": "#/components/schemas/R" });
        let doc = json!({ "paths": {
            "/a": { "post": { "requestBody": { "content": { "*/*": { "schema": schema } } } } },
            "/b": { "post": { "requestBody": { "content": { "*/*": {} } } } }
        } });
        let (doc, outcome) = run(&WILDCARD_BODY_AS_JSON, doc);
        assert_eq!(outcome.changed, 1);
        assert_eq!(
            doc["paths"]["/a"]["post"]["requestBody"]["content"],
            json!({ "application/json": { "schema": schema } })
        );
        assert!(
            doc["paths"]["/b"]["post"]["requestBody"]["content"]
                .get("*/*")
                .is_some()
        );
    }

    #[test]
    fn only_json_is_kept_where_it_is_offered() {
        let schema = json!({ "schema": { "$ref": "#/components/schemas/R" } });
        let doc = json!({ "paths": { "/a": { "post": {
            "requestBody": { "content": { "application/json": schema, "multipart/form-data": schema } },
            "responses": { "default": { "content": { "application/json": schema, "application/octet-stream": schema } } }
        } }, "/b": { "post": {
            "requestBody": { "content": { "multipart/form-data": schema, "text/plain": schema } }
        } } } });
        let (doc, outcome) = run(&JSON_WHEN_OFFERED, doc);
        assert_eq!(outcome.changed, 2);
        let a = &doc["paths"]["/a"]["post"];
        assert_eq!(
            a["requestBody"]["content"],
            json!({ "application/json": schema })
        );
        assert_eq!(
            a["responses"]["default"]["content"],
            json!({ "application/json": schema })
        );
        // Nothing to choose: the next pass leaves it out.
        assert_eq!(
            doc["paths"]["/b"]["post"]["requestBody"]["content"]
                .as_object()
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn uploads_and_non_json_answers_get_their_shapes_and_others_are_left_out() {
        let json_body = json!({ "application/json": { "schema": {} } });
        let form = json!({ "$ref": "#/components/schemas/FormDataMultiPart" });
        let doc = json!({ "paths": {
            "/upload": { "post": { "requestBody": { "content": { "multipart/form-data": { "schema": form } } },
                                    "responses": { "200": { "content": json_body.clone() } } } },
            "/csv": { "post": { "requestBody": { "content": json_body.clone() },
                                 "responses": { "default": { "content": { "text/csv; charset=UTF-8": {} } } } } },
            "/octets": { "post": { "requestBody": { "content": { "application/octet-stream": {} } } } },
            "/json": { "post": { "requestBody": { "content": json_body.clone() },
                                  "responses": { "200": { "content": json_body.clone() },
                                                 "400": { "content": { "text/plain": {} } } } } }
        } });
        let (doc, outcome) = run(&MULTIPART_PARTS_BY_CALLER, doc);
        assert_eq!(outcome.changed, 1);
        let upload = "/paths/~1upload/post/requestBody/content/multipart~1form-data";
        assert_eq!(
            doc.pointer(upload),
            Some(&json!({ "schema": { "type": "object" } }))
        );
        let (doc, outcome) = run(&NON_JSON_ANSWER_AS_BYTES, doc);
        assert_eq!(outcome.changed, 1, "the 400 is not a success");
        let csv = "/paths/~1csv/post/responses/default/content/text~1csv; charset=UTF-8/schema";
        assert_eq!(
            doc.pointer(csv),
            Some(&json!({ "type": "string", "format": "binary" }))
        );
        let (doc, outcome) = run(&LEAVE_OUT_UNKNOWN_REQUEST_BODIES, doc);
        let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
        assert_eq!(paths, ["/csv", "/json", "/upload"]);
        assert_eq!(
            outcome.left_out,
            [LeftOut {
                operation: "POST /octets".into(),
                reason: "request body is `application/octet-stream`, neither JSON nor multipart"
                    .into()
            }]
        );
    }

    #[test]
    fn a_dangling_schema_ref_becomes_an_open_schema_marked_with_its_target() {
        let doc = json!({
            "paths": { "/hole": { "post": { "responses": { "200": { "content": {
                "application/json": { "schema": { "$ref": "#/components/schemas/B" } } } } } } } },
            "components": { "schemas": {
                "B": { "properties": {
                    "c": { "$ref": "#/components/schemas/Missing" },
                    "d": { "items": { "$ref": "#/components/schemas/B" } }
                } }
            } }
        });
        let (doc, outcome) = run(&OPEN_DANGLING_SCHEMA_REFS, doc);
        assert_eq!(outcome.changed, 1);
        assert_eq!(
            doc.pointer("/components/schemas/B/properties/c"),
            Some(&json!({ DANGLING_REF_EXTENSION: "#/components/schemas/Missing" }))
        );
        let (_, outcome) = run(&LEAVE_OUT_DANGLING_REFS, doc);
        assert!(outcome.left_out.is_empty());
    }

    #[test]
    fn read_only_from_the_operation_id() {
        for id in [
            "getClients",
            "PartnerGetShipments",
            "partner_getApiTokens",
            "listThings",
            "searchX",
            "findClientsByName",
            "partner_findDevices",
            "countClients",
            "PartnerCountAlerts",
            "get",
        ] {
            assert!(is_read_only(id), "{id}");
        }
        for id in [
            "createPartnerClient",
            "deletePartnerClient",
            "partner_revokeApiToken",
            "updateX",
            "registerDeal",
            "getterSetter",
            "",
            "forget",
            "customizeClient",
            "finder",
            "counterSign",
            "discountClient",
            "foundClient",
        ] {
            assert!(!is_read_only(id), "{id}");
        }
        let doc = json!({ "paths": { "/a": {
            "post": { "operationId": "getA" },
            "put": { "operationId": "setA", "x-rhombus-read-only": true }
        } } });
        let (doc, outcome) = run(&MARK_READ_ONLY, doc);
        assert_eq!(outcome.changed, 2);
        assert_eq!(doc["paths"]["/a"]["post"][READ_ONLY_EXTENSION], json!(true));
        assert_eq!(doc["paths"]["/a"]["put"][READ_ONLY_EXTENSION], json!(false));
    }

    /// The pass marks `find…` and `count…` operations read-only, as the
    /// CONTRIBUTING.md lists them, and a mark already right is no change.
    #[test]
    fn mark_read_only_marks_find_and_count_operations() {
        let doc = json!({ "paths": {
            "/api/partner/findClients": { "post": { "operationId": "partner_findClients" } },
            "/api/partner/countAlerts": { "post": { "operationId": "countAlerts" } },
            "/api/partner/getA": { "post": { "operationId": "getA", "x-rhombus-read-only": true } },
            "/api/partner/foundClient": { "post": { "operationId": "foundClient" } },
            "/api/partner/nameless": { "post": {} }
        } });
        let (doc, outcome) = run(&MARK_READ_ONLY, doc);
        assert_eq!(outcome, Outcome::changed(4));
        let mark = |path: &str| doc["paths"][path]["post"][READ_ONLY_EXTENSION].clone();
        assert_eq!(mark("/api/partner/findClients"), json!(true));
        assert_eq!(mark("/api/partner/countAlerts"), json!(true));
        assert_eq!(mark("/api/partner/getA"), json!(true));
        assert_eq!(mark("/api/partner/foundClient"), json!(false));
        assert_eq!(mark("/api/partner/nameless"), json!(false));
    }

    #[test]
    fn repeated_operation_ids_get_their_path_as_prefix() {
        let doc = json!({ "paths": {
            "/api/camera/getFrames": { "post": { "operationId": "getFrames" } },
            "/api/share/camera/getFrames": { "post": { "operationId": "getFrames" } },
            "/api/customer/setFlag": { "post": { "operationId": "setFlag" } },
            "/api/org/setFlag": { "post": { "operationId": "setFlag" } },
            "/api/orgSetFlag": { "post": { "operationId": "orgSetFlag" } }
        } });
        let (doc, outcome) = run(&UNIQUE_OPERATION_IDS, doc);
        assert_eq!(outcome.changed, 3);
        let id = |path: &str| {
            doc["paths"][path]["post"]["operationId"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(id("/api/camera/getFrames"), "getFrames");
        assert_eq!(id("/api/share/camera/getFrames"), "shareCameraGetFrames");
        assert_eq!(id("/api/customer/setFlag"), "setFlag");
        // `orgSetFlag` is taken by /api/org/setFlag first, in path order.
        assert_eq!(id("/api/org/setFlag"), "orgSetFlag");
        assert_eq!(id("/api/orgSetFlag"), "orgSetFlag2");
    }

    /// Path parameters and empty segments give no prefix.
    #[test]
    fn repeated_operation_ids_skip_parameters_and_empty_segments() {
        let doc = json!({ "paths": {
            "/api/camera/getFrames": { "post": { "operationId": "getFrames" } },
            "/api/device/{uuid}//getFrames": { "post": { "operationId": "getFrames" } }
        } });
        let (doc, outcome) = run(&UNIQUE_OPERATION_IDS, doc);
        assert_eq!(outcome, Outcome::changed(1));
        assert_eq!(
            doc["paths"]["/api/device/{uuid}//getFrames"]["post"]["operationId"],
            "deviceGetFrames"
        );
    }

    /// A name taken with its prefix and with `2` gets `3`.
    #[test]
    fn repeated_operation_ids_count_on() {
        let doc = json!({ "paths": {
            "/api/a": { "post": { "operationId": "setFlag" } },
            "/api/b": { "post": { "operationId": "setFlag" } },
            "/api/c": { "post": { "operationId": "setFlag" } },
            "/api/d": { "post": { "operationId": "setFlag" } }
        } });
        let (doc, outcome) = run(&UNIQUE_OPERATION_IDS, doc);
        assert_eq!(outcome, Outcome::changed(3));
        let ids: Vec<&str> = ["/api/a", "/api/b", "/api/c", "/api/d"]
            .iter()
            .map(|path| doc["paths"][path]["post"]["operationId"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["setFlag", "setFlag2", "setFlag3", "setFlag4"]);
    }

    #[test]
    fn words_split_every_naming_style() {
        assert_eq!(
            words("partner_getApiTokens"),
            ["partner", "get", "api", "tokens"]
        );
        assert_eq!(
            words("PartnerGetShipments"),
            ["partner", "get", "shipments"]
        );
        assert_eq!(words("getV2Things"), ["get", "v2", "things"]);
    }

    #[test]
    fn operations_reaching_a_missing_component_are_left_out_with_it_named() {
        let doc = json!({
            "paths": {
                "/ok": { "post": { "responses": { "200": { "content": { "application/json": {
                    "schema": { "$ref": "#/components/schemas/A" } } } } } } },
                "/hole": { "post": { "responses": { "200": { "content": { "application/json": {
                    "schema": { "$ref": "#/components/schemas/B" } } } } } } }
            },
            "components": { "schemas": {
                "A": { "type": "object" },
                "B": { "properties": { "c": { "$ref": "#/components/responses/Missing" } } }
            } }
        });
        let (doc, outcome) = run(&LEAVE_OUT_DANGLING_REFS, doc);
        assert!(doc.pointer("/paths/~1hole").is_none());
        assert!(doc.pointer("/paths/~1ok/post").is_some());
        assert_eq!(outcome.left_out.len(), 1);
        assert_eq!(outcome.left_out[0].operation, "POST /hole");
        assert!(
            outcome.left_out[0]
                .reason
                .contains("`#/components/responses/Missing` does not resolve"),
            "{}",
            outcome.left_out[0].reason
        );
    }
}
