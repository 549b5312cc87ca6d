//! One assessment, for its reviewers: the candidate's link, the timeline (invited, started,
//! each save, submitted, scored, each write-back to Lever), the submission with a playback of
//! every save (`?snapshot=N`, no JavaScript needed; `static/editor.js` highlights the code), and
//! the scoring form. Every member of the organization (and support) may read it; reviewers and
//! admins score.

mod grading;

pub use grading::change;

use crate::domain::JobState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::assessments::badge;
use super::auth::{OrgPage, OrgReader};
use super::csrf::{CsrfForm, NoFields};
use super::editor_asset::editor_script_url;
use super::layout::{Chrome, Nav};
use super::{render, see_other, WebError};
use crate::assessments::progress_write_back::due_steps;
use crate::assessments::progress_write_back::ProgressWriteBackJob as ProgressWriteBack;
use crate::assessments::record::{self, when, AssessmentRecord, Moment};
use crate::assessments::report;
use crate::assessments::scoring::{self, FieldErrors, ScoreInput, ScoringError};
use crate::assessments::AssessmentState;
use crate::db::questions::language_label;
use crate::db::{self, DbError};
use crate::domain::{pad_label, PadKind, Role};
use crate::queue::table::{self as queue, Job};
use crate::queue::BackgroundJob;

#[derive(Template)]
#[template(path = "assessment_detail.html")]
struct DetailPage {
    chrome: Chrome,
    id: String,
    candidate: String,
    opportunity_id: String,
    configuration: String,
    kind: &'static str,
    question: Option<String>,
    state: &'static str,
    badge: &'static str,
    link: String,
    timeline: Vec<Moment>,
    trouble: Option<Trouble>,
    playback: Option<Playback>,
    /// Highlights the code played back (`static/editor.js`).
    script_url: &'static str,
    /// Why there is no code to show, when there is none.
    no_code: &'static str,
    result: Option<ScoredView>,
    form: FormView,
    /// The test cases and what grading found, when the question has cases.
    cases: Option<grading::CasesView>,
    /// Changing the grade (reviewers and admins, once graded or scored).
    change: grading::OverrideView,
}

/// The save being shown, and the way to the others.
struct Playback {
    seq: i32,
    total: i32,
    saved_at: String,
    code: String,
    language: String,
    language_label: &'static str,
    previous: Option<i32>,
    next: Option<i32>,
    /// Shown the last save, which is what was handed in.
    is_submission: bool,
}

struct ScoredView {
    score: i32,
    result: &'static str,
    badge: &'static str,
    failure_reason: Option<String>,
    by: String,
    at: String,
}

/// The scoring form, as typed and with its errors.
#[derive(Default)]
struct FormView {
    /// Whether this user may score this assessment now.
    open: bool,
    /// Why the form is not offered, when it is not.
    closed: Option<String>,
    /// A refusal of the last attempt to score.
    refusal: Option<String>,
    score: String,
    result: String,
    failure_reason: String,
    errors: FieldErrors,
    pass_mark: u32,
    max_failure_reason: usize,
}

#[derive(Deserialize)]
pub struct DetailQuery {
    snapshot: Option<String>,
}

#[derive(Clone, Default, Deserialize)]
pub struct ScoreForm {
    #[serde(default)]
    score: String,
    #[serde(default)]
    result: String,
    #[serde(default)]
    failure_reason: String,
}

/// The assessment with save `shown` read whole (else its last), and its write-back job and its
/// grade job if they are in trouble.
async fn load(org: &OrgPage, id: String, shown: Option<i32>) -> Result<Loaded, WebError> {
    let org_id = org.org.id.clone();
    let loaded = org
        .state
        .db
        .run(move |conn| -> Result<_, DbError> {
            let Some(record) = record::load_showing(conn, &org_id, &id, shown)? else {
                return Ok(None);
            };
            let trouble = queue::trouble_for_assessment(
                conn,
                &org_id,
                ProgressWriteBack::KIND,
                &record.assessment.id,
            )?;
            let grading = queue::trouble_for_assessment(
                conn,
                &org_id,
                crate::assessments::grading::GradeJob::KIND,
                &record.assessment.id,
            )?;
            Ok(Some((record, trouble, grading)))
        })
        .await?;
    loaded.ok_or(WebError::NotFound)
}

