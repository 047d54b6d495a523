//! Tells the tests which directories of `../shared` (beside the repository:
//! the upstream snapshots and the seed pages, never copied into it) are
//! there, so that a test needing an absent one is listed by `cargo test` as
//! ignored, with the reason, instead of passing silently:
//!
//! - `SHARED_DIR` (env): the directory, `../shared` from the workspace root
//!   unless `RHOMBUS_SHARED_DIR` names another (to try the absent case);
//! - cfg `no_upstream` / `no_seeds`: its `upstream` / `seeds` is absent.

use std::path::PathBuf;

const OVERRIDE: &str = "RHOMBUS_SHARED_DIR";

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed={OVERRIDE}");
    let shared = std::env::var_os(OVERRIDE).map_or_else(
        || {
            let manifest =
                PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
            manifest.join("../../shared")
        },
        PathBuf::from,
    );
    println!("cargo::rustc-env=SHARED_DIR={}", shared.display());
    let mut any_absent = false;
    for (dir, cfg) in [("upstream", "no_upstream"), ("seeds", "no_seeds")] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        let path = shared.join(dir);
        if path.is_dir() {
            // Removed, it is missing: the script reruns.
            println!("cargo::rerun-if-changed={}", path.display());
        } else {
            println!("cargo::rustc-cfg={cfg}");
            any_absent = true;
        }
    }
    // Cargo reruns a script whose watched path is missing on every build
    // (and then rebuilds the crate), so only paths that exist are watched:
    // a directory added to `../shared` changes it. With no `../shared` at
    // all nothing is watched; a test (`shared_directories_are_as_built`)
    // then fails if one appears later.
    if any_absent && shared.is_dir() {
        println!("cargo::rerun-if-changed={}", shared.display());
    }
}
