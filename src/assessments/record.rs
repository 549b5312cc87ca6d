//! Everything leverbridge knows about one assessment, read at once: what its detail page shows,
//! what its PDF report prints and what its result write-back needs.

use std::sync::Arc;

use chrono::NaiveDateTime;

use super::report::{self, Report, ReportError};
use super::steps::step_label;
use super::AssessmentState;
use crate::db::assessments::{Assessment, Scoring};
use crate::db::emails::{self, AssessmentEmail};
use crate::db::questions::language_label;
use crate::db::snapshots::{SaveListing, Snapshot};
use crate::db::withdrawals::Withdrawal;
use crate::db::{self, DbConn, DbError};
use crate::domain::OrgSettings;
use crate::domain::WriteBackStep;

pub struct AssessmentRecord {
    pub assessment: Assessment,
    pub scoring: Scoring,
    /// When and why it was withdrawn, and whether its candidate's data was erased.
    pub withdrawal: Withdrawal,
    /// Every save's number, time and size, oldest first (never their code).
    pub saves: Vec<SaveListing>,
    /// The one save read whole: the one asked for, else the last.
    pub shown: Option<Snapshot>,
    /// The write-back steps done in Lever, oldest first.
    pub steps: Vec<(WriteBackStep, NaiveDateTime)>,
    /// Lines its columns and steps do not tell (invited again, sent now, question chosen).
    pub history: Vec<(NaiveDateTime, String)>,
    pub settings: OrgSettings,
    /// The organization's name.
    pub organization: String,
    /// The configuration it came from, as "{trigger stage} · {tag}".
    pub configuration: String,
    /// Who scored it (an e-mail address), once scored.
    pub scorer: Option<String>,
    /// Lever's stages as cached: `(id, name)`.
    pub stages: Vec<(String, String)>,
    /// The invitation and reminder emails, oldest first.
    pub emails: Vec<AssessmentEmail>,
    /// Of those emails' jobs, the dead ones (gave up after their attempts): id → attempts.
    pub dead_email_jobs: std::collections::HashMap<String, i32>,
    /// Its copy of the question's test cases (hidden ones included: reviewers see them).
    pub cases: Vec<crate::db::cases::TestCase>,
    /// What automatic grading found per case, once graded.
    pub case_results: Vec<crate::db::cases::CaseResultRow>,
    /// Cases passed of cases, once graded automatically.
    pub graded: Option<(i32, i32)>,
    /// The candidate's runs: kind, when, and the timeline's line once finished.
    pub runs: Vec<(String, NaiveDateTime, Option<String>)>,
    /// Grades changed by hand, oldest first, with who changed them (an e-mail address).
    pub overrides: Vec<(crate::db::cases::Override, String)>,
}

/// One line of the timeline.
pub struct Moment {
    pub at: NaiveDateTime,
    pub what: String,
    /// A save's number, linked to its place in the playback.
    pub snapshot: Option<i32>,
}

/// A time as the timeline and the report show it.
pub fn when(at: NaiveDateTime) -> String {
    at.format("%-d %b %Y %H:%M:%S UTC").to_string()
}

/// A timeline line that opens no save.
fn moment(at: NaiveDateTime, what: String) -> Moment {
    Moment {
        at,
        what,
        snapshot: None,
    }
}

/// An override as the timeline and Lever's note say it.
pub fn override_line(o: &crate::db::cases::Override, who: &str) -> String {
    let from = match o.from_score {
        Some(score) => format!("{} (score {score})", o.from_state.label()),
        None => o.from_state.label().to_owned(),
    };
    format!(
        "Grade changed by {who} from {from} to {} (score {}): {}",
        o.to_state.label(),
        o.to_score,
        o.reason
    )
}

/// A save's size as the timeline shows it: "840 bytes", "12.5 KB".
fn size_text(bytes: i32) -> String {
    if bytes < 1024 {
        format!("{bytes} bytes")
    } else {
        format!("{:.1} KB", f64::from(bytes) / 1024.0)
    }
}

/// The organization's assessment `id`, with everything about it and its last save read whole;
/// `None` when it has none.
pub fn load(
    conn: &mut DbConn,
    org_id: &str,
    id: &str,
) -> Result<Option<AssessmentRecord>, DbError> {
    load_showing(conn, org_id, id, None)
}

