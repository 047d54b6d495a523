//! `rhombus-audit diff OLD.json NEW.json` run as a user runs it: two
//! audits of the fake server (a child process each), the fleet changed in
//! between through `FakeServer::change`, then the diff as a child process,
//! its table, JSON and exit status read.

use std::path::{Path, PathBuf};
use std::process::Output;

use rhombus_fake::{
    DEMO_CLIENT, FAKE_API_KEY, FakeAnswer, FakeCall, FakeFleet, FakeOptions, FakeServer, REFUSING,
    USERS_EMPTY,
};
use serde_json::{Value, json};

mod common;

use common::{run, run_async, stderr, stdout};

const BAYSIDE: &str = "dEmOcLiEnToRgUuId00002w";
const ELM_STREET: &str = "dEmOcLiEnToRgUuId00005w";
const IRONWOOD: &str = "dEmOcLiEnToRgUuId00009w";
const JUNIPER: &str = "dEmOcLiEnToRgUuId00010w";
const KESTREL: &str = "dEmOcLiEnToRgUuId00011w";
const NEWPORT: &str = "nEwPoRtPhArMaCy000001w";

/// The audit of the fake server's account as `--json`, written to `dir`
/// as `name`.
async fn audit(server: &FakeServer, dir: &Path, name: &str) -> PathBuf {
    audit_with(server, dir, name, &[]).await
}

/// [`audit`] with more arguments (`--clients`).
async fn audit_with(server: &FakeServer, dir: &Path, name: &str, more: &[&str]) -> PathBuf {
    let uri = server.uri();
    let env = [
        ("RHOMBUS_API_KEY", FAKE_API_KEY),
        ("RHOMBUS_BASE_URL", &uri),
    ];
    let args: Vec<&str> = ["--json", "--quiet"].iter().chain(more).copied().collect();
    let output = run_async(&args, &env).await;
    // The whole demo always has facts it cannot read (exit 1); some of its
    // clients may have none (exit 0).
    let code = output.status.code();
    assert!(
        code == Some(1) || !more.is_empty() && code == Some(0),
        "{}",
        stderr(&output)
    );
    let path = dir.join(name);
    std::fs::write(&path, &output.stdout).expect("the audit is written");
    path
}

fn diff(args: &[&Path]) -> Output {
    let mut all = vec!["diff"];
    all.extend(args.iter().map(|p| p.to_str().expect("a UTF-8 path")));
    run(&all, &[])
}

/// The UUID the fake gives a client's n-th camera or door (from 0): the
/// client UUID's last 8 characters, `CaM` or `DoR`, the number.
fn device(client: &str, kind: &str, n: usize) -> String {
    format!("{}{kind}{n:04}", &client[client.len() - 8..])
}

/// What the test does to the demo between the audits (the comments say
/// what the diff must make of it).
fn change(fleet: &mut FakeFleet) {
    let acme = fleet.client_mut(DEMO_CLIENT).expect("Acme");
    acme.cameras[0].health = "NONE".into(); // Camera 1: back to health
    acme.cameras[3].connection = "RED".into(); // Camera 4: offline
    acme.cameras[4].health = "NOT_RECORDING".into(); // Camera 5
    acme.cameras[5].health = "FIRMWARE_BEHIND".into(); // Camera 6, and
    acme.cameras[5].firmware_behind = true; // not on the newest
    acme.cameras[7].connection = "RED".into(); // Camera 8, offline,
    acme.cameras[7].unnamed = true; // and without a name
    acme.doors[0] = "RED".into(); // Door 1: in error
    let bayside = fleet.client_mut(BAYSIDE).expect("Bayside");
    bayside.licenses[0].days_left = 10; // into the 30-day window
    let mut newport = bayside.clone();
    (newport.uuid, newport.name) = (NEWPORT.into(), "Newport Pharmacy".into());
    fleet.clients.push(newport); // added
    fleet.clients.retain(|c| c.uuid != KESTREL); // removed
    let elm = fleet.client_mut(ELM_STREET).expect("Elm");
    elm.access_allowed = false; // refusing,
    elm.name = "Elm Street Health".into(); // and renamed
    fleet.client_mut(REFUSING).expect("Granite").access_allowed = true; // let in
    fleet
        .client_mut(IRONWOOD)
        .expect("Ironwood")
        .alerts_last_week = 60; // from 22
    let juniper = fleet.client_mut(JUNIPER).expect("Juniper");
    juniper.broken = vec![(FakeCall::Cameras, FakeAnswer::Status(500))]; // unknown
    fleet
        .client_mut(USERS_EMPTY)
        .expect("Lakeside")
        .broken
        .clear(); // known
}

