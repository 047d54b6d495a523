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
