//! The API a generated client exposes, as data: its operation methods and
//! the types of its `types` module, read off the final syntax tree (the one
//! the library compiles) and the spec's operations, never off doc comments.
//!
//! The refresh renders it as the API listing (`*.api.txt`) and compares two
//! of them structurally for the semver impact.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::glue::paging::Paged;
use crate::repair::{has_serde_default, serde_rename};
use crate::spec::{self, READ_ONLY_EXTENSION, sanitize};

/// Everything users of one generated client compile against.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Surface {
    /// The operation methods of `Client`, in the generated order.
    pub operations: Vec<Operation>,
    /// The items of the `types` module, in the generated order.
    pub types: Vec<Type>,
    /// What a reader of the listing must know beyond the types: each schema
    /// opened because upstream's `$ref` named nothing, by pointer.
    pub notes: Vec<String>,
}

/// One operation and the method that sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operation {
    /// The generated method (`get_client_summary_info`).
    pub method: String,
    /// Upper case, as sent (`POST`).
    pub http_method: String,
    pub path: String,
    pub operation_id: String,
    /// The method's arguments besides `&self`.
    pub parameters: Vec<Parameter>,
    /// What the method returns, as a reader writes it
    /// (`Result<PartnerGetClientSummaryInfoWsResponse, Error>`).
    pub response: String,
    /// `x-rhombus-read-only`: the client may retry it.
    pub read_only: bool,
    /// `deprecated` in the spec, or `#[deprecated]` on the method.
    pub deprecated: bool,
    /// Its stream methods, when it pages.
    pub paged: Option<Paging>,
}

impl Operation {
    /// `METHOD /path`, as the spec's operations are labelled.
    pub fn label(&self) -> String {
        format!("{} {}", self.http_method, self.path)
    }
}

/// One argument of an operation method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Parameter {
    pub name: String,
    pub ty: String,
}

/// How a paged operation's cursor moves, and its stream methods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Paging {
    /// In JSON names: `lastEvaluatedKey -> lastEvaluatedKey (page size maxResults)`.
    pub cursor: String,
    /// `<method>_pages`, and `<method>_items` when the answer has one list.
    pub streams: Vec<String>,
}

/// One item of the `types` module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Type {
    pub name: String,
    pub kind: Kind,
    /// `#[non_exhaustive]`: fields or variants may be added compatibly.
    pub non_exhaustive: bool,
    /// A struct's named fields.
    pub fields: Vec<Field>,
    /// An enum's variants.
    pub variants: Vec<Variant>,
}

/// What kind of item a type is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Kind {
    /// With named fields.
    Struct,
    /// A tuple struct, with its members' types.
    Newtype(Vec<String>),
    Unit,
    Enum,
    /// `type Name = Target`.
    Alias(String),
}

/// A named field of a struct.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    pub rust: String,
    /// Its name on the wire (the serde rename, else the Rust name).
    pub json: String,
    pub ty: String,
    /// Without a serde default: absent from the JSON, it fails to decode.
    pub required: bool,
}

/// A variant of an enum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Variant {
    pub rust: String,
    /// A unit variant's value on the wire; `None` for a variant with data.
    pub json: Option<String>,
    /// The types a variant with data carries.
    pub data: Vec<String>,
}

impl Variant {
    /// What identifies it across versions: its wire value, else its name.
    pub fn key(&self) -> &str {
        self.json.as_deref().unwrap_or(&self.rust)
    }
}

/// A note per schema the refresh opened for a `$ref` naming nothing.
fn dangling_notes(raw: &Value) -> Vec<String> {
    (spec::objects(raw).into_iter())
        .filter_map(|(pointer, object)| {
            let target = object
                .get(crate::layout::DANGLING_REF_EXTENSION)?
                .as_str()?;
            Some(format!(
                "{pointer}: serde_json::Value, any JSON: upstream's `$ref` to `{target}` names \
                 no schema"
            ))
        })
        .collect()
}

