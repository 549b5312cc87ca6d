//! Webhook delivery exactly as Lever does it: a signed JSON POST, retried five more times
//! with growing gaps when it fails, with a delivery history per account.

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::actions::Event;
use super::state::{
    new_id, now_ms, random_alphanumeric, Account, Attempt, Delivery, DeliveryStatus, Shared,
};

/// The first attempt plus five retries.
pub(crate) const MAX_ATTEMPTS: u32 = 6;
const RESPONSE_BODY_LIMIT: usize = 2048;
const HISTORY_LIMIT: usize = 500;

/// A delivery recorded in the history and not yet sent.
pub(crate) struct Pending {
    pub account_id: String,
    pub delivery_id: String,
    pub url: String,
    pub body: Vec<u8>,
}

/// Lever's signature: hex(HMAC-SHA256(key = signature token, message = token + triggeredAt)).
pub(crate) fn signature(signature_token: &str, token: &str, triggered_at: i64) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(signature_token.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(token.as_bytes());
    mac.update(triggered_at.to_string().as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A fresh signature token, like the ones Lever generates.
pub(crate) fn new_signature_token() -> String {
    random_alphanumeric(32)
}

pub(crate) fn signed_body(event: &str, data: Value, signature_token: &str) -> Value {
    let triggered_at = now_ms();
    let token = random_alphanumeric(48);
    json!({
        "id": new_id(),
        "triggeredAt": triggered_at,
        "event": event,
        "data": data,
        "token": token,
        "signature": signature(signature_token, &token, triggered_at),
    })
}

/// Every (url, signature token) that receives `event`: the admin setting when enabled,
/// and each webhook created through the API.
fn targets(acct: &Account, event: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = acct
        .webhooks
        .get(event)
        .filter(|w| w.enabled && !w.url.is_empty())
        .map(|w| (w.url.clone(), w.signature_token.clone()))
        .into_iter()
        .collect();
    out.extend(
        acct.api_webhooks
            .iter()
            .filter(|w| w.event == event)
            .map(|w| (w.url.clone(), w.signature_token.clone())),
    );
    out
}

/// Records one delivery per target of each event.
pub(crate) fn enqueue(acct: &mut Account, events: Vec<Event>) -> Vec<Pending> {
    let mut pending = Vec::new();
    for event in events {
        for (url, token) in targets(acct, event.name) {
            let body = signed_body(event.name, event.data.clone(), &token);
            pending.push(record(acct, event.name, &url, body, None));
        }
    }
    pending
}

/// Adds a delivery to the account's history.
pub(crate) fn record(
    acct: &mut Account,
    event: &str,
    url: &str,
    body: Value,
    rerun_of: Option<String>,
) -> Pending {
    let id = new_id();
    let bytes = serde_json::to_vec(&body).expect("JSON values serialize");
    acct.deliveries.push(Delivery {
        id: id.clone(),
        event: event.to_string(),
        url: url.to_string(),
        body,
        attempts: Vec::new(),
        status: DeliveryStatus::Pending,
        created_at: now_ms(),
        rerun_of,
    });
    if acct.deliveries.len() > HISTORY_LIMIT {
        acct.deliveries.remove(0);
    }
    Pending {
        account_id: acct.id.clone(),
        delivery_id: id,
        url: url.to_string(),
        body: bytes,
    }
}

pub(crate) fn delivery_json(d: &Delivery) -> Value {
    let attempts: Vec<Value> = d
        .attempts
        .iter()
        .map(|a| {
            json!({ "at": a.at, "status": a.status, "error": a.error, "responseBody": a.response_body })
        })
        .collect();
    json!({
        "id": d.id,
        "event": d.event,
        "url": d.url,
        "body": d.body,
        "attempts": attempts,
        "status": d.status.as_str(),
        "createdAt": d.created_at,
        "rerunOf": d.rerun_of,
    })
}

/// `{id, status, responseStatus}` of a delivery, as the control API answers a move.
pub(crate) fn delivery_summary(state: &Shared, account_id: &str, delivery_id: &str) -> Value {
    let world = state.lock();
    let delivery = world
        .account(account_id)
        .and_then(|a| a.deliveries.iter().find(|d| d.id == delivery_id));
    match delivery {
        Some(d) => json!({
            "id": d.id,
            "status": d.status.as_str(),
            "responseStatus": d.attempts.last().and_then(|a| a.status),
        }),
        None => json!({ "id": delivery_id, "status": "unknown", "responseStatus": null }),
    }
}

/// Sends the first attempt of each delivery and waits for them; retries go on in the background.
pub(crate) async fn deliver_first(state: &Shared, pending: Vec<Pending>) -> Vec<String> {
    let ids = pending.iter().map(|p| p.delivery_id.clone()).collect();
    let firsts = pending.into_iter().map(|p| {
        let state = state.clone();
        async move {
            if !attempt(&state, &p, 1).await {
                tokio::spawn(retry(state, p));
            }
        }
    });
    futures_util::future::join_all(firsts).await;
    ids
}

/// Sends every delivery in the background.
pub(crate) fn deliver_later(state: &Shared, pending: Vec<Pending>) {
    for p in pending {
        let state = state.clone();
        tokio::spawn(async move {
            if !attempt(&state, &p, 1).await {
                retry(state, p).await;
            }
        });
    }
}

async fn retry(state: Shared, p: Pending) {
    let mut gap = state.config.retry_base;
    for number in 2..=MAX_ATTEMPTS {
        tokio::time::sleep(gap).await;
        if attempt(&state, &p, number).await {
            return;
        }
        gap *= 2;
    }
}

/// One POST; records the attempt and returns whether it succeeded.
async fn attempt(state: &Shared, p: &Pending, number: u32) -> bool {
    let sent = state
        .http
        .post(&p.url)
        .header("Content-Type", "application/json")
        .header("User-Agent", "Lever-Webhooks")
        .timeout(state.config.delivery_timeout)
        .body(p.body.clone())
        .send()
        .await;
    let (status, error, response_body) = match sent {
        Ok(response) => {
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            (Some(status), None, truncate(body))
        }
        Err(e) if e.is_timeout() => (None, Some("timeout".to_string()), String::new()),
        Err(e) => (None, Some(error_chain(&e)), String::new()),
    };
    let ok = status.is_some_and(|s| (200..300).contains(&s));
    let mut world = state.lock();
    let delivery = world
        .account_mut(&p.account_id)
        .and_then(|a| a.deliveries.iter_mut().find(|d| d.id == p.delivery_id));
    if let Some(d) = delivery {
        d.attempts.push(Attempt {
            at: now_ms(),
            status,
            error,
            response_body,
        });
        d.status = if ok {
            DeliveryStatus::Succeeded
        } else if number >= MAX_ATTEMPTS {
            DeliveryStatus::Failed
        } else {
            DeliveryStatus::Pending
        };
    }
    ok
}

/// The error with its causes ("error sending request …: connection refused").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn truncate(mut body: String) -> String {
    if body.len() > RESPONSE_BODY_LIMIT {
        let mut end = RESPONSE_BODY_LIMIT;
        while !body.is_char_boundary(end) {
            end -= 1;
        }
        body.truncate(end);
    }
    body
}
