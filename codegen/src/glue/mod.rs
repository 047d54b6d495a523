//! What the library's runtime needs from the spec, generated next to the
//! client so that no list of operations or types is kept by hand. One
//! module per thing generated:
//!
//! - [`operations`]: `operations::ALL`, each operation's id, method name and
//!   read-only flag, which the retry policy reads;
//! - [`status`]: `ApiStatus` impls, so `"error": true` becomes an error;
//! - [`methods`]: each operation's method, rewritten in place to call the
//!   library's hidden entry point `rhombus_partner::__private::call`;
//! - [`paging`]: `<method>_pages` / `<method>_items`, the paged operations
//!   as streams;
//! - here, for tests only, `decode_responses`.
//!
//! The generated code names the library as `::rhombus_partner`, which the
//! crate makes resolve to itself, so that the same output compiles in the
//! library and in a test crate built from a fixture fragment, with the same
//! glue and no stand-ins.

mod methods;
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
use super::{HandsOver, SpecError};

/// The glue for one generated client, in the two forms that get built.
pub struct Glue {
    /// What the library appends to the client.
    pub library: TokenStream,
    /// What only tests compile, appended to the library's client:
    /// `decoding::decode_responses`.
    pub test_helpers: TokenStream,
    /// Which of the library's optional types the methods hand over.
    pub hands_over: HandsOver,
}

/// The glue to append to the generated client, and the test helpers to
/// append to that: worked out once. The operation methods of `generated`
/// are rewritten in place ([`methods`]).
pub fn glue(file: &Path, raw: &Value, generated: &mut syn::File) -> Result<Glue, SpecError> {
    let methods = client_methods(generated);
    let types = type_items(generated);

    let operations = operations::operations(file, raw, &methods)?;
    parameters::check_texted(file, raw, &methods, &displayed_types(generated))?;
    let status_impls = status::status_impls(file, raw, &types, &methods)?;
    let paging = paging::paging_methods(&paging::paged_operations(generated), &operations);
    let table = operations::table(&operations);
    let decoders = decoders(&methods, &operations);
    let hands_over = methods::rewrite(file, generated, &operations)?;
    Ok(Glue {
        library: quote! {
            /// Facts about each operation, generated from the spec.
            pub mod operations {
                #table
            }
            #status_impls
            #paging
        },
        test_helpers: quote! {
            /// What only tests compile.
            pub mod decoding {
                #decoders
            }
        },
        hands_over,
    })
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
