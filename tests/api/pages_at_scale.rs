//! Pages that stay fast as history grows (issue 15, P3): the Events page reads a page from a
//! cursor instead of counting past the ones before it, and the Overview counts only the jobs
//! that are not finished.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use leverbridge::db::schema::{assessments, webhook_events};
use leverbridge::db::webhooks::WebhookEvent;
use leverbridge::db::{self, DbConn};
use leverbridge::domain::DeliveryStatus;
use leverbridge::queue::table::{self as queue, Backoff, NewJob};

use crate::both_backends;
use crate::database::Backend;
use crate::helpers::TestApp;

both_backends!(
    events_page_from_cursors_newer_and_older,
    events_page_links_that_are_not_cursors,
    overview_counts_follow_jobs_through_their_states,
);

fn acme_id(conn: &mut DbConn) -> String {
    db::orgs::find_by_slug(conn, "acme").unwrap().unwrap().id
}

/// Stores deliveries `opp-{from}`…`opp-{to - 1}` for acme, each later than the one before,
/// except that `opp-030`…`opp-039` arrived in the same microsecond (so that the first page ends
/// among them).
fn store_events(app: &TestApp, numbers: std::ops::Range<usize>) {
    let mut conn = app.db.get().unwrap();
    let org_id = acme_id(&mut conn);
    let start = NaiveDateTime::parse_from_str("2026-12-07 09:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
    for n in numbers {
        let second = if (30..40).contains(&n) { 30 } else { n as i64 };
        let event = WebhookEvent {
            // Ordered like the numbers, for the deliveries of one microsecond.
            id: format!("event-{n:03}"),
            org_id: org_id.clone(),
            received_at: start + chrono::Duration::seconds(second),
            event: "candidateStageChange".into(),
            token: None,
            triggered_at: None,
            opportunity_id: Some(format!("opp-{n:03}")),
            to_stage_id: None,
            signature_valid: true,
            status: DeliveryStatus::Ignored,
            outcome: "No configuration fires at this stage.".into(),
            configuration_id: None,
            body: "{}".into(),
            candidate_name: None,
        };
        diesel::insert_into(webhook_events::table)
            .values(&event)
            .execute(&mut *conn)
            .unwrap();
    }
}

/// The deliveries a page shows, by number, in order.
fn shown(html: &str) -> Vec<usize> {
    html.match_indices("opp-")
        .filter_map(|(at, _)| html.get(at + 4..at + 7)?.parse().ok())
        .collect()
}

/// The target of the pagination link labelled `label`, if the page has one.
fn link(html: &str, label: &str) -> Option<String> {
    let nav = &html[html.find("<nav class=\"pagination\">")?..];
    let nav = &nav[..nav.find("</nav>")?];
    let at = nav.find(&format!("\">{label}</a>"))?;
    let start = nav[..at].rfind("href=\"")? + 6;
    Some(nav[start..at].replace("&amp;", "&"))
}

async fn events_page(app: &TestApp, target: &str) -> String {
    let path = match target.strip_prefix('?') {
        Some(query) => format!("/orgs/acme/events?{query}"),
        None => target.to_owned(),
    };
    app.get_html(&path).await
}

async fn events_page_from_cursors_newer_and_older(backend: Backend) {
    let app = TestApp::with_admin(backend).await;
    store_events(&app, 0..60);

    let first = app.get_html("/orgs/acme/events").await;
    assert_eq!(shown(&first), (35..60).rev().collect::<Vec<_>>());
    assert_eq!(link(&first, "← Newer"), None);
    assert_eq!(link(&first, "« Newest"), None);
    assert!(!first.contains("Page 1"), "no page numbers any more");

    let second = events_page(&app, &link(&first, "Older →").expect("an older page")).await;
    assert_eq!(
        shown(&second),
        (10..35).rev().collect::<Vec<_>>(),
        "the page goes on from the tie at the first page's end"
    );
    assert_eq!(
        link(&second, "« Newest").as_deref(),
        Some("/orgs/acme/events")
    );

    let third = events_page(&app, &link(&second, "Older →").unwrap()).await;
    assert_eq!(shown(&third), (0..10).rev().collect::<Vec<_>>());
    assert_eq!(link(&third, "Older →"), None, "the oldest page");

    // Back the way it came: the same pages.
    let back = events_page(&app, &link(&third, "← Newer").unwrap()).await;
    assert_eq!(shown(&back), shown(&second));
    let newest = events_page(&app, &link(&back, "← Newer").unwrap()).await;
    assert_eq!(shown(&newest), shown(&first));
    assert_eq!(link(&newest, "« Newest"), None, "back on the newest page");

    // A link keeps showing its events while newer ones arrive; Newer from a page just below
    // the newest shows a full newest page.
    let second_link = link(&second, "Older →").unwrap();
    store_events(&app, 60..65);
    let later = events_page(&app, &second_link).await;
    assert_eq!(shown(&later), (0..10).rev().collect::<Vec<_>>());
    let top = app.get_html("/orgs/acme/events").await;
    let below = events_page(&app, &link(&top, "Older →").unwrap()).await;
    assert_eq!(shown(&below), (15..40).rev().collect::<Vec<_>>());
    let up = events_page(&app, &link(&below, "← Newer").unwrap()).await;
    assert_eq!(shown(&up), (40..65).rev().collect::<Vec<_>>());
}

async fn events_page_links_that_are_not_cursors(backend: Backend) {
    let app = TestApp::with_admin(backend).await;
    store_events(&app, 0..60);

    // A page number from before the cursors shows what it showed then.
    let second = app.get_html("/orgs/acme/events?page=2").await;
    assert_eq!(shown(&second), (10..35).rev().collect::<Vec<_>>());
    assert!(link(&second, "Older →").unwrap().contains("older_than="));
    let far = app.get_html("/orgs/acme/events?page=1000000").await;
    assert!(far.contains("No older events."), "{far}");
    assert_eq!(link(&far, "« Newest").as_deref(), Some("/orgs/acme/events"));
    let one = app.get_html("/orgs/acme/events?page=1").await;
    assert_eq!(shown(&one), (35..60).rev().collect::<Vec<_>>());

    // A cursor leverbridge did not write is refused, saying what to do.
    for query in [
        "older_than=yesterday",
        "newer_than=20261207T090000.000000_",
        "older_than=20261207T090000.000000_x%27%20OR%201%3D1",
        "older_than=20261207T090000.000000_a&newer_than=20261207T090000.000000_a",
    ] {
        let response = app.get(&format!("/orgs/acme/events?{query}")).await;
        assert_eq!(response.status(), 400, "{query}");
        let body = response.text().await.unwrap();
        assert!(
            body.contains("That page link is not valid"),
            "{query}: {body}"
        );
    }
    // A well-formed cursor older than every event: an empty page that leads back.
    let empty = app
        .get_html("/orgs/acme/events?older_than=20200101T000000.000000_0")
        .await;
    assert!(empty.contains("No older events."));
    assert!(link(&empty, "« Newest").is_some());
}

/// The Overview's figures, from its stat cards.
async fn overview_figures(app: &TestApp) -> (i64, i64, i64) {
    let html = app.get_html("/orgs/acme").await;
    let figure = |label: &str| -> i64 {
        let at = html.find(&format!(">{label}</div>")).expect(label);
        let marker = "<div class=\"stat-value\">";
        let start = at + html[at..].find(marker).unwrap() + marker.len();
        let end = start + html[start..].find('<').unwrap();
        html[start..end].trim().parse().expect("a number")
    };
    (
        figure("Assessments created"),
        figure("Work in progress"),
        figure("Failed deliveries"),
    )
}

async fn overview_counts_follow_jobs_through_their_states(backend: Backend) {
    let app = TestApp::with_admin(backend).await;
    assert_eq!(overview_figures(&app).await, (0, 0, 0));
    let mut conn = app.db.get().unwrap();
    let org_id = acme_id(&mut conn);
    let stage_change = leverbridge::jobs::stage_change::StageChangeJob {
        opportunity_id: "opportunity".into(),
        to_stage_id: "stage".into(),
        send_now: None,
    };
    let new_job = |attempts| NewJob::of(&org_id, &stage_change, attempts);
    // Thirty finished jobs are history: not work in progress.
    for _ in 0..30 {
        let job = leverbridge::queue::enqueue(&mut conn, &new_job(3)).unwrap();
        let claimed = queue::claim(&mut conn, "test", Duration::from_secs(60))
            .unwrap()
            .unwrap();
        assert_eq!(claimed.id, job.id);
        assert!(queue::finish(&mut conn, &claimed, db::now()).unwrap());
    }
    assert_eq!(overview_figures(&app).await, (0, 0, 0));

    let lasting = leverbridge::queue::enqueue(&mut conn, &new_job(3)).unwrap();
    let failing = leverbridge::queue::enqueue(&mut conn, &new_job(1)).unwrap();
    let waiting = leverbridge::queue::enqueue(&mut conn, &new_job(3)).unwrap();
    assert_eq!(overview_figures(&app).await, (0, 3, 0), "queued");

    let claim = |conn: &mut DbConn| {
        queue::claim(conn, "test", Duration::from_secs(60))
            .unwrap()
            .unwrap()
    };
    let running = claim(&mut conn);
    assert_eq!(running.id, lasting.id);
    assert_eq!(overview_figures(&app).await, (0, 3, 0), "running");
    assert!(queue::finish(&mut conn, &running, db::now()).unwrap());
    assert_eq!(overview_figures(&app).await, (0, 2, 0), "done");

    let backoff = Backoff {
        base: Duration::from_secs(1),
        max: Duration::from_secs(1),
    };
    let last_try = claim(&mut conn);
    assert_eq!(last_try.id, failing.id);
    assert_eq!(
        queue::fail(&mut conn, &last_try, "Lever said no", &backoff, db::now()).unwrap(),
        Some(true)
    );
    assert_eq!(overview_figures(&app).await, (0, 1, 1), "dead");

    let parked = claim(&mut conn);
    assert_eq!(parked.id, waiting.id);
    assert!(queue::park(&mut conn, &parked, "no default user", db::now()).unwrap());
    assert_eq!(overview_figures(&app).await, (0, 1, 1), "parked");

    assert!(queue::retry(&mut conn, &org_id, &failing.id).unwrap());
    assert_eq!(overview_figures(&app).await, (0, 2, 0), "retried");

    // Assessments, each counted once whatever its state.
    for (n, state) in ["invited", "passed", "cancelled"].into_iter().enumerate() {
        diesel::insert_into(assessments::table)
            .values((
                assessments::id.eq(db::new_id()),
                assessments::org_id.eq(&org_id),
                assessments::configuration_id.eq("c"),
                assessments::opportunity_id.eq(format!("opp-{n}")),
                assessments::candidate_name.eq("Ada"),
                assessments::token.eq(db::new_id()),
                assessments::pad_kind.eq("live"),
                assessments::tag_name.eq("coding-test"),
                assessments::state.eq(state),
                assessments::event_id.eq(db::new_id()),
                assessments::created_at.eq(db::now()),
                assessments::question_language.eq("python"),
                assessments::starter_code.eq(""),
            ))
            .execute(&mut *conn)
            .unwrap();
    }
    assert_eq!(overview_figures(&app).await, (3, 2, 0), "assessments");

    // The counts per state follow an assessment that moves on, or is deleted.
    let filters = |html: &str| -> Vec<String> {
        html.split("class=\"filter-count\">")
            .skip(1)
            .map(|s| s[..s.find('<').unwrap()].to_owned())
            .collect()
    };
    // All, Invited, Started, Submitted, Passed, Failed, Expired, Cancelled.
    let page = app.get_html("/orgs/acme/assessments").await;
    assert_eq!(filters(&page), ["3", "1", "0", "0", "1", "0", "0", "1"]);
    diesel::update(assessments::table.filter(assessments::state.eq("invited")))
        .set(assessments::state.eq("started"))
        .execute(&mut *conn)
        .unwrap();
    let page = app.get_html("/orgs/acme/assessments").await;
    assert_eq!(filters(&page), ["3", "0", "1", "0", "1", "0", "0", "1"]);
    diesel::delete(assessments::table.filter(assessments::state.eq("passed")))
        .execute(&mut *conn)
        .unwrap();
    let page = app.get_html("/orgs/acme/assessments").await;
    assert_eq!(filters(&page), ["2", "0", "1", "0", "0", "0", "0", "1"]);
    assert_eq!(overview_figures(&app).await, (2, 2, 0));
}
