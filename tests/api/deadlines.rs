//! Deadlines on external conversations: a mail server that accepts and never answers, or drips
//! one continuation line at a time, holds no worker (Lever write-backs and the expiry sweep go
//! on, Events names the timeout); a job attempt past its deadline is stopped; `/readyz` says
//! when the oldest due job has waited too long.

use std::time::Duration;

use diesel::prelude::*;
use leverbridge::db::DbError;
use serde_json::json;

use crate::both_backends;
use crate::email::email_through;
use crate::helpers::{spawn_serving_app, Backend};
use crate::job_defects::job_of;
use crate::lever_world::{
    connect, connected_with, hosts_for, save_settings, LeverAccount, TAG, TRIGGER,
};

both_backends!(
    a_silent_mail_server_holds_no_worker,
    a_mail_server_dripping_continuation_lines_holds_no_worker,
    a_job_attempt_that_outlasts_its_deadline_is_stopped_and_retried,
    readiness_fails_once_the_oldest_due_job_has_waited_too_long,
);

/// A mail server on loopback that accepts connections and never says a word; its port.
pub(crate) async fn silent_mail_server() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    port
}

/// A mail server on loopback that greets, then answers with one continuation line (`250-…`)
/// every 300 ms and never the last line: each read comes in time, the reply never ends.
async fn dripping_mail_server() -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                if socket.write_all(b"220 drip.test ESMTP\r\n").await.is_err() {
                    return;
                }
                let mut ehlo = [0u8; 512];
                if socket.read(&mut ehlo).await.is_err() {
                    return;
                }
                loop {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    let line = b"250-drip.test is still thinking\r\n";
                    if socket.write_all(line).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

async fn a_silent_mail_server_holds_no_worker(backend: Backend) {
    a_hanging_mail_server_holds_no_worker(backend, silent_mail_server().await).await
}

async fn a_mail_server_dripping_continuation_lines_holds_no_worker(backend: Backend) {
    a_hanging_mail_server_holds_no_worker(backend, dripping_mail_server().await).await
}

/// `serve` with one worker, its organization's mail server on `port` hanging: each email's
/// attempt ends at its deadline and Events names the timeout, while another candidate's Lever
/// write-back goes through and the expiry sweep still runs.
async fn a_hanging_mail_server_holds_no_worker(backend: Backend, port: u16) {
    let clock = leverbridge::clock::Clock::adjustable();
    let lever = LeverAccount::new().await;
    let (hosts, for_app) = (hosts_for(&lever), clock.clone());
    let (app, serving) = spawn_serving_app(backend, |s| {
        s.lever = hosts;
        s.workers = leverbridge::config::LaneWorkers {
            lever: 1,
            mail: 1,
            grading: 0,
        };
        s.tuning.clock = for_app;
        s.tuning.smtp_deadline = Duration::from_secs(1);
        s.tuning.expiry_sweep_every = Duration::from_millis(200);
    })
    .await;
    app.create_user("admin@acme.test", Some("acme"), "admin")
        .await;
    connect(&app, &lever).await;
    let port = port.to_string();
    let response = save_settings(&app, &email_through(&lever, &port, &[])).await;
    assert_eq!(response.status(), 303);

    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    let timeout = format!("timed out after 1 s talking to the mail server 127.0.0.1:{port}");
    let mut events = String::new();
    for _ in 0..100 {
        events = app.get_html("/orgs/acme/events").await;
        if events.contains(&timeout) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(events.contains(&timeout), "{events}");

    let grace = lever.candidate("Grace Hopper", &[TAG]).await;
    lever.move_to(&grace, TRIGGER).await;
    assert!(
        lever.wait_for_links(&[grace], 100).await,
        "Grace's write-back went through"
    );

    // Ada's invitation runs out: the sweep expires it.
    clock.advance(chrono::Duration::days(60));
    let mut state = String::new();
    for _ in 0..100 {
        let opportunity = ada.clone();
        state = app
            .db
            .run(move |conn| {
                use leverbridge::db::schema::assessments;
                assessments::table
                    .filter(assessments::opportunity_id.eq(opportunity))
                    .select(assessments::state)
                    .first::<String>(conn)
                    .map_err(DbError::from)
            })
            .await
            .unwrap();
        if state == "expired" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state, "expired");
    serving.stop().await;
}

/// An attempt that takes longer than its deadline (Lever answering slowly, each call within
/// its own timeout) is stopped, so it holds no worker, and fails saying so: it is retried.
async fn a_job_attempt_that_outlasts_its_deadline_is_stopped_and_retried(backend: Backend) {
    let (app, lever) = connected_with(backend, |s| {
        s.tuning.job_attempt_deadline = Duration::from_millis(500);
        s.tuning.lever_timeout = Duration::from_secs(30);
    })
    .await;
    lever.set_faults(json!({"latencyMs": 1000})).await;
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    app.drain().await;
    let (_, _, error) = job_of(&app, "stage_change").await;
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("the attempt timed out after 0.5 s")),
        "{error:?}"
    );
    assert_eq!(lever.writes_to(&ada).await, Vec::<String>::new());
}

/// `/readyz` answers 503, saying why, once the oldest due job has waited longer than the
/// limit for a worker; ready again once it ran.
async fn readiness_fails_once_the_oldest_due_job_has_waited_too_long(backend: Backend) {
    let (app, lever) = connected_with(backend, |s| {
        s.tuning.queue_wait_limit = Duration::from_millis(500);
    })
    .await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    let reason = ready.json::<serde_json::Value>().await.unwrap()["reason"].to_string();
    assert!(
        reason.contains("the oldest due job has waited 1 s for a worker (the limit is 0.5 s)"),
        "{reason}"
    );
    app.drain().await;
    assert_eq!(app.get("/readyz").await.status(), 200);
}
