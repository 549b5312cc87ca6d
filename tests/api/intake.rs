//! The webhook intake under bad input and load: oversized tokens and NUL characters refused at
//! the door, unsigned verifications that claim no token, one bad delivery failing only itself,
//! and a store that falls behind shedding load with 503 and `Retry-After`.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use leverbridge::db::schema::{jobs, webhook_events};
use leverbridge::db::webhooks::WebhookEvent;
use leverbridge::db::{self, Db, DbConn};
use leverbridge::domain::DeliveryStatus;
use leverbridge::intake::{Delivery, Intake, Stored};
use serde_json::{json, Value};

use crate::both_backends;
use crate::database::Backend;
use crate::helpers::{spawn_app_configured, TestApp};
use crate::lever_world::webhook_url_in;

pub(crate) const SIGNING_TOKEN: &str = "stage-change-signature-token";

/// An app whose `acme` admin is signed in, with `SIGNING_TOKEN` saved for stage changes unless
/// `save_token` is false; returns it with its webhook URL.
async fn app_with(backend: Backend, intake_wait: Duration, save_token: bool) -> (TestApp, String) {
    app_configured(backend, |s| s.tuning.intake_wait = intake_wait, save_token).await
}

/// `app_with`, its settings changed by `configure`.
pub(crate) async fn app_configured(
    backend: Backend,
    configure: impl FnOnce(&mut leverbridge::config::Settings),
    save_token: bool,
) -> (TestApp, String) {
    let app = spawn_app_configured(backend, configure).await;
    app.create_user("admin@acme.test", Some("acme"), "admin")
        .await;
    app.login("admin@acme.test").await;
    if save_token {
        let response = app
            .post_form(
                "/orgs/acme/webhooks",
                "/orgs/acme/webhooks/tokens",
                &[("token_candidateStageChange", SIGNING_TOKEN)],
            )
            .await;
        assert_eq!(response.status(), 303);
    }
    let url = webhook_url_in(&app.get_html("/orgs/acme/webhooks").await);
    (app, url)
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A stage change signed with `SIGNING_TOKEN`.
pub(crate) fn stage_change(token: &str, triggered_at: i64, opportunity: &str) -> Value {
    json!({"triggeredAt": triggered_at, "event": "candidateStageChange",
        "data": {"opportunityId": opportunity, "toStageId": "stage-1"},
        "token": token,
        "signature": leverbridge::lever::sign(SIGNING_TOKEN.as_bytes(), token, triggered_at)})
}

pub(crate) async fn deliver(url: &str, body: &Value) -> (u16, Option<String>, Value) {
    let response = reqwest::Client::new()
        .post(url)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry_after, response.json().await.unwrap())
}

async fn count_jobs(db: &Db) -> i64 {
    db.run(|conn| Ok::<_, db::DbError>(jobs::table.count().get_result::<i64>(conn)?))
        .await
        .unwrap()
}

both_backends!(
    an_overlong_token_or_a_nul_character_is_refused_and_queues_nothing,
    an_unsigned_verification_shows_on_the_webhooks_page_and_claims_no_token,
    one_failing_delivery_fails_only_itself_not_its_batch,
    a_store_that_falls_behind_answers_503_with_retry_after,
);

async fn an_overlong_token_or_a_nul_character_is_refused_and_queues_nothing(backend: Backend) {
    let (app, url) = app_with(backend, Duration::from_secs(10), true).await;
    let long = "t".repeat(257);
    let (status, _, body) = deliver(&url, &stage_change(&long, now_ms(), "opp-1")).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("257 characters"),
        "{body}"
    );
    // Exactly at the limit, in any format, is fine.
    let odd = "Z".repeat(255) + "~";
    let (status, _, body) = deliver(&url, &stage_change(&odd, now_ms(), "opp-1")).await;
    assert_eq!(status, 200, "{body}");

    let (status, _, body) = deliver(&url, &stage_change("token-nul", now_ms(), "opp\u{0}1")).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("`data.opportunityId` field contains a NUL character"),
        "{body}"
    );
    assert_eq!(
        count_jobs(&app.db).await,
        1,
        "only the valid delivery queued work"
    );
    let events = app.get_html("/orgs/acme/events").await;
    assert!(events.contains("contains a NUL character"), "{events}");
    assert!(events.contains("257 characters"), "{events}");
}

async fn an_unsigned_verification_shows_on_the_webhooks_page_and_claims_no_token(backend: Backend) {
    let (app, url) = app_with(backend, Duration::from_secs(10), false).await;
    let page = app.get_html("/orgs/acme/webhooks").await;
    assert!(page.contains("Not verified yet"), "{page}");

    // The admin presses Verify before copying any token; Lever's sample names candidateHired.
    let triggered_at = now_ms();
    let token = "verification-and-later-delivery-token";
    let sample = json!({"triggeredAt": triggered_at, "event": "candidateHired", "data": {},
        "token": token, "signature": "0".repeat(64)});
    let (status, _, body) = deliver(&url, &sample).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("verified")));
    let page = app.get_html("/orgs/acme/webhooks").await;
    assert!(page.contains("Verify connection arrived"), "{page}");
    let stage_row = &page[page
        .find("<td><strong>Candidate Stage Change</strong>")
        .unwrap()..];
    let stage_row = &stage_row[..stage_row.find("</tr>").unwrap()];
    assert!(stage_row.contains("Arrived at this URL"), "{stage_row}");

    // Anybody could have sent that unsigned sample: its token must not make a real delivery
    // carrying the same token a "duplicate".
    let response = app
        .post_form(
            "/orgs/acme/webhooks",
            "/orgs/acme/webhooks/tokens",
            &[("token_candidateStageChange", SIGNING_TOKEN)],
        )
        .await;
    assert_eq!(response.status(), 303);
    let (status, _, body) = deliver(&url, &stage_change(token, triggered_at, "opp-1")).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("accepted")),
        "{body}"
    );
    assert_eq!(count_jobs(&app.db).await, 1);
    // A signed delivery's token is claimed: its copy is a duplicate.
    let (_, _, body) = deliver(&url, &stage_change(token, triggered_at, "opp-1")).await;
    assert_eq!(body["status"], "duplicate");
}