/// The surface of the generated client `file` (the final tree, its methods
/// rewritten), whose spec is `raw` and whose paged operations are `paged`.
pub(crate) fn surface(raw: &Value, file: &syn::File, paged: &BTreeMap<String, Paged>) -> Surface {
    let mut surface = Surface {
        notes: dangling_notes(raw),
        ..Surface::default()
    };
    let by_method: BTreeMap<String, spec::SpecOperation> = spec::operations(raw)
        .filter_map(|op| Some((sanitize(op.id()?, false), op)))
        .collect();
    for item in &file.items {
        match item {
            syn::Item::Impl(block) if is_client_impl(block) => {
                for member in &block.items {
                    let syn::ImplItem::Fn(method) = member else {
                        continue;
                    };
                    let name = method.sig.ident.to_string();
                    // Only the operations: the stream methods sit under theirs.
                    if let Some(op) = by_method.get(&name) {
                        surface
                            .operations
                            .push(operation(op, method, paged.get(&name)));
                    }
                }
            }
            syn::Item::Mod(module) if module.ident == "types" => {
                let items = module.content.iter().flat_map(|(_, items)| items);
                surface.types.extend(items.filter_map(type_of));
            }
            _ => {}
        }
    }
    surface
}

fn is_client_impl(block: &syn::ItemImpl) -> bool {
    block.trait_.is_none()
        && matches!(&*block.self_ty, syn::Type::Path(p) if p.path.is_ident("Client"))
}

fn operation(
    op: &spec::SpecOperation,
    method: &syn::ImplItemFn,
    paged: Option<&Paged>,
) -> Operation {
    let flag = |key: &str| op.operation.get(key).and_then(Value::as_bool) == Some(true);
    let parameters = method
        .sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            syn::FnArg::Typed(arg) => {
                let pattern = &arg.pat;
                Some(Parameter {
                    name: quote::quote!(#pattern).to_string(),
                    ty: type_name(&arg.ty),
                })
            }
            syn::FnArg::Receiver(_) => None,
        })
        .collect();
    let response = match &method.sig.output {
        syn::ReturnType::Type(_, ty) => type_name(ty),
        syn::ReturnType::Default => "()".to_owned(),
    };
    Operation {
        method: method.sig.ident.to_string(),
        http_method: op.method.to_uppercase(),
        path: op.path.to_owned(),
        operation_id: op.id().unwrap_or_default().to_owned(),
        parameters,
        response,
        read_only: flag(READ_ONLY_EXTENSION),
        deprecated: flag("deprecated") || has_attr(&method.attrs, "deprecated"),
        paged: paged.map(|paged| Paging {
            cursor: paged.describe(),
            streams: [Some(paged.pages_method()), paged.items_method()]
                .into_iter()
                .flatten()
                .collect(),
        }),
    }
}

/// A struct, enum or alias of the `types` module; `None` for the rest
/// (impls, the `error` module).
fn type_of(item: &syn::Item) -> Option<Type> {
    let (name, attrs, kind, fields, variants) = match item {
        syn::Item::Struct(item) => {
            let (kind, fields) = match &item.fields {
                syn::Fields::Named(named) => {
                    (Kind::Struct, named.named.iter().filter_map(field).collect())
                }
                syn::Fields::Unnamed(unnamed) => (
                    Kind::Newtype(unnamed.unnamed.iter().map(|f| type_name(&f.ty)).collect()),
                    Vec::new(),
                ),
                syn::Fields::Unit => (Kind::Unit, Vec::new()),
            };
            (&item.ident, &item.attrs, kind, fields, Vec::new())
        }
        syn::Item::Enum(item) => {
            let variants = item.variants.iter().map(variant).collect();
            (&item.ident, &item.attrs, Kind::Enum, Vec::new(), variants)
        }
        syn::Item::Type(alias) => {
            let kind = Kind::Alias(type_name(&alias.ty));
            (&alias.ident, &alias.attrs, kind, Vec::new(), Vec::new())
        }
        _ => return None,
    };
    Some(Type {
        name: name.to_string(),
        kind,
        non_exhaustive: has_attr(attrs, "non_exhaustive"),
        fields,
        variants,
    })
}

