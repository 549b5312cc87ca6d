//! The question form: adding and editing a question, its test cases and its reference
//! solution. Its buttons add a case row, check the solution, or save; only saving changes
//! anything.

use actix_web::{web, HttpResponse};
use askama::Template;

use super::cases::{self, CaseRow, Errors, Runnable};
use super::check::{self, CheckReport, Checked};
use super::normalise_lines;
use crate::db::cases::TestCase;
use crate::db::questions::{Language, Question};
use crate::db::{self, DbConn, DbError};
use crate::sandbox::judge::COMPARISON_RULE;
use crate::sandbox::Sandbox;
use crate::web::auth::{AdminPage, OrgPage};
use crate::web::csrf::CsrfForm;
use crate::web::layout::{Chrome, Nav};
use crate::web::{render, render_invalid, see_other, WebError};

/// The longest title, in characters.
pub const MAX_TITLE: usize = 200;
/// The longest prompt, in characters: room for a long take-home brief.
pub const MAX_PROMPT: usize = 20_000;
/// The longest starter code, in characters.
pub const MAX_STARTER_CODE: usize = 20_000;
/// The longest reference solution, in characters.
pub const MAX_REFERENCE_SOLUTION: usize = 20_000;

#[derive(Template)]
#[template(path = "questions_form.html")]
struct FormPage {
    chrome: Chrome,
    /// `None` for a new question.
    id: Option<String>,
    languages: Vec<(&'static str, &'static str)>,
    form: QuestionForm,
    errors: Errors,
    max_title: usize,
    max_prompt: usize,
    max_starter_code: usize,
    max_reference_solution: usize,
    max_cases: usize,
    comparison_rule: &'static str,
    /// Why the form's language cannot run cases here, if it cannot.
    not_runnable: Option<String>,
    /// Why no code runs on this server, if none does.
    sandbox_unavailable: Option<String>,
    /// "5 s": a case's time limit when it sets none, in the form's language.
    default_time_limit: Option<String>,
    runnable_languages: String,
    /// The results of *Check solution* (or of the check a save ran).
    check: Option<CheckReport>,
    /// Why the reference solution could not be checked.
    not_checked: Option<String>,
    /// *Preview the prompt*: the prompt's Markdown as candidates will read it (sanitised HTML).
    preview: Option<String>,
}

impl FormPage {
    /// The problem with field `field` of case row `n`, e.g. `("weight", 2)`.
    fn case_error(&self, field: &str, n: &usize) -> Option<&String> {
        self.errors.get(&format!("case_{field}_{n}"))
    }

    /// What *Check solution* found for case row `n`, if it ran.
    fn case_check(&self, n: &usize) -> Option<&check::CheckRow> {
        self.check.as_ref().and_then(|report| report.rows.get(*n))
    }
}

/// The form as typed.
#[derive(Clone, Default)]
pub struct QuestionForm {
    title: String,
    prompt: String,
    language: String,
    starter_code: String,
    reference_solution: String,
    cases: Vec<CaseRow>,
    /// Whether the post carried the reference solution, and any case field: a post without
    /// them (from a client older than test cases) leaves the stored ones as they are.
    solution_posted: bool,
    cases_posted: bool,
}

/// What the button pressed asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    /// Store the question (the default, e.g. when Enter is pressed in a field).
    Save,
    /// Show the form again with one more case row; nothing is stored.
    AddCase,
    /// Run the reference solution against the cases; nothing is stored.
    Check,
    /// Show the prompt as candidates will read it; nothing is stored.
    Preview,
}

impl QuestionForm {
    /// The form from its url-encoded fields, with the button pressed.
    fn from_pairs(pairs: &[(String, String)]) -> (QuestionForm, Action) {
        let mut form = QuestionForm {
            cases: cases::rows_from_pairs(pairs),
            solution_posted: pairs.iter().any(|(k, _)| k == "reference_solution"),
            cases_posted: pairs.iter().any(|(k, _)| k.starts_with("case_")),
            ..QuestionForm::default()
        };
        let mut action = Action::Save;
        for (key, value) in pairs {
            let field = match key.as_str() {
                "title" => &mut form.title,
                "prompt" => &mut form.prompt,
                "language" => &mut form.language,
                "starter_code" => &mut form.starter_code,
                "reference_solution" => &mut form.reference_solution,
                "action" => {
                    action = match value.as_str() {
                        "add_case" => Action::AddCase,
                        "check" => Action::Check,
                        "preview" => Action::Preview,
                        _ => Action::Save,
                    };
                    continue;
                }
                _ => continue,
            };
            field.clone_from(value);
        }
        (form, action)
    }
}

