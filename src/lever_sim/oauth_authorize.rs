//! `/authorize`: Lever's consent screen. `GET` shows what the app asks for with a choice of
//! account and user; `POST` (Accept or Deny) sends the browser back to the app with a one-time
//! code or `error=access_denied`. A request that fails validation gets a 400 page and no
//! redirect, since its redirect URI is not trusted.

use std::fmt::Write;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::control::Data;
use super::oauth::{is_known_scope, scope_description};
use super::page_layout::{esc, page};
use super::state::World;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/authorize", web::get().to(show))
        .route("/authorize", web::post().to(decide));
}

/// The query of `GET /authorize`, and the form of `POST /authorize` (which adds the choices).
#[derive(Deserialize, Default)]
struct AuthorizeParams {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    state: Option<String>,
    audience: Option<String>,
    scope: Option<String>,
    /// Optional; Lever's example sends `consent`.
    prompt: Option<String>,
    account: Option<String>,
    user: Option<String>,
    decision: Option<String>,
}

/// An authorization request that passed every check.
struct Request<'a> {
    app_name: String,
    client_id: &'a str,
    redirect_uri: &'a str,
    state: &'a str,
    audience: &'a str,
    scopes: Vec<String>,
    prompt: Option<&'a str>,
}

/// The `prompt` values Auth0 knows.
const PROMPTS: [&str; 4] = ["none", "login", "consent", "select_account"];

fn present<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str, String> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("The parameter {name} is missing."))
}

fn validate<'a>(world: &World, params: &'a AuthorizeParams) -> Result<Request<'a>, String> {
    let client_id = present(&params.client_id, "client_id")?;
    let app = world
        .oauth
        .app(client_id)
        .ok_or_else(|| format!("No app is registered with client_id {client_id}."))?;
    let redirect_uri = present(&params.redirect_uri, "redirect_uri")?;
    if !app.redirect_uris.iter().any(|u| u == redirect_uri) {
        return Err(format!(
            "The redirect_uri {redirect_uri} is not registered for {}; it must match a \
             registered URI exactly.",
            app.name
        ));
    }
    let response_type = present(&params.response_type, "response_type")?;
    if response_type != "code" {
        return Err(format!(
            "Unsupported response_type {response_type}: only code is supported."
        ));
    }
    let state = present(&params.state, "state")?;
    // The audience names Lever's API, production's or the sandbox's, wherever this simulator
    // is reached; Auth0 knows no other API.
    let audience = present(&params.audience, "audience")?;
    if !crate::lever::oauth::AUDIENCES
        .iter()
        .any(|(_, known)| *known == audience)
    {
        return Err(format!("Service not found: {audience}"));
    }
    let prompt = params.prompt.as_deref().filter(|p| !p.is_empty());
    if let Some(unknown) = prompt.filter(|p| !PROMPTS.contains(p)) {
        return Err(format!("Unsupported prompt {unknown}."));
    }
    let scopes: Vec<String> = present(&params.scope, "scope")?
        .split_whitespace()
        .map(str::to_string)
        .collect();
    if scopes.is_empty() {
        return Err("The parameter scope is missing.".into());
    }
    if let Some(unknown) = scopes.iter().find(|s| !is_known_scope(s)) {
        return Err(format!("Unknown scope: {unknown}"));
    }
    Ok(Request {
        app_name: app.name.clone(),
        client_id,
        redirect_uri,
        state,
        audience,
        scopes,
        prompt,
    })
}

fn parse(raw: &[u8]) -> Result<AuthorizeParams, String> {
    serde_urlencoded::from_bytes(raw).map_err(|e| format!("The request cannot be read: {e}."))
}

/// The 400 page: what is wrong, and why the browser was not sent back to the app.
fn invalid(reason: &str) -> HttpResponse {
    page(
        StatusCode::BAD_REQUEST,
        "Invalid authorization request – Lever simulator",
        &format!(
            "<div class=\"consent\"><section class=\"card\"><h2>Invalid authorization request</h2>\
             <p class=\"problem\">{}</p><p class=\"muted\">You were not sent back to the app: \
             its redirect URI is only trusted once the request checks out. Apps are registered \
             with <code>POST /_sim/api/oauth/apps</code>.</p></section></div>",
            esc(reason)
        ),
    )
}

async fn show(state: Data, req: HttpRequest) -> HttpResponse {
    let params = match parse(req.query_string().as_bytes()) {
        Ok(params) => params,
        Err(reason) => return invalid(&reason),
    };
    let world = state.lock();
    match validate(&world, &params) {
        Ok(request) => consent_page(&world, &request),
        Err(reason) => invalid(&reason),
    }
}

