//! The fleets the fake server plays: the demo partner (a dozen hand-made
//! clients) and generated fleets of any size for tests and benchmarks.
//! This is the one model the server answers from; nothing else holds
//! counts of its own.

/// One client organization of a fake partner. Every answer about it (the
/// listing's counts, its summary, its licenses, the pool) is worked out
/// from these fields, so the answers agree with each other.
#[derive(Debug, Clone)]
pub struct FakeClient {
    /// `clientOrgUuid`.
    pub uuid: String,
    /// `clientOrgName`.
    pub name: String,
    /// Its locations (`totalLocations`, `locationCount`).
    pub locations: usize,
    /// Whether the client lets the partner in; when not, every call made
    /// inside it is refused with `403`.
    pub access_allowed: bool,
    /// Its cameras, in the order the camera state list gives them.
    pub cameras: Vec<FakeCamera>,
    /// Each door's `health`, as sent.
    pub doors: Vec<String>,
    /// Policy alerts within the last 7 days (also the summary's
    /// `recentPolicyAlertCount`).
    pub alerts_last_week: usize,
    /// Policy alerts before the last 7 days.
    pub alerts_older: usize,
    /// Users in the organization.
    pub users: usize,
    /// Its device licenses: camera licenses sit on its cameras in order,
    /// door licenses on its doors' controllers, while there are devices.
    pub licenses: Vec<FakeLicense>,
    /// Calls of this client answered otherwise than from the model.
    pub broken: Vec<(FakeCall, FakeAnswer)>,
}

/// A camera, its fields as sent (so a value the API does not list can be
/// played too).
#[derive(Debug, Clone)]
pub struct FakeCamera {
    /// `connectionStatus`.
    pub connection: String,
    /// `healthStatusDetails`.
    pub health: String,
    /// Whether its `firmwareVersion` is [`OLD_FIRMWARE`] rather than
    /// [`NEW_FIRMWARE`].
    pub firmware_behind: bool,
    /// `firmwareUpdateInProgress`.
    pub updating: bool,
    /// The answer leaves its `name` out (it has `Camera N` otherwise, N
    /// its place in the list from 1).
    pub unnamed: bool,
}

/// The firmware most cameras run, and the one before it (numerically
/// older, though `"2.9.40" > "2.14.3"` as text).
pub const NEW_FIRMWARE: &str = "2.14.3";
/// The firmware a camera behind runs (see [`NEW_FIRMWARE`]).
pub const OLD_FIRMWARE: &str = "2.9.40";

/// A call the audit makes inside a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FakeCall {
    /// `camera/getMinimalCameraStateList`.
    Cameras,
    /// `door/getMinimalDoorStateList`.
    Doors,
    /// `event/getPolicyAlertsV2`.
    Alerts,
    /// `user/getUsersInOrg`.
    Users,
    /// `license/getDeviceLicenses`.
    Licenses,
}

impl FakeCall {
    /// The path it is made on.
    pub fn path(self) -> &'static str {
        match self {
            FakeCall::Cameras => "/api/camera/getMinimalCameraStateList",
            FakeCall::Doors => "/api/door/getMinimalDoorStateList",
            FakeCall::Alerts => "/api/event/getPolicyAlertsV2",
            FakeCall::Users => "/api/user/getUsersInOrg",
            FakeCall::Licenses => "/api/license/getDeviceLicenses",
        }
    }
}

/// How a broken call is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FakeAnswer {
    /// This status, with a short text body.
    Status(u16),
    /// `200` with `{}`: every field left out.
    Empty,
}

/// A device license held by a client.
#[derive(Debug, Clone)]
pub struct FakeLicense {
    /// `productCode`, e.g. `LIC-CAM-3Y`.
    pub product: String,
    /// A trial (Rhombus', not taken from the partner's pool).
    pub trial: bool,
    /// Days from the server's start to the license's end (`maxDeleteDate`).
    pub days_left: i64,
}

/// A product in the partner's license pool.
#[derive(Debug, Clone)]
pub struct PoolProduct {
    /// `productCode`.
    pub product: String,
    /// `displayName`.
    pub display_name: String,
    /// Licenses in the pool, assigned to no client.
    pub unassigned: i32,
}

/// A partner's clients and license pool.
#[derive(Debug, Clone)]
pub struct FakeFleet {
    /// The client organizations, in the listing's order.
    pub clients: Vec<FakeClient>,
    /// The partner's license pool, by product.
    pub pool: Vec<PoolProduct>,
}