/// The form's values, parsed as far as they could be; stored only when nothing was wrong.
struct Parsed {
    title: String,
    prompt: String,
    language: Option<Language>,
    starter_code: String,
    reference_solution: String,
    cases: Vec<TestCase>,
    /// Leave the stored reference solution, and the stored cases, as they are.
    keep_solution: bool,
    keep_cases: bool,
}

/// "Keep the {what} to {max} characters or fewer (this one has {n})." when `text` is longer.
fn too_long(errors: &mut Errors, field: &str, what: &str, text: &str, max: usize) {
    let count = text.chars().count();
    if count > max {
        errors.insert(
            field.into(),
            format!("Keep the {what} to {max} characters or fewer (this one has {count})."),
        );
    }
}

/// Checks every field, so the page can show every problem at once: the question's text, its
/// cases, and whether its language can run them here.
fn validate(form: &QuestionForm, sandbox: &Sandbox) -> (Parsed, Errors) {
    let mut errors = Errors::new();
    let title = form.title.trim();
    if title.is_empty() {
        errors.insert("title".into(), "Give the question a title.".to_owned());
    }
    too_long(&mut errors, "title", "title", title, MAX_TITLE);
    let prompt = normalise_lines(form.prompt.trim());
    too_long(&mut errors, "prompt", "prompt", &prompt, MAX_PROMPT);
    let language = Language::parse(&form.language)
        .map_err(|e| errors.insert("language".into(), e))
        .ok();
    // Indentation matters in code: only trailing blank space is dropped.
    let starter_code = normalise_lines(form.starter_code.trim_end());
    let what = "starter code";
    too_long(
        &mut errors,
        "starter_code",
        what,
        &starter_code,
        MAX_STARTER_CODE,
    );
    let reference_solution = normalise_lines(form.reference_solution.trim_end());
    let (field, what) = ("reference_solution", "reference solution");
    too_long(
        &mut errors,
        field,
        what,
        &reference_solution,
        MAX_REFERENCE_SOLUTION,
    );
    let cases = cases::parse(&form.cases, &mut errors);
    if let (Some(language), false) = (language, cases.is_empty()) {
        if let Runnable::NotHere(why) = cases::runnable(sandbox, language.as_str()) {
            errors
                .entry("cases".into())
                .or_insert(format!("Test cases need a runnable language: {why}"));
        }
    }
    let parsed = Parsed {
        title: title.to_owned(),
        prompt,
        language,
        starter_code,
        reference_solution,
        cases,
        keep_solution: !form.solution_posted,
        keep_cases: !form.cases_posted,
    };
    (parsed, errors)
}

fn form_page(org: &OrgPage, id: Option<String>, form: QuestionForm, errors: Errors) -> FormPage {
    let title = if id.is_some() {
        "Edit question"
    } else {
        "Add question"
    };
    let sandbox = &org.state.jobs.sandbox;
    let (not_runnable, sandbox_unavailable) = match cases::runnable(sandbox, &form.language) {
        Runnable::Yes => (None, None),
        Runnable::NotHere(why) => (Some(why), None),
        Runnable::Unavailable(why) => (None, Some(why)),
    };
    FormPage {
        chrome: Chrome::new(org, title, Nav::Questions),
        id,
        languages: Language::ALL
            .iter()
            .map(|l| (l.as_str(), l.label()))
            .collect(),
        default_time_limit: cases::default_time_limit(sandbox, &form.language),
        form,
        errors,
        max_title: MAX_TITLE,
        max_prompt: MAX_PROMPT,
        max_starter_code: MAX_STARTER_CODE,
        max_reference_solution: MAX_REFERENCE_SOLUTION,
        max_cases: cases::MAX_CASES,
        comparison_rule: COMPARISON_RULE,
        not_runnable,
        sandbox_unavailable,
        runnable_languages: cases::runnable_here(sandbox),
        check: None,
        preview: None,
        not_checked: None,
    }
}

