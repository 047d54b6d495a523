//! The JSON answers, each worked out from the fleet's model, so that what
//! one endpoint says about a client agrees with what another says.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

use crate::fleet::{FakeClient, FakeFleet, FakeLicense, NEW_FIRMWARE, OLD_FIRMWARE};
use crate::{MAX_ALERTS_PER_PAGE, msp};

/// A device's UUID: the client's UUID's end (unique in the demo and in
/// generated fleets), the kind, its number.
pub(crate) fn device_id(client: &FakeClient, kind: &str, n: usize) -> String {
    format!("{}{kind}{n:04}", tail(client))
}

/// The end of the client's UUID, which tells it apart.
pub(crate) fn tail(client: &FakeClient) -> &str {
    let uuid = &client.uuid;
    uuid.get(uuid.len().saturating_sub(8)..).unwrap_or(uuid)
}

/// The device a camera license sits on: the n-th camera.
pub(crate) fn camera_id(client: &FakeClient, n: usize) -> String {
    device_id(client, "CaM", n)
}

/// The device a door license sits on: the n-th door's controller (one per
/// door).
pub(crate) fn door_id(client: &FakeClient, n: usize) -> String {
    device_id(client, "DoR", n)
}

/// A license of a client, with where it sits.
pub(crate) struct Placed<'a> {
    pub uuid: String,
    pub license: &'a FakeLicense,
    /// `(device type, device UUID)`; `None` when the client has no device
    /// of the license's kind left for it.
    pub device: Option<(&'static str, String)>,
}

/// The client's licenses in order: camera licenses on its cameras, door
/// licenses on its doors' controllers, one each, while there are devices.
pub(crate) fn placed(client: &FakeClient) -> Vec<Placed<'_>> {
    let (mut cameras, mut doors) = (0, 0);
    (client.licenses.iter().enumerate())
        .map(|(n, license)| {
            let device = if license.product.starts_with("LIC-CAM") {
                cameras += 1;
                (cameras <= client.cameras.len())
                    .then(|| ("CAMERA", camera_id(client, cameras - 1)))
            } else if license.product.starts_with("LIC-DOOR") {
                doors += 1;
                (doors <= client.doors.len())
                    .then(|| ("DOOR_CONTROLLER", door_id(client, doors - 1)))
            } else {
                None
            };
            Placed {
                uuid: device_id(client, "LiC", n),
                license,
                device,
            }
        })
        .collect()
}

/// `getClients`, `getClientsV2`: every client, with the counts the listing
/// carries.
pub(crate) fn clients_listing(fleet: &FakeFleet) -> Value {
    let clients: Vec<Value> = (fleet.clients.iter())
        .map(|c| {
            json!({
                "clientOrgUuid": c.uuid,
                "clientOrgName": c.name,
                "clientAccessAllowed": c.access_allowed,
                // The partner itself has authority over each of its clients.
                "authorityUuid": msp::PARTNER_ORG,
                "totalLocations": c.locations,
                "totalCameras": c.cameras.len(),
                "createdAtMillis": 1_699_334_716_000_i64,
                // The partner manages every client as a managed service
                // provider (see `msp`); none is deactivated.
                "managedByMsp": true,
                "deactivated": false,
                "clientSuperAdminAssignable": true
            })
        })
        .collect();
    json!({ "clients": clients, "error": false })
}

/// `(connected, operational, total)` per device type: a camera or door
/// that is not `RED` is connected, and operational when nothing is wrong
/// with it either.
fn device_counts(client: &FakeClient) -> Vec<(&'static str, usize, usize, usize)> {
    let cameras = &client.cameras;
    let connected = cameras.iter().filter(|c| c.connection != "RED").count();
    let operational = (cameras.iter())
        .filter(|c| c.connection == "GREEN" && c.health == "NONE")
        .count();
    let mut counts = vec![("CAMERA", connected, operational, cameras.len())];
    if !client.doors.is_empty() {
        let doors = &client.doors;
        counts.push((
            "DOOR_CONTROLLER",
            doors.iter().filter(|d| *d != "RED").count(),
            doors.iter().filter(|d| *d == "GREEN").count(),
            doors.len(),
        ));
    }
    counts
}

