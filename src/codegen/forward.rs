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

/// The name of the added variant.
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
        let mut opened = Vec::new();
        for item in items.iter_mut() {
            if let syn::Item::Enum(enumeration) = item
                && is_string_enum(enumeration)
            {
                open(enumeration);
                opened.push(enumeration.ident.clone());
            }
        }
        for item in items.iter_mut() {
            if let syn::Item::Impl(block) = item
                && let Some((path, _)) = &block.trait_
                && path.segments.last().is_some_and(|s| s.ident == "Display")
                && let syn::Type::Path(ty) = &*block.self_ty
                && ty.path.get_ident().is_some_and(|i| opened.contains(i))
            {
                extend_display(block);
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

fn open(enumeration: &mut syn::ItemEnum) {
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
    let unknown = quote::format_ident!("{}", UNKNOWN_VARIANT);
    enumeration.variants.push(syn::parse_quote! {
        /// A value this build of the client does not know, as received. It
        /// is kept, and sent back unchanged if the value is serialized.
        #[serde(untagged)]
        #unknown(::std::string::String)
    });
}

/// typify's `Display` matches every variant; add the new one.
fn extend_display(block: &mut syn::ItemImpl) {
    let unknown = quote::format_ident!("{}", UNKNOWN_VARIANT);
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
