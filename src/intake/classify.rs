//! What a delivery is, decided in memory before anything is stored: whether Lever signed it,
//! whether it is fresh enough not to be a replay, which event it reports, and which job (if any)
//! it causes. The webhook handler only reads the request, asks here, and answers Lever with
//! what [`Verdict`] says.

use chrono::{DateTime, Duration, NaiveDateTime};

use super::Delivery;
use crate::assessments::withdrawal::LeftPipeline;
use crate::db;
use crate::db::webhooks::WebhookEvent;
use crate::domain::{
    webhook_event, DeliveryStatus, WebhookEventKind, ARCHIVE_CHANGE, DELETED, HIRED, STAGE_CHANGE,
    WEBHOOK_EVENTS,
};
use crate::jobs::{stage_change, withdrawal};
use crate::lever::{signature_is_valid, WebhookDelivery};
use crate::queue::NewJob;
use crate::telemetry::DeliveryOutcome;

/// Largest delivery accepted.
pub const BODY_LIMIT: usize = 64 * 1024;
/// How long before its arrival a signed delivery may have been triggered (see the constant).
const OLDEST_DAYS: i64 = crate::domain::REPLAY_WINDOW_DAYS;
/// How long after its arrival (the clocks of Lever and this server differ a little).
const NEWEST_DAYS: i64 = 1;
/// How much of a body is kept for the Events page.
const KEPT_BODY: usize = 8 * 1024;

/// The signature tokens an organization saved, one per webhook event: what a delivery to its
/// endpoint is checked against.
pub trait SigningTokens {
    /// The organization the endpoint belongs to.
    fn org_id(&self) -> &str;
    /// The event's token: `None` when none is saved, `Some(Err)` when it cannot be decrypted.
    fn token(&self, event: &str) -> Option<Result<&str, &str>>;
}

/// One delivery as it arrived at an organization's endpoint.
pub struct Arrival<'a> {
    /// The body, cut at [`BODY_LIMIT`].
    pub body: &'a [u8],
    /// Whether the body was longer than [`BODY_LIMIT`].
    pub too_large: bool,
    /// When it arrived, by the server's [`crate::clock::Clock`]; the replay window counts from it.
    pub received_at: NaiveDateTime,
}

/// A delivery checked against its organization's tokens: what to store, and what Lever is told
/// (unless the intake finds it a duplicate).
pub struct Classified {
    pub delivery: Delivery,
    pub verdict: Verdict,
}

/// What a checked delivery comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Signed (or an unsigned Verify connection request) and handled.
    Accepted(Acceptance),
    /// Refused: recorded with its reason, and nothing else changes.
    Refused { refusal: Refusal, reason: String },
}

/// What an accepted delivery does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acceptance {
    /// Lever's Verify connection request.
    Verification,
    /// Stored with the job it causes.
    Queued,
    /// Stored; leverbridge takes no action on the event.
    Recorded,
    /// Stored; the event needs nothing done (a candidate restored from the archive).
    Ignored,
}

/// Why a delivery was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    TooLarge,
    Malformed,
    UnhandledEvent,
    SignatureInvalid,
    TokenUnreadable,
    NoToken,
    /// Its `triggeredAt` is outside the replay window.
    Stale,
    MissingFields,
}

impl Refusal {
    /// How `GET /metrics` names it.
    pub fn name(self) -> &'static str {
        match self {
            Refusal::TooLarge => "too_large",
            Refusal::Malformed => "malformed",
            Refusal::UnhandledEvent => "unhandled_event",
            Refusal::SignatureInvalid => "signature_invalid",
            Refusal::TokenUnreadable => "token_unreadable",
            Refusal::NoToken => "no_token",
            Refusal::Stale => "stale",
            Refusal::MissingFields => "missing_fields",
        }
    }
}

impl Verdict {
    /// How `GET /metrics` counts the delivery once stored.
    pub fn counted_as(&self) -> DeliveryOutcome {
        match self {
            Verdict::Accepted(Acceptance::Verification) => {
                DeliveryOutcome::Accepted("verification")
            }
            Verdict::Accepted(Acceptance::Queued) => DeliveryOutcome::Accepted("queued"),
            Verdict::Accepted(Acceptance::Recorded) => DeliveryOutcome::Accepted("recorded"),
            Verdict::Accepted(Acceptance::Ignored) => DeliveryOutcome::Accepted("ignored"),
            Verdict::Refused { refusal, .. } => DeliveryOutcome::Rejected(refusal.name()),
        }
    }
}

