//! `POST /a/{token}/autosave`: the editor's JSON save, `{"code": "…"}`. Answers JSON:
//! `{"saved_at": …, "snapshot": n}`, or `{"error": "…"}` with 400 (not JSON as described), 404
//! (unknown link), 409 (not in progress: the time is over, submitted, …), 413 (too large) or
//! 415 (not JSON). A refused save changes nothing.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;

use super::{now, run, AppState, MAX_BODY_BYTES};
use crate::assessments::attempt::{self, AttemptError, Phase};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Save {
    code: String,
}

pub async fn autosave(
    state: web::Data<AppState>,
    token: web::Path<String>,
    req: HttpRequest,
    mut payload: web::Payload,
) -> HttpResponse {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Send the code as JSON (Content-Type: application/json), {\"code\": \"…\"}. Nothing was saved.",
        );
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            return error(
                StatusCode::BAD_REQUEST,
                "The request body could not be read. Nothing was saved.",
            );
        };
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return refusal(&AttemptError::TooLarge(body.len() + chunk.len()));
        }
        body.extend_from_slice(&chunk);
    }
    let code = match serde_json::from_slice::<Save>(&body) {
        Ok(save) => save.code,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!(
                "The body is not the JSON {{\"code\": \"…\"}} expected ({e}). Nothing was saved."
            ),
            )
        }
    };
    let now = now(&state);
    let saved = run(&state, &token, move |conn, token| {
        attempt::save(conn, &token, &code, now)
    })
    .await;
    match saved {
        Ok(Ok((assessment, snapshot))) => HttpResponse::Ok().json(json!({
            "saved_at": snapshot.saved_at.and_utc().to_rfc3339(),
            "snapshot": snapshot.seq,
            "deadline_at": assessment.deadline_at.map(|d| d.and_utc().to_rfc3339()),
        })),
        Ok(Err(e)) => refusal(&e),
        Err(e) => {
            tracing::error!(error = ?e, "an autosave failed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The save failed on our side and has been logged. Your code is still in the editor; it is saved again in a few seconds.",
            )
        }
    }
}

fn refusal(e: &AttemptError) -> HttpResponse {
    let status = match e {
        AttemptError::UnknownLink => StatusCode::NOT_FOUND,
        AttemptError::Closed(_) => StatusCode::CONFLICT,
        AttemptError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        AttemptError::Database(inner) => {
            tracing::error!(error = %inner, "an autosave failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    let mut body = json!({ "error": e.to_string() });
    if let AttemptError::Closed(phase) = e {
        body["time_is_over"] = json!(matches!(
            phase,
            Phase::Submitted { time_ran_out: true } | Phase::Expired
        ));
    }
    HttpResponse::build(status).json(body)
}

fn error(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": message }))
}