pub async fn new(org: AdminPage) -> Result<HttpResponse, WebError> {
    let form = QuestionForm {
        language: Language::Python.as_str().into(),
        cases: cases::rows_for(&[]),
        ..Default::default()
    };
    render(&form_page(&org, None, form, Errors::new()))
}

pub async fn edit(
    org: AdminPage,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let (org_id, id) = (org.org.id.clone(), path.1.clone());
    let (question, stored) = org
        .state
        .db
        .run(move |conn| -> Result<_, DbError> {
            let Some(question) = db::questions::find(conn, &org_id, &id)? else {
                return Ok(None);
            };
            let stored = db::cases::for_question(conn, &question.id)?;
            Ok(Some((question, stored)))
        })
        .await?
        .ok_or(WebError::NotFound)?;
    let form = QuestionForm {
        title: question.title,
        prompt: question.prompt,
        language: question.language,
        starter_code: question.starter_code,
        reference_solution: question.reference_solution,
        cases: cases::rows_for(&stored),
        ..QuestionForm::default()
    };
    render(&form_page(&org, Some(question.id), form, Errors::new()))
}

pub async fn create(
    org: AdminPage,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    submitted(org, None, &pairs).await
}

pub async fn update(
    org: AdminPage,
    path: web::Path<(String, String)>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    submitted(org, Some(path.1.clone()), &pairs).await
}

/// Does what the button pressed asks.
async fn submitted(
    org: AdminPage,
    id: Option<String>,
    pairs: &[(String, String)],
) -> Result<HttpResponse, WebError> {
    let (mut form, action) = QuestionForm::from_pairs(pairs);
    match action {
        Action::AddCase => {
            form.cases.push(CaseRow::blank(form.cases.len()));
            render(&form_page(&org, id, form, Errors::new()))
        }
        Action::Check => check_only(org, id, form).await,
        Action::Preview => {
            let mut page = form_page(&org, id, form, Errors::new());
            page.preview = Some(super::prompt_html(&page.form.prompt));
            render(&page)
        }
        Action::Save => save(org, id, form).await,
    }
}

/// *Check solution*: runs the reference solution against the typed cases and shows the form
/// again with the results, its cases in the order they would be stored. Stores nothing.
async fn check_only(
    org: AdminPage,
    id: Option<String>,
    form: QuestionForm,
) -> Result<HttpResponse, WebError> {
    let sandbox = org.state.jobs.sandbox.clone();
    let (parsed, mut errors) = validate(&form, &sandbox);
    // Only what the check needs: an unfinished title does not stop it.
    errors.retain(|field, _| {
        field.starts_with("case") || field == "language" || field == "reference_solution"
    });
    if parsed.reference_solution.is_empty() {
        errors.insert(
            "reference_solution".into(),
            "Write a reference solution to check it against the cases.".into(),
        );
    }
    if parsed.cases.is_empty() && !errors.keys().any(|k| k.starts_with("case")) {
        errors.insert(
            "cases".into(),
            "Add a case (its input and expected output) to check the solution against.".into(),
        );
    }
    if !errors.is_empty() {
        return render_invalid(&form_page(&org, id, with_blank(form), errors));
    }
    let language = parsed.language.map_or("", Language::as_str);
    let checked = check::run(
        &sandbox,
        language,
        &parsed.reference_solution,
        &parsed.cases,
    )
    .await;
    let form = QuestionForm {
        cases: cases::rows_for(&parsed.cases),
        ..form
    };
    let mut page = form_page(&org, id, form, errors);
    match checked {
        Checked::Ran(report) => page.check = Some(report),
        Checked::NotChecked(why) => page.not_checked = Some(why),
    }
    render(&page)
}

/// The form as typed, with a blank case row to fill in after the others.
fn with_blank(form: QuestionForm) -> QuestionForm {
    QuestionForm {
        cases: cases::with_blank_row(form.cases),
        ..form
    }
}

/// What checking the reference solution before a save came to.
enum BeforeSave {
    /// Nothing to check (no solution, or no cases), or the form has errors anyway.
    Nothing,
    Passed(usize),
    /// The solution fails a case: the save is refused with this report.
    Failed(CheckReport),
    NotChecked(String),
}