/// Holds the write side of the database until dropped: the intake's writers wait behind it.
struct WriteLock {
    release: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WriteLock {
    fn take(db: &Db) -> WriteLock {
        let (locked_tx, locked) = std::sync::mpsc::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let db = db.clone();
        let thread = std::thread::spawn(move || {
            let mut conn = db.get().unwrap();
            let lock = match &mut *conn {
                DbConn::Sqlite(_) => "BEGIN IMMEDIATE",
                DbConn::Pg(_) => "BEGIN; LOCK TABLE webhook_events IN EXCLUSIVE MODE",
            };
            conn.batch_execute(lock).unwrap();
            locked_tx.send(()).unwrap();
            let _ = released.recv();
            conn.batch_execute("COMMIT").unwrap();
        });
        locked.recv().unwrap();
        WriteLock {
            release: Some(release),
            thread: Some(thread),
        }
    }
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        drop(self.release.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

pub(crate) fn recorded(org_id: &str, opportunity: &str) -> Delivery {
    Delivery {
        event: WebhookEvent {
            id: db::new_id(),
            org_id: org_id.to_owned(),
            received_at: db::now(),
            event: "candidateStageChange".into(),
            token: None,
            triggered_at: None,
            opportunity_id: Some(opportunity.to_owned()),
            to_stage_id: None,
            signature_valid: true,
            status: DeliveryStatus::Recorded,
            outcome: "Recorded by a test.".into(),
            configuration_id: None,
            body: "{}".into(),
            candidate_name: None,
        },
        job: None,
        deduplicate: false,
    }
}

/// Waits (bounded) until `done`, polling; panics naming `what` after 10 s.
async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: never happened"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn one_failing_delivery_fails_only_itself_not_its_batch(backend: Backend) {
    let (app, _) = app_with(backend, Duration::from_secs(10), false).await;
    let org_id = app
        .db
        .run(|conn| Ok::<_, db::DbError>(db::orgs::find_by_slug(conn, "acme")?))
        .await
        .unwrap()
        .unwrap()
        .id;
    let intake = Intake::start(app.db.clone(), app.jobs.clone(), Duration::from_secs(30));
    let lock = WriteLock::take(&app.db);
    // Occupy every writer behind the lock, so the rest wait together and form one batch.
    let writers = if app.db.is_postgres() { 2 } else { 1 };
    let mut blockers = Vec::new();
    for n in 0..writers {
        let (handed, delivery) = (intake.clone(), recorded(&org_id, &format!("blocker-{n}")));
        let mut store = Box::pin(async move { handed.store(delivery).await });
        // One poll hands the delivery in; then a writer takes it and waits behind the lock.
        std::future::poll_fn(|cx| {
            let _ = std::future::Future::poll(store.as_mut(), cx);
            std::task::Poll::Ready(())
        })
        .await;
        blockers.push(tokio::spawn(store));
        until("a writer takes the blocker", || intake.waiting() == 0).await;
    }
    // An organization that does not exist: its row breaks a foreign key, failing its batch.
    let mut batch = vec![recorded("no-such-organization", "bad")];
    batch.extend((0..5).map(|n| recorded(&org_id, &format!("good-{n}"))));
    let waiting: Vec<_> = batch
        .into_iter()
        .map(|delivery| {
            let intake = intake.clone();
            tokio::spawn(async move { intake.store(delivery).await })
        })
        .collect();
    // Every one of them waiting together for the writers, to be taken as one batch.
    until("the deliveries queue", || intake.waiting() == waiting.len()).await;
    drop(lock);
    for blocker in blockers {
        assert_eq!(blocker.await.unwrap().unwrap(), Stored::Recorded);
    }
    let mut outcomes = Vec::new();
    for handle in waiting {
        outcomes.push(handle.await.unwrap());
    }
    assert!(outcomes[0].is_err(), "the bad delivery fails");
    for outcome in &outcomes[1..] {
        assert_eq!(outcome.as_ref().unwrap(), &Stored::Recorded);
    }
    let stored: i64 = app
        .db
        .run(|conn| {
            Ok::<_, db::DbError>(
                webhook_events::table
                    .filter(webhook_events::opportunity_id.like("good-%"))
                    .count()
                    .get_result(conn)?,
            )
        })
        .await
        .unwrap();
    assert_eq!(stored, 5, "every good delivery is stored");
}

async fn a_store_that_falls_behind_answers_503_with_retry_after(backend: Backend) {
    let (app, url) = app_with(backend, Duration::from_millis(300), true).await;
    let delivery = stage_change("a-delivery-while-the-store-is-stuck", now_ms(), "opp-9");
    let lock = WriteLock::take(&app.db);
    let (status, retry_after, body) = deliver(&url, &delivery).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(retry_after.as_deref(), Some("30"));
    assert!(body["error"].as_str().unwrap().contains("busy"), "{body}");
    drop(lock);
    // Lever delivers it again later: acknowledged, and queued exactly once in all.
    let mut answer = Value::Null;
    for _ in 0..50 {
        let (status, _, body) = deliver(&url, &delivery).await;
        if status == 200 {
            answer = body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        matches!(answer["status"].as_str(), Some("accepted" | "duplicate")),
        "{answer}"
    );
    assert_eq!(count_jobs(&app.db).await, 1);
}
