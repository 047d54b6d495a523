//! The one method per operation: progenitor's method, rewritten in place so
//! that it builds the request as progenitor wrote it and hands it to the
//! library's call (`rhombus_partner::__private::call`), which sends it
//! under the retry policy, reads and classifies the answer, and returns the
//! decoded body or the crate's `Error` (or, for a body that is not JSON,
//! a `Download` of it). An upload's method gains the `Multipart` parameter
//! its body is made from (the generator never saw that body). Nothing of progenitor's hooks,
//! `ResponseValue` or error type is left on the way back.
//!
//! Also here: the generated client loses its public constructors and its
//! `ClientInfo` impl (which handed out the state), so a client is made only
//! by the library's builder (`Client::new_with_client` stays, crate-private).

use std::path::Path;

use quote::quote;

use super::operations::Operation;
use super::syntax::{generic_args, is_path_named, return_type};
use crate::{HandsOver, SpecError};

/// How an operation's success body becomes its value.
enum Decoding {
    /// JSON into the generated type.
    Json(Box<syn::Type>),
    /// No body (`()`).
    Empty,
    /// A body that is not JSON (CSV, an archive): handed over unread, to
    /// be read whole within the limit or streamed.
    Download,
}

/// Rewrites every operation method of `impl Client` and the client's
/// constructors and trait impls, in place. Says which of the library's
/// optional types the rewritten methods hand over.
pub(super) fn rewrite(
    file: &Path,
    generated: &mut syn::File,
    operations: &[Operation],
) -> Result<HandsOver, SpecError> {
    let mut hands_over = HandsOver::default();
    let api_version = api_version(generated);
    generated.items.retain(|item| !is_dropped(item));
    for item in &mut generated.items {
        if let syn::Item::Use(block) = item {
            // progenitor re-exports its own `Error`, `ResponseValue`, ...
            block.vis = syn::Visibility::Inherited;
        }
        let syn::Item::Impl(block) = item else {
            continue;
        };
        if block.trait_.is_some() || !is_path_named(&block.self_ty, "Client") {
            continue;
        }
        for member in &mut block.items {
            let syn::ImplItem::Fn(function) = member else {
                continue;
            };
            let name = function.sig.ident.to_string();
            if name == "new_with_client" {
                function.vis = syn::parse_quote!(pub(crate));
            } else if let Some(index) = operations.iter().position(|op| op.method == name) {
                let operation = &operations[index];
                let download = rewrite_method(file, function, index, operation)?;
                hands_over.downloads |= download;
                hands_over.uploads |= operation.multipart;
            }
        }
        block.items.retain(|member| !is_public_new(member));
    }
    // progenitor's request code sends `Self::api_version()`.
    generated.items.push(syn::parse_quote! {
        impl Client {
            #api_version
        }
    });
    Ok(hands_over)
}

/// `fn api_version()` of the `ClientInfo` impl, kept as an inherent function.
fn api_version(generated: &syn::File) -> Option<syn::ImplItemFn> {
    generated.items.iter().find_map(|item| match item {
        syn::Item::Impl(block) if is_dropped(item) => {
            block.items.iter().find_map(|member| match member {
                syn::ImplItem::Fn(function) if function.sig.ident == "api_version" => {
                    Some(function.clone())
                }
                _ => None,
            })
        }
        _ => None,
    })
}

/// progenitor's `ClientInfo` impl (its `inner()` gave out the state) and its
/// assertion that the hooks are implemented (they are not used).
fn is_dropped(item: &syn::Item) -> bool {
    match item {
        syn::Item::Impl(block) => block.trait_.as_ref().is_some_and(|(path, _)| {
            path.segments
                .last()
                .is_some_and(|s| s.ident == "ClientInfo")
        }),
        syn::Item::Const(constant) => constant.ident == "_",
        _ => false,
    }
}

/// `Client::new`, which built its own HTTP client (one that follows
/// redirects with the key).
fn is_public_new(member: &syn::ImplItem) -> bool {
    matches!(member, syn::ImplItem::Fn(function) if function.sig.ident == "new")
}

