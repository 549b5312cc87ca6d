//! `/a/{token}`: the candidate's pages (no login; the unguessable link is the credential, so
//! the forms carry no CSRF token: another site cannot post to a link it does not know).
//!
//! The start page, then the editor (a plain form that saves and submits after a confirmation
//! step; `static/editor.js` makes it a CodeMirror editor with autosave and a countdown), and a
//! clear page for every other state. The deadline is the server's
//! ([`crate::assessments::attempt`]).

mod autosave;
mod pages;
mod runs;
mod submit;

use actix_web::error::{InternalError, UrlencodedError};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::{see_other, AppState, WebError};
use crate::assessments::attempt::{self, AttemptError};
use crate::assessments::saves::MAX_CODE_BYTES;

pub use autosave::{autosave, refusal_status};

/// Request bodies the candidate's forms and saves may send: the code limit with room for
/// URL or JSON escaping. Larger bodies are refused unread.
pub const MAX_BODY_BYTES: usize = 6 * MAX_CODE_BYTES;

/// The candidate's routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let form = web::FormConfig::default()
        .limit(MAX_BODY_BYTES)
        .error_handler(form_error);
    cfg.route("/a/{token}", web::get().to(show))
        .route("/a/{token}/start", web::post().to(start))
        .service(
            web::resource("/a/{token}/save")
                .app_data(form.clone())
                .route(web::post().to(save)),
        )
        .service(
            web::resource("/a/{token}/submit")
                .app_data(form)
                .route(web::post().to(submit::submit)),
        )
        .route("/a/{token}/autosave", web::post().to(autosave))
        .service(
            web::resource("/a/{token}/run")
                .app_data(runs::json_config())
                .route(web::post().to(runs::run)),
        )
        .service(
            web::resource("/a/{token}/run-tests")
                .app_data(runs::json_config())
                .route(web::post().to(runs::run_tests)),
        )
        .route("/a/{token}/runs/{id}", web::get().to(runs::poll));
}

/// The editor's form (*Save now*, *Submit*) and the confirmation page's. `confirmed` comes
/// once the candidate has confirmed a submit, in the editor's dialog or on that page ([`submit`]).
#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
    confirmed: Option<String>,
}

/// A link token as issued (32 letters and digits); anything else is not looked up.
fn link_token(raw: &str) -> Result<String, AttemptError> {
    if raw.len() == 32 && raw.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(raw.to_owned())
    } else {
        Err(AttemptError::UnknownLink)
    }
}

/// Whether the attempt's code can run on this server.
fn running(state: &AppState, attempt: &attempt::Attempt) -> pages::Running {
    pages::Running {
        unavailable: state
            .jobs
            .sandbox
            .can_run(&attempt.assessment.question_language)
            .err()
            .map(|e| e.to_string()),
        pace: state.settings.tuning.runs,
    }
}

fn now(state: &AppState) -> chrono::NaiveDateTime {
    state.settings.tuning.clock.now()
}

/// What the link opens now.
pub async fn show(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let now = now(&state);
    let opened = match link_token(&token) {
        Ok(token) => {
            state
                .db
                .run(move |conn| Ok::<_, WebError>(attempt::open(conn, &token, now)))
                .await?
        }
        Err(e) => Err(e),
    };
    match opened {
        Ok(opened) => pages::attempt_page(&opened, now, &running(&state, &opened)),
        Err(e) => pages::refusal_page(&e, &token),
    }
}

/// *Start*: begins the clock (once), then shows the editor.
pub async fn start(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let now = now(&state);
    let raw = token.into_inner();
    let started = run(&state, &raw, move |conn, token| {
        attempt::start(conn, &token, now)
    })
    .await?;
    back_to_the_link(started, &raw)
}

/// *Save* without JavaScript: keeps the code as a snapshot and shows the editor again.
pub async fn save(
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, WebError> {
    let now = now(&state);
    let raw = token.into_inner();
    let code = form.into_inner().code;
    let limits = state.settings.tuning.saves.clone();
    let saved = run(&state, &raw, move |conn, token| {
        attempt::save(conn, &token, &code, now, &limits)
    })
    .await?;
    back_to_the_link(saved, &raw)
}

/// After a form's step: back to the link's page, or the page that says why the step was refused.
fn back_to_the_link<T>(done: Result<T, AttemptError>, raw: &str) -> Result<HttpResponse, WebError> {
    match done {
        Ok(_) => Ok(see_other(&format!("/a/{raw}"))),
        Err(e) => pages::refusal_page(&e, raw),
    }
}

/// Runs one attempt step for the link `raw` on the blocking pool. The outer error is the pool
/// failing; the inner one is the step's own answer.
async fn run<T: Send + 'static>(
    state: &AppState,
    raw: &str,
    step: impl FnOnce(&mut crate::db::DbConn, String) -> Result<T, AttemptError> + Send + 'static,
) -> Result<Result<T, AttemptError>, WebError> {
    let token = match link_token(raw) {
        Ok(token) => token,
        Err(e) => return Ok(Err(e)),
    };
    state
        .db
        .run(move |conn| Ok::<_, WebError>(step(conn, token)))
        .await
}

/// A candidate's form that could not be read: a body over the limit gets the size message.
fn form_error(err: UrlencodedError, req: &HttpRequest) -> actix_web::Error {
    let token = req.match_info().get("token").unwrap_or_default().to_owned();
    let page_error = match &err {
        UrlencodedError::Overflow { size, .. } => AttemptError::TooLarge(*size),
        _ => {
            let response = pages::message_page(
                StatusCode::BAD_REQUEST,
                "That request could not be understood",
                &format!("The form could not be read ({err}). Nothing was saved."),
                &token,
            );
            return InternalError::from_response(err, response).into();
        }
    };
    let response = pages::refusal_response(&page_error, &token);
    InternalError::from_response(err, response).into()
}
