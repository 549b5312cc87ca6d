//! Questions: the organization's library of what candidates are asked. Admins add, edit and
//! delete them; everyone in the organization may read them (reviewers score the answers).

mod cases;
mod check;
mod form;

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use askama::Template;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::auth::{AdminPage, OrgPage};
use super::confirm::{Confirmation, Confirmed};
use super::csrf::CsrfForm;
use super::layout::{Chrome, Nav};
use super::{render, see_other, WebError};
use crate::db::cases::TestCase;
use crate::db::configurations::Configuration;
use crate::db::questions::{language_label, Question};
use crate::db::{self, DbConn, DbError};
use crate::domain::pad_label;
pub use form::{create, edit, new, update};

#[derive(Template)]
#[template(path = "questions.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
}

struct Row {
    id: String,
    title: String,
    language: &'static str,
    used_by: usize,
    /// How many test cases the question has.
    cases: i64,
    updated: String,
}

#[derive(Template)]
#[template(path = "questions_show.html")]
struct ShowPage {
    chrome: Chrome,
    question: Question,
    language: &'static str,
    /// The prompt's Markdown as sanitised HTML.
    prompt_html: String,
    cases: Vec<CaseLine>,
    used_by: Vec<Usage>,
    /// Why a delete was refused, shown above the question.
    refused: Option<String>,
}

/// One test case as the question's page lists it.
struct CaseLine {
    case: TestCase,
    /// "2 s", or the language's default.
    time_limit: String,
}

/// A configuration asking the question, in the words of the Configurations page.
struct Usage {
    id: String,
    stage: String,
    tag: String,
    kind: &'static str,
}

