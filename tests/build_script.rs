//! The build script on bad specs, through a real nested `cargo check`: the
//! build must fail with one message naming the file, the JSON pointer of the
//! part at fault and the fix, and no raw panic may reach the user.
//!
//! All cases share one nested target directory, so cargo runs them one at a
//! time on its lock; only the first one compiles the dependencies.

mod common;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
const SUMMARY_POST: &str = "/paths/~1api~1partner~1getClientSummaryInfo/post";
const CLIENTS_POST: &str = "/paths/~1api~1partner~1getClients/post";

/// What one nested `cargo check` did.
struct Outcome {
    succeeded: bool,
    /// stdout then stderr.
    output: String,
}

/// Checks the library with `RHOMBUS_PARTNER_SPEC` set to `spec`, as given.
fn cargo_check_with_spec(spec: &Path) -> Outcome {
    let (succeeded, output) = common::cargo_check_with_spec(spec, &["--quiet"]);
    Outcome { succeeded, output }
}

/// Where a spec named `name` goes, relative to the package root: the form
/// `RHOMBUS_PARTNER_SPEC` is documented in, and the one messages repeat.
fn spec_path(name: &str) -> PathBuf {
    Path::new("target/build-script-tests/specs").join(name)
}

fn real_spec_text() -> String {
    std::fs::read_to_string(Path::new(MANIFEST_DIR).join("spec/partner.json"))
        .expect("spec/partner.json is readable")
}

fn real_spec() -> Value {
    serde_json::from_str(&real_spec_text()).expect("spec/partner.json is JSON")
}

/// Writes `text` as spec `name`; returns the path relative to the package root.
fn write_spec_text(name: &str, text: &str) -> PathBuf {
    let relative = spec_path(name);
    let absolute = Path::new(MANIFEST_DIR).join(&relative);
    std::fs::create_dir_all(absolute.parent().expect("has a parent")).expect("specs dir");
    std::fs::write(&absolute, text).expect("spec written");
    relative
}

fn write_spec(name: &str, spec: &Value) -> PathBuf {
    let text = serde_json::to_string_pretty(spec).expect("serializes");
    write_spec_text(name, &text)
}

/// Builds with `spec`, expects failure, and checks what every failure must
/// say: `<file> at <pointer>: ` (or `<file>: ` for the whole file), the fix,
/// the case's own `expected` words, and no raw panic.
fn assert_build_fails(spec: &Path, pointer: Option<&str>, expected: &[&str]) {
    let Outcome { succeeded, output } = cargo_check_with_spec(spec);
    assert!(
        !succeeded,
        "the build succeeded with {}:\n{output}",
        spec.display()
    );
    let located = match pointer {
        Some(pointer) => format!("{} at {pointer}: ", spec.display()),
        None => format!("{}: ", spec.display()),
    };
    for wanted in [located.as_str(), "to fix:"].iter().chain(expected) {
        assert!(
            output.contains(wanted),
            "expected {wanted:?} in the output:\n{output}"
        );
    }
    assert!(
        !output.contains("panicked at"),
        "a raw panic reached the user:\n{output}"
    );
    // Shown with --nocapture, to see the messages users get.
    println!("{output}");
}

/// Proves the harness can pass: the real spec, copied, builds. It is given
/// as an absolute path, which the build script also accepts.
#[test]
fn unmodified_spec_copy_builds() {
    let spec = write_spec_text("unmodified.json", &real_spec_text());
    let absolute = Path::new(MANIFEST_DIR).join(&spec);
    let Outcome { succeeded, output } = cargo_check_with_spec(&absolute);
    assert!(succeeded, "the unmodified spec failed to build:\n{output}");
}

#[test]
fn missing_spec_file_is_named() {
    let spec = spec_path("does-not-exist.json");
    // A leftover from an earlier run would make this case meaningless.
    let _ = std::fs::remove_file(Path::new(MANIFEST_DIR).join(&spec));
    assert_build_fails(&spec, None, &["cannot read"]);
}

