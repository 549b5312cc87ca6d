//! Control API for what happens to candidates (move, tag, archive, delete), webhook
//! settings and deliveries, faults and the request log.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::actions::{self, ActionError};
use super::control::{first_attempts, with_acct, Answer, Data};
use super::error::{parse_control_json, ControlError};
use super::faults::FaultsUpdate;
use super::state::{Account, Shared, WebhookSetting, WEBHOOK_EVENTS};
use super::webhooks::{self, delivery_json, new_signature_token, signed_body};
use super::wire::{opportunity_json, Expand};

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    use web::{delete, get, post, put};
    cfg.route(
        "/accounts/{acct}/opportunities/{id}/stage",
        post().to(move_stage),
    )
    .route(
        "/accounts/{acct}/opportunities/{id}/tags",
        post().to(edit_tags),
    )
    .route(
        "/accounts/{acct}/opportunities/{id}/archive",
        post().to(archive),
    )
    .route("/accounts/{acct}/opportunities/{id}/hire", post().to(hire))
    .route(
        "/accounts/{acct}/opportunities/{id}",
        delete().to(delete_opportunity),
    )
    .route("/accounts/{acct}/webhooks", get().to(list_webhooks))
    .route("/accounts/{acct}/webhooks/{event}", put().to(set_webhook))
    .route(
        "/accounts/{acct}/webhooks/{event}/verify",
        post().to(verify),
    )
    .route("/accounts/{acct}/deliveries", get().to(list_deliveries))
    .route("/accounts/{acct}/deliveries/{id}/rerun", post().to(rerun))
    .route("/accounts/{acct}/faults", put().to(set_faults))
    .route("/accounts/{acct}/faults", get().to(get_faults))
    .route("/accounts/{acct}/requests", get().to(list_requests))
    .route("/accounts/{acct}/requests", delete().to(clear_requests));
}

fn action_error(e: ActionError, opp_id: &str) -> ControlError {
    match e {
        ActionError::NoOpportunity => ControlError::not_found(format!("No opportunity {opp_id}")),
        ActionError::Invalid(message) => ControlError::bad_request(message),
    }
}

