//! The partner as a managed service provider (MSP): its license pool, the
//! hardware it controls in its clients' organizations, its unclaimed claim
//! keys and its profile. Each answer is worked out from the request, the
//! fleet and the data here, so a claim, an assignment or a move is answered
//! as the real API would answer it, but nothing is remembered for the next
//! call.
//!
//! The pool's licenses held by clients are the clients' non-trial licenses
//! in the fleet (trials are Rhombus', not the partner's), each on the device
//! the client's license listing names.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::answers::{self, Placed};
use crate::fleet::{DEMO_CLIENT, FakeClient, FakeFleet};

/// The partner's own organization.
pub const PARTNER_ORG: &str = "dEmOpArTnErOrGuUiD0001w";

/// Claim keys the partner has not redeemed yet: `(code, key UUID, PO number)`.
pub const UNCLAIMED_KEYS: &[(&str, &str, &str)] = &[
    ("DEMO-POOL-0001", "dEmOcLaImKeYpOoL00001w", "PO-2026-0412"),
    ("DEMO-POOL-0002", "dEmOcLaImKeYpOoL00002w", "PO-2026-0519"),
];

/// A code another organization has redeemed: looking it up is refused.
pub const CLAIMED_ELSEWHERE: &str = "DEMO-TAKEN-0001";

/// One hardware unit under the partner's control.
pub struct Unit {
    /// `serial`.
    pub serial: &'static str,
    /// `hwUuid`.
    pub hw_uuid: &'static str,
    /// `model`, a `HardwareVariationEnum` value.
    pub model: &'static str,
    /// `hardwareType`, a `DeviceTypeEnum` value.
    pub kind: &'static str,
    /// The client organization it is registered in; `None`: not registered.
    pub org: Option<&'static str>,
    /// The door it is bound to, for door controllers and readers.
    pub door: Option<&'static str>,
}

/// The hardware the partner controls, in the demo's clients (a generated
/// fleet has none of them: the units there are in no client).
pub const HARDWARE: &[Unit] = &[
    Unit {
        serial: "RCAM-R230-0001",
        hw_uuid: "dEmOhArDwArEuUiD00001w",
        model: "CAMERA_R230",
        kind: "CAMERA",
        org: Some(DEMO_CLIENT),
        door: None,
    },
    Unit {
        serial: "RCAM-R230-0002",
        hw_uuid: "dEmOhArDwArEuUiD00002w",
        model: "CAMERA_R230",
        kind: "CAMERA",
        org: Some(DEMO_CLIENT),
        door: None,
    },
    Unit {
        serial: "RDC-DC20-0001",
        hw_uuid: "dEmOhArDwArEuUiD00003w",
        model: "DOOR_CONTROLLER_DC20",
        kind: "DOOR_CONTROLLER",
        org: Some(DEMO_CLIENT),
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
pub(crate) fn refused(message: impl Into<String>) -> Value {
    json!({ "error": true, "errorMsg": message.into() })
}

fn text<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

/// The client a request names in `clientOrgUuid` (the server refuses
/// unknown ones before this is asked).
fn named_client<'a>(fleet: &'a FakeFleet, body: &Value) -> Result<&'a FakeClient, Value> {
    text(body, "clientOrgUuid")
        .and_then(|uuid| fleet.client(uuid))
        .ok_or_else(|| refused("clientOrgUuid names no client of the partner"))
}

/// The pool's licenses a client holds: its non-trial ones.
fn held_licenses(client: &FakeClient) -> Vec<Placed<'_>> {
    (answers::placed(client).into_iter())
        .filter(|l| !l.license.trial)
        .collect()
}

