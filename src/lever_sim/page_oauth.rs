//! The account page's *Connected apps*: the OAuth apps the account authorized, each with
//! Lever's *Revoke Access* button (behind a confirmation page, as every destructive button of
//! the simulator is).

use std::fmt::Write;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use super::control::{Answer, Data};
use super::error::ControlError;
use super::oauth::{Grant, OAuth};
use super::page_layout::{esc, not_found, page, time};
use super::state::{Account, World};

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/accounts/{acct}/grants/{id}/revoke",
        web::get().to(confirm_revoke),
    )
    .route(
        "/accounts/{acct}/grants/{id}/revoke",
        web::post().to(revoke),
    );
}

fn revoke_url(grant: &Grant) -> String {
    format!(
        "/_sim/accounts/{}/grants/{}/revoke",
        grant.account_id, grant.id
    )
}

fn app_name<'a>(oauth: &'a OAuth, grant: &'a Grant) -> &'a str {
    oauth
        .app(&grant.client_id)
        .map_or(grant.client_id.as_str(), |a| a.name.as_str())
}

fn user_name<'a>(acct: &'a Account, grant: &'a Grant) -> &'a str {
    acct.user(&grant.user_id)
        .map_or(grant.user_id.as_str(), |u| u.name.as_str())
}

/// "2 connected apps", for the account's summary line.
pub(crate) fn connected_count(oauth: &OAuth, acct: &Account) -> String {
    let n = oauth
        .grants
        .iter()
        .filter(|g| g.account_id == acct.id && !g.revoked)
        .count();
    format!("{n} connected app{}", if n == 1 { "" } else { "s" })
}

/// The section: one row per grant still live, newest first.
pub(crate) fn connected_apps_html(oauth: &OAuth, acct: &Account) -> String {
    let mut s = String::from("<h3 id=\"connected-apps\">Connected apps</h3>");
    let grants: Vec<&Grant> = oauth
        .grants
        .iter()
        .filter(|g| g.account_id == acct.id)
        .collect();
    let live: Vec<&&Grant> = grants.iter().rev().filter(|g| !g.revoked).collect();
    if live.is_empty() {
        s.push_str(
            "<p class=\"muted\">No app is connected. An app connects through OAuth \
             (<code>/authorize</code>).</p>",
        );
    } else {
        s.push_str(
            "<div class=\"scroll\"><table class=\"apps stack\"><thead><tr><th>App</th>\
             <th>Authorized by</th><th>Scopes</th><th>Since</th><th>Tokens</th><th></th>\
             </tr></thead><tbody>",
        );
        for grant in live {
            s.push_str(&grant_row(oauth, acct, grant));
        }
        s.push_str("</tbody></table></div>");
    }
    let revoked = grants.iter().filter(|g| g.revoked).count();
    if revoked > 0 {
        let _ = write!(
            s,
            "<p class=\"muted\">{revoked} revoked grant{} not shown.</p>",
            if revoked == 1 { "" } else { "s" }
        );
    }
    s
}

fn grant_row(oauth: &OAuth, acct: &Account, grant: &Grant) -> String {
    let scopes: String = grant
        .scopes
        .iter()
        .map(|scope| format!("<span class=\"tag\">{}</span>", esc(scope)))
        .collect();
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "<tr id=\"grant-{id}\"><td class=\"app\"><b>{app}</b><div class=\"muted\">client \
         <code>{client}</code></div></td><td data-label=\"Authorized by\">{user}</td>\
         <td class=\"scopes wide\" data-label=\"Scopes\">{scopes}</td>\
         <td data-label=\"Since\">{since}</td><td data-label=\"Tokens\">{tokens}<div class=\"muted\">{refreshes}</div></td>\
         <td><form class=\"move\" method=\"get\" action=\"{url}\">\
         <button class=\"danger\">Revoke access…</button></form></td></tr>",
        id = esc(&grant.id),
        app = esc(app_name(oauth, grant)),
        client = esc(&grant.client_id),
        user = esc(user_name(acct, grant)),
        since = time(grant.created_at),
        tokens = plural(grant.access_tokens_issued, "access token", "access tokens"),
        refreshes = plural(grant.refreshes, "refresh", "refreshes"),
        url = esc(&revoke_url(grant)),
    )
}

/// The grant `id` of account `acct`, or what the 404 page says.
fn find<'a>(world: &'a World, acct_id: &str, id: &str) -> Result<(&'a Account, &'a Grant), String> {
    let acct = world
        .account(acct_id)
        .ok_or_else(|| format!("There is no account {acct_id}."))?;
    let grant = world
        .oauth
        .grant(id)
        .filter(|g| g.account_id == acct.id)
        .ok_or_else(|| format!("The account {} has no grant {id}.", acct.name))?;
    Ok((acct, grant))
}

async fn confirm_revoke(state: Data, path: web::Path<(String, String)>) -> HttpResponse {
    let (acct_id, id) = path.into_inner();
    let world = state.lock();
    let (acct, grant) = match find(&world, &acct_id, &id) {
        Ok(found) => found,
        Err(message) => return not_found(&message),
    };
    let app = app_name(&world.oauth, grant);
    let back = format!("/_sim/accounts/{}#connected-apps", acct.id);
    let body = if grant.revoked {
        format!(
            "<div class=\"candidate-page\"><section class=\"card\"><h2>Already revoked</h2>\
             <p>{app} no longer has access to {acct}.</p><p><a href=\"{back}\">Back to the account</a></p>\
             </section></div>",
            app = esc(app),
            acct = esc(&acct.name),
            back = esc(&back),
        )
    } else {
        format!(
            "<div class=\"candidate-page\"><section class=\"card\"><h2>Revoke {app}'s access?</h2>\
             <p>{app} was authorized by {user}. Its access and refresh tokens stop working at once: \
             its calls to Lever's API answer 401, and it must be authorized again to reconnect.</p>\
             <form class=\"move\" method=\"post\" action=\"{url}\">\
             <button class=\"danger\">Revoke access</button> <a href=\"{back}\">Cancel</a></form>\
             </section></div>",
            app = esc(app),
            user = esc(user_name(acct, grant)),
            url = esc(&revoke_url(grant)),
            back = esc(&back),
        )
    };
    page(
        StatusCode::OK,
        &format!("Revoke {app} – Lever simulator"),
        &body,
    )
}

async fn revoke(state: Data, path: web::Path<(String, String)>) -> Answer {
    let (acct_id, id) = path.into_inner();
    let mut world = state.lock();
    let known = world
        .oauth
        .grant(&id)
        .is_some_and(|g| g.account_id == acct_id);
    if !known {
        return Err(ControlError::not_found(format!("No grant {id}")));
    }
    world.oauth.revoke_grant(&id);
    Ok(HttpResponse::SeeOther()
        .insert_header((
            "Location",
            format!("/_sim/accounts/{acct_id}#connected-apps"),
        ))
        .finish())
}
