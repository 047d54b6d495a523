//! The refresh's last check: the crate, built from the refreshed fragment,
//! type-checks without errors or warnings in the generated code.
//!
//! The generator step alone accepts fragments whose code rustc then
//! rejects, so before anything is written the library is `cargo check`ed
//! (with `test-util`, so the mock helpers are checked too) with
//! `RHOMBUS_PARTNER_SPEC` pointing at the fragment: exactly what a build from
//! it would compile. It runs in its own target directory under `target/`,
//! so it neither waits for nor invalidates the workspace's build: the first
//! check compiles the dependencies (minutes), later ones only rerun the build
//! script and check the crate (seconds). rustc's first diagnostics (cargo's
//! JSON messages, read with `cargo_metadata`) are mapped back to the schema
//! or operation whose generated code they are in (the item holding the
//! diagnostic's line, found with `syn`).

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

use cargo_metadata::Message;
use cargo_metadata::diagnostic::{self as rustc, DiagnosticLevel};
use serde_json::Value;
use syn::spanned::Spanned;

use crate::Error;
use crate::codegen::layout::{self, SPEC_ENV};
use crate::codegen::spec::{self, sanitize};
use crate::project::project_root;

/// Under the workspace's `target/`: the scratch target and the fragments.
pub const SCRATCH_DIR: &str = "target/spec-check";
/// How many of rustc's diagnostics a failure shows.
const SHOWN: usize = 3;

/// Type-checks the crate built from `text` (a fragment); `Err` says where
/// and why it does not compile, naming the copy of the fragment that was
/// checked (kept under `target/`, to look at).
pub fn check_compiles(text: &str) -> Result<(), Error> {
    let root = project_root();
    let scratch = root.join(SCRATCH_DIR);
    let spec = write_fragment(&scratch, text)?;
    let shown = spec.strip_prefix(&root).unwrap_or(&spec).to_path_buf();
    let shown_as = shown.as_path();
    let output = cargo_check(&root, &scratch, &spec)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let diagnostics = diagnostics(&stdout);
    if output.status.success() && diagnostics.is_empty() {
        return Ok(());
    }
    let doc: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    if diagnostics.is_empty() {
        // The build script (or cargo itself) failed: its own words say why.
        return Err(Error::CrateDoesNotBuild {
            fragment: shown_as.to_path_buf(),
            said: error_lines(&String::from_utf8_lossy(&output.stderr)),
        });
    }
    let refused =
        (diagnostics.first()).and_then(|d| Some((d.pointer(&doc).0?, d.headline.clone())));
    Err(Error::DoesNotCompile {
        shown: diagnostics
            .iter()
            .take(SHOWN)
            .map(|d| d.located(&doc, shown_as))
            .collect(),
        more: diagnostics.len().saturating_sub(SHOWN),
        refused,
        area: None,
    })
}

/// Type-checks the crate with the features of the areas `refreshed` holds
/// (`(area, text)`) and `test-util`, each built from its refreshed text
/// (the others' fragments in place beside them): one check for all of
/// them. `Err` names
/// each diagnostic's area fragment (a copy under `target/`) and pointer.
pub fn check_areas_compile(refreshed: &[(String, String)]) -> Result<(), Error> {
    let root = project_root();
    let scratch = root.join(SCRATCH_DIR);
    let dir = write_areas(&root, &scratch, refreshed)?;
    // The areas in place already build; each area is a module of its own.
    let features = std::iter::once("test-util")
        .chain(refreshed.iter().map(|(area, _)| area.as_str()))
        .collect::<Vec<_>>()
        .join(",");
    let output = cargo_check_with(&root, &scratch, &features, (layout::AREAS_ENV, &dir))?;
    let diagnostics = diagnostics(&String::from_utf8_lossy(&output.stdout));
    if output.status.success() && diagnostics.is_empty() {
        return Ok(());
    }
    if diagnostics.is_empty() {
        return Err(Error::CrateDoesNotBuild {
            fragment: dir.strip_prefix(&root).unwrap_or(&dir).to_path_buf(),
            said: error_lines(&String::from_utf8_lossy(&output.stderr)),
        });
    }
    let fragment_of = |d: &Diagnostic| {
        let area = d.at.as_ref().and_then(|(file, _)| area_of(file));
        let fragment = dir.join(format!("{}.json", area.as_deref().unwrap_or("?")));
        let text = std::fs::read_to_string(&fragment).unwrap_or_default();
        let doc: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        (area, fragment, doc)
    };
    let located = |d: &Diagnostic| {
        let (_, fragment, doc) = fragment_of(d);
        d.located(&doc, fragment.strip_prefix(&root).unwrap_or(&fragment))
    };
    // The first diagnostic's part, in its area, for the refresh to salvage.
    let first = diagnostics.first().map(|d| (d, fragment_of(d)));
    let (area, refused) = first
        .and_then(|(d, (area, _, doc))| {
            Some((area, Some((d.pointer(&doc).0?, d.headline.clone()))))
        })
        .unwrap_or((None, None));
    Err(Error::DoesNotCompile {
        shown: diagnostics.iter().take(SHOWN).map(located).collect(),
        more: diagnostics.len().saturating_sub(SHOWN),
        refused,
        area,
    })
}

