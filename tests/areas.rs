//! The client-org API's areas: the features, the fragments and the area list
//! agree; every operation of every area is marked read-only or not; and,
//! with the areas' features, calls through `Client::for_org` send
//! `x-auth-org`, retry only what is safe and are refused without an org.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const READ_ONLY: &str = "x-rhombus-read-only";
const FLEET: [&str; 5] = ["camera", "door", "event", "license", "user"];

/// The areas with a fragment in `spec/areas/`.
fn fragments() -> BTreeSet<String> {
    let dir = Path::new(ROOT).join("spec/areas");
    std::fs::read_dir(&dir)
        .expect("spec/areas is there")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".json").map(str::to_owned)
        })
        .collect()
}

/// A feature's list in Cargo.toml (`fleet = ["camera", ...]`), read plainly.
fn feature_list(manifest: &str, feature: &str) -> BTreeSet<String> {
    let line = manifest
        .lines()
        .find(|line| line.starts_with(&format!("{feature} = [")))
        .unwrap_or_else(|| panic!("Cargo.toml has no feature `{feature}`"));
    line.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

#[test]
fn features_fragments_and_the_area_list_agree() {
    let manifest = std::fs::read_to_string(Path::new(ROOT).join("Cargo.toml")).expect("manifest");
    let fragments = fragments();
    assert!(fragments.len() >= 40, "{fragments:?}");
    assert_eq!(feature_list(&manifest, "full"), fragments, "`full`");
    let fleet: BTreeSet<String> = FLEET.iter().map(|a| (*a).to_owned()).collect();
    assert_eq!(feature_list(&manifest, "fleet"), fleet, "`fleet`");
    let list = std::fs::read_to_string(Path::new(ROOT).join("src/areas.rs")).expect("areas.rs");
    for area in &fragments {
        // An area with an upload needs the parts' encoding; no other area
        // pulls it into a build.
        let text = std::fs::read_to_string(Path::new(ROOT).join(format!("spec/areas/{area}.json")))
            .expect("fragment");
        let needs = match text.contains("multipart/form-data") {
            true => "\"multipart\"",
            false => "",
        };
        assert!(
            manifest.contains(&format!("\n{area} = [{needs}]\n")),
            "no feature `{area} = [{needs}]` in Cargo.toml"
        );
        assert!(
            list.contains(&format!("\"{area}\" ")),
            "`{area}` is missing from every_area! in src/areas.rs"
        );
    }
    let listed = list
        .lines()
        .filter(|line| {
            let line = line.trim();
            line.starts_with('"') && line.ends_with(',') && line.split(' ').count() == 3
        })
        .count();
    assert_eq!(
        listed,
        fragments.len(),
        "src/areas.rs lists an area without a fragment"
    );
}

/// Every operation of every area's fragment: (area, operationId, read-only).
fn marks() -> Vec<(String, String, bool)> {
    let mut marks = Vec::new();
    for area in fragments() {
        let file = Path::new(ROOT).join(format!("spec/areas/{area}.json"));
        let doc: Value =
            serde_json::from_str(&std::fs::read_to_string(&file).expect("reads")).expect("JSON");
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for operation in item.as_object().expect("path item").values() {
                let id = operation["operationId"].as_str().expect("an id").to_owned();
                let Some(flag) = operation[READ_ONLY].as_bool() else {
                    panic!("{area}: {path} has no {READ_ONLY} mark");
                };
                marks.push((area.clone(), id, flag));
            }
        }
    }
    marks
}

#[test]
fn every_operation_of_every_area_is_marked() {
    let marks = marks();
    assert!(marks.len() > 700, "{} operations", marks.len());
    let flag = |area: &str, id: &str| {
        marks
            .iter()
            .find(|(a, i, _)| a == area && i == id)
            .map(|(_, _, flag)| *flag)
            .unwrap_or_else(|| panic!("{area}: no operation {id}"))
    };
    assert!(flag("camera", "getMinimalCameraStateList"));
    assert!(flag("user", "getUsersInOrg"));
    assert!(!flag("door", "updateDoorSensorDetails"));
    assert!(!flag("camera", "deleteCamera"));
    // The mark follows the verb: nothing named like a change is read-only.
    for (area, id, read_only) in &marks {
        let changes = ["create", "delete", "update", "remove", "set", "add"]
            .iter()
            .any(|verb| id.starts_with(verb));
        assert!(!(changes && *read_only), "{area}: {id} is marked read-only");
    }
}

