//! The client-org API: one module per area (the path segment after
//! `/api/`), each behind the cargo feature of the same name and generated
//! from `spec/areas/<area>.json`, and [`OrgClient`], the only way to reach
//! them: a partner acting inside one of its client organizations.

use crate::client::ClientState;
use crate::error::BuildError;
use crate::generated::Client;
use crate::retry::RetryPolicy;

/// Calls `$then!` with every area, as `"feature" module Client` triples: the
/// one list the area modules, their clients, accessors and mock helpers are
/// made from.
/// `tests/areas.rs` checks it against the features and the fragments.
macro_rules! every_area {
    ($then:ident) => {
        $then! {
            "accesscontrol" accesscontrol AccessControlApi,
            "alertmonitoring" alertmonitoring AlertMonitoringApi,
            "audiogateway" audiogateway AudioGatewayApi,
            "audioplayback" audioplayback AudioPlaybackApi,
            "badgereader" badgereader BadgeReaderApi,
            "ble" ble BleApi,
            "button" button ButtonApi,
            "camera" camera CameraApi,
            "climate" climate ClimateApi,
            "component" component ComponentApi,
            "customer" customer CustomerApi,
            "developer" developer DeveloperApi,
            "deviceconfig" deviceconfig DeviceConfigApi,
            "door" door DoorApi,
            "doorbellcamera" doorbellcamera DoorbellCameraApi,
            "doorcontroller" doorcontroller DoorControllerApi,
            "event" event EventApi,
            "eventSearch" event_search EventSearchApi,
            "export" export ExportApi,
            "faceRecognition" face_recognition FaceRecognitionApi,
            "feature" feature FeatureApi,
            "help" help HelpApi,
            "integrations" integrations IntegrationsApi,
            "keypad" keypad KeypadApi,
            "kiosk" kiosk KioskApi,
            "license" license LicenseApi,
            "location" location LocationApi,
            "logistics" logistics LogisticsApi,
            "mediadevice" mediadevice MediaDeviceApi,
            "oauth" oauth OauthApi,
            "occupancy" occupancy OccupancyApi,
            "org" org OrgApi,
            "permission" permission PermissionApi,
            "policy" policy PolicyApi,
            "proximity" proximity ProximityApi,
            "rapidsos" rapidsos RapidsosApi,
            "relay" relay RelayApi,
            "report" report ReportApi,
            "rules" rules RulesApi,
            "rulesRecords" rules_records RulesRecordsApi,
            "scenequery" scenequery ScenequeryApi,
            "schedule" schedule ScheduleApi,
            "search" search SearchApi,
            "sensors" sensors SensorsApi,
            "tvos" tvos TvosApi,
            "upload" upload UploadApi,
            "user" user UserApi,
            "vehicle" vehicle VehicleApi,
            "video" video VideoApi,
        }
    };
}
#[allow(unused_imports)] // used by `mock` (feature `test-util`)
pub(crate) use every_area;

/// A partner acting inside one of its client organizations (from
/// [`Client::for_org`]): every call made through it sends
/// `x-auth-org: <org>`. Its accessors (`camera()`, `door()`, ...) give the
/// client of each area of the client-org API the build enabled (cargo
/// features named after the areas; `fleet`, `full`).
///
/// It shares the partner client's connection pool, in-flight limit, retry
/// policy and limits; only the header differs.
#[derive(Clone, Debug)]
pub struct OrgClient {
    base_url: String,
    // Read by the area accessors: a build without area features has none.
    #[cfg_attr(not(feature = "fleet"), allow(dead_code))]
    http: reqwest::Client,
    state: ClientState,
}

impl Client {
    /// Acts inside the client organization `org`: the area clients of the
    /// handle it gives send `x-auth-org: <org>` on every call. The partner
    /// client itself never sends that header: a partner-level operation
    /// names its client in the body. Fails with
    /// [`BuildError::OrgContainsApiKey`] if `org` contains the API key (a key
    /// pasted in its place), and with [`BuildError::InvalidOrg`] if it is
    /// empty or not printable ASCII.
    pub fn for_org(&self, org: impl AsRef<str>) -> Result<OrgClient, BuildError> {
        Ok(OrgClient {
            base_url: self.baseurl.clone(),
            http: self.client.clone(),
            state: self.inner.in_org(org.as_ref())?,
        })
    }
}

impl OrgClient {
    /// The client organization every call acts inside (not `org()`: that
    /// is the accessor of the `org` area).
    pub fn org_uuid(&self) -> &str {
        // `for_org` is the only constructor, and it sets the org.
        self.state.org().unwrap_or_default()
    }

    /// The base URL requests go to, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The retry policy its calls follow: the partner client's.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.state.retry
    }
}

/// Declares each area's module, with the generated code private inside it
/// and its client and types public, and the area's accessor on
/// [`OrgClient`], each under the area's feature.
macro_rules! area_modules {
    ($($feature:literal $name:ident $client:ident,)*) => {
        $(
            #[cfg(feature = $feature)]
            #[doc = concat!("The client-org API's `/api/", $feature, "/` operations (feature `",
                $feature, "`), generated from `spec/areas/", $feature, ".json`: [`", stringify!($client),
                "`], reached through [`OrgClient::", stringify!($name), "`](crate::OrgClient::",
                stringify!($name), ").")]
            pub mod $name {
                #[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
                mod generated {
                    include!(concat!(env!("OUT_DIR"), "/areas/", $feature, ".rs"));
                }
                #[doc = concat!("The `/api/", $feature, "/` operations, inside one client \
                    organization: one method per operation. Get one from [`OrgClient::",
                    stringify!($name), "`](crate::OrgClient::", stringify!($name), ").")]
                pub use generated::Client as $client;
                pub use generated::{operations, types};
            }
        )*
        impl OrgClient {
            $(
                #[cfg(feature = $feature)]
                #[doc = concat!("The `/api/", $feature, "/` operations, inside this handle's \
                    client organization.")]
                pub fn $name(&self) -> $name::$client {
                    $name::$client::new_with_client(&self.base_url, self.http.clone(), self.state.clone())
                }
            )*
        }
    };
}

every_area!(area_modules);
