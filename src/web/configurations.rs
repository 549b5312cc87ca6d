//! Configurations: which trigger stage and tag create which kind of assessment.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::auth::{AdminPage, OrgPage, OrgReader};
use super::confirm::{Confirmation, Confirmed};
use super::csrf::{CsrfForm, NoFields};
use super::layout::{Chrome, Nav};
use super::{render, render_invalid, see_other, FormSaved, WebError};
use crate::db::configurations::Configuration;
use crate::db::lever::CachedStage;
use crate::db::questions::Question;
use crate::db::{self, DbConn, DbError};
use crate::domain::{pad_label, PadKind, TagName};
use crate::lever_access::record_calls;

#[derive(Template)]
#[template(path = "configurations.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    stages_cached: usize,
    refreshed: Option<String>,
}

struct Row {
    id: String,
    stage: String,
    kind: &'static str,
    question: String,
    tag: String,
}

#[derive(Template)]
#[template(path = "configuration_form.html")]
struct FormPage {
    chrome: Chrome,
    /// `None` for a new configuration.
    id: Option<String>,
    stages: Vec<CachedStage>,
    kinds: Vec<(&'static str, &'static str)>,
    /// The organization's question library, to pick from.
    questions: Vec<Question>,
    form: ConfigurationForm,
    errors: HashMap<&'static str, String>,
}

#[derive(Clone, Default, Deserialize)]
pub struct ConfigurationForm {
    #[serde(default)]
    trigger_stage_id: String,
    #[serde(default)]
    pad_kind: String,
    #[serde(default)]
    question_id: String,
    #[serde(default)]
    tag_name: String,
}

impl ConfigurationForm {
    fn from_configuration(c: &Configuration) -> Self {
        ConfigurationForm {
            trigger_stage_id: c.trigger_stage_id.clone(),
            pad_kind: c.pad_kind.clone(),
            question_id: c.question_id.clone().unwrap_or_default(),
            tag_name: c.tag_name.clone(),
        }
    }
}

/// A form that passed every check.
struct Valid {
    stage_id: String,
    kind: PadKind,
    /// The id of one of the organization's questions.
    question_id: Option<String>,
    tag: TagName,
}

/// Checks every field, so the page can show every problem at once.
fn validate(
    form: &ConfigurationForm,
    stages: &[CachedStage],
    questions: &[Question],
) -> Result<Valid, HashMap<&'static str, String>> {
    let mut errors = HashMap::new();
    let stage_id = form.trigger_stage_id.trim();
    if !stages.iter().any(|s| s.id == stage_id) {
        errors.insert(
            "trigger_stage_id",
            "Choose one of your Lever stages.".to_owned(),
        );
    }
    let kind = PadKind::parse(&form.pad_kind)
        .map_err(|e| errors.insert("pad_kind", e))
        .ok();
    let question_id = form.question_id.trim();
    let question_id = if question_id.is_empty() {
        if kind.is_some_and(PadKind::needs_question) {
            errors.insert(
                "question_id",
                "A take-home test needs a question: choose one from your library.".into(),
            );
        }
        None
    } else if questions.iter().any(|q| q.id == question_id) {
        Some(question_id.to_owned())
    } else {
        errors.insert(
            "question_id",
            "Choose one of the questions in your library.".into(),
        );
        None
    };
    let tag = TagName::parse(&form.tag_name)
        .map_err(|e| errors.insert("tag_name", e))
        .ok();
    match (errors.is_empty(), kind, tag) {
        (true, Some(kind), Some(tag)) => Ok(Valid {
            stage_id: stage_id.to_owned(),
            kind,
            question_id,
            tag,
        }),
        _ => Err(errors),
    }
}

pub async fn list(org: OrgReader) -> Result<HttpResponse, WebError> {
    let org_id = org.org.id.clone();
    let (configurations, stages, questions) = org
        .state
        .db
        .run(move |conn| -> Result<_, DbError> {
            Ok((
                db::configurations::list(conn, &org_id)?,
                db::lever::stages(conn, &org_id)?,
                db::questions::list(conn, &org_id)?,
            ))
        })
        .await?;
    let stage_name = |id: &str| {
        stages
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.text.clone())
            .unwrap_or_else(|| format!("{id} (no longer in Lever)"))
    };
    let rows = configurations
        .iter()
        .map(|c| Row {
            id: c.id.clone(),
            stage: stage_name(&c.trigger_stage_id),
            kind: pad_label(&c.pad_kind),
            question: c
                .question_id
                .as_deref()
                .and_then(|id| questions.iter().find(|q| q.id == id))
                .map(|q| q.title.clone())
                .unwrap_or_default(),
            tag: c.tag_name.clone(),
        })
        .collect();
    render(&ListPage {
        chrome: Chrome::new(&org, "Configurations", Nav::Configurations),
        rows,
        stages_cached: stages.len(),
        refreshed: stages
            .first()
            .map(|s| s.refreshed_at.format("%-d %b %Y %H:%M UTC").to_string()),
    })
}

