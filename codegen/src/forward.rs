//! Forward-compatible string enums: the API adds enum values without notice,
//! and a client built from last month's spec must still decode them.
//!
//! The generator (typify) emits a string enum as unit variants, which fail
//! to decode a value they do not know. This pass adds to every such enum in
//! `types` a last variant
//!
//! ```ignore
//! #[serde(untagged)]
//! Unknown(String),
//! ```
//!
//! which receives any other string and serializes back to it unchanged, so
//! an unknown value survives a round trip instead of being mapped to some
//! other value. The known variants keep their exact wire names, and
//! `FromStr`/`TryFrom<&str>` still accept only the known values, so a
//! request built from a string sends exactly the values the spec lists.
//! Since the new variant holds a `String`, the enum loses `Copy`; `Display`
//! writes the unknown value as received.
//!
//! Where the spec itself lists a value `UNKNOWN` (upstream enums often do),
//! typify already named a variant `Unknown`; the added one is then called
//! `UnknownValue` (or `UnknownValue2`, ... should that be taken too).

use std::collections::BTreeMap;

/// The name of the added variant, where the enum does not already use it.
pub const UNKNOWN_VARIANT: &str = "Unknown";

/// Opens every all-unit-variant enum of the `types` module.
pub fn open_enums(file: &mut syn::File) {
    for item in &mut file.items {
        let syn::Item::Mod(module) = item else {
            continue;
        };
        if module.ident != "types" {
            continue;
        }
        let Some((_, items)) = &mut module.content else {
            continue;
        };
        // Each opened enum, with the name its added variant got.
        let mut opened: BTreeMap<syn::Ident, syn::Ident> = BTreeMap::new();
        for item in items.iter_mut() {
            if let syn::Item::Enum(enumeration) = item
                && is_string_enum(enumeration)
            {
                let unknown = unknown_variant_name(enumeration);
                open(enumeration, &unknown);
                opened.insert(enumeration.ident.clone(), unknown);
            }
        }
        for item in items.iter_mut() {
            if let syn::Item::Impl(block) = item
                && let Some((path, _)) = &block.trait_
                && path.segments.last().is_some_and(|s| s.ident == "Display")
                && let syn::Type::Path(ty) = &*block.self_ty
                && let Some(unknown) = ty.path.get_ident().and_then(|i| opened.get(i))
            {
                extend_display(block, unknown);
            }
        }
    }
}

/// A deserializable enum whose variants are all units: typify's string enum.
fn is_string_enum(enumeration: &syn::ItemEnum) -> bool {
    !enumeration.variants.is_empty()
        && enumeration
            .variants
            .iter()
            .all(|v| matches!(v.fields, syn::Fields::Unit))
        && enumeration.attrs.iter().any(|attr| {
            attr.path().is_ident("derive")
                && attr
                    .parse_args_with(
                        syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
                    )
                    .is_ok_and(|paths| {
                        paths
                            .iter()
                            .any(|p| p.segments.last().is_some_and(|s| s.ident == "Deserialize"))
                    })
        })
        && !enumeration
            .attrs
            .iter()
            .any(|attr| attr.path().is_ident("serde"))
}

/// `Unknown`, unless a variant already has that name.
fn unknown_variant_name(enumeration: &syn::ItemEnum) -> syn::Ident {
    let taken = |name: &str| enumeration.variants.iter().any(|v| v.ident == name);
    let name = std::iter::once(UNKNOWN_VARIANT.to_owned())
        .chain((1..).map(|n| match n {
            1 => format!("{UNKNOWN_VARIANT}Value"),
            n => format!("{UNKNOWN_VARIANT}Value{n}"),
        }))
        .find(|name| !taken(name))
        .unwrap_or_else(|| UNKNOWN_VARIANT.to_owned());
    quote::format_ident!("{name}")
}

fn open(enumeration: &mut syn::ItemEnum, unknown: &syn::Ident) {
    // `Copy` cannot hold a `String`.
    for attr in &mut enumeration.attrs {
        if !attr.path().is_ident("derive") {
            continue;
        }
        if let Ok(paths) = attr.parse_args_with(
            syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
        ) {
            let kept = paths.into_iter().filter(|p| !p.is_ident("Copy"));
            *attr = syn::parse_quote!(#[derive(#(#kept),*)]);
        }
    }
    enumeration.variants.push(syn::parse_quote! {
        /// A value this build of the client does not know, as received. It
        /// is kept, and sent back unchanged if the value is serialized.
        #[serde(untagged)]
        #unknown(::std::string::String)
    });
}

/// typify's `Display` matches every variant; add the new one.
fn extend_display(block: &mut syn::ItemImpl, unknown: &syn::Ident) {
    for member in &mut block.items {
        let syn::ImplItem::Fn(function) = member else {
            continue;
        };
        for statement in &mut function.block.stmts {
            if let syn::Stmt::Expr(syn::Expr::Match(matching), _) = statement {
                matching.arms.push(syn::parse_quote! {
                    Self::#unknown(ref value) => f.write_str(value),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_unknown_value_keeps_its_variant() {
        let mut file: syn::File = syn::parse_quote! {
            pub mod types {
                #[derive(::serde::Deserialize, ::serde::Serialize, Clone, Copy, Debug)]
                pub enum Kind {
                    #[serde(rename = "UNKNOWN")]
                    Unknown,
                    #[serde(rename = "CAMERA")]
                    Camera,
                }
                impl ::std::fmt::Display for Kind {
                    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        match *self {
                            Self::Unknown => f.write_str("UNKNOWN"),
                            Self::Camera => f.write_str("CAMERA"),
                        }
                    }
                }
                #[derive(::serde::Deserialize, Clone, Copy)]
                pub enum Plain { A }
            }
        };
        open_enums(&mut file);
        let text = prettyplease::unparse(&file);
        assert!(text.contains("Unknown,"), "{text}");
        assert!(
            text.contains("UnknownValue(::std::string::String)"),
            "{text}"
        );
        assert!(
            text.contains("Self::UnknownValue(ref value) => f.write_str(value)"),
            "{text}"
        );
        assert!(text.contains("Unknown(::std::string::String)"), "{text}");
        assert!(!text.contains("Copy"), "{text}");
    }
}
