//! Running the real `xtask` binary from the integration tests.

#![allow(dead_code)] // Each test crate uses part of this.

use std::path::{Path, PathBuf};
use std::process::Command;

pub const FRAGMENT: &str = "spec/partner.json";
pub const API_LISTING: &str = "spec/partner.api.txt";

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_path_buf()
}

/// A scratch file for `test` under `target/`, never in the source tree.
pub fn scratch(test: &str, name: &str) -> PathBuf {
    let dir = root().join("target/xtask-tests").join(test);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir.join(name)
}

/// What one run of the binary did.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn both(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `xtask` with `args` in the workspace root.
pub fn xtask(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("the xtask binary runs");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `refresh-spec` with `args` into a fresh `target/xtask-tests/<test>/`
/// file and expects success; returns the run and the fragment's path.
pub fn refresh_into(test: &str, args: &[&str]) -> (Run, PathBuf) {
    let out = scratch(test, "fragment.json");
    let _ = std::fs::remove_file(&out);
    let mut all = vec!["refresh-spec", "--out", out.to_str().expect("UTF-8 path")];
    all.extend_from_slice(args);
    let run = xtask(&all);
    assert_eq!(run.code, Some(0), "{}", run.both());
    (run, out)
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

pub fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&read(path)).expect("valid JSON")
}

/// `METHOD path` of every operation in a fragment.
pub fn operations(fragment: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    for (path, item) in fragment["paths"].as_object().into_iter().flatten() {
        for method in item.as_object().into_iter().flat_map(|m| m.keys()) {
            out.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    out
}
