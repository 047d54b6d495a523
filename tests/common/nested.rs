//! Nested cargo builds of the crate, for the tests that build it from
//! another fragment or with other features.

/// Where nested builds put their output: shared by every test that builds
/// the crate from another fragment, and by the refresh's compile check, so
/// that the dependencies are compiled once for all of them.
pub const NESTED_TARGET: &str = "target/spec-check/target";

/// `cargo check` of the library with `RHOMBUS_PARTNER_SPEC` set to `spec`,
/// with `extra` arguments; whether it succeeded, and everything it printed.
pub fn cargo_check_with_spec(spec: &std::path::Path, extra: &[&str]) -> (bool, String) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut extra = extra.to_vec();
    extra.push("--locked");
    cargo_check_package(root, Some(spec), &extra)
}

/// `cargo check --lib` of the package in `package` (this crate or a copy
/// of it) in the shared nested target directory, with
/// `RHOMBUS_PARTNER_SPEC` set to `spec` or unset.
pub fn cargo_check_package(
    package: &std::path::Path,
    spec: Option<&std::path::Path>,
    extra: &[&str],
) -> (bool, String) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = std::process::Command::new(cargo);
    command
        .current_dir(package)
        .args(["check", "--lib"])
        .args(extra)
        .arg("--manifest-path")
        .arg(package.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(root.join(NESTED_TARGET))
        // Settings the outer build may have exported would otherwise steer
        // the nested one (another target dir, the outer jobserver, flags).
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_MAKEFLAGS");
    match spec {
        Some(spec) => command.env("RHOMBUS_PARTNER_SPEC", spec),
        None => command.env_remove("RHOMBUS_PARTNER_SPEC"),
    };
    let output = command.output().expect("cargo can be started");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    )
}
