//! The `test-util` mock helpers: progenitor's httpmock generator, run on the
//! same checked spec and with the same settings as the client.

use std::path::Path;

use super::settings::generation_settings;
use super::{SpecError, check};

/// The first segment of every path the generated helpers import the
/// client's items from (`crate`, or `crate::camera` for an area): they live
/// in the crate's `mock` module and name types as `types::...`.
const CRATE_PATH: &str = "crate";

/// Formatted httpmock helpers for every operation of the checked spec: a
/// `MockServerExt` trait on `httpmock::MockServer` with one method per
/// operation, and typed `When`/`Then` wrappers in `operations`. `module`:
/// the client's module path in the library.
pub fn generate(file: &Path, parsed: &check::Parsed, module: &str) -> Result<String, SpecError> {
    let failed = |problem: String| {
        SpecError::new(
            file,
            "",
            format!(
                "the mock generator (progenitor's httpmock) cannot handle this spec: {problem}"
            ),
            "build without the `test-util` feature, or report this as a bug in rhombus-partner \
             with the spec attached",
        )
    };
    let outcome = super::panics::catching(|| {
        progenitor_impl::Generator::new(&generation_settings()).httpmock(&parsed.spec, module)
    });
    let tokens = match outcome {
        Ok(Ok(tokens)) => tokens,
        Ok(Err(error)) => return Err(failed(error.to_string())),
        Err(_) => return Err(failed("the generator panicked".to_owned())),
    };
    let mut syntax = syn::parse2::<syn::File>(tokens)
        .map_err(|e| failed(format!("it produced code that does not parse: {e}")))?;
    super::lower::restore_placeholders(&mut syntax, &parsed.lowered.parameter_names);
    repair_mock(&mut syntax);
    query_values(&mut syntax);
    super::extensible::seal_mock_trait(&mut syntax);
    Ok(prettyplease::unparse(&syntax))
}

/// The generated helpers match a query parameter on `value.to_string()`,
/// which does not compile for a list (`&Vec<String>`) or for a generated type
/// without `Display` (a `oneOf`), and is not what the client sends: the
/// client serializes query values (progenitor-client's `QueryParam`), a
/// list as one pair per item. Each such match becomes one match per value
/// the client would send, through a `query_values` helper added to the
/// helpers' `operations` module (only where a match uses it: unused, it
/// would be a warning).
fn query_values(file: &mut syn::File) {
    use syn::visit_mut::VisitMut;
    struct Rewrite(usize);
    impl VisitMut for Rewrite {
        fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
            syn::visit_mut::visit_expr_mut(self, expr);
            let syn::Expr::MethodCall(call) = expr else {
                return;
            };
            let [name, text] = [call.args.first(), call.args.get(1)];
            let (Some(name), Some(syn::Expr::MethodCall(text))) = (name, text) else {
                return;
            };
            let is_value =
                matches!(&*text.receiver, syn::Expr::Path(p) if p.path.is_ident("value"));
            if call.method != "query_param" || text.method != "to_string" || !is_value {
                return;
            }
            let (when, name) = (&call.receiver, name.clone());
            *expr = syn::parse_quote! {
                query_values(&value)
                    .into_iter()
                    .fold(#when, |when, text| when.query_param(#name, text))
            };
            self.0 += 1;
        }
    }
    let mut rewrite = Rewrite(0);
    rewrite.visit_file_mut(file);
    if rewrite.0 == 0 {
        return;
    }
    for item in &mut file.items {
        if let syn::Item::Mod(module) = item
            && module.ident == "operations"
            && let Some((_, items)) = &mut module.content
        {
            items.push(syn::parse_quote! {
                /// The values the client sends a query parameter as: one per
                /// item of a list, a string as it is, any other value as its
                /// JSON text (which is how the client writes numbers and
                /// booleans too).
                fn query_values<T: ::serde::Serialize + ?Sized>(
                    value: &T,
                ) -> ::std::vec::Vec<::std::string::String> {
                    let text = |value: ::serde_json::Value| match value {
                        ::serde_json::Value::String(text) => text,
                        other => other.to_string(),
                    };
                    match ::serde_json::to_value(value).expect("a parameter value is JSON") {
                        ::serde_json::Value::Array(items) => items.into_iter().map(text).collect(),
                        other => ::std::vec![text(other)],
                    }
                }
            });
        }
    }
}

/// Two shapes of the generated helpers that do not compile cleanly: a
/// response of a scalar or `Option` type is taken by value but passed to
/// `json_body_obj`, which takes a reference; and `use crate::*;` is unused
/// (a warning) when no operation names a generated type.
fn repair_mock(file: &mut syn::File) {
    use syn::visit_mut::VisitMut;
    struct Repair;
    impl VisitMut for Repair {
        fn visit_item_use_mut(&mut self, item: &mut syn::ItemUse) {
            if matches!(&item.tree, syn::UseTree::Path(p) if p.ident == CRATE_PATH) {
                item.attrs.push(syn::parse_quote!(#[allow(unused_imports)]));
            }
        }
        fn visit_impl_item_fn_mut(&mut self, function: &mut syn::ImplItemFn) {
            let by_value = function.sig.inputs.iter().any(|input| {
                matches!(input, syn::FnArg::Typed(typed)
                    if matches!(&*typed.pat, syn::Pat::Ident(p) if p.ident == "value")
                        && !matches!(&*typed.ty, syn::Type::Reference(_)))
            });
            if by_value {
                syn::visit_mut::visit_impl_item_fn_mut(&mut BorrowValue, function);
            }
        }
    }
    struct BorrowValue;
    impl VisitMut for BorrowValue {
        fn visit_expr_method_call_mut(&mut self, call: &mut syn::ExprMethodCall) {
            syn::visit_mut::visit_expr_method_call_mut(self, call);
            if call.method == "json_body_obj"
                && let Some(argument) = call.args.first_mut()
                && matches!(argument, syn::Expr::Path(p) if p.path.is_ident("value"))
            {
                *argument = syn::parse_quote!(&value);
            }
        }
    }
    Repair.visit_file_mut(file);
}

#[cfg(test)]
mod tests {
    use super::super::construct;

    /// A list and a `oneOf` type as query values are matched value by value,
    /// through the helper, and no query match is left on `to_string`.
    #[test]
    fn query_values_are_matched_as_the_client_sends_them() {
        let mock = construct("query-and-path-types")
            .mock()
            .expect("mock helpers");
        let compact: String = mock.split_whitespace().collect();
        for name in ["colors", "sizes", "shape", "fallback"] {
            let matched = format!("when.query_param(\"{name}\",text)");
            assert!(compact.contains(&matched), "{name}:\n{mock}");
        }
        assert!(!compact.contains("query_param(\"colors\",value.to_string())"));
        assert_eq!(compact.matches("fnquery_values").count(), 1, "{mock}");
    }

    /// Helpers without a query parameter get no helper function, which
    /// would be an unused-function warning.
    #[test]
    fn no_query_parameter_no_helper() {
        let mock = construct("string-pattern").mock().expect("mock helpers");
        assert!(!mock.contains("query_values"), "{mock}");
    }
}