/// The area fragments to check, in a directory named after their hash:
/// the fragments in place, with `refreshed`'s texts over them.
fn write_areas(
    root: &Path,
    scratch: &Path,
    refreshed: &[(String, String)],
) -> Result<PathBuf, Error> {
    let in_place = root.join(layout::AREAS_DIR);
    let mut texts = std::collections::BTreeMap::new();
    for area in layout::areas_in(&in_place).unwrap_or_default() {
        let path = in_place.join(format!("{area}.json"));
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Read { path, source })?;
        texts.insert(area, text);
    }
    texts.extend(refreshed.iter().cloned());
    let dir = scratch.join("areas").join(hash_of(&texts));
    for (area, text) in &texts {
        write_once(&dir.join(format!("{area}.json")), text)?;
    }
    Ok(dir)
}

/// The area whose generated code `file` is (`OUT_DIR/areas/<area>.rs`, or
/// its mock helpers `<area>_mock.rs`).
fn area_of(file: &Path) -> Option<String> {
    if file.parent()?.file_name()? != "areas" {
        return None;
    }
    let stem = file.file_stem()?.to_str()?;
    Some(stem.strip_suffix("_mock").unwrap_or(stem).to_owned())
}

/// `cargo check` of the library (with `test-util`) built from `spec`, in
/// its own target directory under `scratch`; JSON messages on stdout.
fn cargo_check(root: &Path, scratch: &Path, spec: &Path) -> Result<std::process::Output, Error> {
    // `multipart`: the partner fragment may take an upload, which the build
    // script then asks for.
    cargo_check_with(root, scratch, "test-util,multipart", (SPEC_ENV, spec))
}

/// `cargo check` of the library with `features`, `fragment` naming the
/// variable and path of what it builds from.
fn cargo_check_with(
    root: &Path,
    scratch: &Path,
    features: &str,
    fragment: (&str, &Path),
) -> Result<std::process::Output, Error> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    Command::new(cargo)
        .current_dir(root)
        .args([
            "check",
            "--locked",
            "--quiet",
            "--lib",
            "--package",
            "rhombus-partner",
            "--features",
            features,
            "--message-format=json",
            "--manifest-path",
        ])
        .arg(root.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(scratch.join("target"))
        .env(fragment.0, fragment.1)
        // What an outer cargo exported would steer this one elsewhere.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_MAKEFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .output()
        .map_err(|source| Error::Run {
            what: "cargo to check the refreshed fragment".to_owned(),
            source,
        })
}

/// Writes `text` to a file named after its hash, once ([`write_once`]).
fn write_fragment(scratch: &Path, text: &str) -> Result<PathBuf, Error> {
    let path = scratch
        .join("specs")
        .join(format!("{}.json", hash_of(text)));
    write_once(&path, text)?;
    Ok(path)
}

