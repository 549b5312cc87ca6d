//! `/a/{token}`: the page a candidate's link opens (no login; the token is the key).

use actix_web::{web, HttpResponse};
use askama::Template;

use super::{render, AppState, WebError};
use crate::db;
use crate::domain::PadKind;

#[derive(Template)]
#[template(path = "candidate.html")]
struct CandidatePage {
    candidate: String,
    kind: &'static str,
    take_home: bool,
    title: Option<String>,
    prompt: Option<String>,
}

pub async fn show(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let token = token.into_inner();
    if token.len() != 32 || !token.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(WebError::NotFound);
    }
    let assessment = state
        .db
        .run(move |conn| db::assessments::by_token(conn, &token).map_err(WebError::from))
        .await?
        .ok_or(WebError::NotFound)?;
    let kind = PadKind::parse(&assessment.pad_kind).unwrap_or(PadKind::Live);
    render(&CandidatePage {
        candidate: assessment.candidate_name,
        kind: kind.label(),
        take_home: kind == PadKind::TakeHome,
        title: assessment.question_title,
        prompt: assessment.question_prompt,
    })
}
