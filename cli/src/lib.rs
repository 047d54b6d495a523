//! `rhombus-audit`: the fleet audit a Rhombus partner runs over all its
//! client organizations, as a library beside its binary so that the tests
//! and the benchmark drive the same code and the same fake server.
//!
//! - [`audit`]: the calls and the facts they give, per client, and the
//!   license pool against the clients' needs.
//! - [`facts`]: the facts declared once, their kinds of error.
//! - [`output`]: the table, and the JSON and CSV records.
//! - [`fake`]: the fake Rhombus API the audit runs against without a key.

pub mod audit;
pub mod facts;
pub mod fake;
pub mod output;
