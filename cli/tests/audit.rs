//! `rhombus-audit` run as a user runs it: a child process, its table, JSON
//! and CSV parsed, its exit status read, against the fake server it embeds
//! or one started here. What it must print is computed from the fake's
//! model ([`expected`]), fact by fact of `FACTS`.

use std::collections::BTreeMap;
use std::fmt;
use std::process::{Command, Output};
use std::time::Duration;

use rhombus_audit::facts::{ErrorKind, FACTS, Fact, FactSpec, Source};
use rhombus_fake::{
    BUSY, FAKE_API_KEY, FakeAnswer, FakeCall, FakeClient, FakeFleet, FakeOptions, FakeServer,
    LICENSES_FAIL, NEW_FIRMWARE, REFUSING, USERS_EMPTY,
};

mod common;

use common::{run, run_async, stderr, stdout};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The first fields of a client record, in order, as the README documents
/// them; then one per fact of `FACTS`, then `problem_devices` and
/// `errors`.
const FIRST_FIELDS: [&str; 3] = ["client_uuid", "client_name", "complete"];

/// Every field of a client record, in order.
fn fields() -> Vec<&'static str> {
    (FIRST_FIELDS.iter().copied())
        .chain(FACTS.iter().map(|s| s.field))
        .chain(["problem_devices", "errors"])
        .collect()
}

/// The fields of the JSON document, in order.
const DOCUMENT_FIELDS: [&str; 11] = [
    "schema_version",
    "generated_at",
    "partner",
    "problems_only",
    "clients_selected",
    "complete",
    "totals",
    "fleet_firmware",
    "clients",
    "license_pool",
    "license_pool_error",
];

/// Runs the audit of the fake server's account, with its key.
async fn audit_fake(server: &FakeServer, args: &[&str]) -> Output {
    let uri = server.uri();
    let env = [
        ("RHOMBUS_API_KEY", FAKE_API_KEY),
        ("RHOMBUS_BASE_URL", &uri),
    ];
    run_async(args, &env).await
}

/// The fake's call that a fact's source is.
fn call_of(source: Source) -> FakeCall {
    match source {
        Source::Cameras => FakeCall::Cameras,
        Source::Doors => FakeCall::Doors,
        Source::Alerts => FakeCall::Alerts,
        Source::Users => FakeCall::Users,
        Source::Licenses => FakeCall::Licenses,
    }
}

/// How the fact is unknown for this client of the fake fleet (its error's
/// `kind` and `status`), if it is.
fn unknown(client: &FakeClient, spec: &FactSpec) -> Option<(&'static str, Option<u16>)> {
    if !client.access_allowed {
        return Some(("forbidden", Some(403)));
    }
    let call = call_of(spec.source);
    let (_, answer) = client.broken.iter().find(|(c, _)| *c == call)?;
    Some(match answer {
        FakeAnswer::Status(500) => ("server", Some(500)),
        FakeAnswer::Status(status) => panic!("no kind expected for {status} yet"),
        FakeAnswer::Empty => ("missing", None),
    })
}

/// What the audit must find for a fact of a client of the fake fleet:
/// its count, or `None` when it cannot be read.
fn expected(client: &FakeClient, spec: &FactSpec) -> Option<u64> {
    if unknown(client, spec).is_some() {
        return None;
    }
    let cameras = |wanted: &dyn Fn(&rhombus_fake::FakeCamera) -> bool| {
        client.cameras.iter().filter(|c| wanted(c)).count() as u64
    };
    let connection = |values: &[&str]| cameras(&|c| values.contains(&c.connection.as_str()));
    let health = |value: &str| cameras(&|c| c.health == value);
    let listed = [
        "DISCONNECTED",
        "FIRMWARE_BEHIND",
        "NOT_RECORDING",
        "LINK_SPEED_LOW",
        "MALFUNCTIONING_MODULES",
        "CALIBRATING",
        "DELAYED",
        "NONE",
    ];
    // The fake puts the old firmware on some cameras only, never all.
    let behind = cameras(&|c| c.firmware_behind);
    let door = |value: &str| client.doors.iter().filter(|h| *h == value).count() as u64;
    let licenses = |wanted: &dyn Fn(&rhombus_fake::FakeLicense) -> bool| {
        client.licenses.iter().filter(|l| wanted(l)).count() as u64
    };
    Some(match spec.field {
        "cameras" => client.cameras.len() as u64,
        "cameras_offline" => connection(&["RED"]),
        "cameras_degraded" => connection(&["ORANGE", "YELLOW"]),
        "cameras_unknown_status" => {
            client.cameras.len() as u64 - connection(&["GREEN", "RED", "ORANGE", "YELLOW"])
        }
        "cameras_not_recording" => health("NOT_RECORDING"),
        "cameras_firmware_behind" => health("FIRMWARE_BEHIND"),
        "cameras_link_speed_low" => health("LINK_SPEED_LOW"),
        "cameras_malfunctioning" => health("MALFUNCTIONING_MODULES"),
        "cameras_disconnected" => health("DISCONNECTED"),
        "cameras_calibrating" => health("CALIBRATING"),
        "cameras_delayed" => health("DELAYED"),
        "cameras_health_unknown" => cameras(&|c| !listed.contains(&c.health.as_str())),
        "cameras_not_on_newest_firmware" => behind,
        "cameras_updating_firmware" => cameras(&|c| c.updating),
        "doors" => client.doors.len() as u64,
        "doors_unhealthy" => door("RED"),
        "doors_health_unknown" => client.doors.len() as u64 - door("RED") - door("GREEN"),
        "policy_alerts_7d" => client.alerts_last_week as u64,
        "users" => client.users as u64,
        "licenses_ending_30d" => licenses(&|l| l.days_left <= 30),
        "licenses_trial" => licenses(&|l| l.trial),
        other => panic!("the test has no model of the fact {other}: add it"),
    })
}

/// Every fact of the client, in the order of `FACTS`.
fn expected_all(client: &FakeClient) -> Vec<Option<u64>> {
    FACTS.iter().map(|s| expected(client, s)).collect()
}

