//! The detail page's test cases: what automatic grading found per case (hidden cases' inputs
//! too: reviewers see them, candidates never do), where grading stands, and the override of a
//! grade with a reason.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{load, page, FormView};
use crate::assessments::overrides::{self, OverrideError, MAX_REASON};
use crate::assessments::record::{when, AssessmentRecord};
use crate::assessments::scoring::{self, FieldErrors, ScoreInput};
use crate::assessments::AssessmentState;
use crate::db::cases::Override;
use crate::db::{self, DbError};
use crate::domain::Role;
use crate::queue::table::Job;
use crate::sandbox::judge::Verdict;
use crate::web::auth::OrgPage;
use crate::web::csrf::CsrfForm;
use crate::web::{see_other, WebError};

/// One case as the reviewer reads it.
pub struct CaseView {
    pub position: i32,
    pub hidden: bool,
    pub weight: i32,
    pub input: String,
    pub expected: String,
    /// Once graded: the verdict, its badge, what the program printed, and how it ended.
    pub verdict: Option<&'static str>,
    pub badge: &'static str,
    pub got: String,
    pub stderr: String,
    pub time: String,
    pub ending: String,
}

/// The test cases' section.
pub struct CasesView {
    pub cases: Vec<CaseView>,
    /// "Passed 7 of 10 cases (score 76)", once graded.
    pub summary: Option<String>,
    /// Where automatic grading stands when it has not finished.
    pub waiting: Option<String>,
}

/// The override form, as typed and with its errors.
#[derive(Default)]
pub struct OverrideView {
    /// Whether this member may change the grade now.
    pub open: bool,
    pub score: String,
    pub result: String,
    pub reason: String,
    pub errors: FieldErrors,
    pub max_reason: usize,
}

