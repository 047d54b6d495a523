//! Generated types that can grow: the API adds fields and enum values, and a
//! release that follows it must not break code built against the last one.
//!
//! Every struct and enum of `types` becomes `#[non_exhaustive]`, so code
//! outside the crate can neither build a struct with a literal nor match an
//! enum without a wildcard arm: a later field or variant cannot break it.
//! Fields stay public, so reading a value is unchanged. In place of the
//! literal, each struct with named fields gets one chained setter per field,
//!
//! ```ignore
//! types::PartnerGetClientSummaryInfoWsRequest::default().with_client_org_uuid("ORG")
//! ```
//!
//! taking the field's value (for an `Option<T>` field, anything `Into<T>`,
//! stored as `Some`). An object schema without properties becomes an empty
//! struct rather than typify's newtype over a JSON map, so that it can gain
//! fields too, and every newtype over an `Option` gets `Default` (`None`):
//! every request can start from `default()`. A new field is then a new
//! setter: additive for users.
//!
//! Why a pass of our own rather than typify's struct builders: those build
//! through a separate `builder::Type` and a fallible `try_into()`, a second
//! type per struct for what a `Default` and a setter already do infallibly
//! here (every field of the fragment is optional). A typify `TypePatch`
//! renames a type or adds derives, but adds neither an attribute such as
//! `#[non_exhaustive]` nor methods. typify's own `types::error` module
//! (`ConversionError`, whose field is private) is left as it is.

use std::collections::BTreeSet;

use quote::format_ident;
use syn::{Fields, Item, ItemStruct, Type};

/// Marks every struct and enum of the `types` module non-exhaustive, adds
/// the setters and the newtypes' `Default`.
pub fn extensible(file: &mut syn::File) {
    for item in &mut file.items {
        let Item::Mod(module) = item else { continue };
        if module.ident != "types" {
            continue;
        }
        let Some((_, items)) = &mut module.content else {
            continue;
        };
        open_objects(items);
        let mut added = Vec::new();
        for item in items.iter_mut() {
            match item {
                Item::Struct(strukt) => {
                    non_exhaustive(&mut strukt.attrs);
                    default_for_newtype(strukt);
                    added.extend(setters(strukt));
                }
                Item::Enum(enumeration) => non_exhaustive(&mut enumeration.attrs),
                _ => {}
            }
        }
        items.extend(added);
    }
}

