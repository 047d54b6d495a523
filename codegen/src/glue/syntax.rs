//! Reading the generated syntax tree: the client's methods and the response
//! types.

use std::collections::{BTreeMap, BTreeSet};

/// The generated `pub async fn`s of `impl Client`, by name.
pub(crate) fn client_methods(generated: &syn::File) -> BTreeMap<String, syn::Signature> {
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

/// The items of the generated `types` module.
fn type_module_items(generated: &syn::File) -> impl Iterator<Item = &syn::Item> {
    generated
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Mod(module) if module.ident == "types" => module.content.as_ref(),
            _ => None,
        })
        .flat_map(|(_, items)| items)
}

/// The structs of the generated `types` module, by name.
pub(crate) fn type_items(generated: &syn::File) -> BTreeMap<String, syn::ItemStruct> {
    type_module_items(generated)
        .filter_map(|item| match item {
            syn::Item::Struct(structure) => Some((structure.ident.to_string(), structure.clone())),
            _ => None,
        })
        .collect()
}

/// The types of the generated `types` module with a `Display` impl.
pub(crate) fn displayed_types(generated: &syn::File) -> BTreeSet<String> {
    type_module_items(generated)
        .filter_map(|item| {
            let syn::Item::Impl(block) = item else {
                return None;
            };
            let (path, _) = block.trait_.as_ref()?;
            let syn::Type::Path(ty) = &*block.self_ty else {
                return None;
            };
            let name = ty.path.get_ident()?;
            path.segments
                .last()
                .is_some_and(|s| s.ident == "Display")
                .then(|| name.to_string())
        })
        .collect()
}

pub(crate) fn is_path_named(ty: &syn::Type, name: &str) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == name))
}

/// `T` of a method returning `Result<ResponseValue<types::T>, _>` (as
/// progenitor writes it) or `Result<types::T, _>` (as the library's
/// rewritten method does).
pub(crate) fn response_type_name(signature: &syn::Signature) -> Option<String> {
    let value = generic_args(return_type(signature)?, "Result")?
        .first()
        .cloned()?;
    match generic_args(&value, "ResponseValue") {
        Some(inner) => generated_type_name(inner.first()?),
        None => generated_type_name(&value),
    }
}

/// `T` of `types::T`: the name of a type the generator made.
pub(crate) fn generated_type_name(ty: &syn::Type) -> Option<String> {
    let syn::Type::Path(path) = ty else {
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

pub(crate) fn return_type(signature: &syn::Signature) -> Option<&syn::Type> {
    match &signature.output {
        syn::ReturnType::Type(_, ty) => Some(ty),
        syn::ReturnType::Default => None,
    }
}

pub(crate) fn generic_args(ty: &syn::Type, name: &str) -> Option<Vec<syn::Type>> {
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