async fn form_page(
    org: &OrgPage,
    id: Option<String>,
    form: ConfigurationForm,
    errors: HashMap<&'static str, String>,
) -> Result<FormPage, WebError> {
    let org_id = org.org.id.clone();
    let (stages, questions) = org
        .state
        .db
        .run(move |conn| -> Result<_, DbError> {
            Ok((
                db::lever::stages(conn, &org_id)?,
                db::questions::list(conn, &org_id)?,
            ))
        })
        .await?;
    let title = if id.is_some() {
        "Edit configuration"
    } else {
        "Add configuration"
    };
    Ok(FormPage {
        chrome: Chrome::new(org, title, Nav::Configurations),
        id,
        stages,
        kinds: PadKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label()))
            .collect(),
        questions,
        form,
        errors,
    })
}

pub async fn new(org: OrgReader) -> Result<HttpResponse, WebError> {
    let form = ConfigurationForm {
        pad_kind: PadKind::Live.as_str().into(),
        ..Default::default()
    };
    render(&form_page(&org, None, form, HashMap::new()).await?)
}

pub async fn edit(
    org: OrgReader,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let (org_id, id) = (org.org.id.clone(), path.1.clone());
    let configuration = org
        .state
        .db
        .run(move |conn| db::configurations::find(conn, &org_id, &id).map_err(WebError::from))
        .await?
        .ok_or(WebError::NotFound)?;
    let form = ConfigurationForm::from_configuration(&configuration);
    render(&form_page(&org, Some(configuration.id), form, HashMap::new()).await?)
}

pub async fn create(
    org: AdminPage,
    CsrfForm(form): CsrfForm<ConfigurationForm>,
) -> Result<HttpResponse, WebError> {
    save(org, None, form).await
}

pub async fn update(
    org: AdminPage,
    path: web::Path<(String, String)>,
    CsrfForm(form): CsrfForm<ConfigurationForm>,
) -> Result<HttpResponse, WebError> {
    save(org, Some(path.1.clone()), form).await
}

async fn save(
    org: AdminPage,
    id: Option<String>,
    form: ConfigurationForm,
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
        FormSaved::Done(tag) => {
            let verb = if id.is_some() { "saved" } else { "created" };
            org.flash("success", format!("Configuration {verb}. Candidates tagged “{tag}” in Lever now get an assessment at its trigger stage."));
            Ok(see_other(&org.url("/configurations")))
        }
        FormSaved::Invalid(errors) => {
            let page = form_page(&org, id, form, errors).await?;
            render_invalid(&page)
        }
        FormSaved::Missing => Err(WebError::NotFound),
    }
}

/// Validates the form and stores it as configuration `target` (a new one when `None`), inside
/// the caller's write transaction.
fn save_in(
    conn: &mut DbConn,
    org_id: &str,
    target: Option<&str>,
    typed: &ConfigurationForm,
) -> Result<FormSaved, DbError> {
    let stages = db::lever::stages(conn, org_id)?;
    let questions = db::questions::list(conn, org_id)?;
    let valid = match validate(typed, &stages, &questions) {
        Ok(valid) => valid,
        Err(errors) => return Ok(FormSaved::Invalid(errors)),
    };
    let existing = match target {
        Some(id) => match db::configurations::find(conn, org_id, id)? {
            Some(c) => Some(c),
            None => return Ok(FormSaved::Missing),
        },
        None => None,
    };
    if let Some(other) = db::configurations::with_tag(conn, org_id, valid.tag.as_str())? {
        if Some(other.id.as_str()) != target {
            let stage = stages
                .iter()
                .find(|s| s.id == other.trigger_stage_id)
                .map(|s| s.text.as_str())
                .unwrap_or("another stage");
            let mut errors = HashMap::new();
            errors.insert(
                "tag_name",
                format!("The tag “{}” is already used by the configuration at “{stage}”; each configuration needs its own tag.", valid.tag.as_str()),
            );
            return Ok(FormSaved::Invalid(errors));
        }
    }
    let now = db::now();
    let configuration = Configuration {
        id: existing
            .as_ref()
            .map(|c| c.id.clone())
            .unwrap_or_else(db::new_id),
        org_id: org_id.to_owned(),
        trigger_stage_id: valid.stage_id,
        pad_kind: valid.kind.as_str().into(),
        question_id: valid.question_id,
        tag_name: valid.tag.as_str().into(),
        created_at: existing.as_ref().map(|c| c.created_at).unwrap_or(now),
        updated_at: now,
    };
    if existing.is_some() {
        db::configurations::update(conn, &configuration)?;
    } else {
        db::configurations::insert(conn, &configuration)?;
    }
    Ok(FormSaved::Done(configuration.tag_name))
}

