//! The demo partner as a managed service provider (MSP): its license pool,
//! the hardware it controls in its clients' organizations, its unclaimed
//! claim keys and its profile. Each answer is worked out from the request
//! and the data here, so a claim, an assignment or a move is answered as
//! the real API would answer it, but nothing is remembered for the next
//! call.
//!
//! The pool's licenses held by clients are the clients' non-trial licenses
//! in `demo` (trials are Rhombus', not the partner's), each on the device
//! `demo::device_licenses` names.

use serde_json::{Value, json};

use super::demo::{self, CLIENTS, DemoClient};

/// The partner's own organization.
pub const PARTNER_ORG: &str = "dEmOpArTnErOrGuUiD0001w";

/// Unassigned licenses in the pool: `(product code, display name, count)`.
pub const POOL: &[(&str, &str, i32)] = &[
    ("LIC-CAM-3Y", "Camera license, 3 years", 14),
    ("LIC-CAM-1Y", "Camera license, 1 year", 6),
    ("LIC-SENSOR-1Y", "Sensor license, 1 year", 0),
    ("LIC-DC-1Y", "Door controller license, 1 year", 2),
    ("LIC-BR-1Y", "Badge reader license, 1 year", 3),
];

/// Claim keys the partner has not redeemed yet: `(code, key UUID, PO number)`.
pub const UNCLAIMED_KEYS: &[(&str, &str, &str)] = &[
    ("DEMO-POOL-0001", "dEmOcLaImKeYpOoL00001w", "PO-2026-0412"),
    ("DEMO-POOL-0002", "dEmOcLaImKeYpOoL00002w", "PO-2026-0519"),
];

/// A code another organization has redeemed: looking it up is refused.
pub const CLAIMED_ELSEWHERE: &str = "DEMO-TAKEN-0001";

/// One hardware unit under the partner's control.
pub struct Unit {
    pub serial: &'static str,
    pub hw_uuid: &'static str,
    pub model: &'static str,
    pub kind: &'static str,
    /// The client organization it is registered in; `None`: not registered.
    pub org: Option<&'static str>,
    /// The door it is bound to, for door controllers and readers.
    pub door: Option<&'static str>,
}

pub const HARDWARE: &[Unit] = &[
    Unit {
        serial: "RCAM-R230-0001",
        hw_uuid: "dEmOhArDwArEuUiD00001w",
        model: "CAMERA_R230",
        kind: "CAMERA",
        org: Some(demo::FIRST),
        door: None,
    },
    Unit {
        serial: "RCAM-R230-0002",
        hw_uuid: "dEmOhArDwArEuUiD00002w",
        model: "CAMERA_R230",
        kind: "CAMERA",
        org: Some(demo::FIRST),
        door: None,
    },
    Unit {
        serial: "RDC-DC20-0001",
        hw_uuid: "dEmOhArDwArEuUiD00003w",
        model: "DOOR_CONTROLLER_DC20",
        kind: "DOOR_CONTROLLER",
        org: Some(demo::FIRST),
        door: Some("Loading dock"),
    },
    Unit {
        serial: "RCAM-R120-0001",
        hw_uuid: "dEmOhArDwArEuUiD00004w",
        model: "CAMERA_R120",
        kind: "CAMERA",
        org: Some("dEmOcLiEnToRgUuId00002w"),
        door: None,
    },
    Unit {
        serial: "RBR-DR40-0001",
        hw_uuid: "dEmOhArDwArEuUiD00005w",
        model: "BADGE_READER_DR40",
        kind: "BADGE_READER",
        org: Some("dEmOcLiEnToRgUuId00009w"),
        door: Some("Lobby"),
    },
    Unit {
        serial: "RCAM-R200-0001",
        hw_uuid: "dEmOhArDwArEuUiD00006w",
        model: "CAMERA_R200",
        kind: "CAMERA",
        org: None,
        door: None,
    },
];

/// An answer with `"error": true`, as the API refuses a request.
fn refused(message: impl Into<String>) -> Value {
    json!({ "error": true, "errorMsg": message.into() })
}

