//! Paged operations: which operations page, by which cursor, and their
//! stream methods (`<method>_pages`, and `<method>_items` where the answer
//! has one list), which run `rhombus_partner::Pages`.
//!
//! Recognised on the generated types, by the fields' JSON names (so a
//! field the generator renamed is still found), in the patterns the
//! fragments use:
//!
//! - a cursor the answer carries ([`CARRIED`]): the answer's field goes into
//!   the request's field for the next page (`lastEvaluatedKey ->
//!   lastEvaluatedKey`, `pageToken -> pageToken`, `lastEvaluatedTimestampMs
//!   -> pageTimestampMs`); both fields optional, of one type;
//! - a cursor read off the last item ([`LAST_ITEM`]): the answer's one list
//!   gives its last item's fields to the request's (`timestampMs -> lastTimestampMs`,
//!   `uuid -> lastUuid`); the page size ([`LAST_ITEM_PAGE_SIZE`]) tells the
//!   last page, which is shorter.
//!
//! An operation whose fields do not fit (a required cursor field, types
//! that differ, a stream method's name already taken) is not paged.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::operations::Operation;
use super::syntax::{generated_type_name, generic_args, is_path_named, response_type_name};
use crate::repair::serde_rename;

/// Cursors the answer carries: (answer field, request field).
pub(crate) const CARRIED: &[(&str, &str)] = &[
    ("lastEvaluatedKey", "lastEvaluatedKey"),
    ("pageToken", "pageToken"),
    ("lastEvaluatedTimestampMs", "pageTimestampMs"),
];

/// The page-size fields a request with a carried cursor may have, for the
/// listing and the docs (the answer's cursor says when pages end).
const CARRIED_PAGE_SIZES: &[&str] = &["maxPageSize", "pageSize"];

/// Cursors read off the answer's last item: (item field, request field)
/// pairs, all of them present.
pub(crate) const LAST_ITEM: &[&[(&str, &str)]] =
    &[&[("timestampMs", "lastTimestampMs"), ("uuid", "lastUuid")]];

/// The request's page size for a cursor read off the last item.
const LAST_ITEM_PAGE_SIZE: &str = "maxResults";

/// One field of a generated struct.
#[derive(Clone)]
pub struct Field {
    /// Its name in JSON.
    pub json: String,
    ident: syn::Ident,
    // Boxed: a `syn::Type` is large, and `Cursor` holds fields in pairs.
    ty: Box<syn::Type>,
}

/// Where an operation's cursor sits.
#[derive(Clone)]
pub enum Cursor {
    /// The answer's `answer` field goes into the request's `request` field.
    Carried { answer: Field, request: Field },
    /// The last item of the answer's `list` gives its fields to the
    /// request's, pair by pair (item field, request field).
    LastItem {
        list: Field,
        keys: Vec<(Field, Field)>,
    },
}

/// A paged operation.
#[derive(Clone)]
pub struct Paged {
    /// The generated method that makes one call.
    pub method: String,
    request: String,
    answer: String,
    /// Where the cursor sits.
    pub cursor: Cursor,
    /// The request's page-size field, if it has one.
    pub page_size: Option<Field>,
    /// The answer's one list, and the type of its items.
    items: Option<(Field, syn::Type)>,
}

impl Paged {
    /// The stream-of-pages method's name.
    pub fn pages_method(&self) -> String {
        format!("{}_pages", self.method)
    }

    /// The stream-of-items method's name, when the answer has one list.
    pub fn items_method(&self) -> Option<String> {
        self.items
            .as_ref()
            .map(|_| format!("{}_items", self.method))
    }

    /// How the cursor moves, in JSON names: `lastEvaluatedKey ->
    /// lastEvaluatedKey`, `policyAlerts[-1].timestampMs -> lastTimestampMs,
    /// policyAlerts[-1].uuid -> lastUuid`, with the page size if any.
    pub fn describe(&self) -> String {
        let moves = match &self.cursor {
            Cursor::Carried { answer, request } => format!("{} -> {}", answer.json, request.json),
            Cursor::LastItem { list, keys } => {
                let pairs = keys.iter().map(|(item, request)| {
                    format!("{}[-1].{} -> {}", list.json, item.json, request.json)
                });
                pairs.collect::<Vec<_>>().join(", ")
            }
        };
        match &self.page_size {
            Some(size) => format!("{moves} (page size {})", size.json),
            None => moves,
        }
    }
}

