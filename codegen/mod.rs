//! The spec-to-code step: OpenAPI fragment in, formatted Rust source out.
//!
//! This module is not part of the library. `build.rs` and the `xtask` crate
//! both include it with `#[path]`, so the code that the crate is built from
//! and the code that a spec refresh is validated with are one implementation.
//!
//! Every failure is a [`SpecError`] naming the file, the JSON pointer of the
//! operation or schema at fault, and what to do about it; nothing here panics
//! at the user, and panics inside the generator are caught and located.

pub mod check;
mod extensible;
mod forward;
pub mod glue;
mod locate;
mod lower;
pub mod mock;
mod panics;
pub mod refs;
pub mod repair;
mod settings;
pub mod spec;

use std::fmt;
use std::path::{Path, PathBuf};

// For tools that include this module (the spec refresh sets the extension).
#[allow(unused_imports)]
pub use forward::UNKNOWN_VARIANT;
#[allow(unused_imports)]
pub use glue::READ_ONLY_EXTENSION;
pub use settings::generation_settings;

/// Why a spec could not be turned into code.
#[derive(Debug)]
pub struct SpecError {
    /// The spec file, as the user named it.
    pub file: PathBuf,
    /// JSON pointer (RFC 6901) of the part at fault; empty for the whole file.
    pub pointer: String,
    /// What is wrong.
    pub problem: String,
    /// What to do about it.
    pub fix: String,
}

impl SpecError {
    fn new(file: &Path, pointer: impl Into<String>, problem: impl Into<String>, fix: &str) -> Self {
        SpecError {
            file: file.to_path_buf(),
            pointer: pointer.into(),
            problem: problem.into(),
            fix: fix.to_owned(),
        }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() {
            String::new()
        } else {
            format!(" at {}", self.pointer)
        };
        write!(
            f,
            "{}{at}: {}; to fix: {}",
            self.file.display(),
            self.problem,
            self.fix
        )
    }
}

impl std::error::Error for SpecError {}

/// Reads, checks and generates `file`, for the library.
pub fn generate_file(file: &Path) -> Result<String, SpecError> {
    generate(file, &read_spec(file)?)
}

/// [`generate_file`] plus what only tests compile (`decode_responses`).
pub fn generate_test_file(file: &Path) -> Result<String, SpecError> {
    generate_code(file, &read_spec(file)?, true)
}

/// The text of the spec `file`, or an error saying how to get it back.
fn read_spec(file: &Path) -> Result<String, SpecError> {
    std::fs::read_to_string(file).map_err(|e| {
        SpecError::new(
            file,
            "",
            format!("cannot read the spec: {e}"),
            "restore spec/partner.json from git, or point RHOMBUS_PARTNER_SPEC at an existing \
             OpenAPI 3.0 JSON file (relative to the package root)",
        )
    })
}

/// Checks `text` (the contents of `file`) and generates formatted Rust source:
/// the progenitor client, its string enums opened to unknown values
/// ([`forward`]), and what the runtime derives from the spec ([`glue`]:
/// read-only operations, hooks, response status fields, checked methods).
pub fn generate(file: &Path, text: &str) -> Result<String, SpecError> {
    generate_code(file, text, false)
}

fn generate_code(file: &Path, text: &str, test_helpers: bool) -> Result<String, SpecError> {
    let check::Parsed { raw, lowered, spec } = check::parse(file, text)?;
    let tokens = locate::generate_tokens(file, &lowered.spec, &spec)?;
    let bug = |e: syn::Error| {
        SpecError::new(
            file,
            "",
            format!("the generator produced code that does not parse: {e}"),
            "report this as a bug in rhombus-partner, with the spec attached",
        )
    };
    let mut syntax = syn::parse2::<syn::File>(tokens).map_err(bug)?;
    lower::restore_parameter_names(&mut syntax, &lowered.parameter_names);
    repair::repair(&mut syntax);
    forward::open_enums(&mut syntax);
    extensible::extensible(&mut syntax);
    let extra = glue::tokens(file, &raw, &syntax, test_helpers)?;
    syntax
        .items
        .extend(syn::parse2::<syn::File>(extra).map_err(bug)?.items);
    Ok(prettyplease::unparse(&syntax))
}

pub use spec::pointer_segment;