/// The facts the default table shows, in order.
fn default_columns() -> Vec<&'static FactSpec> {
    FACTS.iter().filter(|s| s.default).collect()
}

/// A table row: the name, a cell per column (`None` for `?`), and its
/// note's number.
#[derive(Debug)]
struct Row {
    name: String,
    cells: Vec<Option<u64>>,
    note: Option<usize>,
}

/// The table's client rows, then its totals row.
fn table_rows(table: &str) -> Vec<Row> {
    let rule = |line: &str| line.starts_with("----");
    let lines: Vec<&str> = table.lines().collect();
    let first = lines
        .iter()
        .position(|l| rule(l))
        .expect("a rule under the header");
    let last = lines
        .iter()
        .rposition(|l| rule(l))
        .expect("a rule over the totals");
    let clients = lines[first + 1..last].iter().map(|l| (l, true));
    (clients.chain([(&lines[last + 1], false)]))
        .map(|(line, client)| {
            let (name, rest) = line.split_at(30);
            let mut cells = Vec::new();
            let mut note = None;
            // A client's row has its UUID's first characters after the name.
            for cell in rest.split_whitespace().skip(usize::from(client)) {
                match cell.strip_prefix('[') {
                    Some(n) => note = Some(n.trim_end_matches(']').parse().expect("a note")),
                    None if cell == "?" => cells.push(None),
                    None => cells.push(Some(cell.parse().expect("a count"))),
                }
            }
            Row {
                name: name.trim().to_owned(),
                cells,
                note,
            }
        })
        .collect()
}

/// The lines of the table's note `n`.
fn note(table: &str, n: usize) -> Vec<&str> {
    let prefix = format!("[{n}] ");
    (table.lines())
        .filter_map(|l| l.trim_start().strip_prefix(&prefix))
        .collect()
}

/// An object's keys in the order the text has them.
struct Keys(Vec<String>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Keys, D::Error> {
        struct KeysVisitor;
        impl<'de> Visitor<'de> for KeysVisitor {
            type Value = Keys;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some((key, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
                    keys.push(key);
                }
                Ok(Keys(keys))
            }
        }
        deserializer.deserialize_map(KeysVisitor)
    }
}

/// The keys of the document, and of its first client record, in order.
fn key_orders(text: &str) -> (Vec<String>, Vec<String>) {
    #[derive(serde::Deserialize)]
    struct Clients {
        clients: Vec<Keys>,
    }
    let document: Keys = serde_json::from_str(text).expect("JSON");
    let clients: Clients = serde_json::from_str(text).expect("JSON");
    let first = clients.clients.into_iter().next().expect("a record");
    (document.0, first.0)
}

/// The record's errors, by fact: `(kind, status)`.
fn errors_by_fact(record: &Value) -> BTreeMap<String, (String, Option<u64>)> {
    let mut by_fact = BTreeMap::new();
    for error in record["errors"].as_array().expect("an errors list") {
        let kind = error["kind"].as_str().expect("a kind").to_owned();
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(error["operation"].as_str().is_some(), "{error}");
        for fact in error["facts"].as_array().expect("facts") {
            let fact = fact.as_str().expect("a fact name").to_owned();
            by_fact.insert(fact, (kind.clone(), error["status"].as_u64()));
        }
    }
    by_fact
}

/// Checks a record against the model: each fact's value, each unknown
/// one's kind and status, and `complete`.
fn check_record(record: &Value, client: &FakeClient) {
    let errors = errors_by_fact(record);
    for spec in FACTS {
        let want = expected(client, spec);
        assert_eq!(
            record[spec.field].as_u64(),
            want,
            "{} {}",
            client.name,
            spec.field
        );
        let got = errors
            .get(spec.field)
            .map(|(k, s)| (k.as_str(), s.map(|s| s as u16)));
        assert_eq!(got, unknown(client, spec), "{} {}", client.name, spec.field);
        if want.is_none() {
            assert_eq!(record[spec.field], Value::Null);
        }
    }
    let complete = FACTS.iter().all(|s| expected(client, s).is_some());
    assert_eq!(record["complete"], complete, "{}", client.name);
    let devices = expected_devices(client);
    assert_eq!(
        record["problem_devices"],
        Value::Array(devices),
        "{}",
        client.name
    );
}

/// The cameras and doors of a client of the fake fleet with a problem, as
/// a record lists them (none of a kind whose call fails). The fake puts
/// the old firmware on some cameras, never all, so those are behind the
/// client's newest.
fn expected_devices(client: &FakeClient) -> Vec<Value> {
    let read = |source| {
        let spec = FACTS.iter().find(|s| s.source == source).expect("a fact");
        unknown(client, spec).is_none()
    };
    let id =
        |kind: &str, n: usize| format!("{}{kind}{n:04}", &client.uuid[client.uuid.len() - 8..]);
    let mut devices = Vec::new();
    for (n, camera) in client.cameras.iter().enumerate() {
        let problems: Vec<&str> = [
            (camera.connection == "RED", "offline"),
            (camera.health == "NOT_RECORDING", "not_recording"),
            (camera.health == "FIRMWARE_BEHIND", "firmware_behind"),
            (camera.health == "MALFUNCTIONING_MODULES", "malfunctioning"),
            (camera.firmware_behind, "not_on_newest_firmware"),
        ]
        .into_iter()
        .filter_map(|(has, problem)| has.then_some(problem))
        .collect();
        if read(Source::Cameras) && !problems.is_empty() {
            let name = (!camera.unnamed).then(|| format!("Camera {}", n + 1));
            devices.push(serde_json::json!({ "kind": "camera", "uuid": id("CaM", n),
                "name": name, "problems": problems }));
        }
    }
    for (n, health) in client.doors.iter().enumerate() {
        if read(Source::Doors) && health == "RED" {
            devices.push(serde_json::json!({ "kind": "door", "uuid": id("DoR", n),
                "name": format!("Door {}", n + 1), "problems": ["unhealthy"] }));
        }
    }
    devices
}