#[test]
fn truncated_json_reports_line_and_column() {
    let text = real_spec_text();
    // Halfway, backed off to a character boundary should the spec gain one.
    let cut = (0..=text.len() / 2)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or_default();
    let truncated = &text[..cut];
    // serde_json says where the text ends; the message must repeat it.
    let error = serde_json::from_str::<Value>(truncated).expect_err("truncated JSON is invalid");
    let position = format!("(line {}, column {})", error.line(), error.column());
    let spec = write_spec_text("truncated.json", truncated);
    assert_build_fails(&spec, None, &["not valid JSON", &position]);
}

#[test]
fn swagger_2_document_points_at_swagger_field() {
    let mut spec = real_spec();
    let top = spec.as_object_mut().expect("an object");
    top.remove("openapi").expect("had an openapi field");
    top.insert("swagger".to_owned(), json!("2.0"));
    let spec = write_spec("swagger-2.json", &spec);
    assert_build_fails(&spec, Some("/swagger"), &["Swagger"]);
}

#[test]
fn openapi_3_1_points_at_openapi_field() {
    let mut spec = real_spec();
    spec["openapi"] = json!("3.1.0");
    let spec = write_spec("openapi-3-1.json", &spec);
    assert_build_fails(&spec, Some("/openapi"), &["3.1.0"]);
}

#[test]
fn operation_without_operation_id_points_at_operation() {
    let mut spec = real_spec();
    let operation = spec
        .pointer_mut(SUMMARY_POST)
        .and_then(Value::as_object_mut)
        .expect("the getClientSummaryInfo operation");
    operation.remove("operationId").expect("had an operationId");
    let spec = write_spec("no-operation-id.json", &spec);
    assert_build_fails(&spec, Some(SUMMARY_POST), &["operationId"]);
}

#[test]
fn ref_to_missing_component_points_at_ref() {
    // This location's pointer has `application/json` escaped as `~1`.
    let schema = format!("{SUMMARY_POST}/requestBody/content/application~1json/schema");
    let mut spec = real_spec();
    *spec.pointer_mut(&schema).expect("request body schema") =
        json!({"$ref": "#/components/schemas/NoSuchRequest"});
    let spec = write_spec("missing-ref.json", &spec);
    assert_build_fails(&spec, Some(&schema), &["does not exist"]);
}

/// The generator panics on `not`; the build script must catch the panic and
/// name the schema.
#[test]
fn generator_panic_on_schema_points_at_schema() {
    let mut spec = real_spec();
    *spec
        .pointer_mut("/components/schemas/LicenseFeature")
        .expect("LicenseFeature schema") = json!({"not": {"type": "string"}});
    let spec = write_spec("unsupported-schema.json", &spec);
    assert_build_fails(
        &spec,
        Some("/components/schemas/LicenseFeature"),
        &["cannot turn this schema (with `not`) into a Rust type"],
    );
}

/// The generator returns an error for an XML request body; the build script
/// must name the operation.
#[test]
fn generator_error_on_operation_points_at_operation() {
    let content = format!("{SUMMARY_POST}/requestBody/content");
    let mut spec = real_spec();
    let content = spec
        .pointer_mut(&content)
        .and_then(Value::as_object_mut)
        .expect("request body content");
    let json_body = content.remove("application/json").expect("a JSON body");
    content.insert("application/xml".to_owned(), json_body);
    let spec = write_spec("xml-request-body.json", &spec);
    assert_build_fails(&spec, Some(SUMMARY_POST), &["cannot handle"]);
}

/// The exact line cargo prints for the build script's error `message`.
fn build_error_line(spec: &Path, message: &str) -> String {
    format!(
        "error: rhombus-partner@{}: {}{message}",
        env!("CARGO_PKG_VERSION"),
        spec.display()
    )
}

/// Builds with `spec`, expects failure with exactly `line` among the output.
fn assert_build_fails_with_line(spec: &Path, line: &str) {
    let Outcome { succeeded, output } = cargo_check_with_spec(spec);
    assert!(!succeeded, "the build succeeded with {}", spec.display());
    assert!(
        output.lines().any(|l| l == line),
        "expected the line\n{line}\nin the output:\n{output}"
    );
}

