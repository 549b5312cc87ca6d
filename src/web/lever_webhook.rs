//! `POST /webhooks/lever/{endpoint key}`: Lever's signed deliveries.
//!
//! An adapter: it reads the body, finds the endpoint's organization, and hands both to the
//! intake, which decides what the delivery is (`intake::classify`) and stores it with the job it
//! causes, in one transaction, before Lever gets its 2xx. This module only turns the intake's
//! answer into Lever's HTTP response and the delivery counters of `GET /metrics`.

use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde_json::json;

use super::webhook_keys::OrgKeys;
use super::AppState;
use crate::intake::classify::{
    classify, Acceptance, Arrival, Refusal, SigningTokens, Verdict, BODY_LIMIT,
};
use crate::intake::{IntakeError, Stored};
use crate::telemetry::{self, DeliveryOutcome};

/// What a shed delivery's `Retry-After` asks of Lever, in seconds.
const RETRY_AFTER_SECS: &str = "30";

impl SigningTokens for OrgKeys {
    fn org_id(&self) -> &str {
        &self.org_id
    }

    fn token(&self, event: &str) -> Option<Result<&str, &str>> {
        OrgKeys::token(self, event)
    }
}

pub async fn receive(
    state: web::Data<AppState>,
    key: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let Some((body, too_large)) = read_body(&req, payload).await else {
        telemetry::delivery(DeliveryOutcome::Rejected("unreadable_body"));
        return answer(400, "the request body could not be read");
    };
    let org = match state
        .webhook_keys
        .lookup(&state.db, &state.settings.secret_key, &key)
        .await
    {
        Ok(Some(org)) => org,
        Ok(None) => {
            tracing::warn!("webhook delivery to an unknown endpoint key");
            telemetry::delivery(DeliveryOutcome::Rejected("unknown_endpoint"));
            return answer(404, "unknown webhook endpoint");
        }
        Err(e) => {
            tracing::error!(error = %e, "could not look up a webhook endpoint");
            telemetry::delivery(DeliveryOutcome::NotStored("lookup_failed"));
            return answer(503, "the delivery could not be stored; Lever will retry it");
        }
    };
    let arrival = Arrival {
        body: &body,
        too_large,
        received_at: state.settings.tuning.clock.now(),
    };
    let checked = classify(&*org, arrival, state.settings.tuning.job_max_attempts);
    let stored = state.intake.store(checked.delivery).await;
    telemetry::delivery(match &stored {
        Ok(Stored::Duplicate) => DeliveryOutcome::Duplicate,
        Ok(_) => checked.verdict.counted_as(),
        Err(IntakeError::Busy(_)) => DeliveryOutcome::NotStored("busy"),
        Err(_) => DeliveryOutcome::NotStored("store_failed"),
    });
    match stored {
        Ok(Stored::Duplicate) => answer(200, "duplicate"),
        Ok(_) => verdict_answer(&checked.verdict),
        Err(e @ IntakeError::Busy(_)) => {
            tracing::warn!(error = %e, "shedding a webhook delivery");
            let mut response = answer(503, "leverbridge is busy; Lever will retry the delivery");
            response.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from_static(RETRY_AFTER_SECS),
            );
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "failed to store a webhook delivery");
            // Not stored, so not acknowledged: Lever will deliver it again.
            answer(503, "the delivery could not be stored; Lever will retry it")
        }
    }
}

/// The body up to [`BODY_LIMIT`], and whether it was longer (declared or sent); `None` when it
/// could not be read.
async fn read_body(req: &HttpRequest, mut payload: web::Payload) -> Option<(web::BytesMut, bool)> {
    let declared = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut body = web::BytesMut::new();
    let mut too_large = declared.is_some_and(|n| n > BODY_LIMIT);
    while !too_large {
        match payload.next().await {
            Some(Ok(chunk)) if body.len() + chunk.len() <= BODY_LIMIT => {
                body.extend_from_slice(&chunk)
            }
            Some(Ok(_)) => too_large = true,
            Some(Err(_)) => return None,
            None => break,
        }
    }
    Some((body, too_large))
}

/// Lever's answer to a stored delivery that was not a duplicate.
fn verdict_answer(verdict: &Verdict) -> HttpResponse {
    match verdict {
        Verdict::Accepted(Acceptance::Verification) => answer(200, "verified"),
        Verdict::Accepted(Acceptance::Queued) => answer(200, "accepted"),
        Verdict::Accepted(Acceptance::Recorded | Acceptance::Ignored) => answer(200, "recorded"),
        Verdict::Refused { refusal, reason } => answer(refused_status(*refusal), reason),
    }
}

/// The status Lever sees for a refused delivery: 413 for a body too large, 400 for one that is
/// not a delivery leverbridge can use, 401 for one whose signature or date cannot be trusted.
fn refused_status(refusal: Refusal) -> u16 {
    match refusal {
        Refusal::TooLarge => 413,
        Refusal::Malformed | Refusal::UnhandledEvent | Refusal::MissingFields => 400,
        Refusal::SignatureInvalid
        | Refusal::TokenUnreadable
        | Refusal::NoToken
        | Refusal::Stale => 401,
    }
}

fn answer(status: u16, message: &str) -> HttpResponse {
    let code = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    let body = if code.is_success() {
        json!({ "status": message })
    } else {
        json!({ "error": message })
    };
    HttpResponse::build(code).json(body)
}
