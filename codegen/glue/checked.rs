//! `Checked`: the same methods as `Client`, returning the crate's `Error`.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::quote;

use super::operations::Operation;
use super::syntax::{generic_args, return_type};

/// `Checked`: every generated method again, with the crate's error type,
/// `"error": true` turned into an error, and warnings logged.
pub(super) fn checked_methods(
    methods: &BTreeMap<String, syn::Signature>,
    operations: &[Operation],
) -> TokenStream {
    let wrappers = operations.iter().filter_map(|op| {
        let signature = methods.get(&op.method)?;
        let value = generic_args(return_type(signature)?, "Result")?
            .first()
            .cloned()?;
        let name = &signature.ident;
        let generics = &signature.generics;
        let inputs = &signature.inputs;
        let arguments = signature.inputs.iter().filter_map(|input| match input {
            syn::FnArg::Typed(typed) => Some(typed.pat.clone()),
            syn::FnArg::Receiver(_) => None,
        });
        let id = &op.id;
        let doc = format!(
            "`{id}`: like [`Client::{name}`], but a `200` with `\"error\": true` is \
             `rhombus_partner::Error::Api`, and every failure is a `rhombus_partner::Error`."
        );
        Some(quote! {
            #[doc = #doc]
            // Not an `async fn`: the future is `finish`'s own, with no
            // layer around it that would hold a copy of the call.
            pub fn #name #generics (#inputs) -> impl ::std::future::Future<
                Output = ::std::result::Result<#value, ::rhombus_partner::Error>,
            > {
                ::rhombus_partner::__private::finish(#id, self.client.#name(#(#arguments),*))
            }
        })
    });
    quote! {
        /// The operations of [`Client`], checked: each returns the crate's
        /// one error type, treats a `200` with `"error": true` as an error and
        /// logs a `warningMsg`. Get one with [`Client::checked`].
        #[derive(Clone, Copy, Debug)]
        pub struct Checked<'c> {
            client: &'c Client,
        }

        impl Client {
            /// The checked form of every operation; see [`Checked`].
            pub fn checked(&self) -> Checked<'_> {
                Checked { client: self }
            }
        }

        impl<'c> Checked<'c> {
            /// The client the calls go through.
            pub fn client(&self) -> &'c Client {
                self.client
            }

            #(#wrappers)*
        }
    }
}
