//! The partner report example's logic against its fake server: the demo
//! partner's dozen clients, one refusing access, licenses ending soon.
//! `.ci/run` also runs the example itself.

#[path = "../examples/support/mod.rs"]
mod support;

use chrono::{Duration, Utc};
use rhombus_partner::Client;
use support::demo;
use support::report::{self, ClientFacts};

async fn demo_report(max_in_flight: usize) -> (report::Report, Vec<(usize, usize)>) {
    let server = support::start().await;
    let client = Client::builder()
        .api_key(support::DEMO_API_KEY)
        .base_url(server.uri())
        .max_concurrent_requests(max_in_flight)
        .build()
        .unwrap();
    let mut progress = Vec::new();
    let report = report::gather(&client, Utc::now(), |done, total| {
        progress.push((done, total))
    })
    .await
    .expect("the clients listing succeeds");
    (report, progress)
}

#[tokio::test]
async fn every_client_has_a_row_sorted_with_totals() {
    let (report, progress) = demo_report(4).await;
    assert_eq!(report.rows.len(), demo::CLIENTS.len());
    assert_eq!(report.rows.len(), 12);
    let names: Vec<&str> = report.rows.iter().map(|r| r.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(names, sorted);
    // More clients than PROGRESS_ABOVE: a progress count per client.
    assert_eq!(progress, (1..=12).map(|n| (n, 12)).collect::<Vec<_>>());

    // Totals: the demo data summed over the clients that answered.
    let answered = demo::CLIENTS.iter().filter(|c| c.access_allowed);
    let mut expected = ClientFacts::default();
    for c in answered {
        expected.locations += i64::from(c.locations);
        expected.policy_alerts += i64::from(c.policy_alerts);
        for (_, connected, operational, total) in c.devices {
            expected.connected += i64::from(*connected);
            expected.operational += i64::from(*operational);
            expected.total += i64::from(*total);
        }
    }
    let totals = report.totals();
    assert_eq!(
        (
            totals.locations,
            totals.connected,
            totals.operational,
            totals.total,
            totals.policy_alerts
        ),
        (
            expected.locations,
            expected.connected,
            expected.operational,
            expected.total,
            expected.policy_alerts
        )
    );

    let text = report.render();
    assert!(text.contains("12 client organizations"), "{text}");
    let total_line = text
        .lines()
        .find(|l| l.starts_with("total (11 reported)"))
        .unwrap_or_else(|| panic!("no totals line:\n{text}"));
    let numbers: Vec<i64> = total_line
        .split_whitespace()
        .skip(3)
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(
        numbers,
        [
            expected.locations,
            expected.connected,
            expected.operational,
            expected.total,
            expected.policy_alerts,
            4,
            5
        ]
    );
    println!("{text}");
}

#[tokio::test]
async fn a_refusing_client_gets_an_error_line_and_the_others_are_reported() {
    let (report, _) = demo_report(32).await;
    let failed: Vec<_> = report.rows.iter().filter(|r| r.outcome.is_err()).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].uuid, demo::REFUSING);
    let error = failed[0].outcome.as_ref().unwrap_err();
    assert!(error.contains("403"), "{error}");
    let text = report.render();
    let line = text
        .lines()
        .find(|l| l.starts_with("Granite Manufacturing"))
        .expect("the refusing client has a row");
    assert!(line.contains("error: ") && line.contains("403"), "{line}");
    assert!(text.contains("1 client(s) could not be reported"), "{text}");
}

#[tokio::test]
async fn licenses_ending_within_30_days_and_trials_are_listed_soonest_first() {
    let (report, _) = demo_report(32).await;
    let expiring = report
        .rows
        .iter()
        .find(|r| r.uuid == demo::EXPIRING)
        .unwrap();
    let facts = expiring.outcome.as_ref().unwrap();
    // Two end in 6 days, one in 21; the one ending in 700 days is not listed.
    let days: Vec<i64> = facts
        .flagged
        .iter()
        .map(|l| (l.ends.unwrap() - report.generated).num_days())
        .collect();
    assert_eq!(days.len(), 3, "{facts:#?}");
    assert!(days.iter().all(|d| (0..=30).contains(d)), "{days:?}");

    let totals = report.totals();
    assert_eq!(totals.flagged.iter().filter(|l| l.trial).count(), 4);
    assert_eq!(
        totals.flagged.iter().filter(|l| l.ends.is_some()).count(),
        5
    );
    let text = report.render();
    let section: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("Licenses to act on"))
        .skip(1)
        .collect();
    assert_eq!(section.len(), 7, "{text}");
    assert!(section[0].starts_with("  Delta Storage Units"), "{text}");
    let soon = (report.generated + Duration::days(6))
        .date_naive()
        .to_string();
    assert!(section[0].contains(&format!("ends {soon}")), "{text}");
    assert!(
        section[6].contains("trial") && section[6].contains("ends later"),
        "{text}"
    );
}

/// With one request in flight at a time the report is the same: the limit
/// bounds the calls, it does not lose any.
#[tokio::test]
async fn the_in_flight_limit_changes_nothing_in_the_result() {
    let (one, _) = demo_report(1).await;
    let (many, _) = demo_report(64).await;
    let strip = |r: &report::Report| -> Vec<String> {
        r.rows
            .iter()
            .map(|row| {
                format!(
                    "{} {:?}",
                    row.name,
                    row.outcome.as_ref().map(|f| (f.total, f.flagged.len()))
                )
            })
            .collect()
    };
    assert_eq!(strip(&one), strip(&many));
}
