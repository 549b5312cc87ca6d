//! Configurations: which candidates, at which stages, get which kind of assessment, and where
//! its question comes from (every trigger style, `domain::TriggerStyle` and `QuestionSource`).

mod overlap;

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::auth::{AdminPage, OrgPage, OrgReader};
use super::confirm::{Confirmation, Confirmed};
use super::csrf::{CsrfForm, NoFields};
use super::layout::{Chrome, Nav};
use super::{render, render_invalid, see_other, FormSaved, WebError};
use crate::connection::{mark_broken, record_calls, StagesError};
use crate::db::configurations::Configuration;
use crate::db::lever::CachedStage;
use crate::db::questions::Question;
use crate::db::{self, DbConn, DbError};
use crate::domain::{pad_label, parse_prefix, PadKind, QuestionSource, TagName, TriggerStyle};
use crate::lever::LeverError;

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
    /// The library question's title, or where the question comes from.
    question: String,
    /// The tag, or "every candidate".
    who: String,
}

#[derive(Template)]
#[template(path = "configuration_form.html")]
struct FormPage {
    chrome: Chrome,
    /// `None` for a new configuration.
    id: Option<String>,
    stages: Vec<CachedStage>,
    kinds: Vec<(&'static str, &'static str)>,
    /// Each trigger style and question source: (value, label, help).
    styles: Vec<(&'static str, &'static str, &'static str)>,
    sources: Vec<(&'static str, &'static str, &'static str)>,
    /// The organization's question library, to pick from.
    questions: Vec<Question>,
    form: ConfigurationForm,
    errors: HashMap<&'static str, String>,
}

/// A form without the trigger style or question source (posted before they existed) means
/// today's behaviour: the tag at one stage, a library question.
#[derive(Clone, Default, Deserialize)]
pub struct ConfigurationForm {
    #[serde(default = "tag_style")]
    trigger_style: String,
    #[serde(default)]
    trigger_stage_id: String,
    #[serde(default)]
    stage_prefix: String,
    #[serde(default)]
    pad_kind: String,
    #[serde(default = "library_source")]
    question_source: String,
    #[serde(default)]
    question_id: String,
    #[serde(default)]
    question_tag_prefix: String,
    #[serde(default)]
    tag_name: String,
}

fn tag_style() -> String {
    TriggerStyle::Tag.as_str().into()
}

fn library_source() -> String {
    QuestionSource::Library.as_str().into()
}

impl ConfigurationForm {
    fn from_configuration(c: &Configuration) -> Self {
        ConfigurationForm {
            trigger_style: c.trigger_style.clone(),
            trigger_stage_id: c.trigger_stage_id.clone().unwrap_or_default(),
            stage_prefix: c.stage_prefix.clone().unwrap_or_default(),
            pad_kind: c.pad_kind.clone(),
            question_source: c.question_source.clone(),
            question_id: c.question_id.clone().unwrap_or_default(),
            question_tag_prefix: c.question_tag_prefix.clone().unwrap_or_default(),
            tag_name: c.tag_name.clone().unwrap_or_default(),
        }
    }
}

/// A form that passed every check.
struct Valid {
    style: TriggerStyle,
    stage_id: Option<String>,
    stage_prefix: Option<String>,
    kind: PadKind,
    source: QuestionSource,
    /// The id of one of the organization's questions.
    question_id: Option<String>,
    question_tag_prefix: Option<String>,
    tag: Option<TagName>,
}

/// Checks every field, so the page can show every problem at once. A field the chosen trigger
/// style or question source does not read must be empty: a value there says the admin meant
/// something this configuration would not do.
fn validate(
    form: &ConfigurationForm,
    stages: &[CachedStage],
    questions: &[Question],
) -> Result<Valid, FieldErrors> {
    let mut errors = HashMap::new();
    let style = TriggerStyle::parse(&form.trigger_style)
        .map_err(|e| errors.insert("trigger_style", e))
        .ok();
    let (stage, stage_prefix) = where_it_fires(style, form, stages, &mut errors);
    let tag = trigger_tag(style, form, &mut errors);
    let kind = PadKind::parse(&form.pad_kind)
        .map_err(|e| errors.insert("pad_kind", e))
        .ok();
    let source = QuestionSource::parse(&form.question_source)
        .map_err(|e| errors.insert("question_source", e))
        .ok();
    let (question_id, question_tag_prefix) = match source {
        Some(QuestionSource::Library) => {
            (library_question(kind, form, questions, &mut errors), None)
        }
        Some(other) => (
            None,
            picked_per_candidate(other, form, questions, &mut errors),
        ),
        None => (None, None),
    };
    match (errors.is_empty(), style, kind, source) {
        (true, Some(style), Some(kind), Some(source)) => Ok(Valid {
            style,
            stage_id: stage,
            stage_prefix,
            kind,
            source,
            question_id,
            question_tag_prefix,
            tag,
        }),
        _ => Err(errors),
    }
}

/// The problems of a form, by field name.
type FieldErrors = HashMap<&'static str, String>;

/// The trigger stage (tag and stage styles) or the stage-name prefix (prefix style): whichever
/// the style reads must be valid, and the other must be empty.
fn where_it_fires(
    style: Option<TriggerStyle>,
    form: &ConfigurationForm,
    stages: &[CachedStage],
    errors: &mut FieldErrors,
) -> (Option<String>, Option<String>) {
    let stage_id = form.trigger_stage_id.trim();
    let typed_prefix = form.stage_prefix.trim();
    let (mut stage, mut stage_prefix) = (None, None);
    match style {
        Some(TriggerStyle::Tag | TriggerStyle::Stage) => {
            if stages.iter().any(|s| s.id == stage_id) {
                stage = Some(stage_id.to_owned());
            } else {
                errors.insert(
                    "trigger_stage_id",
                    "Choose one of your Lever stages.".to_owned(),
                );
            }
            if !typed_prefix.is_empty() {
                errors.insert("stage_prefix", "Only the prefix trigger reads a stage-name prefix: clear it, or choose “Every stage whose name begins with a prefix”.".to_owned());
            }
        }
        Some(TriggerStyle::StagePrefix) => {
            match parse_prefix(typed_prefix, "stage-name prefix") {
                Ok(prefix) => stage_prefix = Some(prefix),
                Err(e) => {
                    errors.insert("stage_prefix", e);
                }
            }
            if !stage_id.is_empty() {
                errors.insert("trigger_stage_id", "A prefix configuration fires at every stage whose name begins with the prefix: leave the trigger stage empty.".to_owned());
            }
        }
        None => {}
    }
    (stage, stage_prefix)
}

/// The tag a tag-style configuration waits for; any other style must leave it empty.
fn trigger_tag(
    style: Option<TriggerStyle>,
    form: &ConfigurationForm,
    errors: &mut FieldErrors,
) -> Option<TagName> {
    let typed_tag = form.tag_name.trim();
    match style {
        Some(TriggerStyle::Tag) => TagName::parse(typed_tag)
            .map_err(|e| errors.insert("tag_name", e))
            .ok(),
        Some(_) if !typed_tag.is_empty() => {
            errors.insert("tag_name", "Only the tag trigger reads a tag: clear it, or choose “Tagged candidates at a trigger stage”.".to_owned());
            None
        }
        _ => None,
    }
}

/// The library question a configuration always sends: one of the organization's, required for
/// a take-home test; a posting-tag prefix must be empty.
fn library_question(
    kind: Option<PadKind>,
    form: &ConfigurationForm,
    questions: &[Question],
    errors: &mut FieldErrors,
) -> Option<String> {
    let question_id = form.question_id.trim();
    if !form.question_tag_prefix.trim().is_empty() {
        errors.insert("question_tag_prefix", "Only a question named by the posting's tag reads a posting-tag prefix: clear it, or choose “Named by a tag on the candidate's posting”.".to_owned());
    }
    if question_id.is_empty() {
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
    }
}

/// For a question picked per candidate (`source` is not the library): the posting-tag prefix
/// when the posting's tag names it; the Question field must be empty and the library not.
fn picked_per_candidate(
    source: QuestionSource,
    form: &ConfigurationForm,
    questions: &[Question],
    errors: &mut FieldErrors,
) -> Option<String> {
    let typed_tag_prefix = form.question_tag_prefix.trim();
    let mut question_tag_prefix = None;
    if source == QuestionSource::PostingTag {
        match parse_prefix(typed_tag_prefix, "posting-tag prefix") {
            Ok(prefix) => question_tag_prefix = Some(prefix),
            Err(e) => {
                errors.insert("question_tag_prefix", e);
            }
        }
    } else if !typed_tag_prefix.is_empty() {
        errors.insert("question_tag_prefix", "Only a question named by the posting's tag reads a posting-tag prefix: clear it, or choose “Named by a tag on the candidate's posting”.".to_owned());
    }
    if !form.question_id.trim().is_empty() {
        errors.insert(
            "question_id",
            format!(
                "With “{}” the question is picked per candidate: leave Question empty, or choose “A question from the library”.",
                source.label()
            ),
        );
    } else if questions.is_empty() {
        errors.insert(
            "question_source",
            "Your question library is empty, so there is nothing to pick from: add questions on the Questions page first.".into(),
        );
    }
    question_tag_prefix
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
    let stage_name = |id: &str| stages.iter().find(|s| s.id == id).map(|s| s.text.clone());
    let rows = configurations
        .iter()
        .map(|c| Row {
            id: c.id.clone(),
            stage: c.stage_label(&stage_name),
            kind: pad_label(&c.pad_kind),
            question: match c.question_source() {
                QuestionSource::Library => c
                    .question_id
                    .as_deref()
                    .and_then(|id| questions.iter().find(|q| q.id == id))
                    .map(|q| q.title.clone())
                    .unwrap_or_default(),
                QuestionSource::PostingTag => format!(
                    "Named by the posting's tag “{} …”",
                    c.question_tag_prefix.as_deref().unwrap_or_default()
                ),
                QuestionSource::Recruiter => "Recruiter's choice".into(),
            },
            who: c.who(),
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
        styles: TriggerStyle::ALL
            .iter()
            .map(|s| (s.as_str(), s.label(), s.help()))
            .collect(),
        sources: QuestionSource::ALL
            .iter()
            .map(|s| (s.as_str(), s.label(), s.help()))
            .collect(),
        questions,
        form,
        errors,
    })
}

pub async fn new(org: OrgReader) -> Result<HttpResponse, WebError> {
    let form = ConfigurationForm {
        trigger_style: TriggerStyle::Tag.as_str().into(),
        pad_kind: PadKind::Live.as_str().into(),
        question_source: QuestionSource::Library.as_str().into(),
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
        FormSaved::Done(fires) => {
            let verb = if id.is_some() { "saved" } else { "created" };
            org.flash("success", format!("Configuration {verb}. {fires}"));
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
    db::configurations::lock_organization(conn, org_id)?;
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
    let stage_name = |id: &str| stages.iter().find(|s| s.id == id).map(|s| s.text.clone());
    let configuration = valid.into_configuration(org_id, existing.as_ref());
    if let Some(errors) = refused(conn, &configuration, &stage_name)? {
        return Ok(FormSaved::Invalid(errors));
    }
    if existing.is_some() {
        db::configurations::update(conn, &configuration)?;
    } else {
        db::configurations::insert(conn, &configuration)?;
    }
    Ok(FormSaved::Done(fires_for(&configuration, &stage_name)))
}

impl Valid {
    /// The configuration to store: `existing` changed (its id and creation kept), or a new one.
    fn into_configuration(self, org_id: &str, existing: Option<&Configuration>) -> Configuration {
        let now = db::now();
        Configuration {
            id: existing.map_or_else(db::new_id, |c| c.id.clone()),
            org_id: org_id.to_owned(),
            trigger_stage_id: self.stage_id,
            pad_kind: self.kind.as_str().into(),
            question_id: self.question_id,
            tag_name: self.tag.map(|t| t.as_str().to_owned()),
            created_at: existing.map_or(now, |c| c.created_at),
            updated_at: now,
            trigger_style: self.style.as_str().into(),
            stage_prefix: self.stage_prefix,
            question_source: self.source.as_str().into(),
            question_tag_prefix: self.question_tag_prefix,
        }
    }
}

/// Why `saving` clashes with another of the organization's configurations: its tag is taken,
/// or it would repeat one exactly (same trigger, stage and kind).
fn refused(
    conn: &mut DbConn,
    saving: &Configuration,
    stage_name: overlap::StageName<'_>,
) -> Result<Option<FieldErrors>, DbError> {
    let org_id = &saving.org_id;
    if let Some(tag) = &saving.tag_name {
        if let Some(other) = db::configurations::with_tag(conn, org_id, tag)? {
            if other.id != saving.id {
                let message = format!("The tag “{tag}” is already used by the configuration at “{}”; each configuration needs its own tag.", other.stage_label(stage_name));
                return Ok(Some(HashMap::from([("tag_name", message)])));
            }
        }
    }
    let existing = db::configurations::list(conn, org_id)?;
    Ok(overlap::identical(saving, &existing, stage_name)
        .map(|(field, message)| HashMap::from([(field, message)])))
}

/// What a saved configuration now does, for the confirmation.
fn fires_for(c: &Configuration, stage_name: &dyn Fn(&str) -> Option<String>) -> String {
    let who = match c.style() {
        TriggerStyle::Tag => format!(
            "Candidates tagged “{}” in Lever now get",
            c.tag_name.as_deref().unwrap_or_default()
        ),
        _ => "Every candidate now gets".into(),
    };
    let at = overlap::at(c, stage_name);
    let question = match c.question_source() {
        QuestionSource::Library => String::new(),
        QuestionSource::PostingTag => format!(
            ", its question named by their posting's tag “{} {{question title}}”",
            c.question_tag_prefix.as_deref().unwrap_or_default()
        ),
        QuestionSource::Recruiter => {
            ", once a member of your organization picks its question from the link in Lever".into()
        }
    };
    format!(
        "{who} a {} {at}{question}.",
        pad_label(&c.pad_kind).to_lowercase()
    )
}

pub async fn delete(
    org: AdminPage,
    path: web::Path<(String, String)>,
    CsrfForm(form): CsrfForm<Confirmed>,
) -> Result<HttpResponse, WebError> {
    let (org_id, id) = (org.org.id.clone(), path.1.clone());
    if !form.is_confirmed() {
        let org_id = org_id.clone();
        let (configurations, stages) = org
            .state
            .db
            .run(move |conn| -> Result<_, DbError> {
                Ok((
                    db::configurations::list(conn, &org_id)?,
                    db::lever::stages(conn, &org_id)?,
                ))
            })
            .await?;
        let configuration = configurations
            .iter()
            .find(|c| c.id == id)
            .ok_or(WebError::NotFound)?;
        let stage_name = |id: &str| stages.iter().find(|s| s.id == id).map(|s| s.text.clone());
        return Confirmation {
            chrome: Chrome::new(&org, "Delete configuration", Nav::Configurations),
            question: "Delete this configuration?".into(),
            consequence: overlap::deletion_consequence(configuration, &configurations, &stage_name),
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
    let client = match org.state.lever.client_for(&org.state.db, &connection).await {
        Ok(client) => client,
        Err(e) => {
            org.flash(
                "error",
                format!("Could not read the stages from Lever: {e}"),
            );
            return Ok(see_other(&org.url("/configurations")));
        }
    };
    let result = crate::connection::refresh_stages(&org.state.db, &client, &org.org.id).await;
    let calls = client.take_calls();
    let org_id = org.org.id.clone();
    org.state
        .db
        .run(move |conn| record_calls(conn, &org_id, None, calls).map_err(WebError::from))
        .await?;
    match result {
        Ok(stages) if stages.is_empty() => {
            org.flash(
                "error",
                "Lever listed no stages; the stages already known were kept.",
            );
        }
        Ok(stages) => {
            let count = stages.len();
            org.flash("success", format!("{count} stages read from Lever."));
        }
        Err(StagesError::Db(e)) => return Err(e.into()),
        Err(StagesError::Lever(e)) => {
            if let LeverError::Unauthorized { message } = &e {
                mark_broken(&org.state.db, &connection, message).await;
            }
            org.flash(
                "error",
                format!("Could not read the stages from Lever: {e}"),
            );
        }
    }
    Ok(see_other(&org.url("/configurations")))
}
