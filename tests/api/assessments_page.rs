//! The Assessments page: every assessment with its candidate, configuration and state, newest
//! first, filtered by state, a page at a time from a cursor; and the Overview's funnel.

use chrono::Duration;
use leverbridge::db::assessments::Assessment;
use leverbridge::db::{self, DbError};
use leverbridge::domain::AssessmentState;

use crate::both_backends;
use crate::database::Backend;
use crate::lever_world::{connected, TAG, TRIGGER};

both_backends!(
    assessments_are_listed_newest_first_by_state_a_page_at_a_time,
    the_overview_draws_the_funnel_and_recent_assessments,
);

async fn assessments_are_listed_newest_first_by_state_a_page_at_a_time(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    assert_eq!(app.drain().await, 1);
    let page = app.get_html("/orgs/acme/assessments").await;
    assert!(page.contains("<strong>Ada Lovelace</strong>"), "{page}");
    assert!(page.contains("Phone interview · coding-test"), "{page}");
    assert!(page.contains("Rate limiter") && page.contains(">Invited</span>"));

    // 119 more, a minute apart, each older than the last.
    let base: Assessment = app
        .db
        .run(move |conn| {
            Ok::<_, DbError>(db::assessments::by_opportunity_any(conn, &ada)?.expect("created"))
        })
        .await
        .unwrap();
    let seeded = base.clone();
    app.db
        .run(move |conn| -> Result<(), DbError> {
            for n in 1..120 {
                let copy = Assessment {
                    id: db::new_id(),
                    token: format!("seeded-token-{n}"),
                    opportunity_id: format!("seeded-opportunity-{n}"),
                    candidate_name: format!("Candidate {n:03}"),
                    created_at: seeded.created_at - Duration::minutes(n),
                    state: if n % 2 == 0 {
                        AssessmentState::Invited
                    } else {
                        AssessmentState::Expired
                    },
                    ..seeded.clone()
                };
                db::assessments::create_once(conn, &copy)?;
            }
            Ok(())
        })
        .await
        .unwrap();

    // Every assessment exactly once, newest first, across pages.
    let mut seen = Vec::new();
    let mut path = "/orgs/acme/assessments".to_owned();
    loop {
        let page = app.get_html(&path).await;
        seen.extend(
            page.match_indices("<td><strong>").map(|(at, _)| {
                page[at + 12..at + 12 + page[at + 12..].find('<').unwrap()].to_owned()
            }),
        );
        let Some(at) = page.find("&amp;after=") else {
            break;
        };
        let cursor = &page[at + 11..at + 11 + page[at + 11..].find('"').unwrap()];
        path = format!("/orgs/acme/assessments?state=&after={cursor}");
    }
    let mut expected = vec!["Ada Lovelace".to_owned()];
    expected.extend((1..120).map(|n| format!("Candidate {n:03}")));
    assert_eq!(seen, expected);

    // Filtered by state, with the count of each.
    let expired = app.get_html("/orgs/acme/assessments?state=expired").await;
    assert_eq!(expired.matches("<td><strong>").count(), 50, "a full page");
    assert!(!expired.contains("Ada Lovelace"));
    assert!(
        expired.contains(r#"Expired <span class="filter-count">60</span>"#),
        "{expired}"
    );
    assert!(expired.contains(r#"All <span class="filter-count">120</span>"#));
    let passed = app.get_html("/orgs/acme/assessments?state=passed").await;
    assert!(passed.contains("No assessment is in this state."));

    // Bad input is refused with a message.
    for bad in [
        "?state=finished",
        "?after=yesterday",
        "?after=20261201T150405.000000_",
    ] {
        let response = app.get(&format!("/orgs/acme/assessments{bad}")).await;
        assert_eq!(response.status(), 400, "{bad}");
    }

    // Reviewers read it too.
    app.create_user("reviewer@acme.test", Some("acme"), "reviewer")
        .await;
    let reviewer = app.as_new_session().await;
    reviewer.login("reviewer@acme.test").await;
    let page = reviewer.get_html("/orgs/acme/assessments").await;
    assert!(page.contains("Ada Lovelace") && page.contains(">Assessments</a>"));
}

async fn the_overview_draws_the_funnel_and_recent_assessments(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let empty = app.get_html("/orgs/acme").await;
    assert!(empty.contains("Assessment funnel") && empty.contains("None yet."));
    for name in ["Ada Lovelace", "Grace Hopper"] {
        let id = lever.candidate(name, &[TAG]).await;
        lever.move_to(&id, TRIGGER).await;
    }
    assert_eq!(app.drain().await, 2);
    let page = app.get_html("/orgs/acme").await;
    let funnel = &page[page.find("<ol class=\"funnel\"").expect("the funnel")..];
    let funnel = &funnel[..funnel.find("</ol>").unwrap()];
    // A row per step, its words page text (not drawn in an SVG that shrinks them).
    assert_eq!(
        funnel.matches("<li class=\"funnel-row\">").count(),
        6,
        "{funnel}"
    );
    assert!(!funnel.contains("<text"), "{funnel}");
    // Invited: both, a full bar; nothing further yet.
    assert!(
        funnel.contains(r#"<span class="funnel-label">Invited</span>"#),
        "{funnel}"
    );
    assert!(
        funnel.contains(r#"<rect class="funnel-fill bar-invited" width="100.0%""#),
        "{funnel}"
    );
    assert!(funnel.contains("<strong>2</strong>"), "{funnel}");
    assert_eq!(funnel.matches(r#"width="0.0%""#).count(), 5, "{funnel}");
    assert_eq!(funnel.matches("<strong>0</strong>").count(), 5, "{funnel}");
    assert!(page.contains("Grace Hopper") && page.contains("All assessments"));
}

both_backends!(a_take_home_test_takes_its_terms_from_settings);

async fn a_take_home_test_takes_its_terms_from_settings(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let response = crate::lever_world::save_settings(
        &app,
        &[
            ("default_user_id", lever.default_user.as_str()),
            ("time_limit_minutes", "45"),
            ("days_to_start", "3"),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    assert_eq!(app.drain().await, 1);
    let assessment = app
        .db
        .run(move |conn| {
            Ok::<_, DbError>(db::assessments::by_opportunity_any(conn, &ada)?.expect("created"))
        })
        .await
        .unwrap();
    assert_eq!(assessment.time_limit_minutes, Some(45));
    assert_eq!(
        assessment.start_by,
        Some(assessment.created_at + Duration::days(3))
    );
    let start = app.get_html(&format!("/a/{}", assessment.token)).await;
    assert!(start.contains("45 minutes"), "{start}");
}
