//! What the reliability layer needs to know about the spec, generated next to
//! the client so that no list of operations or types is kept by hand:
//!
//! - `operations::ALL`: every operation with its `operationId`, the name of
//!   its generated method, and whether it is read-only (the
//!   `x-rhombus-read-only` vendor extension; absent means state-changing, the
//!   safe default). The retry policy reads it.
//! - an `ApiStatus` impl for every schema with `error`, `errorMsg`,
//!   `warningMsg` or `responseStatus` properties (found by walking the
//!   schemas), and an empty one for every other response type, so that the
//!   checked methods can turn `"error": true` into an error.
//! - `Checked`: the same methods as `Client`, returning the crate's `Error`.
//!
//! The generated code names the library as `::rhombus_partner`, which the
//! crate makes resolve to itself, so that the same output also compiles in a
//! test crate built from a fixture fragment.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use super::check::METHODS;
use super::{SpecError, pointer_segment};

/// The vendor extension that marks an operation as safe to repeat.
pub const READ_ONLY_EXTENSION: &str = "x-rhombus-read-only";

/// The response properties that report how a call went, by JSON name.
const STATUS_PROPERTIES: [&str; 4] = ["error", "errorMsg", "warningMsg", "responseStatus"];

/// The tokens to append to the generated client.
pub fn tokens(file: &Path, raw: &Value, generated: &syn::File) -> Result<TokenStream, SpecError> {
    let methods = client_methods(generated);
    let types = type_items(generated);

    let operations = operations(file, raw, &methods)?;
    let status_impls = status_impls(file, raw, &types, &methods)?;
    let checked = checked_methods(&methods, &operations);

    let decoders = operations.iter().filter_map(|op| {
        let signature = methods.get(&op.method)?;
        let value = generic_args(return_type(signature)?, "Result")?.first().cloned()?;
        let body = generic_args(&value, "ResponseValue")?.first().cloned()?;
        if !matches!(&body, syn::Type::Path(p) if p.path.segments.first().is_some_and(|s| s.ident == "types")) {
            return None;
        }
        let id = &op.id;
        Some(quote! {
            (#id, ::serde_json::from_slice::<super::#body>(bytes).map(|value| {
                // What decodes must encode and decode again.
                let again = ::serde_json::to_vec(&value).expect("a decoded value serializes");
                ::serde_json::from_slice::<super::#body>(&again)
                    .expect("an encoded value decodes");
            }))
        })
    });
    let decoders: Vec<TokenStream> = decoders.collect();
    // Without a JSON response type there is nothing to decode `bytes` as.
    let unused = decoders.is_empty().then(|| quote!(let _ = bytes;));
    let table = operations.iter().map(|op| {
        let (id, method, read_only) = (&op.id, &op.method, op.read_only);
        quote! {
            ::rhombus_partner::Operation { id: #id, method: #method, read_only: #read_only }
        }
    });
    Ok(quote! {
        /// Facts about each operation, generated from the spec.
        pub mod operations {
            /// Every operation of the spec, in the spec's order.
            pub const ALL: &[::rhombus_partner::Operation] = &[#(#table),*];

            /// Decodes `bytes` as each operation's response type (and, when
            /// that works, encodes and decodes the value again): for the
            /// property tests, which must see every response type.
            #[doc(hidden)]
            pub fn decode_responses(
                bytes: &[u8],
            ) -> ::std::vec::Vec<(&'static str, ::std::result::Result<(), ::serde_json::Error>)> {
                #unused
                ::std::vec![#(#decoders),*]
            }
        }
        #status_impls
        #checked
    })
}

/// One operation of the spec.
struct Operation {
    id: String,
    method: String,
    read_only: bool,
}

/// The generated `pub async fn`s of `impl Client`, by name.
fn client_methods(generated: &syn::File) -> BTreeMap<String, syn::Signature> {
    let mut methods = BTreeMap::new();
    for item in &generated.items {
        let syn::Item::Impl(block) = item else {
            continue;
        };
        if block.trait_.is_some() || !is_path_named(&block.self_ty, "Client") {
            continue;
        }
        for member in &block.items {
            if let syn::ImplItem::Fn(function) = member
                && function.sig.asyncness.is_some()
                && matches!(function.vis, syn::Visibility::Public(_))
            {
                methods.insert(function.sig.ident.to_string(), function.sig.clone());
            }
        }
    }
    methods
}

/// The structs of the generated `types` module, by name.
fn type_items(generated: &syn::File) -> BTreeMap<String, syn::ItemStruct> {
    let mut types = BTreeMap::new();
    for item in &generated.items {
        if let syn::Item::Mod(module) = item
            && module.ident == "types"
            && let Some((_, items)) = &module.content
        {
            for item in items {
                if let syn::Item::Struct(structure) = item {
                    types.insert(structure.ident.to_string(), structure.clone());
                }
            }
        }
    }
    types
}

fn is_path_named(ty: &syn::Type, name: &str) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == name))
}