/// With an area's feature, its generated table says what its fragment says
/// (the `fleet` areas, which CI tests).
#[cfg(feature = "fleet")]
#[test]
fn the_generated_tables_follow_the_fragments() {
    use rhombus_partner::areas;
    let tables: &[(&str, &[rhombus_partner::Operation])] = &[
        ("camera", areas::camera::operations::ALL),
        ("door", areas::door::operations::ALL),
        ("event", areas::event::operations::ALL),
        ("license", areas::license::operations::ALL),
        ("user", areas::user::operations::ALL),
    ];
    let marks = marks();
    for (area, table) in tables {
        let expected: Vec<_> = marks.iter().filter(|(a, _, _)| a == area).collect();
        assert_eq!(table.len(), expected.len(), "{area}");
        for (_, id, flag) in expected {
            let row = table.iter().find(|op| op.id == id).expect("in the table");
            assert_eq!(row.read_only, *flag, "{area}: {id}");
        }
    }
}

#[cfg(all(feature = "camera", feature = "door"))]
mod calls {
    use rhombus_partner::areas::{camera, door};
    use rhombus_partner::{Client, Error, RetryPolicy};
    use serde_json::json;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const KEY: &str = "area-test-key-0123456789";
    const ORG: &str = "cLiEnToRg0000000000001";
    const CAMERAS: &str = "/api/camera/getMinimalCameraStateList";
    const DOOR_UPDATE: &str = "/api/door/updateDetails";

    fn client(server: &MockServer, policy: RetryPolicy) -> Client {
        Client::builder()
            .api_key(KEY)
            .base_url(server.uri())
            .retry_policy(policy)
            .build()
            .expect("valid configuration")
    }

    fn quick_retries() -> RetryPolicy {
        let wait = std::time::Duration::from_millis(1);
        RetryPolicy::default().max_attempts(3).backoff(wait, wait)
    }

    #[tokio::test]
    async fn an_org_level_call_through_for_org_sends_the_org() {
        let server = MockServer::start().await;
        let answer = json!({
            "cameraStates": [{"uuid": "cam-1", "connectionStatus": "RED"},
                             {"uuid": "cam-2", "connectionStatus": "GREEN"}],
            "echo": KEY,
        });
        Mock::given(method("POST"))
            .and(path(CAMERAS))
            .respond_with(ResponseTemplate::new(200).set_body_json(answer))
            .mount(&server)
            .await;
        let partner = client(&server, RetryPolicy::none());
        let acting = partner.for_org(ORG).expect("valid org");
        let states = acting
            .camera()
            .get_minimal_camera_state_list(
                &camera::types::CameraGetMinimalCameraStateListWsRequest::default(),
            )
            .await
            .expect("call succeeds");

        let requests = server.received_requests().await.expect("recording is on");
        assert_eq!(requests.len(), 1);
        let org = requests[0]
            .headers
            .get("x-auth-org")
            .map(|v| v.to_str().expect("ASCII"));
        assert_eq!(org, Some(ORG));
        assert_eq!(
            requests[0]
                .headers
                .get("x-auth-apikey")
                .map(|v| v.to_str().expect("ASCII")),
            Some(KEY)
        );
        let offline: Vec<_> = states
            .camera_states
            .unwrap_or_default()
            .into_iter()
            .filter(|s| s.connection_status == Some(camera::types::DeviceStatusEnum::Red))
            .filter_map(|s| s.uuid)
            .collect();
        assert_eq!(offline, ["cam-1"]);
    }

    #[tokio::test]
    async fn a_read_only_area_call_is_retried_a_state_changing_one_is_not() {
        let server = MockServer::start().await;
        for endpoint in [CAMERAS, DOOR_UPDATE] {
            Mock::given(method("POST"))
                .and(path(endpoint))
                .respond_with(ResponseTemplate::new(503))
                .mount(&server)
                .await;
        }
        let acting = client(&server, quick_retries())
            .for_org(ORG)
            .expect("valid org");
        let read = acting
            .camera()
            .get_minimal_camera_state_list(
                &camera::types::CameraGetMinimalCameraStateListWsRequest::default(),
            )
            .await
            .expect_err("503 every time");
        let write = acting
            .door()
            .update_door_sensor_details(
                &door::types::DoorUpdateDoorSensorDetailsWsRequest::default(),
            )
            .await
            .expect_err("503");
        assert!(matches!(read, Error::Http { attempts: 3, .. }), "{read:?}");
        assert!(
            matches!(write, Error::Http { attempts: 1, .. }),
            "{write:?}"
        );
    }
}