/// Two operations with one operationId: the second is named, with where
/// the first is, and the fix.
#[test]
fn duplicate_operation_id_is_located() {
    let mut spec = real_spec();
    let first = spec
        .pointer(&format!("{SUMMARY_POST}/operationId"))
        .cloned()
        .expect("getClientSummaryInfo has an operationId");
    *spec
        .pointer_mut(&format!("{CLIENTS_POST}/operationId"))
        .expect("getClients has an operationId") = first;
    let spec = write_spec("duplicate-operation-id.json", &spec);
    let line = build_error_line(
        &spec,
        &format!(
            " at {CLIENTS_POST}: operationId `getClientSummaryInfo` is already used at \
             {SUMMARY_POST}; to fix: give each operation a unique operationId"
        ),
    );
    assert_build_fails_with_line(&spec, &line);
}

/// A document that is JSON and OpenAPI 3.0 but not of its structure (here
/// responses given as a list): the part at fault, what it should be, the fix.
#[test]
fn invalid_openapi_3_0_structure_is_located() {
    let mut spec = real_spec();
    *spec
        .pointer_mut(&format!("{CLIENTS_POST}/responses"))
        .expect("getClients has responses") = json!(["200"]);
    let spec = write_spec("invalid-structure.json", &spec);
    let line = build_error_line(
        &spec,
        &format!(
            " at {CLIENTS_POST}/responses: not a valid OpenAPI 3.0 structure: invalid type: \
             sequence, expected struct Responses; to fix: correct that part against the \
             OpenAPI 3.0 specification"
        ),
    );
    assert_build_fails_with_line(&spec, &line);
}

/// Where the rerun test builds a copy of the package, so that touching its
/// generator leaves this checkout's own builds fresh.
const RERUN_COPY: &str = "target/build-script-tests/rerun";

/// Copies what `cargo check --lib` of this package reads into `to`, with a
/// manifest standing alone: its own workspace and version, no path
/// dev-dependency, no bench or test targets (their files are not copied).
fn copy_package(to: &Path) {
    let from = Path::new(MANIFEST_DIR);
    let _ = std::fs::remove_dir_all(to);
    let mut manifest = String::new();
    let mut skipping = false;
    for line in std::fs::read_to_string(from.join("Cargo.toml"))
        .expect("Cargo.toml")
        .lines()
    {
        skipping = match line {
            "[[bench]]" | "[[test]]" => true,
            "" => false,
            _ => skipping,
        };
        // The path dev-dependencies (the baseline, the fake Rhombus: no
        // version, never published) are not copied; the generator (a path
        // with a version) is.
        let unpublished = line.contains(" = { path = ") && !line.contains("version = ");
        if skipping || unpublished {
            continue;
        }
        let line = if line.starts_with("members = ") {
            "members = []".to_owned()
        } else {
            rerun_version(line)
        };
        manifest.push_str(&line);
        manifest.push('\n');
    }
    std::fs::create_dir_all(to.join("spec")).expect("copy directory");
    std::fs::write(to.join("Cargo.toml"), manifest).expect("manifest");
    for file in ["Cargo.lock", "build.rs", "README.md", "spec/partner.json"] {
        std::fs::copy(from.join(file), to.join(file)).expect(file);
    }
    for dir in ["codegen", "src"] {
        copy_dir(&from.join(dir), &to.join(dir));
    }
    // The generator crate, at the same version as the package and pinned.
    let generator = to.join("codegen/Cargo.toml");
    let text = std::fs::read_to_string(&generator).expect("codegen/Cargo.toml");
    let text: Vec<String> = text.lines().map(rerun_version).collect();
    std::fs::write(&generator, text.join("\n") + "\n").expect("manifest");
}