#[test]
fn without_a_key_it_audits_the_demo_partner_with_a_question_mark_for_each_fact_not_read() {
    let output = run(&[], &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("RHOMBUS_API_KEY is not set"));
    let table = stdout(&output);
    let rows = table_rows(&table);
    let (totals, rows) = rows.split_last().expect("a totals row");

    let fleet = FakeFleet::demo();
    let mut names: Vec<&str> = fleet.clients.iter().map(|c| c.name.as_str()).collect();
    names.sort_by_key(|name| name.to_lowercase());
    let shown: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(shown, names, "every client, sorted by name");

    let columns = default_columns();
    let mut sum = vec![0; columns.len()];
    for row in rows {
        let client = fleet
            .clients
            .iter()
            .find(|c| c.name == row.name)
            .expect("a demo client");
        let want: Vec<Option<u64>> = columns.iter().map(|s| expected(client, s)).collect();
        assert_eq!(row.cells, want, "{}", row.name);
        sum.iter_mut()
            .zip(&row.cells)
            .for_each(|(s, c)| *s += c.unwrap_or(0));
        check_note(&table, row, client);
    }
    assert_eq!(
        totals.name,
        format!("total ({} clients)", fleet.clients.len())
    );
    let totals: Vec<u64> = totals.cells.iter().map(|c| c.expect("a total")).collect();
    assert_eq!(totals, sum);
    let licenses = note_of(&table, rows, LICENSES_FAIL, &fleet);
    assert!(
        licenses.contains("ending 30d, trial: server (HTTP 500)"),
        "{licenses}"
    );
    let users = note_of(&table, rows, USERS_EMPTY, &fleet);
    assert!(users.contains("users: missing"), "{users}");
}

/// A row has a note if and only if its client has a fact not read; a
/// client refusing partner access gets the refusal once, with the advice.
fn check_note(table: &str, row: &Row, client: &FakeClient) {
    let complete = FACTS.iter().all(|s| expected(client, s).is_some());
    assert_eq!(
        row.note.is_none(),
        complete,
        "a note for each client not read whole"
    );
    let Some(n) = row.note else { return };
    let lines = note(table, n).join("\n");
    assert!(lines.starts_with(&client.name), "{lines}");
    if !client.access_allowed {
        assert!(
            lines.contains("nothing read: forbidden (HTTP 403)"),
            "{lines}"
        );
        assert!(
            lines.contains("ask the client to allow partner access"),
            "{lines}"
        );
    }
}

/// The note of the demo client `uuid`.
fn note_of(table: &str, rows: &[Row], uuid: &str, fleet: &FakeFleet) -> String {
    let client = fleet.client(uuid).expect("a demo client");
    let row = rows.iter().find(|r| r.name == client.name).expect("a row");
    note(table, row.note.expect("a note")).join("\n")
}

#[test]
fn the_demo_covers_what_the_audit_looks_for() {
    let fleet = FakeFleet::demo();
    for spec in FACTS {
        let sum: u64 = (fleet.clients.iter())
            .filter_map(|c| expected(c, spec))
            .sum();
        assert!(sum > 0, "{} is never above 0 in the demo", spec.field);
    }
    let busy = fleet.client(BUSY).expect("the busy client");
    assert!(busy.alerts_last_week > 2 * rhombus_audit::audit::ALERT_PAGE);
    let refusing = fleet.client(REFUSING).expect("the refusing client");
    assert!(!refusing.access_allowed);
}

