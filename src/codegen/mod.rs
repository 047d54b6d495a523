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
mod locate;
pub mod mock;
pub mod refs;
pub mod repair;
mod settings;

use std::fmt;
use std::path::{Path, PathBuf};

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

/// Reads, checks and generates `file`.
pub fn generate_file(file: &Path) -> Result<String, SpecError> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        SpecError::new(
            file,
            "",
            format!("cannot read the spec: {e}"),
            "restore spec/partner.json from git, or point RHOMBUS_PARTNER_SPEC at an existing \
             OpenAPI 3.0 JSON file (relative to the package root)",
        )
    })?;
    generate(file, &text)
}

/// Checks `text` (the contents of `file`) and generates formatted Rust source.
pub fn generate(file: &Path, text: &str) -> Result<String, SpecError> {
    let (raw, spec) = check::parse(file, text)?;
    let tokens = locate::generate_tokens(file, &raw, &spec)?;
    let mut syntax = syn::parse2::<syn::File>(tokens).map_err(|e| {
        SpecError::new(
            file,
            "",
            format!("the generator produced code that does not parse: {e}"),
            "report this as a bug in rhombus-partner, with the spec attached",
        )
    })?;
    repair::repair(&mut syntax);
    Ok(prettyplease::unparse(&syntax))
}

/// Escapes one JSON pointer segment (RFC 6901).
pub fn pointer_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}
