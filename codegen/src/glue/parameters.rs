//! Path and header parameters go out as text: the generated method calls
//! `to_string` on them (progenitor does, in the client and in the mock
//! helpers alike), which needs `Display`. A generated type without it (a
//! `oneOf` with an object branch, say) would fail in rustc, far from the
//! spec; it is refused here instead, naming the parameter.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use super::syntax::{generated_type_name, generic_args};
use crate::SpecError;
use crate::spec::{self, sanitize};

/// Every path or header parameter has a type the generated code can write
/// as text: not a generated one (a string, a number, a boolean), or a
/// generated one with a `Display` impl (named in `displayed`).
pub(super) fn check_texted(
    file: &Path,
    raw: &Value,
    methods: &BTreeMap<String, syn::Signature>,
    displayed: &BTreeSet<String>,
) -> Result<(), SpecError> {
    for op in spec::operations(raw) {
        let Some(signature) = op.id().and_then(|id| methods.get(&sanitize(id, false))) else {
            continue;
        };
        // The operation's own parameters first: one of them overrides a
        // path item's with the same name.
        let holders = [(op.operation, op.pointer()), (op.item, op.item_pointer())];
        for (holder, at) in holders {
            let listed = holder.get("parameters").and_then(Value::as_array);
            for (index, parameter) in listed.into_iter().flatten().enumerate() {
                let parameter = spec::resolve(raw, parameter);
                let text = |key| {
                    parameter
                        .get(key)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                };
                let (location, name) = (text("in"), text("name"));
                if !matches!(location, "path" | "header") {
                    continue;
                }
                let Some(type_name) = generated_type(signature, &sanitize(name, false)) else {
                    continue;
                };
                if !displayed.contains(&type_name) {
                    return Err(SpecError::new(
                        file,
                        format!("{at}/parameters/{index}"),
                        format!(
                            "the {location} parameter `{name}` has the generated type \
                             `{type_name}`, which cannot be written as text (it has no `Display`)"
                        ),
                        "give it the schema of a string, number, boolean or string enum, or a \
                         `oneOf` of those only",
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The generated type (`types::X`, behind `&` or `Option`) of the argument
/// named `argument`; `None` for any other type, or no such argument.
fn generated_type(signature: &syn::Signature, argument: &str) -> Option<String> {
    let mut ty = signature.inputs.iter().find_map(|input| match input {
        syn::FnArg::Typed(typed)
            if matches!(&*typed.pat, syn::Pat::Ident(p) if p.ident == argument) =>
        {
            Some((*typed.ty).clone())
        }
        _ => None,
    })?;
    loop {
        ty = match &ty {
            syn::Type::Reference(reference) => (*reference.elem).clone(),
            other => match generic_args(other, "Option") {
                Some(args) => args.into_iter().next()?,
                None => break,
            },
        };
    }
    generated_type_name(&ty)
}

#[cfg(test)]
mod tests {
    use crate::{construct, construct_file, generate, read_spec};

    /// A `oneOf` path parameter with `Display` (two string branches) builds;
    /// one with an object branch is refused at the parameter.
    #[test]
    fn only_a_path_parameter_without_display_is_refused() {
        let client = construct("query-and-path-types").client().expect("renders");
        assert!(client.contains("badge: &'a types::BadgeKey"), "{client}");
        let file = construct_file("path-parameter-without-display");
        let text = read_spec(&file).expect("reads");
        let Err(error) = generate(&file, &text) else {
            panic!("a path parameter without `Display` was accepted");
        };
        assert_eq!(error.pointer, "/paths/~1badges~1{badge}/get/parameters/0");
        assert!(error.problem.contains("`BadgeOrQuery`"), "{error}");
    }
}
