//! Questions: the organization's library of what candidates are asked. Admins add, edit and
//! delete them; everyone in the organization may read them (reviewers score the answers).

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use askama::Template;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Deserialize;

use super::auth::{AdminPage, OrgPage};
use super::confirm::{Confirmation, Confirmed};
use super::csrf::CsrfForm;
use super::layout::{Chrome, Nav};
use super::{render, render_invalid, see_other, FormSaved, WebError};
use crate::db::configurations::Configuration;
use crate::db::questions::{language_label, Language, Question};
use crate::db::{self, DbConn, DbError};
use crate::domain::pad_label;

/// The longest title, in characters.
pub const MAX_TITLE: usize = 200;
/// The longest prompt, in characters: room for a long take-home brief.
pub const MAX_PROMPT: usize = 20_000;
/// The longest starter code, in characters.
pub const MAX_STARTER_CODE: usize = 20_000;

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
    used_by: Vec<Usage>,
    /// Why a delete was refused, shown above the question.
    refused: Option<String>,
}

/// A configuration asking the question, in the words of the Configurations page.
struct Usage {
    id: String,
    stage: String,
    tag: String,
    kind: &'static str,
}

#[derive(Template)]
#[template(path = "questions_form.html")]
struct FormPage {
    chrome: Chrome,
    /// `None` for a new question.
    id: Option<String>,
    languages: Vec<(&'static str, &'static str)>,
    form: QuestionForm,
    errors: HashMap<&'static str, String>,
    max_title: usize,
    max_prompt: usize,
    max_starter_code: usize,
}

#[derive(Clone, Default, Deserialize)]
pub struct QuestionForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    prompt: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    starter_code: String,
}

/// A form that passed every check but the title's uniqueness (checked in the transaction).
struct Valid {
    title: String,
    prompt: String,
    language: Language,
    starter_code: String,
}

