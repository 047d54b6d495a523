//! The refresh against the real upstream snapshots in `../shared/upstream`
//! (test input only: read in place, results written under `target/`).
//! Without `../shared/upstream`, as on a fresh clone elsewhere, every test
//! here is ignored with that reason (`xtask/build.rs` sets `no_upstream`),
//! so `cargo test` shows what did not run.
//!
//! The `#[ignore]`d tests compile the crate against the refreshed fragments
//! in a nested `cargo build`; `.ci/run` runs them with `--ignored`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{json, operations, refresh_into, root, xtask};

const JULY_30: &str = "rhombus-openapi-2025-07-30.json";
const AUGUST_5: &str = "rhombus-openapi-2025-08-05.json";
/// The newer shape: an `x-auth-scheme` header parameter by `$ref` on every
/// operation, and `200` responses.
const APRIL_2026: &str = "rhombus-openapi-2026-04-09.json";
/// The partner part of a newer document, the checked-in fragment's source:
/// 32 operations, `x-auth-scheme` declared inline (an enum) in each.
const PARTNER_SLICE: &str = "rhombus-openapi-partner-slice-74548358.json";
/// Separate from `target/`, whose lock the outer `cargo test` holds.
const NESTED_TARGET: &str = "target/upstream-build";

/// The snapshot's path; the tests calling this are ignored when
/// `../shared/upstream` is absent, so a missing file there is a failure.
fn snapshot(name: &str) -> PathBuf {
    let path = Path::new(env!("SHARED_DIR")).join("upstream").join(name);
    assert!(
        path.is_file(),
        "{} is missing, though its directory is there",
        path.display()
    );
    path
}

/// Refreshes `snapshot` with `prefix` into `target/xtask-tests/<test>/`.
fn refresh(test: &str, snapshot: &Path, prefix: &str) -> (support::Run, PathBuf) {
    let from = snapshot.to_str().expect("UTF-8 path");
    refresh_into(test, &["--from", from, "--prefix", prefix])
}

#[test]
#[cfg_attr(no_upstream, ignore = "../shared/upstream is absent")]
fn august_snapshot_gives_29_partner_operations() {
    let snapshot = snapshot(AUGUST_5);
    let (run, out) = refresh("august-partner", &snapshot, "/api/partner/");
    let ops = operations(&json(&out));
    assert_eq!(ops.len(), 29, "{ops:#?}");
    assert!(
        ops.iter().all(|op| op.starts_with("POST /api/partner/")),
        "{ops:#?}"
    );
    assert!(!run.stdout.contains("left out"), "{}", run.stdout);
}

/// The refresh's log says it kept `operations` operations and `schemas`
/// schemas, and dropped one `x-auth-scheme` header per operation.
fn assert_counts(run: &support::Run, operations: usize, schemas: usize) {
    for line in [
        format!("result: {operations} operations, {schemas} schemas"),
        format!("drop-auth-headers            {operations} changes"),
    ] {
        assert!(run.stdout.contains(&line), "no {line:?} in\n{}", run.stdout);
    }
}

/// `refresh-spec --check` of the fragment `out` against the `later`
/// snapshot (with `extra` flags): stale, with `count` operations added and
/// none removed. Gives the run and the summary's `+ POST` lines.
fn added_by(later: &Path, out: &Path, extra: &[&str], count: usize) -> (support::Run, Vec<String>) {
    let mut args = vec![
        "refresh-spec",
        "--from",
        later.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--check",
    ];
    args.extend_from_slice(extra);
    let run = xtask(&args);
    assert_eq!(run.code, Some(1), "{}", run.both());
    assert!(
        run.stdout
            .contains(&format!("operations: {count} added, 0 removed")),
        "{}",
        run.stdout
    );
    let added: Vec<String> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("  + POST "))
        .map(str::to_owned)
        .collect();
    assert_eq!(added.len(), count, "{}", run.stdout);
    (run, added)
}

#[test]
#[cfg_attr(no_upstream, ignore = "../shared/upstream is absent")]
fn july_snapshot_gives_28_and_the_summary_to_august_names_the_change() {
    let (july, august) = (snapshot(JULY_30), snapshot(AUGUST_5));
    let (_, out) = refresh("july-to-august", &july, "/api/partner/");
    assert_eq!(operations(&json(&out)).len(), 28);

    let before = std::fs::read(&out).unwrap();
    let (run, added) = added_by(&august, &out, &[], 1);
    assert!(
        added[0].starts_with("  + POST /api/partner/updateSendLicenseExpirationEmail "),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("schemas: "), "{}", run.stdout);
    assert_eq!(
        std::fs::read(&out).unwrap(),
        before,
        "--check wrote the file"
    );
    println!("{}", run.stdout);
}