/// Browsers send a textarea's line breaks as CRLF; store and count them as one character.
fn normalise_lines(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// The prompt's Markdown as HTML safe to put in a page: pulldown-cmark renders it (raw HTML in
/// the Markdown passes through), then ammonia keeps only harmless tags and attributes, so a
/// `<script>` or an `onerror=` never reaches a reader's browser.
pub fn prompt_html(markdown: &str) -> String {
    use pulldown_cmark::{html, Options, Parser};
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut rendered = String::new();
    html::push_html(&mut rendered, Parser::new_ext(markdown, options));
    ammonia::clean(&rendered)
}

pub async fn list(org: OrgPage) -> Result<HttpResponse, WebError> {
    let org_id = org.org.id.clone();
    let (questions, configurations, counts) = org
        .state
        .db
        .run(move |conn| -> Result<_, DbError> {
            let questions = db::questions::list(conn, &org_id)?;
            let ids: Vec<String> = questions.iter().map(|q| q.id.clone()).collect();
            let counts: HashMap<String, i64> = db::cases::counts_for_questions(conn, &ids)?
                .into_iter()
                .collect();
            Ok((questions, db::configurations::list(conn, &org_id)?, counts))
        })
        .await?;
    let rows = questions
        .into_iter()
        .map(|q| Row {
            used_by: configurations
                .iter()
                .filter(|c| c.question_id.as_deref() == Some(q.id.as_str()))
                .count(),
            cases: counts.get(&q.id).copied().unwrap_or(0),
            language: language_label(&q.language),
            updated: q.updated_at.format("%-d %b %Y").to_string(),
            id: q.id,
            title: q.title,
        })
        .collect();
    render(&ListPage {
        chrome: Chrome::new(&org, "Questions", Nav::Questions),
        rows,
    })
}

/// The question, its rendered prompt and the configurations asking it; `None` if the
/// organization has no such question.
async fn show_page(
    org: &OrgPage,
    id: String,
    refused: Option<String>,
) -> Result<ShowPage, WebError> {
    let org_id = org.org.id.clone();
    let found = org
        .state
        .db
        .run(move |conn| -> Result<_, DbError> {
            let Some(question) = db::questions::find(conn, &org_id, &id)? else {
                return Ok(None);
            };
            let used_by = usages(conn, &org_id, &question.id)?;
            let cases = db::cases::for_question(conn, &question.id)?;
            Ok(Some((question, used_by, cases)))
        })
        .await?;
    let (question, used_by, cases) = found.ok_or(WebError::NotFound)?;
    let default = cases::default_time_limit(&org.state.jobs.sandbox, &question.language)
        .map_or("The language's default".to_owned(), |d| {
            format!("Default ({d})")
        });
    Ok(ShowPage {
        chrome: Chrome::new(org, &question.title, Nav::Questions),
        language: language_label(&question.language),
        prompt_html: prompt_html(&question.prompt),
        cases: cases
            .into_iter()
            .map(|case| CaseLine {
                time_limit: case
                    .time_limit_ms
                    .map_or(default.clone(), |ms| format!("{} s", cases::seconds(ms))),
                case,
            })
            .collect(),
        question,
        used_by,
        refused,
    })
}

/// The configurations asking question `id`, named by stage and tag.
fn usages(conn: &mut DbConn, org_id: &str, id: &str) -> Result<Vec<Usage>, DbError> {
    let configurations = db::questions::used_by(conn, org_id, id)?;
    let stages = db::lever::stages(conn, org_id)?;
    Ok(configurations
        .into_iter()
        .map(|c: Configuration| Usage {
            stage: c.stage_label(&|id| stages.iter().find(|s| s.id == id).map(|s| s.text.clone())),
            kind: pad_label(&c.pad_kind),
            tag: c.who(),
            id: c.id,
        })
        .collect())
}

/// "the configurations at “Phone interview” (tag “coding-test”) and …".
fn describe(used_by: &[Usage]) -> String {
    let each: Vec<String> = used_by
        .iter()
        .map(|u| format!("“{}” (tag “{}”)", u.stage, u.tag))
        .collect();
    let noun = if each.len() == 1 {
        "the configuration at"
    } else {
        "the configurations at"
    };
    format!("{noun} {}", each.join(", "))
}

pub async fn show(
    org: OrgPage,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, WebError> {
    render(&show_page(&org, path.1.clone(), None).await?)
}

enum Deleted {
    Done(String),
    InUse(Vec<Usage>),
    Missing,
}

pub async fn delete(
    org: AdminPage,
    path: web::Path<(String, String)>,
    CsrfForm(form): CsrfForm<Confirmed>,
) -> Result<HttpResponse, WebError> {
    let (org_id, id) = (org.org.id.clone(), path.1.clone());
    let confirmed = form.is_confirmed();
    let outcome = org
        .state
        .db
        .run(move |conn| -> Result<_, DbError> {
            let result = db::connection::write_transaction(conn, |conn| -> Result<_, DbError> {
                let Some(question) = db::questions::find(conn, &org_id, &id)? else {
                    return Ok(Deleted::Missing);
                };
                let used_by = usages(conn, &org_id, &id)?;
                if !used_by.is_empty() {
                    return Ok(Deleted::InUse(used_by));
                }
                if confirmed {
                    db::questions::delete(conn, &org_id, &id)?;
                }
                Ok(Deleted::Done(question.title))
            });
            match result {
                // A configuration picked the question meanwhile; the database refused.
                Err(DbError::Query(DieselError::DatabaseError(
                    DatabaseErrorKind::ForeignKeyViolation,
                    _,
                ))) => Ok(Deleted::InUse(usages(conn, &org_id, &id)?)),
                result => result,
            }
        })
        .await?;
    match outcome {
        Deleted::Missing => Err(WebError::NotFound),
        Deleted::InUse(used_by) => {
            let refused = format!(
                "This question is asked by {}, so it was not deleted. Choose another question \
                 for {} first.",
                describe(&used_by),
                if used_by.len() == 1 { "it" } else { "them" }
            );
            let page = show_page(&org, path.1.clone(), Some(refused)).await?;
            Ok(HttpResponse::Conflict()
                .content_type("text/html; charset=utf-8")
                .body(page.render()?))
        }
        Deleted::Done(title) if !confirmed => Confirmation {
            chrome: Chrome::new(&org, "Delete question", Nav::Questions),
            question: format!("Delete the question “{title}”?"),
            consequence: "It leaves the library for good. Assessments already sent keep their \
                          own copy of it; no configuration asks it."
                .into(),
            action: org.url(&format!("/questions/{}/delete", path.1)),
            button: "Delete question".into(),
            cancel: org.url(&format!("/questions/{}", path.1)),
        }
        .answer(),
        Deleted::Done(title) => {
            org.flash(
                "success",
                format!("Question “{title}” deleted. Assessments already sent keep their copy."),
            );
            Ok(see_other(&org.url("/questions")))
        }
    }
}
