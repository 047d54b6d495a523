//! The facts the audit reads of each client, declared once ([`FACTS`]):
//! their names in JSON and CSV, their table headers, the operation and
//! field each comes from, and whether the default table shows it. The
//! table, the records, the totals and the tests all walk this list.
//!
//! A fact is read (a count) or unknown, with why ([`FactError`]): the call
//! failed, or the server left the field out (kind `missing`; a field left
//! out is never read as 0).

use std::cmp::Ordering;

use rhombus_partner::Error;
use serde::{Deserialize, Serialize};

/// One fact of a client. The order is [`FACTS`]'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fact {
    Cameras,
    CamerasOffline,
    CamerasDegraded,
    CamerasUnknownStatus,
    CamerasNotRecording,
    CamerasFirmwareBehind,
    CamerasLinkSpeedLow,
    CamerasMalfunctioning,
    CamerasDisconnected,
    CamerasCalibrating,
    CamerasDelayed,
    CamerasHealthUnknown,
    CamerasNotOnNewestFirmware,
    CamerasUpdatingFirmware,
    Doors,
    DoorsUnhealthy,
    DoorsHealthUnknown,
    PolicyAlerts7d,
    Users,
    LicensesEnding30d,
    LicensesTrial,
}

/// The call a fact comes from (one per client, the alerts in pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    Cameras,
    Doors,
    Alerts,
    Users,
    Licenses,
}

impl Source {
    /// The operation, as the README and the errors name it.
    pub fn operation(self) -> &'static str {
        match self {
            Source::Cameras => "camera/getMinimalCameraStateList",
            Source::Doors => "door/getMinimalDoorStateList",
            Source::Alerts => "event/getPolicyAlertsV2",
            Source::Users => "user/getUsersInOrg",
            Source::Licenses => "license/getDeviceLicenses",
        }
    }

    /// The facts this call gives.
    pub fn facts(self) -> impl Iterator<Item = Fact> {
        FACTS
            .iter()
            .filter(move |s| s.source == self)
            .map(|s| s.fact)
    }
}

/// How a fact is declared.
#[derive(Debug, Clone, Copy)]
pub struct FactSpec {
    pub fact: Fact,
    /// The JSON key and the CSV column.
    pub field: &'static str,
    /// The table's column header.
    pub header: &'static str,
    pub source: Source,
    /// What is counted, from which field of the answer.
    pub counts: &'static str,
    /// Shown in the table without `--wide`.
    pub default: bool,
    /// Above 0, the client has something to do (`--problems`).
    pub problem: bool,
}

const fn spec(
    fact: Fact,
    field: &'static str,
    header: &'static str,
    source: Source,
    counts: &'static str,
    (default, problem): (bool, bool),
) -> FactSpec {
    FactSpec {
        fact,
        field,
        header,
        source,
        counts,
        default,
        problem,
    }
}

/// In the table by default; a problem when above 0.
const SHOWN_PROBLEM: (bool, bool) = (true, true);
const SHOWN: (bool, bool) = (true, false);
const WIDE_PROBLEM: (bool, bool) = (false, true);
const WIDE: (bool, bool) = (false, false);

use Source::{Alerts, Cameras, Doors, Licenses, Users};