/// Every paged operation of the generated client, by method name.
pub fn paged_operations(generated: &syn::File) -> BTreeMap<String, Paged> {
    let methods = super::syntax::client_methods(generated);
    let types = super::syntax::type_items(generated);
    let mut paged = BTreeMap::new();
    for (name, signature) in &methods {
        let Some(found) = recognise(name, signature, &types) else {
            continue;
        };
        let taken = |method: Option<String>| method.is_some_and(|m| methods.contains_key(&m));
        // A stream method must not shadow an operation of the same name.
        if taken(Some(found.pages_method())) || taken(found.items_method()) {
            continue;
        }
        paged.insert(name.clone(), found);
    }
    paged
}

/// The paging of one operation, if its request and answer fit a pattern.
fn recognise(
    method: &str,
    signature: &syn::Signature,
    types: &BTreeMap<String, syn::ItemStruct>,
) -> Option<Paged> {
    let request_name = body_type_name(signature)?;
    let answer_name = response_type_name(signature)?;
    let request = types.get(&request_name)?;
    let answer = types.get(&answer_name)?;
    let items = one_list(answer);
    let (cursor, page_size) = carried(request, answer)
        .map(|cursor| (cursor, first_field(request, CARRIED_PAGE_SIZES)))
        .or_else(|| {
            let (list, item_type) = items.as_ref()?;
            let item = types.get(&type_name(item_type)?)?;
            let cursor = last_item(request, list, item)?;
            Some((cursor, first_field(request, &[LAST_ITEM_PAGE_SIZE])))
        })?;
    Some(Paged {
        method: method.to_owned(),
        request: request_name,
        answer: answer_name,
        cursor,
        page_size,
        items,
    })
}

/// `T` of the one argument `body: &types::T`.
fn body_type_name(signature: &syn::Signature) -> Option<String> {
    let typed: Vec<&syn::PatType> = signature
        .inputs
        .iter()
        .filter_map(|input| match input {
            syn::FnArg::Typed(typed) => Some(typed),
            syn::FnArg::Receiver(_) => None,
        })
        .collect();
    let [body] = typed.as_slice() else {
        return None;
    };
    let syn::Type::Reference(reference) = &*body.ty else {
        return None;
    };
    generated_type_name(&reference.elem)
}

/// The first carried-cursor pair both structs have, optional and alike.
fn carried(request: &syn::ItemStruct, answer: &syn::ItemStruct) -> Option<Cursor> {
    CARRIED.iter().find_map(|(from, to)| {
        let (answer, request) = (optional_field(answer, from)?, optional_field(request, to)?);
        same_type(&answer, &request).then_some(Cursor::Carried { answer, request })
    })
}

/// The first last-item pattern whose every pair the item and the request
/// have, optional and alike.
fn last_item(request: &syn::ItemStruct, list: &Field, item: &syn::ItemStruct) -> Option<Cursor> {
    LAST_ITEM.iter().find_map(|pairs| {
        let keys = pairs.iter().map(|(from, to)| {
            let (item, request) = (optional_field(item, from)?, optional_field(request, to)?);
            same_type(&item, &request).then_some((item, request))
        });
        Some(Cursor::LastItem {
            list: list.clone(),
            keys: keys.collect::<Option<Vec<_>>>()?,
        })
    })
}

/// The name of a generated type, as `types` names it (bare) or as the
/// client does (`types::T`).
fn type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(path) if path.qself.is_none() => match path.path.get_ident() {
            Some(ident) => Some(ident.to_string()),
            None => generated_type_name(ty),
        },
        _ => None,
    }
}

fn first_field(structure: &syn::ItemStruct, names: &[&str]) -> Option<Field> {
    names
        .iter()
        .find_map(|name| optional_field(structure, name))
}

