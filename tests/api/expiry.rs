//! Assessments that run out expire on their own: an invitation not started by its date, and a
//! started test whose time ran out with nothing saved. Lever then shows `{prefix}: Expired` in
//! place of the progress tag and a note saying why, once. Time moves on an adjustable clock.

use chrono::Duration;
use leverbridge::clock::Clock;
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{Backend, TestApp};
use crate::lever_view::{notes, tags};
use crate::lever_world::{connected_with, LeverAccount, TAG, TRIGGER};

both_backends!(
    an_invitation_never_started_expires_and_lever_says_so,
    a_test_whose_time_ran_out_with_nothing_saved_expires,
);

fn expiry_notes(held: &Value) -> Vec<String> {
    notes(held)
        .iter()
        .map(|n| n.to_string())
        .filter(|n| n.contains("Expired ("))
        .collect()
}

async fn world(backend: Backend) -> (TestApp, LeverAccount, Clock) {
    let clock = Clock::adjustable();
    let for_app = clock.clone();
    let (app, lever) = connected_with(backend, move |s| s.tuning.clock = for_app).await;
    (app, lever, clock)
}

/// Invites a tagged candidate; returns their opportunity id and link path.
async fn invite(app: &TestApp, lever: &LeverAccount, name: &str) -> (String, String) {
    let id = lever.candidate(name, &[TAG]).await;
    lever.move_to(&id, TRIGGER).await;
    assert_eq!(app.drain().await, 1);
    let link = lever.opportunity(&id).await["links"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let path = link.strip_prefix(&app.address).unwrap().to_owned();
    (id, path)
}

async fn an_invitation_never_started_expires_and_lever_says_so(backend: Backend) {
    let (app, lever, clock) = world(backend).await;
    let (ada, _) = invite(&app, &lever, "Ada Lovelace").await;
    // Not yet: six days on, the invitation (7 days to start) still stands.
    clock.advance(Duration::days(6));
    assert_eq!(app.jobs.expire_due().await.unwrap(), 0);
    clock.advance(Duration::days(2));
    assert_eq!(app.jobs.expire_due().await.unwrap(), 1);
    assert_eq!(app.jobs.expire_due().await.unwrap(), 0, "once");
    assert_eq!(app.drain().await, 1, "the write-back");
    let held = lever.opportunity(&ada).await;
    let tags = tags(&held);
    assert!(
        tags.contains(&"leverbridge: Expired".to_owned()),
        "{tags:?}"
    );
    assert!(
        !tags.contains(&"leverbridge: Candidate Invited".to_owned()),
        "{tags:?}"
    );
    let notes = expiry_notes(&held);
    assert_eq!(notes.len(), 1, "{held}");
    assert!(notes[0].contains("it was not started by"), "{}", notes[0]);
    // A rerun writes nothing twice.
    assert_eq!(app.drain().await, 0);
    // Days have passed on the server's clock: the admin's session ended, so they sign in again.
    app.login("admin@acme.test").await;
    let page = app.get_html("/orgs/acme/assessments?state=expired").await;
    assert!(page.contains("Ada Lovelace"), "{page}");
}

async fn a_test_whose_time_ran_out_with_nothing_saved_expires(backend: Backend) {
    let (app, lever, clock) = world(backend).await;
    let (grace, path) = invite(&app, &lever, "Grace Hopper").await;
    let started = app
        .client
        .post(app.url(&format!("{path}/start")))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 303);
    assert_eq!(app.drain().await, 1, "the In Progress tag");
    clock.advance(Duration::minutes(121));
    assert_eq!(app.jobs.expire_due().await.unwrap(), 1);
    assert_eq!(app.drain().await, 1);
    let held = lever.opportunity(&grace).await;
    let tags = tags(&held);
    assert!(
        tags.contains(&"leverbridge: Expired".to_owned()),
        "{tags:?}"
    );
    assert!(
        !tags.contains(&"leverbridge: Assessment in Progress".to_owned()),
        "{tags:?}"
    );
    let notes = expiry_notes(&held);
    assert_eq!(notes.len(), 1, "{held}");
    assert!(
        notes[0].contains("the time ran out with no code saved"),
        "{}",
        notes[0]
    );
}