fn text<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

/// The client a request names in `clientOrgUuid` (the server refuses
/// unknown ones before this is asked).
fn named_client(body: &Value) -> Result<&'static DemoClient, Value> {
    text(body, "clientOrgUuid")
        .and_then(demo::client)
        .ok_or_else(|| refused("clientOrgUuid names no client of the partner"))
}

/// The pool's licenses a client holds: `(license UUID, product, device
/// UUID, days left)`, named as `demo::device_licenses` names them.
pub fn held_licenses(client: &DemoClient) -> Vec<(String, &'static str, String, i64)> {
    let short = &client.uuid[17..22];
    client
        .licenses
        .iter()
        .enumerate()
        .filter(|(_, (_, trial, _))| !trial)
        .map(|(n, (product, _, days_left))| {
            (
                format!("dEmOlIcEnSe{short}{n:03}w"),
                *product,
                format!("dEmOdEvIcE{short}{n:03}w"),
                *days_left,
            )
        })
        .collect()
}

fn partner_claim_key(code: &str, uuid: &str, po: &str) -> Value {
    json!({
        "accountAdminId": "demo-admin-17",
        "accountName": "Demo Partner Inc.",
        "claimKeyUuid": uuid,
        "contractEndDate": "2029-04-30",
        "contractStartDate": "2026-05-01",
        "createdDate": "2026-04-12",
        "externalUuid": format!("order-{code}"),
        "poNumber": po
    })
}

/// `getClaimKeysForPartnerOrg`: the unclaimed keys.
pub fn claim_keys(_body: &Value) -> Value {
    let keys: Vec<Value> = UNCLAIMED_KEYS
        .iter()
        .map(|(code, uuid, po)| partner_claim_key(code, uuid, po))
        .collect();
    json!({ "claimKeys": keys, "error": false })
}

/// `license/getPool`: per product, what is owned, unassigned and held by
/// each client, and the unclaimed keys.
pub fn license_pool(_body: &Value) -> Value {
    let products: Vec<Value> = POOL
        .iter()
        .map(|(product, display, in_pool)| {
            let mut held = Vec::new();
            let mut expiring = 0;
            for client in CLIENTS {
                let licenses: Vec<_> = held_licenses(client)
                    .into_iter()
                    .filter(|l| l.1 == *product)
                    .collect();
                if licenses.is_empty() {
                    continue;
                }
                expiring += licenses.iter().filter(|l| l.3 <= 90).count();
                held.push(json!({
                    "assignedToDevices": licenses.len(),
                    "clientOrgName": client.name,
                    "clientOrgUuid": client.uuid,
                    "count": licenses.len()
                }));
            }
            let with_clients: i64 = held.iter().map(|h| h["count"].as_i64().unwrap_or(0)).sum();
            json!({
                "displayName": display,
                "expiringWithin90d": expiring,
                "heldByClients": held,
                "heldByPool": in_pool,
                "owned": i64::from(*in_pool) + with_clients,
                "productCode": product
            })
        })
        .collect();
    let keys = claim_keys(&Value::Null)["claimKeys"].clone();
    json!({ "error": false, "products": products, "unclaimedKeys": keys })
}

/// `license/getClaimKeyByCode`: an unclaimed key of the partner. Its
/// answer has no `error` field, so a key redeemed by another organization
/// is refused with a `403` (`Err`), and an unknown code finds no key.
pub fn claim_key_by_code(body: &Value) -> Result<Value, u16> {
    let code = text(body, "claimCode").unwrap_or_default();
    if code == CLAIMED_ELSEWHERE {
        return Err(403);
    }
    let Some((_, uuid, _)) = UNCLAIMED_KEYS.iter().find(|k| k.0 == code) else {
        return Ok(json!({}));
    };
    Ok(json!({
        "claimKey": {
            "createdOn": "2026-04-12T10:00:00Z",
            "endDate": "2029-04-30T23:59:59Z",
            "expirationEmailState": "UNKNOWN",
            "requestId": format!("order-{code}"),
            "returnHistory": [],
            "state": "CREATED",
            "trial": false,
            "type": "NEW",
            "updatedOn": "2026-04-12T10:00:00Z",
            "uuid": uuid
        }
    }))
}