/// The answer's one list (`Option<Vec<T>>` or `Vec<T>`) and `T`, when it
/// has exactly one.
fn one_list(answer: &syn::ItemStruct) -> Option<(Field, syn::Type)> {
    let mut lists = fields(answer).filter_map(|field| {
        let list = generic_args(&field.ty, "Option")
            .and_then(|args| args.first().cloned())
            .unwrap_or_else(|| (*field.ty).clone());
        let item = generic_args(&list, "Vec")?.first().cloned()?;
        Some((field, item))
    });
    let first = lists.next()?;
    lists.next().is_none().then_some(first)
}

/// The field whose JSON name is `json`, if its type is `Option<_>`.
fn optional_field(structure: &syn::ItemStruct, json: &str) -> Option<Field> {
    fields(structure).find(|field| field.json == json && is_path_named(&field.ty, "Option"))
}

fn fields(structure: &syn::ItemStruct) -> impl Iterator<Item = Field> + '_ {
    structure.fields.iter().filter_map(|field| {
        let ident = field.ident.clone()?;
        let json = serde_rename(&field.attrs).unwrap_or_else(|| ident.to_string());
        Some(Field {
            json,
            ident,
            ty: Box::new(field.ty.clone()),
        })
    })
}

fn same_type(a: &Field, b: &Field) -> bool {
    let (a, b) = (&a.ty, &b.ty);
    quote!(#a).to_string() == quote!(#b).to_string()
}

/// The stream methods of every paged operation, in one `impl Client`.
pub(super) fn paging_methods(
    paged: &BTreeMap<String, Paged>,
    operations: &[Operation],
) -> TokenStream {
    let methods = operations.iter().filter_map(|op| {
        let paged = paged.get(&op.method)?;
        Some(stream_methods(&op.id, paged))
    });
    quote! {
        impl Client {
            #(#methods)*
        }
    }
}

/// THE place a page is asked for: the one expression that calls an
/// operation, with `self` the client and `request` the page's request,
/// giving `Result<answer, ::rhombus_partner::Error>`.
fn call_operation(method: &syn::Ident) -> TokenStream {
    quote!(self.#method(&request).await)
}

/// `<method>_pages` and, with one list in the answer, `<method>_items`.
fn stream_methods(id: &str, paged: &Paged) -> TokenStream {
    let method = format_ident!("{}", paged.method);
    let pages = format_ident!("{}", paged.pages_method());
    let request = format_ident!("{}", paged.request);
    let answer = format_ident!("{}", paged.answer);
    let call = call_operation(&method);
    let step = step(paged);
    let doc = format!(
        "`{id}`, page by page: a stream of the answers to [`Client::{method}`], from \
         `request` on, following the cursor ({}). See `rhombus_partner::Pages` for when \
         it ends; at most `rhombus_partner::DEFAULT_MAX_PAGES` pages unless `max_pages` \
         says otherwise.",
        paged.describe()
    );
    let items = paged.items.as_ref().map(|(list, item)| {
        let name = format_ident!("{}", paged.items_method().unwrap_or_default());
        let field = &list.ident;
        let item = qualified(item);
        let doc = format!(
            "`{id}`, item by item: the `{}` of every page of [`Client::{pages}`], in order.",
            list.json
        );
        quote! {
            #[doc = #doc]
            #[inline]
            pub fn #name<'a>(&'a self, request: types::#request)
                -> ::rhombus_partner::Items<'a, types::#request, types::#answer, #item>
            {
                self.#pages(request).items(|answer| {
                    ::rhombus_partner::__private::ItemList::into_items(answer.#field)
                })
            }
        }
    });
    quote! {
        #[doc = #doc]
        // Inline: compiled where a stream is used, not in every build of
        // the area (each instantiates the operation's request and answer
        // (de)serialization; 18 of them cost a third of the `fleet` build).
        #[inline]
        pub fn #pages<'a>(&'a self, request: types::#request)
            -> ::rhombus_partner::Pages<'a, types::#request, types::#answer>
        {
            ::rhombus_partner::__private::pages(
                #id,
                request,
                move |request: types::#request| async move { #call },
                |request: &types::#request, answer: &types::#answer| #step,
            )
        }
        #items
    }
}

/// The expression that reads the cursor off `answer` for `request`.
fn step(paged: &Paged) -> TokenStream {
    let items = paged.items.as_ref().map(|(list, _)| &list.ident);
    match &paged.cursor {
        Cursor::Carried { answer, request } => {
            let (from, to) = (&answer.ident, &request.ident);
            let count = match items {
                Some(list) => quote!(::std::option::Option::Some(
                    ::rhombus_partner::__private::ItemList::as_items(&answer.#list).len()
                )),
                None => quote!(::std::option::Option::None),
            };
            quote! {
                ::rhombus_partner::__private::carried_cursor(
                    request,
                    request.#to.as_ref(),
                    answer.#from.as_ref(),
                    #count,
                    |request, cursor| request.#to = ::std::option::Option::Some(cursor),
                )
            }
        }
        Cursor::LastItem { list, keys } => last_item_step(paged, &list.ident, keys),
    }
}

fn last_item_step(paged: &Paged, list: &syn::Ident, keys: &[(Field, Field)]) -> TokenStream {
    let item_fields: Vec<&syn::Ident> = keys.iter().map(|(item, _)| &item.ident).collect();
    let request_fields: Vec<&syn::Ident> = keys.iter().map(|(_, request)| &request.ident).collect();
    let bound: Vec<syn::Ident> = (0..keys.len()).map(|i| format_ident!("key_{i}")).collect();
    let page_size = match &paged.page_size {
        Some(size) => {
            let size = &size.ident;
            quote!(request.#size.map(::std::primitive::i64::from))
        }
        None => quote!(::std::option::Option::None),
    };
    quote! {{
        let items = ::rhombus_partner::__private::ItemList::as_items(&answer.#list);
        // `?` in a closure: a key with a field missing is no key.
        let sent = (|| ::std::option::Option::Some((#(request.#request_fields.clone()?,)*)))();
        let last = items
            .last()
            .and_then(|item| ::std::option::Option::Some((#(item.#item_fields.clone()?,)*)));
        ::rhombus_partner::__private::last_item_cursor(
            request,
            sent,
            items.len(),
            #page_size,
            last,
            |request, (#(#bound,)*)| {
                #(request.#request_fields = ::std::option::Option::Some(#bound);)*
            },
        )
    }}
}

/// An item type as the client's `impl` names it: a generated type (named
/// bare inside `types`) through `types::`, anything else as it is.
fn qualified(item: &syn::Type) -> TokenStream {
    match item {
        syn::Type::Path(path) if path.qself.is_none() && path.path.get_ident().is_some() => {
            let ident = path.path.get_ident();
            let primitive = ident.is_some_and(|i| {
                ["bool", "i32", "i64", "u32", "u64", "f32", "f64"].contains(&i.to_string().as_str())
            });
            if primitive {
                quote!(#item)
            } else {
                quote!(types::#item)
            }
        }
        _ => quote!(#item),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::{Value, json};

    use super::*;
    use crate::generate;

    /// A fragment with the operation `list`: `request` and `answer` are the
    /// properties of its body and its answer; `Item` has `item`'s.
    fn fragment(request: Value, answer: Value, item: Value) -> String {
        let schema = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
        let body = |name: &str| json!({"content": {"application/json": {"schema": schema(name)}}});
        let mut answer_body = body("Answer");
        answer_body["description"] = json!("OK");
        json!({
            "openapi": "3.0.3",
            "info": {"title": "Paging fixture", "version": "1"},
            "paths": {"/api/x/list": {"post": {
                "operationId": "list",
                "requestBody": body("Request"),
                "responses": {"200": answer_body},
            }}},
            "components": {"schemas": {
                "Request": {"type": "object", "properties": request},
                "Answer": {"type": "object", "properties": answer},
                "Item": {"type": "object", "properties": item},
            }},
        })
        .to_string()
    }

    /// What the recogniser makes of `text`'s operation `list`, described.
    fn recognised(text: &str) -> Option<(String, Option<String>)> {
        let artifacts = generate(Path::new("paging.json"), text).expect("generates");
        let file = syn::parse_file(&artifacts.client().expect("renders")).expect("parses");
        let paged = paged_operations(&file).remove("list")?;
        Some((paged.describe(), paged.items_method()))
    }

    fn string() -> Value {
        json!({"type": "string", "nullable": true})
    }

    fn integer() -> Value {
        json!({"type": "integer", "format": "int64", "nullable": true})
    }

    fn items() -> Value {
        json!({"type": "array", "items": {"$ref": "#/components/schemas/Item"}})
    }

    #[test]
    fn carried_cursors_are_recognised_with_their_page_size() {
        let cases = [
            (
                "lastEvaluatedKey",
                "lastEvaluatedKey",
                "maxPageSize",
                string(),
            ),
            ("pageToken", "pageToken", "pageSize", string()),
            (
                "lastEvaluatedTimestampMs",
                "pageTimestampMs",
                "maxPageSize",
                integer(),
            ),
        ];
        for (from, to, size, ty) in cases {
            let request = json!({ to: ty, size: integer(), "other": string() });
            let answer = json!({ from: ty, "events": items() });
            let found = recognised(&fragment(request, answer, json!({})));
            let expected = format!("{from} -> {to} (page size {size})");
            assert_eq!(found, Some((expected, Some("list_items".into()))), "{from}");
        }
    }

    #[test]
    fn a_cursor_read_off_the_last_item_is_recognised() {
        let request = json!({"lastTimestampMs": integer(), "lastUuid": string(),
                             "maxResults": integer()});
        let answer = json!({"alerts": items(), "error": {"type": "boolean"}});
        let item = json!({"timestampMs": integer(), "uuid": string()});
        let found = recognised(&fragment(request, answer, item));
        let expected = "alerts[-1].timestampMs -> lastTimestampMs, alerts[-1].uuid -> lastUuid \
                        (page size maxResults)";
        assert_eq!(found, Some((expected.into(), Some("list_items".into()))));
    }

    #[test]
    fn a_carried_cursor_without_one_list_has_no_items_stream() {
        let request = json!({"lastEvaluatedKey": string()});
        let answer = json!({"lastEvaluatedKey": string(), "a": items(), "b": items()});
        let found = recognised(&fragment(request, answer, json!({})));
        assert_eq!(
            found,
            Some(("lastEvaluatedKey -> lastEvaluatedKey".into(), None))
        );
    }

    #[test]
    fn what_does_not_fit_a_pattern_is_not_paged() {
        let last_item_request = json!({"lastTimestampMs": integer(), "lastUuid": string()});
        let cases = [
            // The answer gives no cursor back.
            (
                json!({"lastEvaluatedKey": string()}),
                json!({"a": items()}),
                json!({}),
            ),
            // The cursor changes type between answer and request.
            (
                json!({"lastEvaluatedKey": string()}),
                json!({"lastEvaluatedKey": integer()}),
                json!({}),
            ),
            // The items have no uuid.
            (
                last_item_request.clone(),
                json!({"a": items()}),
                json!({"timestampMs": integer()}),
            ),
            // Two lists: which one's last item?
            (
                last_item_request,
                json!({"a": items(), "b": items()}),
                json!({"timestampMs": integer(), "uuid": string()}),
            ),
        ];
        for (request, answer, item) in cases {
            let text = fragment(request.clone(), answer.clone(), item);
            assert_eq!(recognised(&text), None, "{request} {answer}");
        }
    }

    #[test]
    fn a_required_request_cursor_is_not_paged() {
        // Required and not nullable: a plain `String`, with no "no cursor".
        let request = json!({"pageToken": {"type": "string"}});
        let text = fragment(request, json!({"pageToken": {"type": "string"}}), json!({}));
        let mut doc: Value = serde_json::from_str(&text).expect("JSON");
        doc["components"]["schemas"]["Request"]["required"] = json!(["pageToken"]);
        assert_eq!(recognised(&doc.to_string()), None);
    }

    #[test]
    fn get_policy_alerts_v2_is_paged_by_its_last_alert() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/areas/event.json");
        let text = std::fs::read_to_string(file).expect("reads");
        let found = recognised(&text.replace("\"getPolicyAlertsV2\"", "\"list\""));
        let expected = "policyAlerts[-1].timestampMs -> lastTimestampMs, policyAlerts[-1].uuid \
                        -> lastUuid (page size maxResults)";
        assert_eq!(found, Some((expected.into(), Some("list_items".into()))));
    }
}
