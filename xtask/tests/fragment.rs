//! The checked-in fragment against the documents it comes from: upstream's
//! snapshots (whose prose must not be in it) and the two seed pages the
//! project started from (whose fields must all be in it). Both sit beside
//! the repository, in `../shared`; without them each test says it skipped.

mod support;

use std::path::PathBuf;

use aho_corasick::AhoCorasick;
use serde_json::Value;
use support::{API_LISTING, FRAGMENT, json, read, root};

/// Texts shorter than this may be common phrases ("OK", "List of users").
const SHORTEST_TEXT: usize = 20;

fn shared(dir: &str) -> Option<PathBuf> {
    let path = root().join("../shared").join(dir);
    if path.is_dir() {
        Some(path)
    } else {
        eprintln!("skipped: {} is absent", path.display());
        None
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
fn no_upstream_prose_in_the_fragment_or_its_listing() {
    let Some(upstream) = shared("upstream") else {
        return;
    };
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

/// The transcription above is checked against the pages when they are
/// there, so it cannot silently fall behind them.
#[test]
fn every_field_of_the_seed_pages_is_in_the_fragment() {
    let fragment = json(&root().join(FRAGMENT));
    let seeds = shared("seeds");
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
            if let Some(seeds) = &seeds {
                let text = read(&seeds.join(page));
                assert!(
                    text.contains(&format!("\"{field}\"")),
                    "{page} does not list {field}: the transcription is wrong"
                );
            }
        }
    }
    // And the other way round: every JSON key of the pages' examples is
    // transcribed above.
    if let Some(seeds) = &seeds {
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
}
