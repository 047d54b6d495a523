//! Rewrites a checked spec, before the generator sees it, into a form whose
//! generated code compiles with this crate's dependencies. Every rewrite keeps
//! the wire format; what a schema loses is kept in its doc comment.
//!
//! - `format: uuid` is dropped: the generator would name `uuid::Uuid`, a crate
//!   this one does not depend on; the value stays a `String`.
//! - a string `pattern` is dropped: the generator would validate it with the
//!   `regress` crate; the server validates anyway.
//! - `minLength: 0` is dropped: it constrains nothing, and the generator's
//!   check for it is a comparison rustc warns is useless.
//! - `title` is dropped from schemas: the generator names a type after its
//!   title before its key, so two schemas sharing a title defined one type
//!   twice; the component's key names the type instead.
//! - `x-dropshot-pagination` is dropped: the paging streams it adds need the
//!   `futures` crate; the method that fetches one page remains.
//! - a `multipart/form-data` request body is taken out: the generator cannot
//!   send one; the method rewrite (`glue/methods.rs`) adds a parameter for
//!   the caller's parts and sends them.
//! - parameters of one operation whose names give one Rust identifier
//!   (`StartTime`, `StartTime<`) are given distinct placeholder names, which
//!   [`restore_placeholders`] turns back into the wire names.
//! - string enum values that give one Rust variant name (`RED`, `red`,
//!   `Red`: typify refuses the enum) are given distinct placeholders the
//!   same way, so each gets a variant of its own (`Red`, `Red1`, `Red2`)
//!   and still reads and writes its exact wire string; each such repair is
//!   listed in [`Lowered::repairs`].

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::spec::{self, METHODS, sanitize};

/// Marks a placeholder parameter name; no real name holds a NUL.
const PLACEHOLDER_MARK: char = '\u{0}';

/// The lowered spec, the wire name of each placeholder (parameter names and
/// enum values), and the repairs a refresh reports.
pub struct Lowered {
    pub spec: Value,
    pub parameter_names: BTreeMap<String, String>,
    pub repairs: Vec<Repair>,
}

/// A shape the generator refuses as written, made acceptable without
/// changing the wire format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    /// JSON pointer of the schema repaired.
    pub pointer: String,
    /// What was done, in a sentence.
    pub what: String,
}

pub fn lower(raw: &Value) -> Lowered {
    let mut spec = raw.clone();
    lower_schemas(&mut spec);
    drop_pagination(&mut spec);
    drop_multipart_bodies(&mut spec);
    let mut parameter_names = distinct_parameters(&mut spec);
    let repairs = distinct_enum_values(&mut spec, &mut parameter_names);
    Lowered {
        spec,
        parameter_names,
        repairs,
    }
}

/// Gives the values of a string enum that would share a variant name
/// (after the first) placeholders with distinct names; records placeholder
/// -> wire value in `restore`.
fn distinct_enum_values(doc: &mut Value, restore: &mut BTreeMap<String, String>) -> Vec<Repair> {
    let pointers: Vec<String> = (spec::objects(doc).into_iter())
        .filter(|(_, map)| map.get("enum").and_then(Value::as_array).is_some())
        .map(|(pointer, _)| pointer)
        .collect();
    let mut repairs = Vec::new();
    for pointer in pointers {
        let Some(map) = doc.pointer_mut(&pointer).and_then(Value::as_object_mut) else {
            continue;
        };
        let renamed = distinct_values_of(map, restore);
        if !renamed.is_empty() {
            repairs.push(Repair {
                pointer,
                what: format!(
                    "enum values {} differ only in case or punctuation: each gets a variant \
                     of its own, and keeps its wire string",
                    renamed.join(", ")
                ),
            });
        }
    }
    repairs
}