/// The demo client the single-organization examples act on (Acme
/// Logistics).
pub const DEMO_CLIENT: &str = "dEmOcLiEnToRgUuId00001w";

/// The demo's client that turned partner access off.
pub const REFUSING: &str = "dEmOcLiEnToRgUuId00007w";
/// The demo's client whose license call fails (`500`).
pub const LICENSES_FAIL: &str = "dEmOcLiEnToRgUuId00008w";
/// The demo's client whose user call answers `{}`.
pub const USERS_EMPTY: &str = "dEmOcLiEnToRgUuId00012w";

/// The demo's broken calls.
fn demo_broken(uuid: &str) -> Vec<(FakeCall, FakeAnswer)> {
    match uuid {
        LICENSES_FAIL => vec![(FakeCall::Licenses, FakeAnswer::Status(500))],
        USERS_EMPTY => vec![(FakeCall::Users, FakeAnswer::Empty)],
        _ => Vec::new(),
    }
}

/// The demo's busiest client: its week of alerts takes three pages.
pub const BUSY: &str = "dEmOcLiEnToRgUuId00003w";

/// Cameras by `connectionStatus`; `unknown` of them in `BLUE`, a state this
/// version of the API does not list. A `RED` one is `DISCONNECTED`, the
/// others' health `NONE`, all on the new firmware, none updating.
fn cameras(
    green: usize,
    red: usize,
    orange: usize,
    yellow: usize,
    unknown: usize,
) -> Vec<FakeCamera> {
    let statuses = [
        ("GREEN", green),
        ("RED", red),
        ("ORANGE", orange),
        ("YELLOW", yellow),
        ("BLUE", unknown),
    ];
    (statuses.iter())
        .flat_map(|(status, n)| std::iter::repeat_n(*status, *n))
        .map(|status| FakeCamera {
            connection: status.to_owned(),
            health: if status == "RED" {
                "DISCONNECTED"
            } else {
                "NONE"
            }
            .to_owned(),
            firmware_behind: false,
            updating: false,
            unnamed: false,
        })
        .collect()
}

/// The cameras, the `n`-th (from 0) without a name.
fn unnamed(mut cameras: Vec<FakeCamera>, n: usize) -> Vec<FakeCamera> {
    if let Some(camera) = cameras.get_mut(n) {
        camera.unnamed = true;
    }
    cameras
}

/// The cameras with, from the first `GREEN` one on, `health` given to as
/// many as said (a value the API does not list too), `behind` on the old
/// firmware and `updating` updating.
fn health(
    mut cameras: Vec<FakeCamera>,
    health: &[(&str, usize)],
    behind: usize,
    updating: usize,
) -> Vec<FakeCamera> {
    let mut green = cameras.iter_mut().filter(|c| c.connection == "GREEN");
    for (value, n) in health {
        for camera in green.by_ref().take(*n) {
            camera.health = (*value).to_owned();
        }
    }
    for camera in cameras.iter_mut().rev().take(behind) {
        camera.firmware_behind = true;
    }
    for camera in cameras.iter_mut().skip(1).take(updating) {
        camera.updating = true;
    }
    cameras
}

/// `n` doors, `red` of them with `health` `RED`, `odd` of them `AMBER`
/// (a value the API does not list), the others `GREEN`.
fn doors(n: usize, red: usize, odd: usize) -> Vec<String> {
    (0..n)
        .map(|k| match k {
            k if k < red => "RED",
            k if k < red + odd => "AMBER",
            _ => "GREEN",
        })
        .map(str::to_owned)
        .collect()
}

fn licenses(list: &[(&str, bool, i64)]) -> Vec<FakeLicense> {
    list.iter()
        .map(|(product, trial, days_left)| FakeLicense {
            product: (*product).to_owned(),
            trial: *trial,
            days_left: *days_left,
        })
        .collect()
}

fn pool(list: &[(&str, &str, i32)]) -> Vec<PoolProduct> {
    list.iter()
        .map(|(product, display_name, unassigned)| PoolProduct {
            product: (*product).to_owned(),
            display_name: (*display_name).to_owned(),
            unassigned: *unassigned,
        })
        .collect()
}

/// The demo clients' locations, in the order of [`demo_rows`].
const DEMO_LOCATIONS: [usize; 12] = [3, 2, 9, 4, 1, 6, 2, 1, 5, 12, 3, 1];

