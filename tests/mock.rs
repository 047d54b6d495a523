//! The `test-util` mock helpers used the way a consumer would: some code of
//! "theirs" that calls the API, tested offline against httpmock with the
//! typed helpers, through nothing but the crate's public surface.

use rhombus_partner::mock::{MockServer, MockServerExt};
use rhombus_partner::types::{
    DeviceLicenseType, LicenseGetDeviceLicensesForClientOrgWsRequest,
    LicenseGetDeviceLicensesForClientOrgWsResponse, PartnerGetClientSummaryInfoWsRequest,
    PartnerGetClientSummaryInfoWsResponse,
};
use rhombus_partner::{Client, Error};

// ---------------------------------------------------------------------------
// The consumer's code under test
// ---------------------------------------------------------------------------

/// A line of a consumer's billing report: locations and trial licenses of
/// one client organization.
#[derive(Debug, PartialEq)]
struct BillingLine {
    locations: i32,
    trial_licenses: usize,
}

async fn billing_line(client: &Client, org: &str) -> Result<BillingLine, Error> {
    let summary = client
        .get_client_summary_info(
            &PartnerGetClientSummaryInfoWsRequest::default().with_client_org_uuid(org),
        )
        .await?;
    let licenses = client
        .get_device_licenses_for_org(
            &LicenseGetDeviceLicensesForClientOrgWsRequest::default().with_org_uuid(org),
        )
        .await?;
    Ok(BillingLine {
        locations: summary.location_count.unwrap_or(0),
        trial_licenses: licenses
            .device_licenses
            .unwrap_or_default()
            .iter()
            .filter(|license| license.trial == Some(true))
            .count(),
    })
}

// ---------------------------------------------------------------------------
// The consumer's tests
// ---------------------------------------------------------------------------

const ORG: &str = "cLiEnToRgUuId0000000001";

fn client_for(server: &MockServer) -> Client {
    Client::builder()
        .api_key("test-key")
        .base_url(server.base_url())
        .build()
        .expect("a client for the mock server")
}

fn license(trial: bool) -> DeviceLicenseType {
    DeviceLicenseType::default().with_trial(trial)
}

#[tokio::test]
async fn billing_line_counts_locations_and_trials() {
    let server = MockServer::start_async().await;
    let summary = server.get_client_summary_info(|when, then| {
        when.body(&PartnerGetClientSummaryInfoWsRequest::default().with_client_org_uuid(ORG));
        then.ok(&PartnerGetClientSummaryInfoWsResponse::default().with_location_count(4));
    });
    let licenses = server.get_device_licenses_for_org(|when, then| {
        // The typed helpers cover the body; the inner httpmock `When` any
        // other detail, here the headers: a partner call names its client
        // in the body, never in `x-auth-org`.
        when.body(&LicenseGetDeviceLicensesForClientOrgWsRequest::default().with_org_uuid(ORG))
            .into_inner()
            .header_missing("x-auth-org")
            .header("x-auth-apikey", "test-key");
        then.ok(&LicenseGetDeviceLicensesForClientOrgWsResponse::default()
            .with_device_licenses(vec![license(true), license(false), license(true)]));
    });

    let line = billing_line(&client_for(&server), ORG)
        .await
        .expect("the mocked calls succeed");

    assert_eq!(
        line,
        BillingLine {
            locations: 4,
            trial_licenses: 2
        }
    );
    summary.assert_async().await;
    licenses.assert_async().await;
}

#[tokio::test]
async fn a_request_the_mock_does_not_expect_is_an_error() {
    let server = MockServer::start_async().await;
    let summary = server.get_client_summary_info(|when, then| {
        when.body(
            &PartnerGetClientSummaryInfoWsRequest::default().with_client_org_uuid("another org"),
        );
        then.ok(&PartnerGetClientSummaryInfoWsResponse::default());
    });

    let error = billing_line(&client_for(&server), ORG)
        .await
        .expect_err("no mock matches this org");

    // httpmock answers an unmatched request with 404, which the client
    // reports as an HTTP error.
    assert!(
        matches!(&error, Error::Http { status, .. } if *status == 404),
        "{error:?}"
    );
    summary.assert_calls_async(0).await;
}

