//! The simulated Lever API under `/v1`: one entry point that authenticates (an API key or an
//! OAuth access token), applies the account's faults and rate limit, checks the key's permission
//! or the grant's scope (before any id lookup), then routes.

use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde_json::Value;

use super::auth;
use super::error::ApiError;
use super::faults::{roll, TIMEOUT_HOLD};
use super::oauth::{scopes_allow, Bearer};
use super::query::Query;
use super::state::{RequestRecord, Shared, SimState, World};
use super::{api_feedback, api_notes_files, api_opportunities, api_reference};

pub(crate) use super::api_endpoints::Endpoint;

const REQUEST_LOG_LIMIT: usize = 2000;
const JSON_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// The caller of one API request, once authenticated.
pub(crate) struct Ctx {
    pub account_id: String,
    pub query: Query,
    /// The key may see confidential opportunities.
    pub confidential_access: bool,
}

impl Ctx {
    pub fn perform_as(&self) -> Option<&str> {
        self.query.first("perform_as")
    }
}

/// Who answers for a request: an API key, or an OAuth grant (through its access token).
enum Principal {
    Key(String),
    Grant(String),
}

/// Every request under `/v1` lands here.
pub(crate) async fn dispatch(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<SimState>,
) -> HttpResponse {
    let state: Shared = state.into_inner();
    let Some(credential) = auth::credential(&req) else {
        return ApiError::unauthorized(
            "Missing or malformed credentials (use HTTP Basic auth with an API key, or a Bearer token)",
        )
        .response();
    };
    let mut record = RequestRecord {
        method: req.method().to_string(),
        path: req.path().to_string(),
        query: req.query_string().to_string(),
        status: None,
        api_key_last4: String::new(),
        oauth_grant_id: None,
        perform_as: None,
        at_ms: super::state::now_ms(),
    };
    let mut held = false;
    let Some((account_id, result)) =
        gate(&state, &req, payload, &credential, &mut record, &mut held).await
    else {
        let message = match credential {
            auth::Credential::ApiKey(_) => "Invalid API key",
            auth::Credential::Bearer(_) => "Invalid access token",
        };
        return ApiError::unauthorized(message).response();
    };
    let response = result.unwrap_or_else(|e| e.response());
    if !held {
        record.status = Some(response.status().as_u16());
        log_request(&state, &account_id, record);
    }
    response
}

/// The caller behind a known credential.
struct Caller {
    account_id: String,
    principal: Principal,
    /// Why the credential may no longer be used (answered with a 401 that is logged).
    refused: Option<&'static str>,
    confidential_access: bool,
}

/// `None` when the simulator does not know the credential.
fn resolve(world: &mut World, credential: &auth::Credential) -> Option<Caller> {
    match credential {
        auth::Credential::ApiKey(key) => {
            let acct = world.account_of_key_mut(key)?;
            let (revoked, confidential_access) = acct
                .key_mut(key)
                .map_or((false, false), |k| (k.revoked, k.confidential_access));
            Some(Caller {
                account_id: acct.id.clone(),
                principal: Principal::Key(key.clone()),
                refused: (revoked || acct.faults.revoked).then_some("API key has been revoked"),
                confidential_access,
            })
        }
        auth::Credential::Bearer(token) => {
            let (grant, refused) = match world.oauth.bearer(token) {
                Bearer::Unknown => return None,
                Bearer::Refused { grant, reason } => (grant, Some(reason)),
                Bearer::Live(grant) => (grant, None),
            };
            let caller = Caller {
                account_id: grant.account_id.clone(),
                principal: Principal::Grant(grant.id.clone()),
                refused,
                // OAuth grants see no confidential data, like a key created without that access.
                confidential_access: false,
            };
            world.account(&caller.account_id)?;
            Some(caller)
        }
    }
}