/// [`distinct_enum_values`] for one schema: the wire values renamed.
fn distinct_values_of(
    map: &mut Map<String, Value>,
    restore: &mut BTreeMap<String, String>,
) -> Vec<String> {
    let Some(values) = map.get_mut("enum").and_then(Value::as_array_mut) else {
        return Vec::new();
    };
    let variant = |text: &str| sanitize(text, true);
    let mut taken: BTreeSet<String> = (values.iter())
        .filter_map(Value::as_str)
        .map(variant)
        .collect();
    let mut seen = BTreeSet::new();
    let mut renamed = Vec::new();
    for value in values.iter_mut() {
        let Some(wire) = value.as_str().map(str::to_owned) else {
            continue;
        };
        if seen.insert(variant(&wire)) {
            continue;
        }
        let Some(placeholder) = (1..1000)
            .map(|n| format!("{wire}{PLACEHOLDER_MARK}{n}"))
            .find(|placeholder| !taken.contains(&variant(placeholder)))
        else {
            continue;
        };
        taken.insert(variant(&placeholder));
        *value = Value::String(placeholder.clone());
        restore.insert(placeholder.clone(), wire.clone());
        renamed.push((wire, placeholder));
    }
    // A default naming a renamed value names its placeholder.
    if let Some(default) = map.get_mut("default")
        && let Some((_, placeholder)) = renamed.iter().find(|(wire, _)| default == wire)
    {
        *default = Value::String(placeholder.clone());
    }
    renamed
        .into_iter()
        .map(|(wire, _)| format!("`{wire}`"))
        .collect()
}

/// Lowers every object of the document ([`spec::objects`]): a schema can
/// sit almost anywhere, and [`lower_one`] leaves other objects alone. Its
/// rewrites touch only an object's own scalar keys, so the pointers found
/// before the first one stay valid.
fn lower_schemas(doc: &mut Value) {
    let pointers: Vec<String> = spec::objects(doc).into_iter().map(|(p, _)| p).collect();
    for pointer in pointers {
        if let Some(map) = doc.pointer_mut(&pointer).and_then(Value::as_object_mut) {
            lower_one(map);
        }
    }
}

/// The rewrites of one schema object (a no-op on other objects).
fn lower_one(map: &mut Map<String, Value>) {
    let is_string = map.get("type").and_then(Value::as_str) == Some("string");
    let mut notes = Vec::new();
    if is_string && map.get("format").and_then(Value::as_str) == Some("uuid") {
        map.remove("format");
        notes.push("Format: UUID.".to_owned());
    }
    if is_string && let Some(Value::String(pattern)) = map.get("pattern") {
        notes.push(format!("Pattern: `{pattern}`."));
        map.remove("pattern");
    }
    if is_string && map.get("minLength").and_then(Value::as_u64) == Some(0) {
        map.remove("minLength");
    }
    if map.get("title").is_some_and(Value::is_string)
        && (map.contains_key("type")
            || map.contains_key("properties")
            || map.contains_key("allOf")
            || map.contains_key("oneOf")
            || map.contains_key("anyOf"))
    {
        map.remove("title");
    }
    if notes.is_empty() {
        return;
    }
    let description = match map.get("description").and_then(Value::as_str) {
        Some(text) if !text.trim().is_empty() => {
            format!("{}\n\n{}", text.trim_end(), notes.join(" "))
        }
        _ => notes.join(" "),
    };
    map.insert("description".to_owned(), Value::String(description));
}

fn drop_pagination(spec: &mut Value) {
    for operation in spec::operations_mut(spec) {
        operation.remove("x-dropshot-pagination");
    }
}

fn drop_multipart_bodies(spec: &mut Value) {
    for operation in spec::operations_mut(spec) {
        if spec::is_multipart(operation) {
            operation.remove("requestBody");
        }
    }
}

