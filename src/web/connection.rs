//! Connection: test and save a Lever API key, or *Add to Lever* (OAuth: the pages in
//! `lever_oauth.rs`, the connection in `connection::oauth`); disconnect. (The default Lever
//! user, an account's user, is shown here and chosen on Settings.)

use actix_web::HttpResponse;
use askama::Template;
use serde::Deserialize;

use super::auth::{AdminPage, OrgPage, OrgReader};
use super::csrf::CsrfForm;
use super::layout::{Chrome, Nav};
use super::{render, render_invalid, see_other, WebError};
use crate::connection::oauth::{scopes_needed, CALLBACK_PATH};
use crate::connection::{
    connect_key, parse_environment, ConnectError, Connected, NewKey, Replacement, ENVIRONMENTS,
};
use crate::db;
use crate::db::lever::LeverConnection;
use crate::lever::UNTESTED_PERMISSIONS;
use crate::queue::table as queue;

/// What disconnecting does, as the confirmation names it.
const DISCONNECT_CONSEQUENCE: &str = "leverbridge stops writing to Lever and queued work is parked until you connect again; the API key is deleted.";
const DISCONNECT_OAUTH_CONSEQUENCE: &str = "leverbridge stops writing to Lever and queued work is parked until you connect again; its webhooks are deleted in Lever, its access is revoked and its tokens are deleted.";

#[derive(Template)]
#[template(path = "connection.html")]
struct ConnectionPage {
    chrome: Chrome,
    connection: Option<ConnectionView>,
    environments: Vec<(&'static str, &'static str)>,
    environment: String,
    key_error: Option<String>,
    lever_error: Option<String>,
    overridden_host: Option<String>,
    /// Required permissions the connection test does not probe (it would write to Lever).
    untested: &'static [&'static str],
    /// Asked when a new key lacks permissions the working key has.
    replace_question: Option<ReplaceQuestion>,
    disconnect_consequence: &'static str,
    /// Set when a disconnect was sent without its confirmation.
    disconnect_unconfirmed: bool,
    /// Shown when leverbridge is registered as a Lever app.
    add_to_lever: Option<AddToLever>,
}

/// The *Add to Lever* card: the scopes asked for (and why) and the redirect URI registered.
struct AddToLever {
    scopes: Vec<(&'static str, &'static str)>,
    redirect_uri: String,
}

/// A new key was tested and not saved: the working key stays until the admin confirms.
struct ReplaceQuestion {
    current_last4: String,
    /// Everything the new key lacks, each with whether the working key has it.
    missing: Vec<(String, bool)>,
}

struct ConnectionView {
    oauth: bool,
    status: &'static str,
    badge: &'static str,
    message: Option<String>,
    environment: String,
    last4: String,
    missing: Vec<String>,
    default_user_name: Option<String>,
    connected_by: String,
    checked_at: String,
    /// OAuth: the Lever account, who authorized, the scopes granted, the token's life.
    lever_account_id: Option<String>,
    authorized_by: Option<String>,
    scopes: Vec<String>,
    token_expires: Option<String>,
    token_refreshed: Option<String>,
}

impl ConnectionView {
    fn new(c: LeverConnection, users: &[db::lever::CachedUser]) -> Self {
        let oauth = c.is_oauth();
        let (status, badge) = match c.status.as_str() {
            "connected" => ("Connected", "ok"),
            "incomplete" if oauth => ("Scopes missing", "warn"),
            "incomplete" => ("Permissions missing", "warn"),
            _ if oauth => ("Needs re-authorization", "bad"),
            _ => ("Broken", "bad"),
        };
        let when = |t: chrono::NaiveDateTime| t.format("%-d %b %Y %H:%M UTC").to_string();
        ConnectionView {
            oauth,
            authorized_by: c.lever_user_id.as_ref().map(|id| {
                users
                    .iter()
                    .find(|u| &u.id == id)
                    .map_or_else(|| id.clone(), |u| u.name.clone())
            }),
            lever_account_id: c.lever_account_id.clone(),
            scopes: c
                .granted_scopes
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            token_expires: c.token_expires_at.map(when),
            token_refreshed: c.token_refreshed_at.map(when),
            status,
            badge,
            missing: c.missing(),
            message: c.status_message,
            environment: ENVIRONMENTS
                .iter()
                .find(|(name, _, _)| *name == c.environment)
                .map(|(_, label, _)| (*label).to_owned())
                .unwrap_or(c.environment),
            last4: c.api_key_last4,
            default_user_name: c.default_user_name,
            connected_by: c.connected_by,
            checked_at: when(c.checked_at),
        }
    }
}

/// What a form post asks the page to show besides the stored state.
#[derive(Default)]
struct Answer {
    environment: Option<String>,
    key_error: Option<String>,
    lever_error: Option<String>,
    replace_question: Option<ReplaceQuestion>,
    disconnect_unconfirmed: bool,
}