fn field(field: &syn::Field) -> Option<Field> {
    let rust = field.ident.as_ref()?.to_string();
    Some(Field {
        json: serde_rename(&field.attrs).unwrap_or_else(|| rust.clone()),
        ty: type_name(&field.ty),
        required: !has_serde_default(&field.attrs),
        rust,
    })
}

fn variant(variant: &syn::Variant) -> Variant {
    let rust = variant.ident.to_string();
    match &variant.fields {
        syn::Fields::Unit => Variant {
            json: Some(serde_rename(&variant.attrs).unwrap_or_else(|| rust.clone())),
            data: Vec::new(),
            rust,
        },
        fields => Variant {
            json: None,
            data: fields.iter().map(|f| type_name(&f.ty)).collect(),
            rust,
        },
    }
}

fn has_attr(attrs: &[syn::Attribute], name: &str) -> bool {
    attrs.iter().any(|a| a.path().is_ident(name))
}

/// A type as a reader writes it: last path segments, generics kept,
/// `::std::option::Option<::std::string::String>` as `Option<String>`.
fn type_name(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(path) => path
            .path
            .segments
            .last()
            .map(|segment| format!("{}{}", segment.ident, generics(&segment.arguments)))
            .unwrap_or_default(),
        syn::Type::Reference(reference) => format!("&{}", type_name(&reference.elem)),
        syn::Type::Slice(slice) => format!("[{}]", type_name(&slice.elem)),
        syn::Type::Tuple(tuple) if tuple.elems.is_empty() => "()".to_owned(),
        other => quote::quote!(#other).to_string(),
    }
}

/// `<A, B>` of a path segment's type arguments; empty without any.
fn generics(arguments: &syn::PathArguments) -> String {
    let syn::PathArguments::AngleBracketed(args) = arguments else {
        return String::new();
    };
    let inner: Vec<String> = args
        .args
        .iter()
        .filter_map(|arg| match arg {
            syn::GenericArgument::Type(ty) => Some(type_name(ty)),
            _ => None,
        })
        .collect();
    if inner.is_empty() {
        String::new()
    } else {
        format!("<{}>", inner.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_surface_has_operations_and_types_from_the_tree_not_the_docs() {
        let artifacts = crate::construct("colliding-parameters");
        let surface = artifacts.surface();
        assert!(!surface.operations.is_empty(), "{surface:#?}");
        for op in &surface.operations {
            assert!(op.path.starts_with('/'), "{op:#?}");
            assert_eq!(op.method, sanitize(&op.operation_id, false));
        }
        // The construct's types are all extensible.
        assert!(
            surface
                .types
                .iter()
                .filter(|t| matches!(t.kind, Kind::Struct | Kind::Enum))
                .all(|t| t.non_exhaustive)
        );
    }

    #[test]
    fn required_fields_are_those_without_a_serde_default() {
        let item: syn::ItemStruct = syn::parse_quote! {
            #[non_exhaustive]
            pub struct A {
                #[serde(rename = "aB")]
                pub a_b: String,
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub c: Option<i64>,
            }
        };
        let ty = type_of(&syn::Item::Struct(item)).unwrap();
        assert!(ty.non_exhaustive);
        assert_eq!(
            ty.fields,
            [
                Field {
                    rust: "a_b".into(),
                    json: "aB".into(),
                    ty: "String".into(),
                    required: true
                },
                Field {
                    rust: "c".into(),
                    json: "c".into(),
                    ty: "Option<i64>".into(),
                    required: false
                },
            ]
        );
    }
}