pub async fn delete(
    org: AdminPage,
    path: web::Path<(String, String)>,
    CsrfForm(form): CsrfForm<Confirmed>,
) -> Result<HttpResponse, WebError> {
    let (org_id, id) = (org.org.id.clone(), path.1.clone());
    if !form.is_confirmed() {
        let (org_id, id) = (org_id.clone(), id.clone());
        let (configuration, stages) = org
            .state
            .db
            .run(move |conn| -> Result<_, DbError> {
                let configuration = db::configurations::find(conn, &org_id, &id)?;
                Ok((configuration, db::lever::stages(conn, &org_id)?))
            })
            .await?;
        let configuration = configuration.ok_or(WebError::NotFound)?;
        let stage = stages
            .iter()
            .find(|s| s.id == configuration.trigger_stage_id)
            .map_or(configuration.trigger_stage_id.as_str(), |s| s.text.as_str());
        return Confirmation {
            chrome: Chrome::new(&org, "Delete configuration", Nav::Configurations),
            question: "Delete this configuration?".into(),
            consequence: format!(
                "Candidates tagged “{}” who reach “{stage}” will no longer receive a {} \
                 assessment. Assessments it has already created are kept, with their links in Lever.",
                configuration.tag_name,
                pad_label(&configuration.pad_kind).to_lowercase(),
            ),
            action: org.url(&format!("/configurations/{}/delete", configuration.id)),
            button: "Delete configuration".into(),
            cancel: org.url("/configurations"),
        }
        .answer();
    }
    let removed = org
        .state
        .db
        .run(move |conn| db::configurations::delete(conn, &org_id, &id).map_err(WebError::from))
        .await?;
    if removed == 0 {
        return Err(WebError::NotFound);
    }
    org.flash(
        "success",
        "Configuration deleted. Assessments it created are kept.",
    );
    Ok(see_other(&org.url("/configurations")))
}

/// Reads the stages from Lever again (the only Lever call a page makes, and only on request).
pub async fn refresh_stages(
    org: AdminPage,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let org_id = org.org.id.clone();
    let connection = org
        .state
        .db
        .run(move |conn| db::lever::connection(conn, &org_id).map_err(WebError::from))
        .await?;
    let Some(connection) = connection else {
        org.flash(
            "error",
            "Connect Lever first: the stages come from your Lever account.",
        );
        return Ok(see_other(&org.url("/configurations")));
    };
    let client = org.state.lever.client_for(&connection)?;
    let result = client.list_stages().await;
    let calls = client.take_calls();
    let org_id = org.org.id.clone();
    match result {
        Ok(stages) if stages.is_empty() => {
            org.state
                .db
                .run(move |conn| record_calls(conn, &org_id, None, calls).map_err(WebError::from))
                .await?;
            org.flash(
                "error",
                "Lever listed no stages; the stages already known were kept.",
            );
        }
        Ok(stages) => {
            let count = stages.len();
            let pairs: Vec<(String, String)> = stages.into_iter().map(|s| (s.id, s.text)).collect();
            org.state
                .db
                .run(move |conn| -> Result<(), WebError> {
                    record_calls(conn, &org_id, None, calls)?;
                    db::connection::write_transaction(conn, |conn| {
                        db::lever::replace_stages(conn, &org_id, &pairs)
                    })?;
                    Ok(())
                })
                .await?;
            org.flash("success", format!("{count} stages read from Lever."));
        }
        Err(e) => {
            let unauthorized = matches!(e, crate::lever::LeverError::Unauthorized { .. });
            let sealed = connection.api_key_sealed.clone();
            let reason = format!("Lever answered 401 Unauthorized: {e}");
            org.state
                .db
                .run(move |conn| -> Result<(), WebError> {
                    record_calls(conn, &org_id, None, calls)?;
                    if unauthorized {
                        db::lever::mark_broken(conn, &org_id, &sealed, &reason)?;
                    }
                    Ok(())
                })
                .await?;
            org.flash(
                "error",
                format!("Could not read the stages from Lever: {e}"),
            );
        }
    }
    Ok(see_other(&org.url("/configurations")))
}
