//! A stored assessment state this version does not know (a newer version wrote it) is
//! reported where it is met, never read as some other state and never a panic: the reviewer's
//! page says what it found (the candidate's link only that something went wrong), and a job
//! that meets it fails its attempt saying so on Events.

use std::time::Duration;

use diesel::prelude::*;
use leverbridge::db::schema::assessments;
use leverbridge::db::DbError;

use crate::both_backends;
use crate::helpers::Backend;
use crate::lever_world::{connected_with, TAG, TRIGGER};

both_backends!(an_unknown_stored_assessment_state_is_reported_where_it_is_met,);

async fn an_unknown_stored_assessment_state_is_reported_where_it_is_met(backend: Backend) {
    let (app, lever) = connected_with(backend, |s| {
        s.tuning.job_backoff_base = Duration::from_secs(3600);
    })
    .await;
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    app.drain().await;
    let (id, token) = app
        .db
        .run(|conn| {
            diesel::update(assessments::table)
                .set(assessments::state.eq("paused"))
                .execute(conn)?;
            assessments::table
                .select((assessments::id, assessments::token))
                .first::<(String, String)>(conn)
                .map_err(DbError::from)
        })
        .await
        .unwrap();
    let said = "database holds an unknown assessment state `paused`";

    let page = app.get(&format!("/orgs/acme/assessments/{id}")).await;
    assert_eq!(page.status(), 500);
    let page = page.text().await.unwrap();
    assert!(page.contains(said), "{page}");
    assert!(page.contains("The database holds an unknown"), "{page}");
    assert!(
        page.contains("A newer version may have written it"),
        "{page}"
    );

    // The candidate is told something went wrong, not what the database holds.
    let link = app.get(&format!("/a/{token}")).await;
    assert_eq!(link.status(), 500);
    let link = link.text().await.unwrap();
    assert!(!link.contains("paused"), "{link}");

    // Moved away and back: the stage change meets the assessment, fails its attempt and says
    // why; it is retried later.
    lever.move_to(&ada, "Recruiter screen").await;
    lever.move_to(&ada, TRIGGER).await;
    app.drain().await;
    let events = app.get_html("/orgs/acme/events").await;
    assert!(events.contains("Attempt 1 failed ("), "{events}");
    assert!(events.contains(said), "{events}");
}