/// An assessment's record, its write-back job in trouble and its grade job in trouble.
type Loaded = (AssessmentRecord, Option<Job>, Option<Job>);

/// What the page says about a write-back to Lever that failed.
struct Trouble {
    message: String,
    /// The dead job a Retry would queue again.
    retry: bool,
}

fn trouble(job: Option<Job>, role: Role) -> Option<Trouble> {
    let job = job?;
    let error = job
        .last_error
        .unwrap_or_else(|| "no reason was recorded".into());
    let (message, retry) = match job.state {
        JobState::Dead => (
            format!(
                "Writing this assessment's progress to Lever failed {} times and stopped: {error}",
                job.attempts
            ),
            matches!(role, Role::Admin | Role::Support),
        ),
        JobState::Parked => (
            format!("Writing this assessment's progress to Lever waits: {error}"),
            false,
        ),
        _ => (
            format!(
                "Writing this assessment's progress to Lever failed (attempt {} of {}): {error} The next attempt is at {}.",
                job.attempts,
                job.max_attempts,
                when(job.run_at)
            ),
            false,
        ),
    };
    Some(Trouble { message, retry })
}

/// Which save `?snapshot=` asks for: the last one (the submission) when it names none.
fn chosen_snapshot(raw: Option<&str>, total: i32) -> Result<i32, WebError> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(total);
    };
    match raw.parse::<i32>() {
        Ok(n) if (1..=total).contains(&n) => Ok(n),
        _ if total == 0 => Err(WebError::BadRequest(format!(
            "There is no save “{raw}” to play back: the candidate has saved nothing yet."
        ))),
        _ => Err(WebError::BadRequest(format!(
            "There is no save “{raw}”: this attempt has saves 1 to {total}."
        ))),
    }
}

fn page(
    org: &OrgPage,
    (loaded, job, grade_job): Loaded,
    mut form: FormView,
) -> Result<DetailPage, WebError> {
    let a = &loaded.assessment;
    let state = a.state;
    let total = loaded.saves.len() as i32;
    let playback = loaded.shown.as_ref().map(|s| Playback {
        seq: s.seq,
        total,
        saved_at: when(s.saved_at),
        code: s.code.clone(),
        language: a.question_language.clone(),
        language_label: language_label(&a.question_language),
        previous: (s.seq > 1).then(|| s.seq - 1),
        next: (s.seq < total).then(|| s.seq + 1),
        is_submission: s.seq == total && a.submitted_at.is_some(),
    });
    let no_code = why_no_code(&loaded, state);
    let result = match (state, loaded.scoring.score) {
        (AssessmentState::Passed | AssessmentState::Failed, Some(score)) => Some(ScoredView {
            score,
            result: state.label(),
            badge: badge(state),
            failure_reason: loaded.scoring.failure_reason.clone(),
            by: loaded
                .scorer
                .clone()
                .unwrap_or_else(|| "a former member".into()),
            at: loaded.scoring.scored_at.map(when).unwrap_or_default(),
        }),
        _ => None,
    };
    let may_score = matches!(org.role, Role::Admin | Role::Reviewer);
    let cases = grading::cases_view(&loaded, grade_job.as_ref());
    // A submission with cases is graded automatically; by hand only once grading gave up.
    let by_hand = loaded.cases.is_empty()
        || grade_job
            .as_ref()
            .is_some_and(|j| j.state == JobState::Dead);
    form.closed = why_scoring_is_closed(state, may_score);
    form.open = state == AssessmentState::Submitted && may_score && by_hand;
    let change = grading::OverrideView {
        open: result.is_some() && may_score,
        result: String::new(),
        max_reason: crate::assessments::overrides::MAX_REASON,
        ..Default::default()
    };
    form.pass_mark = loaded.settings.pass_mark;
    form.max_failure_reason = scoring::MAX_FAILURE_REASON;
    let timeline = loaded.timeline();
    let a = loaded.assessment;
    let candidate = a.shown_name();
    Ok(DetailPage {
        chrome: Chrome::new(org, &candidate, Nav::Assessments),
        link: crate::assessments::link(&org.state.settings.public_url, &a.token),
        id: a.id,
        candidate,
        opportunity_id: a.opportunity_id,
        configuration: loaded.configuration,
        kind: pad_label(&a.pad_kind),
        question: a.question_title,
        state: state.label(),
        badge: badge(state),
        timeline,
        trouble: trouble(job, org.role),
        playback,
        script_url: editor_script_url(),
        no_code,
        result,
        form,
        cases,
        change,
    })
}

