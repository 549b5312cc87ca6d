//! The control API under `/_sim/api` (not Lever's): set up accounts the way a Lever admin
//! would, and read back everything the simulated Lever holds.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::actions::{self, NewCandidate};
use super::control_events;
use super::control_oauth;
use super::error::{parse_control_json, ControlError};
use super::rate_limit::TokenBucket;
use super::state::{random_alphanumeric, Account, ApiKey, Shared, SimState};
use super::webhooks;
use super::wire::{opportunity_json, Expand};

pub(crate) type Data = web::Data<SimState>;
pub(crate) type Answer = Result<HttpResponse, ControlError>;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    use web::{delete, get, post};
    cfg.route("/accounts", post().to(create_account))
        .route("/accounts", get().to(list_accounts))
        .route("/accounts/{acct}", get().to(account_summary))
        .route("/accounts/{acct}/keys", post().to(create_key))
        .route("/accounts/{acct}/keys/{key}", delete().to(revoke_key))
        .route("/accounts/{acct}/users", post().to(create_user))
        .route("/accounts/{acct}/stages", post().to(create_stage))
        .route("/accounts/{acct}/postings", post().to(create_posting))
        .route("/accounts/{acct}/candidates", post().to(create_candidate))
        .route(
            "/accounts/{acct}/opportunities/{id}",
            get().to(opportunity_state),
        )
        .configure(control_events::routes)
        .configure(control_oauth::routes);
}

/// Runs `f` on one account under the lock; 404 when there is no such account.
pub(crate) fn with_acct<T>(
    state: &SimState,
    acct_id: &str,
    f: impl FnOnce(&mut Account) -> Result<T, ControlError>,
) -> Result<T, ControlError> {
    let mut world = state.lock();
    let acct = world
        .account_mut(acct_id)
        .ok_or_else(|| ControlError::not_found(format!("No account {acct_id}")))?;
    f(acct)
}

/// Sends the first attempt of each delivery and answers their summaries.
pub(crate) async fn first_attempts(
    state: &Shared,
    acct_id: &str,
    pending: Vec<webhooks::Pending>,
) -> Value {
    let ids = webhooks::deliver_first(state, pending).await;
    let summaries: Vec<Value> = ids
        .iter()
        .map(|id| webhooks::delivery_summary(state, acct_id, id))
        .collect();
    Value::Array(summaries)
}

#[derive(Deserialize)]
struct NewAccount {
    name: String,
}

async fn create_account(state: Data, body: web::Bytes) -> Answer {
    let new: NewAccount = parse_control_json(&body)?;
    if new.name.trim().is_empty() {
        return Err(ControlError::bad_request("name is required"));
    }
    let acct = Account::new(&new.name);
    let id = acct.id.clone();
    state.lock().accounts.push(acct);
    Ok(HttpResponse::Ok().json(json!({ "id": id })))
}

async fn list_accounts(state: Data) -> Answer {
    let world = state.lock();
    let accounts: Vec<Value> = world
        .accounts
        .iter()
        .map(|a| json!({ "id": a.id, "name": a.name }))
        .collect();
    Ok(HttpResponse::Ok().json(accounts))
}