/// Parses and verifies one delivery, without touching the database. Every delivery comes back
/// with an event to record; only an accepted one of a handled kind carries a job.
pub fn classify(org: &impl SigningTokens, arrival: Arrival<'_>, max_attempts: i32) -> Classified {
    let mut event = WebhookEvent {
        id: db::new_id(),
        org_id: org.org_id().to_owned(),
        received_at: arrival.received_at,
        event: "unknown".into(),
        token: None,
        triggered_at: None,
        opportunity_id: None,
        to_stage_id: None,
        signature_valid: false,
        status: DeliveryStatus::Rejected,
        outcome: String::new(),
        configuration_id: None,
        body: kept(arrival.body),
        candidate_name: None,
    };
    if arrival.too_large {
        let reason = format!("the body is larger than {} KiB", BODY_LIMIT / 1024);
        return refuse(event, Refusal::TooLarge, reason);
    }
    let delivery = match WebhookDelivery::parse(arrival.body) {
        Ok(delivery) => delivery,
        Err(e) => {
            return refuse(
                event,
                Refusal::Malformed,
                format!("malformed delivery: {e}"),
            )
        }
    };
    // Parsing refused any NUL character, so these fields store as they are.
    event.event = delivery.event.clone();
    event.token = Some(delivery.token.clone());
    event.triggered_at = Some(delivery.triggered_at);
    event.opportunity_id = delivery.opportunity_id();
    event.to_stage_id = delivery.stage_change().map(|s| s.to_stage_id);
    let Some(kind) = webhook_event(&delivery.event) else {
        let reason = format!("leverbridge does not handle the event “{}”", event.event);
        return refuse(event, Refusal::UnhandledEvent, reason);
    };
    let verification = delivery.is_verification();
    // Lever's Verify sample often names candidateHired whichever webhook is being verified: it
    // belongs to the webhook whose saved token signed it.
    let kind = match verification {
        true => verified_webhook(org, &delivery).unwrap_or(kind),
        false => kind,
    };
    event.event = kind.name.into();
    match signed(org, kind, &delivery, verification) {
        Ok(valid) => event.signature_valid = valid,
        Err((refusal, reason)) => return refuse(event, refusal, reason),
    }
    if verification {
        return verified(event, kind, &delivery);
    }
    // Not for a verification: Lever's sample may carry any date, and a shifted copy of one is
    // still only a verification (a copy made into a stage change is not, and is checked).
    if event.signature_valid {
        if let Some(reason) = stale(delivery.triggered_at, event.received_at) {
            return refuse(event, Refusal::Stale, reason);
        }
    }
    act_on(event, kind, &delivery, max_attempts)
}

/// Whether `delivery` carries the signature of `kind`'s saved token (`Ok(true)`), and why not.
/// Lever's "Verify connection" comes before the admin can copy the token, so a verification with
/// no token saved passes unchecked (`Ok(false)`).
fn signed(
    org: &impl SigningTokens,
    kind: &WebhookEventKind,
    delivery: &WebhookDelivery,
    verification: bool,
) -> Result<bool, (Refusal, String)> {
    match org.token(kind.name) {
        Some(Ok(token)) if signature_is_valid(token.as_bytes(), delivery) => Ok(true),
        Some(Ok(_)) => Err((Refusal::SignatureInvalid, "signature invalid".into())),
        Some(Err(e)) => {
            tracing::error!(error = %e, "a stored signature token cannot be decrypted");
            Err((
                Refusal::TokenUnreadable,
                "the saved signature token cannot be read; paste it again on the Webhooks page"
                    .into(),
            ))
        }
        None if verification => Ok(false),
        None => Err((
            Refusal::NoToken,
            format!(
                "no signature token is saved for {}; paste it on the Webhooks page",
                kind.label
            ),
        )),
    }
}

/// Lever's Verify connection request, recorded for the Webhooks page.
fn verified(
    mut event: WebhookEvent,
    kind: &WebhookEventKind,
    delivery: &WebhookDelivery,
) -> Classified {
    event.status = DeliveryStatus::Verification;
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
        "Lever's Verify connection request arrived (no signature token saved yet, so not checked)."
            .into()
    };
    // A signed one's token is remembered too: the signature does not cover `data`, so a
    // captured verification must not come back as a stage change. An unsigned one claims
    // nothing: anybody could send it, and its token must not shut out a real delivery.
    let deduplicate = event.signature_valid;
    Classified {
        delivery: Delivery {
            event,
            job: None,
            deduplicate,
        },
        verdict: Verdict::Accepted(Acceptance::Verification),
    }
}