/// Applies an action that may fire webhooks; answers after each delivery's first attempt.
async fn act(
    state: Data,
    acct_id: &str,
    opp_id: &str,
    action: impl FnOnce(&mut Account) -> Result<Vec<actions::Event>, ActionError>,
) -> Answer {
    let pending = with_acct(&state, acct_id, |acct| {
        let events = action(acct).map_err(|e| action_error(e, opp_id))?;
        Ok(webhooks::enqueue(acct, events))
    })?;
    let state: Shared = state.into_inner();
    let deliveries = first_attempts(&state, acct_id, pending).await;
    Ok(HttpResponse::Ok().json(json!({ "deliveries": deliveries })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StageMove {
    stage_id: String,
}

async fn move_stage(state: Data, path: web::Path<(String, String)>, body: web::Bytes) -> Answer {
    let (acct_id, id) = path.into_inner();
    let to: StageMove = parse_control_json(&body)?;
    act(state, &acct_id, &id, |acct| {
        actions::move_stage(acct, &id, &to.stage_id, None)
    })
    .await
}

#[derive(Deserialize)]
struct TagEdit {
    #[serde(default)]
    add: Vec<String>,
    #[serde(default)]
    remove: Vec<String>,
}

async fn edit_tags(state: Data, path: web::Path<(String, String)>, body: web::Bytes) -> Answer {
    let (acct_id, id) = path.into_inner();
    let edit: TagEdit = parse_control_json(&body)?;
    with_acct(&state, &acct_id, |acct| {
        let opp = acct
            .opportunity_mut(&id)
            .ok_or_else(|| ControlError::not_found(format!("No opportunity {id}")))?;
        actions::edit_list(&mut opp.tags, &edit.add, &edit.remove);
        opp.updated_at = super::state::now_ms();
        let opp = acct.opportunity(&id).expect("just edited");
        Ok(HttpResponse::Ok().json(opportunity_json(
            acct,
            opp,
            Expand::default(),
            &state.base_url,
        )))
    })
}

#[derive(Deserialize)]
struct ArchiveChange {
    archived: bool,
    reason: Option<String>,
}

async fn archive(state: Data, path: web::Path<(String, String)>, body: web::Bytes) -> Answer {
    let (acct_id, id) = path.into_inner();
    let change: ArchiveChange = parse_control_json(&body)?;
    let reason = change
        .archived
        .then(|| change.reason.unwrap_or_else(|| "Archived".to_string()));
    act(state, &acct_id, &id, |acct| {
        actions::set_archived(acct, &id, reason.as_deref())
    })
    .await
}

/// Hires the candidate as Lever does: archived with the reason "Hired", which announces both
/// `candidateArchiveChange` and `candidateHired`.
async fn hire(state: Data, path: web::Path<(String, String)>) -> Answer {
    let (acct_id, id) = path.into_inner();
    act(state, &acct_id, &id, |acct| {
        actions::set_archived(acct, &id, Some(actions::HIRED_REASON))
    })
    .await
}

async fn delete_opportunity(state: Data, path: web::Path<(String, String)>) -> Answer {
    let (acct_id, id) = path.into_inner();
    act(state, &acct_id, &id, |acct| {
        actions::delete_opportunity(acct, &id)
    })
    .await
}

fn setting_json(event: &str, w: &WebhookSetting) -> Value {
    json!({ "event": event, "url": w.url, "enabled": w.enabled, "signatureToken": w.signature_token })
}

pub(crate) fn webhook_settings(acct: &Account) -> Vec<Value> {
    acct.webhooks
        .iter()
        .map(|(event, w)| setting_json(event, w))
        .collect()
}

async fn list_webhooks(state: Data, path: web::Path<String>) -> Answer {
    with_acct(&state, &path, |acct| {
        Ok(HttpResponse::Ok().json(webhook_settings(acct)))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebhookUpdate {
    url: String,
    enabled: Option<bool>,
    signature_token: Option<String>,
}

fn known_event(event: &str) -> Result<(), ControlError> {
    if WEBHOOK_EVENTS.contains(&event) {
        Ok(())
    } else {
        Err(ControlError::bad_request(format!(
            "Unknown event {event}; one of {}",
            WEBHOOK_EVENTS.join(", ")
        )))
    }
}

/// Sets an event's URL, as a Super Admin does in Lever's settings; keeps or generates the token.
async fn set_webhook(state: Data, path: web::Path<(String, String)>, body: web::Bytes) -> Answer {
    let (acct_id, event) = path.into_inner();
    known_event(&event)?;
    let update: WebhookUpdate = parse_control_json(&body)?;
    let url = url::Url::parse(&update.url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| ControlError::bad_request(format!("Invalid url: {}", update.url)))?;
    if update
        .signature_token
        .as_deref()
        .is_some_and(|t| t.is_empty())
    {
        return Err(ControlError::bad_request(
            "signatureToken must not be empty",
        ));
    }
    with_acct(&state, &acct_id, |acct| {
        let token = update
            .signature_token
            .or_else(|| acct.webhooks.get(&event).map(|w| w.signature_token.clone()))
            .unwrap_or_else(new_signature_token);
        let setting = WebhookSetting {
            url: url.to_string(),
            enabled: update.enabled.unwrap_or(true),
            signature_token: token,
        };
        let answer = setting_json(&event, &setting);
        acct.webhooks.insert(event.clone(), setting);
        Ok(HttpResponse::Ok().json(answer))
    })
}

/// "Verify connection": a sample delivery with `"data": {}`, answered after its first attempt.
async fn verify(state: Data, path: web::Path<(String, String)>) -> Answer {
    let (acct_id, event) = path.into_inner();
    known_event(&event)?;
    let pending = with_acct(&state, &acct_id, |acct| {
        let setting = acct
            .webhooks
            .get(&event)
            .ok_or_else(|| ControlError::bad_request(format!("No URL set for {event}")))?;
        let body = signed_body(&event, json!({}), &setting.signature_token);
        let url = setting.url.clone();
        Ok(webhooks::record(acct, &event, &url, body, None))
    })?;
    answer_delivery(state, &acct_id, pending).await
}

async fn answer_delivery(state: Data, acct_id: &str, pending: webhooks::Pending) -> Answer {
    let state: Shared = state.into_inner();
    let ids = webhooks::deliver_first(&state, vec![pending]).await;
    with_acct(&state, acct_id, |acct| {
        let delivery = acct
            .deliveries
            .iter()
            .find(|d| ids.contains(&d.id))
            .ok_or_else(|| ControlError::not_found("Delivery dropped from the history"))?;
        Ok(HttpResponse::Ok().json(delivery_json(delivery)))
    })
}

async fn list_deliveries(state: Data, path: web::Path<String>) -> Answer {
    with_acct(&state, &path, |acct| {
        let newest_first: Vec<Value> = acct.deliveries.iter().rev().map(delivery_json).collect();
        Ok(HttpResponse::Ok().json(newest_first))
    })
}

/// Re-sends a past delivery's body as-is (same token, signature and triggeredAt).
async fn rerun(state: Data, path: web::Path<(String, String)>) -> Answer {
    let (acct_id, id) = path.into_inner();
    let pending = with_acct(&state, &acct_id, |acct| {
        let past = acct
            .deliveries
            .iter()
            .find(|d| d.id == id)
            .ok_or_else(|| ControlError::not_found(format!("No delivery {id}")))?;
        let (event, url, body) = (past.event.clone(), past.url.clone(), past.body.clone());
        Ok(webhooks::record(acct, &event, &url, body, Some(id.clone())))
    })?;
    answer_delivery(state, &acct_id, pending).await
}

async fn set_faults(state: Data, path: web::Path<String>, body: web::Bytes) -> Answer {
    let update: FaultsUpdate = parse_control_json(&body)?;
    with_acct(&state, &path, |acct| {
        acct.faults
            .apply(update)
            .map_err(ControlError::bad_request)?;
        Ok(HttpResponse::Ok().json(&acct.faults))
    })
}

async fn get_faults(state: Data, path: web::Path<String>) -> Answer {
    with_acct(&state, &path, |acct| {
        Ok(HttpResponse::Ok().json(&acct.faults))
    })
}

async fn list_requests(state: Data, path: web::Path<String>) -> Answer {
    with_acct(&state, &path, |acct| {
        let log: Vec<Value> = acct
            .requests
            .iter()
            .map(|r| {
                json!({
                    "method": r.method, "path": r.path, "query": r.query, "status": r.status,
                    "apiKeyLast4": r.api_key_last4, "oauthGrantId": r.oauth_grant_id,
                    "performAs": r.perform_as, "atMs": r.at_ms,
                })
            })
            .collect();
        Ok(HttpResponse::Ok().json(log))
    })
}

async fn clear_requests(state: Data, path: web::Path<String>) -> Answer {
    with_acct(&state, &path, |acct| {
        acct.requests.clear();
        Ok(HttpResponse::NoContent().finish())
    })
}
