//! `/healthz`: the process answers. `/readyz`: the database answers and is migrated, and the
//! job workers the process was started with are running.

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
        Ok(Ok(())) => HttpResponse::Ok().json(json!({ "status": "ready" })),
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
