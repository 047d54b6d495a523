//! The spec-to-code step: OpenAPI fragment in, every generated file out
//! ([`Artifacts`], from [`generate`], the one entry).
//!
//! This crate is not part of the library: rhombus-partner's `build.rs`
//! runs it, and so does the `xtask` refresh, so the code that the crate is
//! built from and the code that a spec refresh is validated with are one
//! implementation. [`layout`] is where both learn the fragments' paths and
//! how cargo names the area features.
//!
//! Every failure is a [`SpecError`] naming the file, the JSON pointer of the
//! operation or schema at fault, and what to do about it; nothing here panics
//! at the user, and panics inside the generator are caught and located.

pub mod build_script;
mod check;
mod extensible;
mod forward;
mod glue;
pub mod layout;
mod locate;
mod lower;
mod mock;
mod panics;
mod repair;
mod settings;
pub mod spec;
#[cfg(feature = "surface")]
pub mod surface;

use std::fmt;
use std::path::{Path, PathBuf};

// What the refresh needs besides `generate`: the first check it runs on an
// upstream document, and the repairs it reports.
pub use {check::check_version, lower::Repair};

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

/// Everything one fragment generates, from one parse and one run of
/// progenitor: the files `build.rs` writes, which the refresh validates
/// before it writes anything. Each file is rendered when asked for, so a
/// build pays only for the ones it writes (no mock helpers without
/// `test-util`, no API surface outside the refresh).
pub struct Artifacts {
    file: PathBuf,
    /// Where the mock helpers find the client's types.
    module: String,
    parsed: check::Parsed,
    /// The client as rewritten ([`client_syntax`], [`glue`]), without the glue.
    syntax: syn::File,
    glue: glue::Glue,
    /// The shapes the generator refuses as written that were repaired
    /// without changing the wire format (e.g. enum values differing only in
    /// case), for the refresh's summary.
    pub repairs: Vec<Repair>,
    /// Which of the library's optional types the client hands over.
    pub hands_over: HandsOver,
}

/// The library's types that only some clients hand over, so the build
/// compiles (or asks for) them only then.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HandsOver {
    /// An operation answers with a body that is not JSON: a `Download`.
    pub downloads: bool,
    /// An operation takes multipart parts: a `Multipart` (the `multipart`
    /// feature).
    pub uploads: bool,
}

impl Artifacts {
    /// `partner.rs`: the client, its string enums opened to unknown values
    /// ([`forward`]), and what the runtime derives from the spec ([`glue`]:
    /// read-only operations, hooks, response status fields, checked methods).
    pub fn client(&self) -> Result<String, SpecError> {
        let mut syntax = self.syntax.clone();
        let glue = syn::parse2::<syn::File>(self.glue.library.clone())
            .map_err(|e| unparsable(&self.file, e))?;
        syntax.items.extend(glue.items);
        Ok(prettyplease::unparse(&syntax))
    }

    /// What a test appends to [`Artifacts::client`] to get the test-only
    /// helpers (`decoding::decode_responses`): rendered on their own, so
    /// that the client is rendered once.
    pub fn test_helpers(&self) -> Result<String, SpecError> {
        let syntax = syn::parse2::<syn::File>(self.glue.test_helpers.clone())
            .map_err(|e| unparsable(&self.file, e))?;
        Ok(prettyplease::unparse(&syntax))
    }

    /// The client with the test helpers, as a fixture of the tests.
    pub fn test_client(&self) -> Result<String, SpecError> {
        Ok(format!("{}\n{}", self.client()?, self.test_helpers()?))
    }

    /// `partner_mock.rs`, the `test-util` httpmock helpers ([`mock`]), from
    /// progenitor's httpmock run on the same checked spec. Only a build
    /// with `test-util` (and the refresh, which validates every artifact)
    /// fails when they cannot be generated.
    pub fn mock(&self) -> Result<String, SpecError> {
        mock::generate(&self.file, &self.parsed, &self.module)
    }

    /// The API the client exposes, as data: the refresh's listing and
    /// semver impact are made from it. (Feature `surface`: a build script
    /// has no use for it.)
    #[cfg(feature = "surface")]
    pub fn surface(&self) -> surface::Surface {
        // Read off the tree the library compiles: the methods as rewritten.
        let paged = glue::paging::paged_operations(&self.syntax);
        surface::surface(&self.parsed.raw, &self.syntax, &paged)
    }
}

/// The text of the spec `file`, or an error saying how to get it back.
pub fn read_spec(file: &Path) -> Result<String, SpecError> {
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

/// Where a generated client sits: where its mock helpers find its types.
/// (Whom a call acts for is the client's state: only `Client::for_org`
/// makes one that sends `x-auth-org`.)
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    /// The path of the client's module in the library, which the mock
    /// helpers import from: `crate` for the partner client.
    pub module: &'a str,
}

/// The partner client, at the root of the library.
pub const PARTNER: Target<'static> = Target { module: "crate" };

/// The one entry for the partner client: checks `text` (the contents of
/// `file`) once and generates every artifact from it.
pub fn generate(file: &Path, text: &str) -> Result<Artifacts, SpecError> {
    generate_for(file, text, &PARTNER)
}

/// [`generate`], for the client `target` says (an area of the client-org
/// API, or the partner client).
pub fn generate_for(file: &Path, text: &str, target: &Target) -> Result<Artifacts, SpecError> {
    let parsed = check::parse(file, text)?;
    let mut syntax = client_syntax(file, &parsed)?;
    let glue = glue::glue(file, &parsed.raw, &mut syntax)?;
    Ok(Artifacts {
        file: file.to_path_buf(),
        module: target.module.to_owned(),
        repairs: parsed.lowered.repairs.clone(),
        hands_over: glue.hands_over,
        parsed,
        syntax,
        glue,
    })
}

/// progenitor's client for the checked spec, with the repairs its output
/// needs: wire names put back, colliding fields renamed, enums opened,
/// every type made extensible (non-exhaustive, with setters).
fn client_syntax(file: &Path, parsed: &check::Parsed) -> Result<syn::File, SpecError> {
    let tokens = locate::generate_tokens(file, &parsed.lowered.spec, &parsed.spec)?;
    let mut syntax = syn::parse2::<syn::File>(tokens).map_err(|e| unparsable(file, e))?;
    lower::restore_placeholders(&mut syntax, &parsed.lowered.parameter_names);
    repair::repair(&mut syntax);
    forward::open_enums(&mut syntax);
    extensible::extensible(&mut syntax);
    Ok(syntax)
}

/// Generated code that `syn` cannot read back is the generator's fault.
fn unparsable(file: &Path, error: syn::Error) -> SpecError {
    SpecError::new(
        file,
        "",
        format!("the generator produced code that does not parse: {error}"),
        "report this as a bug in rhombus-partner, with the spec attached",
    )
}

/// The path of `tests/constructs/<name>.json`, for the unit tests (this
/// crate's manifest sits one level down from the workspace root).
#[cfg(test)]
fn construct_file(name: &str) -> PathBuf {
    PathBuf::from(format!(
        "{}/../tests/constructs/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    ))
}

/// What `tests/constructs/<name>.json` generates, for the unit tests.
#[cfg(test)]
fn construct(name: &str) -> Artifacts {
    let file = construct_file(name);
    let text = read_spec(&file).expect("reads");
    generate(&file, &text).expect("generates")
}
