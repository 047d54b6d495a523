//! Generates the client from the OpenAPI fragment into `OUT_DIR`.

#[path = "src/codegen/mod.rs"]
mod codegen;

use std::path::PathBuf;

/// Names another fragment to build from, relative to the package root.
const SPEC_ENV: &str = "RHOMBUS_PARTNER_SPEC";
const DEFAULT_SPEC: &str = "spec/partner.json";

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
    println!("cargo::rerun-if-changed=src/codegen");

    let spec = std::env::var_os(SPEC_ENV).map_or_else(|| DEFAULT_SPEC.into(), PathBuf::from);
    println!("cargo::rerun-if-changed={}", root.join(&spec).display());

    // Cargo runs build scripts in the package root, so the relative path
    // resolves there and error messages name the file as the user wrote it.
    let code = codegen::generate_file(&spec).map_err(|e| e.to_string())?;
    let target = out_dir.join("partner.rs");
    std::fs::write(&target, code).map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    generate_mock(&spec, &out_dir)
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
