//! The job system when its database misbehaves or replicas share it: a lease that cannot be
//! renewed stops the job, a settle that fails records no Lever call, a step record that cannot
//! be read or written fails the attempt instead of guessing, and two processes' intakes count
//! every delivery. Faults are injected with triggers that make one kind of statement fail, or by
//! renaming a table, on either backend.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use leverbridge::db::schema::{jobs, lever_calls};
use leverbridge::db::{DbConn, DbError};
use serde_json::json;

use crate::both_backends;
use crate::email::{candidate_without_email, email_through};
use crate::helpers::{Backend, TestApp};
use crate::intake::{app_configured, deliver, now_ms, recorded, stage_change};
use crate::lever_view::tags;
use crate::lever_world::{connected_with, save_settings, LeverAccount, TAG, TRIGGER};
use crate::replicas::Replica;
use leverbridge::intake::Intake;

both_backends!(
    a_job_whose_lease_cannot_be_renewed_stops_before_its_next_lever_call,
    lever_calls_are_recorded_only_with_the_settle_of_their_job,
    two_intakes_on_one_database_count_every_delivery,
    a_step_record_that_cannot_be_read_fails_the_attempt_instead_of_guessing,
    a_note_whose_beginning_cannot_be_noted_is_not_written_twice,
);

/// Makes `UPDATE`s of `table` matching `when` (a condition on `OLD` and `NEW`) fail, as a
/// database that errs would, until [`heal`] removes it.
async fn inject_fault(app: &TestApp, name: &str, table: &str, when: &str) {
    inject(app, name, "UPDATE", table, when).await
}

/// Makes `statement`s (`INSERT`, `UPDATE`) on `table` matching `when` fail.
async fn inject(app: &TestApp, name: &str, statement: &str, table: &str, when: &str) {
    let (name, table, when) = (name.to_owned(), table.to_owned(), when.to_owned());
    let statement = statement.to_owned();
    app.db
        .run(move |conn| {
            let sql = match conn {
                DbConn::Sqlite(_) => format!(
                    "CREATE TRIGGER {name} BEFORE {statement} ON {table} WHEN {when} \
                     BEGIN SELECT RAISE(ABORT, 'injected fault {name}'); END;"
                ),
                DbConn::Pg(_) => format!(
                    "CREATE FUNCTION {name}() RETURNS trigger AS $$ BEGIN \
                     RAISE EXCEPTION 'injected fault {name}'; END $$ LANGUAGE plpgsql; \
                     CREATE TRIGGER {name} BEFORE {statement} ON {table} FOR EACH ROW \
                     WHEN ({when}) EXECUTE FUNCTION {name}();"
                ),
            };
            conn.batch_execute(&sql).map_err(DbError::from)
        })
        .await
        .unwrap();
}

/// Removes the fault `name` on `table`.
async fn heal(app: &TestApp, name: &str, table: &str) {
    let (name, table) = (name.to_owned(), table.to_owned());
    app.db
        .run(move |conn| {
            let sql = match conn {
                DbConn::Sqlite(_) => format!("DROP TRIGGER {name};"),
                DbConn::Pg(_) => {
                    format!("DROP TRIGGER {name} ON {table}; DROP FUNCTION {name}();")
                }
            };
            conn.batch_execute(&sql).map_err(DbError::from)
        })
        .await
        .unwrap();
}

/// The only job of kind `kind`: (state, attempts, last error).
pub(crate) async fn job_of(app: &TestApp, kind: &str) -> (String, i32, Option<String>) {
    let kind = kind.to_owned();
    app.db
        .run(move |conn| {
            jobs::table
                .filter(jobs::kind.eq(kind))
                .select((jobs::state, jobs::attempts, jobs::last_error))
                .first(conn)
                .map_err(DbError::from)
        })
        .await
        .unwrap()
}

async fn recorded_calls(app: &TestApp) -> i64 {
    app.db
        .run(|conn| {
            lever_calls::table
                .count()
                .get_result::<i64>(conn)
                .map_err(DbError::from)
        })
        .await
        .unwrap()
}

/// Makes every job due now (as its lease running out would).
async fn due_again(app: &TestApp) {
    app.db
        .run(|conn| {
            diesel::sql_query(
                "UPDATE jobs SET state = 'queued', locked_by = NULL, locked_until = NULL, \
                 run_at = created_at WHERE state <> 'done'",
            )
            .execute(conn)
            .map_err(DbError::from)
        })
        .await
        .unwrap();
}