/// `refresh-spec --check` from the snapshot `name` against a copy of the
/// checked-in fragment (in `target/xtask-tests/<test>/`), with `extra`.
fn check_from_fragment(test: &str, name: &str, extra: &[&str]) -> support::Run {
    let from = snapshot(name);
    let out = support::scratch(test, "fragment.json");
    std::fs::copy(root().join(support::FRAGMENT), &out).unwrap();
    let mut args = vec![
        "refresh-spec",
        "--from",
        from.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--check",
    ];
    args.extend(extra);
    xtask(&args)
}

#[test]
#[cfg_attr(no_upstream, ignore = "../shared/upstream is absent")]
fn partner_slice_gives_the_checked_in_fragment_with_own_descriptions() {
    // From a copy of the checked-in fragment, so its texts are kept.
    let run = check_from_fragment("slice-own", PARTNER_SLICE, &["--descriptions", "own"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    // Every operation declared x-auth-scheme inline, an enum; none is left.
    assert_counts(&run, 32, 141);
}

#[test]
#[cfg_attr(no_upstream, ignore = "../shared/upstream is absent")]
fn april_2026_gives_21_operations_and_the_slice_adds_the_11_msp_ones() {
    let (april, slice) = (snapshot(APRIL_2026), snapshot(PARTNER_SLICE));
    let from = april.to_str().unwrap();
    let (run, out) = refresh_into(
        "april-to-slice",
        &["--from", from, "--prefix", "/api/partner/", "--no-compile"],
    );
    // Every operation declared x-auth-scheme by $ref; none is left.
    assert_counts(&run, 21, 99);
    let (run, added) = added_by(&slice, &out, &["--no-compile"], 11);
    assert!(
        added
            .iter()
            .any(|l| l.contains("/api/partner/license/claimToPool")),
        "{}",
        run.stdout
    );
}

#[test]
#[cfg_attr(no_upstream, ignore = "../shared/upstream is absent")]
fn the_summary_from_august_to_april_2026_says_what_breaks() {
    let (august, april) = (snapshot(AUGUST_5), snapshot(APRIL_2026));
    let (_, out) = refresh("august-to-april", &august, "/api/partner/");
    let markdown = support::scratch("august-to-april", "pr.md");
    let run = xtask(&[
        "refresh-spec",
        "--from",
        april.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--check",
        "--summary-markdown",
        markdown.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    assert!(run.stdout.contains("(breaking)"), "{}", run.stdout);
    assert!(run.stdout.contains("[breaking] method "), "{}", run.stdout);
    let md = support::read(&markdown);
    let (current, breaking, _) = versions();
    assert!(
        md.contains(&format!("**Version bump: {current} → {breaking}**")),
        "{md}"
    );
    println!("{}", run.stdout);
}

/// Upstream's own growth after 2026-04-09 breaks nobody: every field and
/// enum value it adds lands in a non-exhaustive type.
#[test]
#[cfg_attr(no_upstream, ignore = "../shared/upstream is absent")]
fn the_newer_partner_slice_is_additive() {
    let (april, slice) = (snapshot(APRIL_2026), snapshot(PARTNER_SLICE));
    let from = april.to_str().unwrap();
    let (_, out) = refresh_into(
        "april-before-slice",
        &["--from", from, "--prefix", "/api/partner/", "--no-compile"],
    );
    let (run, _) = added_by(&slice, &out, &["--no-compile"], 11);
    assert!(
        run.stdout
            .contains("impact on users: 0 breaking, 147 additive, 0 patch")
            && run
                .stdout
                .contains(&format!("-> {} (additive)", versions().2)),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("[additive] enum ActivityEnum: variant \"AC_LOCKDOWN_PLAN_SWITCHED\" added"),
        "{}",
        run.stdout
    );
}

/// Both snapshots, whole: the August one is the scale test; the July one
/// reuses operationIds across paths and has subtype/base cycles that made
/// the generator overflow its stack before the passes repaired them.
#[test]
#[cfg_attr(no_upstream, ignore = "../shared/upstream is absent")]
fn whole_documents_refresh_and_generate() {
    for (name, minimum) in [(AUGUST_5, 1200), (JULY_30, 800), (APRIL_2026, 800)] {
        let snapshot = snapshot(name);
        // Type-checking a whole document takes minutes; the ignored test
        // below does it for the August one.
        let from = snapshot.to_str().expect("UTF-8 path");
        let (run, out) = refresh_into(
            &format!("whole-{name}"),
            &["--from", from, "--prefix", "/api/", "--no-compile"],
        );
        assert!(
            run.stdout.contains("not compiled (--no-compile)"),
            "{}",
            run.stdout
        );
        let ops = operations(&json(&out));
        assert!(ops.len() > minimum, "{name}: only {} operations", ops.len());
        // Everything left out is named with its reason.
        let left_out: Vec<&str> = run
            .stdout
            .lines()
            .filter(|l| {
                l.starts_with("  POST ")
                    && (l.contains("neither JSON nor multipart") || l.contains("does not resolve"))
            })
            .collect();
        assert!(
            left_out.is_empty()
                || run
                    .stdout
                    .contains(&format!("left out {} operations", left_out.len())),
            "{}",
            run.stdout
        );
        println!("{name}:\n{}", run.stdout);
    }
}

/// `cargo build` of the library with `RHOMBUS_PARTNER_SPEC=<spec>`.
fn build_crate_with(spec: &Path) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(root())
        .args(["build", "--locked", "--lib", "--package", "rhombus-partner"])
        .arg("--target-dir")
        .arg(root().join(NESTED_TARGET))
        .env("RHOMBUS_PARTNER_SPEC", spec)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_MAKEFLAGS")
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "the crate does not compile from {}:\n{}",
        spec.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
#[cfg_attr(no_upstream, ignore = "../shared/upstream is absent")]
#[cfg_attr(
    not(no_upstream),
    ignore = "compiles the crate from the refreshed fragment; run by .ci/run"
)]
fn crate_compiles_from_the_august_partner_fragment() {
    let snapshot = snapshot(AUGUST_5);
    let (_, out) = refresh("august-partner-build", &snapshot, "/api/partner/");
    build_crate_with(&out);
}

#[test]
#[cfg_attr(no_upstream, ignore = "../shared/upstream is absent")]
#[cfg_attr(
    not(no_upstream),
    ignore = "compiles the crate from the refreshed fragment; run by .ci/run"
)]
fn crate_compiles_from_the_july_and_april_2026_partner_fragments() {
    for name in [JULY_30, APRIL_2026] {
        let snapshot = snapshot(name);
        let (_, out) = refresh(&format!("partner-build-{name}"), &snapshot, "/api/partner/");
        build_crate_with(&out);
    }
}

