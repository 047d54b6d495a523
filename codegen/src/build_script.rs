//! `rhombus-partner`'s build script, whole: its `build.rs` only calls
//! [`main`]. It lives here so that the script's own crate is one call to
//! compile (the generator is compiled once, in this crate).
//!
//! Generates the partner client from the OpenAPI fragment into `OUT_DIR`
//! (and, with their features, the areas' clients and the mock helpers),
//! and the test fixtures' clients.

use std::path::{Path, PathBuf};

use crate as codegen;
use crate::layout::{self, AREAS_DIR, AREAS_ENV, FRAGMENT, SPEC_ENV};

/// Fragments that tests compile clients from.
const FIXTURES: &str = "tests/fixtures";

/// The build script's `main`: generates, or fails the build with each
/// line of the located error as a `cargo::error`.
pub fn main() {
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
    // The generator is a dependency: cargo rebuilds this script when it changes.
    println!("cargo::rerun-if-changed=build.rs");

    let spec = std::env::var_os(SPEC_ENV).map_or_else(|| FRAGMENT.into(), PathBuf::from);
    println!("cargo::rerun-if-changed={}", root.join(&spec).display());

    // Cargo runs build scripts in the package root, so the relative path
    // resolves there and error messages name the file as the user wrote it.
    let text = codegen::read_spec(&spec).map_err(|e| e.to_string())?;
    let artifacts = codegen::generate(&spec, &text).map_err(|e| e.to_string())?;
    let client = artifacts.client().map_err(|e| e.to_string())?;
    write(&out_dir.join("partner.rs"), &client)?;
    // `Download` is compiled only where a generated client hands one over
    // (an answer that is not JSON): no feature to turn on, nothing for
    // other builds to pay.
    println!("cargo::rustc-check-cfg=cfg(rhombus_download)");
    let mut downloads = artifacts.hands_over.downloads;
    if artifacts.hands_over.uploads && std::env::var_os("CARGO_FEATURE_MULTIPART").is_none() {
        return Err(format!(
            "{}: an operation takes multipart parts (an upload); to fix: turn on this crate's \
             feature `multipart`",
            spec.display()
        ));
    }
    // Only a build with `test-util` compiles the mock helpers, so only it
    // fails when they could not be generated.
    if std::env::var_os("CARGO_FEATURE_TEST_UTIL").is_some() {
        let mock = artifacts.mock().map_err(|e| e.to_string())?;
        write(&out_dir.join("partner_mock.rs"), &mock)?;
    }
    downloads |= areas(&out_dir)?;
    if downloads {
        println!("cargo::rustc-cfg=rhombus_download");
    }
    let helpers = artifacts.test_helpers().map_err(|e| e.to_string())?;
    let own = format!("{client}\n{helpers}");
    fixtures(&root, &own, &out_dir)
}

/// Writes, into `OUT_DIR/fixtures/`, the crate's own client with the
/// test-only helpers (`own`, generated with the library's) and one for each
/// `tests/fixtures/*.json`, through the same step as the library, so that a
/// test can compile a client from a fragment with shapes the real one lacks
/// (state-changing operations, string enums) without a nested cargo build.
/// Only tests include these files.
fn fixtures(root: &Path, own: &str, out_dir: &Path) -> Result<(), String> {
    let dir = Path::new(FIXTURES);
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
    write(&target_dir.join("this-crate.rs"), own)?;
    for name in names {
        let spec = dir.join(&name);
        if spec.extension().is_none_or(|ext| ext != "json") {
            continue;
        }
        let text = codegen::read_spec(&spec).map_err(|e| e.to_string())?;
        let code = codegen::generate(&spec, &text).map_err(|e| e.to_string())?;
        let target = target_dir.join(spec.with_extension("rs").file_name().unwrap_or_default());
        write(&target, &code.test_client().map_err(|e| e.to_string())?)?;
    }
    Ok(())
}

/// Generates, into `OUT_DIR/areas/`, the client (and, with `test-util`, the
/// mock helpers) of every area whose feature is on. A build without area
/// features reads no fragment under `spec/areas/`, only their names.
/// Whether one of them hands over a `Download`.
fn areas(out_dir: &Path) -> Result<bool, String> {
    println!("cargo::rerun-if-env-changed={AREAS_ENV}");
    let dir = std::env::var_os(AREAS_ENV).map_or_else(|| AREAS_DIR.into(), PathBuf::from);
    let areas = enabled_areas(&dir)?;
    if areas.is_empty() {
        return Ok(false);
    }
    println!("cargo::rerun-if-changed={}", dir.display());
    let target_dir = out_dir.join("areas");
    std::fs::create_dir_all(&target_dir)
        .map_err(|e| format!("cannot create {}: {e}", target_dir.display()))?;
    let mock = std::env::var_os("CARGO_FEATURE_TEST_UTIL").is_some();
    let mut downloads = false;
    for area in areas {
        let spec = dir.join(format!("{area}.json"));
        let text = codegen::read_spec(&spec).map_err(|e| e.to_string())?;
        let module = format!("crate::areas::{}", layout::area_module(&area));
        let target = codegen::Target { module: &module };
        let code = codegen::generate_for(&spec, &text, &target).map_err(|e| e.to_string())?;
        write(
            &target_dir.join(format!("{area}.rs")),
            &code.client().map_err(|e| e.to_string())?,
        )?;
        downloads |= code.hands_over.downloads;
        if mock {
            let helpers = code.mock().map_err(|e| e.to_string())?;
            write(&target_dir.join(format!("{area}_mock.rs")), &helpers)?;
        }
    }
    Ok(downloads)
}

/// The areas whose feature is on: a fragment's name is an area, and cargo
/// announces its feature as `CARGO_FEATURE_<AREA>`. A package without
/// `spec/areas/` (a test's copy of the crate) has none.
fn enabled_areas(dir: &Path) -> Result<Vec<String>, String> {
    let areas = match layout::areas_in(dir) {
        Ok(areas) => areas,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(format!(
                "cannot read {}: {e}; restore {AREAS_DIR} from git (the area features build \
                 from it), or point {AREAS_ENV} at a directory of area fragments",
                dir.display()
            ));
        }
    };
    Ok(areas
        .into_iter()
        .filter(|area| std::env::var_os(layout::area_feature_env(area)).is_some())
        .collect())
}

fn write(target: &Path, code: &str) -> Result<(), String> {
    std::fs::write(target, code).map_err(|e| format!("cannot write {}: {e}", target.display()))
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set; build this crate with cargo"))
}
