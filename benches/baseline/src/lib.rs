//! The benchmarks' baseline: `getClientSummaryInfo` and
//! `getDeviceLicensesForOrg` written by hand with `reqwest` and `serde`,
//! sending the same headers and body as the generated client. It is what a
//! careful user would write without the crate, and what the crate's build
//! cost, per-call cost and decoding cost are measured against.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};

/// The `api-version` header the generated client sends with every request
/// (the spec's `info.version`); sent here too, so that both send the same
/// bytes. The benchmarks check that the two agree.
pub const API_VERSION: &str = "1.0";

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("request failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("unexpected status {0}")]
    Status(reqwest::StatusCode),
}

/// A client with the auth headers preset.
#[derive(Clone, Debug)]
pub struct Client {
    base_url: String,
    http: reqwest::Client,
    headers: HeaderMap,
}

impl Client {
    /// `http` is configured by the caller, so both sides of a comparison
    /// can share one configuration.
    pub fn new(base_url: &str, http: reqwest::Client, key: &str) -> Result<Self, Error> {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-auth-scheme",
            HeaderValue::from_static("partner-api-token"),
        );
        let mut key = HeaderValue::from_str(key)
            .map_err(|_| Error::Status(reqwest::StatusCode::BAD_REQUEST))?;
        key.set_sensitive(true);
        headers.insert("x-auth-apikey", key);
        headers.insert("api-version", HeaderValue::from_static(API_VERSION));
        Ok(Client {
            base_url: base_url.trim_end_matches('/').to_owned(),
            http,
            headers,
        })
    }

    async fn post<B: Serialize, R: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<R, Error> {
        let response = self
            .http
            .post(format!("{}{path}", self.base_url))
            .headers(self.headers.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .json(body)
            .send()
            .await?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(Error::Status(response.status()));
        }
        Ok(response.json().await?)
    }

    /// `POST /api/partner/getClientSummaryInfo`.
    pub async fn get_client_summary_info(
        &self,
        body: &SummaryRequest,
    ) -> Result<SummaryResponse, Error> {
        self.post("/api/partner/getClientSummaryInfo", body).await
    }

    /// `POST /api/partner/getDeviceLicensesForOrg`.
    pub async fn get_device_licenses_for_org(
        &self,
        body: &LicensesRequest,
    ) -> Result<LicensesResponse, Error> {
        self.post("/api/partner/getDeviceLicensesForOrg", body)
            .await
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SummaryRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_org_uuid: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SummaryResponse {
    #[serde(default)]
    pub account_owner: Option<OrgUser>,
    #[serde(default)]
    pub client_device_status_map:
        Option<BTreeMap<String, serde_json::Map<String, serde_json::Value>>>,
    #[serde(default)]
    pub error: Option<bool>,
    #[serde(default)]
    pub error_msg: Option<String>,
    #[serde(default, rename = "licenseV2Enabled")]
    pub license_v2_enabled: Option<bool>,
    #[serde(default)]
    pub location_count: Option<i32>,
    #[serde(default)]
    pub manually_send_license_expiration_email_enabled: Option<bool>,
    #[serde(default)]
    pub recent_policy_alert_count: Option<i32>,
    #[serde(default)]
    pub warning_msg: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgUser {
    #[serde(default)]
    pub accessible_rhombus_apps: Option<Vec<String>>,
    #[serde(default)]
    pub account_owner: Option<bool>,
    #[serde(default)]
    pub bypass_saml: Option<bool>,
    #[serde(default)]
    pub change_password_on_login: Option<bool>,
    #[serde(default)]
    pub created_at_millis: Option<i64>,
    #[serde(default)]
    pub deleted: Option<bool>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub email_case_sensitive: Option<String>,
    #[serde(default)]
    pub email_verified: Option<bool>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub mfa_enabled: Option<bool>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub org_user_customization_flags: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    pub org_uuid: Option<String>,
    #[serde(default)]
    pub password_set: Option<bool>,
    #[serde(default)]
    pub rhombus_user_uuid: Option<String>,
    #[serde(default)]
    pub updated_at_millis: Option<i64>,
    #[serde(default)]
    pub uuid: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LicensesRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_uuid: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LicensesResponse {
    #[serde(default)]
    pub device_licenses: Option<Vec<DeviceLicense>>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceLicense {
    #[serde(default)]
    pub claim_key_uuid: Option<String>,
    #[serde(default)]
    pub created_on: Option<DateTime<Utc>>,
    #[serde(default)]
    pub device_uuid: Option<String>,
    #[serde(default)]
    pub features: Option<Vec<LicenseFeature>>,
    #[serde(default)]
    pub first_assigned_date: Option<DateTime<Utc>>,
    #[serde(default)]
    pub max_delete_date: Option<DateTime<Utc>>,
    #[serde(default)]
    pub org_uuid: Option<String>,
    #[serde(default)]
    pub prior_claim_key_uuid: Option<String>,
    #[serde(default)]
    pub product_code: Option<String>,
    #[serde(default)]
    pub trial: Option<bool>,
    #[serde(default)]
    pub updated_on: Option<DateTime<Utc>>,
    #[serde(default)]
    pub uuid: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LicenseFeature {
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub name: Option<String>,
}