/// A device's change, as `--json` gives it.
fn device_change(
    (client, name): (&str, &str),
    (kind, uuid, device_name): (&str, String, Value),
    started: &[&str],
    stopped: &[&str],
    healthy: bool,
) -> Value {
    json!({
        "client_uuid": client, "client_name": name, "change": "device",
        "device": { "kind": kind, "uuid": uuid, "name": device_name },
        "started": started, "stopped": stopped, "healthy": healthy,
    })
}

/// Every change [`change`] makes, in the diff's order (by client name).
fn expected() -> Vec<Value> {
    let acme = (DEMO_CLIENT, "Acme Logistics");
    let camera = |n: usize, name: Value| ("camera", device(DEMO_CLIENT, "CaM", n), name);
    let client = |uuid: &str, name: &str, change: &str| json!({ "client_uuid": uuid, "client_name": name, "change": change });
    let camera_facts: Vec<&str> = (rhombus_audit::facts::Source::Cameras.facts())
        .map(|f| f.spec().field)
        .collect();
    vec![
        device_change(acme, camera(3, json!("Camera 4")), &["offline"], &[], false),
        device_change(
            acme,
            camera(4, json!("Camera 5")),
            &["not_recording"],
            &[],
            false,
        ),
        device_change(
            acme,
            camera(5, json!("Camera 6")),
            &["firmware_behind", "not_on_newest_firmware"],
            &[],
            false,
        ),
        device_change(acme, camera(7, Value::Null), &["offline"], &[], false),
        device_change(
            acme,
            camera(0, json!("Camera 1")),
            &[],
            &["not_recording"],
            true,
        ),
        device_change(
            acme,
            ("door", device(DEMO_CLIENT, "DoR", 0), json!("Door 1")),
            &["unhealthy"],
            &[],
            false,
        ),
        json!({ "client_uuid": BAYSIDE, "client_name": "Bayside Dental Group",
                "change": "licenses_ending_30d", "old": 0, "new": 1 }),
        json!({ "client_uuid": ELM_STREET, "client_name": "Elm Street Health",
                "change": "client_renamed", "old_name": "Elm Street Clinic" }),
        client(ELM_STREET, "Elm Street Health", "access_refused"),
        client(REFUSING, "Granite Manufacturing", "access_restored"),
        json!({ "client_uuid": IRONWOOD, "client_name": "Ironwood Hotels",
                "change": "policy_alerts_7d", "old": 22, "new": 60 }),
        json!({ "client_uuid": JUNIPER, "client_name": "Juniper Retail",
                "change": "facts_unknown", "facts": camera_facts, "kind": "server",
                "status": 500, "message": null }),
        client(KESTREL, "Kestrel Credit Union", "client_removed"),
        json!({ "client_uuid": USERS_EMPTY, "client_name": "Lakeside Church",
                "change": "facts_known", "facts": ["users"] }),
        client(NEWPORT, "Newport Pharmacy", "client_added"),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_fleet_gives_each_change_each_device_named_and_exit_1() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = FakeServer::start(FakeFleet::demo(), FakeOptions::default()).await;
    let old = audit(&server, dir.path(), "old.json").await;
    server.change(change);
    let new = audit(&server, dir.path(), "new.json").await;

    let output = diff(&[&old, &new, Path::new("--json")]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let document: Value = serde_json::from_str(&stdout(&output)).expect("one JSON document");
    let mut changes = document["changes"].as_array().expect("changes").clone();
    // The reason's message is the library's; its kind and status are checked.
    for change in &mut changes {
        if change["change"] == "facts_unknown" {
            assert!(
                change["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("500"))
            );
            change["message"] = Value::Null;
        }
    }
    assert_eq!(changes, expected());
    // The document's own fields, in the order printed (a `Value` sorts them).
    let text = stdout(&output);
    let at: Vec<Option<usize>> = (DIFF_FIELDS.iter())
        .map(|f| text.find(&format!("\n  \"{f}\":")))
        .collect();
    assert!(at.iter().all(Option::is_some), "{at:?}");
    assert!(
        at.is_sorted(),
        "the diff document's fields, in order: {at:?}"
    );
    assert_eq!(document["diff_schema_version"], 1);
    assert_eq!(document["alerts_threshold_percent"], 50);
    assert_eq!(
        document["partner"]["org_uuid"],
        rhombus_fake::msp::PARTNER_ORG
    );

    let output = diff(&[&old, &new]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let table = stdout(&output);
    for line in [
        "\nAcme Logistics (dEmOcLiEnToRgUuId00001w)\n",
        &format!(
            "  camera Camera 4 ({}): now offline\n",
            device(DEMO_CLIENT, "CaM", 3)
        ),
        &format!(
            "  camera Camera 5 ({}): now not_recording\n",
            device(DEMO_CLIENT, "CaM", 4)
        ),
        &format!(
            "  camera Camera 6 ({}): now firmware_behind, not_on_newest_firmware\n",
            device(DEMO_CLIENT, "CaM", 5)
        ),
        &format!(
            "  camera (name unknown) ({}): now offline\n",
            device(DEMO_CLIENT, "CaM", 7)
        ),
        &format!(
            "  camera Camera 1 ({}): back to health (was not_recording)\n",
            device(DEMO_CLIENT, "CaM", 0)
        ),
        &format!(
            "  door Door 1 ({}): now unhealthy\n",
            device(DEMO_CLIENT, "DoR", 0)
        ),
        "  licenses ending within 30 days: 0 -> 1\n",
        "\nElm Street Health (dEmOcLiEnToRgUuId00005w)\n  renamed (was Elm Street Clinic)\n",
        "  now refuses partner access (every call forbidden)\n",
        "  lets the partner in again\n",
        "  policy alerts of the last 7 days: 22 -> 60\n",
        "  known before, unknown now: cameras, cameras_offline,",
        "  client removed (no longer in the listing)\n",
        "  unknown before, known now: users\n",
        "\nNewport Pharmacy (nEwPoRtPhArMaCy000001w)\n  client added\n",
    ] {
        assert!(table.contains(line), "the table lacks {line:?}:\n{table}");
    }
    // Juniper's cameras are unknown now: its record lists none (its door
    // in error still), and none of them is back to health.
    let audited: Value = serde_json::from_slice(&std::fs::read(&new).expect("new")).expect("JSON");
    let juniper = (audited["clients"].as_array().expect("clients").iter())
        .find(|c| c["client_uuid"] == JUNIPER)
        .expect("Juniper");
    assert_eq!(juniper["cameras"], Value::Null);
    let kinds: Vec<&Value> = (juniper["problem_devices"]
        .as_array()
        .expect("a list")
        .iter())
    .map(|d| &d["kind"])
    .collect();
    assert_eq!(kinds, [&json!("door")]);
    assert!(!table.contains(&device(JUNIPER, "CaM", 0)[..]), "{table}");
    assert_eq!(
        table.lines().filter(|l| l.starts_with("  ")).count(),
        expected().len()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_within_the_threshold_are_not_reported() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = FakeServer::start(FakeFleet::demo(), FakeOptions::default()).await;
    let old = audit(&server, dir.path(), "old.json").await;
    server.change(|fleet| {
        fleet
            .client_mut(IRONWOOD)
            .expect("Ironwood")
            .alerts_last_week = 60; // +172%
    });
    let new = audit(&server, dir.path(), "new.json").await;
    let output = diff(&[
        &old,
        &new,
        Path::new("--alerts-threshold"),
        Path::new("200"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "");
    let output = diff(&[
        &old,
        &new,
        Path::new("--alerts-threshold"),
        Path::new("150"),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stdout(&output).contains("22 -> 60"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_audit_twice_is_exit_0_and_no_lines() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = FakeServer::start(FakeFleet::demo(), FakeOptions::default()).await;
    let first = audit(&server, dir.path(), "first.json").await;
    let second = audit(&server, dir.path(), "second.json").await;
    for (old, new) in [(&first, &second), (&first, &first)] {
        let output = diff(&[old, new]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert_eq!(stdout(&output), "");
        let output = diff(&[old, new, Path::new("--json")]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let document: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
        assert_eq!(document["changes"], json!([]));
    }
}

/// An audit limited with `--clients` is compared with a whole one on its
/// clients only: the clients it left out are neither removed nor added,
/// while a change inside the selection is still found.
#[tokio::test(flavor = "multi_thread")]
async fn an_audit_of_some_clients_is_compared_on_those_clients_only() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = FakeServer::start(FakeFleet::demo(), FakeOptions::default()).await;
    let whole = audit(&server, dir.path(), "whole.json").await;
    let some = ["--clients", "acme logistics", "--clients", BAYSIDE];
    let selected = audit_with(&server, dir.path(), "some.json", &some).await;
    let document: Value =
        serde_json::from_str(&std::fs::read_to_string(&selected).expect("read")).expect("JSON");
    assert_eq!(
        document["clients_selected"],
        json!(["acme logistics", BAYSIDE])
    );
    for (old, new) in [(&whole, &selected), (&selected, &whole)] {
        let output = diff(&[old, new]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert_eq!(stdout(&output), "");
    }
    server.change(|fleet| {
        fleet.client_mut(DEMO_CLIENT).expect("Acme").cameras[3].connection = "RED".into();
        fleet.clients.retain(|c| c.uuid != KESTREL);
    });
    let later = audit_with(&server, dir.path(), "later.json", &some).await;
    let output = diff(&[&whole, &later, Path::new("--json")]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let document: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    let acme = (DEMO_CLIENT, "Acme Logistics");
    let camera = ("camera", device(DEMO_CLIENT, "CaM", 3), json!("Camera 4"));
    let offline = device_change(acme, camera, &["offline"], &[], false);
    assert_eq!(document["changes"], json!([offline]));
}

/// The fields of the diff's `--json` document, in order.
const DIFF_FIELDS: [&str; 6] = [
    "diff_schema_version",
    "old_generated_at",
    "new_generated_at",
    "partner",
    "alerts_threshold_percent",
    "changes",
];

/// The demo's audit, edited by `edit`, written to `dir` as `name`.
fn edited(audit: &Path, dir: &Path, name: &str, edit: impl FnOnce(&mut String)) -> PathBuf {
    let mut text = std::fs::read_to_string(audit).expect("the audit");
    edit(&mut text);
    let path = dir.join(name);
    std::fs::write(&path, text).expect("written");
    path
}

/// Exit 2, nothing on stdout, and stderr naming the file and what is
/// wrong.
fn refused(output: &Output, file: &Path, wrong: &str) {
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert_eq!(stdout(output), "");
    let said = stderr(output);
    assert!(said.contains(&file.display().to_string()), "{said}");
    assert!(said.contains(wrong), "{said}");
}

#[tokio::test(flavor = "multi_thread")]
async fn another_schema_a_cut_file_or_another_partner_is_exit_2_saying_so() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = FakeServer::start(FakeFleet::demo(), FakeOptions::default()).await;
    let good = audit(&server, dir.path(), "good.json").await;
    let dir = dir.path();
    let schema = edited(&good, dir, "v3.json", |t| {
        *t = t.replacen("\"schema_version\": 2", "\"schema_version\": 3", 1);
    });
    refused(&diff(&[&good, &schema]), &schema, "schema_version 3");
    let cut = edited(&good, dir, "cut.json", |t| t.truncate(t.len() / 2));
    refused(&diff(&[&cut, &good]), &cut, "not a complete JSON document");
    let other = edited(&good, dir, "other.json", |t| {
        *t = t.replace(rhombus_fake::msp::PARTNER_ORG, "aNoThErPaRtNeRoRg0001w");
    });
    let output = diff(&[&good, &other]);
    refused(&output, &other, "different partner accounts");
    assert!(stderr(&output).contains("aNoThErPaRtNeRoRg0001w"));
    let older = edited(&good, dir, "older.json", |t| {
        *t = t.replace("\"problem_devices\"", "\"was_problem_devices\"");
    });
    refused(&diff(&[&good, &older]), &older, "run the audit again");
    let missing = dir.join("missing.json");
    refused(&diff(&[&good, &missing]), &missing, "cannot be read");
    let problems = edited(&good, dir, "problems.json", |t| {
        *t = t.replacen("\"problems_only\": false", "\"problems_only\": true", 1);
    });
    refused(&diff(&[&problems, &good]), &problems, "--problems");
    let interrupted = edited(&good, dir, "interrupted.json", |t| {
        *t = t.replacen(
            "\"complete\": false",
            "\"complete\": false, \"interrupted\": true",
            1,
        );
    });
    refused(&diff(&[&good, &interrupted]), &interrupted, "interrupted");
    let fatal = edited(&good, dir, "fatal.json", |t| {
        *t = rhombus_audit::output::fatal_json(None, "the listing was refused");
    });
    refused(&diff(&[&fatal, &good]), &fatal, "did not run");
}

/// Every change's name, from its JSON; the match breaks the build when a
/// change is added, so that it is added to the README too.
fn every_change() -> Vec<String> {
    use rhombus_audit::devices::DeviceKind;
    use rhombus_audit::diff::{DeviceRef, What};
    let device = DeviceRef {
        kind: DeviceKind::Camera,
        uuid: "u".into(),
        name: None,
    };
    let all = [
        What::ClientAdded,
        What::ClientRemoved,
        What::ClientRenamed {
            old_name: "o".into(),
        },
        What::AccessRefused,
        What::AccessRestored,
        What::FactsUnknown {
            facts: vec![],
            kind: None,
            status: None,
            message: None,
        },
        What::FactsKnown { facts: vec![] },
        What::Device {
            device,
            started: vec![],
            stopped: vec![],
            healthy: false,
        },
        What::LicensesEnding { old: 0, new: 1 },
        What::PolicyAlerts { old: 0, new: 1 },
    ];
    for what in &all {
        match what {
            What::ClientAdded
            | What::ClientRemoved
            | What::ClientRenamed { .. }
            | What::AccessRefused
            | What::AccessRestored
            | What::FactsUnknown { .. }
            | What::FactsKnown { .. }
            | What::Device { .. }
            | What::LicensesEnding { .. }
            | What::PolicyAlerts { .. } => {}
        }
    }
    (all.iter())
        .map(|w| {
            serde_json::to_value(w).expect("JSON")["change"]
                .as_str()
                .expect("a name")
                .to_owned()
        })
        .collect()
}

/// The README's fleet audit section documents every change of the diff,
/// every device problem and kind, the new fields and the option.
#[test]
fn the_readme_documents_every_change_problem_and_field_of_the_diff() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let readme = std::fs::read_to_string(path).expect("the README");
    let start = readme.find("## The fleet audit").expect("the section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |n| n + 3)];
    let problems = rhombus_audit::devices::Problem::ALL.map(|p| p.name());
    let kinds = ["camera", "door"];
    let fields = [
        "problem_devices",
        "org_uuid",
        "problems_only",
        "clients_selected",
        "--alerts-threshold PERCENT",
        "diff_schema_version",
        "alerts_threshold_percent",
        "started",
        "stopped",
        "healthy",
    ];
    let changes = every_change();
    for name in changes.iter().map(String::as_str).chain(problems) {
        assert!(
            section.contains(&format!("`{name}`")),
            "the README lacks `{name}`"
        );
    }
    for kind in kinds {
        assert!(
            section.contains(&format!("\"{kind}\"")),
            "the README lacks {kind:?}"
        );
    }
    for field in fields {
        assert!(section.contains(field), "the README lacks {field}");
    }
    let default = format!(
        "(default {})",
        rhombus_audit::diff::DEFAULT_ALERTS_THRESHOLD
    );
    assert!(section.contains(&default), "{default}");
    let least = format!("by at least {}", rhombus_audit::diff::ALERTS_MIN_CHANGE);
    assert!(section.contains(&least), "{least}");
}
