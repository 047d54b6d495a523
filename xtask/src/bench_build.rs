//! `cargo xtask bench-build`: what the crate adds to a user's build, each
//! figure measured in one run beside its baseline.
//!
//! 1. Clean builds, interleaved run by run: the crate (on the checked-in
//!    fragment, and on the 29-operation upstream partner fragment when the
//!    snapshot is there) against `rhombus-partner-baseline`, the same two
//!    endpoints written by hand on the same runtime dependencies.
//! 2. Rebuilds: after touching `src/lib.rs` the build script must not run
//!    again; after touching the fragment it must.
//! 3. The build script alone, run directly on each fragment, with its peak
//!    memory: unoptimized (cargo's default for build scripts) and with
//!    `build-override` at opt-level 3, whose clean build is timed too.
//! 4. Compiling the whole-document fragment: time and peak memory.
//!
//! Peak memory comes from GNU time (`/usr/bin/time`); without it, memory is
//! reported as unknown.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use crate::Error;
use crate::codegen::layout::SPEC_ENV;
use crate::project::{FRAGMENT, project_root};
use crate::{extract, refresh, source};

const SNAPSHOT: &str = "../shared/upstream/rhombus-openapi-2025-08-05.json";
const CRATE: &str = "rhombus-partner";
const BASELINE: &str = "rhombus-partner-baseline";
const GNU_TIME: &str = "/usr/bin/time";

/// One timed command.
struct Measure {
    seconds: f64,
    /// Peak resident memory of the largest process in the tree, in MiB.
    peak_mib: Option<f64>,
    output: String,
}

