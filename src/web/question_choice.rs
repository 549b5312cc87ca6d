//! Recruiter's choice: the page the link in Lever opens, `/orgs/{org}/choose/{choice}`, where
//! a signed-in reviewer or admin picks the candidate's question. Choosing creates the
//! assessment and queues its invitation, which replaces the link in Lever by the candidate's.
//! Once the candidate is archived, hired or deleted in Lever the choice is withdrawn and the
//! page refuses it.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::auth::OrgPage;
use super::csrf::CsrfForm;
use super::layout::{Chrome, Nav};
use super::{render, render_invalid, see_other, WebError};
use crate::assessments::question_choice::{self, Refused};
use crate::assessments::withdrawal::LeftPipeline;
use crate::db::configurations::Configuration;
use crate::db::question_choices::QuestionChoice;
use crate::db::questions::{language_label, Question};
use crate::db::withdrawals::ERASED_NAME;
use crate::db::{self, DbError};
use crate::domain::{pad_label, Role};

#[derive(Template)]
#[template(path = "question_choice.html")]
struct ChoicePage {
    chrome: Chrome,
    choice: QuestionChoice,
    /// The candidate's name, or what stands for it once they were deleted in Lever.
    candidate: String,
    kind: &'static str,
    /// Where the configuration fires and for whom.
    configuration: String,
    questions: Vec<(Question, &'static str)>,
    chosen: String,
    /// Why this visitor cannot choose, if they cannot.
    closed: Option<String>,
    /// The candidate left the pipeline in Lever before anyone chose: no form at all.
    withdrawn: bool,
    errors: HashMap<&'static str, String>,
}

#[derive(Clone, Default, Deserialize)]
pub struct ChoiceForm {
    #[serde(default)]
    question_id: String,
}

struct Loaded {
    choice: QuestionChoice,
    configuration: Option<Configuration>,
    questions: Vec<Question>,
    stages: Vec<(String, String)>,
}

async fn load(org: &OrgPage, id: String) -> Result<Loaded, WebError> {
    let org_id = org.org.id.clone();
    org.state
        .db
        .run(move |conn| -> Result<_, WebError> {
            let Some(choice) = db::question_choices::find(conn, &org_id, &id)? else {
                return Err(WebError::NotFound);
            };
            Ok(Loaded {
                configuration: db::configurations::find(conn, &org_id, &choice.configuration_id)?,
                choice,
                questions: db::questions::list(conn, &org_id)?,
                stages: db::lever::stages(conn, &org_id)?
                    .into_iter()
                    .map(|s| (s.id, s.text))
                    .collect(),
            })
        })
        .await
}

fn page(
    org: &OrgPage,
    loaded: Loaded,
    chosen: String,
    errors: HashMap<&'static str, String>,
) -> ChoicePage {
    let stage_name = |id: &str| {
        loaded
            .stages
            .iter()
            .find(|(s, _)| s == id)
            .map(|(_, t)| t.clone())
    };
    let closed = if let Some(at) = loaded.choice.withdrawn_at {
        let because = loaded
            .choice
            .withdraw_reason
            .as_deref()
            .and_then(LeftPipeline::parse)
            .map(LeftPipeline::because)
            .unwrap_or("the candidate left the pipeline in Lever");
        Some(format!(
            "Withdrawn on {}: {because} before anyone chose, so no question can be chosen and nothing is sent to them.",
            at.format("%-d %b %Y %H:%M UTC")
        ))
    } else if loaded.choice.chosen_at.is_some() {
        Some(format!(
            "{} chose the question on {}; the candidate has been invited.",
            loaded
                .choice
                .chosen_by
                .as_deref()
                .unwrap_or("A former member"),
            loaded
                .choice
                .chosen_at
                .map(|at| at.format("%-d %b %Y %H:%M UTC").to_string())
                .unwrap_or_default()
        ))
    } else if loaded.configuration.is_none() {
        Some("Its configuration has been deleted, so there is nothing to send.".into())
    } else if !matches!(org.role, Role::Admin | Role::Reviewer) {
        Some("Support staff read organizations; its reviewers and admins choose questions.".into())
    } else {
        None
    };
    ChoicePage {
        chrome: Chrome::new(org, "Choose the question", Nav::Assessments),
        kind: loaded
            .configuration
            .as_ref()
            .map(|c| pad_label(&c.pad_kind))
            .unwrap_or("Assessment"),
        configuration: loaded
            .configuration
            .as_ref()
            .map(|c| c.summary(&stage_name))
            .unwrap_or_else(|| "a deleted configuration".into()),
        questions: loaded
            .questions
            .into_iter()
            .map(|q| {
                let language = language_label(&q.language);
                (q, language)
            })
            .collect(),
        candidate: match loaded.choice.candidate_name.trim() {
            "" => ERASED_NAME.to_owned(),
            name => name.to_owned(),
        },
        withdrawn: loaded.choice.withdrawn_at.is_some(),
        choice: loaded.choice,
        chosen,
        closed,
        errors,
    }
}

pub async fn show(
    org: OrgPage,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let loaded = load(&org, path.1.clone()).await?;
    render(&page(&org, loaded, String::new(), HashMap::new()))
}

pub async fn choose(
    org: OrgPage,
    path: web::Path<(String, String)>,
    CsrfForm(form): CsrfForm<ChoiceForm>,
) -> Result<HttpResponse, WebError> {
    if !matches!(org.role, Role::Admin | Role::Reviewer) {
        return Err(WebError::Forbidden(
            "Support staff have read-only access to organizations: only its reviewers and admins choose questions. Nothing was changed.".into(),
        ));
    }
    let loaded = load(&org, path.1.clone()).await?;
    if Refused::of(&loaded.choice) == Some(Refused::Withdrawn) {
        // The page says why; nothing is created.
        let page = page(&org, loaded, form.question_id, HashMap::new());
        return Ok(HttpResponse::Conflict()
            .content_type("text/html; charset=utf-8")
            .body(page.render()?));
    }
    let question = loaded
        .questions
        .iter()
        .find(|q| q.id == form.question_id.trim())
        .cloned();
    let (Some(question), Some(configuration)) = (question, loaded.configuration.clone()) else {
        let mut errors = HashMap::new();
        if loaded.configuration.is_some() {
            errors.insert(
                "question_id",
                "Choose one of the questions of your library.".to_owned(),
            );
        }
        return render_invalid(&page(&org, loaded, form.question_id, errors));
    };
    let outcome = send(&org, loaded.choice.clone(), configuration, question.clone()).await?;
    after_choosing(&org, outcome, &question, &path.1)
}

/// Creates the assessment with the chosen question, unless the choice was made or withdrawn
/// meanwhile.
async fn send(
    org: &OrgPage,
    choice: QuestionChoice,
    configuration: Configuration,
    chosen: Question,
) -> Result<Result<db::assessments::Assessment, Refused>, WebError> {
    let (org_id, by) = (org.org.id.clone(), org.user.email.clone());
    let now = org.state.settings.tuning.clock.now();
    let attempts = org.state.settings.tuning.job_max_attempts;
    Ok(org
        .state
        .db
        .run(move |conn| -> Result<_, DbError> {
            let settings = db::settings::for_org(conn, &org_id)?;
            db::connection::write_transaction(conn, |conn| {
                // Read again under the write lock: another member may have chosen meanwhile.
                let Some(choice) = db::question_choices::find(conn, &org_id, &choice.id)? else {
                    return Ok(Err(Refused::AlreadyChosen));
                };
                question_choice::choose(
                    conn,
                    &choice,
                    &configuration,
                    &chosen,
                    &by,
                    &settings,
                    now,
                    attempts,
                )
            })
            .map_err(DbError::from)
        })
        .await?)
}

/// Where the member goes next: the new assessment, or back to the choice saying why nothing
/// was sent.
fn after_choosing(
    org: &OrgPage,
    outcome: Result<db::assessments::Assessment, Refused>,
    question: &Question,
    choice_id: &str,
) -> Result<HttpResponse, WebError> {
    match outcome {
        Ok(assessment) => {
            org.state.jobs.wake();
            org.flash(
                "success",
                format!(
                    "“{}” sent to {}: the link in Lever is being replaced by the candidate's.",
                    question.title, assessment.candidate_name
                ),
            );
            Ok(see_other(
                &org.url(&format!("/assessments/{}", assessment.id)),
            ))
        }
        Err(Refused::Withdrawn) => {
            org.flash(
                "error",
                "The candidate left the pipeline in Lever as you chose: the choice was withdrawn and nothing was sent.",
            );
            Ok(see_other(&org.url(&format!("/choose/{}", choice_id))))
        }
        Err(Refused::AlreadyChosen) => {
            org.flash(
                "error",
                "Someone chose this candidate's question first; nothing was changed.",
            );
            Ok(see_other(&org.url(&format!("/choose/{}", choice_id))))
        }
    }
}
