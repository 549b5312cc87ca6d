//! `POST /a/{token}/run` (`{"code", "input"}`) and `POST /a/{token}/run-tests` (`{"code"}`):
//! the candidate's *Run* and *Run tests* ([`crate::assessments::runs`]). A run that finishes
//! within a few seconds is answered 200 `{"run": {"id", "status": "done", "result"}}`; one still
//! waiting for a sandbox slot (or running) is answered 202 `{"run": {"id", "status":
//! "queued"}, "poll": "/a/{token}/runs/{id}"}`, and `GET` on `poll` answers the same way until
//! it is done. The run goes on when the browser stops waiting. Refusals are `{"error": "…"}`:
//! 400 (not JSON as described, no visible cases), 404 (unknown link), 409 (the test is not in
//! progress), 413 (too large), 422 (a NUL), 429 with `Retry-After` (faster than the link's
//! pace, or the attempt's runs are used up), 503 (code cannot run on this server).

use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{link_token, now, refusal_status, AppState, MAX_BODY_BYTES};
use crate::assessments::runs::{self, RunKind, RunRefused};
use crate::db::{self, DbError};
use crate::sandbox::SandboxError;

/// A run still unfinished this long after it was asked for was lost (its server stopped).
const LOST_AFTER: Duration = Duration::from_secs(300);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    code: String,
    #[serde(default)]
    input: String,
}

/// The JSON these routes accept: the code limit with room for escaping; any other body is a
/// JSON error, never an HTML page.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_BODY_BYTES)
        .error_handler(|err, _req| {
            let status = match &err {
                actix_web::error::JsonPayloadError::OverflowKnownLength { .. }
                | actix_web::error::JsonPayloadError::Overflow { .. } => {
                    StatusCode::PAYLOAD_TOO_LARGE
                }
                actix_web::error::JsonPayloadError::ContentType => {
                    StatusCode::UNSUPPORTED_MEDIA_TYPE
                }
                _ => StatusCode::BAD_REQUEST,
            };
            let message = format!(
                "The run was not started: send JSON {{\"code\": \"…\", \"input\": \"…\"}} ({err})."
            );
            actix_web::error::InternalError::from_response(err, error(status, &message)).into()
        })
}

pub async fn run(
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Json<RunBody>,
) -> HttpResponse {
    start(
        state,
        token.into_inner(),
        RunKind::Custom,
        body.into_inner(),
    )
    .await
}

pub async fn run_tests(
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Json<RunBody>,
) -> HttpResponse {
    start(state, token.into_inner(), RunKind::Tests, body.into_inner()).await
}

async fn start(
    state: web::Data<AppState>,
    raw: String,
    kind: RunKind,
    body: RunBody,
) -> HttpResponse {
    let token = match link_token(&raw) {
        Ok(token) => token,
        Err(e) => return refused(RunRefused::Attempt(e)),
    };
    let sandbox = state.jobs.sandbox.clone();
    let (now, pace) = (now(&state), state.settings.tuning.runs);
    let accepted = {
        let (token, sandbox) = (token.clone(), sandbox.clone());
        state
            .db
            .run(move |conn| {
                Ok::<_, DbError>(runs::accept(
                    conn,
                    &token,
                    (kind, &body.code, &body.input),
                    now,
                    &pace,
                    &sandbox,
                ))
            })
            .await
    };
    let accepted = match accepted {
        Ok(Ok(accepted)) => accepted,
        Ok(Err(refusal)) => return refused(refusal),
        Err(e) => return database(e),
    };
    let run_id = accepted.run.id.clone();
    let (done, waited) = tokio::sync::oneshot::channel();
    let (db, clock) = (state.db.clone(), state.settings.tuning.clock.clone());
    // Detached: the run finishes and is kept even when the browser stops waiting.
    tokio::spawn(async move {
        let (result, line) = runs::execute(&sandbox, &accepted).await;
        let id = accepted.run.id.clone();
        let stored = result.clone();
        let kept = db
            .run(move |conn| {
                db::cases::finish_run(conn, &id, clock.now(), &line, &stored).map_err(DbError::from)
            })
            .await;
        if let Err(e) = kept {
            tracing::error!(error = %e, "a candidate's run could not be stored");
        }
        let _ = done.send(result);
    });
    match tokio::time::timeout(pace.answer_within, waited).await {
        Ok(Ok(result)) => finished(&run_id, &result),
        _ => pending(&token, &run_id),
    }
}

/// `GET /a/{token}/runs/{id}`: where a run stands.
pub async fn poll(state: web::Data<AppState>, path: web::Path<(String, String)>) -> HttpResponse {
    let (raw, id) = path.into_inner();
    let token = match link_token(&raw) {
        Ok(token) => token,
        Err(e) => return refused(RunRefused::Attempt(e)),
    };
    let now = now(&state);
    let found = state
        .db
        .run(move |conn| -> Result<_, DbError> {
            let Some(assessment) = db::assessments::by_token(conn, &token)? else {
                return Ok(None);
            };
            Ok(db::cases::find_run(conn, &assessment.id, &id)?)
        })
        .await;
    match found {
        Ok(Some(run)) => match run.result {
            Some(result) if run.finished_at.is_some() => finished(&run.id, &result),
            _ if now - run.requested_at > chrono::Duration::from_std(LOST_AFTER).unwrap_or_default() => error(
                StatusCode::SERVICE_UNAVAILABLE,
                "This run was interrupted (the server restarted) and has no result: run it again.",
            ),
            _ => pending(&raw, &run.id),
        },
        Ok(None) => error(StatusCode::NOT_FOUND, "There is no such run for this link."),
        Err(e) => database(e),
    }
}

fn finished(id: &str, result: &str) -> HttpResponse {
    let result: Value = serde_json::from_str(result).unwrap_or(Value::Null);
    if let Some(message) = result.get("error").and_then(Value::as_str) {
        return error(StatusCode::SERVICE_UNAVAILABLE, message);
    }
    HttpResponse::Ok().json(json!({ "run": { "id": id, "status": "done", "result": result } }))
}

fn pending(token: &str, id: &str) -> HttpResponse {
    HttpResponse::Accepted().json(json!({
        "run": { "id": id, "status": "queued" },
        "poll": format!("/a/{token}/runs/{id}"),
    }))
}

fn refused(refusal: RunRefused) -> HttpResponse {
    let status = match &refusal {
        RunRefused::Attempt(e) => refusal_status(e),
        RunRefused::TooFast { .. } | RunRefused::Exhausted(_) => StatusCode::TOO_MANY_REQUESTS,
        RunRefused::NoCases => StatusCode::BAD_REQUEST,
        RunRefused::InputTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        RunRefused::Sandbox(SandboxError::Failed(_)) => StatusCode::INTERNAL_SERVER_ERROR,
        RunRefused::Sandbox(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    let mut response = HttpResponse::build(status);
    if let RunRefused::TooFast { wait_secs, .. } = &refusal {
        response.insert_header((header::RETRY_AFTER, wait_secs.max(&1).to_string()));
    }
    response.json(json!({ "error": refusal.to_string() }))
}

fn database(e: DbError) -> HttpResponse {
    tracing::error!(error = %e, "a candidate's run failed on the database");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "The run failed on our side and has been logged. Try again in a moment.",
    )
}

fn error(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": message }))
}