async fn page(page: &OrgPage, answer: Answer) -> Result<ConnectionPage, WebError> {
    let org_id = page.org.id.clone();
    let (connection, users, settings) = page
        .state
        .db
        .run(move |conn| -> Result<_, WebError> {
            Ok((
                db::lever::connection(conn, &org_id)?,
                db::lever::active_users(conn, &org_id)?,
                db::settings::for_org(conn, &org_id)?,
            ))
        })
        .await?;
    let environment = answer
        .environment
        .or_else(|| connection.as_ref().map(|c| c.environment.clone()))
        .unwrap_or_else(|| "production".into());
    Ok(ConnectionPage {
        chrome: Chrome::new(page, "Connection", Nav::Connection),
        disconnect_consequence: if connection.as_ref().is_some_and(LeverConnection::is_oauth) {
            DISCONNECT_OAUTH_CONSEQUENCE
        } else {
            DISCONNECT_CONSEQUENCE
        },
        connection: connection.map(|c| ConnectionView::new(c, &users)),
        add_to_lever: page.state.lever.app().map(|_| AddToLever {
            scopes: scopes_needed(&settings)
                .into_iter()
                .map(|need| (need.scope, need.why))
                .collect(),
            redirect_uri: page.state.settings.absolute_url(CALLBACK_PATH),
        }),
        environments: ENVIRONMENTS
            .iter()
            .map(|(name, label, _)| (*name, *label))
            .collect(),
        environment,
        key_error: answer.key_error,
        lever_error: answer.lever_error,
        overridden_host: page.state.settings.lever.api_url.clone(),
        untested: UNTESTED_PERMISSIONS,
        replace_question: answer.replace_question,
        disconnect_unconfirmed: answer.disconnect_unconfirmed,
    })
}

pub async fn show(org: OrgReader) -> Result<HttpResponse, WebError> {
    with_lever_form_action(&org, render(&page(&org, Answer::default()).await?))
}

/// The page's *Add to Lever* form is answered with a redirect to Lever's consent page, which the
/// Content-Security-Policy's `form-action` must allow (browsers check redirects after a form).
fn with_lever_form_action(
    org: &OrgPage,
    response: Result<HttpResponse, WebError>,
) -> Result<HttpResponse, WebError> {
    let mut response = response?;
    if org.state.lever.app().is_none() {
        return Ok(response);
    }
    let mut origins: Vec<String> = ENVIRONMENTS
        .iter()
        .filter_map(|(name, _, _)| org.state.lever.oauth_endpoints(name).authorize_origin())
        .collect();
    origins.dedup();
    let policy = crate::startup::CONTENT_SECURITY_POLICY.replace(
        "form-action 'self'",
        &format!("form-action 'self' {}", origins.join(" ")),
    );
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(actix_web::http::header::CONTENT_SECURITY_POLICY, value);
    }
    Ok(response)
}

#[derive(Deserialize)]
pub struct ConnectForm {
    api_key: String,
    environment: String,
    /// `yes` when the admin confirmed replacing a working key with one that lacks permissions.
    #[serde(default)]
    confirm_replace: Option<String>,
}

/// Tests the key live against Lever; saves it (sealed) only when Lever accepts it, and, when
/// it lacks permissions the working key has, only once the admin confirms the replacement
/// (a second submit with `confirm_replace=yes`).
pub async fn connect(
    org: AdminPage,
    CsrfForm(form): CsrfForm<ConnectForm>,
) -> Result<HttpResponse, WebError> {
    let environment = parse_environment(&form.environment)
        .ok_or_else(|| WebError::BadRequest("Choose Production or Sandbox.".into()))?;
    let key = form.api_key.trim().to_owned();
    if let Some(error) = key_shape_problem(&key) {
        let answer = Answer {
            key_error: Some(error.into()),
            ..Answer::default()
        };
        return rerender(&org, answer, environment).await;
    }
    let replacement = if form.confirm_replace.as_deref() == Some("yes") {
        Replacement::Confirmed
    } else {
        Replacement::KeepWorkingKey
    };
    let new = NewKey {
        org_id: &org.org.id,
        environment,
        api_key: &key,
        connected_by: &org.user.email,
        replacement,
    };
    // Parked work resumes in the transaction that saves the key.
    match connect_key(&org.state.db, &org.state.lever, new, queue::unpark).await {
        Ok(connected) => {
            report_connected(&org, connected);
            Ok(see_other(&org.url("/connection")))
        }
        Err(not_saved) => rerender(&org, answer_not_saved(not_saved)?, environment).await,
    }
}

/// Why a pasted key is not worth sending to Lever: empty, or not shaped like a Lever API key.
fn key_shape_problem(key: &str) -> Option<&'static str> {
    if key.is_empty() {
        Some("Paste the API key you generated in Lever (Settings › Integrations and API › API Credentials).")
    } else if key.len() < 16
        || key.len() > 256
        || key.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        Some("That does not look like a Lever API key: it should be one word of 16 to 256 characters.")
    } else {
        None
    }
}

