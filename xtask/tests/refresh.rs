//! `cargo xtask refresh-spec` end to end, through the real binary, on a
//! fixture written for these tests in the upstream document's style, and on
//! the checked-in fragment. Failures must leave the checked-in files
//! byte-identical.

mod support;

use serde_json::{Value, json};
use support::{API_LISTING, FRAGMENT, json, operations, read, refresh_into, root, scratch, xtask};

const FIXTURE: &str = "xtask/tests/fixtures/upstream-style.json";

fn refresh_fixture(test: &str) -> (support::Run, std::path::PathBuf) {
    refresh_into(test, &["--from", FIXTURE])
}

#[test]
fn fixture_keeps_partner_json_operations_and_exactly_what_they_reach() {
    let (run, out) = refresh_fixture("fixture");
    let fragment = json(&out);

    let mut ops = operations(&fragment);
    ops.sort();
    assert_eq!(
        ops,
        [
            "POST /api/partner/deleteClient",
            "POST /api/partner/exportClients",
            "POST /api/partner/getClients",
            "POST /api/partner/uploadLogo"
        ]
    );
    assert!(
        run.stdout
            .contains("compiled: the crate type-checks against this fragment"),
        "{}",
        run.stdout
    );

    // A CSV export and a multipart upload are kept; a body neither JSON
    // nor multipart is left out, with a printed reason.
    assert!(
        run.stdout.contains("left out 1 operations"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "POST /api/partner/uploadRaw: request body is `application/octet-stream`, neither JSON nor multipart"
        ),
        "{}",
        run.stdout
    );
    let export = &fragment["paths"]["/api/partner/exportClients"]["post"]["responses"]["200"];
    assert_eq!(
        export["content"]["text/csv; charset=UTF-8"]["schema"],
        json!({ "type": "string", "format": "binary" })
    );
    let upload = &fragment["paths"]["/api/partner/uploadLogo"]["post"]["requestBody"];
    assert_eq!(
        upload["content"]["multipart/form-data"]["schema"],
        json!({ "type": "object" })
    );

    // The closure: through the ClientType <-> LocationType cycle, nothing
    // that only the camera operation, the left-out raw upload or nobody uses.
    let mut schemas: Vec<&String> = fragment["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    schemas.sort();
    assert_eq!(
        schemas,
        [
            "BasicResponse",
            "ClientType",
            "LocationType",
            "Partner_DeleteClientRequest",
            "Partner_ExportClientsRequest",
            "Partner_GetClientsRequest",
            "Partner_GetClientsResponse",
        ]
    );
    assert!(fragment["components"].get("securitySchemes").is_none());
    assert!(fragment.get("security").is_none() && fragment.get("x-headers").is_none());
    assert_eq!(
        fragment["servers"][0]["url"],
        "https://api2.rhombussystems.com"
    );
    assert_eq!(fragment["tags"], json!([{ "name": "Partner" }]));

    // Both upstream shapes end up alike: no auth header parameter, `200`.
    let get = &fragment["paths"]["/api/partner/getClients"]["post"];
    let delete = &fragment["paths"]["/api/partner/deleteClient"]["post"];
    assert!(get.get("parameters").is_none(), "{get}");
    for op in [get, delete] {
        let responses: Vec<&String> = op["responses"].as_object().unwrap().keys().collect();
        assert_eq!(responses, ["200"]);
    }
    // `*/*` with a schema is sent as JSON.
    assert!(
        delete["requestBody"]["content"]
            .get("application/json")
            .is_some()
    );
    assert_eq!(get["x-rhombus-read-only"], json!(true));
    assert_eq!(delete["x-rhombus-read-only"], json!(false));

    // Schema repairs: no discriminator, no `format` on an integer, the enum
    // with "" open.
    let client = &fragment["components"]["schemas"]["ClientType"];
    assert!(client.get("discriminator").is_none());
    assert!(client["properties"]["seatCount"].get("format").is_none());
    assert_eq!(client["properties"]["uuid"]["format"], "RUUID");
    assert!(client["properties"]["tier"].get("enum").is_none());

    // Canonical text.
    let text = read(&out);
    let canonical = serde_json::to_string_pretty(&fragment).unwrap() + "\n";
    assert_eq!(text, canonical);
}

#[test]
fn refreshing_a_refreshed_fragment_changes_nothing() {
    let (_, out) = refresh_fixture("idempotent");
    let first = read(&out);
    let again = scratch("idempotent", "again.json");
    let run = xtask(&[
        "refresh-spec",
        "--from",
        out.to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    assert_eq!(read(&again), first);
}

#[test]
fn the_checked_in_fragment_is_a_fixed_point() {
    let run = xtask(&["refresh-spec", "--from", FRAGMENT, "--check"]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    assert!(run.stdout.contains("no changes"), "{}", run.stdout);
}

#[test]
fn check_reports_a_stale_file_and_writes_nothing() {
    let (_, out) = refresh_fixture("check");
    // Make the file in place older: drop an operation, retype a field.
    let mut older: Value = json(&out);
    older["paths"]
        .as_object_mut()
        .unwrap()
        .remove("/api/partner/deleteClient");
    older["components"]["schemas"]["Partner_GetClientsRequest"]["properties"]["includeDeleted"] =
        json!({ "type": "string" });
    let older_text = serde_json::to_string_pretty(&older).unwrap() + "\n";
    std::fs::write(&out, &older_text).unwrap();

    let run = xtask(&[
        "refresh-spec",
        "--from",
        FIXTURE,
        "--out",
        out.to_str().unwrap(),
        "--check",
    ]);
    assert_eq!(run.code, Some(1), "{}", run.both());
    for wanted in [
        "operations: 1 added, 0 removed, 0 changed",
        "+ POST /api/partner/deleteClient (deleteClient)",
        "~ Partner_GetClientsRequest: includeDeleted: string -> boolean?",
        "is stale",
    ] {
        assert!(
            run.stdout.contains(wanted),
            "expected {wanted:?} in:\n{}",
            run.stdout
        );
    }
    assert_eq!(read(&out), older_text, "--check wrote the file");
}

/// Runs a refresh that must fail against the checked-in fragment; checks
/// the message and that neither checked-in file changed by a single byte.
fn assert_refresh_fails(args: &[&str], expected: &[&str]) {
    let fragment = std::fs::read(root().join(FRAGMENT)).unwrap();
    let listing = std::fs::read(root().join(API_LISTING)).unwrap();
    let mut all = vec!["refresh-spec"];
    all.extend_from_slice(args);
    let run = xtask(&all);
    assert_ne!(run.code, Some(0), "the refresh succeeded:\n{}", run.both());
    for wanted in expected {
        assert!(
            run.stderr.contains(wanted),
            "expected {wanted:?} in:\n{}",
            run.both()
        );
    }
    assert!(
        !run.both().contains("panicked at"),
        "a raw panic:\n{}",
        run.both()
    );
    assert_eq!(
        std::fs::read(root().join(FRAGMENT)).unwrap(),
        fragment,
        "{FRAGMENT} changed"
    );
    assert_eq!(
        std::fs::read(root().join(API_LISTING)).unwrap(),
        listing,
        "{API_LISTING} changed"
    );
    println!("{}", run.stderr);
}

fn write_fixture_variant(test: &str, change: impl FnOnce(&mut Value)) -> String {
    let mut doc = json(&root().join(FIXTURE));
    change(&mut doc);
    let path = scratch(test, "upstream.json");
    std::fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn an_unreachable_url_fails_cleanly() {
    // Nothing listens on port 9 of loopback: the connection is refused.
    assert_refresh_fails(
        &["--from", "http://127.0.0.1:9/api/openapi/public.json"],
        &[
            "cannot download http://127.0.0.1:9/api/openapi/public.json",
            "--from PATH",
        ],
    );
}

#[test]
fn a_missing_file_fails_cleanly() {
    assert_refresh_fails(
        &["--from", "target/no-such-upstream.json"],
        &["cannot read target/no-such-upstream.json"],
    );
}

#[test]
fn a_document_that_is_not_json_fails_cleanly() {
    let path = scratch("not-json", "upstream.json");
    std::fs::write(&path, "<html><body>502 Bad Gateway</body></html>").unwrap();
    assert_refresh_fails(
        &["--from", path.to_str().unwrap()],
        &["is not JSON (line 1, column 1)"],
    );
}

#[test]
fn swagger_2_fails_cleanly() {
    let from = write_fixture_variant("swagger-2", |doc| {
        doc.as_object_mut().unwrap().remove("openapi");
        doc["swagger"] = json!("2.0");
    });
    assert_refresh_fails(&["--from", &from], &["at /swagger", "Swagger \"2.0\""]);
}

#[test]
fn openapi_3_1_fails_cleanly() {
    let from = write_fixture_variant("openapi-3-1", |doc| doc["openapi"] = json!("3.1.0"));
    assert_refresh_fails(
        &["--from", &from],
        &["at /openapi", "OpenAPI 3.1.0 is not supported"],
    );
}

#[test]
fn a_prefix_that_matches_nothing_fails_cleanly() {
    assert_refresh_fails(
        &["--from", FIXTURE, "--prefix", "/api/nothing/"],
        &["no operation's path starts with /api/nothing/"],
    );
}

/// A `$ref` to a schema the document does not define becomes an open
/// schema marked with its target; the operation stays.
#[test]
fn a_missing_schema_becomes_an_open_value_marked_with_its_target() {
    let from = write_fixture_variant("missing-ref", |doc| {
        doc["components"]["schemas"]
            .as_object_mut()
            .unwrap()
            .remove("LocationType");
    });
    let (run, out) = support::refresh_into("missing-ref-out", &["--from", &from]);
    assert!(
        run.stdout
            .contains("open-dangling-schema-refs    1 changes"),
        "{}",
        run.stdout
    );
    let text = std::fs::read_to_string(out).unwrap();
    assert!(
        text.contains(r##""x-rhombus-dangling-ref": "#/components/schemas/LocationType""##),
        "{text}"
    );
    assert!(
        !text.contains(r##""$ref": "#/components/schemas/LocationType""##),
        "{text}"
    );
}

/// When that leaves nothing, the refresh fails and says why.
#[test]
fn a_reference_to_a_missing_component_everywhere_fails_cleanly() {
    let from = write_fixture_variant("missing-ref-everywhere", |doc| {
        let ops: Vec<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
        for path in ops {
            for op in doc["paths"][&path].as_object_mut().unwrap().values_mut() {
                if op.is_object() {
                    op["responses"] =
                        json!({ "200": { "$ref": "#/components/responses/Nowhere" } });
                }
            }
        }
    });
    assert_refresh_fails(
        &["--from", &from],
        &["`#/components/responses/Nowhere` does not resolve"],
    );
}

/// `application/json; charset=utf-8` is JSON, and a `$ref` key inside an
/// example value is data: neither leaves anything out or fails.
#[test]
fn json_with_parameters_and_refs_in_examples_refresh() {
    let from = write_fixture_variant("json-with-parameters", |doc| {
        let content = doc
            .pointer_mut("/paths/~1api~1partner~1getClients/post/responses/200/content")
            .and_then(Value::as_object_mut)
            .expect("getClients answers JSON");
        let media = content.remove("application/json").expect("a JSON answer");
        content.insert("application/json; charset=utf-8".to_owned(), media);
        content["application/json; charset=utf-8"]["examples"] =
            json!({ "one": { "$ref": "#/components/examples/Clients" } });
        doc["components"]["examples"] =
            json!({ "Clients": { "value": { "schema": { "$ref": "#/not/a/reference" } } } });
    });
    let (run, out) = refresh_into("json-with-parameters", &["--from", &from]);
    let fragment = json(&out);
    assert!(
        fragment
            .pointer(
                "/paths/~1api~1partner~1getClients/post/responses/200/content/application~1json"
            )
            .is_some(),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("json-with-parameters         1 changes"),
        "{}",
        run.stdout
    );
}

#[test]
fn under_strict_a_result_the_generator_rejects_is_not_written() {
    let from = write_fixture_variant("generator-rejects", |doc| {
        doc["components"]["schemas"]["LocationType"] = json!({ "not": { "type": "string" } });
    });
    assert_refresh_fails(
        &["--from", &from, "--strict"],
        &[
            "would not build, so nothing was written",
            "at /components/schemas/LocationType",
        ],
    );
}

/// Without the compile check too, a fragment whose client and mock helpers
/// could not be compiled is refused: the one generation step validates
/// every artifact (here a header the generated code cannot write as text).
#[test]
fn a_header_without_display_is_refused_without_compiling() {
    let from = write_fixture_variant("header-without-display", |doc| {
        let either = json!({ "oneOf": [
            { "type": "string" },
            { "type": "object", "properties": { "id": { "type": "string" } } }
        ] });
        let parameters = doc
            .pointer_mut("/paths/~1api~1partner~1getClients/post/parameters")
            .and_then(Value::as_array_mut)
            .expect("getClients has parameters");
        parameters.push(json!({ "in": "header", "name": "x-trace", "schema": either }));
    });
    assert_refresh_fails(
        &["--from", &from, "--no-compile", "--strict"],
        &[
            "would not build, so nothing was written",
            "at /paths/~1api~1partner~1getClients/post/parameters/0",
            "no `Display`",
        ],
    );
}

/// Without `--strict`, what the generator refuses is opened (a schema) or
/// left out (an operation), each named, and the rest is written.
#[test]
fn without_strict_a_refused_schema_is_opened_and_a_refused_operation_left_out() {
    let from = write_fixture_variant("refused-parts", |doc| {
        doc["components"]["schemas"]["LocationType"] = json!({ "not": { "type": "string" } });
        let either = json!({ "oneOf": [
            { "type": "string" },
            { "type": "object", "properties": { "id": { "type": "string" } } }
        ] });
        let parameters = doc
            .pointer_mut("/paths/~1api~1partner~1getClients/post/parameters")
            .and_then(Value::as_array_mut)
            .expect("getClients has parameters");
        parameters.push(json!({ "in": "header", "name": "x-trace", "schema": either }));
    });
    let (run, out) = refresh_into("refused-parts", &["--from", &from, "--no-compile"]);
    for line in [
        "opened /components/schemas/LocationType to any JSON value",
        "left out POST /api/partner/getClients: at /paths/~1api~1partner~1getClients/post/parameters/0",
    ] {
        assert!(run.stdout.contains(line), "no {line:?} in\n{}", run.stdout);
    }
    let fragment = json(&out);
    assert!(
        fragment
            .pointer("/paths/~1api~1partner~1getClients")
            .is_none()
    );
    let location = &fragment["components"]["schemas"]["LocationType"];
    assert!(location.get("not").is_none(), "{location}");
}

#[test]
fn a_result_without_operations_is_refused() {
    assert_refresh_fails(
        &["--from", FIXTURE, "--prefix", "/api/partner/uploadRaw"],
        &[
            "nothing to write",
            "POST /api/partner/uploadRaw: request body is `application/octet-stream`",
        ],
    );
}

/// `--out` writes the fragment there and nothing else: no listing beside
/// it, and the checked-in listing keeps every byte (the fixture's listing
/// would differ from it).
#[test]
fn out_writes_no_listing() {
    let listing = std::fs::read(root().join(API_LISTING)).unwrap();
    // A leftover of an earlier run would be taken for this run's output.
    let _ = std::fs::remove_dir_all(root().join("target/xtask-tests/out-no-listing"));
    let (run, out) = refresh_into("out-no-listing", &["--from", FIXTURE, "--no-compile"]);
    if std::fs::read(root().join(API_LISTING)).unwrap() != listing {
        // Put it back before failing, so the checkout is not left changed.
        std::fs::write(root().join(API_LISTING), &listing).unwrap();
        panic!("--out rewrote {API_LISTING}:\n{}", run.stdout);
    }
    let written: Vec<_> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(written, ["fragment.json"], "{}", run.stdout);
    assert!(!run.stdout.contains("api.txt"), "{}", run.stdout);
}

/// The refresh workflow titles its pull request with this file: the bump
/// from the crate's version, for what the refresh changed.
#[test]
fn pr_title_names_the_version_bump() {
    use xtask::impact::{Impact, bump, crate_version};
    let title = scratch("pr-title", "title.txt");
    let _ = std::fs::remove_file(&title);
    let (run, _) = refresh_into(
        "pr-title",
        &[
            "--from",
            FIXTURE,
            "--no-compile",
            "--pr-title",
            title.to_str().unwrap(),
        ],
    );
    let version = crate_version(&read(&root().join("Cargo.toml"))).unwrap();
    // Into an empty place every method and type is new: additive.
    let next = bump(&version, Impact::Additive).unwrap();
    assert_eq!(
        read(&title),
        format!("Refresh spec/partner.json: {version} → {next} (additive)"),
        "{}",
        run.stdout
    );
}

/// The pull request body carries the verdict, the deprecations (a `V2`
/// twin supersedes its operation) and the unified diff of the listing the
/// fragment in place gives against the refreshed one's.
#[test]
fn the_pr_body_has_the_listing_diff_and_the_deprecations() {
    let (_, out) = refresh_into("pr-body", &["--from", FIXTURE, "--no-compile"]);
    // The fragment in place: a field retyped, so its listing line changes.
    let mut older: Value = json(&out);
    older["components"]["schemas"]["Partner_GetClientsRequest"]["properties"]["includeDeleted"] =
        json!({ "type": "string" });
    std::fs::write(&out, serde_json::to_string_pretty(&older).unwrap() + "\n").unwrap();
    let upstream = write_fixture_variant("pr-body", |doc| {
        let mut twin = doc["paths"]["/api/partner/getClients"].clone();
        twin["post"]["operationId"] = json!("getClientsV2");
        doc["paths"]["/api/partner/getClientsV2"] = twin;
    });
    let body = scratch("pr-body", "body.md");
    let _ = std::fs::remove_file(&body);
    let run = xtask(&[
        "refresh-spec",
        "--from",
        &upstream,
        "--out",
        out.to_str().unwrap(),
        "--no-compile",
        "--callers",
        "--summary-markdown",
        body.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.both());
    let body = read(&body);
    for wanted in [
        "**Version bump: ",
        "### Deprecations: superseded operations (1)",
        "- `partner: getClients (get_clients) -> getClientsV2 (get_clients_v2)`",
        "Calls in this workspace (",
        "### Summary of the fragment's changes",
        "```diff\n--- a/target/xtask-tests/pr-body/fragment.api.txt\n+++ \
         b/target/xtask-tests/pr-body/fragment.api.txt\n",
        "\n-    \"includeDeleted\" -> include_deleted: Option<String>\n\
         +    \"includeDeleted\" -> include_deleted: Option<bool>\n",
        "\n+get_clients_v2(body: &PartnerGetClientsRequest) -> ",
    ] {
        assert!(body.contains(wanted), "expected {wanted:?} in:\n{body}");
    }
    assert!(
        run.stdout.contains(
            "superseded operations (a V<n> twin in the same fragment; the highest wins): 1"
        ),
        "{}",
        run.stdout
    );
}

/// `--help` and mistakes are clap's: help on stdout with success, an
/// unknown flag named on stderr with exit code 2, nothing written.
#[test]
fn help_and_unknown_flags() {
    let help = xtask(&["refresh-spec", "--help"]);
    assert_eq!(help.code, Some(0), "{}", help.both());
    assert!(
        help.stdout.contains("--summary-markdown <FILE>"),
        "{}",
        help.stdout
    );
    let bad = xtask(&["refresh-spec", "--frm", "x"]);
    assert_eq!(bad.code, Some(2), "{}", bad.both());
    assert!(
        bad.stderr.contains("unexpected argument '--frm'"),
        "{}",
        bad.stderr
    );
}

/// An area's refreshed fragment is type-checked with its feature before
/// anything is written (here under `--check`, which writes nothing): the
/// door fragment with one more field in a schema.
#[test]
fn a_refreshed_area_is_type_checked_with_its_feature() {
    let mut doc = json(&root().join("spec/areas/door.json"));
    let schemas = doc["components"]["schemas"]
        .as_object_mut()
        .expect("schemas");
    let (name, schema) = (schemas.iter_mut())
        .find(|(_, s)| s.get("properties").is_some_and(Value::is_object))
        .expect("a schema with properties");
    let name = name.clone();
    schema["properties"]["addedByTheTest"] = json!({ "type": "string" });
    let from = scratch("area-type-check", "upstream.json");
    std::fs::write(&from, serde_json::to_string(&doc).unwrap()).unwrap();
    let from = from.to_str().unwrap();
    let args = [
        "refresh-spec",
        "--from",
        from,
        "--no-partner",
        "--areas",
        "door",
    ];
    let run = xtask(&[&args[..], &["--descriptions", "own", "--check"]].concat());
    assert_eq!(run.code, Some(1), "stale, not failed:\n{}", run.both());
    for line in [
        "== type-checking the crate with the refreshed areas (door)",
        "compiled: the crate type-checks with the refreshed areas",
        name.as_str(),
    ] {
        assert!(run.stdout.contains(line), "no {line:?} in\n{}", run.stdout);
    }
}
