//! Lanes: each kind of work has workers of its own. A mail job hung on a silent mail server
//! does not hold a Lever write-back queued after it; `leverbridge worker --lanes` runs only the
//! lanes it names; `/metrics` reports each lane's depth; a job kind or state this version does
//! not know is reported, never a panic.

use std::time::Duration;

use diesel::prelude::*;
use leverbridge::config::LaneWorkers;
use leverbridge::db::schema::jobs;
use leverbridge::db::{DbConn, DbError};
use leverbridge::queue::table as queue;

use crate::both_backends;
use crate::deadlines::silent_mail_server;
use crate::email::email_through;
use crate::helpers::{spawn_serving_app, Backend, TestApp};
use crate::lever_world::{
    connect, connected, connected_with, hosts_for, save_settings, LeverAccount, TAG, TRIGGER,
};

both_backends!(
    a_mail_job_hung_on_a_silent_server_does_not_delay_a_lever_write_back,
    an_unknown_job_kind_is_reported_on_events_and_retried_not_a_panic,
    an_unknown_stored_job_state_is_an_error_not_a_fallback,
    metrics_report_each_lanes_depth_and_oldest_due_job,
    the_worker_command_runs_only_the_lanes_it_names,
);

/// The state, attempts and kind of every job, oldest first.
async fn jobs_now(app: &TestApp) -> Vec<(String, String, i32)> {
    app.db
        .run(|conn| {
            jobs::table
                .order(jobs::created_at.asc())
                .select((jobs::kind, jobs::state, jobs::attempts))
                .load(conn)
                .map_err(DbError::from)
        })
        .await
        .unwrap()
}