/// A demo client: number, name, cameras, doors, alerts of the week, users,
/// licenses.
type DemoRow = (
    &'static str,
    &'static str,
    Vec<FakeCamera>,
    Vec<String>,
    usize,
    usize,
    Vec<FakeLicense>,
);

const CAM_3Y: (&str, bool, i64) = ("LIC-CAM-3Y", false, 700);

/// The demo's clients, made by hand.
#[rustfmt::skip]
fn demo_rows() -> [DemoRow; 12] {
    [
        ("01", "Acme Logistics", health(cameras(11, 1, 0, 0, 0), &[("NOT_RECORDING", 1)], 2, 0),
            doors(2, 0, 0), 5, 14,
            licenses(&[CAM_3Y, CAM_3Y, ("LIC-DOOR-1Y", true, 200)])),
        ("02", "Bayside Dental Group", cameras(6, 0, 0, 0, 0), doors(0, 0, 0), 0, 6,
            licenses(&[CAM_3Y, CAM_3Y])),
        ("03", "Cedar Ridge School District",
            health(cameras(115, 3, 4, 2, 0),
                   &[("FIRMWARE_BEHIND", 6), ("NOT_RECORDING", 2), ("LINK_SPEED_LOW", 3),
                     ("CALIBRATING", 1), ("DELAYED", 2)], 6, 2),
            doors(31, 2, 0), 241, 88,
            licenses(&[CAM_3Y, ("LIC-CAM-1Y", false, 120)])),
        ("04", "Delta Storage Units",
            health(cameras(19, 2, 1, 0, 0), &[("MALFUNCTIONING_MODULES", 1)], 0, 0),
            doors(16, 1, 0), 12, 9,
            licenses(&[("LIC-CAM-1Y", false, 6), ("LIC-CAM-1Y", false, 6),
                       ("LIC-DOOR-1Y", false, 21), CAM_3Y])),
        ("05", "Elm Street Clinic", cameras(4, 0, 0, 0, 0), doors(1, 0, 0), 1, 5,
            licenses(&[("LIC-CAM-1Y", true, 25)])),
        ("06", "Fairview Apartments",
            health(cameras(33, 4, 2, 1, 0), &[("NOT_RECORDING", 3), ("FIRMWARE_BEHIND", 2)],
                   2, 1),
            doors(8, 0, 0), 17, 21, licenses(&[CAM_3Y, CAM_3Y, CAM_3Y])),
        ("07", "Granite Manufacturing", cameras(15, 0, 0, 0, 0), doors(4, 0, 0), 3, 12,
            licenses(&[CAM_3Y])),
        ("08", "Harbor Marina",
            unnamed(health(cameras(6, 2, 0, 1, 1), &[("OVERHEATING", 1)], 0, 0), 7),
            doors(0, 0, 0), 8, 4, licenses(&[CAM_3Y])),
        ("09", "Ironwood Hotels", cameras(60, 0, 1, 0, 0), doors(10, 0, 1), 22, 47,
            licenses(&[CAM_3Y, ("LIC-DOOR-1Y", true, 45)])),
        ("10", "Juniper Retail",
            health(cameras(78, 4, 0, 2, 0), &[("FIRMWARE_BEHIND", 9)], 9, 0),
            doors(12, 1, 0), 9, 36,
            licenses(&[CAM_3Y, ("LIC-CAM-1Y", false, 90)])),
        ("11", "Kestrel Credit Union", cameras(18, 0, 0, 0, 0), doors(3, 0, 0), 2, 15,
            licenses(&[CAM_3Y])),
        ("12", "Lakeside Church", cameras(3, 1, 0, 0, 0), doors(0, 0, 0), 0, 3,
            licenses(&[("LIC-CAM-1Y", true, 12)])),
    ]
}