/// A name for what `value` holds.
fn hash_of(value: &(impl Hash + ?Sized)) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// Writes `text` to `path` unless it holds it already: a fragment already
/// checked keeps its modification time, so cargo has nothing to redo, and
/// concurrent refreshes (each path named after a hash of what it holds)
/// never write one another's file.
fn write_once(path: &Path, text: &str) -> Result<(), Error> {
    if std::fs::read_to_string(path).ok().as_deref() == Some(text) {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| Error::Create {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    crate::project::write_atomically(path, text)
}

/// The build script's or cargo's own error lines (all of it if none).
fn error_lines(stderr: &str) -> String {
    let said: Vec<&str> = (stderr.lines())
        .filter(|l| l.trim_start().starts_with("error"))
        .collect();
    match said.is_empty() {
        true => stderr.trim().to_owned(),
        false => said.join("\n"),
    }
}

/// One rustc error, or a warning in the generated code.
struct Diagnostic {
    /// `error[E0433]: cannot find ...`
    headline: String,
    /// The generated file and the 1-based line the diagnostic points at.
    at: Option<(PathBuf, usize)>,
}

/// Errors anywhere, and warnings in the generated files (the library's own
/// warnings are not the fragment's doing), in rustc's order.
fn diagnostics(stdout: &str) -> Vec<Diagnostic> {
    Message::parse_stream(stdout.as_bytes())
        .filter_map(Result::ok)
        .filter_map(|message| match message {
            Message::CompilerMessage(compiler) => counted(&compiler.message),
            _ => None,
        })
        .collect()
}

/// `message`, if it counts: an error (not rustc's closing tally), or a
/// warning whose primary span is in a generated file.
fn counted(message: &rustc::Diagnostic) -> Option<Diagnostic> {
    let span = message.spans.iter().find(|s| s.is_primary);
    let file = span.map_or("", |s| s.file_name.as_str());
    let path = Path::new(file);
    let generated = path
        .file_name()
        .is_some_and(|n| n == "partner.rs" || n == "partner_mock.rs")
        || area_of(path).is_some();
    let level = match message.level {
        DiagnosticLevel::Error if !message.message.starts_with("aborting due to") => "error",
        DiagnosticLevel::Warning if generated => "warning",
        _ => return None,
    };
    let code = message
        .code
        .as_ref()
        .map(|c| format!("[{}]", c.code))
        .unwrap_or_default();
    Some(Diagnostic {
        headline: format!("{level}{code}: {}", message.message),
        at: generated.then(|| (PathBuf::from(file), span.map_or(0, |s| s.line_start))),
    })
}

impl Diagnostic {
    /// `<fragment> at <pointer>: ...; to fix: ...`, in the form of the build
    /// script's messages.
    fn located(&self, doc: &Value, shown_as: &Path) -> String {
        let (pointer, place) = self.pointer(doc);
        let at = pointer.map(|p| format!(" at {p}")).unwrap_or_default();
        format!(
            "{}{at}: the code generated from this does not compile: {} ({place}); to fix: leave \
             this part out of the fragment, and report it as a bug in rhombus-partner's \
             generator (codegen/) with the fragment attached",
            shown_as.display(),
            self.headline
        )
    }

    /// The schema or operation whose generated code it is in (its JSON
    /// pointer), and where in the generated code.
    fn pointer(&self, doc: &Value) -> (Option<String>, String) {
        match &self.at {
            Some((file, line)) => {
                let name = file.file_name().unwrap_or_default().to_string_lossy();
                let item = std::fs::read_to_string(file)
                    .ok()
                    .and_then(|code| enclosing_item(&code, *line));
                let pointer = item.as_ref().and_then(|item| pointer_of(doc, item));
                let place = match &item {
                    Some(item) => format!("generated {name}:{line}, in `{}`", item.name),
                    None => format!("generated {name}:{line}"),
                };
                (pointer, place)
            }
            None => (None, "in the library".to_owned()),
        }
    }
}

/// The named item of the generated code a line is in.
struct Item {
    /// A type (`pub struct Gadget`) or a function (`pub async fn find_gadget`).
    is_type: bool,
    name: String,
}

/// The innermost named item of the generated `code` that holds `line`
/// (1-based): a method or function by its name, else the type (a struct,
/// an enum, an `impl`'s self type) it belongs to.
fn enclosing_item(code: &str, line: usize) -> Option<Item> {
    let file = syn::parse_file(code).ok()?;
    innermost(&file.items, line)
}

fn innermost(items: &[syn::Item], line: usize) -> Option<Item> {
    let item = items.iter().find(|item| holds(*item, line))?;
    let named = |is_type, ident: &syn::Ident| {
        Some(Item {
            is_type,
            name: ident.to_string(),
        })
    };
    match item {
        syn::Item::Mod(module) => innermost(module.content.as_ref().map_or(&[], |c| &c.1), line),
        syn::Item::Struct(item) => named(true, &item.ident),
        syn::Item::Enum(item) => named(true, &item.ident),
        syn::Item::Fn(item) => named(false, &item.sig.ident),
        syn::Item::Impl(block) => block
            .items
            .iter()
            .find_map(|member| match member {
                syn::ImplItem::Fn(method) if holds(method, line) => named(false, &method.sig.ident),
                _ => None,
            })
            .or_else(|| match &*block.self_ty {
                // `impl X`, `impl Trait for X`, `impl<'a> X<'a>`: X.
                syn::Type::Path(path) => named(true, &path.path.segments.last()?.ident),
                _ => None,
            }),
        _ => None,
    }
}

/// Whether `node`'s lines include `line`.
fn holds(node: &impl Spanned, line: usize) -> bool {
    let span = node.span();
    (span.start().line..=span.end().line).contains(&line)
}

/// The schema or operation whose generated code `item` is.
fn pointer_of(doc: &Value, item: &Item) -> Option<String> {
    if item.is_type
        && let Some(schemas) = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
        && let Some(name) = schemas.keys().find(|k| sanitize(k, true) == item.name)
    {
        return Some(spec::schema_pointer(name));
    }
    // A method, or a type named after an operation (`FindGadgetResponse`,
    // the mock helpers' `FindGadgetWhen`): the operation with the longest
    // name that fits.
    let mut best: Option<(usize, String)> = None;
    for op in spec::operations(doc) {
        let Some(id) = op.id() else {
            continue;
        };
        let fits = if item.is_type {
            item.name.starts_with(&sanitize(id, true))
        } else {
            item.name == sanitize(id, false)
        };
        if fits && best.as_ref().is_none_or(|(len, _)| id.len() > *len) {
            best = Some((id.len(), op.pointer()));
        }
    }
    best.map(|(_, pointer)| pointer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CODE: &str = "\
pub mod types {
    pub struct FooBar {
        pub x: ::uuid::Uuid,
    }
    impl ::std::convert::From<&FooBar> for FooBar {
        fn from(value: &FooBar) -> Self {
            value.clone()
        }
    }
}
impl Client {
    pub async fn find_gadget<'a>(
        &'a self,
    ) -> Result<(), ()> {
        let x = 1;
    }
}
";

    fn doc() -> Value {
        json!({
            "paths": { "/gadgets/find": { "post": { "operationId": "findGadget" } } },
            "components": { "schemas": { "Foo-Bar": {} } }
        })
    }

    #[test]
    fn an_area_file_is_named_by_its_area() {
        let out = Path::new("target/debug/build/rhombus-partner-1/out");
        assert_eq!(area_of(&out.join("areas/door.rs")).as_deref(), Some("door"));
        assert_eq!(
            area_of(&out.join("areas/door_mock.rs")).as_deref(),
            Some("door")
        );
        assert_eq!(area_of(&out.join("partner.rs")), None);
    }

    #[test]
    fn a_line_maps_to_the_schema_or_operation_it_was_generated_from() {
        let in_field = enclosing_item(CODE, 3).expect("an item");
        assert_eq!((in_field.is_type, in_field.name.as_str()), (true, "FooBar"));
        assert_eq!(
            pointer_of(&doc(), &in_field).as_deref(),
            Some("/components/schemas/Foo-Bar")
        );
        let in_impl = enclosing_item(CODE, 7).expect("an item");
        assert_eq!(in_impl.name, "from");
        let in_method = enclosing_item(CODE, 15).expect("an item");
        assert_eq!(
            pointer_of(&doc(), &in_method).as_deref(),
            Some("/paths/~1gadgets~1find/post")
        );
        let helper = Item {
            is_type: true,
            name: "FindGadgetWhen".to_owned(),
        };
        assert_eq!(
            pointer_of(&doc(), &helper).as_deref(),
            Some("/paths/~1gadgets~1find/post")
        );
    }

    /// rustc's JSON messages: errors count wherever they are, warnings only
    /// in the generated files, and the summary line does not count.
    #[test]
    fn errors_and_generated_warnings_are_kept() {
        // As cargo writes them (`--message-format=json`), every field there.
        let line = |level: &str, file: &str, text: &str| {
            let span = json!({
                "file_name": file, "byte_start": 0, "byte_end": 1, "line_start": 3,
                "line_end": 3, "column_start": 1, "column_end": 2, "is_primary": true,
                "text": [], "label": null, "suggested_replacement": null,
                "suggestion_applicability": null, "expansion": null
            });
            json!({
                "reason": "compiler-message",
                "package_id": "path+file:///t#rhombus-partner@0.3.0",
                "manifest_path": "/t/Cargo.toml",
                "target": {
                    "kind": ["lib"], "crate_types": ["lib"], "name": "rhombus_partner",
                    "src_path": "/t/src/lib.rs", "edition": "2024", "required-features": [],
                    "doc": true, "doctest": true, "test": true
                },
                "message": {
                    "$message_type": "diagnostic",
                    "level": level,
                    "message": text,
                    "code": { "code": "E0433", "explanation": null },
                    "spans": if file.is_empty() { json!([]) } else { json!([span]) },
                    "children": [],
                    "rendered": text
                }
            })
            .to_string()
        };
        let stdout = [
            line("warning", "src/retry.rs", "unused"),
            line("warning", "/t/out/partner.rs", "unused variable"),
            line("error", "/t/out/partner.rs", "cannot find `uuid`"),
            line("error", "", "aborting due to 1 previous error"),
            "{\"reason\":\"build-finished\",\"success\":false}".to_owned(),
        ]
        .join("\n");
        let found = diagnostics(&stdout);
        let headlines: Vec<&str> = found.iter().map(|d| d.headline.as_str()).collect();
        assert_eq!(
            headlines,
            [
                "warning[E0433]: unused variable",
                "error[E0433]: cannot find `uuid`"
            ]
        );
        assert_eq!(found[1].at, Some((PathBuf::from("/t/out/partner.rs"), 3)));
    }
}
