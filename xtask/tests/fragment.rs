//! The checked-in fragment against the documents it comes from: upstream's
//! snapshots (whose prose must not be in it) and the two seed pages the
//! project started from (whose fields must all be in it). Both sit beside
//! the repository, in `../shared`; a test needing one that is absent is
//! listed as ignored with that reason (`xtask/build.rs` sets `no_upstream`
//! and `no_seeds`).

mod support;

use std::path::{Path, PathBuf};

use aho_corasick::AhoCorasick;
use serde_json::Value;
use support::{API_LISTING, FRAGMENT, json, read, root};

/// Texts shorter than this may be common phrases ("OK", "List of users").
const SHORTEST_TEXT: usize = 20;

/// `../shared/<dir>`; the tests calling this are ignored when it is absent.
fn shared(dir: &str) -> PathBuf {
    Path::new(env!("SHARED_DIR")).join(dir)
}

/// `xtask/build.rs` sees `../shared` when xtask is built; with no
/// `../shared` at all it watches nothing, so a directory appearing later
/// would leave its tests ignored: this says so. `RHOMBUS_EXPECT_SHARED=1`
/// (for a CI machine that has them) makes an absent one a failure too.
#[test]
fn shared_directories_are_as_built() {
    let expected = std::env::var_os("RHOMBUS_EXPECT_SHARED").is_some_and(|v| v == "1");
    for (dir, absent_when_built) in [("upstream", cfg!(no_upstream)), ("seeds", cfg!(no_seeds))] {
        let path = shared(dir);
        if !absent_when_built {
            continue;
        }
        assert!(
            !path.is_dir(),
            "{} appeared after xtask was built, so its tests are ignored: \
             `touch xtask/build.rs` and run the tests again",
            path.display()
        );
        assert!(
            !expected,
            "{} is absent, and RHOMBUS_EXPECT_SHARED=1 says it should be there",
            path.display()
        );
    }
}

/// Every `description` and `summary` string anywhere in `doc`.
fn prose(doc: &Value, out: &mut Vec<String>) {
    match doc {
        Value::Object(map) => {
            for (key, value) in map {
                match value.as_str() {
                    Some(text) if key == "description" || key == "summary" => {
                        out.push(text.trim().to_owned())
                    }
                    _ => prose(value, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| prose(item, out)),
        _ => {}
    }
}

fn strings(doc: &Value, out: &mut String) {
    match doc {
        Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        _ => {}
    }
}

#[test]
#[cfg_attr(no_upstream, ignore = "../shared/upstream is absent")]
fn no_upstream_prose_in_the_fragment_or_its_listing() {
    let upstream = shared("upstream");
    let mut texts = Vec::new();
    for entry in std::fs::read_dir(&upstream).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            prose(&json(&path), &mut texts);
        }
    }
    texts.retain(|t| t.chars().count() >= SHORTEST_TEXT);
    texts.sort();
    texts.dedup();
    assert!(texts.len() > 1000, "only {} upstream texts", texts.len());

    // The fragment's strings as they read (JSON escapes undone), then the
    // listing as it is.
    let mut ours = String::new();
    strings(&json(&root().join(FRAGMENT)), &mut ours);
    ours.push_str(&read(&root().join(API_LISTING)));

    let matcher = AhoCorasick::new(&texts).unwrap();
    let mut found: Vec<&str> = matcher
        .find_overlapping_iter(&ours)
        .map(|m| texts[m.pattern().as_usize()].as_str())
        .collect();
    found.sort();
    found.dedup();
    assert!(
        found.is_empty(),
        "upstream's prose is in {FRAGMENT} or {API_LISTING}; write our own words \
         (and refresh with --descriptions own):\n{found:#?}"
    );
}

/// The fields the seed page lists for each documented schema: the request
/// and response bodies, and the objects nested in them.
const SEED_FIELDS: &[(&str, &str, &[&str])] = &[
    (
        "getClientSummaryInfo.txt",
        "Partner_GetClientSummaryInfoWSRequest",
        &["clientOrgUuid"],
    ),
    (
        "getClientSummaryInfo.txt",
        "Partner_GetClientSummaryInfoWSResponse",
        &[
            "accountOwner",
            "clientDeviceStatusMap",
            "error",
            "errorMsg",
            "licenseV2Enabled",
            "locationCount",
            "manuallySendLicenseExpirationEmailEnabled",
            "recentPolicyAlertCount",
            "warningMsg",
        ],
    ),
    (
        "getClientSummaryInfo.txt",
        "WrappedRhombusOrgUserType",
        &[
            "accessibleRhombusApps",
            "accountOwner",
            "bypassSaml",
            "changePasswordOnLogin",
            "createdAtMillis",
            "deleted",
            "email",
            "emailCaseSensitive",
            "emailVerified",
            "firstName",
            "lastName",
            "mfaEnabled",
            "name",
            "orgUserCustomizationFlags",
            "orgUuid",
            "passwordSet",
            "rhombusUserUuid",
            "updatedAtMillis",
            "uuid",
        ],
    ),
    (
        "getDeviceLicensesForOrg.txt",
        "License_GetDeviceLicensesForClientOrgWSRequest",
        &["orgUuid"],
    ),
    (
        "getDeviceLicensesForOrg.txt",
        "License_GetDeviceLicensesForClientOrgWSResponse",
        &["deviceLicenses"],
    ),
    (
        "getDeviceLicensesForOrg.txt",
        "DeviceLicenseType",
        &[
            "claimKeyUuid",
            "createdOn",
            "deviceUuid",
            "features",
            "firstAssignedDate",
            "maxDeleteDate",
            "orgUuid",
            "priorClaimKeyUuid",
            "productCode",
            "trial",
            "updatedOn",
            "uuid",
        ],
    ),
    (
        "getDeviceLicensesForOrg.txt",
        "LicenseFeature",
        &["enabled", "name"],
    ),
];

/// Every field transcribed above is in the fragment.
#[test]
fn every_field_of_the_seed_pages_is_in_the_fragment() {
    let fragment = json(&root().join(FRAGMENT));
    for (page, schema, fields) in SEED_FIELDS {
        let properties = fragment
            .pointer(&format!("/components/schemas/{schema}/properties"))
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("{FRAGMENT} has no schema {schema} with properties"));
        for field in *fields {
            assert!(
                properties.contains_key(*field),
                "{schema}.{field} ({page}) is missing from {FRAGMENT}"
            );
        }
    }
}

/// The transcription above is checked against the pages, both ways, so it
/// cannot silently fall behind them.
#[test]
#[cfg_attr(no_seeds, ignore = "../shared/seeds is absent")]
fn the_seed_fields_are_transcribed_from_the_pages() {
    let seeds = shared("seeds");
    for (page, _, fields) in SEED_FIELDS {
        let text = read(&seeds.join(page));
        for field in *fields {
            assert!(
                text.contains(&format!("\"{field}\"")),
                "{page} does not list {field}: the transcription is wrong"
            );
        }
    }
    // Every JSON key of the pages' examples is transcribed above.
    for page in ["getClientSummaryInfo.txt", "getDeviceLicensesForOrg.txt"] {
        let text = read(&seeds.join(page));
        for line in text.lines() {
            let Some(key) = line
                .trim()
                .strip_prefix('"')
                .and_then(|l| l.split_once("\":"))
            else {
                continue;
            };
            assert!(
                SEED_FIELDS
                    .iter()
                    .any(|(p, _, fields)| *p == page && fields.contains(&key.0)),
                "{page} lists {} which the test does not check",
                key.0
            );
        }
    }
}