impl FakeFleet {
    /// The demo partner: twelve clients, some cameras offline or degraded
    /// (one in a state the API does not list), not recording, behind on
    /// firmware or otherwise unhealthy (one with a health the API does not
    /// list), doors (some unhealthy), a week of alerts (one client's takes
    /// several pages), users, licenses ending soon and trials, one client
    /// refusing partner access, one whose license call fails
    /// ([`LICENSES_FAIL`]) and one whose user call answers `{}`
    /// ([`USERS_EMPTY`]).
    pub fn demo() -> FakeFleet {
        let clients = demo_rows()
            .into_iter()
            .zip(DEMO_LOCATIONS)
            .map(
                |((n, name, cameras, doors, alerts, users, licenses), locations)| {
                    let uuid = format!("dEmOcLiEnToRgUuId000{n}w");
                    FakeClient {
                        access_allowed: uuid != REFUSING,
                        broken: demo_broken(&uuid),
                        uuid,
                        name: name.to_owned(),
                        locations,
                        cameras,
                        doors,
                        alerts_last_week: alerts,
                        alerts_older: alerts / 2 + 3,
                        users,
                        licenses,
                    }
                },
            )
            .collect();
        FakeFleet {
            clients,
            pool: pool(&[
                ("LIC-CAM-1Y", "Camera license, 1 year", 2),
                ("LIC-CAM-3Y", "Camera license, 3 years", 14),
                ("LIC-DOOR-1Y", "Door license, 1 year", 0),
            ]),
        }
    }

    /// `n` generated clients, the same for the same `n`: a few cameras
    /// offline or degraded here and there, doors, alerts (one client in 50
    /// has a busy week of several pages), users, and licenses of which some
    /// end within the month.
    pub fn generated(n: usize) -> FakeFleet {
        let clients = (0..n)
            .map(|i| FakeClient {
                uuid: format!("fLeEtClIeNt{i:010}w"),
                name: format!("Client {i:05}"),
                locations: 1 + i % 4,
                access_allowed: true,
                cameras: health(
                    cameras(
                        4 + i % 17,
                        usize::from(i % 7 == 0),
                        i % 11 / 9,
                        i % 13 / 12,
                        0,
                    ),
                    &[("NOT_RECORDING", usize::from(i % 9 == 0))],
                    i % 3,
                    usize::from(i % 8 == 0),
                ),
                doors: doors(i % 5, usize::from(i % 10 == 4), 0),
                alerts_last_week: if i % 50 == 7 { 240 } else { i * 37 % 60 },
                alerts_older: i % 9,
                users: 3 + i % 12,
                licenses: licenses(&[
                    CAM_3Y,
                    ("LIC-CAM-1Y", i % 4 == 0, 10 + (i as i64 * 13) % 90),
                ]),
                broken: Vec::new(),
            })
            .collect();
        FakeFleet {
            clients,
            pool: pool(&[
                ("LIC-CAM-1Y", "Camera license, 1 year", (n / 10) as i32),
                ("LIC-CAM-3Y", "Camera license, 3 years", (n / 4) as i32),
            ]),
        }
    }

    /// The fleet with clients renamed by `names`, a JSON object from
    /// client UUID to name (as [`crate::NAMES_VARIABLE`] holds it), so that a test
    /// can give a client a name that quotes, escapes or breaks a line.
    /// A UUID the fleet lacks is an error.
    pub fn renamed(mut self, names: &str) -> Result<FakeFleet, String> {
        let names: std::collections::BTreeMap<String, String> =
            serde_json::from_str(names).map_err(|e| format!("not a JSON object of names: {e}"))?;
        for (uuid, name) in names {
            let client = (self.clients.iter_mut())
                .find(|c| c.uuid == uuid)
                .ok_or_else(|| format!("no client has the UUID {uuid:?}"))?;
            client.name = name;
        }
        Ok(self)
    }

    /// The client with this UUID.
    pub fn client(&self, uuid: &str) -> Option<&FakeClient> {
        self.clients.iter().find(|client| client.uuid == uuid)
    }

    /// The client with this UUID, to change (see `FakeServer::change`).
    pub fn client_mut(&mut self, uuid: &str) -> Option<&mut FakeClient> {
        self.clients.iter_mut().find(|client| client.uuid == uuid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renamed_gives_any_name_and_refuses_a_stranger_or_a_non_object() {
        let names = r#"{"dEmOcLiEnToRgUuId00001w": "a\"b\\c", "dEmOcLiEnToRgUuId00002w": "x\ny"}"#;
        let fleet = FakeFleet::demo().renamed(names).expect("renamed");
        assert_eq!(fleet.clients[0].name, "a\"b\\c");
        assert_eq!(fleet.clients[1].name, "x\ny");
        assert_eq!(fleet.clients[2].name, "Cedar Ridge School District");
        let stranger = FakeFleet::demo().renamed(r#"{"nobody": "n"}"#);
        assert!(stranger.is_err_and(|e| e.contains("nobody")));
        assert!(FakeFleet::demo().renamed("[1]").is_err());
    }
}
