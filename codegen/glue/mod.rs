//! What the library's runtime needs from the spec, generated next to the
//! client so that no list of operations or types is kept by hand. One
//! module per thing generated:
//!
//! - [`operations`]: `operations::ALL`, each operation's id, method name and
//!   read-only flag, which the retry policy reads;
//! - [`status`]: `ApiStatus` impls, so `"error": true` becomes an error;
//! - [`checked`]: `Checked`, the methods again with the crate's `Error`;
//! - [`paging`]: `<method>_pages` / `<method>_items`, the paged operations
//!   as streams;
//! - here: the `ClientHooks` impl, calling the library's hidden entry point
//!   `rhombus_partner::__private`, and, for tests only, `decode_responses`.
//!
//! The generated code names the library as `::rhombus_partner`, which the
//! crate makes resolve to itself, so that the same output compiles in the
//! library and in a test crate built from a fixture fragment, with the same
//! glue and no stand-ins.

mod checked;
mod operations;
pub(crate) mod paging;
mod parameters;
mod status;
mod syntax;

use std::collections::BTreeMap;
use std::path::Path;

use proc_macro2::TokenStream;
use quote::quote;
use serde_json::Value;

use self::operations::Operation;
use self::syntax::{client_methods, displayed_types, generic_args, return_type, type_items};
use super::SpecError;

/// The glue for one generated client, in the two forms that get built.
pub struct Glue {
    /// What the library appends to the client.
    pub library: TokenStream,
    /// The same, with `operations::decode_responses`, which only tests
    /// compile.
    pub with_test_helpers: TokenStream,
}

/// The glue to append to the generated client: worked out once, emitted
/// with and without the test helpers. `org_scoped`: every call acts inside
/// a client organization (an area of the client-org API).
pub fn glue(
    file: &Path,
    raw: &Value,
    generated: &syn::File,
    org_scoped: bool,
) -> Result<Glue, SpecError> {
    let methods = client_methods(generated);
    let types = type_items(generated);

    let operations = operations::operations(file, raw, &methods)?;
    parameters::check_texted(file, raw, &methods, &displayed_types(generated))?;
    let status_impls = status::status_impls(file, raw, &types, &methods)?;
    let checked = checked::checked_methods(&methods, &operations);
    let paging = paging::paging_methods(&paging::paged_operations(generated), &operations);
    let table = operations::table(&operations);
    let hooks = hooks(org_scoped);
    let decoders = decoders(&methods, &operations);
    let emit = |test_helpers: Option<&TokenStream>| {
        quote! {
            /// Facts about each operation, generated from the spec.
            pub mod operations {
                #table
                #test_helpers
            }
            #hooks
            #status_impls
            #checked
            #paging
        }
    };
    Ok(Glue {
        library: emit(None),
        with_test_helpers: emit(Some(&decoders)),
    })
}

/// The hooks every generated method runs: the library's, through its hidden
/// entry point, so that any crate compiling generated code (the library, a
/// fixture test) runs the same glue. The partner client's `pre` never sends
/// `x-auth-org`; an org-scoped client's always does, and fails the call
/// (sending nothing) if its state names no org.
fn hooks(org_scoped: bool) -> TokenStream {
    let pre = if org_scoped {
        quote!(
            ::rhombus_partner::__private::pre_in_org(&self.inner, request).map_err(Error::Custom)
        )
    } else {
        quote! {
            ::rhombus_partner::__private::pre(&self.inner, request);
            Ok(())
        }
    };
    quote! {
        impl ClientHooks<::rhombus_partner::__private::ClientState> for Client {
            async fn pre<E>(
                &self,
                request: &mut ::reqwest::Request,
                _info: &OperationInfo,
            ) -> ::std::result::Result<(), Error<E>> {
                #pre
            }

            async fn exec(
                &self,
                request: ::reqwest::Request,
                info: &OperationInfo,
            ) -> ::reqwest::Result<::reqwest::Response> {
                ::rhombus_partner::__private::exec(
                    &self.inner,
                    &self.client,
                    request,
                    info.operation_id,
                    operations::ALL,
                )
                .await
            }

            async fn post<E>(
                &self,
                result: &::reqwest::Result<::reqwest::Response>,
                _info: &OperationInfo,
            ) -> ::std::result::Result<(), Error<E>> {
                ::rhombus_partner::__private::post(result).map_err(Error::Custom)
            }
        }
    }
}

/// `decode_responses`: decodes bytes as each operation's response type, for
/// the property tests.
fn decoders(methods: &BTreeMap<String, syn::Signature>, operations: &[Operation]) -> TokenStream {
    let decoders = operations.iter().filter_map(|op| {
        let signature = methods.get(&op.method)?;
        let value = generic_args(return_type(signature)?, "Result")?.first().cloned()?;
        let body = generic_args(&value, "ResponseValue")?.first().cloned()?;
        if !matches!(&body, syn::Type::Path(p) if p.path.segments.first().is_some_and(|s| s.ident == "types")) {
            return None;
        }
        let id = &op.id;
        Some(quote! {
            (#id, ::serde_json::from_slice::<super::#body>(bytes).map(|value| {
                // The types are not `PartialEq`: what they encode to is
                // compared instead, as JSON read back from the bytes.
                let first = ::serde_json::to_vec(&value).expect("a decoded value encodes");
                let again = ::serde_json::from_slice::<super::#body>(&first)
                    .expect("an encoded value decodes");
                let second = ::serde_json::to_vec(&again).expect("a decoded value encodes");
                [&first, &second].map(|bytes| {
                    ::serde_json::from_slice(bytes).expect("an encoding is JSON")
                })
            }))
        })
    });
    let decoders: Vec<TokenStream> = decoders.collect();
    // Without a JSON response type there is nothing to decode `bytes` as.
    let unused = decoders.is_empty().then(|| quote!(let _ = bytes;));
    quote! {
        /// Decodes `bytes` as each operation's response type and, when
        /// that works, encodes the value, decodes that and encodes it
        /// again, giving both encodings: for the property tests, which
        /// must see every response type.
        pub fn decode_responses(
            bytes: &[u8],
        ) -> ::std::vec::Vec<(
            &'static str,
            ::std::result::Result<[::serde_json::Value; 2], ::serde_json::Error>,
        )> {
            #unused
            ::std::vec![#(#decoders),*]
        }
    }
}
