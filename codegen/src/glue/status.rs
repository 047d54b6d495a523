//! An `ApiStatus` impl for every schema with `error`, `errorMsg`,
//! `warningMsg` or `responseStatus` properties (found by walking the
//! schemas), and an empty one for every other response type, so that the
//! checked methods can turn `"error": true` into an error.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use super::syntax::response_type_name;
use crate::spec::{self, sanitize};
use crate::{SpecError, repair};

/// The response properties that report how a call went, by JSON name.
const STATUS_PROPERTIES: [&str; 4] = ["error", "errorMsg", "warningMsg", "responseStatus"];

/// `ApiStatus` for the schemas that carry the status properties, and an
/// empty impl for every other type a method returns.
pub(super) fn status_impls(
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
                spec::schema_pointer(name),
                format!("the generator did not name this schema's type `{rust_name}`"),
                "report this as a bug in rhombus-partner (codegen/src/spec/naming.rs mirrors \
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
                ::rhombus_partner::__private::json_text(&self.#name)
            }
        });
    }
    quote! {
        impl ::rhombus_partner::ApiStatus for types::#ident { #methods }
    }
}

/// The field's JSON name: its `serde(rename)`, else its identifier.
fn serde_name(field: &syn::Field) -> Option<String> {
    repair::serde_rename(&field.attrs).or_else(|| field.ident.as_ref().map(|i| i.to_string()))
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
