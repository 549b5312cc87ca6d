//! `POST /webhooks/lever/{endpoint key}`: Lever's signed deliveries.
//!
//! Nothing in a delivery is trusted before its signature is checked, in memory, against the
//! event's token. A valid delivery is stored together with the job it causes, in one
//! transaction, before Lever gets its 2xx (see `intake`); a rejected one is recorded (when its
//! organization is known) and changes nothing else.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, NaiveDateTime};
use futures_util::StreamExt;
use serde_json::json;

use super::webhook_keys::OrgKeys;
use super::AppState;
use crate::assessments::withdrawal::LeftPipeline;
use crate::db;
use crate::db::webhooks::WebhookEvent;
use crate::domain::{
    webhook_event, WebhookEventKind, ARCHIVE_CHANGE, DELETED, HIRED, STAGE_CHANGE, WEBHOOK_EVENTS,
};
use crate::intake::{Delivery, IntakeError, Stored};
use crate::jobs::{stage_change, withdrawal};
use crate::lever::{signature_is_valid, WebhookDelivery};
use crate::queue;
use crate::telemetry::{self, DeliveryOutcome};

/// Largest delivery accepted.
pub const BODY_LIMIT: usize = 64 * 1024;
/// How long before its arrival a signed delivery may have been triggered (see the constant).
const OLDEST_DAYS: i64 = crate::domain::REPLAY_WINDOW_DAYS;
/// How long after its arrival (the clocks of Lever and this server differ a little).
const NEWEST_DAYS: i64 = 1;
/// What a shed delivery's `Retry-After` asks of Lever, in seconds.
const RETRY_AFTER_SECS: &str = "30";
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
            Some(Err(_)) => {
                telemetry::delivery(DeliveryOutcome::Rejected("unreadable_body"));
                return answer(400, "the request body could not be read");
            }
            None => break,
        }
    }
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
    let checked = check(
        &org,
        &body,
        too_large,
        state.settings.tuning.job_max_attempts,
    );
    let stored = state.intake.store(checked.delivery).await;
    telemetry::delivery(match &stored {
        Ok(Stored::Duplicate) => DeliveryOutcome::Duplicate,
        Ok(_) => checked.outcome,
        Err(IntakeError::Busy(_)) => DeliveryOutcome::NotStored("busy"),
        Err(_) => DeliveryOutcome::NotStored("store_failed"),
    });
    match stored {
        Ok(Stored::Duplicate) => answer(200, "duplicate"),
        Ok(_) => answer(checked.status, &checked.message),
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

/// A delivery checked against its organization's tokens: what to store, and Lever's answer
/// (unless the intake finds it a duplicate).
pub struct Checked {
    pub delivery: Delivery,
    pub status: u16,
    pub message: String,
    /// How `GET /metrics` counts it once stored.
    pub outcome: DeliveryOutcome,
}

/// Parses and verifies one delivery, without touching the database.
pub fn check(org: &OrgKeys, body: &[u8], too_large: bool, max_attempts: i32) -> Checked {
    let mut event = WebhookEvent {
        id: db::new_id(),
        org_id: org.org_id.clone(),
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
        candidate_name: None,
    };
    if too_large {
        return reject(
            event,
            413,
            "too_large",
            format!("the body is larger than {} KiB", BODY_LIMIT / 1024),
        );
    }
    let delivery = match WebhookDelivery::parse(body) {
        Ok(delivery) => delivery,
        Err(e) => return reject(event, 400, "malformed", format!("malformed delivery: {e}")),
    };
    let stage = delivery.stage_change();
    // Parsing refused any NUL character, so these fields store as they are.
    event.event = delivery.event.clone();
    event.token = Some(delivery.token.clone());
    event.triggered_at = Some(delivery.triggered_at);
    event.opportunity_id = delivery.opportunity_id();
    event.to_stage_id = stage.as_ref().map(|s| s.to_stage_id.clone());
    let Some(kind) = webhook_event(&delivery.event) else {
        let reason = format!("leverbridge does not handle the event “{}”", event.event);
        return reject(event, 400, "unhandled_event", reason);
    };
    let verification = delivery.is_verification();
    // Lever's Verify sample often names candidateHired whichever webhook is being verified: it
    // belongs to the webhook whose saved token signed it.
    let kind = match verification {
        true => verified_webhook(org, &delivery).unwrap_or(kind),
        false => kind,
    };
    event.event = kind.name.into();
    match org.token(kind.name) {
        Some(Ok(token)) if signature_is_valid(token.as_bytes(), &delivery) => {
            event.signature_valid = true
        }
        Some(Ok(_)) => return reject(event, 401, "signature_invalid", "signature invalid".into()),
        Some(Err(e)) => {
            tracing::error!(error = %e, "a stored signature token cannot be decrypted");
            return reject(
                event,
                401,
                "token_unreadable",
                "the saved signature token cannot be read; paste it again on the Webhooks page"
                    .into(),
            );
        }
        // Lever's "Verify connection" comes before the admin can copy the token: accept it.
        None if verification => {}
        None => {
            return reject(
                event,
                401,
                "no_token",
                format!(
                    "no signature token is saved for {}; paste it on the Webhooks page",
                    kind.label
                ),
            )
        }
    }
    // Not for a verification: Lever's sample may carry any date, and a shifted copy of one is
    // still only a verification (a copy made into a stage change is not, and is checked).
    if event.signature_valid && !verification {
        if let Some(reason) = stale(delivery.triggered_at, event.received_at) {
            return reject(event, 401, "stale", reason);
        }
    }
    if verification {
        event.status = "verification".into();
        let named = if delivery.event == kind.name {
            String::new()
        } else {
            format!(" (its sample names {})", delivery.event)
        };
        event.outcome = if event.signature_valid {
            format!(
                "Lever's Verify connection request for the {} webhook arrived{named}; signature valid.",
                kind.label
            )
        } else {
            "Lever's Verify connection request arrived (no signature token saved yet, so not checked).".into()
        };
        // A signed one's token is remembered too: the signature does not cover `data`, so a
        // captured verification must not come back as a stage change. An unsigned one claims
        // nothing: anybody could send it, and its token must not shut out a real delivery.
        let deduplicate = event.signature_valid;
        return Checked {
            delivery: Delivery {
                event,
                job: None,
                deduplicate,
            },
            status: 200,
            message: "verified".into(),
            outcome: DeliveryOutcome::Accepted("verification"),
        };
    }
    let left = match kind.name {
        ARCHIVE_CHANGE => match delivery.to_archived() {
            Some(false) => {
                event.status = "ignored".into();
                event.outcome = "The candidate was restored from the archive in Lever: nothing to do (a withdrawn assessment stays withdrawn; moving the candidate into a trigger stage sends a new one).".into();
                return recorded(event);
            }
            // Archived, or not said: the job asks Lever.
            _ => Some(LeftPipeline::Archived),
        },
        HIRED => Some(LeftPipeline::Hired),
        DELETED => Some(LeftPipeline::Deleted),
        _ => None,
    };
    let job = match (left, stage) {
        (Some(left), _) => {
            let Some(opportunity_id) = event.opportunity_id.clone() else {
                return reject(
                    event,
                    400,
                    "missing_fields",
                    format!("a {} delivery needs data.opportunityId", kind.name),
                );
            };
            let payload = withdrawal::Payload {
                opportunity_id,
                left: left.as_str().into(),
            };
            queue::NewJob::of(&org.org_id, &payload, max_attempts).row()
        }
        (None, Some(change)) if kind.name == STAGE_CHANGE => {
            let payload = stage_change::Payload {
                opportunity_id: change.opportunity_id,
                to_stage_id: change.to_stage_id,
                send_now: None,
            };
            queue::NewJob::of(&org.org_id, &payload, max_attempts).row()
        }
        (None, None) if kind.name == STAGE_CHANGE => {
            return reject(
                event,
                400,
                "missing_fields",
                "a candidateStageChange delivery needs data.opportunityId and data.toStageId"
                    .into(),
            )
        }
        (None, _) => {
            event.status = "recorded".into();
            event.outcome = format!(
                "Recorded; leverbridge takes no action on {} yet.",
                kind.label
            );
            return recorded(event);
        }
    };
    event.status = "queued".into();
    event.outcome = "Accepted; queued for processing.".into();
    let mut job = job;
    job.event_id = Some(event.id.clone());
    Checked {
        delivery: Delivery {
            event,
            job: Some(job),
            deduplicate: true,
        },
        status: 200,
        message: "accepted".into(),
        outcome: DeliveryOutcome::Accepted("queued"),
    }
}

/// A verified delivery stored without a job.
fn recorded(event: WebhookEvent) -> Checked {
    Checked {
        outcome: DeliveryOutcome::accepted(&event.status),
        delivery: Delivery {
            event,
            job: None,
            deduplicate: true,
        },
        status: 200,
        message: "recorded".into(),
    }
}

/// The handled event whose saved token signed `delivery`, trying the event it names first.
fn verified_webhook(
    org: &OrgKeys,
    delivery: &WebhookDelivery,
) -> Option<&'static WebhookEventKind> {
    webhook_event(&delivery.event)
        .into_iter()
        .chain(WEBHOOK_EVENTS)
        .find(|kind| {
            matches!(org.token(kind.name),
                Some(Ok(token)) if signature_is_valid(token.as_bytes(), delivery))
        })
}