/// [`load`], with save `shown` read whole instead of the last (when it exists).
pub fn load_showing(
    conn: &mut DbConn,
    org_id: &str,
    id: &str,
    shown: Option<i32>,
) -> Result<Option<AssessmentRecord>, DbError> {
    let Some(assessment) = db::assessments::find(conn, org_id, id)? else {
        return Ok(None);
    };
    let scoring = db::assessments::scoring(conn, &assessment.id)?;
    let withdrawal = db::withdrawals::of(conn, &assessment.id)?;
    let saves = db::snapshots::list(conn, &assessment.id)?;
    let shown = match shown.filter(|n| saves.iter().any(|s| s.seq == *n)) {
        Some(n) => db::snapshots::by_seq(conn, &assessment.id, n)?,
        None if saves.is_empty() => None,
        None => db::snapshots::latest(conn, &assessment.id)?,
    };
    let steps = db::assessments::steps(conn, &assessment.id)?;
    let history = db::assessment_history::lines(conn, &assessment.id)?;
    let emails = emails::for_assessment(conn, &assessment.id)?;
    let job_ids: Vec<String> = emails.iter().filter_map(|e| e.job_id.clone()).collect();
    let dead_email_jobs = crate::queue::table::by_ids(conn, &job_ids)?
        .into_iter()
        .filter(|j| j.state == crate::domain::JobState::Dead)
        .map(|j| (j.id, j.attempts))
        .collect();
    let settings = db::settings::for_org(conn, org_id)?;
    let organization = db::orgs::find(conn, org_id)?
        .map(|o| o.name)
        .unwrap_or_default();
    let stages: Vec<(String, String)> = db::lever::stages(conn, org_id)?
        .into_iter()
        .map(|s| (s.id, s.text))
        .collect();
    let configuration = match db::configurations::find(conn, org_id, &assessment.configuration_id)?
    {
        Some(c) => c.summary(&|id| {
            stages
                .iter()
                .find(|(s, _)| s == id)
                .map(|(_, text)| text.clone())
        }),
        None => db::configurations::deleted_name(&assessment.tag_name),
    };
    let scorer = match scoring.scored_by.as_deref() {
        Some(db::cases::AUTOMATIC_GRADING) => Some(db::cases::AUTOMATIC_GRADING.to_owned()),
        Some(user) => Some(
            db::users::find(conn, user)?
                .map(|u| u.email)
                .unwrap_or_else(|| "a former member".into()),
        ),
        None => None,
    };
    Ok(Some(AssessmentRecord {
        assessment,
        scoring,
        withdrawal,
        saves,
        shown,
        steps,
        history,
        settings,
        organization,
        configuration,
        scorer,
        stages,
        emails,
        dead_email_jobs,
        cases: db::cases::for_assessment(conn, id)?,
        case_results: db::cases::results_for(conn, id)?,
        graded: db::cases::grade_of(conn, id)?,
        runs: db::cases::runs_for(conn, id)?,
        overrides: overrides_with_names(conn, id)?,
    }))
}

/// The assessment's overrides, each with the e-mail address of who made it.
fn overrides_with_names(
    conn: &mut DbConn,
    id: &str,
) -> Result<Vec<(db::cases::Override, String)>, DbError> {
    let mut named = Vec::new();
    for row in db::cases::overrides_for(conn, id)? {
        let who = db::users::find(conn, &row.changed_by)?
            .map(|u| u.email)
            .unwrap_or_else(|| "a former member".into());
        named.push((row, who));
    }
    Ok(named)
}