/// The method keeps its name, arguments and docs; it returns the body or
/// the crate's `Error`, and its request goes through the library's call.
/// Whether it hands over a `Download`.
fn rewrite_method(
    file: &Path,
    function: &mut syn::ImplItemFn,
    index: usize,
    operation: &Operation,
) -> Result<bool, SpecError> {
    let bug = |what: &str| {
        SpecError::new(
            file,
            "",
            format!("the generated method of `{}` {what}", operation.id),
            "report this as a bug in rhombus-partner, with the spec attached",
        )
    };
    let decoding = decoding(&function.sig).ok_or_else(|| bug("has no ResponseValue result"))?;
    let cut = function
        .block
        .stmts
        .iter()
        .position(is_operation_info)
        .ok_or_else(|| bug("does not build an OperationInfo"))?;
    let building = &function.block.stmts[..cut];
    let declared = success_statuses(&function.block.stmts[cut..]);
    let value = value_type(&decoding);
    function.sig.output = syn::parse_quote! {
        -> ::std::result::Result<#value, ::rhombus_partner::Error>
    };
    let parts = operation.multipart.then(|| {
        // The generator saw no body: the caller's parts are the body.
        function
            .sig
            .inputs
            .push(syn::parse_quote!(body: ::rhombus_partner::Multipart));
        quote!(let request = ::rhombus_partner::__private::with_parts(&self.client, request, body).await;)
    });
    let sending = sending(&decoding, index, &declared);
    function.block = syn::parse_quote! {{
        // progenitor's request code; its errors are the request's.
        let request = (|| -> ::std::result::Result<::reqwest::Request, Error<()>> {
            #(#building)*
            Ok(request)
        })();
        #parts
        #sending
    }};
    Ok(matches!(decoding, Decoding::Download))
}

/// The value a method returns for `decoding`.
fn value_type(decoding: &Decoding) -> proc_macro2::TokenStream {
    match decoding {
        Decoding::Json(ty) => quote!(#ty),
        Decoding::Empty => quote!(()),
        Decoding::Download => quote!(::rhombus_partner::Download),
    }
}

/// The library call that sends the request of operation `index`: a body
/// that is not JSON is handed over unread, as a `Download`.
fn sending(
    decoding: &Decoding,
    index: usize,
    declared: &proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    let head = quote! {
        &self.inner,
        &self.client,
        request,
        &operations::ALL[#index],
        |status: u16| matches!(status, #declared),
    };
    let decoder = match decoding {
        Decoding::Json(ty) => quote!(::rhombus_partner::__private::Json::<#ty>::new()),
        Decoding::Empty => quote!(::rhombus_partner::__private::Empty),
        Decoding::Download => {
            return quote!(::rhombus_partner::__private::download(#head).await);
        }
    };
    quote!(::rhombus_partner::__private::call(#head #decoder).await)
}

/// What `Result<ResponseValue<T>, _>` says of the body.
fn decoding(signature: &syn::Signature) -> Option<Decoding> {
    let value = generic_args(return_type(signature)?, "Result")?
        .first()
        .cloned()?;
    let body = generic_args(&value, "ResponseValue")?.first().cloned()?;
    Some(match &body {
        syn::Type::Tuple(tuple) if tuple.elems.is_empty() => Decoding::Empty,
        ty if is_path_named(ty, "ByteStream") => Decoding::Download,
        ty => Decoding::Json(Box::new(ty.clone())),
    })
}

/// The patterns of the statuses progenitor's answer code decodes as the
/// operation's value (`200u16`, `200u16..=299u16`, `_`), as one pattern; a
/// status no arm decodes matches nothing.
fn success_statuses(tail: &[syn::Stmt]) -> proc_macro2::TokenStream {
    let arms = tail.iter().rev().find_map(|statement| match statement {
        syn::Stmt::Expr(syn::Expr::Match(answer), _) => Some(&answer.arms),
        _ => None,
    });
    let patterns: Vec<&syn::Pat> = arms
        .into_iter()
        .flatten()
        .filter(|arm| !is_err_call(&arm.body))
        .map(|arm| &arm.pat)
        .collect();
    if patterns.is_empty() {
        return quote!(0u16..0u16);
    }
    quote!(#(#patterns)|*)
}

/// `Err(..)`: an arm that makes an error of the answer.
fn is_err_call(body: &syn::Expr) -> bool {
    matches!(body, syn::Expr::Call(call)
        if matches!(&*call.func, syn::Expr::Path(path) if path.path.is_ident("Err")))
}

/// `let info = OperationInfo { .. };`, where progenitor's request code ends.
fn is_operation_info(statement: &syn::Stmt) -> bool {
    let syn::Stmt::Local(local) = statement else {
        return false;
    };
    matches!(
        local.init.as_ref().map(|init| &*init.expr),
        Some(syn::Expr::Struct(value)) if value.path.is_ident("OperationInfo")
    )
}
