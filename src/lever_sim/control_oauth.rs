//! Control API for OAuth under `/_sim/api/oauth` (not Lever's): register an app as Lever's team
//! does for a partner, read back its grants, and revoke a grant or expire its access tokens.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::control::{Answer, Data};
use super::error::{parse_control_json, ControlError};
use super::oauth::{Grant, OAuthApp, DEFAULT_TOKEN_LIFETIME_SECS};
use super::state::random_alphanumeric;

/// Generous enough for any test, short of overflowing a token's `exp`.
const MAX_TOKEN_LIFETIME_SECS: u64 = 366 * 24 * 3600;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    use web::{get, post};
    cfg.route("/oauth/apps", post().to(register_app))
        .route("/oauth/apps/{client_id}", get().to(read_app))
        .route("/oauth/grants/{id}/revoke", post().to(revoke_grant))
        .route(
            "/oauth/grants/{id}/expire-access-tokens",
            post().to(expire_access_tokens),
        );
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewApp {
    name: String,
    client_id: Option<String>,
    client_secret: Option<String>,
    redirect_uris: Vec<String>,
    token_lifetime_secs: Option<u64>,
}

/// A redirect URI must be an absolute http(s) URL without a fragment (RFC 6749 §3.1.2).
fn check_redirect_uri(uri: &str) -> Result<(), ControlError> {
    let parsed = url::Url::parse(uri)
        .map_err(|_| ControlError::bad_request(format!("Invalid redirect URI: {uri}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.fragment().is_some() {
        return Err(ControlError::bad_request(format!(
            "A redirect URI must be http(s) without a fragment: {uri}"
        )));
    }
    Ok(())
}

/// Registers an app, or replaces the registration with the same `clientId` (its grants stay).
async fn register_app(state: Data, body: web::Bytes) -> Answer {
    let new: NewApp = parse_control_json(&body)?;
    if new.name.trim().is_empty() {
        return Err(ControlError::bad_request("name is required"));
    }
    if new.redirect_uris.is_empty() {
        return Err(ControlError::bad_request(
            "redirectUris needs at least one URI",
        ));
    }
    for uri in &new.redirect_uris {
        check_redirect_uri(uri)?;
    }
    let lifetime = new
        .token_lifetime_secs
        .unwrap_or(DEFAULT_TOKEN_LIFETIME_SECS);
    if lifetime > MAX_TOKEN_LIFETIME_SECS {
        return Err(ControlError::bad_request(format!(
            "tokenLifetimeSecs must be at most {MAX_TOKEN_LIFETIME_SECS}"
        )));
    }
    let non_empty = |v: Option<String>| v.filter(|s| !s.is_empty());
    let app = OAuthApp {
        client_id: non_empty(new.client_id).unwrap_or_else(|| random_alphanumeric(32)),
        client_secret: non_empty(new.client_secret).unwrap_or_else(|| random_alphanumeric(64)),
        name: new.name,
        redirect_uris: new.redirect_uris,
        token_lifetime_secs: lifetime,
    };
    let answer = json!({
        "clientId": app.client_id,
        "clientSecret": app.client_secret,
        "name": app.name,
        "redirectUris": app.redirect_uris,
        "tokenLifetimeSecs": app.token_lifetime_secs,
    });
    state.lock().oauth.register(app);
    Ok(HttpResponse::Created().json(answer))
}

fn grant_json(g: &Grant) -> Value {
    json!({
        "id": g.id,
        "accountId": g.account_id,
        "userId": g.user_id,
        "scopes": g.scopes,
        "revoked": g.revoked,
        "refreshes": g.refreshes,
        "accessTokensIssued": g.access_tokens_issued,
        "createdAt": g.created_at,
    })
}

/// The app (without its secret) and every grant given to it, oldest first.
async fn read_app(state: Data, path: web::Path<String>) -> Answer {
    let world = state.lock();
    let app = world
        .oauth
        .app(&path)
        .ok_or_else(|| ControlError::not_found(format!("No app {}", path.as_str())))?;
    let grants: Vec<Value> = world
        .oauth
        .grants
        .iter()
        .filter(|g| g.client_id == app.client_id)
        .map(grant_json)
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "clientId": app.client_id,
        "name": app.name,
        "redirectUris": app.redirect_uris,
        "tokenLifetimeSecs": app.token_lifetime_secs,
        "grants": grants,
    })))
}

/// Lever's *Revoke Access*: the grant's access and refresh tokens stop working.
async fn revoke_grant(state: Data, path: web::Path<String>) -> Answer {
    if !state.lock().oauth.revoke_grant(&path) {
        return Err(ControlError::not_found(format!(
            "No grant {}",
            path.as_str()
        )));
    }
    Ok(HttpResponse::Ok().json(json!({ "revoked": true })))
}

/// Every access token issued so far for the grant answers 401; its refresh token still works.
async fn expire_access_tokens(state: Data, path: web::Path<String>) -> Answer {
    let expired = state
        .lock()
        .oauth
        .expire_access_tokens(&path)
        .ok_or_else(|| ControlError::not_found(format!("No grant {}", path.as_str())))?;
    Ok(HttpResponse::Ok().json(json!({ "expired": expired })))
}
