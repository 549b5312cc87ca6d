//! `POST /a/{token}/autosave`: the editor's JSON save, `{"code": "…"}`. Answers JSON:
//! `{"saved_at": …, "snapshot": n}`, or `{"error": "…"}` with 400 (not JSON as described), 404
//! (unknown link), 409 (not in progress: the time is over, submitted, …), 413 (too large), 415
//! (not JSON), 422 (holds a NUL), 429 with `Retry-After` (faster than the link's pace) or 507
//! (the attempt's quota is used). A refused save changes nothing. The editor also sends it with
//! `fetch(…, {keepalive: true})` as the page goes away; the link is the credential, as for
//! every candidate route.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;

use super::{now, run, AppState, MAX_BODY_BYTES};
use crate::assessments::attempt::{self, retry_after_secs, AttemptError, Phase};

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
    let limits = state.settings.tuning.saves.clone();
    let saved = run(&state, &token, move |conn, token| {
        attempt::save(conn, &token, &code, now, &limits)
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
    let mut response = HttpResponse::build(refusal_status(e));
    if let AttemptError::TooFast(wait) = e {
        response.insert_header((header::RETRY_AFTER, retry_after_secs(wait).to_string()));
    }
    let mut body = json!({ "error": e.to_string() });
    if let AttemptError::Closed(phase) = e {
        body["time_is_over"] = json!(matches!(
            phase,
            Phase::Submitted { time_ran_out: true } | Phase::Expired
        ));
    }
    response.json(body)
}

/// The status a refused step answers with (the JSON save and the candidate's pages alike);
/// a database failure is logged here, its words never sent.
pub fn refusal_status(e: &AttemptError) -> StatusCode {
    match e {
        AttemptError::UnknownLink => StatusCode::NOT_FOUND,
        AttemptError::Closed(_) => StatusCode::CONFLICT,
        AttemptError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        AttemptError::Nul => StatusCode::UNPROCESSABLE_ENTITY,
        AttemptError::TooFast(_) => StatusCode::TOO_MANY_REQUESTS,
        AttemptError::QuotaReached(_) => StatusCode::INSUFFICIENT_STORAGE,
        AttemptError::Database(inner) => {
            tracing::error!(error = %inner, "a candidate's step failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

fn error(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": message }))
}