/// Every fact, in the order of the records' fields and the table's columns.
#[rustfmt::skip]
pub const FACTS: &[FactSpec] = &[
    spec(Fact::Cameras, "cameras", "cameras", Cameras,
         "every item of `cameraStates`", SHOWN),
    spec(Fact::CamerasOffline, "cameras_offline", "offline", Cameras,
         "`connectionStatus` `RED`", SHOWN_PROBLEM),
    spec(Fact::CamerasDegraded, "cameras_degraded", "degraded", Cameras,
         "`connectionStatus` `ORANGE` or `YELLOW`", WIDE),
    spec(Fact::CamerasUnknownStatus, "cameras_unknown_status", "unknown", Cameras,
         "`connectionStatus` a value the API does not list, or none", WIDE),
    spec(Fact::CamerasNotRecording, "cameras_not_recording", "not rec", Cameras,
         "`healthStatusDetails` `NOT_RECORDING`", SHOWN_PROBLEM),
    spec(Fact::CamerasFirmwareBehind, "cameras_firmware_behind", "fw behind", Cameras,
         "`healthStatusDetails` `FIRMWARE_BEHIND`", SHOWN_PROBLEM),
    spec(Fact::CamerasLinkSpeedLow, "cameras_link_speed_low", "link low", Cameras,
         "`healthStatusDetails` `LINK_SPEED_LOW`", WIDE),
    spec(Fact::CamerasMalfunctioning, "cameras_malfunctioning", "malfunc", Cameras,
         "`healthStatusDetails` `MALFUNCTIONING_MODULES`", WIDE_PROBLEM),
    spec(Fact::CamerasDisconnected, "cameras_disconnected", "disconn", Cameras,
         "`healthStatusDetails` `DISCONNECTED`", WIDE),
    spec(Fact::CamerasCalibrating, "cameras_calibrating", "calib", Cameras,
         "`healthStatusDetails` `CALIBRATING`", WIDE),
    spec(Fact::CamerasDelayed, "cameras_delayed", "delayed", Cameras,
         "`healthStatusDetails` `DELAYED`", WIDE),
    spec(Fact::CamerasHealthUnknown, "cameras_health_unknown", "health ?", Cameras,
         "`healthStatusDetails` a value the API does not list, or none", WIDE),
    spec(Fact::CamerasNotOnNewestFirmware, "cameras_not_on_newest_firmware", "fw old",
         Cameras, "`firmwareVersion` older than the client's newest (unknown if a camera \
         has none)", WIDE_PROBLEM),
    spec(Fact::CamerasUpdatingFirmware, "cameras_updating_firmware", "fw upd", Cameras,
         "`firmwareUpdateInProgress` `true` (unknown if a camera has none)", WIDE),
    spec(Fact::Doors, "doors", "doors", Doors, "every item of `doorStates`", SHOWN),
    spec(Fact::DoorsUnhealthy, "doors_unhealthy", "doors bad", Doors,
         "`health` `RED`", WIDE_PROBLEM),
    spec(Fact::DoorsHealthUnknown, "doors_health_unknown", "door ?", Doors,
         "`health` a value the API does not list, or none", WIDE),
    spec(Fact::PolicyAlerts7d, "policy_alerts_7d", "alerts 7d", Alerts,
         "`policyAlerts` of the last 7 days, every page", SHOWN),
    spec(Fact::Users, "users", "users", Users, "every item of `users`", WIDE),
    spec(Fact::LicensesEnding30d, "licenses_ending_30d", "ending 30d", Licenses,
         "`deviceLicenses` whose `maxDeleteDate` is within 30 days", SHOWN_PROBLEM),
    spec(Fact::LicensesTrial, "licenses_trial", "trial", Licenses,
         "`deviceLicenses` with `trial` `true`", WIDE),
];

impl Fact {
    /// Its declaration in [`FACTS`].
    pub fn spec(self) -> &'static FactSpec {
        (FACTS.iter())
            .find(|s| s.fact == self)
            .expect("every fact is declared in FACTS")
    }

    /// The fact whose JSON key is `field` (any case, trimmed), for
    /// `--columns`; the error lists every key.
    pub fn by_field(field: &str) -> Result<Fact, String> {
        let field = field.trim();
        (FACTS.iter())
            .find(|s| s.field.eq_ignore_ascii_case(field))
            .map(|s| s.fact)
            .ok_or_else(|| {
                let known: Vec<&str> = FACTS.iter().map(|s| s.field).collect();
                format!(
                    "no fact is named `{field}`; the facts: {}",
                    known.join(", ")
                )
            })
    }
}

/// Why a fact is unknown, as a script can match it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// `403`, or the key refused (`401`).
    Forbidden,
    /// `429` past the retries.
    RateLimited,
    /// `404` or `410`.
    NotFound,
    /// Any other HTTP error status, `"error": true` in an answer, a redirect.
    Server,
    /// No answer: the connection, a timeout, the request slots' wait.
    Transport,
    /// An answer that cannot be read: not the expected JSON, too large, a
    /// cursor that does not move, too many pages, a value the request
    /// cannot carry.
    Decode,
    /// The answer (or the client listing) leaves out the field.
    Missing,
}