fn consent_page(world: &World, request: &Request) -> HttpResponse {
    let mut s = String::new();
    let app = esc(&request.app_name);
    let _ = write!(
        s,
        "<div class=\"consent\"><section class=\"card\"><p class=\"muted\">Authorize app</p>\
         <h2>{app} wants to access your Lever account</h2>\
         <p>{app} will be able to:</p><ul class=\"scopes\">"
    );
    for scope in &request.scopes {
        let _ = write!(
            s,
            "<li>{} <code>{}</code></li>",
            esc(&scope_description(scope)),
            esc(scope)
        );
    }
    s.push_str("</ul><form class=\"consent-form\" method=\"post\" action=\"/authorize\">");
    for (name, value) in [
        ("client_id", request.client_id),
        ("redirect_uri", request.redirect_uri),
        ("response_type", "code"),
        ("state", request.state),
        ("audience", request.audience),
        ("scope", &request.scopes.join(" ")),
        ("prompt", request.prompt.unwrap_or_default()),
    ] {
        let _ = write!(
            s,
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            esc(value)
        );
    }
    let has_users = world
        .accounts
        .iter()
        .any(|a| a.users.iter().any(|u| u.deactivated_at.is_none()));
    if has_users {
        s.push_str(&choices_html(world));
    } else {
        s.push_str(
            "<p class=\"problem\">This simulator has no account with an active user yet, so \
             only Deny is possible. Create one through <code>/_sim/api/accounts</code>.</p>",
        );
    }
    let _ = write!(
        s,
        "<div class=\"actions\"><button class=\"primary\" name=\"decision\" value=\"accept\"{}>Accept</button>\
         <button name=\"decision\" value=\"deny\">Deny</button></div>\
         <p class=\"muted\">Either way you go back to <code>{}</code>.</p></form></section></div>",
        if has_users { "" } else { " disabled" },
        esc(request.redirect_uri),
    );
    page(
        StatusCode::OK,
        &format!("Authorize {} – Lever simulator", request.app_name),
        &s,
    )
}

/// The account and user pickers; users are grouped under their account's name.
fn choices_html(world: &World) -> String {
    let mut accounts = String::new();
    let mut users = String::new();
    for acct in &world.accounts {
        let _ = write!(
            accounts,
            "<option value=\"{}\">{}</option>",
            esc(&acct.id),
            esc(&acct.name)
        );
        let active: String = acct
            .users
            .iter()
            .filter(|u| u.deactivated_at.is_none())
            .map(|u| {
                format!(
                    "<option value=\"{}\">{} ({})</option>",
                    esc(&u.id),
                    esc(&u.name),
                    esc(&u.access_role)
                )
            })
            .collect();
        if !active.is_empty() {
            let _ = write!(
                users,
                "<optgroup label=\"{}\">{active}</optgroup>",
                esc(&acct.name)
            );
        }
    }
    format!(
        "<div class=\"choices\"><label>Lever account <select name=\"account\">{accounts}</select></label>\
         <label>Signed in as <select name=\"user\">{users}</select></label>\
         <p class=\"muted\">The user must belong to the account; the app acts as this user by default.</p></div>"
    )
}

async fn decide(state: Data, body: web::Bytes) -> HttpResponse {
    let params = match parse(&body) {
        Ok(params) => params,
        Err(reason) => return invalid(&reason),
    };
    let mut world = state.lock();
    let request = match validate(&world, &params) {
        Ok(request) => request,
        Err(reason) => return invalid(&reason),
    };
    let query = match params.decision.as_deref() {
        Some("deny") => vec![
            ("error", "access_denied".to_string()),
            ("error_description", "The user denied access".to_string()),
            ("state", request.state.to_string()),
        ],
        Some("accept") => {
            let (account_id, user_id) = match chosen_user(&world, &params) {
                Ok(choice) => choice,
                Err(reason) => return invalid(&reason),
            };
            let code = world.oauth.consent(
                request.client_id,
                &account_id,
                &user_id,
                request.scopes.clone(),
                request.audience,
                request.redirect_uri,
            );
            vec![("code", code), ("state", request.state.to_string())]
        }
        _ => return invalid("Choose Accept or Deny."),
    };
    let separator = if request.redirect_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    let query = serde_urlencoded::to_string(query).expect("strings encode");
    HttpResponse::Found()
        .insert_header((
            "Location",
            format!("{}{separator}{query}", request.redirect_uri),
        ))
        .finish()
}

/// The account and the active user of it chosen on the consent page.
fn chosen_user(world: &World, params: &AuthorizeParams) -> Result<(String, String), String> {
    let account_id = present(&params.account, "account")?;
    let user_id = present(&params.user, "user")?;
    let acct = world
        .account(account_id)
        .ok_or_else(|| format!("There is no account {account_id}."))?;
    match acct.user(user_id) {
        Some(user) if user.deactivated_at.is_none() => Ok((acct.id.clone(), user.id.clone())),
        Some(user) => Err(format!("{} is deactivated in {}.", user.name, acct.name)),
        None => Err(format!(
            "The chosen user is not a user of {}: pick a user listed under that account.",
            acct.name
        )),
    }
}