/// typify makes an object schema that declares no properties a newtype
/// over a JSON map, which cannot grow: when the API gives it properties it
/// becomes a struct, and the map's `.0`, `Deref` and `From` go (upstream's
/// `getClients` request did just that). It becomes an empty struct instead,
/// which decodes any object, ignoring its keys as every other struct
/// ignores undeclared ones, and sends `{}`; the typify impls that name the
/// map go with the newtype.
fn open_objects(items: &mut Vec<Item>) {
    let mut names = BTreeSet::new();
    for item in items.iter_mut() {
        if let Item::Struct(strukt) = item
            && is_json_map_newtype(strukt)
        {
            names.insert(strukt.ident.clone());
            strukt.fields = Fields::Named(syn::parse_quote!({}));
            strukt.semi_token = None;
            strukt.attrs.retain(|a| !a.path().is_ident("serde"));
            strukt.attrs.push(syn::parse_quote!(#[derive(Default)]));
        }
    }
    items.retain(|item| !matches!(item, Item::Impl(block) if names_a_map_of(block, &names)));
}

/// `pub struct Name(pub ::serde_json::Map<String, Value>)`.
fn is_json_map_newtype(strukt: &ItemStruct) -> bool {
    let Fields::Unnamed(fields) = &strukt.fields else {
        return false;
    };
    fields.unnamed.len() == 1
        && fields.unnamed.iter().all(|field| {
            matches!(&field.ty, Type::Path(path)
                if path.path.segments.iter().map(|s| s.ident.to_string()).collect::<Vec<_>>()
                    == ["serde_json", "Map"])
        })
}

/// typify's `Deref` to the map and `From` to and from it, for one of `names`.
fn names_a_map_of(block: &syn::ItemImpl, names: &BTreeSet<syn::Ident>) -> bool {
    let Some((trait_path, _)) = &block.trait_ else {
        return false;
    };
    let mentions = |ty: &Type| matches!(ty, Type::Path(p) if p.path.get_ident().is_some_and(|i| names.contains(i)));
    let Some(last) = trait_path.segments.last() else {
        return false;
    };
    let trait_names_one = match &last.arguments {
        syn::PathArguments::AngleBracketed(args) => args
            .args
            .iter()
            .any(|a| matches!(a, syn::GenericArgument::Type(ty) if mentions(ty))),
        _ => false,
    };
    (mentions(&block.self_ty) && (last.ident == "Deref" || last.ident == "From"))
        || (last.ident == "From" && trait_names_one)
}

fn non_exhaustive(attrs: &mut Vec<syn::Attribute>) {
    if !attrs.iter().any(|a| a.path().is_ident("non_exhaustive")) {
        attrs.push(syn::parse_quote!(#[non_exhaustive]));
    }
}

/// typify gives a newtype over a map or an `Option` no `Default`, though its
/// empty value is valid JSON for the schema; a request of that shape
/// (`getClients` takes one) could not be built empty otherwise.
fn default_for_newtype(strukt: &mut ItemStruct) {
    let Fields::Unnamed(fields) = &strukt.fields else {
        return;
    };
    let [field] = fields.unnamed.iter().collect::<Vec<_>>()[..] else {
        return;
    };
    let empty_is_valid = last_segment(&field.ty).is_some_and(|segment| {
        ["Map", "BTreeMap", "HashMap", "Option"].contains(&segment.ident.to_string().as_str())
    });
    if empty_is_valid && !derives_default(&strukt.attrs) {
        strukt.attrs.push(syn::parse_quote!(#[derive(Default)]));
    }
}

fn derives_default(attrs: &[syn::Attribute]) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .any(|attr| {
            attr.parse_args_with(
                syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
            )
            .is_ok_and(|paths| {
                paths
                    .iter()
                    .any(|p| p.segments.last().is_some_and(|s| s.ident == "Default"))
            })
        })
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(path) => path.path.segments.last(),
        _ => None,
    }
}

/// `impl Type { pub fn with_field(self, value) -> Self }` for each named
/// field; `None` for a struct without named fields.
fn setters(strukt: &ItemStruct) -> Option<Item> {
    let Fields::Named(fields) = &strukt.fields else {
        return None;
    };
    if fields.named.is_empty() {
        return None;
    }
    let idents: Vec<&syn::Ident> = fields
        .named
        .iter()
        .filter_map(|f| f.ident.as_ref())
        .collect();
    let names = setter_names(&idents);
    let methods = fields.named.iter().zip(names).filter_map(|(field, name)| {
        let ident = field.ident.as_ref()?;
        let doc = format!(" Sets `{ident}`, for building this value in a chain.");
        Some(match option_inner(&field.ty) {
            Some(inner) => quote::quote! {
                #[doc = #doc]
                pub fn #name(mut self, value: impl ::std::convert::Into<#inner>) -> Self {
                    self.#ident = ::std::option::Option::Some(value.into());
                    self
                }
            },
            None => {
                let ty = &field.ty;
                quote::quote! {
                    #[doc = #doc]
                    pub fn #name(mut self, value: impl ::std::convert::Into<#ty>) -> Self {
                        self.#ident = value.into();
                        self
                    }
                }
            }
        })
    });
    let name = &strukt.ident;
    // A field keeps its JSON name where two would collide (`_audioDevices`).
    Some(syn::parse_quote! {
        #[allow(non_snake_case)]
        impl #name {
            #(#methods)*
        }
    })
}

/// `with_` and the field's name, without the `_` typify appends to a
/// keyword (`type_` gives `with_type`) unless that would collide.
fn setter_names(idents: &[&syn::Ident]) -> Vec<syn::Ident> {
    let plain: Vec<String> = idents
        .iter()
        .map(|i| i.to_string().trim_start_matches("r#").to_owned())
        .collect();
    let taken: BTreeSet<&str> = plain.iter().map(String::as_str).collect();
    plain
        .iter()
        .map(|name| {
            let trimmed = name.trim_end_matches('_');
            let base = if trimmed != name && !trimmed.is_empty() && !taken.contains(trimmed) {
                trimmed
            } else {
                name
            };
            format_ident!("with_{base}")
        })
        .collect()
}

/// `T` of an `Option<T>` field, however the path to `Option` is written.
fn option_inner(ty: &Type) -> Option<&Type> {
    let segment = last_segment(ty).filter(|s| s.ident == "Option")?;
    let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(inner) if args.args.len() == 1 => Some(inner),
        _ => None,
    }
}