/// Runs the request for a known credential; `None` when the credential is unknown. A request
/// held by the timeout fault is logged when the hold starts (`held`), with no status.
async fn gate(
    state: &Shared,
    req: &HttpRequest,
    payload: web::Payload,
    credential: &auth::Credential,
    record: &mut RequestRecord,
    held: &mut bool,
) -> Option<(String, Result<HttpResponse, ApiError>)> {
    let (caller, faults, scripted) = {
        let mut world = state.lock();
        let caller = resolve(&mut world, credential)?;
        let acct = world.account_mut(&caller.account_id)?;
        let scripted = acct.faults.take_scripted(req.method().as_str(), req.path());
        (caller, acct.faults.clone(), scripted)
    };
    let Caller {
        account_id,
        principal,
        refused,
        confidential_access,
    } = caller;
    match &principal {
        Principal::Key(key) => record.api_key_last4 = auth::last4(key),
        Principal::Grant(id) => {
            record.api_key_last4 = auth::last4(id);
            record.oauth_grant_id = Some(id.clone());
        }
    }
    let query = match Query::parse(req.query_string()) {
        Ok(q) => q,
        Err(e) => return Some((account_id, Err(e))),
    };
    record.perform_as = query.first("perform_as").map(str::to_string);
    if let Some(reason) = refused {
        return Some((account_id, Err(ApiError::unauthorized(reason))));
    }
    if faults.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(faults.latency_ms)).await;
    }
    if roll(faults.timeout_rate) {
        *held = true;
        log_request(state, &account_id, record.clone());
        tokio::time::sleep(TIMEOUT_HOLD).await;
        return Some((account_id, Err(ApiError::gateway_timeout())));
    }
    if roll(faults.error_5xx_rate) {
        let error = if rand::random::<bool>() {
            ApiError::internal()
        } else {
            ApiError::unavailable()
        };
        return Some((account_id, Err(error)));
    }
    if let Some(status) = scripted {
        return Some((account_id, Err(ApiError::scripted(status))));
    }
    if roll(faults.rate_429_rate) {
        return Some((
            account_id,
            Err(ApiError::too_many_requests(faults.retry_after)),
        ));
    }
    let ctx = Ctx {
        account_id: account_id.clone(),
        query,
        confidential_access,
    };
    let result = authorized(state, &ctx, req, payload, &principal, faults.retry_after).await;
    Some((account_id, result))
}

/// Takes a token from the caller's bucket and checks its permission (a key) or scope (a
/// grant), then hides confidential opportunities from callers without that access.
async fn authorized(
    state: &Shared,
    ctx: &Ctx,
    req: &HttpRequest,
    payload: web::Payload,
    principal: &Principal,
    retry_after: bool,
) -> Result<HttpResponse, ApiError> {
    let endpoint = Endpoint::route(req.method(), req.path());
    {
        let mut world = state.lock();
        match principal {
            Principal::Key(key) => {
                let api_key = world
                    .account_of_key_mut(key)
                    .and_then(|a| a.key_mut(key))
                    .ok_or_else(|| ApiError::unauthorized("Invalid API key"))?;
                if !api_key.bucket.try_take(state.config.rate_limit) {
                    return Err(ApiError::too_many_requests(retry_after));
                }
                if let Some(endpoint) = &endpoint {
                    if !api_key.allows(endpoint.permission()) {
                        return Err(ApiError::forbidden(endpoint.permission()));
                    }
                }
            }
            Principal::Grant(id) => {
                let grant = world
                    .oauth
                    .grant_mut(id)
                    .ok_or_else(|| ApiError::unauthorized("Invalid access token"))?;
                if !grant.bucket.try_take(state.config.rate_limit) {
                    return Err(ApiError::too_many_requests(retry_after));
                }
                if let Some(endpoint) = &endpoint {
                    if !scopes_allow(&grant.scopes, endpoint.scope()) {
                        return Err(ApiError::missing_scope(endpoint.scope()));
                    }
                }
            }
        }
        if let Some(id) = endpoint.as_ref().and_then(Endpoint::opportunity_id) {
            let hidden = world
                .account(&ctx.account_id)
                .and_then(|acct| acct.opportunity(id))
                .is_some_and(|opp| opp.is_confidential() && !ctx.confidential_access);
            if hidden {
                return Err(ApiError::confidential());
            }
        }
    }
    let Some(endpoint) = endpoint else {
        return Err(ApiError::not_found("Resource", req.path()));
    };
    handle(state, ctx, endpoint, req, payload).await
}