async fn check_before_save(sandbox: &Sandbox, parsed: &Parsed, errors: &Errors) -> BeforeSave {
    let (Some(language), true) = (parsed.language, errors.is_empty()) else {
        return BeforeSave::Nothing;
    };
    if parsed.reference_solution.is_empty() || parsed.cases.is_empty() {
        return BeforeSave::Nothing;
    }
    let solution = &parsed.reference_solution;
    match check::run(sandbox, language.as_str(), solution, &parsed.cases).await {
        Checked::Ran(report) if report.all_passed() => BeforeSave::Passed(report.total()),
        Checked::Ran(report) => BeforeSave::Failed(CheckReport {
            refused_save: true,
            ..report
        }),
        Checked::NotChecked(why) => BeforeSave::NotChecked(why),
    }
}

/// What the save's transaction came to.
enum Saved {
    Done(String),
    Invalid(Errors),
    Missing,
}

async fn save(
    org: AdminPage,
    id: Option<String>,
    form: QuestionForm,
) -> Result<HttpResponse, WebError> {
    let (parsed, errors) = validate(&form, &org.state.jobs.sandbox);
    let checked = check_before_save(&org.state.jobs.sandbox, &parsed, &errors).await;
    if let BeforeSave::Failed(report) = checked {
        let form = QuestionForm {
            cases: cases::rows_for(&parsed.cases),
            ..form
        };
        let mut page = form_page(&org, id, form, errors);
        page.check = Some(report);
        return render_invalid(&page);
    }
    let (org_id, target) = (org.org.id.clone(), id.clone());
    let saved = org
        .state
        .db
        .run(move |conn| {
            db::connection::save_rechecked(conn, |conn| {
                save_in(conn, &org_id, target.as_deref(), &parsed, &errors)
            })
        })
        .await?;
    match saved {
        Saved::Done(question_id) => {
            let verb = if id.is_some() {
                "saved"
            } else {
                "added to the library"
            };
            let passes = match &checked {
                BeforeSave::Passed(n) => format!(" The reference solution passes all {n} cases."),
                _ => String::new(),
            };
            org.flash("success", format!("Question {verb}.{passes}"));
            if let BeforeSave::NotChecked(why) = checked {
                org.flash(
                    "info",
                    format!("The reference solution was not checked against the cases: {why}"),
                );
            }
            Ok(see_other(&org.url(&format!("/questions/{question_id}"))))
        }
        Saved::Invalid(errors) => render_invalid(&form_page(&org, id, with_blank(form), errors)),
        Saved::Missing => Err(WebError::NotFound),
    }
}

/// Stores the parsed form as question `target` (a new one when `None`) with its cases, inside
/// the caller's write transaction, unless the form had `errors` or its title is taken.
fn save_in(
    conn: &mut DbConn,
    org_id: &str,
    target: Option<&str>,
    parsed: &Parsed,
    errors: &Errors,
) -> Result<Saved, DbError> {
    let existing = match target {
        Some(id) => match db::questions::find(conn, org_id, id)? {
            Some(q) => Some(q),
            None => return Ok(Saved::Missing),
        },
        None => None,
    };
    // Checked with the other fields, so every problem shows at once.
    let mut errors = errors.clone();
    let title = &parsed.title;
    if let Some(other) = db::questions::with_title(conn, org_id, title)? {
        if Some(other.id.as_str()) != target {
            errors.entry("title".into()).or_insert(format!(
                "The library already has a question titled “{title}”; give this one another title."
            ));
        }
    }
    let (true, Some(language)) = (errors.is_empty(), parsed.language) else {
        return Ok(Saved::Invalid(errors));
    };
    let now = db::now();
    let question = Question {
        id: existing
            .as_ref()
            .map(|q| q.id.clone())
            .unwrap_or_else(db::new_id),
        org_id: org_id.to_owned(),
        title: parsed.title.clone(),
        prompt: parsed.prompt.clone(),
        language: language.as_str().into(),
        starter_code: parsed.starter_code.clone(),
        created_at: existing.as_ref().map(|q| q.created_at).unwrap_or(now),
        updated_at: now,
        reference_solution: match &existing {
            Some(q) if parsed.keep_solution => q.reference_solution.clone(),
            _ => parsed.reference_solution.clone(),
        },
    };
    if existing.is_some() {
        db::questions::update(conn, &question)?;
    } else {
        db::questions::insert(conn, &question)?;
    }
    if !parsed.keep_cases {
        db::cases::replace_for_question(conn, &question.id, &parsed.cases)?;
    }
    Ok(Saved::Done(question.id))
}
