//! The drain at Lever's pace: what an invitation costs in Lever calls, first time and after a
//! crash, and replicas on PostgreSQL keeping Lever's limit per key together.

use diesel::prelude::*;
use leverbridge::db::DbError;
use serde_json::Value;

use crate::helpers::Backend;
use crate::lever_world::{connected, connected_at_levers_pace_with, TAG, TRIGGER};
use crate::replicas::Replica;
use crate::scoring::forget_step;

crate::both_backends!(
    a_first_invitation_costs_four_calls_and_a_retry_after_a_crash_reads_the_notes
);

async fn a_first_invitation_costs_four_calls_and_a_retry_after_a_crash_reads_the_notes(
    backend: Backend,
) {
    let (app, lever) = connected(backend).await;
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    let before = lever.requests().await.len();
    lever.move_to(&ada, TRIGGER).await;
    app.drain().await;
    assert_eq!(
        lever.calls_about(&ada, before).await,
        [
            format!("GET {ada}"),
            "POST addLinks".into(),
            "POST addTags".into(),
            "POST notes".into()
        ],
        "read, link, tag, note: no notes listed on a first invitation"
    );

    // The note reached Lever, then the process died before recording it: the job runs again.
    let opportunity = ada.clone();
    let assessment: String = app
        .db
        .run(move |conn| {
            use leverbridge::db::schema::assessments::dsl::*;
            assessments
                .filter(opportunity_id.eq(&opportunity))
                .select(id)
                .first(conn)
                .map_err(DbError::from)
        })
        .await
        .unwrap();
    assert_eq!(forget_step(&app, &assessment, "note").await, 1);
    app.db
        .run(|conn| {
            diesel::sql_query(
                "UPDATE jobs SET state = 'queued', run_at = created_at WHERE kind = 'stage_change'",
            )
            .execute(conn)
            .map_err(DbError::from)
        })
        .await
        .unwrap();
    let before = lever.requests().await.len();
    app.drain().await;
    assert_eq!(
        lever.calls_about(&ada, before).await,
        [format!("GET {ada}"), "GET notes".into()],
        "the retry looks for the note it began, finds it, and writes nothing"
    );
    let held = lever.opportunity(&ada).await;
    assert_eq!(held["notes"].as_array().map(Vec::len), Some(1), "{held}");
}

/// Two `serve` processes on one PostgreSQL database, each pacing itself at Lever's limit, run a
/// bulk move for one key: without the bucket they share, their bursts and rates would add up to
/// twice Lever's limit and earn 429s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_keep_one_keys_limit_together() {
    let Some(backend) = Backend::postgres("two_serve_processes_keep_one_keys_limit_together")
    else {
        return;
    };
    let key = leverbridge::config::generate_secret_key_base64();
    let secret = leverbridge::crypto::SecretKey::from_base64(&key).unwrap();
    let (app, lever) =
        connected_at_levers_pace_with(backend, |settings| settings.secret_key = secret).await;
    let database_url = match &app.settings.database_url {
        leverbridge::config::DatabaseUrl::Postgres(url) => url.clone(),
        other => panic!("{other:?}"),
    };
    let replicas: Vec<Replica> = (0..2)
        .map(|_| Replica::start(&database_url, &key, &lever, &[]))
        .collect();
    for replica in &replicas {
        replica.wait_ready().await;
    }
    let before = lever.requests().await.len();
    let mut candidates = Vec::new();
    for i in 0..12 {
        candidates.push(lever.candidate(&format!("Bulk Candidate{i}"), &[TAG]).await);
    }
    for id in &candidates {
        lever.move_to(id, TRIGGER).await;
    }
    let done = lever.wait_for_links(&candidates, 300).await;
    let logs: Vec<String> = replicas.into_iter().map(Replica::stop).collect();
    assert!(
        done,
        "every candidate got a link:\n{}",
        logs.join("\n----\n")
    );
    let requests: Vec<Value> = lever.requests().await[before..].to_vec();
    let refused = requests.iter().filter(|r| r["status"] == 429).count();
    assert_eq!(
        refused,
        0,
        "{} calls, {refused} answered 429:\n{}",
        requests.len(),
        logs.join("\n----\n")
    );
    assert!(
        requests.len() >= 4 * candidates.len(),
        "{} calls",
        requests.len()
    );
}
