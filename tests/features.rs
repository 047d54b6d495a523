//! The crate as a consumer builds it: with neither TLS feature (`rustls`,
//! `native-tls`) it does not compile, and its first error says why and what
//! to enable (which backend is used with both on is checked in `mtls.rs`,
//! under `native-tls`); every Rust file the package ships has the modules
//! it names shipped beside it, and no example is shipped.

mod common;

/// One nested `cargo check`, in the shared nested target directory; run only
/// with the default features, since it does not depend on them.
#[cfg(all(feature = "rustls", not(feature = "native-tls")))]
#[test]
fn without_a_tls_feature_the_first_error_names_the_features() {
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/partner.json");
    let (ok, output) = common::cargo_check_with_spec(&spec, &["--no-default-features"]);
    assert!(!ok, "the crate compiled without a TLS backend:\n{output}");
    let first_error = output
        .lines()
        .find(|line| line.starts_with("error"))
        .unwrap_or_else(|| panic!("no error line in:\n{output}"));
    assert!(
        first_error.contains("rhombus-partner needs a TLS backend")
            && first_error.contains("`rustls` feature (the default) or `native-tls`"),
        "the first error is {first_error:?}:\n{output}"
    );
}

/// `cargo package --list` ships no Rust file whose `mod name;` or
/// `#[path = ...]` names a file the package leaves out: such a file cannot
/// build from the published crate.
#[test]
fn every_shipped_file_has_the_modules_it_names() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = std::process::Command::new(env!("CARGO"))
        .args(["package", "--list", "--allow-dirty", "--offline"])
        .current_dir(root)
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let listed = String::from_utf8(output.stdout).expect("UTF-8");
    let shipped: std::collections::BTreeSet<&str> = listed.lines().collect();
    let mut missing = Vec::new();
    for file in shipped.iter().filter(|file| file.ends_with(".rs")) {
        let source = std::fs::read_to_string(root.join(file)).expect("readable");
        for needed in modules_named(file, &source) {
            if !shipped.contains(needed.as_str()) {
                missing.push(format!("{file} needs {needed}"));
            }
        }
    }
    assert!(missing.is_empty(), "not shipped:\n{}", missing.join("\n"));
    // The examples run against the workspace's fake Rhombus (`rhombus-fake`,
    // a path-only dev-dependency that `cargo package` drops): shipped, they
    // could not build.
    let examples: Vec<&&str> = (shipped.iter())
        .filter(|file| file.starts_with("examples/"))
        .collect();
    assert!(examples.is_empty(), "examples shipped: {examples:?}");
    assert!(
        shipped.contains("src/lib.rs") && shipped.contains("build.rs"),
        "{listed}"
    );
}

/// The files `source` (at `file`, relative to the package) names as
/// modules: the `#[path]` given, else `name/mod.rs` where a directory of
/// that name exists, else `name.rs`, beside `file`.
fn modules_named(file: &str, source: &str) -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::path::Path::new(file)
        .parent()
        .unwrap_or(std::path::Path::new(""));
    let mut named = Vec::new();
    let mut path_attribute = None;
    for line in source.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("#[path = \"") {
            path_attribute = rest.split('"').next().map(str::to_owned);
            continue;
        }
        let declared = line
            .strip_prefix("pub mod ")
            .or_else(|| line.strip_prefix("mod "))
            .and_then(|rest| rest.strip_suffix(';'));
        if let Some(name) = declared {
            let path = match path_attribute.take() {
                Some(path) => dir.join(path),
                None if root.join(dir).join(name).is_dir() => dir.join(name).join("mod.rs"),
                None => dir.join(format!("{name}.rs")),
            };
            named.push(normalize(&path));
        } else if !line.starts_with("#[") {
            path_attribute = None;
        }
    }
    named
}

/// `a/b/../c` as `a/c`, with `/` separators, as `cargo package --list` writes.
fn normalize(path: &std::path::Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                parts.pop();
            }
            std::path::Component::Normal(name) => parts.push(name.to_string_lossy().into_owned()),
            _ => {}
        }
    }
    parts.join("/")
}