/// An email's line on the timeline: when, and what became of it (`dead`: the attempts its job
/// made before it gave up, if it did).
fn email_moment(email: &AssessmentEmail, dead: Option<i32>) -> (NaiveDateTime, String) {
    let what = email.kind().label();
    let to = email.recipient.as_deref().unwrap_or("nobody");
    let detail = email.detail.as_deref().unwrap_or_default();
    match email.status.as_str() {
        emails::SENT => (
            email.sent_at.unwrap_or(email.created_at),
            format!("{what} sent to {to}"),
        ),
        emails::NO_ADDRESS => (
            email.created_at,
            format!("{what} not sent: Lever lists no email address for the candidate"),
        ),
        emails::REFUSED => (
            email.created_at,
            format!("{what} to {to} refused: {detail}"),
        ),
        emails::SKIPPED => (email.created_at, format!("{what} not sent: {detail}")),
        _ if dead.is_some() => (
            email.created_at,
            format!(
                "{what} to {to} not sent: it failed after {} attempts ({detail}); an admin can retry it on Events",
                dead.unwrap_or_default()
            ),
        ),
        _ if !detail.is_empty() => (
            email.created_at,
            format!("{what} to {to} not sent yet: {detail} (it is retried; Events shows when)"),
        ),
        _ => (email.created_at, format!("{what} to {to} queued")),
    }
}

impl AssessmentRecord {
    pub fn state(&self) -> AssessmentState {
        self.assessment.state
    }

    /// The score as first given (by grading or a reviewer), before any change of grade.
    pub fn first_score(&self) -> Option<i32> {
        self.overrides
            .first()
            .and_then(|(o, _)| o.from_score)
            .or(self.scoring.score)
    }

    /// "passed 7 of 10 cases (score 76)" when graded automatically, with the grade's own score.
    pub fn grading_summary(&self) -> Option<String> {
        let (passed, total) = self.graded?;
        let score = self.first_score().unwrap_or_default();
        Some(super::case_summary::summary(passed, total, score))
    }

    /// What automatic grading found, for Lever's note and feedback form: "Test cases: passed 7
    /// of 10 cases (score 76)" and a line per case; `None` unless graded automatically.
    pub fn grading_text(&self) -> Option<String> {
        let mut text = format!("Test cases: {}", self.grading_summary()?);
        for line in super::case_summary::case_lines(&self.cases, &self.case_results) {
            text.push('\n');
            text.push_str(&line);
        }
        Some(text)
    }

    /// What was handed in (or saved last): the last snapshot's code, when that is the one read.
    pub fn submission(&self) -> Option<&str> {
        let last = self.saves.last()?.seq;
        self.shown
            .as_ref()
            .filter(|s| s.seq == last)
            .map(|s| s.code.as_str())
    }

    pub fn stage_name(&self, id: &str) -> Option<String> {
        self.stages
            .iter()
            .find(|(s, _)| s == id)
            .map(|(_, text)| text.clone())
    }

    /// Invited, started, each save, submitted, scored and each write-back, oldest first.
    pub fn timeline(&self) -> Vec<Moment> {
        let mut moments = self.candidate_moments();
        moments.extend(self.decision_moments());
        moments.extend(self.written_moments());
        // Stable: what happened at the same moment keeps the order above.
        moments.sort_by_key(|m| m.at);
        moments
    }

    /// What a hiring team reads in the report: what the candidate did and what was decided,
    /// without Lever's bookkeeping (tags, notes, emails: those stay on the page and on Events).
    pub fn work_timeline(&self) -> Vec<Moment> {
        let mut moments = self.candidate_moments();
        moments.extend(self.decision_moments());
        moments.sort_by_key(|m| m.at);
        moments
    }

    /// What the candidate did: invited, started, each save, handed in.
    fn candidate_moments(&self) -> Vec<Moment> {
        let a = &self.assessment;
        let mut moments = vec![moment(a.created_at, "Invited: the link was created".into())];
        if let Some(started) = a.started_at {
            let until = a
                .deadline_at
                .map(|d| format!("; the time runs out at {}", when(d)))
                .unwrap_or_default();
            moments.push(moment(started, format!("Started by the candidate{until}")));
        }
        for s in &self.saves {
            moments.push(Moment {
                at: s.saved_at,
                what: format!(
                    "Saved snapshot {} ({} lines), {}",
                    s.seq,
                    s.line_count,
                    size_text(s.size_bytes)
                ),
                snapshot: Some(s.seq),
            });
        }
        if let Some(submitted) = a.submitted_at {
            let how = if a.time_ran_out {
                "Handed in when the time ran out (the last save)"
            } else {
                "Submitted by the candidate"
            };
            moments.push(moment(submitted, how.into()));
        }
        moments
    }