/// The database refuses to renew the lease while the job waits for Lever: the job is stopped
/// then, so it writes nothing to Lever (another worker may claim it once the lease runs out),
/// and the attempt fails with the reason and is retried; with the database well again, the
/// job writes everything once.
async fn a_job_whose_lease_cannot_be_renewed_stops_before_its_next_lever_call(backend: Backend) {
    let (app, lever) = connected_with(backend, |s| {
        s.tuning.job_lease = Duration::from_millis(300);
        s.tuning.lever_timeout = Duration::from_secs(30);
    })
    .await;
    // Each Lever answer takes longer than a renewal's interval (a third of the lease).
    lever.set_faults(json!({"latencyMs": 400})).await;
    inject_fault(
        &app,
        "fault_renewal",
        "jobs",
        "OLD.state = 'running' AND NEW.state = 'running'",
    )
    .await;
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    app.drain().await;
    assert_eq!(
        lever.writes_to(&ada).await,
        Vec::<String>::new(),
        "nothing written after the lease could not be renewed"
    );
    let (state, _, error) = job_of(&app, "stage_change").await;
    assert!(["queued", "dead"].contains(&state.as_str()), "{state}");
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("its lease could not be renewed")),
        "{error:?}"
    );

    heal(&app, "fault_renewal", "jobs").await;
    lever.set_faults(json!({"latencyMs": 0})).await;
    due_again(&app).await;
    app.drain().await;
    assert_eq!(
        lever.writes_to(&ada).await,
        ["POST addLinks", "POST addTags", "POST notes"],
    );
}

/// Settling the job fails after its Lever calls: the calls are not recorded without the settle
/// (one transaction), so the attempt that runs in its place lists only its own calls.
async fn lever_calls_are_recorded_only_with_the_settle_of_their_job(backend: Backend) {
    let (app, lever) = connected_with(backend, |_| {}).await;
    inject_fault(&app, "fault_settle", "jobs", "NEW.state = 'done'").await;
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    let connected = recorded_calls(&app).await;
    lever.move_to(&ada, TRIGGER).await;
    let drained = app.jobs.run_until_idle().await;
    assert!(drained.is_err(), "the settle failed: {drained:?}");
    assert_eq!(lever.writes_to(&ada).await.len(), 3, "the job did its work");
    assert_eq!(
        recorded_calls(&app).await,
        connected,
        "no call recorded for an attempt that was not settled"
    );
    assert_eq!(job_of(&app, "stage_change").await.0, "running");

    heal(&app, "fault_settle", "jobs").await;
    due_again(&app).await;
    let before = lever.requests().await.len();
    assert_eq!(app.drain().await, 1);
    let made = lever.requests().await.len() - before;
    assert_eq!(job_of(&app, "stage_change").await.0, "done");
    assert_eq!(
        recorded_calls(&app).await - connected,
        made as i64,
        "the settled attempt's calls, once"
    );
}

/// The stage changes the Webhooks page counts as accepted for `acme`.
async fn accepted_stage_changes(app: &TestApp) -> i64 {
    app.db
        .run(|conn| -> Result<_, DbError> {
            let org = leverbridge::db::orgs::find_by_slug(conn, "acme")?.expect("acme");
            Ok(leverbridge::db::webhooks::stats(conn, &org.id, "candidateStageChange")?.accepted)
        })
        .await
        .unwrap()
}

/// Two intakes on one database, as two processes run them (each numbering its writers from 0),
/// store deliveries at once: the Webhooks page counts every one.
async fn two_intakes_on_one_database_count_every_delivery(backend: Backend) {
    let (app, _) = app_configured(backend, |_| {}, false).await;
    let org_id = app
        .db
        .run(|conn| -> Result<_, DbError> {
            Ok(leverbridge::db::orgs::find_by_slug(conn, "acme")?
                .expect("acme")
                .id)
        })
        .await
        .unwrap();
    let wait = Duration::from_secs(30);
    let intakes = [
        Intake::start(app.db.clone(), app.jobs.clone(), wait),
        Intake::start(app.db.clone(), app.jobs.clone(), wait),
    ];
    let stores: Vec<_> = (0..300)
        .map(|n| {
            let (intake, delivery) = (
                intakes[n % 2].clone(),
                recorded(&org_id, &format!("opp-{n}")),
            );
            tokio::spawn(async move { intake.store(delivery).await })
        })
        .collect();
    for store in stores {
        store.await.unwrap().expect("stored");
    }
    assert_eq!(accepted_stage_changes(&app).await, 300);
}