/// `serve` with one Lever worker and one mail worker, the mail server silent and its deadline
/// a minute away: Ada's invitation hangs in the mail lane while Grace's write-back, queued
/// after it, goes through in the Lever lane.
async fn a_mail_job_hung_on_a_silent_server_does_not_delay_a_lever_write_back(backend: Backend) {
    let lever = LeverAccount::new().await;
    let hosts = hosts_for(&lever);
    let (app, serving) = spawn_serving_app(backend, |s| {
        s.lever = hosts;
        s.workers = LaneWorkers {
            lever: 1,
            mail: 1,
            grading: 0,
        };
        s.tuning.smtp_deadline = Duration::from_secs(60);
    })
    .await;
    app.create_user("admin@acme.test", Some("acme"), "admin")
        .await;
    connect(&app, &lever).await;
    let port = silent_mail_server().await.to_string();
    let response = save_settings(&app, &email_through(&lever, &port, &[])).await;
    assert_eq!(response.status(), 303);

    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    let mut hung = false;
    for _ in 0..200 {
        let jobs = jobs_now(&app).await;
        if jobs
            .iter()
            .any(|(kind, state, _)| kind == "send_email" && state == "running")
        {
            hung = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        hung,
        "Ada's invitation is being sent: {:?}",
        jobs_now(&app).await
    );

    let grace = lever.candidate("Grace Hopper", &[TAG]).await;
    lever.move_to(&grace, TRIGGER).await;
    assert!(
        lever
            .wait_for_links(std::slice::from_ref(&grace), 100)
            .await,
        "Grace's write-back went through"
    );
    let jobs = jobs_now(&app).await;
    assert!(
        jobs.iter()
            .any(|(kind, state, attempts)| kind == "send_email"
                && state == "running"
                && *attempts == 1),
        "Ada's invitation is still held by the silent server, on its first attempt: {jobs:?}"
    );
    serving.stop().await;
}

/// A job whose kind this version does not know (queued by a newer one, say) is a failed
/// attempt, named on Events, and tried again later; the worker goes on.
async fn an_unknown_job_kind_is_reported_on_events_and_retried_not_a_panic(backend: Backend) {
    // One attempt now; the retry waits an hour.
    let (app, lever) = connected_with(backend, |s| {
        s.tuning.job_backoff_base = Duration::from_secs(3600);
    })
    .await;
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    app.db
        .run(|conn| {
            diesel::update(jobs::table.filter(jobs::kind.eq("stage_change")))
                .set(jobs::kind.eq("grade_in_the_cloud"))
                .execute(conn)
                .map_err(DbError::from)
        })
        .await
        .unwrap();
    assert_eq!(app.drain().await, 1, "the job was claimed and settled");
    let jobs = jobs_now(&app).await;
    assert_eq!(
        jobs,
        vec![("grade_in_the_cloud".to_owned(), "queued".to_owned(), 1)],
        "a failed attempt, to be retried"
    );
    let events = app.get_html("/orgs/acme/events").await;
    assert!(
        events.contains(
            "Attempt 1 failed (unknown job kind `grade_in_the_cloud`); it will be retried."
        ),
        "{events}"
    );
    assert_eq!(lever.writes_to(&ada).await, Vec::<String>::new());
}

/// A stored job state this version does not know (a newer version's migration allowed it) is
/// an error when the row is read, saying what it found, never read as some other state; nothing
/// claims the job, and the pages that count jobs still answer.
async fn an_unknown_stored_job_state_is_an_error_not_a_fallback(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    let error = app
        .db
        .run(|conn| {
            // Both schemas list the states this version knows: allow another, as a newer
            // version's migration would.
            let allow_any_state = match conn {
                DbConn::Pg(_) => "ALTER TABLE jobs DROP CONSTRAINT jobs_state_check",
                DbConn::Sqlite(_) => "PRAGMA ignore_check_constraints = ON",
            };
            diesel::sql_query(allow_any_state).execute(conn)?;
            diesel::update(jobs::table)
                .set(jobs::state.eq("paused"))
                .execute(conn)?;
            let id: String = jobs::table.select(jobs::id).first(conn)?;
            let unreadable = queue::find(conn, &id).map(|_| ()).unwrap_err();
            Ok::<_, DbError>(DbError::from(unreadable))
        })
        .await
        .unwrap();
    assert!(
        error
            .to_string()
            .contains("the database holds an unknown job state `paused`"),
        "{error}"
    );
    assert_eq!(app.drain().await, 0, "nothing claims it");
    assert_eq!(app.get("/orgs/acme").await.status(), 200);
    assert_eq!(app.get("/orgs/acme/events").await.status(), 200);
}

/// `/metrics` reports jobs per lane and state, and how long each lane's oldest due job waited.
async fn metrics_report_each_lanes_depth_and_oldest_due_job(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    let metrics = app.get("/metrics").await.text().await.unwrap();
    for line in [
        "leverbridge_queue_jobs{lane=\"lever\",state=\"queued\"} 1",
        "leverbridge_queue_jobs{lane=\"mail\",state=\"queued\"} 0",
        "leverbridge_queue_jobs{lane=\"grading\",state=\"queued\"} 0",
        "leverbridge_queue_jobs{state=\"queued\"} 1",
        "leverbridge_queue_oldest_due_seconds{lane=\"mail\"} 0",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
    assert!(
        metrics.contains("leverbridge_queue_oldest_due_seconds{lane=\"lever\"}"),
        "{metrics}"
    );
}

/// `leverbridge worker --lanes mail` runs the mail lane's jobs and leaves the Lever lane's
/// older job alone; `--lanes lever` then runs it. A SQLite database belongs to one process, so
/// there the command refuses to start, as it does for a lane that does not exist.
async fn the_worker_command_runs_only_the_lanes_it_names(backend: Backend) {
    let key = leverbridge::config::generate_secret_key_base64();
    let secret = leverbridge::crypto::SecretKey::from_base64(&key).unwrap();
    let (app, lever) = connected_with(backend, |s| s.secret_key = secret).await;
    let refused = worker_command(&app, &key, &lever, "lever,tea")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("`tea` is not a lane; the lanes are lever, mail and grading (or all)"),
        "{said}"
    );
    if let leverbridge::config::DatabaseUrl::Sqlite(_) = &app.settings.database_url {
        let refused = worker_command(&app, &key, &lever, "mail").output().unwrap();
        assert!(!refused.status.success());
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(
            said.contains("leverbridge worker needs PostgreSQL"),
            "{said}"
        );
        return;
    }
    let mailbox = leverbridge::mailbox::Mailbox::start_on_loopback()
        .await
        .unwrap();
    let port = mailbox.port().to_string();
    assert_eq!(
        save_settings(&app, &email_through(&lever, &port, &[]))
            .await
            .status(),
        303
    );
    // Ada's invitation is queued (mail lane); then Grace's stage change (Lever lane).
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    let ran = app
        .jobs
        .run_next_in(&[leverbridge::domain::Lane::Lever], "test", false);
    assert_eq!(ran.await.unwrap(), leverbridge::queue::Next::Ran);
    let grace = lever.candidate("Grace Hopper", &[TAG]).await;
    lever.move_to(&grace, TRIGGER).await;

    let mut mail = Worker::start(worker_command(&app, &key, &lever, "mail"));
    let mut sent = false;
    for _ in 0..300 {
        if !mailbox.messages().is_empty() {
            sent = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        sent,
        "the mail worker sent Ada's invitation: {}",
        mail.log()
    );
    let jobs = jobs_now(&app).await;
    assert!(
        jobs.iter()
            .any(|(kind, state, attempts)| kind == "stage_change"
                && state == "queued"
                && *attempts == 0),
        "Grace's stage change, older than the email, was left to the Lever lane: {jobs:?}"
    );
    mail.stop();

    let mut lever_lane = Worker::start(worker_command(&app, &key, &lever, "lever"));
    assert!(
        lever
            .wait_for_links(std::slice::from_ref(&grace), 100)
            .await,
        "the Lever worker wrote Grace's link: {}",
        lever_lane.log()
    );
    lever_lane.stop();
}

/// `leverbridge worker --lanes LANES` on the test's database, pointed at `lever`.
pub(crate) fn worker_command(
    app: &TestApp,
    key: &str,
    lever: &LeverAccount,
    lanes: &str,
) -> std::process::Command {
    let url = match &app.settings.database_url {
        leverbridge::config::DatabaseUrl::Postgres(url) => url.clone(),
        leverbridge::config::DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
    };
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_leverbridge"));
    command
        .args(["worker", "--lanes", lanes])
        .env("LEVERBRIDGE_DATABASE_URL", url)
        .env("LEVERBRIDGE_SECRET_KEY", key)
        .env("LEVERBRIDGE_PUBLIC_URL", app.address.clone())
        .env(
            "LEVERBRIDGE_LEVER_API_URL",
            format!("{}/v1", lever.sim.base_url()),
        )
        .env("LEVERBRIDGE_LEVER_AUTH_URL", lever.sim.base_url())
        .env("RUST_LOG", "info");
    command
}

/// A `leverbridge worker` process, stopped (SIGTERM) and reaped when dropped.
pub(crate) struct Worker {
    pub(crate) child: std::process::Child,
    log: tempfile::NamedTempFile,
}

impl Worker {
    pub(crate) fn start(mut command: std::process::Command) -> Worker {
        let log = tempfile::NamedTempFile::new().unwrap();
        let child = command
            .stdout(std::process::Stdio::null())
            .stderr(log.reopen().unwrap())
            .spawn()
            .unwrap();
        Worker { child, log }
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    pub(crate) fn stop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