fn operations(
    file: &Path,
    raw: &Value,
    methods: &BTreeMap<String, syn::Signature>,
) -> Result<Vec<Operation>, SpecError> {
    let mut operations = Vec::new();
    let paths = raw.get("paths").and_then(Value::as_object);
    for (path, item) in paths.into_iter().flatten() {
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let pointer = format!("/paths/{}/{method}", pointer_segment(path));
            // `check` made sure every operation has an id.
            let id = operation
                .get("operationId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let read_only = match operation.get(READ_ONLY_EXTENSION) {
                None => false,
                Some(Value::Bool(flag)) => *flag,
                Some(other) => {
                    return Err(SpecError::new(
                        file,
                        format!("{pointer}/{READ_ONLY_EXTENSION}"),
                        format!("`{READ_ONLY_EXTENSION}` is {other}, not true or false"),
                        "set it to true for operations that change nothing (they may be retried \
                         after a 5xx or a lost connection), false or nothing for the others",
                    ));
                }
            };
            let generated = sanitize(&id, false);
            if !methods.contains_key(&generated) {
                return Err(SpecError::new(
                    file,
                    pointer,
                    format!("the generator did not name the method of `{id}` `{generated}`"),
                    "report this as a bug in rhombus-partner (src/codegen/reliability.rs \
                     mirrors the generator's naming), with the spec attached",
                ));
            }
            operations.push(Operation {
                id,
                method: generated,
                read_only,
            });
        }
    }
    Ok(operations)
}

