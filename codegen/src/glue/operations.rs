//! `operations::ALL`: every operation with its `operationId`, the name of
//! its generated method, and whether it is read-only (the
//! [`READ_ONLY_EXTENSION`] vendor extension; absent means state-changing,
//! the safe default). The retry policy reads it.

use std::collections::BTreeMap;
use std::path::Path;

use proc_macro2::TokenStream;
use quote::quote;
use serde_json::Value;

use crate::SpecError;
use crate::spec::{self, READ_ONLY_EXTENSION, sanitize};

/// One operation of the spec.
pub(super) struct Operation {
    pub(super) id: String,
    pub(super) method: String,
    pub(super) read_only: bool,
    /// Its request body is the caller's `multipart/form-data` parts.
    pub(super) multipart: bool,
}

pub(super) fn operations(
    file: &Path,
    raw: &Value,
    methods: &BTreeMap<String, syn::Signature>,
) -> Result<Vec<Operation>, SpecError> {
    let mut operations = Vec::new();
    for op in spec::operations(raw) {
        let operation = op.operation;
        {
            let pointer = op.pointer();
            // `check` made sure every operation has an id.
            let id = op.id().unwrap_or_default().to_owned();
            let read_only = match operation.get(READ_ONLY_EXTENSION) {
                None => false,
                Some(Value::Bool(flag)) => *flag,
                Some(other) => {
                    return Err(SpecError::new(
                        file,
                        format!("{pointer}/{READ_ONLY_EXTENSION}"),
                        format!("`{READ_ONLY_EXTENSION}` is {other}, not true or false"),
                        "set it to true for operations that change nothing (they may be retried \
                         after a 5xx or a lost connection), false or nothing for the others",
                    ));
                }
            };
            let generated = sanitize(&id, false);
            if !methods.contains_key(&generated) {
                return Err(SpecError::new(
                    file,
                    pointer,
                    format!("the generator did not name the method of `{id}` `{generated}`"),
                    "report this as a bug in rhombus-partner (codegen/src/spec/naming.rs \
                     mirrors the generator's naming), with the spec attached",
                ));
            }
            operations.push(Operation {
                id,
                method: generated,
                read_only,
                multipart: operation.as_object().is_some_and(spec::is_multipart),
            });
        }
    }
    Ok(operations)
}

/// The table of operations.
pub(super) fn table(operations: &[Operation]) -> TokenStream {
    let rows = operations.iter().map(|op| {
        let (id, method, read_only) = (&op.id, &op.method, op.read_only);
        quote! {
            ::rhombus_partner::Operation { id: #id, method: #method, read_only: #read_only }
        }
    });
    quote! {
        /// Every operation of the spec, in the spec's order.
        pub const ALL: &[::rhombus_partner::Operation] = &[#(#rows),*];
    }
}
