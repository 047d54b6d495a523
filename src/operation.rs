//! The operations of the spec the crate was built from, and which of them
//! are read-only: generated from the `x-rhombus-read-only` extension, which
//! decides what may be retried after a `5xx` or a lost connection.

/// One operation of the spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Operation {
    /// The spec's `operationId`, e.g. `getClientSummaryInfo`.
    pub id: &'static str,
    /// The generated method, e.g. `get_client_summary_info`.
    pub method: &'static str,
    /// Whether the spec marks it `x-rhombus-read-only: true`: it changes
    /// nothing, so it may be sent again after a `5xx`, a timeout or a lost
    /// connection. Without the mark an operation is state-changing.
    pub read_only: bool,
}

impl Operation {
    /// Every operation of the spec, in the spec's order.
    pub fn all() -> &'static [Operation] {
        crate::generated::operations::ALL
    }

    /// The operation with this `operationId`.
    pub fn by_id(id: &str) -> Option<&'static Operation> {
        Self::all().iter().find(|op| op.id == id)
    }

    /// The operation whose generated method has this name.
    pub fn by_method(method: &str) -> Option<&'static Operation> {
        Self::all().iter().find(|op| op.method == method)
    }
}
