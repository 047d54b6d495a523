//! `rhombus-audit`: the fleet audit a Rhombus partner runs over all its
//! client organizations, as a library beside its binary so that the tests
//! and the benchmark drive the same code against the same fake server (the
//! workspace's `rhombus-fake` crate).
//!
//! - [`audit`]: the calls and the facts they give, per client, and the
//!   license pool against the clients' needs.
//! - [`facts`]: the facts declared once, their kinds of error.
//! - [`devices`]: the cameras and doors behind the problem counts.
//! - [`diff`]: what changed between two audits (`rhombus-audit diff`),
//!   over two documents in memory; [`diff_output`]: its table and JSON.
//! - [`output`]: the table, and the JSON and CSV records.
//! - [`config`]: the config file of named partner accounts (`--profile`).
//! - [`clients`]: the `--clients` list, from the command line, a file or
//!   standard input.
//! - [`serve`]: `serve`, the audit on an interval behind `/metrics`, `/`
//!   and `/healthz`.
//! - [`version`]: what `--version` says.

pub mod audit;
pub mod clients;
pub mod config;
pub mod devices;
pub mod diff;
pub mod diff_output;
pub mod facts;
pub mod output;
pub mod serve;
pub mod version;