/// The cases of `record`, and where grading stands (`job`: its grade job in trouble, if any).
pub fn cases_view(record: &AssessmentRecord, job: Option<&Job>) -> Option<CasesView> {
    if record.cases.is_empty() {
        return None;
    }
    let cases = record
        .cases
        .iter()
        .map(|case| {
            let result = record
                .case_results
                .iter()
                .find(|r| r.position == case.position);
            let verdict = result.and_then(|r| Verdict::parse(&r.verdict));
            CaseView {
                position: case.position,
                hidden: case.hidden,
                weight: case.weight,
                input: case.input.clone(),
                expected: case.expected.clone(),
                verdict: verdict.map(Verdict::label),
                badge: match verdict {
                    Some(Verdict::Passed) => "ok",
                    Some(_) => "bad",
                    None => "muted",
                },
                got: result.map(|r| r.stdout.clone()).unwrap_or_default(),
                stderr: result.map(|r| r.stderr.clone()).unwrap_or_default(),
                time: result
                    .map(|r| format!("{:.2} s", r.time_ms as f64 / 1000.0))
                    .unwrap_or_default(),
                ending: result.map(|r| r.ending.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let summary = record
        .grading_summary()
        .map(|summary| format!("Graded automatically: {summary}"));
    let waiting = waiting(record, job);
    Some(CasesView {
        cases,
        summary,
        waiting,
    })
}

/// What the page says while a submission with cases waits for its grade.
fn waiting(record: &AssessmentRecord, job: Option<&Job>) -> Option<String> {
    if record.state() != AssessmentState::Submitted || record.graded.is_some() {
        return None;
    }
    let total = record.cases.len();
    Some(match job {
        Some(job) if job.state == crate::domain::JobState::Dead => format!(
            "Automatic grading failed {} times and stopped: {}. Score it by hand below.",
            job.attempts,
            job.last_error.as_deref().unwrap_or("no reason was recorded")
        ),
        Some(job) => format!(
            "Automatic grading against its {total} test cases waits: {} The next attempt is at {}.",
            job.last_error.as_deref().unwrap_or("no reason was recorded"),
            when(job.run_at)
        ),
        None => format!(
            "Being graded automatically against its {total} test cases: the grade appears here in a moment (reload the page)."
        ),
    })
}

#[derive(Clone, Default, Deserialize)]
pub struct OverrideForm {
    #[serde(default)]
    score: String,
    #[serde(default)]
    result: String,
    #[serde(default)]
    reason: String,
}

/// Checks the typed change and stores it with its write-back job; a refusal changed nothing.
fn change_stored(
    conn: &mut db::DbConn,
    (org_id, id): (&str, &str),
    typed: &OverrideForm,
    (user_id, now): (&str, chrono::NaiveDateTime),
    attempts: i32,
) -> Result<Result<Override, OverrideError>, DbError> {
    let settings = db::settings::for_org(conn, org_id)?;
    let input = ScoreInput {
        score: &typed.score,
        result: &typed.result,
        failure_reason: "",
    };
    let checked = scoring::check(&input, settings.pass_mark);
    let reason = overrides::check_reason(&typed.reason);
    let (verdict, reason) = match (checked, reason) {
        (Ok(verdict), Ok(reason)) => (verdict, reason),
        (checked, reason) => {
            let mut errors = checked.err().unwrap_or_default();
            errors.extend(reason.err().unwrap_or_default());
            return Ok(Err(OverrideError::Invalid(errors)));
        }
    };
    match overrides::change(
        conn,
        (org_id, id),
        &verdict,
        &reason,
        (user_id, now),
        attempts,
    ) {
        Ok(row) => Ok(Ok(row)),
        Err(OverrideError::Database(e)) => Err(DbError::from(e)),
        Err(refused) => Ok(Err(refused)),
    }
}

/// Changes the grade (reviewers and admins) with a reason; the new tag and a note follow in
/// Lever. A refusal shows the page again with the reason and changes nothing.
pub async fn change(
    org: OrgPage,
    path: web::Path<(String, String)>,
    CsrfForm(form): CsrfForm<OverrideForm>,
) -> Result<HttpResponse, WebError> {
    if !matches!(org.role, Role::Admin | Role::Reviewer) {
        return Err(WebError::Forbidden(
            "Support staff have read-only access to organizations: only its reviewers and admins change grades. Nothing was changed.".into(),
        ));
    }
    let (org_id, id) = (org.org.id.clone(), path.1.clone());
    let (user_id, now) = (org.user.id.clone(), org.state.settings.tuning.clock.now());
    let attempts = org.state.settings.tuning.job_max_attempts;
    let typed = form.clone();
    let outcome = org
        .state
        .db
        .run(move |conn| change_stored(conn, (&org_id, &id), &typed, (&user_id, now), attempts))
        .await?;
    let refused = match outcome {
        Ok(row) => {
            org.state.jobs.wake();
            org.flash(
                "success",
                format!(
                    "The grade is now {} with score {}. The new tag and a note saying what changed are being written to Lever.",
                    row.to_state.label().to_lowercase(),
                    row.to_score
                ),
            );
            return Ok(see_other(&org.url(&format!("/assessments/{}", path.1))));
        }
        Err(refused) => refused,
    };
    let (status, errors) = match refused {
        OverrideError::Missing => return Err(WebError::NotFound),
        OverrideError::Invalid(ref errors) => (StatusCode::UNPROCESSABLE_ENTITY, errors.clone()),
        _ => (StatusCode::CONFLICT, FieldErrors::new()),
    };
    let loaded = load(&org, path.1.clone(), None).await?;
    let mut shown = page(
        &org,
        loaded,
        FormView {
            refusal: Some(refused.to_string()),
            ..FormView::default()
        },
    )?;
    shown.change = OverrideView {
        open: shown.change.open,
        score: form.score,
        result: form.result,
        reason: form.reason,
        errors,
        max_reason: MAX_REASON,
    };
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(shown.render()?))
}
