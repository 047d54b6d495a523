//! The checked-in fragment is in canonical form and describes what the crate
//! promises: every partner operation of the upstream document, on the
//! production host.

use serde_json::Value;

fn fragment_text() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/spec/partner.json");
    std::fs::read_to_string(path).expect("spec/partner.json is readable")
}

#[test]
fn fragment_is_canonical() {
    let text = fragment_text();
    let value: Value = serde_json::from_str(&text).expect("valid JSON");
    // serde_json's map is ordered by key, so this is sorted, two-space JSON.
    let canonical = serde_json::to_string_pretty(&value).expect("serializes") + "\n";
    assert!(
        text == canonical,
        "spec/partner.json is not canonical (sorted keys, two-space indentation, trailing newline)"
    );
}

#[test]
fn fragment_has_every_partner_operation() {
    let value: Value = serde_json::from_str(&fragment_text()).expect("valid JSON");
    assert_eq!(value["openapi"], "3.0.1");
    assert_eq!(
        value["servers"][0]["url"],
        "https://api2.rhombussystems.com"
    );
    let paths = value["paths"].as_object().expect("paths");
    let operations: Vec<(&str, &str)> = paths
        .iter()
        .flat_map(|(path, item)| {
            let item = item.as_object().expect("path item");
            item.iter()
                .map(move |(method, op)| (path.as_str(), method.as_str(), op))
        })
        .map(|(path, method, op)| {
            assert_eq!(method, "post", "{path}: every partner endpoint is a POST");
            assert!(
                op.get("parameters").is_none(),
                "{path}: the wrapper owns the auth headers"
            );
            (path, op["operationId"].as_str().expect("operationId"))
        })
        .collect();
    assert_eq!(operations.len(), 32, "{operations:#?}");
    assert!(
        operations
            .iter()
            .all(|(path, _)| path.starts_with("/api/partner/")),
        "{operations:#?}"
    );
    for documented in [
        ("/api/partner/getClientSummaryInfo", "getClientSummaryInfo"),
        (
            "/api/partner/getDeviceLicensesForOrg",
            "getDeviceLicensesForOrg",
        ),
        ("/api/partner/getClients", "getPartnerClients"),
    ] {
        assert!(operations.contains(&documented), "{documented:?}");
    }
}

/// Every operation says whether it is read-only, as a boolean: the retry
/// policy repeats a call after a 5xx or a lost connection only when it is.
#[test]
fn every_operation_is_marked_read_only_or_not() {
    let value: Value = serde_json::from_str(&fragment_text()).expect("valid JSON");
    let paths = value["paths"].as_object().expect("paths");
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("path item") {
            assert!(
                op["x-rhombus-read-only"].is_boolean(),
                "{method} {path}: x-rhombus-read-only must be true or false"
            );
        }
    }
    // Reads are the `get…` operations (with or without a `partner` prefix);
    // creating, customizing, deleting, moving, registering, revoking,
    // updating, claiming, assigning, reclaiming and deactivating change state.
    for op in rhombus_partner::Operation::all() {
        let verb = op
            .id
            .trim_start_matches("partner_")
            .trim_start_matches("Partner")
            .to_lowercase();
        assert_eq!(op.read_only, verb.starts_with("get"), "{}", op.id);
    }
}

/// Every string enum of the fragment keeps a value this build does not
/// know (the README's "Forward-compatible enums"): its listing ends each
/// enum with the catch-all variant, and one decodes for real.
#[test]
fn every_enum_of_the_fragment_keeps_unknown_values() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/spec/partner.api.txt");
    let listing = std::fs::read_to_string(path).expect("the listing is readable");
    let mut enums = 0;
    let mut blocks = listing.split("\nenum ").skip(1);
    for block in blocks.by_ref() {
        enums += 1;
        let name = block.lines().next().unwrap_or_default();
        let last = block
            .lines()
            .skip(1)
            .take_while(|line| line.starts_with("    "))
            .last()
            .unwrap_or_default()
            .trim();
        assert!(
            last == "Unknown(String)" || last == "UnknownValue(String)",
            "enum {name} ends with {last:?}, not a catch-all variant"
        );
    }
    assert!(enums > 0, "the fragment has string enums");
    let state: rhombus_partner::types::LicenseStateEnum =
        serde_json::from_str(r#""SOMETHING_NEW""#).expect("an unknown value decodes");
    assert_eq!(
        state,
        rhombus_partner::types::LicenseStateEnum::Unknown("SOMETHING_NEW".into())
    );
}

/// The managed service provider's operations, each marked by what it does:
/// the lookups read, the rest change licenses, hardware or clients.
#[test]
fn the_msp_operations_are_marked_by_what_they_do() {
    let read_only = |id: &str| {
        rhombus_partner::Operation::by_id(id)
            .unwrap_or_else(|| panic!("{id} is in the fragment"))
            .read_only
    };
    for id in [
        "getLicensePool",
        "getPoolClaimKeyByCode",
        "getHardwareInventory",
        "getPartnerOrgProfile",
        "getClaimKeysForPartnerOrg",
    ] {
        assert!(read_only(id), "{id} only reads");
    }
    for id in [
        "claimLicensesToPool",
        "assignLicensesToClient",
        "reclaimLicensesFromClient",
        "moveHardwareToClient",
        "deactivateClient",
        "updateManagedClientPolicy",
    ] {
        assert!(!read_only(id), "{id} changes state");
    }
}

/// The README's table of paths and methods is the build's: one row per
/// partner operation, with the method `Operation::all()` names for its
/// `operationId`, its read-only mark and whether it is deprecated.
#[test]
fn the_readme_maps_every_partner_path_to_its_method() {
    use std::collections::BTreeSet;

    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let documented: BTreeSet<(String, String, String)> = readme
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let [_, path, method, mark, _] = cells.as_slice() else {
                return None;
            };
            let path = path
                .strip_prefix("`POST /api/partner/")?
                .strip_suffix('`')?;
            let method = method.strip_prefix('`')?.strip_suffix('`')?;
            Some((path.to_owned(), method.to_owned(), (*mark).to_owned()))
        })
        .collect();
    let value: Value = serde_json::from_str(&fragment_text()).expect("valid JSON");
    let mut built = BTreeSet::new();
    for (path, item) in value["paths"].as_object().expect("paths") {
        let operation = &item["post"];
        let id = operation["operationId"].as_str().expect("an operationId");
        let method = rhombus_partner::Operation::by_id(id).expect("built").method;
        let mut mark = match operation["x-rhombus-read-only"].as_bool() {
            Some(true) => "read-only".to_owned(),
            _ => "state-changing".to_owned(),
        };
        if operation["deprecated"].as_bool() == Some(true) {
            mark.push_str(", deprecated");
        }
        let path = path.strip_prefix("/api/partner/").expect("a partner path");
        built.insert((path.to_owned(), method.to_owned(), mark));
    }
    assert_eq!(documented, built);
}
