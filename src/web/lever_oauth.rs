//! "Add to Lever": the Connection page's button sends the admin to Lever's consent page, and
//! Lever sends them back to `/oauth/lever/callback`.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::auth::{AdminPage, SignedIn};
use super::csrf::CsrfForm;
use super::{see_other, session, WebError};
use crate::connection::oauth::{self, OAuthConnectError, StartedBy, CALLBACK_PATH};
use crate::connection::{parse_environment, register_webhooks, Registration};
use crate::db::{self, DbError};
use crate::queue::table as queue;

#[derive(Deserialize)]
pub struct StartForm {
    environment: String,
}

/// Records the authorization and sends the admin to Lever's consent page.
pub async fn start(
    org: AdminPage,
    CsrfForm(form): CsrfForm<StartForm>,
) -> Result<HttpResponse, WebError> {
    let environment = parse_environment(&form.environment)
        .ok_or_else(|| WebError::BadRequest("Choose Production or Sandbox.".into()))?;
    let session_id = session::token(&org.session)
        .map(|token| db::sessions::key_of(&token))
        .ok_or_else(|| WebError::BadRequest("Sign in again, then click Add to Lever.".into()))?;
    let started = StartedBy {
        org_id: org.org.id.clone(),
        session_id,
        email: org.user.email.clone(),
        environment,
    };
    let redirect_uri = org.state.settings.absolute_url(CALLBACK_PATH);
    match oauth::start(&org.state.db, &org.state.lever, &redirect_uri, started).await {
        Ok(authorize) => Ok(see_other(&authorize)),
        Err(OAuthConnectError::Db(e)) => Err(e.into()),
        Err(e) => {
            org.flash("error", e.to_string());
            Ok(see_other(&org.url("/connection")))
        }
    }
}

#[derive(Deserialize)]
pub struct Callback {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Where Lever sends the admin back: with a code (connect), or an error (denied). A state that
/// is missing, unknown, used, from another session or expired is refused with nothing stored.
pub async fn callback(
    signed_in: SignedIn,
    query: web::Query<Callback>,
) -> Result<HttpResponse, WebError> {
    let SignedIn { session, state, .. } = signed_in;
    let Callback {
        state: oauth_state,
        code,
        error,
        error_description,
    } = query.into_inner();
    let refused = |e: OAuthConnectError| match e {
        OAuthConnectError::Db(e) => WebError::from(e),
        e => WebError::BadRequest(e.to_string()),
    };
    let oauth_state = oauth_state
        .filter(|s| !s.is_empty() && s.len() <= 256)
        .ok_or_else(|| refused(OAuthConnectError::UnknownState))?;
    let session_id = session::token(&session).map(|token| db::sessions::key_of(&token));
    let started = oauth::claim(&state.db, &oauth_state, session_id.as_deref())
        .await
        .map_err(refused)?;
    let org_id = started.org_id.clone();
    let org = state
        .db
        .run(move |conn| db::orgs::find(conn, &org_id).map_err(DbError::from))
        .await?
        .ok_or(WebError::NotFound)?;
    let connection_page = format!("/orgs/{}/connection", org.slug);
    let flash = |kind: &str, message: String| session::flash(&session, kind, message);

    let outcome = match (code.filter(|c| !c.is_empty()), error) {
        (_, Some(error)) if error == "access_denied" => {
            Err(OAuthConnectError::Denied(error_description))
        }
        (_, Some(error)) => Err(OAuthConnectError::LeverRefused(match error_description {
            Some(description) => format!("{error}: {description}"),
            None => error,
        })),
        (None, None) => Err(OAuthConnectError::LeverRefused(
            "Lever sent neither a code nor an error".into(),
        )),
        (Some(code), None) => {
            let redirect_uri = state.settings.absolute_url(CALLBACK_PATH);
            // Parked work resumes in the transaction that saves the connection.
            let (db, lever) = (&state.db, &state.lever);
            oauth::complete(db, lever, &redirect_uri, &started, &code, queue::unpark).await
        }
    };
    let completed = match outcome {
        Ok(completed) => completed,
        Err(OAuthConnectError::Db(e)) => return Err(e.into()),
        Err(e) => {
            flash("error", e.to_string());
            return Ok(see_other(&connection_page));
        }
    };
    if completed.resumed > 0 {
        state.jobs.wake();
    }
    let webhook_base = state.settings.absolute_url("/webhooks/lever/");
    let registration =
        register_webhooks(&state.db, &state.lever, &started.org_id, &webhook_base).await;
    state.webhook_keys.forget_org(&started.org_id);

    if completed.missing.is_empty() {
        flash("success", format!("Connected to Lever through Add to Lever: {} users and {} stages read, every scope granted.", completed.users, completed.stages));
    } else {
        flash("error", format!("Connected, but Lever did not grant {}: {}. Features that need them will wait; connect again and accept every scope.", completed.missing.len(), completed.missing.join(", ")));
    }
    flash_registration(&flash, &registration);
    if completed.resumed > 0 {
        flash(
            "info",
            format!("{} waiting job(s) resumed.", completed.resumed),
        );
    }
    Ok(see_other(&connection_page))
}

fn flash_registration(flash: &impl Fn(&str, String), registration: &Registration) {
    if let Some(failed) = &registration.failed {
        flash("error", format!("leverbridge could not create its webhooks in Lever ({failed}). Set them up by hand on the Webhooks page, or connect again."));
        return;
    }
    let count = registration.created.len() + registration.existing.len();
    flash(
        "info",
        format!(
            "{count} webhooks are registered in Lever ({} created now); a Super Admin must switch the webhook group on in Lever (Settings › Integrations and API › Webhooks).",
            registration.created.len()
        ),
    );
    if !registration.without_token.is_empty() {
        flash("error", format!("Lever returned no signature token for: {}. Copy each from Lever's webhook settings and paste it on the Webhooks page.", registration.without_token.join(", ")));
    }
}
