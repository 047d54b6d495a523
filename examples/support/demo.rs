//! The demo partner the fake server plays: a dozen client organizations
//! with their devices, policy alerts and licenses. One client has turned
//! partner access off (its calls are refused), one has licenses running out
//! within days, a few hold trials.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

/// One client organization of the demo partner.
pub struct DemoClient {
    pub uuid: &'static str,
    pub name: &'static str,
    pub locations: i32,
    /// `(device type, connected, operational, total)`
    pub devices: &'static [(&'static str, i32, i32, i32)],
    pub policy_alerts: i32,
    /// `(product code, trial, days until the license's end)`
    pub licenses: &'static [(&'static str, bool, i64)],
    /// Whether the client lets the partner in; when not, every call about
    /// it is refused.
    pub access_allowed: bool,
}

/// The client the single-organization examples use.
pub const FIRST: &str = "dEmOcLiEnToRgUuId00001w";
/// The client whose calls fail.
pub const REFUSING: &str = "dEmOcLiEnToRgUuId00007w";
/// The client whose licenses run out within days.
pub const EXPIRING: &str = "dEmOcLiEnToRgUuId00004w";

const CAMERAS_3Y: (&str, bool, i64) = ("LIC-CAM-3Y", false, 700);

pub const CLIENTS: &[DemoClient] = &[
    DemoClient {
        uuid: FIRST,
        name: "Acme Logistics",
        locations: 3,
        devices: &[("CAMERA", 11, 11, 12), ("DOOR_CONTROLLER", 2, 2, 2)],
        policy_alerts: 5,
        licenses: &[CAMERAS_3Y, CAMERAS_3Y, ("LIC-DC-1Y", true, 200)],
        access_allowed: true,
    },
    DemoClient {
        uuid: "dEmOcLiEnToRgUuId00002w",
        name: "Bayside Dental Group",
        locations: 2,
        devices: &[("CAMERA", 6, 6, 6)],
        policy_alerts: 0,
        licenses: &[CAMERAS_3Y, CAMERAS_3Y],
        access_allowed: true,
    },
    DemoClient {
        uuid: "dEmOcLiEnToRgUuId00003w",
        name: "Cedar Ridge School District",
        locations: 9,
        devices: &[
            ("CAMERA", 118, 115, 124),
            ("BADGE_READER", 30, 30, 31),
            ("AUDIO_GATEWAY", 9, 9, 9),
        ],
        policy_alerts: 41,
        licenses: &[CAMERAS_3Y, ("LIC-CAM-1Y", false, 120)],
        access_allowed: true,
    },
    DemoClient {
        uuid: EXPIRING,
        name: "Delta Storage Units",
        locations: 4,
        devices: &[("CAMERA", 20, 19, 22), ("DOOR_SENSOR", 14, 14, 16)],
        policy_alerts: 12,
        licenses: &[
            ("LIC-CAM-1Y", false, 6),
            ("LIC-CAM-1Y", false, 6),
            ("LIC-SENSOR-1Y", false, 21),
            CAMERAS_3Y,
        ],
        access_allowed: true,
    },
    DemoClient {
        uuid: "dEmOcLiEnToRgUuId00005w",
        name: "Elm Street Clinic",
        locations: 1,
        devices: &[("CAMERA", 4, 4, 4), ("ENVIRONMENTAL_SENSOR", 2, 2, 2)],
        policy_alerts: 1,
        licenses: &[("LIC-CAM-1Y", true, 25)],
        access_allowed: true,
    },
    DemoClient {
        uuid: "dEmOcLiEnToRgUuId00006w",
        name: "Fairview Apartments",
        locations: 6,
        devices: &[("CAMERA", 35, 33, 40), ("DOOR_CONTROLLER", 8, 8, 8)],
        policy_alerts: 17,
        licenses: &[CAMERAS_3Y, CAMERAS_3Y, CAMERAS_3Y],
        access_allowed: true,
    },
    DemoClient {
        uuid: REFUSING,
        name: "Granite Manufacturing",
        locations: 2,
        devices: &[("CAMERA", 15, 15, 15)],
        policy_alerts: 3,
        licenses: &[CAMERAS_3Y],
        access_allowed: false,
    },
    DemoClient {
        uuid: "dEmOcLiEnToRgUuId00008w",
        name: "Harbor Marina",
        locations: 1,
        devices: &[("CAMERA", 7, 6, 9)],
        policy_alerts: 8,
        licenses: &[CAMERAS_3Y],
        access_allowed: true,
    },
    DemoClient {
        uuid: "dEmOcLiEnToRgUuId00009w",
        name: "Ironwood Hotels",
        locations: 5,
        devices: &[("CAMERA", 60, 60, 61), ("BADGE_READER", 10, 10, 10)],
        policy_alerts: 22,
        licenses: &[CAMERAS_3Y, ("LIC-BR-1Y", true, 45)],
        access_allowed: true,
    },
    DemoClient {
        uuid: "dEmOcLiEnToRgUuId00010w",
        name: "Juniper Retail",
        locations: 12,
        devices: &[("CAMERA", 80, 78, 84), ("OCCUPANCY_SENSOR", 12, 12, 12)],
        policy_alerts: 9,
        licenses: &[CAMERAS_3Y, ("LIC-CAM-1Y", false, 90)],
        access_allowed: true,
    },
    DemoClient {
        uuid: "dEmOcLiEnToRgUuId00011w",
        name: "Kestrel Credit Union",
        locations: 3,
        devices: &[("CAMERA", 18, 18, 18), ("AUDIO_GATEWAY", 3, 3, 3)],
        policy_alerts: 2,
        licenses: &[CAMERAS_3Y],
        access_allowed: true,
    },
    DemoClient {
        uuid: "dEmOcLiEnToRgUuId00012w",
        name: "Lakeside Church",
        locations: 1,
        devices: &[("CAMERA", 3, 3, 5)],
        policy_alerts: 0,
        licenses: &[("LIC-CAM-1Y", true, 12)],
        access_allowed: true,
    },
];

