//! The job workers and the queue they work: failed jobs show when they run again.

use std::time::Duration;

use diesel::prelude::*;
use leverbridge::db::schema::jobs;
use leverbridge::db::DbError;
use leverbridge::jobs::queue::Job;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{Backend, TestApp};
use crate::lever_world::{connected_with, TAG, TRIGGER};

both_backends!(the_events_page_shows_when_a_failed_job_runs_again);

/// The only job in the database.
async fn the_job(app: &TestApp) -> Job {
    app.db
        .run(|conn| {
            jobs::table
                .select(Job::as_select())
                .first(conn)
                .map_err(DbError::from)
        })
        .await
        .expect("one job")
}

/// A job that failed says on Events when it runs again.
async fn the_events_page_shows_when_a_failed_job_runs_again(backend: Backend) {
    let (app, lever) = connected_with(backend, |settings| {
        settings.tuning.job_backoff_base = Duration::from_secs(3600);
    })
    .await;
    lever.set_faults(json!({"error5xxRate": 1.0})).await;
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    assert_eq!(app.drain().await, 1);
    let job = the_job(&app).await;
    assert_eq!((job.state.as_str(), job.attempts), ("queued", 1));
    let expected = format!(
        "Next attempt (2 of 3) at {} UTC.",
        job.run_at.format("%-d %b %Y %H:%M:%S")
    );
    let events = app.get_html("/orgs/acme/events").await;
    assert!(events.contains("Attempt 1 failed"), "{events}");
    assert!(events.contains(&expected), "Events lacks “{expected}”");
}