/// Why a validly signed delivery is refused for its `triggeredAt`, if it is. The signature covers
/// `token` and `triggeredAt` written one after the other, so a captured delivery sent again with
/// digits moved between the two still verifies, under a token never seen before. Moving a digit
/// shifts `triggeredAt` tenfold or more (decades), far outside this window.
fn stale(triggered_at: i64, received_at: NaiveDateTime) -> Option<String> {
    let refused = |when: String, how: &str| {
        Some(format!(
            "triggeredAt ({when}) is {how} the delivery arrived; refused as a possible replay"
        ))
    };
    let Some(triggered) = DateTime::from_timestamp_millis(triggered_at) else {
        return refused(triggered_at.to_string(), "nowhere near when");
    };
    let triggered = triggered.naive_utc();
    let when = || triggered.format("%-d %b %Y %H:%M:%S UTC").to_string();
    if triggered < received_at - Duration::days(OLDEST_DAYS) {
        refused(when(), "more than a year before")
    } else if triggered > received_at + Duration::days(NEWEST_DAYS) {
        refused(when(), "more than a day after")
    } else {
        None
    }
}

/// A delivery that was refused: recorded with its reason, and Lever's answer.
/// `reason` names it for `GET /metrics`, `outcome` says it for the Events page and Lever.
fn reject(mut event: WebhookEvent, status: u16, reason: &'static str, outcome: String) -> Checked {
    event.outcome = format!("Rejected: {outcome}");
    Checked {
        outcome: DeliveryOutcome::Rejected(reason),
        delivery: Delivery {
            event,
            job: None,
            deduplicate: false,
        },
        status,
        message: outcome,
    }
}

