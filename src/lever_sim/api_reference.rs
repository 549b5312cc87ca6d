//! `/v1` reference data (users, stages, tags, sources, postings) and the webhooks API.

use actix_web::HttpResponse;
use serde_json::{json, Value};

use super::api::{ok_data, with_account, Ctx, Endpoint};
use super::error::ApiError;
use super::paging::page;
use super::state::{new_id, now_ms, Account, ApiWebhook, Shared, WEBHOOK_EVENTS};
use super::webhooks::new_signature_token;
use super::wire::{posting_json, stage_json, user_json};

pub(crate) fn handle(
    state: &Shared,
    ctx: &Ctx,
    endpoint: Endpoint,
) -> Result<HttpResponse, ApiError> {
    use Endpoint::*;
    let q = &ctx.query;
    with_account(state, ctx, |acct| match endpoint {
        ListUsers => {
            let with_deactivated = q.first("includeDeactivated") == Some("true");
            let emails = q.raw_all("email");
            let items = acct
                .users
                .iter()
                .filter(|u| with_deactivated || u.deactivated_at.is_none())
                .filter(|u| emails.is_empty() || emails.contains(&u.email.as_str()))
                .map(user_json)
                .collect();
            list(items, ctx)
        }
        GetUser(id) => acct
            .user(&id)
            .map(|u| ok_data(user_json(u)))
            .ok_or_else(|| ApiError::not_found("User", &id)),
        ListStages => list(acct.stages.iter().map(stage_json).collect(), ctx),
        GetStage(id) => acct
            .stage(&id)
            .map(|s| ok_data(stage_json(s)))
            .ok_or_else(|| ApiError::not_found("Stage", &id)),
        ListTags => list(tag_counts(acct), ctx),
        ListSources => {
            let counts = counts(acct.opportunities.iter().flat_map(|o| o.sources.iter()));
            list(counts, ctx)
        }
        ListPostings => {
            let tags = q.raw_all("tag");
            let items = acct
                .postings
                .iter()
                .filter(|p| tags.is_empty() || p.tags.iter().any(|t| tags.contains(&t.as_str())))
                .map(|p| posting_json(p, &state.base_url))
                .collect();
            list(items, ctx)
        }
        GetPosting(id) => acct
            .posting(&id)
            .map(|p| ok_data(posting_json(p, &state.base_url)))
            .ok_or_else(|| ApiError::not_found("Posting", &id)),
        ListWebhooks => {
            let omit = acct.faults.omit_webhook_tokens;
            list(
                acct.api_webhooks
                    .iter()
                    .map(|w| webhook_json(w, omit))
                    .collect(),
                ctx,
            )
        }
        DeleteWebhook(id) => {
            let before = acct.api_webhooks.len();
            acct.api_webhooks.retain(|w| w.id != id);
            if acct.api_webhooks.len() == before {
                return Err(ApiError::not_found("Webhook", &id));
            }
            Ok(HttpResponse::NoContent().finish())
        }
        _ => Err(ApiError::not_found("Resource", "")),
    })
}

fn list(items: Vec<Value>, ctx: &Ctx) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(page(items, &ctx.query)?))
}

fn counts<'a>(texts: impl Iterator<Item = &'a String>) -> Vec<Value> {
    let mut counts = std::collections::BTreeMap::<&str, u64>::new();
    for text in texts {
        *counts.entry(text.as_str()).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(text, count)| json!({ "text": text, "count": count }))
        .collect()
}

/// `{text, count}` over the account's opportunities and postings (case-sensitive).
fn tag_counts(acct: &Account) -> Vec<Value> {
    counts(
        acct.opportunities
            .iter()
            .flat_map(|o| o.tags.iter())
            .chain(acct.postings.iter().flat_map(|p| p.tags.iter())),
    )
}

/// A webhook as the Webhooks API shows it; `omit_token` leaves the signature token out.
fn webhook_json(w: &ApiWebhook, omit_token: bool) -> Value {
    let configuration = if omit_token {
        json!({ "conditions": null })
    } else {
        json!({ "conditions": null, "signatureToken": w.signature_token })
    };
    json!({
        "id": w.id,
        "event": w.event,
        "url": w.url,
        "configuration": configuration,
        "createdAt": w.created_at,
        "updatedAt": w.created_at,
    })
}

/// `POST /webhooks {url, event}` → 201, double-wrapped as Lever documents it.
pub(crate) fn create_webhook(
    state: &Shared,
    ctx: &Ctx,
    body: Value,
) -> Result<HttpResponse, ApiError> {
    let url = body
        .get("url")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("Missing required field: url"))?;
    let parsed =
        url::Url::parse(url).map_err(|_| ApiError::bad_request(format!("Invalid url: {url}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ApiError::bad_request(format!("Invalid url: {url}")));
    }
    let event = body
        .get("event")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("Missing required field: event"))?;
    if !WEBHOOK_EVENTS.contains(&event) {
        return Err(ApiError::bad_request(format!("Invalid event: {event}")));
    }
    with_account(state, ctx, |acct| {
        let webhook = ApiWebhook {
            id: new_id(),
            event: event.to_string(),
            url: url.to_string(),
            signature_token: new_signature_token(),
            created_at: now_ms(),
        };
        let data = webhook_json(&webhook, acct.faults.omit_webhook_tokens);
        acct.api_webhooks.push(webhook);
        Ok(HttpResponse::Created().json(json!({ "data": { "data": data } })))
    })
}