    /// What was decided about it: graded or scored, overridden, withdrawn, erased.
    fn decision_moments(&self) -> Vec<Moment> {
        let mut moments = Vec::new();
        if let (Some(first_score), Some(at)) = (self.first_score(), self.scoring.scored_at) {
            let first = self.overrides.first().map(|(o, _)| o.from_state);
            let result = first.unwrap_or(self.state()).label().to_lowercase();
            let what = match self.grading_summary() {
                Some(summary) => format!("Graded automatically: {summary}, {result}"),
                None => {
                    let by = self.scorer.as_deref().unwrap_or("a former member");
                    format!("Scored {first_score}/100, {result} by {by}")
                }
            };
            moments.push(moment(at, what));
        }
        for (o, who) in &self.overrides {
            moments.push(moment(o.changed_at, override_line(o, who)));
        }
        for (kind, at, line) in &self.runs {
            let what = line.clone().unwrap_or_else(|| {
                let asked = if kind == "tests" {
                    "the visible tests"
                } else {
                    "the code"
                };
                format!("Asked to run {asked} (no result was stored)")
            });
            moments.push(moment(*at, what));
        }
        if let Some(at) = self.withdrawal.cancelled_at {
            let why = crate::domain::LeftPipeline::parse(
                self.withdrawal.cancel_reason.as_deref().unwrap_or_default(),
            )
            .map_or("the candidate left the pipeline in Lever", |left| {
                left.because()
            });
            moments.push(moment(at, format!("Withdrawn: {why}")));
        }
        if let Some(at) = self.withdrawal.purged_at {
            moments.push(moment(
                at,
                "The candidate's name, score and saves were erased from leverbridge".into(),
            ));
        }
        moments
    }

    /// What was written about it: each Lever step, its history lines, its emails.
    fn written_moments(&self) -> Vec<Moment> {
        let state = self.state();
        let stage_name = |id: &str| self.stage_name(id);
        let mut moments = Vec::new();
        for (step, at) in &self.steps {
            moments.push(moment(
                *at,
                step_label(*step, state, &self.settings, &stage_name),
            ));
        }
        for (at, what) in &self.history {
            moments.push(moment(*at, what.clone()));
        }
        for email in &self.emails {
            let dead = email
                .job_id
                .as_ref()
                .and_then(|id| self.dead_email_jobs.get(id))
                .copied();
            let (at, what) = email_moment(email, dead);
            moments.push(moment(at, what));
        }
        moments
    }

    /// The PDF report of a scored assessment; `None` until it is scored.
    pub fn report_pdf(&self, detail_url: &str) -> Option<Result<Vec<u8>, ReportError>> {
        let state = self.state();
        if !matches!(state, AssessmentState::Passed | AssessmentState::Failed) {
            return None;
        }
        let (score, scored_at) = (self.scoring.score?, self.scoring.scored_at?);
        let timeline: Vec<(NaiveDateTime, String)> = self
            .work_timeline()
            .into_iter()
            .map(|m| (m.at, m.what))
            .collect();
        let a = &self.assessment;
        let grading = self.grading_text();
        let report = Report {
            organization: &self.organization,
            candidate_name: &a.candidate_name,
            question_title: a.question_title.as_deref().unwrap_or("No question"),
            question_prompt: a.question_prompt.as_deref().unwrap_or_default(),
            language: language_label(&a.question_language),
            submission: self.submission().unwrap_or_default(),
            score,
            result: state.label(),
            failure_reason: self.scoring.failure_reason.as_deref(),
            scored_by: self.scorer.as_deref().unwrap_or("a former member"),
            scored_at,
            timeline: &timeline,
            grading: grading.as_deref(),
            detail_url,
        };
        Some(report::render(&report))
    }

    /// [`report_pdf`](Self::report_pdf) on a thread meant for blocking work: laying out a long
    /// submission takes a while, which the async workers should not wait through.
    pub async fn report_pdf_off_thread(
        self: &Arc<Self>,
        detail_url: &str,
    ) -> Option<Result<Vec<u8>, ReportError>> {
        let (record, url) = (Arc::clone(self), detail_url.to_owned());
        match tokio::task::spawn_blocking(move || record.report_pdf(&url)).await {
            Ok(made) => made,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
}