/// One whole document per test, so a failure names the snapshot. The
/// refresh writes the fragment only once the crate type-checks against it
/// (xtask/src/compile.rs), so a written fragment is the proof; a full
/// `cargo build` of a whole document would add minutes of code generation.
fn compile_whole(name: &str) {
    let snapshot = snapshot(name);
    let (run, out) = refresh(&format!("whole-document-build-{name}"), &snapshot, "/api/");
    assert!(
        run.stdout.contains("compiled: the crate type-checks"),
        "{}",
        run.stdout
    );
    assert!(operations(&json(&out)).len() > 500);
}

#[test]
#[cfg_attr(no_upstream, ignore = "../shared/upstream is absent")]
#[cfg_attr(
    not(no_upstream),
    ignore = "type-checks the crate from the whole upstream document (minutes); run by .ci/run"
)]
fn crate_compiles_from_the_whole_document() {
    compile_whole(AUGUST_5);
}

#[test]
#[cfg_attr(no_upstream, ignore = "../shared/upstream is absent")]
#[cfg_attr(
    not(no_upstream),
    ignore = "type-checks the crate from the whole upstream document (minutes); run by .ci/run"
)]
fn crate_compiles_from_the_whole_july_document() {
    compile_whole(JULY_30);
}

#[test]
#[cfg_attr(no_upstream, ignore = "../shared/upstream is absent")]
#[cfg_attr(
    not(no_upstream),
    ignore = "type-checks the crate from the whole upstream document (minutes); run by .ci/run"
)]
fn crate_compiles_from_the_whole_april_2026_document() {
    compile_whole(APRIL_2026);
}