/// Text as it can be stored: PostgreSQL's text holds no NUL character, and a body that is not
/// JSON may carry one.
fn storable(text: &str) -> String {
    text.replace('\0', "\u{FFFD}")
}

fn kept(body: &[u8]) -> String {
    let text = storable(&String::from_utf8_lossy(&body[..body.len().min(KEPT_BODY)]));
    if body.len() > KEPT_BODY {
        format!("{text}… ({} bytes in all)", body.len())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    fn ms(text: &str) -> i64 {
        at(text).and_utc().timestamp_millis()
    }

    #[test]
    fn deliveries_triggered_within_the_window_are_fresh() {
        let arrived = at("2026-11-22 12:00:00");
        for triggered in [
            "2026-11-22 11:59:59",
            "2026-11-22 12:00:05",
            "2026-11-23 11:00:00",
            "2025-11-23 12:00:00",
        ] {
            assert_eq!(stale(ms(triggered), arrived), None, "{triggered}");
        }
    }

    #[test]
    fn deliveries_far_from_their_arrival_are_refused_with_the_date() {
        let arrived = at("2026-11-22 12:00:00");
        let old = stale(ms("2025-11-21 12:00:00"), arrived).unwrap();
        assert!(
            old.contains("21 Nov 2025 12:00:00 UTC") && old.contains("more than a year before")
        );
        let future = stale(ms("2026-11-23 12:00:01"), arrived).unwrap();
        assert!(future.contains("more than a day after"), "{future}");
        assert!(stale(i64::MAX, arrived).unwrap().contains("nowhere near"));
    }

    #[test]
    fn an_old_verification_is_accepted_but_an_old_stage_change_is_not() {
        let keys = OrgKeys::with_tokens(
            "org",
            &[
                ("candidateHired", "hired-secret"),
                (STAGE_CHANGE, "change-secret"),
            ],
        );
        let signed = |event: &str, secret: &str, data: serde_json::Value| {
            let token = "t".repeat(48);
            // Lever's own documented sample date, 2015.
            let triggered_at = 1431454330072;
            let signature = crate::lever::sign(secret.as_bytes(), &token, triggered_at);
            serde_json::to_vec(&json!({"triggeredAt": triggered_at, "event": event,
                "data": data, "token": token, "signature": signature}))
            .unwrap()
        };
        let verification = check(
            &keys,
            &signed("candidateHired", "hired-secret", json!({})),
            false,
            3,
        );
        assert_eq!(verification.status, 200);
        assert_eq!(verification.delivery.event.status, "verification");
        let change = signed(
            STAGE_CHANGE,
            "change-secret",
            json!({"opportunityId": "o1", "toStageId": "s1"}),
        );
        let refused = check(&keys, &change, false, 3);
        assert_eq!(refused.status, 401);
        assert!(
            refused.message.contains("possible replay"),
            "{}",
            refused.message
        );
        assert!(refused.delivery.job.is_none());
    }

    #[test]
    fn a_verification_belongs_to_the_webhook_whose_token_signed_it() {
        let keys = OrgKeys::with_tokens(
            "org",
            &[
                ("candidateHired", "hired-secret"),
                (STAGE_CHANGE, "change-secret"),
            ],
        );
        let sample = |secret: &str| {
            let token = "v".repeat(48);
            let triggered_at = 1431454330072;
            let signature = crate::lever::sign(secret.as_bytes(), &token, triggered_at);
            serde_json::to_vec(
                &json!({"triggeredAt": triggered_at, "event": "candidateHired",
                "data": {}, "token": token, "signature": signature}),
            )
            .unwrap()
        };
        // Verifying the stage-change webhook: Lever's sample names candidateHired.
        let checked = check(&keys, &sample("change-secret"), false, 3);
        assert_eq!(checked.status, 200);
        let event = &checked.delivery.event;
        assert_eq!(
            (
                event.event.as_str(),
                event.status.as_str(),
                event.signature_valid
            ),
            (STAGE_CHANGE, "verification", true)
        );
        assert!(
            event.outcome.contains(
                "Candidate Stage Change webhook arrived (its sample names candidateHired)"
            ),
            "{}",
            event.outcome
        );
        // Verifying the hired webhook stays the hired webhook's.
        let hired = check(&keys, &sample("hired-secret"), false, 3);
        assert_eq!(hired.delivery.event.event, "candidateHired");
        assert!(hired.delivery.event.signature_valid);
        // Signed by no saved token: refused as before.
        assert_eq!(check(&keys, &sample("forged"), false, 3).status, 401);
    }

    #[test]
    fn a_digit_moved_between_token_and_triggered_at_is_refused() {
        let arrived = at("2026-11-22 12:00:00");
        let triggered = ms("2026-11-22 11:59:58");
        let text = triggered.to_string();
        // The leading digit moved onto the token's end, or a token's trailing digit moved in front.
        let shorter: i64 = text[1..].parse().unwrap();
        let longer: i64 = format!("7{text}").parse().unwrap();
        assert!(stale(shorter, arrived).is_some());
        assert!(stale(longer, arrived).is_some());
    }
}
