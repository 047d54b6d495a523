//! The project's automation, as a library so that the binary, the
//! integration tests and the benchmarks share one implementation.

// The spec-to-code step that build.rs runs: one implementation, so a
// refresh is validated exactly as the crate will be built.
pub use rhombus_partner_codegen as codegen;

pub mod bench_build;
pub mod canonical;
pub mod cli;
pub mod compile;
pub mod descriptions;
pub mod diff;
pub mod error;
pub mod extract;
pub mod impact;
pub mod listing;
pub mod normalize;
pub mod pr;
pub mod project;
pub mod radar;
pub mod refresh;
pub mod salvage;
pub mod source;
pub mod summary;

pub use error::Error;