/// The crate's version and the next breaking and additive ones under
/// Cargo's rules for `0.y.z`, which the refresh names.
fn versions() -> (String, String, String) {
    let manifest =
        support::read(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml"));
    let current = manifest
        .lines()
        .find_map(|line| line.strip_prefix("version = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("the package's version")
        .to_owned();
    let parts: Vec<u64> = current
        .split('.')
        .map(|p| p.parse().expect("a number"))
        .collect();
    let [0, minor, patch] = parts[..] else {
        panic!("these expectations are written for 0.y.z, not {current}");
    };
    let breaking = format!("0.{}.0", minor + 1);
    let additive = format!("0.{minor}.{}", patch + 1);
    (current, breaking, additive)
}

/// A copy of the newer partner slice with what the generator refuses as
/// written: enum values that differ only in case, a `not` schema, a
/// recursive schema, a `oneOf` answer, and an operation whose two success
/// answers have different schemas.
fn hostile_slice() -> PathBuf {
    let mut doc = json(&snapshot(PARTNER_SLICE));
    let schemas = doc["components"]["schemas"]
        .as_object_mut()
        .expect("schemas");
    let states = schemas["ClaimKeyStateEnum"]["enum"]
        .as_array_mut()
        .expect("an enum");
    states.extend(["RED", "red", "Red"].map(serde_json::Value::from));
    let aspect = schemas["AspectRatio"]["properties"]
        .as_object_mut()
        .expect("properties");
    aspect.insert("odd".into(), serde_json::json!({"not": {"type": "string"}}));
    aspect.insert(
        "nested".into(),
        serde_json::json!({"type": "array", "items": {"$ref": "#/components/schemas/AspectRatio"}}),
    );
    let paths = doc["paths"].as_object_mut().expect("paths");
    let answer = |op: &str| format!("#/components/schemas/Partner_{op}WSResponse");
    paths["/api/partner/customizeClient"]["post"]["responses"]["200"]["content"]["application/json"]
        ["schema"] = serde_json::json!({"oneOf": [
            {"$ref": answer("CustomizeClient")}, {"$ref": answer("CreatePartnerClient")}]});
    let create = &mut paths["/api/partner/createPartnerClient"]["post"]["responses"];
    create["201"] = serde_json::json!({"description": "Created", "content": {"application/json":
        {"schema": {"$ref": answer("CustomizeClientDevice")}}}});
    let path = support::scratch("hostile-slice", "upstream.json");
    std::fs::write(&path, serde_json::to_string(&doc).expect("JSON")).expect("written");
    path
}

#[test]
#[cfg_attr(no_upstream, ignore = "../shared/upstream is absent")]
fn a_slice_with_refused_shapes_refreshes_every_other_operation_and_builds() {
    let from = hostile_slice();
    let from = from.to_str().expect("UTF-8 path");
    let (run, out) = refresh_into("hostile-slice", &["--from", from]);
    let log = run.both();
    for line in [
        "repaired /components/schemas/ClaimKeyStateEnum: enum values `red`, `Red`",
        "opened /components/schemas/AspectRatio/properties/odd to any JSON value",
        "result: 31 operations",
        "left out POST /api/partner/createPartnerClient: at /paths/~1api~1partner~1createPartnerClient/post/responses",
        "compiled: the crate type-checks against this fragment",
    ] {
        assert!(log.contains(line), "no {line:?} in\n{log}");
    }
    let fragment = json(&out);
    let states = &fragment["components"]["schemas"]["ClaimKeyStateEnum"]["enum"];
    for wire in ["RED", "red", "Red"] {
        assert!(
            states.as_array().expect("an enum").contains(&wire.into()),
            "{states}"
        );
    }
    assert!(
        fragment
            .pointer("/paths/~1api~1partner~1customizeClient")
            .is_some()
    );
    // The recursive property keeps its type: only the `not` was at fault.
    let nested = "/components/schemas/AspectRatio/properties/nested/items/$ref";
    assert!(fragment.pointer(nested).is_some(), "{log}");
    assert!(
        !log.contains("opened /components/schemas/AspectRatio/properties/nested"),
        "{log}"
    );

    // --strict refuses the same, and writes nothing.
    let strict = support::scratch("hostile-slice-strict", "fragment.json");
    let _ = std::fs::remove_file(&strict);
    let run = xtask(&[
        "refresh-spec",
        "--strict",
        "--from",
        from,
        "--out",
        strict.to_str().unwrap(),
    ]);
    assert_ne!(run.code, Some(0), "{}", run.both());
    assert!(
        run.both()
            .contains("/components/schemas/AspectRatio/properties/odd"),
        "{}",
        run.both()
    );
    assert!(!strict.exists(), "--strict wrote the fragment");
}