/// The MSP endpoint `call` (the path after `/api/partner/`), answered from
/// the request body: a JSON answer, or a refusal with its status; `None`
/// for a call that is not one of them.
pub(crate) fn answer(
    fleet: &FakeFleet,
    now: DateTime<Utc>,
    call: &str,
    body: &Value,
) -> Option<Result<Value, u16>> {
    Some(Ok(match call {
        "deactivateClient" => deactivate_client(fleet, body),
        "getClaimKeysForPartnerOrg" => json!({ "claimKeys": unclaimed_keys(), "error": false }),
        "getPartnerOrgProfile" => profile(),
        "hardware/getInventory" => hardware_inventory(fleet),
        "hardware/moveToClient" => move_to_client(body),
        "license/assignToClient" => assign_to_client(fleet, body),
        "license/claimToPool" => claim_to_pool(body),
        "license/getClaimKeyByCode" => return Some(claim_key_by_code(body)),
        "license/getPool" => answers::license_pool(fleet, now),
        "license/reclaimFromClient" => reclaim_from_client(fleet, body),
        "updateManagedClientPolicy" => update_policy(fleet, body),
        _ => return None,
    }))
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

/// The unclaimed keys, as `getClaimKeysForPartnerOrg` and the pool list
/// them.
pub(crate) fn unclaimed_keys() -> Value {
    (UNCLAIMED_KEYS.iter())
        .map(|(code, uuid, po)| partner_claim_key(code, uuid, po))
        .collect()
}

/// `license/getClaimKeyByCode`: an unclaimed key of the partner. Its
/// answer has no `error` field, so a key redeemed by another organization
/// is refused with a `403` (`Err`), and an unknown code finds no key.
fn claim_key_by_code(body: &Value) -> Result<Value, u16> {
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
fn claim_to_pool(body: &Value) -> Value {
    let code = text(body, "claimCode").unwrap_or_default();
    match UNCLAIMED_KEYS.iter().find(|k| k.0 == code) {
        Some((_, uuid, _)) => json!({ "claimKeyUuid": uuid, "error": false }),
        None => refused(format!("no unclaimed key has the code {code:?}")),
    }
}

/// `license/assignToClient`: moves `quantity` unassigned licenses of a
/// product to a client, if the pool has that many.
fn assign_to_client(fleet: &FakeFleet, body: &Value) -> Value {
    let client = match named_client(fleet, body) {
        Ok(client) => client,
        Err(refusal) => return refusal,
    };
    let product = text(body, "productCode").unwrap_or_default();
    let Some(p) = fleet.pool.iter().position(|p| p.product == product) else {
        return refused(format!("the pool has no product {product:?}"));
    };
    let available = fleet.pool[p].unassigned;
    let quantity = body.get("quantity").and_then(Value::as_i64).unwrap_or(0);
    if quantity < 1 {
        return refused("quantity must be at least 1");
    }
    if quantity > i64::from(available) {
        return refused(format!(
            "the pool holds {available} unassigned {product} licenses, not {quantity}"
        ));
    }
    let short = answers::tail(client);
    let moved: Vec<String> = (0..quantity)
        .map(|n| format!("{short}PoOl{p:02}{n:04}"))
        .collect();
    json!({ "error": false, "failed": [], "moved": moved })
}

/// `license/reclaimFromClient`: takes a client's pool licenses back, by
/// UUID or by product and count; a license on a device is taken off it only
/// with `forceUnassign`, and skipped otherwise.
fn reclaim_from_client(fleet: &FakeFleet, body: &Value) -> Value {
    let client = match named_client(fleet, body) {
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
                let found = held.iter().find(|l| l.uuid == uuid);
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
            .filter(|l| l.license.product == product)
            .take(usize::try_from(quantity).unwrap_or(usize::MAX))
            .collect()
    } else {
        return refused("name the licenses, or a productCode and a quantity");
    };
    let mut reclaimed = Vec::new();
    let mut unassigned = Vec::new();
    for Placed { uuid, device, .. } in chosen {
        if device.is_none() {
            reclaimed.push(uuid.clone());
        } else if force {
            reclaimed.push(uuid.clone());
            unassigned.extend(device.as_ref().map(|(_, device)| device.clone()));
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
fn hardware_inventory(fleet: &FakeFleet) -> Value {
    let units: Vec<Value> = HARDWARE
        .iter()
        .map(|unit| {
            let client = unit.org.and_then(|uuid| fleet.client(uuid));
            json!({
                "currentOrgName": client.map(|c| c.name.as_str()),
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
fn move_to_client(body: &Value) -> Value {
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

/// `deactivateClient`: refused unless the typed name matches; a client
/// with devices registered is not deactivated, and the answer names them
/// and the pool licenses it holds.
fn deactivate_client(fleet: &FakeFleet, body: &Value) -> Value {
    let client = match named_client(fleet, body) {
        Ok(client) => client,
        Err(refusal) => return refusal,
    };
    if text(body, "confirmName") != Some(client.name.as_str()) {
        return refused("confirmName does not match the client's name");
    }
    let short = answers::tail(client);
    let devices: Vec<Value> = (answers::devices(client).into_iter().enumerate())
        .map(|(k, (uuid, name))| {
            json!({ "deviceUuid": uuid, "name": name, "serial": format!("DEMO-{short}-{k:04}") })
        })
        .collect();
    let licenses: Vec<Value> = held_licenses(client)
        .into_iter()
        .map(|l| json!({ "licenseUuid": l.uuid, "productCode": l.license.product }))
        .collect();
    let registered = !devices.is_empty();
    if !registered {
        return json!({ "deactivated": true, "error": false, "reclaimedLicenses": licenses.len() });
    }
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
fn update_policy(fleet: &FakeFleet, body: &Value) -> Value {
    if let Err(refusal) = named_client(fleet, body) {
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
fn profile() -> Value {
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
