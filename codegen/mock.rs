//! The `test-util` mock helpers: progenitor's httpmock generator, run on the
//! same checked spec and with the same settings as the client.

use std::path::Path;

use super::{SpecError, check, generation_settings};

/// The path the generated helpers import the client's items from: they live
/// in the crate's `mock` module and name types as `types::...`.
const CRATE_PATH: &str = "crate";

/// Reads and checks `file` and generates formatted httpmock helpers for
/// every operation: a `MockServerExt` trait on `httpmock::MockServer` with
/// one method per operation, and typed `When`/`Then` wrappers in
/// `operations`.
pub fn generate_mock_file(file: &Path) -> Result<String, SpecError> {
    generate_mock(file, &super::read_spec(file)?)
}

/// Checks `text` (the contents of `file`) and generates the mock helpers.
pub fn generate_mock(file: &Path, text: &str) -> Result<String, SpecError> {
    let check::Parsed { lowered, spec, .. } = check::parse(file, text)?;
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
        progenitor_impl::Generator::new(&generation_settings()).httpmock(&spec, CRATE_PATH)
    });
    let tokens = match outcome {
        Ok(Ok(tokens)) => tokens,
        Ok(Err(error)) => return Err(failed(error.to_string())),
        Err(_) => return Err(failed("the generator panicked".to_owned())),
    };
    let mut syntax = syn::parse2::<syn::File>(tokens)
        .map_err(|e| failed(format!("it produced code that does not parse: {e}")))?;
    super::lower::restore_parameter_names(&mut syntax, &lowered.parameter_names);
    repair_mock(&mut syntax);
    super::extensible::seal_mock_trait(&mut syntax);
    Ok(prettyplease::unparse(&syntax))
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
