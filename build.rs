//! Generates the client from the OpenAPI fragment into `OUT_DIR`.

#[path = "codegen/mod.rs"]
mod codegen;

use std::path::{Path, PathBuf};

/// Names another fragment to build from, relative to the package root.
const SPEC_ENV: &str = "RHOMBUS_PARTNER_SPEC";
const DEFAULT_SPEC: &str = "spec/partner.json";
/// Fragments that tests compile clients from.
const FIXTURES: &str = "tests/fixtures";
/// The client-org API's fragments, one per area, each built only under the
/// cargo feature named after it.
const AREAS: &str = "spec/areas";

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
    let text = codegen::read_spec(&spec).map_err(|e| e.to_string())?;
    let artifacts = codegen::generate(&spec, &text).map_err(|e| e.to_string())?;
    write(&out_dir.join("partner.rs"), &artifacts.client)?;
    // Only a build with `test-util` compiles the mock helpers, so only it
    // fails when they could not be generated.
    if std::env::var_os("CARGO_FEATURE_TEST_UTIL").is_some() {
        let mock = artifacts.mock.map_err(|e| e.to_string())?;
        write(&out_dir.join("partner_mock.rs"), &mock)?;
    }
    areas(&out_dir)?;
    fixtures(&root, &artifacts.test_client, &out_dir)
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
        write(&target, &code.test_client)?;
    }
    Ok(())
}

/// The crate's features that are not areas.
const NOT_AREAS: [&str; 6] = [
    "DEFAULT",
    "RUSTLS",
    "NATIVE_TLS",
    "TEST_UTIL",
    "FLEET",
    "FULL",
];

/// Generates, into `OUT_DIR/areas/`, the client (and, with `test-util`, the
/// mock helpers) of every area whose feature is on. A build without area
/// features reads nothing under `spec/areas/`.
fn areas(out_dir: &Path) -> Result<(), String> {
    let areas = enabled_areas()?;
    if areas.is_empty() {
        return Ok(());
    }
    println!("cargo::rerun-if-changed={AREAS}");
    let target_dir = out_dir.join("areas");
    std::fs::create_dir_all(&target_dir)
        .map_err(|e| format!("cannot create {}: {e}", target_dir.display()))?;
    let mock = std::env::var_os("CARGO_FEATURE_TEST_UTIL").is_some();
    for area in areas {
        let spec = Path::new(AREAS).join(format!("{area}.json"));
        let text = codegen::read_spec(&spec).map_err(|e| e.to_string())?;
        let module = format!("crate::areas::{}", module_name(&area));
        let target = codegen::Target { module: &module };
        let code = codegen::generate_for(&spec, &text, &target).map_err(|e| e.to_string())?;
        write(&target_dir.join(format!("{area}.rs")), &code.client)?;
        if mock {
            let helpers = code.mock.map_err(|e| e.to_string())?;
            write(&target_dir.join(format!("{area}_mock.rs")), &helpers)?;
        }
    }
    Ok(())
}

/// The areas whose feature is on, named as their fragments are: cargo
/// announces a feature as `CARGO_FEATURE_<NAME>` (upper case), so the
/// fragments' names are read only when some feature is an area.
fn enabled_areas() -> Result<Vec<String>, String> {
    let features: Vec<String> = std::env::vars()
        .filter_map(|(name, _)| name.strip_prefix("CARGO_FEATURE_").map(str::to_owned))
        .filter(|feature| !NOT_AREAS.contains(&feature.as_str()))
        .collect();
    if features.is_empty() {
        return Ok(Vec::new());
    }
    let entries = std::fs::read_dir(AREAS).map_err(|e| {
        format!("cannot read {AREAS}: {e}; restore it from git (the area features build from it)")
    })?;
    let fragments: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".json")
                .map(str::to_owned)
        })
        .collect();
    let mut areas = Vec::new();
    for feature in features {
        let area = fragments
            .iter()
            .find(|area| area.to_uppercase().replace('-', "_") == feature)
            .ok_or_else(|| {
                format!(
                    "the feature of CARGO_FEATURE_{feature} is an area without a fragment in \
                     {AREAS}; run `cargo xtask refresh-spec` or drop the feature"
                )
            })?;
        areas.push(area.clone());
    }
    areas.sort();
    Ok(areas)
}

/// The module an area's client lives in: the area in snake case, by the
/// generator's naming rule, as `src/areas.rs` names it (`eventSearch` is
/// `event_search`).
fn module_name(area: &str) -> String {
    codegen::spec::sanitize(area, false)
}

fn write(target: &Path, code: &str) -> Result<(), String> {
    std::fs::write(target, code).map_err(|e| format!("cannot write {}: {e}", target.display()))
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set; build this crate with cargo"))
}