pub fn client(uuid: &str) -> Option<&'static DemoClient> {
    CLIENTS.iter().find(|c| c.uuid == uuid)
}

/// `getClients`: every client, with the counts the listing carries.
pub fn clients_listing() -> Value {
    let clients: Vec<Value> = CLIENTS
        .iter()
        .map(|c| {
            let cameras: i32 = c
                .devices
                .iter()
                .filter(|d| d.0 == "CAMERA")
                .map(|d| d.3)
                .sum();
            json!({
                "clientOrgUuid": c.uuid,
                "clientOrgName": c.name,
                "clientAccessAllowed": c.access_allowed,
                "totalLocations": c.locations,
                "totalCameras": cameras,
                "createdAtMillis": 1_699_334_716_000_i64,
                // The demo partner manages every client as a managed
                // service provider (see `msp`); none is deactivated.
                "managedByMsp": true,
                "deactivated": false,
                "clientSuperAdminAssignable": true
            })
        })
        .collect();
    json!({ "clients": clients, "error": false })
}

/// `getClientSummaryInfo` for `client`.
pub fn summary(client: &DemoClient) -> Value {
    let status: serde_json::Map<String, Value> = client
        .devices
        .iter()
        .map(|(kind, connected, operational, total)| {
            (
                (*kind).to_owned(),
                json!({ "connectedCount": connected, "operationalCount": operational, "totalCount": total }),
            )
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
            "uuid": "dEmOoWnErUsErUuId00001w"
        },
        "clientDeviceStatusMap": status,
        "error": false,
        "licenseV2Enabled": true,
        "locationCount": client.locations,
        "manuallySendLicenseExpirationEmailEnabled": false,
        "recentPolicyAlertCount": client.policy_alerts
    })
}

/// `getDeviceLicensesForOrg` for `client`, with end dates counted from `now`.
pub fn device_licenses(client: &DemoClient, now: DateTime<Utc>) -> Value {
    let licenses: Vec<Value> = client
        .licenses
        .iter()
        .enumerate()
        .map(|(n, (product, trial, days_left))| {
            json!({
                "claimKeyUuid": format!("dEmOcLaImKeY{n:010}w"),
                "createdOn": "2025-01-07T05:31:56Z",
                "deviceUuid": format!("dEmOdEvIcE{}{n:03}w", &client.uuid[17..22]),
                "deviceType": "CAMERA",
                "features": [
                    {"enabled": true, "name": "VIDEO_RETENTION_30_DAYS"},
                    {"enabled": !trial, "name": "PEOPLE_SEARCH"}
                ],
                "firstAssignedDate": "2025-01-08T09:00:00Z",
                "maxDeleteDate": (now + Duration::days(*days_left)).to_rfc3339(),
                "orgUuid": client.uuid,
                "productCode": product,
                "state": "CLAIMED",
                "trial": trial,
                "updatedOn": "2026-03-01T12:00:00Z",
                "uuid": format!("dEmOlIcEnSe{}{n:03}w", &client.uuid[17..22])
            })
        })
        .collect();
    json!({ "deviceLicenses": licenses })
}