async fn handle(
    state: &Shared,
    ctx: &Ctx,
    endpoint: Endpoint,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    use Endpoint::*;
    match endpoint {
        UploadFile(id) => api_notes_files::upload_file(state, ctx, &id, req, payload).await,
        PutStage(id) => {
            let body = read_json(payload).await?;
            api_opportunities::put_stage(state, ctx, &id, body)
        }
        AddTags(id) | RemoveTags(id) | AddLinks(id) | RemoveLinks(id) => {
            let body = read_json(payload).await?;
            let last = req.path().rsplit('/').next().unwrap_or_default();
            api_opportunities::edit_tags_or_links(state, ctx, &id, last, body)
        }
        CreateNote(id) => {
            let body = read_json(payload).await?;
            api_notes_files::create_note(state, ctx, &id, body)
        }
        CreateFeedback(id) => {
            let body = read_json(payload).await?;
            api_feedback::create_feedback(state, ctx, &id, body)
        }
        CreateTemplate => {
            let body = read_json(payload).await?;
            api_feedback::create_template(state, ctx, body)
        }
        CreateWebhook => {
            let body = read_json(payload).await?;
            api_reference::create_webhook(state, ctx, body)
        }
        other => handle_without_body(state, ctx, other),
    }
}

fn handle_without_body(
    state: &Shared,
    ctx: &Ctx,
    endpoint: Endpoint,
) -> Result<HttpResponse, ApiError> {
    use Endpoint::*;
    match endpoint {
        ListOpportunities => api_opportunities::list(state, ctx),
        GetOpportunity(id) => api_opportunities::get(state, ctx, &id),
        ListApplications(id) => api_opportunities::applications(state, ctx, &id),
        ListNotes(id) => api_notes_files::list_notes(state, ctx, &id),
        DeleteNote(id, note) => api_notes_files::delete_note(state, ctx, &id, &note),
        ListFiles(id) => api_notes_files::list_files(state, ctx, &id),
        DeleteFile(id, file) => api_notes_files::delete_file(state, ctx, &id, &file),
        DownloadFile(id, file) => api_notes_files::download_file(state, ctx, &id, &file),
        ListFeedback(id) => api_feedback::list_feedback(state, ctx, &id),
        ListTemplates => api_feedback::list_templates(state, ctx),
        other => api_reference::handle(state, ctx, other),
    }
}

/// Reads a JSON body; anything that is not a JSON object is a 400.
pub(crate) async fn read_json(mut payload: web::Payload) -> Result<Value, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request(format!("Could not read body: {e}")))?;
        if body.len() + chunk.len() > JSON_BODY_LIMIT {
            return Err(ApiError::too_large("Request body too large"));
        }
        body.extend_from_slice(&chunk);
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err(ApiError::bad_request("Request body must be a JSON object")),
        Err(e) => Err(ApiError::bad_request(format!("Invalid JSON body: {e}"))),
    }
}

fn log_request(state: &Shared, account_id: &str, record: RequestRecord) {
    let mut world = state.lock();
    if let Some(acct) = world.account_mut(account_id) {
        acct.requests.push(record);
        if acct.requests.len() > REQUEST_LOG_LIMIT {
            acct.requests.remove(0);
        }
    }
}

/// Runs `f` on the caller's account under the lock.
pub(crate) fn with_account<T>(
    state: &Shared,
    ctx: &Ctx,
    f: impl FnOnce(&mut super::state::Account) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let mut world = state.lock();
    let acct = world
        .account_mut(&ctx.account_id)
        .ok_or_else(|| ApiError::unauthorized("Invalid API key"))?;
    f(acct)
}

/// `200 {"data": …}`.
pub(crate) fn ok_data(data: Value) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "data": data }))
}

/// A JSON array of strings from `body[field]`, or a 400 naming the field.
pub(crate) fn string_list(body: &Value, field: &str) -> Result<Vec<String>, ApiError> {
    let invalid = || ApiError::bad_request(format!("{field} must be an array of strings"));
    let Some(items) = body.get(field) else {
        return Err(ApiError::bad_request(format!(
            "Missing required field: {field}"
        )));
    };
    items
        .as_array()
        .ok_or_else(invalid)?
        .iter()
        .map(|item| item.as_str().map(str::to_string).ok_or_else(invalid))
        .collect()
}