/// All the devices of a client: `(device UUID, name)`, cameras then door
/// controllers.
pub(crate) fn devices(client: &FakeClient) -> Vec<(String, String)> {
    let cameras =
        (0..client.cameras.len()).map(|n| (camera_id(client, n), format!("Camera {}", n + 1)));
    let doors =
        (0..client.doors.len()).map(|n| (door_id(client, n), format!("Door {} controller", n + 1)));
    cameras.chain(doors).collect()
}

/// `getClientSummaryInfo` for `client`.
pub(crate) fn summary(client: &FakeClient, _now: DateTime<Utc>) -> Value {
    let status: Map<String, Value> = (device_counts(client).into_iter())
        .map(|(kind, connected, operational, total)| {
            let counts = json!({ "connectedCount": connected, "operationalCount": operational,
                                 "totalCount": total });
            (kind.to_owned(), counts)
        })
        .collect();
    json!({
        "accountOwner": {
            "accessibleRhombusApps": ["CONSOLE"],
            "accountOwner": true,
            "createdAtMillis": 1_699_334_716_000_i64,
            "email": "owner@client.example",
            "emailVerified": true,
            "firstName": "Ada",
            "lastName": "Owner",
            "mfaEnabled": true,
            "name": "Ada Owner",
            "orgUuid": client.uuid,
            "uuid": device_id(client, "OwNeR", 0)
        },
        "clientDeviceStatusMap": status,
        "error": false,
        "licenseV2Enabled": true,
        "locationCount": client.locations,
        "manuallySendLicenseExpirationEmailEnabled": false,
        "recentPolicyAlertCount": client.alerts_last_week
    })
}

/// `getDeviceLicensesForOrg` (partner level) and `license/getDeviceLicenses`
/// (inside the client): the same licenses, ends counted from `now`.
pub(crate) fn device_licenses(client: &FakeClient, now: DateTime<Utc>) -> Value {
    let licenses: Vec<Value> = (placed(client).into_iter().enumerate())
        .map(|(n, placed)| {
            let l = placed.license;
            let mut license = json!({
                "uuid": placed.uuid,
                "claimKeyUuid": device_id(client, "KeY", n),
                "createdOn": "2025-01-07T05:31:56Z",
                "features": [
                    {"enabled": true, "name": "VIDEO_RETENTION_30_DAYS"},
                    {"enabled": !l.trial, "name": "PEOPLE_SEARCH"}
                ],
                "maxDeleteDate": (now + Duration::days(l.days_left)).to_rfc3339(),
                "orgUuid": client.uuid,
                "productCode": l.product,
                "state": "CLAIMED",
                "trial": l.trial,
                "updatedOn": "2026-03-01T12:00:00Z"
            });
            if let Some((kind, device)) = placed.device {
                license["deviceType"] = kind.into();
                license["deviceUuid"] = device.into();
                license["firstAssignedDate"] = "2025-01-08T09:00:00Z".into();
            }
            license
        })
        .collect();
    json!({ "deviceLicenses": licenses, "error": false })
}

/// `camera/getMinimalCameraStateList`.
pub(crate) fn cameras(client: &FakeClient) -> Value {
    let states: Vec<Value> = (client.cameras.iter().enumerate())
        .map(|(n, camera)| {
            let firmware = match camera.firmware_behind {
                true => OLD_FIRMWARE,
                false => NEW_FIRMWARE,
            };
            let health = match camera.connection.as_str() {
                "GREEN" if camera.health == "NONE" => "GREEN",
                "GREEN" => "YELLOW",
                other => other,
            };
            let mut state = json!({ "uuid": camera_id(client, n),
                    "name": format!("Camera {}", n + 1), "connectionStatus": camera.connection,
                    "healthStatus": health, "healthStatusDetails": camera.health,
                    "firmwareVersion": firmware,
                    "firmwareUpdateInProgress": camera.updating });
            if camera.unnamed {
                state.as_object_mut().map(|fields| fields.remove("name"));
            }
            state
        })
        .collect();
    json!({ "cameraStates": states, "error": false })
}

/// `door/getMinimalDoorStateList`.
pub(crate) fn doors(client: &FakeClient) -> Value {
    let states: Vec<Value> = (client.doors.iter().enumerate())
        .map(|(n, health)| {
            let details = if health == "RED" {
                "NO_HEARTBEAT"
            } else {
                "NONE"
            };
            // The door's sensor, which the API names the door by.
            json!({ "uuid": door_id(client, n), "sensorUuid": door_id(client, n),
                    "name": format!("Door {}", n + 1), "health": health,
                    "healthDetails": details })
        })
        .collect();
    json!({ "doorStates": states, "error": false })
}