/// Browsers send a textarea's line breaks as CRLF; store and count them as one character.
fn normalise_lines(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// Checks every field, so the page can show every problem at once.
fn validate(form: &QuestionForm) -> Result<Valid, HashMap<&'static str, String>> {
    let mut errors = HashMap::new();
    let title = form.title.trim();
    if title.is_empty() {
        errors.insert("title", "Give the question a title.".to_owned());
    } else if title.chars().count() > MAX_TITLE {
        errors.insert(
            "title",
            format!(
                "Keep the title to {MAX_TITLE} characters or fewer (this one has {}).",
                title.chars().count()
            ),
        );
    }
    let prompt = normalise_lines(form.prompt.trim());
    if prompt.chars().count() > MAX_PROMPT {
        errors.insert(
            "prompt",
            format!(
                "Keep the prompt to {MAX_PROMPT} characters or fewer (this one has {}).",
                prompt.chars().count()
            ),
        );
    }
    let language = Language::parse(&form.language)
        .map_err(|e| errors.insert("language", e))
        .ok();
    // Indentation matters in code: only trailing blank space is dropped.
    let starter_code = normalise_lines(form.starter_code.trim_end());
    if starter_code.chars().count() > MAX_STARTER_CODE {
        errors.insert(
            "starter_code",
            format!(
                "Keep the starter code to {MAX_STARTER_CODE} characters or fewer (this one has {}).",
                starter_code.chars().count()
            ),
        );
    }
    match (errors.is_empty(), language) {
        (true, Some(language)) => Ok(Valid {
            title: title.to_owned(),
            prompt,
            language,
            starter_code,
        }),
        _ => Err(errors),
    }
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
    let (questions, configurations) = org
        .state
        .db
        .run(move |conn| -> Result<_, DbError> {
            Ok((
                db::questions::list(conn, &org_id)?,
                db::configurations::list(conn, &org_id)?,
            ))
        })
        .await?;
    let rows = questions
        .into_iter()
        .map(|q| Row {
            used_by: configurations
                .iter()
                .filter(|c| c.question_id.as_deref() == Some(q.id.as_str()))
                .count(),
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
            Ok(Some((question, used_by)))
        })
        .await?;
    let (question, used_by) = found.ok_or(WebError::NotFound)?;
    Ok(ShowPage {
        chrome: Chrome::new(org, &question.title, Nav::Questions),
        language: language_label(&question.language),
        prompt_html: prompt_html(&question.prompt),
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

fn form_page(
    org: &OrgPage,
    id: Option<String>,
    form: QuestionForm,
    errors: HashMap<&'static str, String>,
) -> FormPage {
    let title = if id.is_some() {
        "Edit question"
    } else {
        "Add question"
    };
    FormPage {
        chrome: Chrome::new(org, title, Nav::Questions),
        id,
        languages: Language::ALL
            .iter()
            .map(|l| (l.as_str(), l.label()))
            .collect(),
        form,
        errors,
        max_title: MAX_TITLE,
        max_prompt: MAX_PROMPT,
        max_starter_code: MAX_STARTER_CODE,
    }
}

pub async fn new(org: AdminPage) -> Result<HttpResponse, WebError> {
    let form = QuestionForm {
        language: Language::Python.as_str().into(),
        ..Default::default()
    };
    render(&form_page(&org, None, form, HashMap::new()))
}

pub async fn edit(
    org: AdminPage,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let (org_id, id) = (org.org.id.clone(), path.1.clone());
    let question = org
        .state
        .db
        .run(move |conn| db::questions::find(conn, &org_id, &id).map_err(WebError::from))
        .await?
        .ok_or(WebError::NotFound)?;
    let form = QuestionForm {
        title: question.title,
        prompt: question.prompt,
        language: question.language,
        starter_code: question.starter_code,
    };
    render(&form_page(&org, Some(question.id), form, HashMap::new()))
}

pub async fn create(
    org: AdminPage,
    CsrfForm(form): CsrfForm<QuestionForm>,
) -> Result<HttpResponse, WebError> {
    save(org, None, form).await
}

pub async fn update(
    org: AdminPage,
    path: web::Path<(String, String)>,
    CsrfForm(form): CsrfForm<QuestionForm>,
) -> Result<HttpResponse, WebError> {
    save(org, Some(path.1.clone()), form).await
}

async fn save(
    org: AdminPage,
    id: Option<String>,
    form: QuestionForm,
) -> Result<HttpResponse, WebError> {
    let (org_id, target, typed) = (org.org.id.clone(), id.clone(), form.clone());
    let saved = org
        .state
        .db
        .run(move |conn| {
            db::connection::save_rechecked(conn, |conn| {
                save_in(conn, &org_id, target.as_deref(), &typed)
            })
        })
        .await?;
    match saved {
        FormSaved::Done(question_id) => {
            let verb = if id.is_some() {
                "saved"
            } else {
                "added to the library"
            };
            org.flash("success", format!("Question {verb}."));
            Ok(see_other(&org.url(&format!("/questions/{question_id}"))))
        }
        FormSaved::Invalid(errors) => render_invalid(&form_page(&org, id, form, errors)),
        FormSaved::Missing => Err(WebError::NotFound),
    }
}

/// Validates the form and stores it as question `target` (a new one when `None`), inside the
/// caller's write transaction.
fn save_in(
    conn: &mut DbConn,
    org_id: &str,
    target: Option<&str>,
    typed: &QuestionForm,
) -> Result<FormSaved, DbError> {
    let existing = match target {
        Some(id) => match db::questions::find(conn, org_id, id)? {
            Some(q) => Some(q),
            None => return Ok(FormSaved::Missing),
        },
        None => None,
    };
    // Checked with the other fields, so every problem shows at once.
    let title = typed.title.trim();
    let taken = match db::questions::with_title(conn, org_id, title)? {
        Some(other) if Some(other.id.as_str()) != target => Some(format!(
            "The library already has a question titled “{title}”; give this one another title."
        )),
        _ => None,
    };
    let valid = match (validate(typed), taken) {
        (Ok(valid), None) => valid,
        (Ok(_), Some(taken)) => return Ok(FormSaved::Invalid(HashMap::from([("title", taken)]))),
        (Err(mut errors), taken) => {
            if let Some(taken) = taken {
                errors.entry("title").or_insert(taken);
            }
            return Ok(FormSaved::Invalid(errors));
        }
    };
    let now = db::now();
    let question = Question {
        id: existing
            .as_ref()
            .map(|q| q.id.clone())
            .unwrap_or_else(db::new_id),
        org_id: org_id.to_owned(),
        title: valid.title,
        prompt: valid.prompt,
        language: valid.language.as_str().into(),
        starter_code: valid.starter_code,
        created_at: existing.as_ref().map(|q| q.created_at).unwrap_or(now),
        updated_at: now,
        reference_solution: existing
            .as_ref()
            .map(|q| q.reference_solution.clone())
            .unwrap_or_default(),
    };
    if existing.is_some() {
        db::questions::update(conn, &question)?;
    } else {
        db::questions::insert(conn, &question)?;
    }
    Ok(FormSaved::Done(question.id))
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