#[tokio::test]
async fn an_undocumented_status_is_mocked_through_the_inner_then() {
    let server = MockServer::start_async().await;
    server.get_client_summary_info(|_, then| {
        then.into_inner().status(401).body("Unauthorized");
    });

    let error = billing_line(&client_for(&server), ORG)
        .await
        .expect_err("the mock refuses");

    assert!(matches!(&error, Error::Unauthorized { .. }), "{error:?}");
}

// ---------------------------------------------------------------------------
// What a helper matches, and the re-exported httpmock
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_helper_matches_its_operation_only() {
    let server = MockServer::start_async().await;
    let summary = server.get_client_summary_info(|_, then| {
        then.ok(&PartnerGetClientSummaryInfoWsResponse::default());
    });
    let client = client_for(&server);

    // Another operation, same method (POST), another path: not matched.
    let other = client
        .get_device_licenses_for_org(&LicenseGetDeviceLicensesForClientOrgWsRequest::default())
        .await
        .expect_err("no mock for this operation");
    assert!(
        matches!(&other, Error::Http { status, .. } if *status == 404),
        "{other:?}"
    );
    summary.assert_calls_async(0).await;

    // The operation's path with another method: not matched either.
    let url = format!("{}/api/partner/getClientSummaryInfo", server.base_url());
    let get = reqwest::Client::new()
        .get(&url)
        .send()
        .await
        .expect("an answer");
    assert_eq!(get.status(), 404);
    summary.assert_calls_async(0).await;

    // The operation itself is.
    client
        .get_client_summary_info(&PartnerGetClientSummaryInfoWsRequest::default())
        .await
        .expect("matched");
    summary.assert_calls_async(1).await;
}

/// The re-exported httpmock, named only through `rhombus_partner::mock`:
/// a consumer needs no dependency of its own on it.
#[tokio::test]
async fn the_reexported_httpmock_is_enough_for_a_plain_mock() {
    use rhombus_partner::mock::httpmock::Method;

    let server = MockServer::start_async().await;
    let plain = server.mock(|when, then| {
        when.method(Method::POST)
            .path("/api/partner/getClientSummaryInfo")
            .header("x-auth-apikey", "test-key");
        then.status(200)
            .header("content-type", "application/json")
            .body(r#"{"locationCount": 9}"#);
    });
    let summary = client_for(&server)
        .get_client_summary_info(&PartnerGetClientSummaryInfoWsRequest::default())
        .await
        .expect("matched");
    assert_eq!(summary.location_count, Some(9));
    plain.assert_async().await;
}

/// The area helpers (`mock::areas::<area>`), with an org-level call made
/// through `for_org`: the mock matches the org header it must carry.
#[cfg(feature = "door")]
#[tokio::test]
// Generated types are built field by field: they may become non-exhaustive.
#[allow(clippy::field_reassign_with_default)]
async fn an_area_mock_answers_a_call_inside_a_client_org() {
    use rhombus_partner::areas::door::types::{
        DoorGetMinimalDoorStatesWsResponse, DoorMinimalDoorStateType,
    };
    use rhombus_partner::mock::areas::door::MockServerExt as _;

    let server = MockServer::start_async().await;
    let doors = server.get_minimal_door_state_list(|when, then| {
        when.into_inner().header("x-auth-org", ORG);
        let mut door = DoorMinimalDoorStateType::default();
        door.sensor_uuid = Some("door-1".to_owned());
        let mut answer = DoorGetMinimalDoorStatesWsResponse::default();
        answer.door_states = Some(vec![door]);
        then.ok(&answer);
    });
    let states = client_for(&server)
        .for_org(ORG)
        .expect("a valid org")
        .door()
        .get_minimal_door_state_list(&Default::default())
        .await
        .expect("the mock answers");
    assert_eq!(states.door_states.map(|d| d.len()), Some(1));
    doors.assert_async().await;
}