/// `user/getUsersInOrg`.
pub(crate) fn users(client: &FakeClient) -> Value {
    let users: Vec<Value> = (0..client.users)
        .map(|n| {
            json!({ "uuid": device_id(client, "UsR", n),
                    "orgUuid": client.uuid, "email": format!("user{n}@client.example") })
        })
        .collect();
    json!({ "users": users, "error": false })
}

/// `event/getPolicyAlertsV2`: the client's alerts newest first, within
/// `afterTimestampMs`..`beforeTimestampMs`, after the cursor
/// (`lastTimestampMs`, `lastUuid`), at most a page.
pub(crate) fn alerts_page(client: &FakeClient, started: DateTime<Utc>, body: &Value) -> Value {
    let field = |name: &str| body.get(name).and_then(Value::as_i64);
    let after = field("afterTimestampMs").unwrap_or(i64::MIN);
    let before = field("beforeTimestampMs").unwrap_or(i64::MAX);
    let cursor = field("lastTimestampMs").map(|ms| {
        let uuid = body.get("lastUuid").and_then(Value::as_str).unwrap_or("");
        (ms, uuid.to_owned())
    });
    let page = (field("maxResults")
        .unwrap_or(MAX_ALERTS_PER_PAGE as i64)
        .max(1) as usize)
        .min(MAX_ALERTS_PER_PAGE);
    let alerts: Vec<Value> = alerts(client, started)
        .filter(|(ms, _)| *ms >= after && *ms <= before)
        .filter(|(ms, uuid)| cursor.as_ref().is_none_or(|c| (*ms, uuid) < (c.0, &c.1)))
        .take(page)
        .map(|(ms, uuid)| json!({ "uuid": uuid, "timestampMs": ms, "orgUuid": client.uuid }))
        .collect();
    json!({ "policyAlerts": alerts, "error": false })
}

/// The client's alerts, newest first: a week's spread over the last seven
/// days, the older ones an hour apart from eight days back.
fn alerts(client: &FakeClient, started: DateTime<Utc>) -> impl Iterator<Item = (i64, String)> {
    const HOUR_MS: i64 = 3_600_000;
    let now = started.timestamp_millis();
    let week = client.alerts_last_week as i64;
    let recent = (0..week).map(move |k| now - HOUR_MS - k * (6 * 24 * HOUR_MS) / week.max(1));
    let older = (0..client.alerts_older as i64).map(move |k| now - 8 * 24 * HOUR_MS - k * HOUR_MS);
    let org = tail(client).to_owned();
    recent
        .chain(older)
        .enumerate()
        .map(move |(k, ms)| (ms, format!("{org}AlErT{k:09}w")))
}

/// `license/getPool`: per product, what is owned, unassigned and held by
/// each client, and the unclaimed keys. A client's trials are Rhombus',
/// not the partner's: they are not counted.
pub(crate) fn license_pool(fleet: &FakeFleet, _now: DateTime<Utc>) -> Value {
    let products: Vec<Value> = (fleet.pool.iter())
        .map(|p| {
            let mut held = Vec::new();
            let mut expiring = 0;
            for client in &fleet.clients {
                let licenses: Vec<_> = (client.licenses.iter())
                    .filter(|l| !l.trial && l.product == p.product)
                    .collect();
                if licenses.is_empty() {
                    continue;
                }
                expiring += licenses.iter().filter(|l| l.days_left <= 90).count();
                let on_devices = (placed(client).iter())
                    .filter(|l| !l.license.trial && l.license.product == p.product)
                    .filter(|l| l.device.is_some())
                    .count();
                held.push(json!({
                    "assignedToDevices": on_devices,
                    "clientOrgName": client.name,
                    "clientOrgUuid": client.uuid,
                    "count": licenses.len()
                }));
            }
            let with_clients: i64 = held.iter().map(|h| h["count"].as_i64().unwrap_or(0)).sum();
            json!({
                "displayName": p.display_name,
                "expiringWithin90d": expiring,
                "heldByClients": held,
                "heldByPool": p.unassigned,
                "owned": i64::from(p.unassigned) + with_clients,
                "productCode": p.product
            })
        })
        .collect();
    json!({ "error": false, "products": products, "unclaimedKeys": msp::unclaimed_keys() })
}
