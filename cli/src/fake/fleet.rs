//! The fleets the fake server plays: the demo partner (a dozen hand-made
//! clients) and generated fleets of any size for tests and benchmarks.

/// One client organization of a fake partner.
#[derive(Debug, Clone)]
pub struct FakeClient {
    pub uuid: String,
    pub name: String,
    /// Whether the client lets the partner in; when not, every call made
    /// inside it is refused with `403`.
    pub access_allowed: bool,
    /// Each camera's `connectionStatus`, as sent (so a value the API does
    /// not list can be played too).
    pub cameras: Vec<String>,
    pub doors: usize,
    /// Policy alerts within the last 7 days, and before them.
    pub alerts_last_week: usize,
    pub alerts_older: usize,
    pub users: usize,
    pub licenses: Vec<FakeLicense>,
}

/// A device license held by a client.
#[derive(Debug, Clone)]
pub struct FakeLicense {
    pub product: String,
    pub trial: bool,
    /// Days from the server's start to the license's end (`maxDeleteDate`).
    pub days_left: i64,
}

/// A product in the partner's license pool.
#[derive(Debug, Clone)]
pub struct PoolProduct {
    pub product: String,
    pub display_name: String,
    /// Licenses in the pool, assigned to no client.
    pub unassigned: i32,
}

/// A partner's clients and license pool.
#[derive(Debug, Clone)]
pub struct FakeFleet {
    pub clients: Vec<FakeClient>,
    pub pool: Vec<PoolProduct>,
}

/// The demo's client that turned partner access off.
pub const REFUSING: &str = "dEmOcLiEnToRgUuId00007w";
/// The demo's busiest client: its week of alerts takes three pages.
pub const BUSY: &str = "dEmOcLiEnToRgUuId00003w";

/// Cameras by `connectionStatus`; `unknown` of them in `BLUE`, a state this
/// version of the API does not list.
fn cameras(green: usize, red: usize, orange: usize, yellow: usize, unknown: usize) -> Vec<String> {
    let statuses = [
        ("GREEN", green),
        ("RED", red),
        ("ORANGE", orange),
        ("YELLOW", yellow),
        ("BLUE", unknown),
    ];
    statuses
        .iter()
        .flat_map(|(status, n)| std::iter::repeat_n((*status).to_owned(), *n))
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

/// A demo client: number, name, cameras, doors, alerts of the week, users,
/// licenses.
type DemoRow = (
    &'static str,
    &'static str,
    Vec<String>,
    usize,
    usize,
    usize,
    Vec<FakeLicense>,
);

const CAM_3Y: (&str, bool, i64) = ("LIC-CAM-3Y", false, 700);

impl FakeFleet {
    /// The demo partner: twelve clients, some cameras offline or degraded
    /// (one in a state the API does not list), doors, a week of alerts
    /// (one client's takes several pages), users, licenses ending soon and
    /// trials, and one client refusing partner access.
    pub fn demo() -> FakeFleet {
        #[rustfmt::skip]
        let rows: [DemoRow; 12] = [
            ("01", "Acme Logistics", cameras(11, 1, 0, 0, 0), 2, 5, 14,
                licenses(&[CAM_3Y, CAM_3Y, ("LIC-DOOR-1Y", true, 200)])),
            ("02", "Bayside Dental Group", cameras(6, 0, 0, 0, 0), 0, 0, 6,
                licenses(&[CAM_3Y, CAM_3Y])),
            ("03", "Cedar Ridge School District", cameras(115, 3, 4, 2, 0), 31, 241, 88,
                licenses(&[CAM_3Y, ("LIC-CAM-1Y", false, 120)])),
            ("04", "Delta Storage Units", cameras(19, 2, 1, 0, 0), 16, 12, 9,
                licenses(&[("LIC-CAM-1Y", false, 6), ("LIC-CAM-1Y", false, 6),
                           ("LIC-DOOR-1Y", false, 21), CAM_3Y])),
            ("05", "Elm Street Clinic", cameras(4, 0, 0, 0, 0), 1, 1, 5,
                licenses(&[("LIC-CAM-1Y", true, 25)])),
            ("06", "Fairview Apartments", cameras(33, 4, 2, 1, 0), 8, 17, 21,
                licenses(&[CAM_3Y, CAM_3Y, CAM_3Y])),
            ("07", "Granite Manufacturing", cameras(15, 0, 0, 0, 0), 4, 3, 12,
                licenses(&[CAM_3Y])),
            ("08", "Harbor Marina", cameras(6, 2, 0, 1, 1), 0, 8, 4,
                licenses(&[CAM_3Y])),
            ("09", "Ironwood Hotels", cameras(60, 0, 1, 0, 0), 10, 22, 47,
                licenses(&[CAM_3Y, ("LIC-DOOR-1Y", true, 45)])),
            ("10", "Juniper Retail", cameras(78, 4, 0, 2, 0), 12, 9, 36,
                licenses(&[CAM_3Y, ("LIC-CAM-1Y", false, 90)])),
            ("11", "Kestrel Credit Union", cameras(18, 0, 0, 0, 0), 3, 2, 15,
                licenses(&[CAM_3Y])),
            ("12", "Lakeside Church", cameras(3, 1, 0, 0, 0), 0, 0, 3,
                licenses(&[("LIC-CAM-1Y", true, 12)])),
        ];
        let clients = rows
            .into_iter()
            .map(|(n, name, cameras, doors, alerts, users, licenses)| {
                let uuid = format!("dEmOcLiEnToRgUuId000{n}w");
                FakeClient {
                    access_allowed: uuid != REFUSING,
                    uuid,
                    name: name.to_owned(),
                    cameras,
                    doors,
                    alerts_last_week: alerts,
                    alerts_older: alerts / 2 + 3,
                    users,
                    licenses,
                }
            })
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
                access_allowed: true,
                cameras: cameras(
                    4 + i % 17,
                    usize::from(i % 7 == 0),
                    i % 11 / 9,
                    i % 13 / 12,
                    0,
                ),
                doors: i % 5,
                alerts_last_week: if i % 50 == 7 { 240 } else { i * 37 % 60 },
                alerts_older: i % 9,
                users: 3 + i % 12,
                licenses: licenses(&[
                    CAM_3Y,
                    ("LIC-CAM-1Y", i % 4 == 0, 10 + (i as i64 * 13) % 90),
                ]),
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

    pub fn client(&self, uuid: &str) -> Option<&FakeClient> {
        self.clients.iter().find(|client| client.uuid == uuid)
    }
}
