//! `/healthz`: the process answers. `/readyz`: the database answers and is migrated, the job
//! workers the process was started with are running, and no due job has waited for a worker
//! longer than `Tuning::queue_wait_limit` (workers stuck, or too few for the work).

use std::time::Duration;

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::AppState;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if state.jobs.no_worker_running() {
        return HttpResponse::ServiceUnavailable()
            .json(json!({ "status": "unavailable", "reason": "no job worker is running" }));
    }
    let db = state.db.clone();
    match tokio::task::spawn_blocking(move || db.ready()).await {
        Ok(Ok(())) => match oldest_due_wait(&state).await {
            Some(waited) if waited > state.settings.tuning.queue_wait_limit => {
                let reason = format!(
                    "the oldest due job has waited {} s for a worker (the limit is {} s): the job workers are stuck or too few",
                    waited.as_secs(),
                    state.settings.tuning.queue_wait_limit.as_secs_f64()
                );
                HttpResponse::ServiceUnavailable()
                    .json(json!({ "status": "unavailable", "reason": reason }))
            }
            _ => HttpResponse::Ok().json(json!({ "status": "ready" })),
        },
        Ok(Err(reason)) => {
            // The raw error can name hosts, users and databases: it goes to the log only.
            tracing::error!(%reason, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .json(json!({ "status": "unavailable", "reason": "database unavailable" }))
        }
        Err(_) => HttpResponse::ServiceUnavailable()
            .json(json!({ "status": "unavailable", "reason": "check was cancelled" })),
    }
}

/// How long the oldest due job has waited for a worker; `None` when none is due or the queue
/// cannot be read (the database check above has just passed).
async fn oldest_due_wait(state: &AppState) -> Option<Duration> {
    let now = state.settings.tuning.clock.now();
    // The lanes this process works: a lane worked elsewhere is that process's readiness. A
    // process that works none (web only) answers for the whole queue.
    let mut lanes = state.jobs.lanes();
    if lanes.is_empty() {
        lanes = crate::domain::Lane::ALL.to_vec();
    }
    let oldest = state
        .db
        .run(move |conn| {
            crate::queue::table::oldest_due(conn, &lanes, now).map_err(crate::db::DbError::from)
        })
        .await;
    match oldest {
        Ok(oldest) => (now - oldest?).to_std().ok(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness could not read the queue");
            None
        }
    }
}