/// `license/claimToPool`: redeems an unclaimed key.
pub fn claim_to_pool(body: &Value) -> Value {
    let code = text(body, "claimCode").unwrap_or_default();
    match UNCLAIMED_KEYS.iter().find(|k| k.0 == code) {
        Some((_, uuid, _)) => json!({ "claimKeyUuid": uuid, "error": false }),
        None => refused(format!("no unclaimed key has the code {code:?}")),
    }
}

/// `license/assignToClient`: moves `quantity` unassigned licenses of a
/// product to a client, if the pool has that many.
pub fn assign_to_client(body: &Value) -> Value {
    let client = match named_client(body) {
        Ok(client) => client,
        Err(refusal) => return refusal,
    };
    let product = text(body, "productCode").unwrap_or_default();
    let Some(p) = POOL.iter().position(|(code, _, _)| *code == product) else {
        return refused(format!("the pool has no product {product:?}"));
    };
    let available = POOL[p].2;
    let quantity = body.get("quantity").and_then(Value::as_i64).unwrap_or(0);
    if quantity < 1 {
        return refused("quantity must be at least 1");
    }
    if quantity > i64::from(available) {
        return refused(format!(
            "the pool holds {available} unassigned {product} licenses, not {quantity}"
        ));
    }
    let short = &client.uuid[17..22];
    let moved: Vec<String> = (0..quantity)
        .map(|n| format!("dEmOpOoL{p:02}{short}{n:04}w"))
        .collect();
    json!({ "error": false, "failed": [], "moved": moved })
}

/// `license/reclaimFromClient`: takes a client's pool licenses back, by
/// UUID or by product and count; a license on a device is taken off it only
/// with `forceUnassign`, and skipped otherwise.
pub fn reclaim_from_client(body: &Value) -> Value {
    let client = match named_client(body) {
        Ok(client) => client,
        Err(refusal) => return refusal,
    };
    let held = held_licenses(client);
    let force = body
        .get("forceUnassign")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut skipped = Vec::new();
    let chosen: Vec<_> = if let Some(uuids) = body.get("licenseUuids").and_then(Value::as_array) {
        uuids
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|uuid| {
                let found = held.iter().find(|l| l.0 == uuid);
                if found.is_none() {
                    skipped.push(json!({
                        "licenseUuid": uuid,
                        "reason": "not a pool license held by this client"
                    }));
                }
                found
            })
            .collect()
    } else if let Some(product) = text(body, "productCode") {
        let quantity = body.get("quantity").and_then(Value::as_u64).unwrap_or(0);
        held.iter()
            .filter(|l| l.1 == product)
            .take(usize::try_from(quantity).unwrap_or(usize::MAX))
            .collect()
    } else {
        return refused("name the licenses, or a productCode and a quantity");
    };
    let mut reclaimed = Vec::new();
    let mut unassigned = Vec::new();
    for (uuid, _, device, _) in chosen {
        if force {
            reclaimed.push(uuid.clone());
            unassigned.push(device.clone());
        } else {
            skipped.push(json!({
                "licenseUuid": uuid,
                "reason": "assigned to a device; set forceUnassign to take it off"
            }));
        }
    }
    json!({
        "error": false,
        "reclaimed": reclaimed,
        "skipped": skipped,
        "unassignedDevices": unassigned
    })
}

/// `hardware/getInventory`: every unit, with the client it is in.
pub fn hardware_inventory(_body: &Value) -> Value {
    let units: Vec<Value> = HARDWARE
        .iter()
        .map(|unit| {
            let client = unit.org.and_then(demo::client);
            json!({
                "currentOrgName": client.map(|c| c.name),
                "currentOrgUuid": unit.org,
                "deviceUuid": unit.org.map(|_| format!("dEmOdEvIcE{}", &unit.hw_uuid[16..])),
                "doorBound": unit.door.is_some(),
                "hardwareType": unit.kind,
                "hwUuid": unit.hw_uuid,
                "licenseState": unit.org.map(|_| "CLAIMED"),
                "model": unit.model,
                "registered": unit.org.is_some(),
                "serial": unit.serial
            })
        })
        .collect();
    json!({ "error": false, "units": units })
}

