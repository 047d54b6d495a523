//! Generates the client from the OpenAPI fragment into `OUT_DIR`.

#[path = "codegen/mod.rs"]
mod codegen;

use std::path::PathBuf;

/// Names another fragment to build from, relative to the package root.
const SPEC_ENV: &str = "RHOMBUS_PARTNER_SPEC";
const DEFAULT_SPEC: &str = "spec/partner.json";
/// Fragments that tests compile clients from.
const FIXTURES: &str = "tests/fixtures";

fn main() {
    if let Err(message) = try_main() {
        // `cargo::error` shows each line as a build error; the exit code
        // fails the build on any cargo that ignores the directive.
        for line in message.lines() {
            println!("cargo::error={line}");
        }
        std::process::exit(1);
    }
}

fn try_main() -> Result<(), String> {
    let root = PathBuf::from(env("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(env("OUT_DIR")?);
    println!("cargo::rerun-if-env-changed={SPEC_ENV}");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=codegen");

    let spec = std::env::var_os(SPEC_ENV).map_or_else(|| DEFAULT_SPEC.into(), PathBuf::from);
    println!("cargo::rerun-if-changed={}", root.join(&spec).display());

    // Cargo runs build scripts in the package root, so the relative path
    // resolves there and error messages name the file as the user wrote it.
    let code = codegen::generate_file(&spec).map_err(|e| e.to_string())?;
    let target = out_dir.join("partner.rs");
    std::fs::write(&target, code).map_err(|e| format!("cannot write {}: {e}", target.display()))?;

    generate_mock(&spec, &out_dir)?;
    fixtures(&root, &spec, &out_dir)
}

/// Generates each `tests/fixtures/*.json`, and the crate's own fragment with
/// the test-only helpers, into `OUT_DIR/fixtures/`, through the same step as
/// the library, so that a test can compile a client from a fragment with
/// shapes the real one lacks (state-changing operations, string enums)
/// without a nested cargo build. Only tests include these files.
fn fixtures(
    root: &std::path::Path,
    spec: &std::path::Path,
    out_dir: &std::path::Path,
) -> Result<(), String> {
    let dir = std::path::Path::new(FIXTURES);
    let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
        // A packaged crate has no fixtures. Naming a missing path in
        // `rerun-if-changed` would rerun this script on every build.
        return Ok(());
    };
    println!("cargo::rerun-if-changed={FIXTURES}");
    let target_dir = out_dir.join("fixtures");
    std::fs::create_dir_all(&target_dir)
        .map_err(|e| format!("cannot create {}: {e}", target_dir.display()))?;
    let mut names: Vec<_> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    names.sort();
    let own = codegen::generate_test_file(spec).map_err(|e| e.to_string())?;
    let target = target_dir.join("this-crate.rs");
    std::fs::write(&target, own).map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    for name in names {
        let spec = dir.join(&name);
        if spec.extension().is_none_or(|ext| ext != "json") {
            continue;
        }
        let code = codegen::generate_test_file(&spec).map_err(|e| e.to_string())?;
        let target = target_dir.join(spec.with_extension("rs").file_name().unwrap_or_default());
        std::fs::write(&target, code)
            .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    }
    Ok(())
}

/// With the `test-util` feature, the httpmock helpers for every operation,
/// from the same fragment; other builds skip this step entirely.
fn generate_mock(spec: &std::path::Path, out_dir: &std::path::Path) -> Result<(), String> {
    if std::env::var_os("CARGO_FEATURE_TEST_UTIL").is_none() {
        return Ok(());
    }
    let code = codegen::mock::generate_mock_file(spec).map_err(|e| e.to_string())?;
    let target = out_dir.join("partner_mock.rs");
    std::fs::write(&target, code).map_err(|e| format!("cannot write {}: {e}", target.display()))
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set; build this crate with cargo"))
}
