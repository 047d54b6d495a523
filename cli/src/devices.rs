//! The devices behind a client's problem counts: each camera or door with a
//! problem, by UUID and name, so that a partner (and `rhombus-audit diff`)
//! can say which device it is, not only how many there are.
//!
//! A device's problems are those of the problem facts of [`FACTS`] that
//! count devices (the licenses count no device). The name is the server's;
//! a device the server gave no name is `None` (shown as unknown), never a
//! name made up here.
//!
//! [`FACTS`]: crate::facts::FACTS

use serde::{Deserialize, Serialize};

use crate::facts::Fact;

/// A device's kind, as the records give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    Camera,
    Door,
}

impl DeviceKind {
    /// Its name in JSON, CSV and the diff's table.
    pub fn name(self) -> &'static str {
        match self {
            DeviceKind::Camera => "camera",
            DeviceKind::Door => "door",
        }
    }

    /// The fact that counts every device of this kind: when it is
    /// unknown, so is the list of this kind's problem devices.
    pub fn count(self) -> Fact {
        match self {
            DeviceKind::Camera => Fact::Cameras,
            DeviceKind::Door => Fact::Doors,
        }
    }
}

/// What is wrong with a device: one problem fact, device by device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// `connectionStatus` `RED`.
    Offline,
    /// `healthStatusDetails` `NOT_RECORDING`.
    NotRecording,
    /// `healthStatusDetails` `FIRMWARE_BEHIND`.
    FirmwareBehind,
    /// `healthStatusDetails` `MALFUNCTIONING_MODULES`.
    Malfunctioning,
    /// `firmwareVersion` older than the client's newest.
    NotOnNewestFirmware,
    /// A door's `health` `RED`.
    Unhealthy,
}

impl Problem {
    /// Every problem, in the order of their facts.
    pub const ALL: [Problem; 6] = [
        Problem::Offline,
        Problem::NotRecording,
        Problem::FirmwareBehind,
        Problem::Malfunctioning,
        Problem::NotOnNewestFirmware,
        Problem::Unhealthy,
    ];

    /// Its name in JSON, CSV and the diff's table.
    pub fn name(self) -> &'static str {
        match self {
            Problem::Offline => "offline",
            Problem::NotRecording => "not_recording",
            Problem::FirmwareBehind => "firmware_behind",
            Problem::Malfunctioning => "malfunctioning",
            Problem::NotOnNewestFirmware => "not_on_newest_firmware",
            Problem::Unhealthy => "unhealthy",
        }
    }

    /// The fact that counts the devices with this problem: when it is
    /// unknown, no device's record can say whether it has the problem.
    pub fn fact(self) -> Fact {
        match self {
            Problem::Offline => Fact::CamerasOffline,
            Problem::NotRecording => Fact::CamerasNotRecording,
            Problem::FirmwareBehind => Fact::CamerasFirmwareBehind,
            Problem::Malfunctioning => Fact::CamerasMalfunctioning,
            Problem::NotOnNewestFirmware => Fact::CamerasNotOnNewestFirmware,
            Problem::Unhealthy => Fact::DoorsUnhealthy,
        }
    }
}

/// A device with at least one problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemDevice {
    pub kind: DeviceKind,
    /// The device's `uuid`; `None` when the answer gave none (such a
    /// device is listed, but a diff cannot follow it).
    pub uuid: Option<String>,
    /// The device's `name`, as the server sent it; `None` when it sent
    /// none.
    pub name: Option<String>,
    /// In the order of [`Problem::ALL`], each once.
    pub problems: Vec<Problem>,
}

impl ProblemDevice {
    /// The device, if `problems` holds any (sorted and each kept once).
    pub fn of(
        kind: DeviceKind,
        uuid: Option<String>,
        name: Option<String>,
        mut problems: Vec<Problem>,
    ) -> Option<ProblemDevice> {
        problems.sort_unstable();
        problems.dedup();
        (!problems.is_empty()).then_some(ProblemDevice {
            kind,
            uuid,
            name,
            problems,
        })
    }

    /// The name, or what the outputs show for a device the server named
    /// not.
    pub fn shown_name(&self) -> &str {
        self.name.as_deref().unwrap_or(UNNAMED)
    }
}

/// What the outputs show for a device without a name.
pub const UNNAMED: &str = "(name unknown)";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{FACTS, Source};

    #[test]
    fn every_device_problem_fact_has_its_problem_and_only_those() {
        let device_facts: Vec<Fact> = (FACTS.iter())
            .filter(|s| s.problem && s.source != Source::Licenses)
            .map(|s| s.fact)
            .collect();
        let problem_facts: Vec<Fact> = Problem::ALL.iter().map(|p| p.fact()).collect();
        assert_eq!(problem_facts, device_facts);
    }

    #[test]
    fn a_device_without_problems_is_not_a_problem_device() {
        assert_eq!(
            ProblemDevice::of(DeviceKind::Door, None, None, vec![]),
            None
        );
        let device = ProblemDevice::of(
            DeviceKind::Camera,
            Some("u".into()),
            None,
            vec![Problem::NotRecording, Problem::Offline, Problem::Offline],
        )
        .expect("a problem device");
        assert_eq!(device.problems, [Problem::Offline, Problem::NotRecording]);
        assert_eq!(device.shown_name(), UNNAMED);
    }
}
