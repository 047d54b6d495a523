//! The client-org API: one module per area (the path segment after
//! `/api/`), each behind the cargo feature of the same name and generated
//! from `spec/areas/<area>.json`, and [`OrgClient`], the only way to reach
//! them: a partner acting inside one of its client organizations.

use crate::client::ClientState;
use crate::error::BuildError;
use crate::generated::Client;
use crate::retry::RetryPolicy;

/// Calls `$then!` with every area, as `"feature" module` pairs: the one list
/// the area modules, their accessors and their mock helpers are made from.
/// `tests/areas.rs` checks it against the features and the fragments.
macro_rules! every_area {
    ($then:ident) => {
        $then! {
            "accesscontrol" accesscontrol,
            "alertmonitoring" alertmonitoring,
            "audiogateway" audiogateway,
            "audioplayback" audioplayback,
            "badgereader" badgereader,
            "ble" ble,
            "button" button,
            "camera" camera,
            "climate" climate,
            "component" component,
            "customer" customer,
            "developer" developer,
            "deviceconfig" deviceconfig,
            "door" door,
            "doorbellcamera" doorbellcamera,
            "doorcontroller" doorcontroller,
            "event" event,
            "eventSearch" event_search,
            "export" export,
            "faceRecognition" face_recognition,
            "feature" feature,
            "help" help,
            "integrations" integrations,
            "keypad" keypad,
            "kiosk" kiosk,
            "license" license,
            "location" location,
            "logistics" logistics,
            "mediadevice" mediadevice,
            "oauth" oauth,
            "occupancy" occupancy,
            "org" org,
            "permission" permission,
            "policy" policy,
            "proximity" proximity,
            "rapidsos" rapidsos,
            "relay" relay,
            "report" report,
            "rules" rules,
            "rulesRecords" rules_records,
            "scenequery" scenequery,
            "schedule" schedule,
            "search" search,
            "sensors" sensors,
            "tvos" tvos,
            "user" user,
            "vehicle" vehicle,
            "video" video,
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

/// Declares each area's module, with the generated client inside, and its
/// accessor on [`OrgClient`], each under the area's feature.
macro_rules! area_modules {
    ($($feature:literal $name:ident,)*) => {
        $(
            #[cfg(feature = $feature)]
            #[doc = concat!("The client-org API's `/api/", $feature, "/` operations (feature `",
                $feature, "`), generated from `spec/areas/", $feature, ".json`; reached through \
                [`OrgClient::", stringify!($name), "`](crate::OrgClient::", stringify!($name), ").")]
            #[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
            pub mod $name {
                include!(concat!(env!("OUT_DIR"), "/areas/", $feature, ".rs"));
            }
        )*
        impl OrgClient {
            $(
                #[cfg(feature = $feature)]
                #[doc = concat!("The `/api/", $feature, "/` operations, inside this handle's \
                    client organization.")]
                pub fn $name(&self) -> $name::Client {
                    $name::Client::new_with_client(&self.base_url, self.http.clone(), self.state.clone())
                }
            )*
        }
    };
}

every_area!(area_modules);