/// A fragment measured: `(label, operations, path)`.
type Fragment = (&'static str, usize, PathBuf);

pub fn run(runs: usize) -> Result<ExitCode, Error> {
    let root = project_root();
    let work = root.join("target/bench-build");
    std::fs::create_dir_all(&work).map_err(|source| Error::Create {
        path: work.clone(),
        source,
    })?;
    let fragments = fragments(&root, &work)?;
    let clean_median = clean_builds(&root, &work, &fragments, runs)?;
    rebuilds(&root, &work.join(BUILT))?;
    build_script_alone(&root, &work, &fragments, runs, clean_median)?;
    if let Some(whole) = fragments.iter().find(|f| f.0 == "whole-document") {
        whole_document(&root, &work, whole)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Section 1: clean builds of the crate (on each fragment but the whole
/// document) and of the baseline, interleaved; the crate's median on the
/// checked-in fragment.
fn clean_builds(
    root: &Path,
    work: &Path,
    fragments: &[Fragment],
    runs: usize,
) -> Result<f64, Error> {
    println!("== 1. clean builds (dev profile), {runs} runs each, interleaved");
    let (_, operations, _) = &fragments[0];
    let mut variants: Vec<(String, &str, Option<PathBuf>)> =
        vec![(format!("{CRATE} ({operations} operations)"), CRATE, None)];
    if let Some(partner) = fragments.iter().find(|f| f.0 == "partner") {
        variants.push((
            format!("{CRATE} ({} operations)", partner.1),
            CRATE,
            Some(partner.2.clone()),
        ));
    }
    variants.push((format!("{BASELINE} (handwritten)"), BASELINE, None));
    let mut clean: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    for run in 0..runs {
        for (index, (label, package, spec)) in variants.iter().enumerate() {
            let dir = work.join(format!("clean-{index}"));
            let _ = std::fs::remove_dir_all(&dir);
            let measure = cargo_build(root, package, &dir, spec.as_deref(), &[])?;
            println!("  run {}: {label}: {:.1} s", run + 1, measure.seconds);
            clean[index].push(measure.seconds);
        }
    }
    let baseline = median(clean.last().cloned().unwrap_or_default());
    for ((label, _, _), times) in variants.iter().zip(&clean) {
        println!(
            "  {label:<45} median {:>6.1} s  (spread {:.1}-{:.1} s)  ratio {:.3}",
            median(times.clone()),
            min(times),
            max(times),
            median(times.clone()) / baseline
        );
    }
    Ok(median(clean[0].clone()))
}

/// Section 2: touching the library must not rerun the build script;
/// touching the fragment must.
fn rebuilds(root: &Path, dir: &Path) -> Result<(), Error> {
    println!("\n== 2. rebuilds (build script reruns, from cargo -v)");
    touch(&root.join("src/lib.rs"))?;
    let after_src = cargo_build(root, CRATE, dir, None, &["-v"])?;
    touch(&root.join(FRAGMENT))?;
    let after_spec = cargo_build(root, CRATE, dir, None, &["-v"])?;
    let reruns = |m: &Measure| {
        m.output
            .lines()
            .filter(|l| l.contains("Running") && l.contains("build-script-build"))
            .count()
    };
    println!(
        "  touch src/lib.rs:        {} build-script runs, {:.1} s",
        reruns(&after_src),
        after_src.seconds
    );
    println!(
        "  touch spec/partner.json: {} build-script runs, {:.1} s",
        reruns(&after_spec),
        after_spec.seconds
    );
    Ok(())
}

/// Section 3: the build script run alone on each fragment, built at
/// opt-level 0 (from section 1) and at opt-level 3 (built here, timed
/// against `clean_median`).
fn build_script_alone(
    root: &Path,
    work: &Path,
    fragments: &[Fragment],
    runs: usize,
    clean_median: f64,
) -> Result<(), Error> {
    println!("\n== 3. the build script alone, {runs} runs each");
    let dir = work.join(BUILT);
    let optimized_dir = work.join(OPTIMIZED);
    let _ = std::fs::remove_dir_all(&optimized_dir);
    let optimized_build = cargo_build_env(root, CRATE, &optimized_dir, None, &[], &OPT3)?;
    println!(
        "  clean build with build-override opt-level 3: {:.1} s (opt-level 0: median {clean_median:.1} s above)",
        optimized_build.seconds,
    );
    for (profile, dir) in [("opt-level 0", &dir), ("opt-level 3", &optimized_dir)] {
        let script = build_script(dir)?;
        for (label, operations, spec) in fragments {
            let mut seconds = Vec::new();
            let mut peak = None;
            for _ in 0..runs {
                let measure = run_build_script(root, &script, spec, work)?;
                seconds.push(measure.seconds);
                peak = measure.peak_mib.or(peak);
            }
            println!(
                "  {profile}: {label:<15} {operations:>5} operations: median {:>7.2} s, peak {}",
                median(seconds),
                mib(peak)
            );
        }
    }
    Ok(())
}

/// Section 4: the crate built on the whole document's fragment, at both
/// opt-levels of the build script, then back on the checked-in one.
fn whole_document(root: &Path, work: &Path, whole: &Fragment) -> Result<(), Error> {
    let (dir, optimized_dir) = (work.join(BUILT), work.join(OPTIMIZED));
    println!(
        "\n== 4. compiling the whole-document fragment ({} operations)",
        whole.1
    );
    for (profile, dir, env) in [
        ("opt-level 0", &dir, &[][..]),
        ("opt-level 3", &optimized_dir, &OPT3[..]),
    ] {
        let measure = cargo_build_env(root, CRATE, dir, Some(&whole.2), &[], env)?;
        println!(
            "  build-override {profile}: {:.1} s, peak {}",
            measure.seconds,
            mib(measure.peak_mib)
        );
        // Back to the checked-in fragment for the next build.
        cargo_build_env(root, CRATE, dir, None, &[], env)?;
    }
    Ok(())
}

/// Under the bench's work directory: the crate built in section 1 on the
/// checked-in fragment, and built with the build script at opt-level 3.
const BUILT: &str = "clean-0";
const OPTIMIZED: &str = "clean-opt3";

/// The build script's opt-level raised to 3.
const OPT3: [(&str, &str); 1] = [("CARGO_PROFILE_DEV_BUILD_OVERRIDE_OPT_LEVEL", "3")];

/// How many operations the fragment at `path` holds.
fn operations_in(path: &Path) -> Result<usize, Error> {
    let fragment = source::load(&path.to_string_lossy())?;
    let paths = fragment.get("paths").and_then(serde_json::Value::as_object);
    Ok(paths.map_or(0, extract::count_operations))
}

/// `(label, operations, path)`: the checked-in fragment, and with the
/// snapshot, its partner fragment and the whole document, under `work`.
fn fragments(root: &Path, work: &Path) -> Result<Vec<Fragment>, Error> {
    let checked_in = root.join(FRAGMENT);
    let mut out = vec![("checked-in", operations_in(&checked_in)?, checked_in)];
    let snapshot = root.join(SNAPSHOT);
    if !snapshot.is_file() {
        println!(
            "note: {} is absent: only the checked-in fragment is measured",
            snapshot.display()
        );
        return Ok(out);
    }
    let from = snapshot.to_string_lossy().into_owned();
    let upstream = source::load(&from)?;
    for (label, prefix) in [("partner", "/api/partner/"), ("whole-document", "/api/")] {
        // Not type-checked here: what follows builds the crate from it.
        let fragment = refresh::refresh(&upstream, &[prefix.to_owned()], &from, false)?;
        let path = work.join(format!("{label}.json"));
        std::fs::write(&path, &fragment.text).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        out.push((label, fragment.operations, path));
    }
    Ok(out)
}

fn cargo_build(
    root: &Path,
    package: &str,
    target_dir: &Path,
    spec: Option<&Path>,
    extra: &[&str],
) -> Result<Measure, Error> {
    cargo_build_env(root, package, target_dir, spec, extra, &[])
}

fn cargo_build_env(
    root: &Path,
    package: &str,
    target_dir: &Path,
    spec: Option<&Path>,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Result<Measure, Error> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(root)
        .args([
            "build",
            "--locked",
            "--lib",
            "--package",
            package,
            "--target-dir",
        ])
        .arg(target_dir)
        .args(extra)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove(SPEC_ENV);
    if let Some(spec) = spec {
        command.env(SPEC_ENV, spec);
    }
    for (key, value) in env {
        command.env(key, value);
    }
    timed(command, &format!("cargo build -p {package}"))
}

/// The compiled build script of the crate in `target_dir`.
fn build_script(target_dir: &Path) -> Result<PathBuf, Error> {
    let build = target_dir.join("debug/build");
    let entries = std::fs::read_dir(&build).map_err(|source| Error::Read {
        path: build.clone(),
        source,
    })?;
    entries
        .filter_map(Result::ok)
        .map(|entry| entry.path().join("build-script-build"))
        .find(|path| {
            path.is_file()
                && path
                    .parent()
                    .and_then(Path::file_name)
                    .is_some_and(|n| n.to_string_lossy().starts_with("rhombus-partner-"))
        })
        .ok_or_else(|| Error::NoBuildScript {
            krate: CRATE.to_owned(),
            dir: build.clone(),
        })
}

fn run_build_script(
    root: &Path,
    script: &Path,
    spec: &Path,
    work: &Path,
) -> Result<Measure, Error> {
    let out_dir = work.join("script-out");
    std::fs::create_dir_all(&out_dir).map_err(|source| Error::Create {
        path: out_dir.clone(),
        source,
    })?;
    let mut command = Command::new(script);
    command
        .current_dir(root)
        .env("CARGO_MANIFEST_DIR", root)
        .env("OUT_DIR", &out_dir)
        .env(SPEC_ENV, spec);
    timed(command, "the build script")
}

/// Runs `command`, under GNU time when it is there, and fails on a
/// non-zero exit with the command's output.
fn timed(command: Command, what: &str) -> Result<Measure, Error> {
    let report = std::env::temp_dir().join(format!("bench-build-time-{}", std::process::id()));
    let mut command = if Path::new(GNU_TIME).is_file() {
        let mut wrapped = Command::new(GNU_TIME);
        wrapped
            .arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(&report)
            .arg(command.get_program());
        wrapped.args(command.get_args());
        if let Some(dir) = command.get_current_dir() {
            wrapped.current_dir(dir);
        }
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => wrapped.env(key, value),
                None => wrapped.env_remove(key),
            };
        }
        wrapped
    } else {
        command
    };
    let start = Instant::now();
    let output = command.output().map_err(|source| Error::Run {
        what: what.to_owned(),
        source,
    })?;
    let seconds = start.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(Error::Failed {
            what: what.to_owned(),
            output: text,
        });
    }
    let peak_mib = std::fs::read_to_string(&report)
        .ok()
        .and_then(|t| t.trim().lines().last()?.trim().parse::<f64>().ok())
        .map(|kib| kib / 1024.0);
    let _ = std::fs::remove_file(&report);
    Ok(Measure {
        seconds,
        peak_mib,
        output: text,
    })
}

fn touch(path: &Path) -> Result<(), Error> {
    std::fs::File::options()
        .append(true)
        .open(path)
        .and_then(|file| file.set_modified(std::time::SystemTime::now()))
        .map_err(|source| Error::Touch {
            path: path.to_path_buf(),
            source,
        })
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn min(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

fn mib(peak: Option<f64>) -> String {
    peak.map_or_else(
        || "unknown (no GNU time)".to_owned(),
        |m| format!("{m:.0} MiB"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(vec![]).is_nan());
    }
}