impl ErrorKind {
    /// Every kind.
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::Forbidden,
        ErrorKind::RateLimited,
        ErrorKind::NotFound,
        ErrorKind::Server,
        ErrorKind::Transport,
        ErrorKind::Decode,
        ErrorKind::Missing,
    ];

    /// Its name in JSON, CSV and the table.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Server => "server",
            ErrorKind::Transport => "transport",
            ErrorKind::Decode => "decode",
            ErrorKind::Missing => "missing",
        }
    }

    /// The kind of a library error (the mapping the README documents).
    pub fn of(error: &Error) -> ErrorKind {
        match error {
            Error::Forbidden { .. } | Error::Unauthorized { .. } => ErrorKind::Forbidden,
            Error::RateLimited { .. } => ErrorKind::RateLimited,
            Error::Http { status, .. } if matches!(status.as_u16(), 404 | 410) => {
                ErrorKind::NotFound
            }
            Error::Transport { .. } | Error::QueueTimeout { .. } => ErrorKind::Transport,
            Error::Decode { .. }
            | Error::BodyTooLarge { .. }
            | Error::CursorStuck { .. }
            | Error::TooManyPages { .. }
            | Error::InvalidRequest { .. } => ErrorKind::Decode,
            _ => ErrorKind::Server,
        }
    }
}

/// Why a fact (or several, from one call) is unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FactError {
    /// The operation, as [`Source::operation`] names it, or
    /// `partner/getClientsV2` for what the listing lacks.
    pub operation: &'static str,
    pub kind: ErrorKind,
    /// The HTTP status, if there was an answer.
    pub status: Option<u16>,
    /// What happened, and what to do.
    pub message: String,
}

impl FactError {
    /// The field `field` is absent from `operation`'s answer.
    pub fn missing(operation: &'static str, field: &str) -> FactError {
        FactError {
            operation,
            kind: ErrorKind::Missing,
            status: None,
            message: format!("{operation}: the answer has no `{field}`"),
        }
    }
}

/// A firmware version as compared: dot-separated segments, a segment of
/// digits by its number (`2.14` is newer than `2.9`), any other segment by
/// its text, after every number.
fn version_key(version: &str) -> Vec<(u8, u64, &str)> {
    (version.trim().split('.'))
        .map(|segment| match segment.parse::<u64>() {
            Ok(n) => (0, n, ""),
            Err(_) => (1, 0, segment),
        })
        .collect()
}

/// Compares two firmware versions by [`version_key`].
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    version_key(a).cmp(&version_key(b))
}

/// How many of `versions` are older than the newest of them.
pub fn older_than_newest<'a>(versions: impl Iterator<Item = &'a str> + Clone) -> u64 {
    let Some(newest) = versions.clone().max_by(|a, b| compare_versions(a, b)) else {
        return 0;
    };
    (versions.filter(|v| compare_versions(v, newest) == Ordering::Less)).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fact_is_declared_once_with_its_own_field_and_header() {
        let mut fields: Vec<&str> = FACTS.iter().map(|s| s.field).collect();
        let mut headers: Vec<&str> = FACTS.iter().map(|s| s.header).collect();
        fields.sort_unstable();
        fields.dedup();
        headers.sort_unstable();
        headers.dedup();
        assert_eq!(fields.len(), FACTS.len());
        assert_eq!(headers.len(), FACTS.len());
        let order: Vec<Fact> = FACTS.iter().map(|s| s.fact).collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted, "FACTS is in the enum's order");
        assert_eq!(Fact::LicensesTrial.spec().field, "licenses_trial");
    }

    #[test]
    fn each_kind_serializes_as_its_name() {
        for kind in ErrorKind::ALL {
            assert_eq!(serde_json::to_value(kind).expect("serializes"), kind.name());
        }
    }

    #[test]
    fn versions_compare_by_their_numbers() {
        assert_eq!(compare_versions("2.14.3", "2.9.12"), Ordering::Greater);
        assert_eq!(compare_versions("2.9", "2.9.1"), Ordering::Less);
        assert_eq!(compare_versions("2.9.rc1", "2.9.1"), Ordering::Greater);
        let versions = ["2.9.12", "2.14.3", "2.14.3", "1.0"];
        assert_eq!(older_than_newest(versions.iter().copied()), 2);
        assert_eq!(older_than_newest([].iter().copied()), 0);
    }
}