/// Two `serve` processes on one PostgreSQL database take signed stage changes at once: the
/// Webhooks page counts every delivery.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_count_every_delivery_on_the_webhooks_page() {
    let Some(backend) =
        Backend::postgres("two_serve_processes_count_every_delivery_on_the_webhooks_page")
    else {
        return;
    };
    let key = leverbridge::config::generate_secret_key_base64();
    let secret = leverbridge::crypto::SecretKey::from_base64(&key).unwrap();
    let (app, url) = app_configured(backend, |s| s.secret_key = secret, true).await;
    let database_url = match &app.settings.database_url {
        leverbridge::config::DatabaseUrl::Postgres(url) => url.clone(),
        other => panic!("{other:?}"),
    };
    let lever = LeverAccount::new().await;
    let replicas: Vec<Replica> = (0..2)
        .map(|_| Replica::start(&database_url, &key, &lever, &[]))
        .collect();
    for replica in &replicas {
        replica.wait_ready().await;
    }
    let path = url::Url::parse(&url).unwrap().path().to_owned();
    let urls: Vec<String> = replicas
        .iter()
        .map(|r| format!("{}{path}", r.address()))
        .collect();
    const DELIVERIES: usize = 240;
    let clients: Vec<_> = (0..16)
        .map(|client| {
            let urls = urls.clone();
            tokio::spawn(async move {
                for n in (client..DELIVERIES).step_by(16) {
                    let body =
                        stage_change(&format!("delivery-{n}"), now_ms(), &format!("opp-{n}"));
                    let (status, _, answer) = deliver(&urls[n % 2], &body).await;
                    assert_eq!(status, 200, "{answer}");
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    let logs: Vec<String> = replicas.into_iter().map(Replica::stop).collect();
    assert_eq!(
        accepted_stage_changes(&app).await,
        DELIVERIES as i64,
        "{}",
        logs.join("\n----\n")
    );
}

/// Renames `table` to `to`, so that every statement naming it fails.
async fn rename_table(app: &TestApp, table: &str, to: &str) {
    let sql = format!("ALTER TABLE {table} RENAME TO {to}");
    app.db
        .run(move |conn| conn.batch_execute(&sql).map_err(DbError::from))
        .await
        .unwrap();
}

/// The invitation of a candidate Lever lists without an email address is written again while
/// the emails' table cannot be read: leverbridge cannot tell that the invitation failed, so it
/// writes no progress tag ("Candidate Invited" would be wrong) and the attempt fails; once the
/// table is back, Lever gets "Invite Failed".
async fn a_step_record_that_cannot_be_read_fails_the_attempt_instead_of_guessing(backend: Backend) {
    let (app, lever) = connected_with(backend, |_| {}).await;
    let response = save_settings(&app, &email_through(&lever, "2525", &[])).await;
    assert_eq!(response.status(), 303);
    let alan = candidate_without_email(&lever, "Alan Turing").await;
    // The first run writes the link, then Lever fails the tag on every attempt.
    let busy = json!({"method": "POST", "pathEndsWith": "addTags", "status": 503, "times": 100});
    lever.set_faults(json!({"scripted": [busy]})).await;
    lever.move_to(&alan, TRIGGER).await;
    app.drain().await;
    assert_eq!(lever.writes_to(&alan).await, ["POST addLinks"]);

    lever.set_faults(json!({"scripted": []})).await;
    rename_table(&app, "assessment_emails", "assessment_emails_away").await;
    due_again(&app).await;
    app.drain().await;
    let held = tags(&lever.opportunity(&alan).await);
    assert!(
        !held.contains(&"leverbridge: Candidate Invited".to_owned()),
        "{held:?}"
    );
    assert_eq!(lever.writes_to(&alan).await, ["POST addLinks"]);
    let (_, _, error) = job_of(&app, "stage_change").await;
    assert!(
        error.as_deref().is_some_and(|e| e.contains("database")),
        "{error:?}"
    );

    rename_table(&app, "assessment_emails_away", "assessment_emails").await;
    due_again(&app).await;
    app.drain().await;
    let held = tags(&lever.opportunity(&alan).await);
    assert!(
        held.contains(&"leverbridge: Invite Failed".to_owned()),
        "{held:?}"
    );
    assert!(
        !held.contains(&"leverbridge: Candidate Invited".to_owned()),
        "{held:?}"
    );
}

/// The note's beginning cannot be noted, and its completion would not be recorded either (as
/// when the process dies after Lever's answer): the note is not written then, so the run after
/// the fault writes it once and there is no second note.
async fn a_note_whose_beginning_cannot_be_noted_is_not_written_twice(backend: Backend) {
    let (app, lever) = connected_with(backend, |_| {}).await;
    inject(
        &app,
        "fault_note_begun",
        "INSERT",
        "assessment_step_attempts",
        "NEW.step = 'note'",
    )
    .await;
    inject(
        &app,
        "fault_note_done",
        "INSERT",
        "assessment_steps",
        "NEW.step = 'note'",
    )
    .await;
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    app.drain().await;
    assert_eq!(
        lever.writes_to(&ada).await,
        ["POST addLinks", "POST addTags"]
    );

    heal(&app, "fault_note_begun", "assessment_step_attempts").await;
    heal(&app, "fault_note_done", "assessment_steps").await;
    due_again(&app).await;
    app.drain().await;
    let held = lever.opportunity(&ada).await;
    assert_eq!(held["notes"].as_array().map(Vec::len), Some(1), "{held}");
}