#[test]
fn json_is_one_documented_document_with_a_record_per_client_totals_and_the_pool() {
    let output = run(&["--json"], &[]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let (document_keys, record_keys) = key_orders(&text);
    assert_eq!(
        document_keys, DOCUMENT_FIELDS,
        "the document's fields, in order"
    );
    assert_eq!(record_keys, fields(), "a record's fields, in order");
    let document: Value = serde_json::from_str(&text).expect("stdout is JSON");
    assert_eq!(document["schema_version"], 2);
    assert_eq!(document["complete"], false);
    assert_eq!(document["problems_only"], false);
    assert_eq!(
        document["partner"]["org_uuid"],
        rhombus_fake::msp::PARTNER_ORG
    );
    assert!(
        !text.contains(FAKE_API_KEY),
        "nothing of the key is written"
    );
    let base_url = document["partner"]["base_url"]
        .as_str()
        .expect("a base URL");
    assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");
    let fleet = FakeFleet::demo();
    let records = document["clients"].as_array().expect("a clients array");
    assert_eq!(records.len(), fleet.clients.len());
    for record in records {
        let client = fleet
            .client(record["client_uuid"].as_str().expect("a uuid"))
            .expect("known");
        assert_eq!(record["client_name"], client.name.as_str());
        check_record(record, client);
    }
    for spec in FACTS {
        let values = fleet.clients.iter().map(|c| expected(c, spec));
        let total = &document["totals"][spec.field];
        assert_eq!(
            total["sum"],
            values.clone().flatten().sum::<u64>(),
            "{}",
            spec.field
        );
        let unknown = values.filter(Option::is_none).count();
        assert_eq!(total["unknown_clients"], unknown, "{}", spec.field);
    }
    check_pool(&document, &fleet);
    check_fleet_firmware(&document, &fleet);
}

/// The fleet's newest firmware, and the cameras of the clients whose
/// cameras were read that are on an older one.
fn check_fleet_firmware(document: &Value, fleet: &FakeFleet) {
    let cameras = FACTS.iter().find(|s| s.field == "cameras").expect("a fact");
    let read = || {
        fleet
            .clients
            .iter()
            .filter(|c| expected(c, cameras).is_some())
    };
    let behind: usize = read()
        .map(|c| c.cameras.iter().filter(|c| c.firmware_behind).count())
        .sum();
    let firmware = &document["fleet_firmware"];
    assert_eq!(firmware["newest"], NEW_FIRMWARE);
    assert_eq!(firmware["cameras_not_on_newest"], behind);
    assert_eq!(
        firmware["unknown_clients"],
        fleet.clients.len() - read().count()
    );
}

/// The pool against the needs of the clients whose licenses were read.
fn check_pool(document: &Value, fleet: &FakeFleet) {
    let pool = document["license_pool"].as_array().expect("a pool");
    let line = |code: &str| {
        pool.iter()
            .find(|p| p["product_code"] == code)
            .expect(code)
            .clone()
    };
    let licenses = FACTS
        .iter()
        .find(|s| s.source == Source::Licenses)
        .expect("a fact");
    let need = |code: &str| {
        (fleet
            .clients
            .iter()
            .filter(|c| expected(c, licenses).is_some()))
        .flat_map(|c| &c.licenses)
        .filter(|l| l.product == code && (l.trial || l.days_left <= 30))
        .count() as u64
    };
    for product in &fleet.pool {
        let line = line(&product.product);
        assert_eq!(line["unassigned"], product.unassigned);
        assert_eq!(line["needed"], need(&product.product));
        let short = need(&product.product).saturating_sub(product.unassigned as u64);
        assert_eq!(line["short"], short, "{}", product.product);
    }
}

#[test]
fn csv_has_the_documented_header_and_one_line_per_client() {
    let output = run(&["--csv", "--sort", "offline"], &[]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, fields());
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a record")).collect();
    let fleet = FakeFleet::demo();
    assert_eq!(records.len(), fleet.clients.len());
    let mut last_unhealthy = u64::MAX;
    for record in &records {
        let client = fleet.client(&record[0]).expect("a demo client");
        let counts: Vec<Option<u64>> = (3..3 + FACTS.len())
            .map(|n| (!record[n].is_empty()).then(|| record[n].parse().expect("a count")))
            .collect();
        assert_eq!(counts, expected_all(client), "{}", client.name);
        assert_eq!(record[2] == *"true", counts.iter().all(Option::is_some));
        let devices = &record[3 + FACTS.len()];
        let listed = devices.split(" | ").filter(|d| !d.is_empty()).count();
        assert_eq!(listed, expected_devices(client).len(), "{devices}");
        let errors = &record[4 + FACTS.len()];
        assert_eq!(
            errors.is_empty(),
            counts.iter().all(Option::is_some),
            "{errors}"
        );
        if !client.access_allowed {
            assert!(errors.contains("forbidden (HTTP 403)"), "{errors}");
            assert_eq!(record, records.last().expect("rows"), "sorts last");
            continue;
        }
        // Offline cameras only: degraded ones do not count.
        let offline = counts[1].unwrap_or(0);
        assert!(offline <= last_unhealthy, "--sort offline: most first");
        last_unhealthy = offline;
    }
}

#[test]
fn wide_shows_every_column_and_problems_only_the_clients_with_something_to_do() {
    let output = run(&["--wide", "--problems"], &[]);
    assert_eq!(output.status.code(), Some(1));
    let table = stdout(&output);
    for spec in FACTS {
        assert!(
            table
                .lines()
                .nth(2)
                .expect("a header")
                .contains(spec.header)
        );
    }
    let rows = table_rows(&table);
    let (totals, rows) = rows.split_last().expect("a totals row");
    let fleet = FakeFleet::demo();
    let problem = |c: &FakeClient| {
        FACTS.iter().any(|s| match expected(c, s) {
            None => true,
            Some(n) => s.problem && n > 0,
        })
    };
    let mut with_problems: Vec<&str> = (fleet.clients.iter())
        .filter(|c| problem(c))
        .map(|c| c.name.as_str())
        .collect();
    with_problems.sort_by_key(|n| n.to_lowercase());
    let shown: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(shown, with_problems);
    assert!(
        shown.len() < fleet.clients.len(),
        "some clients have nothing to do"
    );
    for row in rows {
        let client = fleet
            .clients
            .iter()
            .find(|c| c.name == row.name)
            .expect("a client");
        assert_eq!(row.cells, expected_all(client), "{}", row.name);
    }
    let sums: Vec<Option<u64>> = (FACTS.iter())
        .map(|s| Some(fleet.clients.iter().filter_map(|c| expected(c, s)).sum()))
        .collect();
    assert_eq!(totals.cells, sums, "the totals stay the fleet's");

    let output = run(&["--json", "--problems"], &[]);
    let document: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    let records = document["clients"].as_array().expect("clients");
    assert_eq!(records.len(), with_problems.len());
    assert_eq!(
        document["problems_only"], true,
        "the document says it left clients out"
    );
}

#[test]
fn columns_shows_the_facts_named_in_the_usual_order_and_refuses_an_unknown_name() {
    let output = run(
        &[
            "--columns",
            "doors_unhealthy,CAMERAS, cameras_not_recording",
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    let table = stdout(&output);
    let chosen = [
        Fact::Cameras,
        Fact::CamerasNotRecording,
        Fact::DoorsUnhealthy,
    ];
    let header = table.lines().nth(2).expect("a header");
    let words: Vec<&str> = header.split_whitespace().skip(2).collect();
    let headers: Vec<&str> = (chosen.iter())
        .flat_map(|f| f.spec().header.split_whitespace())
        .collect();
    assert_eq!(words, headers, "{table}");
    let fleet = FakeFleet::demo();
    let rows = table_rows(&table);
    for row in &rows[..rows.len() - 1] {
        let client = (fleet.clients.iter())
            .find(|c| c.name == row.name)
            .expect("a client");
        let cells: Vec<Option<u64>> = chosen.iter().map(|f| expected(client, f.spec())).collect();
        assert_eq!(row.cells, cells, "{}", row.name);
    }
    assert!(table.contains("--columns the ones named"), "{table}");

    let output = run(&["--columns", "cameras,offline_cameras"], &[]);
    assert_eq!(output.status.code(), Some(2));
    let error = stderr(&output);
    assert!(
        error.contains("no fact is named `offline_cameras`"),
        "{error}"
    );
    assert!(
        error.contains("cameras_offline"),
        "the error lists the facts: {error}"
    );
}

/// Where the first two tests of the issue run: a client whose camera call
/// answers two cameras and whose other calls answer `{}`.
async fn cameras_only_server() -> MockServer {
    let cameras = serde_json::json!({ "cameraStates": [
        { "connectionStatus": "GREEN", "healthStatusDetails": "NONE",
          "firmwareVersion": "2.14.3", "firmwareUpdateInProgress": false },
        { "connectionStatus": "RED", "healthStatusDetails": "NOT_RECORDING",
          "firmwareVersion": "2.9.40", "firmwareUpdateInProgress": false }
    ] });
    let empty = ResponseTemplate::new(200).set_body_json(serde_json::json!({}));
    let server = one_client_server("Half Co", empty).await;
    let cameras = ResponseTemplate::new(200).set_body_json(cameras);
    answer_instead(&server, "/api/camera/getMinimalCameraStateList", cameras).await;
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_answering_empty_objects_gives_the_cameras_and_unknown_missing_for_the_rest() {
    let server = cameras_only_server().await;
    let camera_facts = [
        ("cameras", 2),
        ("cameras_offline", 1),
        ("cameras_not_recording", 1),
        ("cameras_not_on_newest_firmware", 1),
        ("cameras_firmware_behind", 0),
    ];

    let output = audit_of(&server, &["--json"]).await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let document: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    let record = &document["clients"][0];
    assert_eq!(record["complete"], false);
    for (field, count) in camera_facts {
        assert_eq!(record[field], count, "{field}");
    }
    let errors = errors_by_fact(record);
    for spec in FACTS {
        let error = errors.get(spec.field);
        match spec.source {
            Source::Cameras => assert!(error.is_none(), "{}: {error:?}", spec.field),
            _ => {
                assert_eq!(record[spec.field], Value::Null, "{}", spec.field);
                assert_eq!(error, Some(&("missing".to_owned(), None)), "{}", spec.field);
            }
        }
    }
    assert_eq!(document["totals"]["doors"]["unknown_clients"], 1);
    assert_eq!(document["totals"]["cameras"]["sum"], 2);

    check_cameras_only_csv_and_table(&server, &camera_facts).await;
}

/// The CSV and the table of [`cameras_only_server`]: the camera facts, and
/// empty cells or `?` with a note saying `missing` for the others.
async fn check_cameras_only_csv_and_table(server: &MockServer, camera_facts: &[(&str, u64)]) {
    let output = audit_of(server, &["--csv"]).await;
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let record: BTreeMap<String, String> = csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .next()
        .expect("a record")
        .expect("parses");
    for &(field, count) in camera_facts {
        assert_eq!(record[field], count.to_string(), "{field}");
    }
    for spec in FACTS.iter().filter(|s| s.source != Source::Cameras) {
        assert_eq!(record[spec.field], "", "{}", spec.field);
    }
    assert!(record["errors"].contains("doors,doors_unhealthy,doors_health_unknown: missing"));

    let output = audit_of(server, &[]).await;
    assert_eq!(output.status.code(), Some(1));
    let table = stdout(&output);
    let rows = table_rows(&table);
    let shown: Vec<Option<u64>> = default_columns()
        .iter()
        .map(|s| {
            camera_facts
                .iter()
                .find(|(f, _)| *f == s.field)
                .map(|(_, n)| *n)
        })
        .collect();
    assert_eq!(rows[0].cells, shown, "{table}");
    let note = note(&table, rows[0].note.expect("a note")).join("\n");
    for operation in [
        "door/getMinimalDoorStateList",
        "event/getPolicyAlertsV2",
        "user/getUsersInOrg",
    ] {
        assert!(
            note.contains(&format!("missing: {operation}: the answer has no")),
            "{note}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_failing_for_every_client_leaves_only_its_own_facts_unknown() {
    let mut fleet = FakeFleet::generated(40);
    for client in &mut fleet.clients {
        client
            .broken
            .push((FakeCall::Licenses, FakeAnswer::Status(500)));
    }
    let server = FakeServer::start(fleet.clone(), FakeOptions::default()).await;
    let output = audit_fake(&server, &["--json"]).await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let document: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    let records = document["clients"].as_array().expect("clients");
    assert_eq!(records.len(), 40);
    for record in records {
        let client = fleet
            .client(record["client_uuid"].as_str().expect("uuid"))
            .expect("known");
        check_record(record, client);
        assert_eq!(record["licenses_ending_30d"], Value::Null);
        assert!(record["cameras"].as_u64().is_some_and(|n| n > 0));
    }
    let cameras: u64 = fleet.clients.iter().map(|c| c.cameras.len() as u64).sum();
    assert_eq!(document["totals"]["cameras"]["sum"], cameras);
    assert_eq!(document["totals"]["cameras"]["unknown_clients"], 0);
    assert_eq!(document["totals"]["licenses_trial"]["unknown_clients"], 40);

    let output = audit_fake(&server, &["--csv"]).await;
    let text = stdout(&output);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    for record in reader.deserialize::<BTreeMap<String, String>>() {
        let record = record.expect("parses");
        assert_eq!(record["licenses_trial"], "");
        assert!(!record["cameras"].is_empty());
        assert!(
            record["errors"].starts_with("licenses_ending_30d,licenses_trial: server (HTTP 500)")
        );
    }
    let output = audit_fake(&server, &[]).await;
    let table = stdout(&output);
    let rows = table_rows(&table);
    let ending = default_columns()
        .iter()
        .position(|s| s.field == "licenses_ending_30d");
    for row in &rows[..40] {
        assert_eq!(row.cells[ending.expect("a default column")], None);
        assert_eq!(row.cells[0].map(|n| n > 0), Some(true), "{}", row.name);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fatal_error_under_json_is_a_json_document_too() {
    let server = FakeServer::start(FakeFleet::generated(1), FakeOptions::default()).await;
    let (key, uri) = ("wrong-key-5d1c9e", server.uri());
    let env = [("RHOMBUS_API_KEY", key), ("RHOMBUS_BASE_URL", uri.as_str())];
    let output = run_async(&["--json"], &env).await;
    assert_eq!(output.status.code(), Some(3));
    let document: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(document["schema_version"], 2);
    assert_eq!(document["complete"], false);
    assert_eq!(document["fatal"]["kind"], "forbidden");
    let message = document["fatal"]["message"].as_str().expect("a message");
    assert!(message.contains("401"), "{message}");
    assert!(!stdout(&output).contains(key));

    let closed = [
        ("RHOMBUS_API_KEY", key),
        ("RHOMBUS_BASE_URL", "http://127.0.0.1:9"),
    ];
    let output = run_async(&["--json"], &closed).await;
    assert_eq!(output.status.code(), Some(3));
    let document: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(document["fatal"]["kind"], "transport");
}

/// Each fact's `from` column and what the health checks read stay true
/// to upstream's fragment.
#[test]
fn the_camera_fragment_still_has_the_fields_the_health_checks_read() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/areas/camera.json");
    let text = std::fs::read_to_string(path).expect("the camera fragment");
    let spec: Value = serde_json::from_str(&text).expect("JSON");
    let schema = |reference: &Value| {
        let name = reference
            .as_str()
            .expect("a $ref")
            .rsplit('/')
            .next()
            .expect("a name");
        spec["components"]["schemas"][name].clone()
    };
    let operation = &spec["paths"]["/api/camera/getMinimalCameraStateList"]["post"];
    let answer = &operation["responses"]["200"]["content"]["application/json"]["schema"];
    let answer = schema(&answer["$ref"]);
    let item = schema(&answer["properties"]["cameraStates"]["items"]["$ref"]);
    let properties = &item["properties"];
    for field in [
        "connectionStatus",
        "healthStatusDetails",
        "firmwareVersion",
        "firmwareUpdateInProgress",
    ] {
        assert!(
            properties.get(field).is_some(),
            "cameraStates[].{field} is gone"
        );
    }
    let details = schema(&properties["healthStatusDetails"]["$ref"]);
    let values: Vec<&str> = (details["enum"].as_array().expect("an enum").iter())
        .map(|v| v.as_str().expect("a value"))
        .collect();
    for counts in FACTS
        .iter()
        .filter_map(|s| s.counts.strip_prefix("`healthStatusDetails` `"))
    {
        let value = counts.trim_end_matches('`');
        assert!(
            values.contains(&value),
            "healthStatusDetails {value} is gone: {values:?}"
        );
    }
}

#[test]
fn clients_audits_a_subset_by_uuid_or_name_and_refuses_unknown_ones() {
    let fleet = FakeFleet::demo();
    let (first, second) = (&fleet.clients[0], &fleet.clients[1]);
    let wanted = format!("{},{}", first.uuid, second.name.to_uppercase());
    let output = run(&["--json", "--clients", &wanted], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let document: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(document["complete"], true);
    let uuids: Vec<&str> = (document["clients"].as_array().expect("clients").iter())
        .map(|r| r["client_uuid"].as_str().expect("uuid"))
        .collect();
    assert_eq!(uuids, [first.uuid.as_str(), second.uuid.as_str()]);

    let output = run(&["--clients", "Acme Logistics,,Bayside Dental Group"], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("a value is required for '--clients"));

    let output = run(&["--clients", "Nobody Inc,Acme Logistics"], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let error = stderr(&output);
    assert!(error.contains("no client matches Nobody Inc:"), "{error}");
    assert!(!error.contains("Acme"), "{error}");
}

#[test]
fn help_names_the_outputs_and_the_exit_statuses_and_bad_arguments_exit_2() {
    let output = run(&["--help"], &[]);
    assert_eq!(output.status.code(), Some(0));
    let help = stdout(&output);
    for promise in [
        "--json",
        "--csv",
        "--clients",
        "--concurrency",
        "--sort",
        "--wide",
        "--problems",
        "Exit status: 0",
    ] {
        assert!(help.contains(promise), "{promise} in\n{help}");
    }
    for args in [
        &["--concurrency", "0"][..],
        &["--json", "--csv"],
        &["--sort", "size"],
    ] {
        let output = run(args, &[]);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn quiet_drops_the_note_and_an_empty_key_or_a_base_url_without_a_key_says_what_to_set() {
    let quiet = run(&["--quiet"], &[]);
    assert_eq!(quiet.status.code(), Some(1));
    assert!(quiet.stderr.is_empty(), "no note about the fake server");
    let output = run(&[], &[("RHOMBUS_API_KEY", " ")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("RHOMBUS_API_KEY is set but empty"));
    let output = run(&[], &[("RHOMBUS_BASE_URL", "http://127.0.0.1:9")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("RHOMBUS_BASE_URL is set but RHOMBUS_API_KEY is not"));
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_key_it_audits_that_account_and_a_refused_key_audits_nothing() {
    let server = FakeServer::start(FakeFleet::generated(30), FakeOptions::default()).await;
    let output = audit_fake(&server, &["--json"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let document: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(document["clients"].as_array().expect("clients").len(), 30);
    // No call beyond the listing, the pool, and per client four calls and
    // the alerts' pages (a full page asks for the next).
    let fleet = FakeFleet::generated(30);
    let pages = |c: &FakeClient| c.alerts_last_week / rhombus_audit::audit::ALERT_PAGE + 1;
    let calls: usize = fleet.clients.iter().map(|c| 4 + pages(c)).sum();
    assert_eq!(server.requests(), 2 + calls, "the calls the audit makes");
    assert!(
        stderr(&output).is_empty(),
        "no note about a fake server: {}",
        stderr(&output)
    );

    let (key, uri) = ("wrong-key-5d1c9e", server.uri());
    let output = run_async(&[], &[("RHOMBUS_API_KEY", key), ("RHOMBUS_BASE_URL", &uri)]).await;
    assert_eq!(output.status.code(), Some(3));
    assert!(output.stdout.is_empty());
    let error = stderr(&output);
    assert!(
        error.contains("the API key was refused (401): check the key (RHOMBUS_API_KEY"),
        "{error}"
    );
    for entry in ["api_key_env", "api_key_file", "api_key_command", "scheme"] {
        assert!(
            error.contains(entry),
            "the advice names the profile's {entry}: {error}"
        );
    }
    assert!(!error.contains(key), "{error}");

    // Nothing listens on the discard port.
    let closed = [
        ("RHOMBUS_API_KEY", key),
        ("RHOMBUS_BASE_URL", "http://127.0.0.1:9"),
    ];
    let output = run_async(&[], &closed).await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stderr(&output).contains("cannot list the partner's clients"));
}

#[tokio::test(flavor = "multi_thread")]
async fn api_warnings_are_logged_and_formula_names_are_inert_in_csv_only() {
    let mut answer = every_list_empty();
    answer["warningMsg"] = "this call goes away in May".into();
    let name = "=HYPERLINK(\"http://x.example\")";
    let server = one_client_server(name, ResponseTemplate::new(200).set_body_json(answer)).await;
    let output = audit_of(&server, &["--csv"]).await;
    assert_eq!(output.status.code(), Some(0));
    let log = stderr(&output);
    assert!(
        log.contains("WARN") && log.contains("this call goes away in May"),
        "{log}"
    );
    let text = stdout(&output);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let record = reader.records().next().expect("a record").expect("parses");
    assert_eq!(&record[1], format!("'{name}"));
    let output = audit_of(&server, &["--json"]).await;
    let document: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(document["clients"][0]["client_name"], name);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_listed_without_a_uuid_gets_a_row_of_unknown_facts() {
    let answer = ResponseTemplate::new(200).set_body_json(every_list_empty());
    let server = one_client_server("Fine Co", answer).await;
    let listing = serde_json::json!({ "clients": [
        { "clientOrgUuid": ORG, "clientOrgName": "Fine Co" },
        { "clientOrgName": "Ghost Ltd" }
    ] });
    let listing = ResponseTemplate::new(200).set_body_json(listing);
    answer_instead(&server, "/api/partner/getClientsV2", listing).await;
    let output = audit_of(&server, &["--json"]).await;
    assert_eq!(output.status.code(), Some(1));
    let document: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    let records = document["clients"].as_array().expect("clients");
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["complete"], true);
    assert_eq!(records[1]["client_name"], "Ghost Ltd");
    assert_eq!(records[1]["complete"], false);
    let error = &records[1]["errors"][0];
    assert_eq!(error["kind"], "missing");
    assert_eq!(error["operation"], "partner/getClientsV2");
    assert_eq!(error["facts"].as_array().map(Vec::len), Some(FACTS.len()));
    let message = error["message"].as_str().expect("a message");
    assert!(message.contains("no clientOrgUuid"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pool_that_cannot_be_read_is_said_and_the_audit_is_incomplete() {
    let answer = ResponseTemplate::new(200).set_body_json(every_list_empty());
    let server = one_client_server("Fine Co", answer).await;
    answer_instead(
        &server,
        "/api/partner/license/getPool",
        ResponseTemplate::new(403),
    )
    .await;
    let output = audit_of(&server, &["--json"]).await;
    assert_eq!(output.status.code(), Some(1));
    let document: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(document["clients"][0]["complete"], true);
    assert_eq!(document["license_pool"], Value::Null);
    let error = &document["license_pool_error"];
    assert_eq!(error["kind"], "forbidden");
    assert_eq!(error["status"], 403);
    assert_eq!(error["operation"], "partner/license/getPool");
}

/// A partner whose one client, `ORG`, is answered by `respond` for every
/// call made inside it.
async fn one_client_server(name: &str, inside: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    let listing = serde_json::json!({
        "clients": [{ "clientOrgUuid": ORG, "clientOrgName": name }], "error": false
    });
    Mock::given(path("/api/partner/getClientsV2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(listing))
        .mount(&server)
        .await;
    Mock::given(path("/api/partner/license/getPool"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"products": []})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(inside)
        .mount(&server)
        .await;
    server
}

const ORG: &str = "hOsTiLeClIeNtOrGuUiD0w";

/// An answer that serves every call the audit makes inside a client, each
/// list empty.
fn every_list_empty() -> Value {
    serde_json::json!({ "cameraStates": [], "doorStates": [], "policyAlerts": [],
                        "users": [], "deviceLicenses": [] })
}

/// Answers `endpoint` with `answer` from now on, whatever it answered.
async fn answer_instead(server: &MockServer, endpoint: &str, answer: ResponseTemplate) {
    (Mock::given(path(endpoint))
        .respond_with(answer)
        .with_priority(1))
    .mount(server)
    .await;
}

async fn audit_of(server: &MockServer, args: &[&str]) -> Output {
    let uri = server.uri();
    run_async(
        args,
        &[("RHOMBUS_API_KEY", "k-1"), ("RHOMBUS_BASE_URL", &uri)],
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_rate_limited_past_the_retries_gets_a_row_saying_what_to_do() {
    let limited = ResponseTemplate::new(429).insert_header("retry-after", "0");
    let server = one_client_server("Busy Bee", limited).await;
    let output = audit_of(&server, &[]).await;
    assert_eq!(output.status.code(), Some(1));
    let table = stdout(&output);
    let rows = table_rows(&table);
    assert!(rows[0].cells.iter().all(Option::is_none), "{table}");
    let error = note(&table, rows[0].note.expect("a note")).join("\n");
    assert!(
        error.contains("nothing read: rate_limited (HTTP 429)"),
        "{error}"
    );
    assert!(error.contains("rate limited by Rhombus (429)"), "{error}");
    assert!(error.contains("lower --concurrency"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_that_lift_leave_every_client_audited() {
    let options = FakeOptions {
        rate_limit_every: Some(3),
        ..FakeOptions::default()
    };
    let server = FakeServer::start(FakeFleet::generated(12), options.clone()).await;
    let output = audit_fake(&server, &["--json"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        !stderr(&output).contains("retrying"),
        "retries are logged with -v only"
    );
    assert_eq!(
        server.rate_limited(),
        4 * 5,
        "each call of 4 clients limited once"
    );

    let server = FakeServer::start(FakeFleet::generated(12), options).await;
    let verbose = audit_fake(&server, &["--json", "-v"]).await;
    assert_eq!(verbose.status.code(), Some(0));
    let log = stderr(&verbose);
    assert!(log.contains("retrying") && log.contains("429"), "{log}");
    let debug = audit_fake(&server, &["--json", "-vv"]).await;
    let log = stderr(&debug);
    let attempts = log
        .lines()
        .filter(|l| l.contains("response") && l.contains("attempt=1"))
        .count();
    assert!(
        attempts >= 12 * 5,
        "every attempt at -vv: {attempts} in\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_server_gets_error_rows_not_a_hang_and_its_text_is_escaped() {
    // Full pages of the same alert: the cursor never moves.
    let alert = serde_json::json!({ "uuid": "a1", "timestampMs": 1 });
    let page = serde_json::json!({ "policyAlerts": vec![alert; rhombus_audit::audit::ALERT_PAGE] });
    let server = one_client_server(
        "\u{1b}[2JEvil\u{7}",
        ResponseTemplate::new(200).set_body_json(page),
    )
    .await;
    let output = tokio::time::timeout(Duration::from_secs(60), audit_of(&server, &[]))
        .await
        .expect("the audit ends");
    assert_eq!(output.status.code(), Some(1));
    let table = stdout(&output);
    assert!(
        !table.contains('\u{1b}') && !table.contains('\u{7}'),
        "{table:?}"
    );
    let rows = table_rows(&table);
    assert_eq!(rows[0].name, "\\u{1b}[2JEvil\\u{7}");
    let error = note(&table, rows[0].note.expect("a note")).join("\n");
    assert!(error.contains("alerts 7d: decode: "), "{error}");
    assert!(error.contains("does not move the cursor"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn camera_states_the_api_does_not_list_are_counted_apart() {
    let states: Vec<Value> = ["GREEN", "RED", "PURPLE", "YELLOW"]
        .iter()
        .map(|s| serde_json::json!({ "connectionStatus": s }))
        .chain([serde_json::json!({})])
        .collect();
    let answer = serde_json::json!({ "cameraStates": states });
    let server = one_client_server(
        "Odd Cameras",
        ResponseTemplate::new(200).set_body_json(answer),
    )
    .await;
    let output = audit_of(&server, &["--csv"]).await;
    let text = stdout(&output);
    let record = csv::Reader::from_reader(text.as_bytes())
        .deserialize::<BTreeMap<String, String>>()
        .next()
        .expect("a record")
        .expect("parses");
    // No camera says its firmware: those facts are unknown, not 0.
    assert_eq!(output.status.code(), Some(1), "{record:?}");
    let count = |field: &str| record[field].parse::<u64>().expect(field);
    assert_eq!(
        [
            count("cameras"),
            count("cameras_offline"),
            count("cameras_degraded"),
            count("cameras_unknown_status"),
            count("cameras_health_unknown"),
        ],
        [5, 1, 1, 2, 5]
    );
    assert_eq!(record["cameras_not_on_newest_firmware"], "");
    assert_eq!(record["cameras_updating_firmware"], "");
    assert!(record["errors"].contains("missing"), "{record:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_run_on_a_terminal_shows_a_progress_bar_and_a_pipe_gets_none() {
    let options = FakeOptions {
        latency: Duration::from_millis(40),
        ..FakeOptions::default()
    };
    let server = FakeServer::start(FakeFleet::generated(60), options).await;
    let piped = audit_fake(&server, &["--concurrency", "4"]).await;
    assert_eq!(piped.status.code(), Some(0));
    assert!(stderr(&piped).is_empty(), "{:?}", stderr(&piped));

    // `script` gives the child a terminal; its output is the terminal's.
    let on_terminal = |flags: &str| {
        let command = format!(
            "RHOMBUS_API_KEY={FAKE_API_KEY} RHOMBUS_BASE_URL={} {} --concurrency 4 {flags} >/dev/null",
            server.uri(),
            env!("CARGO_BIN_EXE_rhombus-audit")
        );
        tokio::task::spawn_blocking(move || {
            Command::new("script")
                .args(["-qec", &command, "/dev/null"])
                .output()
        })
    };
    let Ok(shown) = on_terminal("").await.expect("waited for") else {
        eprintln!("skipped the terminal half: `script` (util-linux) is not installed");
        return;
    };
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.contains("clients audited"), "{shown:?}");
    let quiet = on_terminal("--quiet")
        .await
        .expect("waited for")
        .expect("ran before");
    assert!(
        quiet.stdout.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&quiet.stdout)
    );
}

/// The README's fleet audit section lists every fact with its column and
/// operation, and every error kind.
#[test]
fn the_readme_documents_every_fact_and_error_kind() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let readme = std::fs::read_to_string(path).expect("the README");
    let start = readme.find("## The fleet audit").expect("the section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |n| n + 3)];
    for spec in FACTS {
        let header = match spec.default {
            true => format!("**{}**", spec.header),
            false => spec.header.to_owned(),
        };
        let row = format!("| `{}` ({header}) |", spec.field);
        assert!(section.contains(&row), "the README lacks the row {row}");
        assert!(section.contains(spec.source.operation()));
    }
    for kind in ErrorKind::ALL.map(ErrorKind::name) {
        assert!(section.contains(&format!("| `{kind}` |")), "{kind}");
    }
    for option in [
        "--wide",
        "--columns",
        "--problems",
        "schema_version",
        "unknown_clients",
    ] {
        assert!(section.contains(option), "{option}");
    }
}