/// The copy's version in place of the package's, in a manifest's `version`
/// line or the generator's `=x.y.z` requirement. Cargo hashes a path package
/// by its place in its workspace, so the copy would share this package's
/// (and its generator's) units in the nested target directory, which the
/// other tests here rebuild with other specs: another version keeps them
/// apart.
fn rerun_version(line: &str) -> String {
    const RERUN: &str = "0.0.0-rerun-test";
    if line.starts_with("version = ") {
        format!("version = \"{RERUN}\"")
    } else {
        let pinned = format!("\"={}\"", env!("CARGO_PKG_VERSION"));
        line.replace(&pinned, &format!("\"={RERUN}\""))
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("directory");
    for entry in std::fs::read_dir(from).expect("readable") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copied");
        }
    }
}

/// Sets `file`'s modification time to now, its contents unchanged.
fn touch(file: &Path) {
    std::fs::File::options()
        .append(true)
        .open(file)
        .and_then(|f| f.set_modified(std::time::SystemTime::now()))
        .unwrap_or_else(|e| panic!("cannot touch {}: {e}", file.display()));
}

/// What cargo did with the build script in one verbose nested check.
#[derive(Debug, PartialEq)]
enum BuildScript {
    /// Neither compiled nor run: the generated client was reused.
    Fresh,
    /// Run again, as it was.
    Ran,
    /// Compiled again, then run.
    Rebuilt,
}

/// Checks the copy in `package`; returns what the build script did, and
/// cargo's reasons for rebuilding, if any (for failure messages).
fn check_copy(package: &Path, spec: Option<&Path>) -> (BuildScript, String) {
    // Files written within one timestamp tick of the last build would not
    // count as changed.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let (succeeded, output) = common::cargo_check_package(package, spec, &["--offline", "-v"]);
    assert!(succeeded, "the copy does not build:\n{output}");
    let compiled = output
        .lines()
        .any(|l| l.contains("Running `") && l.contains("--crate-name build_script_build"));
    let ran = output
        .lines()
        .any(|l| l.contains("Running `") && l.contains("/build-script-build`"));
    let reasons = output
        .lines()
        .filter(|l| l.trim_start().starts_with("Dirty"))
        .collect::<Vec<_>>()
        .join("\n");
    let script = match (compiled, ran) {
        (false, false) => BuildScript::Fresh,
        (false, true) => BuildScript::Ran,
        (true, true) => BuildScript::Rebuilt,
        (true, false) => panic!("compiled but not run:\n{output}"),
    };
    (script, reasons)
}

/// Checks the copy and expects the build script to have done `expected`
/// after `change`.
fn assert_build_script(package: &Path, spec: Option<&Path>, expected: BuildScript, change: &str) {
    let (script, reasons) = check_copy(package, spec);
    assert_eq!(script, expected, "after: {change}\n{reasons}");
}

/// The README: "the build re-runs when that variable, the fragment or the
/// generator code changes, and only then". Each step is one verbose
/// `cargo check` of a copy of the package; the copy's own build script is
/// new to the nested target directory, so it is compiled once at the start.
#[test]
fn build_script_reruns_only_when_its_inputs_change() {
    let package = Path::new(MANIFEST_DIR).join(RERUN_COPY);
    copy_package(&package);
    let fragment = Path::new("spec/partner.json");

    let (first, _) = check_copy(&package, None);
    assert_ne!(first, BuildScript::Fresh, "the first build of the copy");
    assert_build_script(&package, None, BuildScript::Fresh, "nothing");

    // A file of the package that the script does not read.
    std::fs::write(package.join("NOTES.md"), "not an input\n").expect("written");
    assert_build_script(&package, None, BuildScript::Fresh, "another file");

    touch(&package.join(fragment));
    assert_build_script(&package, None, BuildScript::Ran, "the fragment");

    // The variable, from unset to naming the same fragment.
    let named = Some(fragment);
    assert_build_script(&package, named, BuildScript::Ran, "the variable");
    assert_build_script(&package, named, BuildScript::Fresh, "nothing, variable set");

    touch(&package.join("codegen/src/settings.rs"));
    assert_build_script(&package, named, BuildScript::Rebuilt, "the generator");
}