/// Why there is no code to play back, when there is none.
fn why_no_code(loaded: &AssessmentRecord, state: AssessmentState) -> &'static str {
    match state {
        _ if loaded.withdrawal.purged_at.is_some() => {
            "The candidate was deleted in Lever: their saves were erased."
        }
        _ if PadKind::parse(&loaded.assessment.pad_kind) != Ok(PadKind::TakeHome) => {
            "A live interview pad keeps no saves to play back."
        }
        AssessmentState::Invited => "The candidate has not started yet.",
        AssessmentState::Expired => "The time ran out with nothing saved.",
        _ => "The candidate has saved nothing yet.",
    }
}

/// Why the scoring form is closed to this member in `state`, or `None` when it is open (or the
/// assessment is already scored).
fn why_scoring_is_closed(state: AssessmentState, may_score: bool) -> Option<String> {
    match state {
        AssessmentState::Submitted if may_score => None,
        AssessmentState::Submitted => {
            Some("Support staff read assessments; reviewers and admins score them.".into())
        }
        AssessmentState::Passed | AssessmentState::Failed => None,
        AssessmentState::Invited | AssessmentState::Started => Some(
            "The scoring form opens once the candidate has submitted (or their time runs out)."
                .into(),
        ),
        AssessmentState::Expired | AssessmentState::Cancelled => Some(format!(
            "This assessment is {}: there is nothing to score.",
            state.label().to_lowercase()
        )),
    }
}

pub async fn show(
    org: OrgPage,
    path: web::Path<(String, String)>,
    query: web::Query<DetailQuery>,
) -> Result<HttpResponse, WebError> {
    let asked = query
        .snapshot
        .as_deref()
        .and_then(|raw| raw.trim().parse().ok());
    let loaded = load(&org, path.1.clone(), asked).await?;
    chosen_snapshot(query.snapshot.as_deref(), loaded.0.saves.len() as i32)?;
    render(&page(&org, loaded, FormView::default())?)
}

/// The assessment's PDF report (the file attached in Lever, made afresh), once it is scored.
pub async fn report(
    org: OrgPage,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let record = std::sync::Arc::new(load(&org, path.1.clone(), None).await?.0);
    let detail_url = format!(
        "{}{}",
        org.state.settings.public_url.as_str().trim_end_matches('/'),
        org.url(&format!("/assessments/{}", record.assessment.id))
    );
    let pdf = match record.report_pdf_off_thread(&detail_url).await {
        Some(made) => made.map_err(|e| anyhow::Error::new(e).context("the PDF report"))?,
        None => {
            return Err(WebError::Conflict(format!(
                "The report is made once the assessment is scored; this one is {}.",
                record.state().label().to_lowercase()
            )))
        }
    };
    let name = report::file_name(&record.assessment.candidate_name, &record.assessment.id);
    Ok(HttpResponse::Ok()
        .content_type(report::CONTENT_TYPE)
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{name}\""),
        ))
        .body(pdf))
}

/// Retry on the assessment's page: its dead write-back job gets a fresh set of attempts
/// (admins and support staff, as on Events).
pub async fn retry(
    org: OrgReader,
    path: web::Path<(String, String)>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let (org_id, id) = (org.org.id.clone(), path.1.clone());
    let requeued = org
        .state
        .db
        .run(move |conn| -> Result<bool, DbError> {
            let dead = queue::trouble_for_assessment(conn, &org_id, ProgressWriteBack::KIND, &id)?
                .filter(|job| job.state == crate::domain::JobState::Dead);
            match dead {
                Some(job) => Ok(queue::retry(conn, &org_id, &job.id)?),
                None => Ok(false),
            }
        })
        .await?;
    if requeued {
        org.state.jobs.wake();
        org.flash(
            "success",
            "Queued again; the timeline shows each step once it is written to Lever.",
        );
    } else {
        org.flash(
            "error",
            "Nothing is waiting for a retry (it may already have run).",
        );
    }
    Ok(see_other(&org.url(&format!("/assessments/{}", path.1))))
}