/// Renames every parameter (but the first) of a group whose names give one
/// Rust identifier to a placeholder that gives a distinct one. The
/// parameters of such an operation, shared (path-item) and `$ref` ones
/// included, are copied into it first.
fn distinct_parameters(doc: &mut Value) -> BTreeMap<String, String> {
    // The parameters are copied out of the document as it was, so that the
    // references resolve while its paths change.
    let before = doc.clone();
    let resolved = |holder: &Map<String, Value>| -> Vec<Value> {
        holder
            .get("parameters")
            .and_then(Value::as_array)
            .map(|p| {
                p.iter()
                    .map(|p| spec::resolve(&before, p).clone())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut restore = BTreeMap::new();
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return restore;
    };
    for item in paths.values_mut().filter_map(Value::as_object_mut) {
        let shared = resolved(item);
        let mut renamed_any = false;
        let mut operations: Vec<&str> = METHODS
            .iter()
            .copied()
            .filter(|m| item.get(*m).is_some_and(Value::is_object))
            .collect();
        let mut merged: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
        for method in operations.drain(..) {
            let own = item
                .get(method)
                .and_then(Value::as_object)
                .map(&resolved)
                .unwrap_or_default();
            let mut all = with_shared(&shared, own);
            if rename_colliding(&mut all, &mut restore) {
                renamed_any = true;
            }
            merged.insert(method, all);
        }
        if !renamed_any {
            continue;
        }
        // Every operation of this path now lists all its parameters.
        item.remove("parameters");
        for (method, all) in merged {
            if let Some(operation) = item.get_mut(method).and_then(Value::as_object_mut) {
                operation.insert("parameters".to_owned(), Value::Array(all));
            }
        }
    }
    restore
}

/// An operation's parameters: the path's `shared` ones, then its `own`,
/// which override a shared one with the same name and location.
fn with_shared(shared: &[Value], own: Vec<Value>) -> Vec<Value> {
    let key = |p: &Value| (p.get("name").cloned(), p.get("in").cloned());
    let mut all: Vec<Value> = shared
        .iter()
        .filter(|s| !own.iter().any(|o| key(o) == key(s)))
        .cloned()
        .collect();
    all.extend(own);
    all
}

/// Gives each parameter after the first of a colliding group a placeholder
/// name; records placeholder -> wire name. Path parameters are left alone
/// (their names are also in the path template).
fn rename_colliding(params: &mut [Value], restore: &mut BTreeMap<String, String>) -> bool {
    let ident = |p: &Value| sanitize(p.get("name").and_then(Value::as_str).unwrap_or(""), false);
    let idents: Vec<String> = params.iter().map(ident).collect();
    if idents.iter().collect::<BTreeSet<_>>().len() == idents.len() {
        return false;
    }
    let mut taken: BTreeSet<String> = idents.iter().cloned().collect();
    let mut seen = BTreeSet::new();
    let mut renamed = false;
    for (param, ident) in params.iter_mut().zip(&idents) {
        let is_path = param.get("in").and_then(Value::as_str) == Some("path");
        if seen.insert(ident.clone()) || is_path {
            continue;
        }
        let Some(wire) = param.get("name").and_then(Value::as_str).map(str::to_owned) else {
            continue;
        };
        let Some((placeholder, new_ident)) = (1..100)
            .map(|n| format!("{wire}{PLACEHOLDER_MARK}{n}"))
            .map(|placeholder| {
                let new_ident = sanitize(&placeholder, false);
                (placeholder, new_ident)
            })
            .find(|(_, new_ident)| !taken.contains(new_ident))
        else {
            continue;
        };
        taken.insert(new_ident);
        param["name"] = Value::String(placeholder.clone());
        restore.insert(placeholder, wire);
        renamed = true;
    }
    renamed
}

/// Puts the wire names back where the generated code sends them: every
/// string literal equal to a placeholder.
pub fn restore_placeholders(file: &mut syn::File, names: &BTreeMap<String, String>) {
    use syn::visit_mut::VisitMut;
    struct Restore<'a>(&'a BTreeMap<String, String>);
    impl VisitMut for Restore<'_> {
        fn visit_lit_str_mut(&mut self, literal: &mut syn::LitStr) {
            if let Some(wire) = self.0.get(&literal.value()) {
                *literal = syn::LitStr::new(wire, literal.span());
            }
        }
        fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
            // `format!` and friends keep their arguments as tokens.
            mac.tokens = self.restore_tokens(std::mem::take(&mut mac.tokens));
        }
        fn visit_attribute_mut(&mut self, attribute: &mut syn::Attribute) {
            // `#[serde(rename = "...")]` keeps its arguments as tokens too.
            if let syn::Meta::List(list) = &mut attribute.meta {
                list.tokens = self.restore_tokens(std::mem::take(&mut list.tokens));
            }
        }
    }
    impl Restore<'_> {
        fn restore_tokens(&mut self, tokens: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
            use proc_macro2::{Group, TokenTree};
            (tokens.into_iter())
                .map(|tree| match tree {
                    TokenTree::Literal(literal) => {
                        let mut parsed: syn::Lit = syn::Lit::new(literal.clone());
                        if let syn::Lit::Str(text) = &mut parsed {
                            self.visit_lit_str_mut(text);
                            return TokenTree::Literal(text.token());
                        }
                        TokenTree::Literal(literal)
                    }
                    TokenTree::Group(group) => {
                        let inner = self.restore_tokens(group.stream());
                        let mut restored = Group::new(group.delimiter(), inner);
                        restored.set_span(group.span());
                        TokenTree::Group(restored)
                    }
                    other => other,
                })
                .collect()
        }
    }
    if !names.is_empty() {
        Restore(names).visit_file_mut(file);
    }
}

