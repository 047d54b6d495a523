//! What `--version` says: the audit's version, the library it was written
//! against and the upstream OpenAPI document the library's fragments come
//! from.
//!
//! The library exports no version constant, and a path dependency's
//! version is not visible to the CLI at build time without a build script
//! running `cargo metadata`; so both are written here, and the unit tests
//! below fail when the workspace's `Cargo.toml` or the README says
//! otherwise (the CLI always builds against the library beside it, `..`).

/// The library's version (`rhombus-partner`, `../Cargo.toml`).
macro_rules! library_version {
    () => {
        "0.3.0"
    };
}

/// The date of Rhombus' OpenAPI document the fragments (`spec/`) were
/// refreshed from, as the README names it.
macro_rules! upstream_document {
    () => {
        "2026-04-09"
    };
}

/// The library's version.
pub const LIBRARY_VERSION: &str = library_version!();
/// The date of the upstream OpenAPI document of the fragments.
pub const UPSTREAM_DOCUMENT: &str = upstream_document!();

/// `rhombus-audit --version`: `rhombus-audit ` and this.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (library rhombus-partner ",
    library_version!(),
    "; API fragments from Rhombus' OpenAPI document of ",
    upstream_document!(),
    ")"
);

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace_file(name: &str) -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        std::fs::read_to_string(format!("{path}/{name}")).expect("a workspace file")
    }

    #[test]
    fn the_library_version_is_the_workspace_crates() {
        #[derive(serde::Deserialize)]
        struct Manifest {
            package: Package,
        }
        #[derive(serde::Deserialize)]
        struct Package {
            name: String,
            version: String,
        }
        let manifest: Manifest = toml::from_str(&workspace_file("Cargo.toml")).expect("TOML");
        assert_eq!(manifest.package.name, "rhombus-partner");
        assert_eq!(
            LIBRARY_VERSION, manifest.package.version,
            "update library_version! in cli/src/version.rs"
        );
    }

    #[test]
    fn the_upstream_document_is_the_one_the_readme_and_ci_name() {
        let readme = workspace_file("README.md").replace('\n', " ");
        let named = format!("from the upstream document of {UPSTREAM_DOCUMENT}");
        assert!(readme.contains(&named), "README: {named}");
        let ci = workspace_file(".ci/run");
        assert!(ci.contains(&format!("rhombus-openapi-{UPSTREAM_DOCUMENT}.json")));
    }

    #[test]
    fn the_version_names_all_three() {
        assert!(VERSION.starts_with(env!("CARGO_PKG_VERSION")));
        assert!(VERSION.contains(LIBRARY_VERSION) && VERSION.contains(UPSTREAM_DOCUMENT));
    }
}
