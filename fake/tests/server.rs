//! The fake at the wire level: what a client sees, with plain HTTP
//! requests (no rhombus-partner here, on purpose).

use rhombus_fake::{
    DEMO_CLIENT, FAKE_API_KEY, FakeBucket, FakeFleet, FakeOptions, FakeServer, LICENSES_FAIL,
    REFUSING,
};
use serde_json::{Value, json};

/// `POST path` with `body`, the key unless `key` is `None`, and `org` in
/// `x-auth-org`: the status and the JSON answer (`Null` when not JSON).
async fn call(
    server: &FakeServer,
    path: &str,
    key: Option<&str>,
    org: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", server.uri()))
        .header("x-auth-scheme", "partner-api-token")
        .json(&body);
    if let Some(key) = key {
        request = request.header("x-auth-apikey", key);
    }
    if let Some(org) = org {
        request = request.header("x-auth-org", org);
    }
    let response = request.send().await.expect("the fake answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn demo() -> FakeServer {
    FakeServer::start(FakeFleet::demo(), FakeOptions::default()).await
}

#[tokio::test]
async fn without_the_key_every_call_is_401() {
    let server = demo().await;
    for path in [
        "/api/partner/getClientsV2",
        "/api/camera/getMinimalCameraStateList",
    ] {
        let (status, _) = call(&server, path, None, Some(DEMO_CLIENT), json!({})).await;
        assert_eq!(status, 401, "{path}");
        let (status, _) = call(&server, path, Some("wrong"), Some(DEMO_CLIENT), json!({})).await;
        assert_eq!(status, 401, "{path}");
    }
}

#[tokio::test]
async fn a_refusing_client_or_a_stranger_is_403_in_the_header_or_the_body() {
    let server = demo().await;
    let key = Some(FAKE_API_KEY);
    for org in [REFUSING, "nOtOnEoFoUrClIeNtS0000w"] {
        let (status, _) = call(
            &server,
            "/api/camera/getMinimalCameraStateList",
            key,
            Some(org),
            json!({}),
        )
        .await;
        assert_eq!(status, 403, "{org} inside");
        let body = json!({ "clientOrgUuid": org });
        let (status, _) = call(
            &server,
            "/api/partner/getClientSummaryInfo",
            key,
            None,
            body,
        )
        .await;
        assert_eq!(status, 403, "{org} named in the body");
    }
}

/// The summary, the listing and the licenses of every client agree with
/// the devices its state lists give.
#[tokio::test]
async fn the_summary_listing_and_licenses_agree_with_the_devices() {
    let server = demo().await;
    let key = Some(FAKE_API_KEY);
    let (status, listing) = call(&server, "/api/partner/getClients", key, None, json!({})).await;
    assert_eq!(status, 200);
    let clients = listing["clients"].as_array().expect("clients");
    assert_eq!(clients.len(), 12);
    let mut checked = 0;
    for listed in clients.iter().filter(|c| c["clientAccessAllowed"] == true) {
        let uuid = listed["clientOrgUuid"].as_str().expect("uuid");
        let org = Some(uuid);
        let (_, cameras) = call(
            &server,
            "/api/camera/getMinimalCameraStateList",
            key,
            org,
            json!({}),
        )
        .await;
        let cameras = cameras["cameraStates"].as_array().expect("cameraStates");
        let (_, doors) = call(
            &server,
            "/api/door/getMinimalDoorStateList",
            key,
            org,
            json!({}),
        )
        .await;
        let doors = doors["doorStates"].as_array().expect("doorStates");
        let body = json!({ "clientOrgUuid": uuid });
        let (status, summary) = call(
            &server,
            "/api/partner/getClientSummaryInfo",
            key,
            None,
            body,
        )
        .await;
        assert_eq!(status, 200);
        let counts = &summary["clientDeviceStatusMap"];
        assert_eq!(counts["CAMERA"]["totalCount"], cameras.len(), "{uuid}");
        assert_eq!(listed["totalCameras"], cameras.len(), "{uuid}");
        let offline = cameras
            .iter()
            .filter(|c| c["connectionStatus"] == "RED")
            .count();
        assert_eq!(counts["CAMERA"]["connectedCount"], cameras.len() - offline);
        let door_total = counts["DOOR_CONTROLLER"]["totalCount"]
            .as_u64()
            .unwrap_or(0);
        assert_eq!(door_total as usize, doors.len(), "{uuid}");
        assert_eq!(summary["locationCount"], listed["totalLocations"]);

        // Each license on a device names one of the client's devices.
        let body = json!({ "orgUuid": uuid });
        let (_, licenses) = call(
            &server,
            "/api/partner/getDeviceLicensesForOrg",
            key,
            None,
            body,
        )
        .await;
        let devices: Vec<&Value> = cameras.iter().chain(doors).map(|d| &d["uuid"]).collect();
        for license in licenses["deviceLicenses"]
            .as_array()
            .expect("deviceLicenses")
        {
            if let Some(device) = license.get("deviceUuid") {
                assert!(devices.contains(&device), "{license}");
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 11, "every client but the refusing one");
}

/// Health details, firmware, values the API does not list, a failing call
/// and an answer with every field left out are all in the demo.
#[tokio::test]
async fn the_demo_plays_health_unknown_values_and_broken_calls() {
    let server = demo().await;
    let key = Some(FAKE_API_KEY);
    let mut details = Vec::new();
    let mut connections = Vec::new();
    let mut firmware = Vec::new();
    for client in &FakeFleet::demo().clients {
        let org = Some(client.uuid.as_str());
        let (status, cameras) = call(
            &server,
            "/api/camera/getMinimalCameraStateList",
            key,
            org,
            json!({}),
        )
        .await;
        if !client.access_allowed {
            assert_eq!(status, 403);
            continue;
        }
        for camera in cameras["cameraStates"].as_array().expect("cameraStates") {
            details.push(camera["healthStatusDetails"].as_str().unwrap().to_owned());
            connections.push(camera["connectionStatus"].as_str().unwrap().to_owned());
            firmware.push(camera["firmwareVersion"].as_str().unwrap().to_owned());
        }
    }
    for wanted in ["NOT_RECORDING", "FIRMWARE_BEHIND", "OVERHEATING"] {
        assert!(details.iter().any(|d| d == wanted), "{wanted}");
    }
    assert!(
        connections.iter().any(|c| c == "BLUE"),
        "a status the API does not list"
    );
    assert!(firmware.iter().any(|f| f == rhombus_fake::OLD_FIRMWARE));

    let org = Some(LICENSES_FAIL);
    let (status, _) = call(
        &server,
        "/api/license/getDeviceLicenses",
        key,
        org,
        json!({}),
    )
    .await;
    assert_eq!(status, 500);
    let org = Some(rhombus_fake::USERS_EMPTY);
    let (status, users) = call(&server, "/api/user/getUsersInOrg", key, org, json!({})).await;
    assert_eq!((status, users), (200, json!({})));
}

#[tokio::test]
async fn alerts_come_in_pages_and_rate_limits_once_per_call() {
    let options = FakeOptions {
        rate_limit_every: Some(1),
        record_requests: true,
        ..FakeOptions::default()
    };
    let server = FakeServer::start(FakeFleet::demo(), options).await;
    let key = Some(FAKE_API_KEY);
    let org = Some(rhombus_fake::BUSY);
    let path = "/api/event/getPolicyAlertsV2";
    let (status, _) = call(&server, path, key, org, json!({})).await;
    assert_eq!(status, 429);
    let (status, page) = call(&server, path, key, org, json!({})).await;
    assert_eq!(status, 200);
    let alerts = page["policyAlerts"].as_array().expect("policyAlerts");
    assert_eq!(alerts.len(), rhombus_fake::MAX_ALERTS_PER_PAGE);
    let last = alerts.last().expect("an alert");
    let next = json!({ "lastTimestampMs": last["timestampMs"], "lastUuid": last["uuid"] });
    let (_, page) = call(&server, path, key, org, next).await;
    let second = page["policyAlerts"].as_array().expect("policyAlerts");
    assert!(!second.is_empty() && second[0]["uuid"] != last["uuid"]);
    assert_eq!((server.requests(), server.rate_limited()), (3, 1));
    let received = server.received();
    assert_eq!(received.len(), 3);
    assert_eq!(received[0].header("x-auth-org"), org);
    assert_eq!(received[0].path, path);
}

/// The pool counts what the clients hold, trials left out.
#[tokio::test]
async fn the_pool_counts_the_clients_licenses() {
    let server = demo().await;
    let (status, pool) = call(
        &server,
        "/api/partner/license/getPool",
        Some(FAKE_API_KEY),
        None,
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    let fleet = FakeFleet::demo();
    for product in pool["products"].as_array().expect("products") {
        let code = product["productCode"].as_str().expect("productCode");
        let held: u64 = (product["heldByClients"]
            .as_array()
            .expect("heldByClients")
            .iter())
        .map(|h| h["count"].as_u64().expect("count"))
        .sum();
        let expected = (fleet.clients.iter().flat_map(|c| &c.licenses))
            .filter(|l| l.product == code && !l.trial)
            .count();
        assert_eq!(held as usize, expected, "{code}");
        assert_eq!(
            product["owned"],
            product["heldByPool"].as_u64().unwrap() + held
        );
    }
}

/// A change to the running fleet shows in the next answers: the camera
/// list, the door list, the listing, a refusal.
#[tokio::test]
async fn a_change_to_the_running_fleet_shows_in_the_next_answers() {
    let server = demo().await;
    let key = Some(FAKE_API_KEY);
    let cameras = "/api/camera/getMinimalCameraStateList";
    let (_, before) = call(&server, cameras, key, Some(DEMO_CLIENT), json!({})).await;
    assert_eq!(before["cameraStates"][0]["connectionStatus"], "GREEN");
    server.change(|fleet| {
        let acme = fleet.client_mut(DEMO_CLIENT).expect("the demo client");
        acme.cameras[0].connection = "RED".into();
        acme.cameras[0].unnamed = true;
        acme.doors[0] = "RED".into();
        let mut new = acme.clone();
        new.uuid = "nEwClIeNtOrGuUiD00001w".into();
        fleet.clients.retain(|c| c.uuid != LICENSES_FAIL);
        fleet.clients.push(new);
        fleet.client_mut(REFUSING).expect("refusing").access_allowed = true;
    });
    let (_, after) = call(&server, cameras, key, Some(DEMO_CLIENT), json!({})).await;
    let camera = &after["cameraStates"][0];
    assert_eq!(camera["connectionStatus"], "RED");
    assert!(camera.get("name").is_none(), "{camera}");
    let doors = "/api/door/getMinimalDoorStateList";
    let (_, doors) = call(&server, doors, key, Some(DEMO_CLIENT), json!({})).await;
    assert_eq!(doors["doorStates"][0]["health"], "RED");
    assert_eq!(
        doors["doorStates"][0]["sensorUuid"],
        doors["doorStates"][0]["uuid"]
    );
    let (_, listing) = call(&server, "/api/partner/getClientsV2", key, None, json!({})).await;
    let listed: Vec<&str> = (listing["clients"].as_array().expect("clients").iter())
        .filter_map(|c| c["clientOrgUuid"].as_str())
        .collect();
    assert!(listed.contains(&"nEwClIeNtOrGuUiD00001w") && !listed.contains(&LICENSES_FAIL));
    assert_eq!(
        listing["clients"][0]["authorityUuid"],
        rhombus_fake::msp::PARTNER_ORG
    );
    let (status, _) = call(
        &server,
        cameras,
        key,
        Some("nEwClIeNtOrGuUiD00001w"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "a client added is served");
    let (status, _) = call(&server, cameras, key, Some(REFUSING), json!({})).await;
    assert_eq!(
        status, 200,
        "a client letting the partner in again is served"
    );
    let (status, _) = call(&server, cameras, key, Some(LICENSES_FAIL), json!({})).await;
    assert_eq!(status, 403, "a client removed is a stranger");
    assert!(server.fleet().client(LICENSES_FAIL).is_none());
}

/// `POST path` inside `org` (or partner-level): the status and the
/// `Retry-After`, if any.
async fn limited_call(server: &FakeServer, path: &str, org: Option<&str>) -> (u16, Option<String>) {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", server.uri()))
        .header("x-auth-scheme", "partner-api-token")
        .header("x-auth-apikey", FAKE_API_KEY)
        .json(&json!({}));
    if let Some(org) = org {
        request = request.header("x-auth-org", org);
    }
    let response = request.send().await.expect("the fake answers");
    let retry_after =
        (response.headers().get("retry-after")).map(|v| v.to_str().expect("ASCII").to_owned());
    (response.status().as_u16(), retry_after)
}

/// Each organization has its own bucket, the partner's calls theirs: a
/// burst of 2 is admitted, the third call is answered 429 with the whole
/// seconds until a token is back (0.4 s a token rounds up to 1, 0.25
/// tokens a second to 4), and the counts say what was admitted.
#[tokio::test]
async fn a_bucket_per_organization_answers_429_with_whole_seconds() {
    let fast = FakeBucket {
        rate: 2.5,
        burst: 2.0,
    };
    let options = FakeOptions {
        bucket: Some(fast),
        ..FakeOptions::default()
    };
    let server = FakeServer::start(FakeFleet::demo(), options).await;
    let users = "/api/user/getUsersInOrg";
    let org = Some(DEMO_CLIENT);
    for _ in 0..2 {
        assert_eq!(limited_call(&server, users, org).await, (200, None));
    }
    let (status, wait) = limited_call(&server, users, org).await;
    assert_eq!((status, wait.as_deref()), (429, Some("1")));
    // The partner's own bucket is another one, full.
    let listing = "/api/partner/getClientsV2";
    for _ in 0..2 {
        assert_eq!(limited_call(&server, listing, None).await.0, 200);
    }
    assert_eq!(limited_call(&server, listing, None).await.0, 429);
    assert_eq!((server.requests(), server.rate_limited()), (6, 2));
    let admitted = server.admitted_by_bucket();
    assert_eq!(admitted[&Some(DEMO_CLIENT.to_owned())], 2);
    assert_eq!(admitted[&None], 2);
    // A token every 4 s: the wait is rounded up from just under 4 s.
    let slow = FakeOptions {
        bucket: Some(FakeBucket {
            rate: 0.25,
            burst: 1.0,
        }),
        ..FakeOptions::default()
    };
    let server = FakeServer::start(FakeFleet::demo(), slow).await;
    assert_eq!(limited_call(&server, users, org).await.0, 200);
    let (status, wait) = limited_call(&server, users, org).await;
    assert_eq!((status, wait.as_deref()), (429, Some("4")));
}

/// A bucket refills at its rate: after a token's time, one more call.
#[tokio::test]
async fn a_bucket_refills_at_its_rate() {
    let options = FakeOptions {
        bucket: Some(FakeBucket {
            rate: 10.0,
            burst: 1.0,
        }),
        ..FakeOptions::default()
    };
    let server = FakeServer::start(FakeFleet::demo(), options).await;
    let users = "/api/user/getUsersInOrg";
    let org = Some(DEMO_CLIENT);
    assert_eq!(limited_call(&server, users, org).await.0, 200);
    assert_eq!(limited_call(&server, users, org).await.0, 429);
    tokio::time::sleep(std::time::Duration::from_millis(120)).await;
    assert_eq!(limited_call(&server, users, org).await.0, 200);
}