/// Seals the mock helpers' `MockServerExt` (implemented only for httpmock's
/// `MockServer`): it has a method per operation, and a new operation would
/// break any implementation outside the crate. A supertrait users cannot
/// name leaves none, so a new method there is additive too.
pub fn seal_mock_trait(file: &mut syn::File) {
    let mut sealed = false;
    for item in &mut file.items {
        if let Item::Trait(extension) = item
            && extension.ident == "MockServerExt"
        {
            extension
                .supertraits
                .push(syn::parse_quote!(sealed::Sealed));
            sealed = true;
        }
    }
    if sealed {
        file.items.push(syn::parse_quote! {
            mod sealed {
                pub trait Sealed {}
                impl Sealed for ::httpmock::MockServer {}
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extended(file: syn::File) -> String {
        let mut file = file;
        extensible(&mut file);
        prettyplease::unparse(&file)
    }

    #[test]
    fn structs_and_enums_become_non_exhaustive_with_setters() {
        let text = extended(syn::parse_quote! {
            pub mod types {
                #[derive(Clone, Debug, Default)]
                pub struct Request {
                    pub client_org_uuid: ::std::option::Option<::std::string::String>,
                    pub type_: ::std::option::Option<Kind>,
                    pub count: i64,
                }
                pub enum Kind { A, Unknown(String) }
                #[derive(Clone, Debug)]
                pub struct Nullable(pub ::std::option::Option<Request>);
                #[derive(Clone, Debug)]
                pub struct Text(pub ::std::string::String);
            }
            pub struct Client;
        });
        assert_eq!(text.matches("#[non_exhaustive]").count(), 4, "{text}");
        assert!(
            text.contains(
                "pub fn with_client_org_uuid(\n            mut self,\n            value: impl ::std::convert::Into<::std::string::String>,"
            ),
            "{text}"
        );
        assert!(
            text.contains("self.client_org_uuid = ::std::option::Option::Some(value.into());"),
            "{text}"
        );
        assert!(text.contains("pub fn with_type("), "{text}");
        assert!(text.contains("self.count = value.into();"), "{text}");
        assert_eq!(text.matches("#[derive(Default)]").count(), 1, "{text}");
        assert!(
            text.contains("#[derive(Default)]\n    pub struct Nullable"),
            "{text}"
        );
        assert!(text.contains("pub struct Client;"), "{text}");
    }

    #[test]
    fn an_object_without_properties_becomes_an_empty_struct() {
        let text = extended(syn::parse_quote! {
            pub mod types {
                #[derive(::serde::Deserialize, Clone, Debug)]
                #[serde(transparent)]
                pub struct Open(pub ::serde_json::Map<::std::string::String, ::serde_json::Value>);
                impl ::std::ops::Deref for Open {
                    type Target = ::serde_json::Map<::std::string::String, ::serde_json::Value>;
                    fn deref(&self) -> &Self::Target { &self.0 }
                }
                impl ::std::convert::From<Open> for ::serde_json::Map<::std::string::String, ::serde_json::Value> {
                    fn from(value: Open) -> Self { value.0 }
                }
                impl ::std::convert::From<::serde_json::Map<::std::string::String, ::serde_json::Value>> for Open {
                    fn from(value: ::serde_json::Map<::std::string::String, ::serde_json::Value>) -> Self { Self(value) }
                }
                impl ::std::fmt::Display for Open {
                    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result { Ok(()) }
                }
            }
        });
        assert!(
            text.contains(
                "#[derive(::serde::Deserialize, Clone, Debug)]\n    #[derive(Default)]\n    #[non_exhaustive]\n    pub struct Open {}"
            ),
            "{text}"
        );
        assert!(!text.contains("transparent"), "{text}");
        assert!(!text.contains("Deref"), "{text}");
        assert!(!text.contains("From"), "{text}");
        assert!(text.contains("impl ::std::fmt::Display for Open"), "{text}");
    }

    #[test]
    fn the_mock_extension_trait_is_sealed() {
        let mut file: syn::File = syn::parse_quote! {
            pub trait MockServerExt { fn get(&self); }
            impl MockServerExt for ::httpmock::MockServer { fn get(&self) {} }
        };
        seal_mock_trait(&mut file);
        let text = prettyplease::unparse(&file);
        assert!(
            text.contains("pub trait MockServerExt: sealed::Sealed {"),
            "{text}"
        );
        assert!(
            text.contains("impl Sealed for ::httpmock::MockServer {}"),
            "{text}"
        );
    }

    #[test]
    fn a_trimmed_name_that_collides_keeps_its_underscore() {
        let idents = [
            format_ident!("type_"),
            format_ident!("type"),
            format_ident!("ab_"),
        ];
        let refs: Vec<&syn::Ident> = idents.iter().collect();
        let names: Vec<String> = setter_names(&refs).iter().map(|i| i.to_string()).collect();
        assert_eq!(names, ["with_type_", "with_type", "with_ab"]);
    }
}