/// Scores the assessment: reviewers and admins, once, when it is submitted. A refusal shows the
/// page again with the reason (422 for the fields, 409 for the assessment's state) and changes
/// nothing.
pub async fn score(
    org: OrgPage,
    path: web::Path<(String, String)>,
    CsrfForm(form): CsrfForm<ScoreForm>,
) -> Result<HttpResponse, WebError> {
    if !matches!(org.role, Role::Admin | Role::Reviewer) {
        return Err(WebError::Forbidden(
            "Support staff have read-only access to organizations: only its reviewers and admins score assessments. Nothing was changed.".into(),
        ));
    }
    let id = path.1.clone();
    let (org_id, user_id) = (org.org.id.clone(), org.user.id.clone());
    let now = org.state.settings.tuning.clock.now();
    let attempts = org.state.settings.tuning.job_max_attempts;
    let typed = form.clone();
    let outcome = org
        .state
        .db
        .run(move |conn| -> Result<_, DbError> {
            let settings = db::settings::for_org(conn, &org_id)?;
            let input = ScoreInput {
                score: &typed.score,
                result: &typed.result,
                failure_reason: &typed.failure_reason,
            };
            let verdict = match scoring::check(&input, settings.pass_mark) {
                Ok(verdict) => verdict,
                Err(errors) => return Ok(Err(ScoringError::Invalid(errors))),
            };
            // What the write-back will do, for the message (the job reads Settings again).
            let writes = !due_steps(verdict.result, &settings).is_empty();
            match scoring::score(conn, &org_id, &id, &verdict, &user_id, now, attempts) {
                Ok(_) => Ok(Ok((verdict, writes))),
                Err(ScoringError::Database(e)) => Err(DbError::from(e)),
                Err(refused) => Ok(Err(refused)),
            }
        })
        .await?;
    let detail = org.url(&format!("/assessments/{}", path.1));
    let refused = match outcome {
        Ok((verdict, writes)) => {
            org.state.jobs.wake();
            let lever = if writes {
                "The result is being written to Lever."
            } else {
                "Nothing is written to Lever: its write-backs are switched off on the Settings page."
            };
            org.flash(
                "success",
                format!(
                    "Scored {}/100: {}. {lever}",
                    verdict.score,
                    verdict.result.label().to_lowercase()
                ),
            );
            return Ok(see_other(&detail));
        }
        Err(refused) => refused,
    };
    let (status, errors) = match refused {
        ScoringError::Missing => return Err(WebError::NotFound),
        ScoringError::Invalid(ref errors) => (StatusCode::UNPROCESSABLE_ENTITY, errors.clone()),
        _ => (StatusCode::CONFLICT, FieldErrors::new()),
    };
    let loaded = load(&org, path.1.clone(), None).await?;
    let view = FormView {
        refusal: Some(refused.to_string()),
        score: form.score,
        result: form.result,
        failure_reason: form.failure_reason,
        errors,
        ..FormView::default()
    };
    let body = page(&org, loaded, view)?.render()?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_snapshot_asked_for_must_exist() {
        assert_eq!(chosen_snapshot(None, 3).unwrap(), 3);
        assert_eq!(chosen_snapshot(Some(""), 3).unwrap(), 3);
        assert_eq!(chosen_snapshot(Some("1"), 3).unwrap(), 1);
        for bad in ["0", "4", "-1", "two"] {
            let refused = chosen_snapshot(Some(bad), 3).unwrap_err().to_string();
            assert!(refused.contains("saves 1 to 3"), "{bad}: {refused}");
        }
        let none = chosen_snapshot(Some("1"), 0).unwrap_err().to_string();
        assert!(none.contains("saved nothing"), "{none}");
    }
}