#[cfg(test)]
mod tests {
    use super::super::construct;

    /// The repaired method has distinct arguments and still sends each
    /// parameter under its own wire name.
    #[test]
    fn colliding_parameters_keep_their_wire_names() {
        let code = construct("colliding-parameters").client().expect("renders");
        for wire in [
            "\"StartTime\"",
            "\"StartTime<\"",
            "\"StartTime>\"",
            "\"Trace-Id\"",
            "\"trace_id\"",
        ] {
            assert!(code.contains(wire), "{wire} missing:\n{code}");
        }
        for argument in [
            "start_time:",
            "start_time_1:",
            "start_time_2:",
            "trace_id_1:",
        ] {
            assert!(code.contains(argument), "{argument} missing:\n{code}");
        }
        assert!(!code.contains("\\0"), "a placeholder was left:\n{code}");
    }

    /// Enum values that differ only in case get a variant each, which
    /// reads, writes and displays the exact wire string; the repair is
    /// listed.
    #[test]
    fn case_colliding_enum_values_keep_their_wire_strings() {
        let code = construct("case-colliding-enum").client().expect("renders");
        let squeezed: String = code.split_whitespace().collect::<Vec<_>>().join(" ");
        for wire in [
            "#[serde(rename = \"RED\")] Red,",
            "#[serde(rename = \"red\")] Red1,",
            "#[serde(rename = \"Red\")] Red2,",
            "Self::Red1 => f.write_str(\"red\")",
            "Self::Red2 => f.write_str(\"Red\")",
            "\"red\" => Ok(Self::Red1)",
            "\"Red\" => Ok(Self::Red2)",
        ] {
            assert!(squeezed.contains(wire), "{wire} missing:\n{code}");
        }
        assert!(!code.contains("\\0"), "a placeholder was left:\n{code}");
        let file = super::super::construct_file("case-colliding-enum");
        let text = std::fs::read_to_string(&file).expect("reads");
        let parsed = super::super::check::parse(&file, &text).expect("parses");
        let repairs = &parsed.lowered.repairs;
        assert_eq!(repairs.len(), 1, "{repairs:?}");
        assert_eq!(repairs[0].pointer, "/components/schemas/ColorEnum");
        assert!(repairs[0].what.contains("`red`, `Red`"), "{repairs:?}");
    }

    /// What a lowered schema loses stays in its documentation.
    #[test]
    fn a_dropped_pattern_is_documented() {
        let code = construct("string-pattern").client().expect("renders");
        assert!(code.contains("Pattern: `^[A-Z]{2}$`."), "{code}");
        assert!(!code.contains("regress"), "{code}");
    }
}
