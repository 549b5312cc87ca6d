//! `POST /a/{token}/submit`: *Submit* hands the code in only once the candidate has confirmed
//! it. The editor's script asks in a dialog and sends `confirmed=yes`; without JavaScript the
//! form arrives unconfirmed, and this answers with a page asking "Submit now?" that carries the
//! code (read-only, so what is handed in is exactly what was typed) with *Submit now* and
//! *Save and keep editing*. Nothing is stored until one of them is pressed.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::NaiveDateTime;

use super::pages::{self, page, remaining_text, when};
use super::{back_to_the_link, now, run, AppState, CodeForm};
use crate::assessments::attempt::{self, Attempt, Phase};
use crate::db::questions::language_label;
use crate::web::WebError;

/// The value of `confirmed` that hands the code in.
pub const CONFIRMED: &str = "yes";

#[derive(Template)]
#[template(path = "candidate_submit.html")]
struct ConfirmPage {
    token: String,
    title: String,
    language_label: &'static str,
    code: String,
    /// What was left when this page was made, and when the time runs out.
    remaining: String,
    deadline: String,
    confirmed: &'static str,
}

/// *Submit*: confirmed, hands the code in and shows the submitted page; otherwise asks first.
pub async fn submit(
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, WebError> {
    let now = now(&state);
    let raw = token.into_inner();
    let CodeForm { code, confirmed } = form.into_inner();
    if confirmed.as_deref() != Some(CONFIRMED) {
        return ask_first(&state, &raw, code, now).await;
    }
    let limits = state.settings.tuning.saves.clone();
    let submitted = run(&state, &raw, move |conn, token| {
        attempt::submit(conn, &token, &code, now, &limits)
    })
    .await?;
    back_to_the_link(submitted, &raw)
}

/// The page asking to confirm the hand-in of `code` (as it would be stored), or the page saying
/// why it could not be handed in anyway (the time is over, already submitted, too large…).
async fn ask_first(
    state: &AppState,
    raw: &str,
    code: String,
    now: NaiveDateTime,
) -> Result<HttpResponse, WebError> {
    let limits = state.settings.tuning.saves.clone();
    let reviewed = run(state, raw, move |conn, token| {
        attempt::check_submission(conn, &token, &code, now, &limits)
    })
    .await?;
    match reviewed {
        Ok((attempt, code)) => confirm_page(&attempt, code, now),
        Err(e) => pages::refusal_page(&e, raw),
    }
}

fn confirm_page(
    attempt: &Attempt,
    code: String,
    now: NaiveDateTime,
) -> Result<HttpResponse, WebError> {
    let a = &attempt.assessment;
    let deadline = match attempt.phase {
        Phase::InProgress { deadline } => deadline,
        _ => now,
    };
    page(
        StatusCode::OK,
        &ConfirmPage {
            token: a.token.clone(),
            title: pages::title_of(a),
            language_label: language_label(&a.question_language),
            code,
            remaining: remaining_text(deadline - now),
            deadline: when(deadline),
            confirmed: CONFIRMED,
        },
    )
}