/// `hardware/moveToClient`: serial by serial, a unit in the source client
/// moves unless a door is bound to it.
pub fn move_to_client(body: &Value) -> Value {
    let (Some(from), Some(to)) = (
        text(body, "fromClientOrgUuid"),
        text(body, "toClientOrgUuid"),
    ) else {
        return refused("fromClientOrgUuid and toClientOrgUuid are both needed");
    };
    if from == to {
        return refused("the units are already in that client");
    }
    let (mut moved, mut blocked, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    let serials = body.get("serials").and_then(Value::as_array);
    for serial in serials.into_iter().flatten().filter_map(Value::as_str) {
        match HARDWARE.iter().find(|u| u.serial == serial) {
            Some(unit) if unit.org == Some(from) => match unit.door {
                Some(door) => blocked.push(json!({
                    "bindings": [{ "name": door, "type": "DOOR" }],
                    "reason": "bound to a door; unbind it first",
                    "serial": serial
                })),
                None => moved.push(serial),
            },
            Some(_) => {
                failed.push(json!({ "reason": "not in the source client", "serial": serial }))
            }
            None => failed
                .push(json!({ "reason": "not hardware the partner controls", "serial": serial })),
        }
    }
    json!({ "blocked": blocked, "error": false, "failed": failed, "moved": moved })
}

/// `deactivateClient`: refused unless the typed name matches; every demo
/// client still has devices registered, so the answer names them and the
/// pool licenses on them.
pub fn deactivate_client(body: &Value) -> Value {
    let client = match named_client(body) {
        Ok(client) => client,
        Err(refusal) => return refusal,
    };
    if text(body, "confirmName") != Some(client.name) {
        return refused("confirmName does not match the client's name");
    }
    let short = &client.uuid[17..22];
    let mut devices = Vec::new();
    for (kind, _, _, total) in client.devices {
        for n in 0..*total {
            devices.push(json!({
                "deviceUuid": format!("dEmOdEvIcE{short}{:03}w", devices.len()),
                "name": format!("{} {}", kind.to_lowercase().replace('_', " "), n + 1),
                "serial": format!("DEMO-{short}-{:04}", devices.len())
            }));
        }
    }
    let licenses: Vec<Value> = held_licenses(client)
        .into_iter()
        .map(|(uuid, product, _, _)| json!({ "licenseUuid": uuid, "productCode": product }))
        .collect();
    json!({
        "blockedByDevices": devices,
        "blockedByLicenses": licenses,
        "deactivated": false,
        "error": false,
        "errorCode": "DEVICES_STILL_REGISTERED",
        "reclaimedLicenses": 0
    })
}

/// `updateManagedClientPolicy`: the policy as asked, as stored.
pub fn update_policy(body: &Value) -> Value {
    if let Err(refusal) = named_client(body) {
        return refusal;
    }
    match body
        .get("clientSuperAdminAssignable")
        .and_then(Value::as_bool)
    {
        Some(assignable) => json!({
            "error": false,
            "policy": { "clientSuperAdminAssignable": assignable }
        }),
        None => refused("clientSuperAdminAssignable is the policy to set"),
    }
}

/// `getPartnerOrgProfile`: a verified MSP since 2025.
pub fn profile(_body: &Value) -> Value {
    json!({
        "error": false,
        "functionalityList": [
            "CREATE_CLIENT",
            "DELETE_CLIENT",
            "LICENSE_ADMINISTRATION",
            "MSP_ADMINISTRATION",
            "REMOTE_REGISTER_DEVICE"
        ],
        "msp": true,
        "mspSince": 1_735_689_600_000_i64,
        "mspStatus": "ACTIVE"
    })
}