/// What the page tells the admin when the key was not saved: Lever's refusal, a failed test,
/// an account connected elsewhere, or the question whether to give up permissions.
fn answer_not_saved(error: ConnectError) -> Result<Answer, WebError> {
    let lever_error = |reason: String| Answer {
        lever_error: Some(reason),
        ..Answer::default()
    };
    match error {
        ConnectError::Rejected(message) => {
            let reason = format!("Lever rejected this key: {message}. Check that it was copied whole and is not revoked; nothing was saved.");
            Ok(lever_error(reason))
        }
        ConnectError::Lever(e) => {
            let reason =
                format!("Could not test the key with Lever: {e}. Nothing was saved; try again.");
            Ok(lever_error(reason))
        }
        taken @ ConnectError::AccountTaken(_) => Ok(lever_error(taken.to_string())),
        ConnectError::WouldLosePermissions {
            lost,
            missing,
            current_last4,
        } => {
            let question = ReplaceQuestion {
                current_last4,
                missing: missing
                    .into_iter()
                    .map(|permission| {
                        let current_has = lost.contains(&permission);
                        (permission, current_has)
                    })
                    .collect(),
            };
            Ok(Answer {
                replace_question: Some(question),
                ..Answer::default()
            })
        }
        ConnectError::Db(e) => Err(e.into()),
    }
}

/// The saved connection as the next page shows it: what was read, the permissions still
/// missing, and the waiting jobs resumed (the workers are woken for them).
fn report_connected(org: &OrgPage, connected: Connected) {
    let Connected {
        users: user_count,
        stages: stage_count,
        missing,
        resumed,
    } = connected;
    if resumed > 0 {
        org.state.jobs.wake();
    }
    if missing.is_empty() {
        org.flash("success", format!("Connected to Lever: {user_count} users and {stage_count} stages read, every permission present."));
    } else {
        org.flash(
            "error",
            format!(
                "Connected, but the key lacks {} permission(s): {}. Grant them in Lever and connect again.",
                missing.len(),
                missing.join(", ")
            ),
        );
    }
    if resumed > 0 {
        org.flash("info", format!("{resumed} waiting job(s) resumed."));
    }
}

async fn rerender(
    org: &OrgPage,
    answer: Answer,
    environment: &str,
) -> Result<HttpResponse, WebError> {
    let answer = Answer {
        environment: Some(environment.to_owned()),
        ..answer
    };
    with_lever_form_action(org, render_invalid(&page(org, answer).await?))
}

#[derive(Deserialize)]
pub struct DisconnectForm {
    /// `yes` when the admin ticked the box that names what disconnecting does.
    #[serde(default)]
    confirm: Option<String>,
}

/// Deletes the key, once the admin confirmed knowing the consequence; without the
/// confirmation nothing changes and the question is shown again.
pub async fn disconnect(
    org: AdminPage,
    CsrfForm(form): CsrfForm<DisconnectForm>,
) -> Result<HttpResponse, WebError> {
    if form.confirm.as_deref() != Some("yes") {
        let answer = Answer {
            disconnect_unconfirmed: true,
            ..Answer::default()
        };
        return with_lever_form_action(&org, render_invalid(&page(&org, answer).await?));
    }
    let org_id = org.org.id.clone();
    let connection = org
        .state
        .db
        .run(move |conn| db::lever::connection(conn, &org_id).map_err(WebError::from))
        .await?;
    let Some(connection) = connection else {
        org.flash("info", "Lever was not connected.");
        return Ok(see_other(&org.url("/connection")));
    };
    let undone = if connection.is_oauth() {
        Some(crate::connection::undo_in_lever(&org.state.db, &org.state.lever, &connection).await)
    } else {
        None
    };
    let org_id = org.org.id.clone();
    org.state
        .db
        .run(move |conn| {
            db::connection::write_transaction(conn, |conn| -> Result<(), WebError> {
                db::webhooks::forget_managed(conn, &org_id)?;
                db::lever::delete_connection(conn, &org_id)?;
                Ok(())
            })
        })
        .await?;
    org.state.webhook_keys.forget_org(&org.org.id);
    match undone {
        None => org.flash("success", "Disconnected: the API key was deleted. leverbridge writes nothing to Lever now; webhooks that arrive and queued work wait until Lever is connected again."),
        Some(undone) => {
            org.flash("success", format!(
                "Disconnected: {} webhook(s) deleted in Lever, {} and the tokens deleted. Queued work waits until Lever is connected again.",
                undone.webhooks_deleted,
                if undone.revoked { "leverbridge's access revoked" } else { "Lever offers no revocation here, so remove leverbridge under Settings › Integrations and API in Lever;" }
            ));
            for problem in undone.problems {
                org.flash("error", format!("Not undone in Lever: {problem}."));
            }
        }
    }
    Ok(see_other(&org.url("/connection")))
}
