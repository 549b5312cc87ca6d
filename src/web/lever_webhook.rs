//! `POST /webhooks/lever/{endpoint key}`: Lever's signed deliveries.
//!
//! Nothing in a delivery is trusted before its signature is checked. A valid delivery is stored
//! together with the job it causes, in one transaction, before Lever gets its 2xx; a rejected
//! one is recorded (when its organization is known) and changes nothing else.

use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde_json::json;

use super::AppState;
use crate::crypto::SecretKey;
use crate::db::connection::write_transaction;
use crate::db::webhooks::WebhookEvent;
use crate::db::{self, DbConn, DbError};
use crate::domain::{webhook_event, STAGE_CHANGE};
use crate::jobs::{queue, stage_change};
use crate::lever::{signature_is_valid, WebhookDelivery};

/// Largest delivery accepted.
pub const BODY_LIMIT: usize = 64 * 1024;
/// How much of a body is kept for the Events page.
const KEPT_BODY: usize = 8 * 1024;

pub async fn receive(
    state: web::Data<AppState>,
    key: web::Path<String>,
    req: HttpRequest,
    mut payload: web::Payload,
) -> HttpResponse {
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
            Some(Err(_)) => return answer(400, "the request body could not be read"),
            None => break,
        }
    }
    let key = key.into_inner();
    let secret = state.settings.secret_key.clone();
    let max_attempts = state.settings.tuning.job_max_attempts;
    let result = state
        .db
        .run(move |conn| {
            Ok::<_, DbError>(ingest(conn, &secret, &key, &body, too_large, max_attempts))
        })
        .await;
    match result {
        Ok(Ok(Ingested {
            status,
            message,
            queued,
        })) => {
            if queued {
                state.jobs.wake();
            }
            answer(status, &message)
        }
        Ok(Err(e)) | Err(e) => {
            tracing::error!(error = %e, "failed to store a webhook delivery");
            // Not stored, so not acknowledged: Lever will deliver it again.
            answer(503, "the delivery could not be stored; Lever will retry it")
        }
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

pub struct Ingested {
    pub status: u16,
    pub message: String,
    /// A job was enqueued: wake a worker.
    pub queued: bool,
}

fn reply(status: u16, message: impl Into<String>) -> Result<Ingested, DbError> {
    Ok(Ingested {
        status,
        message: message.into(),
        queued: false,
    })
}

/// Verifies, deduplicates and stores one delivery (blocking; runs on the database pool).
pub fn ingest(
    conn: &mut DbConn,
    secret: &SecretKey,
    endpoint_key: &str,
    body: &[u8],
    too_large: bool,
    max_attempts: i32,
) -> Result<Ingested, DbError> {
    let Some(org_id) = db::webhooks::org_for_endpoint(conn, endpoint_key)? else {
        tracing::warn!("webhook delivery to an unknown endpoint key");
        return reply(404, "unknown webhook endpoint");
    };
    let mut event = WebhookEvent {
        id: db::new_id(),
        org_id: org_id.clone(),
        received_at: db::now(),
        event: "unknown".into(),
        token: None,
        triggered_at: None,
        opportunity_id: None,
        to_stage_id: None,
        signature_valid: false,
        status: "rejected".into(),
        outcome: String::new(),
        configuration_id: None,
        body: kept(body),
    };
    if too_large {
        return reject(
            conn,
            &mut event,
            413,
            format!("the body is larger than {} KiB", BODY_LIMIT / 1024),
        );
    }
    let delivery = match WebhookDelivery::parse(body) {
        Ok(delivery) => delivery,
        Err(e) => return reject(conn, &mut event, 400, format!("malformed delivery: {e}")),
    };
    let stage = delivery.stage_change();
    let mut event = WebhookEvent {
        event: delivery.event.clone(),
        token: Some(delivery.token.clone()),
        triggered_at: Some(delivery.triggered_at),
        opportunity_id: stage.as_ref().map(|s| s.opportunity_id.clone()),
        to_stage_id: stage.as_ref().map(|s| s.to_stage_id.clone()),
        ..event
    };
    let Some(kind) = webhook_event(&delivery.event) else {
        return reject(
            conn,
            &mut event,
            400,
            format!("leverbridge does not handle the event “{}”", delivery.event),
        );
    };
    let token = match db::webhooks::token(conn, &org_id, kind.name)? {
        Some(sealed) => {
            match secret.open(&token_context(&org_id, kind.name), &sealed.token_sealed) {
                Ok(token) => Some(token),
                Err(e) => {
                    tracing::error!(error = %e, "a stored signature token cannot be decrypted");
                    return reject(conn, &mut event, 401, "the saved signature token cannot be read; paste it again on the Webhooks page".into());
                }
            }
        }
        None => None,
    };
    let verification = delivery.is_verification();
    match &token {
        Some(token) if signature_is_valid(token.as_bytes(), &delivery) => {
            event.signature_valid = true
        }
        Some(_) => return reject(conn, &mut event, 401, "signature invalid".into()),
        // Lever's "Verify connection" comes before the admin can copy the token: accept it.
        None if verification => {}
        None => {
            return reject(
                conn,
                &mut event,
                401,
                format!(
                    "no signature token is saved for {}; paste it on the Webhooks page",
                    kind.label
                ),
            )
        }
    }
    if verification {
        event.status = "verification".into();
        event.outcome = if event.signature_valid {
            "Lever's Verify connection request arrived; signature valid.".into()
        } else {
            "Lever's Verify connection request arrived (no signature token saved yet, so not checked).".into()
        };
        db::webhooks::insert_event(conn, &event)?;
        return reply(200, "verified");
    }
    if kind.name == STAGE_CHANGE && stage.is_none() {
        return reject(
            conn,
            &mut event,
            400,
            "a candidateStageChange delivery needs data.opportunityId and data.toStageId".into(),
        );
    }
    write_transaction(conn, |conn| -> Result<Ingested, DbError> {
        if !db::webhooks::remember_token(conn, &org_id, &delivery.token, &event.id)? {
            let first = db::webhooks::first_event_with_token(conn, &org_id, &delivery.token)?
                .unwrap_or_default();
            event.status = "duplicate".into();
            event.outcome = format!(
                "Duplicate of event {} (the same delivery token, a retry or replay); nothing was done.",
                &first[..first.len().min(8)]
            );
            db::webhooks::insert_event(conn, &event)?;
            return reply(200, "duplicate");
        }
        match &stage {
            Some(change) if kind.name == STAGE_CHANGE => {
                event.status = "queued".into();
                event.outcome = "Accepted; queued for processing.".into();
                db::webhooks::insert_event(conn, &event)?;
                let payload = stage_change::Payload {
                    opportunity_id: change.opportunity_id.clone(),
                    to_stage_id: change.to_stage_id.clone(),
                };
                queue::enqueue(
                    conn,
                    queue::NewJob {
                        org_id: &org_id,
                        kind: stage_change::KIND,
                        payload: serde_json::to_value(payload).expect("serialisable"),
                        event_id: Some(&event.id),
                        max_attempts,
                    },
                )?;
                Ok(Ingested {
                    status: 200,
                    message: "accepted".into(),
                    queued: true,
                })
            }
            _ => {
                event.status = "recorded".into();
                event.outcome = format!(
                    "Recorded; leverbridge takes no action on {} yet.",
                    kind.label
                );
                db::webhooks::insert_event(conn, &event)?;
                reply(200, "recorded")
            }
        }
    })
}

/// Records a delivery that was refused, and the answer Lever gets.
fn reject(
    conn: &mut DbConn,
    event: &mut WebhookEvent,
    status: u16,
    outcome: String,
) -> Result<Ingested, DbError> {
    event.outcome = format!("Rejected: {outcome}");
    db::webhooks::insert_event(conn, event)?;
    reply(status, outcome)
}

/// The context a signature token is sealed under.
pub fn token_context(org_id: &str, event: &str) -> String {
    format!("webhook-token:{org_id}:{event}")
}

fn kept(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(KEPT_BODY)]).into_owned();
    if body.len() > KEPT_BODY {
        format!("{text}… ({} bytes in all)", body.len())
    } else {
        text
    }
}