async fn account_summary(state: Data, path: web::Path<String>) -> Answer {
    with_acct(&state, &path, |a| {
        Ok(HttpResponse::Ok().json(json!({
            "id": a.id,
            "name": a.name,
            "keys": a.keys.iter().map(|k| json!({
                "key": k.key, "label": k.label, "revoked": k.revoked, "permissions": k.permissions,
                "confidentialAccess": k.confidential_access,
            })).collect::<Vec<_>>(),
            "users": a.users.iter().map(|u| json!({
                "id": u.id, "name": u.name, "email": u.email, "accessRole": u.access_role,
                "deactivated": u.deactivated_at.is_some(),
            })).collect::<Vec<_>>(),
            "stages": a.stages.iter().map(|s| json!({ "id": s.id, "text": s.text, "hired": s.hired })).collect::<Vec<_>>(),
            "postings": a.postings.iter().map(|p| json!({ "id": p.id, "text": p.text, "tags": p.tags })).collect::<Vec<_>>(),
            "opportunities": a.opportunities.iter().map(|o| o.id.clone()).collect::<Vec<_>>(),
            "webhooks": control_events::webhook_settings(a),
            "apiWebhooks": a.api_webhooks.iter().map(|w| json!({
                "id": w.id, "event": w.event, "url": w.url, "signatureToken": w.signature_token,
            })).collect::<Vec<_>>(),
            "faults": a.faults,
        })))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewKey {
    permissions: Option<Vec<String>>,
    label: Option<String>,
    /// Access to confidential data (off unless asked for, as in Lever).
    #[serde(default)]
    confidential_access: bool,
}

async fn create_key(state: Data, path: web::Path<String>, body: web::Bytes) -> Answer {
    let new: NewKey = parse_control_json(&body)?;
    with_acct(&state, &path, |acct| {
        let key = random_alphanumeric(40);
        acct.keys.push(ApiKey {
            key: key.clone(),
            label: new.label,
            permissions: new.permissions.map(|p| p.into_iter().collect()),
            revoked: false,
            confidential_access: new.confidential_access,
            bucket: TokenBucket::default(),
        });
        Ok(HttpResponse::Ok().json(json!({ "key": key })))
    })
}

async fn revoke_key(state: Data, path: web::Path<(String, String)>) -> Answer {
    let (acct_id, key) = path.into_inner();
    with_acct(&state, &acct_id, |acct| {
        let api_key = acct
            .key_mut(&key)
            .ok_or_else(|| ControlError::not_found("No such key"))?;
        api_key.revoked = true;
        Ok(HttpResponse::Ok().json(json!({ "revoked": true })))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewUser {
    name: String,
    email: String,
    access_role: String,
    #[serde(default)]
    deactivated: bool,
}

async fn create_user(state: Data, path: web::Path<String>, body: web::Bytes) -> Answer {
    let new: NewUser = parse_control_json(&body)?;
    with_acct(&state, &path, |acct| {
        let id = actions::create_user(
            acct,
            &new.name,
            &new.email,
            &new.access_role,
            new.deactivated,
        )
        .map_err(ControlError::bad_request)?;
        Ok(HttpResponse::Ok().json(json!({ "id": id })))
    })
}

#[derive(Deserialize)]
struct NewStage {
    text: String,
    id: Option<String>,
    #[serde(default)]
    hired: bool,
}

async fn create_stage(state: Data, path: web::Path<String>, body: web::Bytes) -> Answer {
    let new: NewStage = parse_control_json(&body)?;
    with_acct(&state, &path, |acct| {
        let id = actions::create_stage(acct, &new.text, new.id.as_deref(), new.hired)
            .map_err(ControlError::bad_request)?;
        Ok(HttpResponse::Ok().json(json!({ "id": id })))
    })
}

#[derive(Deserialize)]
struct NewPosting {
    text: String,
    #[serde(default)]
    tags: Vec<String>,
}

async fn create_posting(state: Data, path: web::Path<String>, body: web::Bytes) -> Answer {
    let new: NewPosting = parse_control_json(&body)?;
    with_acct(&state, &path, |acct| {
        let id = actions::create_posting(acct, &new.text, new.tags)
            .map_err(ControlError::bad_request)?;
        Ok(HttpResponse::Ok().json(json!({ "id": id })))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewCandidateBody {
    name: String,
    #[serde(default)]
    email: String,
    posting_id: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    stage_id: Option<String>,
    owner_id: Option<String>,
    #[serde(default)]
    links: Vec<String>,
    #[serde(default)]
    sources: Vec<String>,
    /// A confidential opportunity: only keys with confidential access see it.
    #[serde(default)]
    confidential: bool,
}

/// Creates a candidate; when it applied to a posting, answers after the first attempt of
/// each `applicationCreated` delivery.
async fn create_candidate(state: Data, path: web::Path<String>, body: web::Bytes) -> Answer {
    let new: NewCandidateBody = parse_control_json(&body)?;
    let acct_id = path.into_inner();
    let (id, contact_id, pending) = with_acct(&state, &acct_id, |acct| {
        let new = NewCandidate {
            name: new.name,
            email: new.email,
            posting_id: new.posting_id,
            tags: new.tags,
            stage_id: new.stage_id,
            owner_id: new.owner_id,
            links: new.links,
            sources: new.sources,
            confidential: new.confidential,
        };
        let (id, contact_id, events) =
            actions::create_candidate(acct, new).map_err(ControlError::bad_request)?;
        Ok((id, contact_id, webhooks::enqueue(acct, events)))
    })?;
    let state = state.into_inner();
    let deliveries = first_attempts(&state, &acct_id, pending).await;
    Ok(HttpResponse::Ok()
        .json(json!({ "id": id, "contactId": contact_id, "deliveries": deliveries })))
}

/// The opportunity JSON plus its notes, files and feedback.
async fn opportunity_state(state: Data, path: web::Path<(String, String)>) -> Answer {
    let (acct_id, id) = path.into_inner();
    with_acct(&state, &acct_id, |acct| {
        let opp = acct
            .opportunity(&id)
            .ok_or_else(|| ControlError::not_found(format!("No opportunity {id}")))?;
        let mut out = opportunity_json(acct, opp, Expand::default(), &state.base_url);
        out["notes"] = opp
            .notes
            .iter()
            .map(|n| json!({
                "id": n.id, "value": n.value, "authorId": n.author_id, "score": n.score,
                "secret": n.secret, "notifyFollowers": n.notify_followers, "createdAt": n.created_at,
            }))
            .collect();
        out["files"] = opp
            .files
            .iter()
            .map(|f| {
                json!({
                    "id": f.id, "name": f.name, "size": f.bytes.len(), "authorId": f.author_id,
                    "contentType": f.content_type,
                })
            })
            .collect();
        out["feedback"] = opp
            .feedback
            .iter()
            .map(|f| {
                json!({
                    "id": f.id, "baseTemplateId": f.template_id, "fieldValues": f.field_values,
                    "authorId": f.author_id, "completedAt": f.completed_at,
                })
            })
            .collect();
        Ok(HttpResponse::Ok().json(out))
    })
}
