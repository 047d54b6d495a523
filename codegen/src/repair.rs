//! Repairs to the generated syntax tree for shapes the generator accepts but
//! emits code for that does not compile, keeping every JSON field.

use std::collections::BTreeMap;

use syn::{Fields, Ident, Item, ItemStruct};

/// Applies every repair to the generated file.
pub fn repair(file: &mut syn::File) {
    for item in &mut file.items {
        if let Item::Mod(module) = item
            && module.ident == "types"
            && let Some((_, items)) = &mut module.content
        {
            for item in items {
                if let Item::Struct(strukt) = item {
                    distinct_field_names(strukt);
                }
            }
        }
    }
}

/// Two JSON properties can map to one Rust name: `audioDevices` and
/// `_audioDevices` both become `audio_devices`, `ownedBy` and `owned_by`
/// both `owned_by`. The field whose JSON name is its Rust name keeps it
/// (else the first one without a leading underscore); each other one is
/// named exactly as its JSON property, which is a valid Rust identifier
/// and says which property it is. Serde renames are untouched, so the
/// wire format does not change.
fn distinct_field_names(strukt: &mut ItemStruct) {
    let Fields::Named(fields) = &mut strukt.fields else {
        return;
    };
    let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, field) in fields.named.iter().enumerate() {
        if let Some(ident) = &field.ident {
            by_name.entry(ident.to_string()).or_default().push(index);
        }
    }
    let mut renamed = false;
    for (name, indices) in by_name.into_iter().filter(|(_, i)| i.len() > 1) {
        let json_names: Vec<String> = indices
            .iter()
            .map(|&i| serde_rename(&fields.named[i].attrs).unwrap_or_else(|| name.clone()))
            .collect();
        let keeper = json_names
            .iter()
            .position(|json| *json == name)
            .or_else(|| json_names.iter().position(|json| !json.starts_with('_')))
            .unwrap_or(0);
        for (position, &index) in indices.iter().enumerate() {
            if position == keeper {
                continue;
            }
            let json = &json_names[position];
            let new_name = syn::parse_str::<Ident>(json)
                .ok()
                .filter(|_| *json != name)
                .unwrap_or_else(|| {
                    Ident::new(
                        &format!("{name}_{position}"),
                        proc_macro2::Span::call_site(),
                    )
                });
            fields.named[index].ident = Some(new_name);
            renamed = true;
        }
    }
    if renamed {
        strukt
            .attrs
            .push(syn::parse_quote!(#[allow(non_snake_case)]));
    }
}

/// The JSON name in `#[serde(rename = "...")]`, if the item has one.
pub fn serde_rename(attrs: &[syn::Attribute]) -> Option<String> {
    (serde_keys(attrs).into_iter()).find_map(|(key, value)| (key == "rename").then_some(value)?)
}

/// Whether `#[serde(default ...)]` is among `attrs`.
#[cfg(feature = "surface")]
pub fn has_serde_default(attrs: &[syn::Attribute]) -> bool {
    serde_keys(attrs).iter().any(|(key, _)| key == "default")
}

/// The keys of the item's `#[serde(...)]` attributes, each with its string
/// value (`rename = "x"`), if it has one.
fn serde_keys(attrs: &[syn::Attribute]) -> Vec<(String, Option<String>)> {
    let mut keys = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            let key = meta.path.get_ident().map(ToString::to_string);
            let mut value = None;
            // Each key's value is read (or skipped), so the next key parses.
            if meta.input.peek(syn::Token![=]) {
                if let syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(text),
                    ..
                }) = meta.value()?.parse()?
                {
                    value = Some(text.value());
                }
            } else if meta.input.peek(syn::token::Paren) {
                let content;
                syn::parenthesized!(content in meta.input);
                let _: proc_macro2::TokenStream = content.parse()?;
            }
            keys.extend(key.map(|key| (key, value)));
            Ok(())
        });
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn repaired(tokens: proc_macro2::TokenStream) -> String {
        let mut file: syn::File = syn::parse2(tokens).unwrap();
        repair(&mut file);
        prettyplease::unparse(&file)
    }

    #[test]
    fn colliding_fields_get_their_json_names() {
        let out = repaired(quote! {
            pub mod types {
                pub struct A {
                    #[serde(rename = "_audioDevices", skip_serializing_if = "Option::is_none")]
                    pub audio_devices: Option<Vec<String>>,
                    #[serde(rename = "audioDevices")]
                    pub audio_devices: Option<Vec<String>>,
                }
                pub struct B {
                    #[serde(rename = "ownedBy")]
                    pub owned_by: Option<String>,
                    pub owned_by: Option<String>,
                }
                pub struct Untouched { pub a: i32 }
            }
        });
        assert!(
            out.contains("pub _audioDevices: Option<Vec<String>>"),
            "{out}"
        );
        assert!(out.contains("pub ownedBy: Option<String>"), "{out}");
        assert!(out.contains("pub owned_by: Option<String>"), "{out}");
        assert!(out.contains("rename = \"_audioDevices\""), "{out}");
        assert_eq!(out.matches("#[allow(non_snake_case)]").count(), 2, "{out}");
    }
}