/// `ApiStatus` for the schemas that carry the status properties, and an
/// empty impl for every other type a method returns.
fn status_impls(
    file: &Path,
    raw: &Value,
    types: &BTreeMap<String, syn::ItemStruct>,
    methods: &BTreeMap<String, syn::Signature>,
) -> Result<TokenStream, SpecError> {
    let mut out = TokenStream::new();
    let mut done = BTreeSet::new();
    let schemas = raw
        .pointer("/components/schemas")
        .and_then(Value::as_object);
    for (name, schema) in schemas.into_iter().flatten() {
        let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
            continue;
        };
        if !STATUS_PROPERTIES
            .iter()
            .any(|p| properties.contains_key(*p))
        {
            continue;
        }
        let rust_name = sanitize(name, true);
        let Some(structure) = types.get(&rust_name) else {
            return Err(SpecError::new(
                file,
                format!("/components/schemas/{}", pointer_segment(name)),
                format!("the generator did not name this schema's type `{rust_name}`"),
                "report this as a bug in rhombus-partner (src/codegen/reliability.rs mirrors \
                 the generator's naming), with the spec attached",
            ));
        };
        out.extend(status_impl(structure));
        done.insert(rust_name);
    }
    // Every other response type reports nothing.
    for signature in methods.values() {
        if let Some(name) = response_type_name(signature)
            && done.insert(name.clone())
        {
            let ident = format_ident!("{}", name);
            out.extend(quote! { impl ::rhombus_partner::ApiStatus for types::#ident {} });
        }
    }
    Ok(out)
}

/// The impl for one struct, reading whichever status fields it has.
fn status_impl(structure: &syn::ItemStruct) -> TokenStream {
    let ident = &structure.ident;
    let field = |json: &str| {
        structure
            .fields
            .iter()
            .find(|f| serde_name(f).as_deref() == Some(json))
    };
    let mut methods = TokenStream::new();
    if let Some(f) = field("error")
        && let Some((optional, "bool")) = field_kind(&f.ty)
    {
        let name = f.ident.as_ref();
        methods.extend(if optional {
            quote! { fn api_error(&self) -> ::std::option::Option<bool> { self.#name } }
        } else {
            quote! { fn api_error(&self) -> ::std::option::Option<bool> { Some(self.#name) } }
        });
    }
    for (json, method) in [
        ("errorMsg", quote!(error_message)),
        ("warningMsg", quote!(warning_message)),
    ] {
        if let Some(f) = field(json)
            && let Some((optional, "String")) = field_kind(&f.ty)
        {
            let name = f.ident.as_ref();
            methods.extend(if optional {
                quote! { fn #method(&self) -> ::std::option::Option<&str> { self.#name.as_deref() } }
            } else {
                quote! { fn #method(&self) -> ::std::option::Option<&str> { Some(self.#name.as_str()) } }
            });
        }
    }
    if let Some(f) = field("responseStatus") {
        let name = f.ident.as_ref();
        // Whatever its type (a string, an enum, an object), its JSON text.
        methods.extend(quote! {
            fn response_status(&self) -> ::std::option::Option<::std::string::String> {
                ::rhombus_partner::checked::json_text(&self.#name)
            }
        });
    }
    quote! {
        impl ::rhombus_partner::ApiStatus for types::#ident { #methods }
    }
}

/// The field's JSON name: its `serde(rename)`, else its identifier.
fn serde_name(field: &syn::Field) -> Option<String> {
    super::repair::serde_rename(&field.attrs)
        .or_else(|| field.ident.as_ref().map(|i| i.to_string()))
}

/// `(is Option<_>, last segment of the inner type)` for `bool` and `String`.
fn field_kind(ty: &syn::Type) -> Option<(bool, &'static str)> {
    let last = |ty: &syn::Type| match ty {
        syn::Type::Path(p) => p.path.segments.last().cloned(),
        _ => None,
    };
    let segment = last(ty)?;
    let (optional, inner) = if segment.ident == "Option" {
        let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
            return None;
        };
        let Some(syn::GenericArgument::Type(inner)) = args.args.first() else {
            return None;
        };
        (true, last(inner)?)
    } else {
        (false, segment)
    };
    match inner.ident.to_string().as_str() {
        "bool" => Some((optional, "bool")),
        "String" => Some((optional, "String")),
        _ => None,
    }
}

/// `T` of a method returning `Result<ResponseValue<types::T>, _>`.
fn response_type_name(signature: &syn::Signature) -> Option<String> {
    let value = generic_args(return_type(signature)?, "Result")?
        .first()
        .cloned()?;
    let inner = generic_args(&value, "ResponseValue")?.first().cloned()?;
    let syn::Type::Path(path) = inner else {
        return None;
    };
    let segments: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    match segments.as_slice() {
        [module, name] if module == "types" => Some(name.clone()),
        _ => None,
    }
}

fn return_type(signature: &syn::Signature) -> Option<&syn::Type> {
    match &signature.output {
        syn::ReturnType::Type(_, ty) => Some(ty),
        syn::ReturnType::Default => None,
    }
}

fn generic_args(ty: &syn::Type, name: &str) -> Option<Vec<syn::Type>> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let segment = path.path.segments.last()?;
    if segment.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    Some(
        args.args
            .iter()
            .filter_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t.clone()),
                _ => None,
            })
            .collect(),
    )
}

/// `Checked`: every generated method again, with the crate's error type,
/// `"error": true` turned into an error, and warnings logged.
fn checked_methods(
    methods: &BTreeMap<String, syn::Signature>,
    operations: &[Operation],
) -> TokenStream {
    let wrappers = operations.iter().filter_map(|op| {
        let signature = methods.get(&op.method)?;
        let value = generic_args(return_type(signature)?, "Result")?
            .first()
            .cloned()?;
        let name = &signature.ident;
        let generics = &signature.generics;
        let inputs = &signature.inputs;
        let arguments = signature.inputs.iter().filter_map(|input| match input {
            syn::FnArg::Typed(typed) => Some(typed.pat.clone()),
            syn::FnArg::Receiver(_) => None,
        });
        let id = &op.id;
        let doc = format!(
            "`{id}`: like [`Client::{name}`], but a `200` with `\"error\": true` is \
             `rhombus_partner::Error::Api`, and every failure is a `rhombus_partner::Error`."
        );
        Some(quote! {
            #[doc = #doc]
            pub async fn #name #generics (#inputs) -> ::std::result::Result<#value, ::rhombus_partner::Error> {
                ::rhombus_partner::checked::finish(
                    #id,
                    self.client.#name(#(#arguments),*),
                )
                .await
            }
        })
    });
    quote! {
        /// The operations of [`Client`], checked: each returns the crate's
        /// one error type, treats a `200` with `"error": true` as an error and
        /// logs a `warningMsg`. Get one with [`Client::checked`].
        #[derive(Clone, Copy, Debug)]
        pub struct Checked<'c> {
            client: &'c Client,
        }

        impl Client {
            /// The checked form of every operation; see [`Checked`].
            pub fn checked(&self) -> Checked<'_> {
                Checked { client: self }
            }
        }

        impl<'c> Checked<'c> {
            /// The client the calls go through.
            pub fn client(&self) -> &'c Client {
                self.client
            }

            #(#wrappers)*
        }
    }
}

/// The generator's identifier for `input` (progenitor and typify both apply
/// this rule): apostrophes dropped, other non-identifier characters turned
/// into word breaks, then snake or Pascal case, then made an identifier.
pub fn sanitize(input: &str, pascal: bool) -> String {
    use heck::{ToPascalCase, ToSnakeCase};
    let cleaned = input
        .replace('\'', "")
        .replace(|c: char| !(c.is_alphanumeric() || c == '_'), "-");
    let convert = |s: &str| {
        if pascal {
            s.to_pascal_case()
        } else {
            s.to_snake_case()
        }
    };
    let mut out = convert(&cleaned);
    match out.chars().next() {
        None => out = convert("x"),
        Some(c) if c.is_alphabetic() || c == '_' => {}
        Some(_) => out = format!("{}{out}", if pascal { "X" } else { "_" }),
    }
    if syn::parse_str::<syn::Ident>(&out).is_err() {
        out.push('_');
    }
    out
}
