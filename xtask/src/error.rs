//! The automation's one error type: every failure a command reports, each
//! variant with the message that says what went wrong and what to do.

use std::path::PathBuf;

use crate::codegen::SpecError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create {}: {source}", .path.display())]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot touch {}: {source}", .path.display())]
    Touch {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a file path", .0.display())]
    NotAFilePath(PathBuf),
    /// A command that could not start.
    #[error("cannot run {what}: {source}")]
    Run {
        what: String,
        source: std::io::Error,
    },
    /// A command that ran and failed, with what it printed.
    #[error("{what} failed:\n{output}")]
    Failed { what: String, output: String },
    /// A command-line value clap's own checks let through.
    #[error("{0}")]
    Argument(String),
    #[error("--no-partner with no area to refresh: nothing to do")]
    NothingToDo,
    /// The upstream document could not be downloaded.
    #[error(
        "cannot download {url}: {reason}; check the network, or pass a local copy with --from PATH"
    )]
    Download { url: String, reason: String },
    #[error(
        "cannot download {url}: the server answered {status}; check the URL, or pass a local \
         copy with --from PATH"
    )]
    Status { url: String, status: String },
    #[error(
        "{from} is not JSON (line {}, column {}): {source}; check that it is the OpenAPI \
         document (an HTML error page or a truncated download is not)",
        .source.line(),
        .source.column()
    )]
    NotJson {
        from: String,
        source: serde_json::Error,
    },
    #[error("the fragment is not JSON: {0}")]
    FragmentNotJson(serde_json::Error),
    #[error("the document has no `paths` object")]
    NoPaths,
    #[error("the document is not an object")]
    NotAnObject,
    #[error(
        "no operation's path starts with {prefixes}; check --prefix against the document's \
         paths (e.g. /api/partner/)"
    )]
    NoOperationUnder { prefixes: String },
    #[error(
        "`$ref` to `{target}` does not resolve to a component of the upstream document; the \
         document is inconsistent: refresh again later, or report it upstream"
    )]
    UnresolvedRef { target: String },
    #[error(
        "--areas names `{area}`, but the source has no operation under /api/{area}/; its areas \
         are: {present}"
    )]
    UnknownArea { area: String, present: String },
    /// Every operation under the prefixes was left out: an area in that
    /// state gets no fragment (and no feature), and the run goes on.
    #[error(
        "every operation under {prefixes} was left out, so there is nothing to write:\n{reasons}"
    )]
    NothingLeft { prefixes: String, reasons: String },
    /// The generator refused a checked-in fragment.
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error("the refreshed fragment would not build, so nothing was written: {0}")]
    WouldNotBuild(SpecError),
    #[error("the refreshed fragment would not compile, so nothing was written:\n{0}")]
    WouldNotCompile(Box<Error>),
    /// The crate failed to build before rustc said anything (the build
    /// script, or cargo): its own error lines.
    #[error("{}: the crate does not build from it:\n{said}", .fragment.display())]
    CrateDoesNotBuild { fragment: PathBuf, said: String },
    /// rustc's first diagnostics, each located in the fragment; `refused`:
    /// the first one's schema or operation (its JSON pointer) and headline,
    /// when it is in generated code; `area`: the area fragment it is in,
    /// when the check built areas.
    #[error("{}{}", .shown.join("\n"), more_line(*.more))]
    DoesNotCompile {
        shown: Vec<String>,
        more: usize,
        refused: Option<(String, String)>,
        area: Option<String>,
    },
    /// The refresh opened or left out this many parts and the fragment still
    /// did not build.
    #[error(
        "the generator or rustc refused {limit} parts of the fragment in turn, and it still does \
         not build: report this as a bug in rhombus-partner's generator (codegen/) with the \
         document attached"
    )]
    TooManyRefusals { limit: usize },
    #[error("generated code: {0}")]
    Unparsable(syn::Error),
    #[error("version {version:?} is not MAJOR.MINOR.PATCH: {source}")]
    Version {
        version: String,
        source: semver::Error,
    },
    #[error("no build script of {krate} under {}", .dir.display())]
    NoBuildScript { krate: String, dir: PathBuf },
    /// What went wrong with one fragment of a run, named.
    #[error("{job}: {source}")]
    InJob { job: String, source: Box<Error> },
}

impl Error {
    /// Whether the refresh found nothing to write (perhaps inside a job).
    pub fn is_nothing_left(&self) -> bool {
        match self {
            Error::NothingLeft { .. } => true,
            Error::InJob { source, .. } => source.is_nothing_left(),
            _ => false,
        }
    }

    /// `self`, as the failure of the job `job`.
    pub fn in_job(self, job: &str) -> Self {
        Error::InJob {
            job: job.to_owned(),
            source: Box::new(self),
        }
    }
}

/// `(and N more)` on its own line, when rustc said more than was shown.
fn more_line(more: usize) -> String {
    if more > 0 {
        format!("\n(and {more} more)")
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_left_is_seen_through_the_job_that_had_it() {
        let nothing = Error::NothingLeft {
            prefixes: "/api/upload/".to_owned(),
            reasons: "  POST /api/upload/x: multipart".to_owned(),
        };
        assert_eq!(
            nothing.to_string(),
            "every operation under /api/upload/ was left out, so there is nothing to write:\n  \
             POST /api/upload/x: multipart"
        );
        let in_job = nothing.in_job("upload");
        assert!(in_job.is_nothing_left());
        assert!(in_job.to_string().starts_with("upload: every operation"));
        assert!(!Error::NothingToDo.in_job("camera").is_nothing_left());
    }

    #[test]
    fn rustc_diagnostics_say_how_many_were_not_shown() {
        let error = Error::DoesNotCompile {
            shown: vec!["a".to_owned(), "b".to_owned()],
            more: 2,
            refused: None,
            area: None,
        };
        assert_eq!(error.to_string(), "a\nb\n(and 2 more)");
        let all = Error::DoesNotCompile {
            shown: vec!["a".to_owned()],
            more: 0,
            refused: None,
            area: None,
        };
        assert_eq!(all.to_string(), "a");
    }
}
