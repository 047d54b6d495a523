//! Every fragment either compiles or is refused with one located message:
//! each `tests/constructs/*.json` (small fragments written for this test,
//! one per construct that once made the generated code fail in rustc) goes
//! through the real build script and a real nested `cargo check` of the
//! library, mock helpers included. A fragment that compiles must also leave
//! no warning in the generated code.
//!
//! The nested build shares its target directory with `cargo xtask
//! refresh-spec`'s compile check, so the dependencies are compiled once.

mod common;

use std::path::Path;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// What a construct must give.
enum Expected {
    /// Builds, without warnings in the generated code.
    Compiles,
    /// Refused by the build script: the pointer, and words of the message.
    Refused(&'static str, &'static [&'static str]),
}

use Expected::{Compiles, Refused};

const CONSTRUCTS: &[(&str, Expected)] = &[
    // 1. Crates the package does not depend on.
    ("uuid-format", Compiles),
    ("string-pattern", Compiles),
    ("dropshot-pagination", Compiles),
    (
        "websocket",
        Refused(
            "/paths/~1feed/get/x-dropshot-websocket",
            &["WebSocket", "leave the operation out"],
        ),
    ),
    // 2. Every response shape implements `ApiStatus`.
    ("map-response", Compiles),
    (
        "upgrade-101",
        Refused(
            "/paths/~1tunnel/get/responses/101",
            &["`101`", "leave the operation out"],
        ),
    ),
    ("response-shapes", Compiles),
    // 3. Two schemas with one title.
    ("same-title", Compiles),
    // 4. Parameters that give one Rust name.
    ("colliding-parameters", Compiles),
    // 5. A media type with parameters.
    ("json-charset", Compiles),
    // 6. A `$ref` key inside example values.
    ("ref-in-example", Compiles),
    // 7. The generator's assertions, said in the spec's terms.
    (
        "different-success-schemas",
        Refused(
            "/paths/~1tally/post/responses",
            &["`200`", "`default`", "different schemas"],
        ),
    ),
    (
        "request-media-types",
        Refused(
            "/paths/~1notes~1add/post/requestBody/content",
            &["several media types", "keep only `application/json`"],
        ),
    ),
    ("two-media-types", Compiles),
    // A multipart upload (the body taken out, a `Multipart` parameter
    // beside the query's) and a CSV answer (a `Download`).
    ("multipart-body", Compiles),
    (
        "unsupported-property",
        Refused(
            "/components/schemas/Part/properties/weird/properties/odd",
            &["`not`"],
        ),
    ),
    (
        "untyped-property",
        Refused(
            "/components/schemas/Meter/properties/reading",
            &["`format`", "give this schema a `type`"],
        ),
    ),
    // 8. Shapes a refresh must take whole: enum values that differ only in
    // case (repaired), a recursive schema, a `oneOf` answer.
    ("case-colliding-enum", Compiles),
    ("recursive-schema", Compiles),
    ("one-of-answer", Compiles),
    // 9. No warnings in the generated code.
    ("no-json-responses", Compiles),
    ("bounded-values", Compiles),
    // 10. Mock helpers for query values the client serializes (a list, a
    // `oneOf` type without `Display`) and a `oneOf` path parameter.
    ("query-and-path-types", Compiles),
    (
        "path-parameter-without-display",
        Refused(
            "/paths/~1badges~1{badge}/get/parameters/0",
            &["`BadgeOrQuery`", "no `Display`", "string enum"],
        ),
    ),
];

/// What is wrong with the outcome of one construct, if anything.
fn judge(name: &str, expected: &Expected) -> Option<String> {
    let spec = Path::new("tests/constructs").join(format!("{name}.json"));
    let (succeeded, output) = common::cargo_check_with_spec(
        &spec,
        // `multipart`: a fragment with an upload asks for it (the build
        // script says so otherwise).
        &[
            "--features",
            "test-util,multipart",
            "--message-format=short",
        ],
    );
    let generated_warnings: Vec<&str> = output
        .lines()
        .filter(|l| l.contains("partner") && l.contains(".rs:") && l.contains("warning"))
        .collect();
    match expected {
        Compiles if !succeeded => Some(format!("{name}: does not build:\n{output}")),
        Compiles if !generated_warnings.is_empty() => Some(format!(
            "{name}: warnings in the generated code:\n{}",
            generated_warnings.join("\n")
        )),
        Compiles => None,
        Refused(..) if succeeded => Some(format!("{name}: built, but must be refused")),
        Refused(pointer, words) => {
            let located = format!("{} at {pointer}: ", spec.display());
            let missing: Vec<&str> = [located.as_str(), "to fix:"]
                .into_iter()
                .chain(words.iter().copied())
                .filter(|w| !output.contains(w))
                .collect();
            let rustc = output.contains("error[E");
            let panicked = output.contains("panicked at");
            if missing.is_empty() && !rustc && !panicked {
                // Shown with --nocapture, to see what users get.
                println!("{name}: {}", output.lines().next().unwrap_or_default());
                None
            } else {
                Some(format!(
                    "{name}: missing {missing:?} (rustc error: {rustc}, raw panic: \
                     {panicked}):\n{output}"
                ))
            }
        }
    }
}

#[test]
fn each_construct_compiles_or_is_refused_with_a_located_message() {
    // Every fixture has an expectation, and every expectation a fixture.
    let dir = Path::new(MANIFEST_DIR).join("tests/constructs");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("tests/constructs")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".json").map(str::to_owned)
        })
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = CONSTRUCTS.iter().map(|(n, _)| (*n).to_owned()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);

    let failures: Vec<String> = CONSTRUCTS
        .iter()
        .filter_map(|(name, expected)| judge(name, expected))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