/// A verified, fresh delivery of a handled event: the job it causes, or why it causes none.
fn act_on(
    mut event: WebhookEvent,
    kind: &WebhookEventKind,
    delivery: &WebhookDelivery,
    max_attempts: i32,
) -> Classified {
    let left = match kind.name {
        ARCHIVE_CHANGE => match delivery.to_archived() {
            Some(false) => {
                event.status = DeliveryStatus::Ignored;
                event.outcome = "The candidate was restored from the archive in Lever: nothing to do (a withdrawn assessment stays withdrawn; moving the candidate into a trigger stage sends a new one).".into();
                return recorded(event, Acceptance::Ignored);
            }
            // Archived, or not said: the job asks Lever.
            _ => Some(LeftPipeline::Archived),
        },
        HIRED => Some(LeftPipeline::Hired),
        DELETED => Some(LeftPipeline::Deleted),
        _ => None,
    };
    let job = match (left, delivery.stage_change()) {
        (Some(left), _) => {
            let Some(opportunity_id) = event.opportunity_id.clone() else {
                let reason = format!("a {} delivery needs data.opportunityId", kind.name);
                return refuse(event, Refusal::MissingFields, reason);
            };
            let payload = withdrawal::WithdrawalJob {
                opportunity_id,
                left: left.as_str().into(),
            };
            NewJob::of(&event.org_id, &payload, max_attempts).row()
        }
        (None, Some(change)) if kind.name == STAGE_CHANGE => {
            let payload = stage_change::StageChangeJob {
                opportunity_id: change.opportunity_id,
                to_stage_id: change.to_stage_id,
                send_now: None,
            };
            NewJob::of(&event.org_id, &payload, max_attempts).row()
        }
        (None, None) if kind.name == STAGE_CHANGE => {
            let reason =
                "a candidateStageChange delivery needs data.opportunityId and data.toStageId";
            return refuse(event, Refusal::MissingFields, reason.into());
        }
        (None, _) => {
            event.status = DeliveryStatus::Recorded;
            event.outcome = format!(
                "Recorded; leverbridge takes no action on {} yet.",
                kind.label
            );
            return recorded(event, Acceptance::Recorded);
        }
    };
    event.status = DeliveryStatus::Queued;
    event.outcome = "Accepted; queued for processing.".into();
    let mut job = job;
    job.event_id = Some(event.id.clone());
    Classified {
        delivery: Delivery {
            event,
            job: Some(job),
            deduplicate: true,
        },
        verdict: Verdict::Accepted(Acceptance::Queued),
    }
}

/// A verified delivery stored without a job.
fn recorded(event: WebhookEvent, acceptance: Acceptance) -> Classified {
    Classified {
        delivery: Delivery {
            event,
            job: None,
            deduplicate: true,
        },
        verdict: Verdict::Accepted(acceptance),
    }
}

/// The handled event whose saved token signed `delivery`, trying the event it names first.
fn verified_webhook(
    org: &impl SigningTokens,
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

/// A delivery that was refused: recorded with its reason. `refusal` names it for `GET /metrics`,
/// `reason` says it for the Events page and Lever.
fn refuse(mut event: WebhookEvent, refusal: Refusal, reason: String) -> Classified {
    event.outcome = format!("Rejected: {reason}");
    Classified {
        delivery: Delivery {
            event,
            job: None,
            deduplicate: false,
        },
        verdict: Verdict::Refused { refusal, reason },
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
    use serde_json::json;

    /// An organization's saved tokens, as the handler's key cache would hold them.
    struct Tokens(Vec<(&'static str, &'static str)>);

    impl SigningTokens for Tokens {
        fn org_id(&self) -> &str {
            "org"
        }
        fn token(&self, event: &str) -> Option<Result<&str, &str>> {
            self.0
                .iter()
                .find(|(e, _)| *e == event)
                .map(|(_, t)| Ok(*t))
        }
    }

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    fn ms(text: &str) -> i64 {
        at(text).and_utc().timestamp_millis()
    }

    fn check(keys: &Tokens, body: &[u8]) -> Classified {
        let arrival = Arrival {
            body,
            too_large: false,
            received_at: crate::clock::Clock::system().now(),
        };
        classify(keys, arrival, 3)
    }

    fn keys() -> Tokens {
        Tokens(vec![
            ("candidateHired", "hired-secret"),
            (STAGE_CHANGE, "change-secret"),
        ])
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
        let keys = keys();
        let signed = |event: &str, secret: &str, data: serde_json::Value| {
            let token = "t".repeat(48);
            // Lever's own documented sample date, 2015.
            let triggered_at = 1431454330072;
            let signature = crate::lever::sign(secret.as_bytes(), &token, triggered_at);
            serde_json::to_vec(&json!({"triggeredAt": triggered_at, "event": event,
                "data": data, "token": token, "signature": signature}))
            .unwrap()
        };
        let verification = check(&keys, &signed("candidateHired", "hired-secret", json!({})));
        assert_eq!(
            verification.verdict,
            Verdict::Accepted(Acceptance::Verification)
        );
        assert_eq!(
            verification.delivery.event.status,
            DeliveryStatus::Verification
        );
        let change = signed(
            STAGE_CHANGE,
            "change-secret",
            json!({"opportunityId": "o1", "toStageId": "s1"}),
        );
        let refused = check(&keys, &change);
        let Verdict::Refused { refusal, reason } = &refused.verdict else {
            panic!("accepted: {:?}", refused.verdict);
        };
        assert_eq!(*refusal, Refusal::Stale);
        assert!(reason.contains("possible replay"), "{reason}");
        assert!(refused.delivery.job.is_none());
    }

    #[test]
    fn a_verification_belongs_to_the_webhook_whose_token_signed_it() {
        let keys = keys();
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
        let checked = check(&keys, &sample("change-secret"));
        assert_eq!(checked.verdict, Verdict::Accepted(Acceptance::Verification));
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
        let hired = check(&keys, &sample("hired-secret"));
        assert_eq!(hired.delivery.event.event, "candidateHired");
        assert!(hired.delivery.event.signature_valid);
        // Signed by no saved token: refused as before.
        assert!(matches!(
            check(&keys, &sample("forged")).verdict,
            Verdict::Refused {
                refusal: Refusal::SignatureInvalid,
                ..
            }
        ));
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
