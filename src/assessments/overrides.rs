//! A reviewer or admin changes a graded or scored assessment's grade, with a reason. The change
//! and its write-back job are stored in one transaction; the job puts the new progress tag in
//! place of the old (`{prefix}: Passed` ↔ `Failed`) and writes a note saying what changed, who
//! changed it and why, each step recorded on the override once done (the note found again by
//! its reference), each only when Settings switches it on.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::progress_write_back::{replace_tag, result_progress};
use super::record::override_line;
use super::scoring::{FieldErrors, Verdict};
use super::{AssessmentState, LeverWriter};
use crate::db::cases::{self, Override};
use crate::db::connection::write_transaction;
use crate::db::{self, Db, DbConn, DbError};
use crate::lever::NewNote;
use crate::queue::{self, NewJob};

/// The longest reason, in characters.
pub const MAX_REASON: usize = 2000;

/// The job's payload.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OverrideWriteBackJob {
    pub override_id: String,
}

/// Why a grade was not changed. Nothing changed in any case.
#[derive(Debug, thiserror::Error)]
pub enum OverrideError {
    #[error("The grade was not changed: correct the fields marked below.")]
    Invalid(FieldErrors),
    #[error("This assessment is {}: only a graded or scored assessment's grade can be changed. Nothing was changed.", .0.label().to_lowercase())]
    NotGraded(AssessmentState),
    #[error("The new grade is the same as the current one ({} with score {}): nothing was changed.", .0.label().to_lowercase(), .1)]
    Unchanged(AssessmentState, i32),
    #[error("There is no such assessment.")]
    Missing,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Checks the reason: required, at most [`MAX_REASON`] characters.
pub fn check_reason(raw: &str) -> Result<String, FieldErrors> {
    let reason = raw.replace("\r\n", "\n");
    let reason = reason.trim();
    let mut errors = FieldErrors::new();
    if reason.is_empty() {
        errors.insert(
            "reason",
            "Say why the grade changes: the note in Lever gives the reason.".into(),
        );
    } else if reason.chars().count() > MAX_REASON {
        errors.insert(
            "reason",
            format!("Keep the reason to {MAX_REASON} characters or fewer."),
        );
    }
    if errors.is_empty() {
        Ok(reason.to_owned())
    } else {
        Err(errors)
    }
}

/// Changes the grade of the organization's assessment `id` to `verdict` for `reason`, by
/// `user_id`, and queues its write-back, in one transaction.
pub fn change(
    conn: &mut DbConn,
    (org_id, id): (&str, &str),
    verdict: &Verdict,
    reason: &str,
    (user_id, now): (&str, NaiveDateTime),
    max_attempts: i32,
) -> Result<Override, OverrideError> {
    write_transaction(conn, |conn| {
        let assessment =
            db::assessments::find_for_update(conn, org_id, id)?.ok_or(OverrideError::Missing)?;
        let from = assessment.state;
        if !matches!(from, AssessmentState::Passed | AssessmentState::Failed) {
            return Err(OverrideError::NotGraded(from));
        }
        let scoring = db::assessments::scoring(conn, id)?;
        if from == verdict.result && scoring.score == Some(verdict.score) {
            return Err(OverrideError::Unchanged(from, verdict.score));
        }
        let row = Override {
            id: db::new_id(),
            assessment_id: id.to_owned(),
            from_state: from,
            from_score: scoring.score,
            to_state: verdict.result,
            to_score: verdict.score,
            reason: reason.to_owned(),
            changed_by: user_id.to_owned(),
            changed_at: now,
            tag_done_at: None,
            note_done_at: None,
        };
        cases::insert_override(conn, &row)?;
        let reason_kept = (verdict.result == AssessmentState::Failed)
            .then_some(verdict.failure_reason.as_deref())
            .flatten();
        cases::set_grade(conn, id, verdict.result, verdict.score, reason_kept)?;
        let job = OverrideWriteBackJob {
            override_id: row.id.clone(),
        };
        queue::enqueue(conn, &NewJob::of(org_id, &job, max_attempts))?;
        Ok(row)
    })
}

/// The reference written into an override's note, by which a rerun recognises it.
pub fn note_reference(row: &Override) -> String {
    format!("leverbridge grade change ref {}", row.id)
}

/// What the override's write-back needs, read at once.
pub struct OverrideWork {
    pub row: Override,
    pub org_id: String,
    pub who: String,
    pub opportunity_id: String,
    pub candidate: String,
    pub settings: crate::domain::OrgSettings,
}

/// Reads the override `id` and what its write-back needs; `None` when it or its assessment is
/// gone (or the candidate was erased).
pub fn load(conn: &mut DbConn, id: &str) -> Result<Option<OverrideWork>, DbError> {
    let Some(row) = cases::find_override(conn, id)? else {
        return Ok(None);
    };
    let Some((assessment, _)) = db::assessments::by_id(conn, &row.assessment_id)? else {
        return Ok(None);
    };
    if db::withdrawals::of(conn, &assessment.id)?
        .purged_at
        .is_some()
    {
        return Ok(None);
    }
    let who = db::users::find(conn, &row.changed_by)?
        .map(|u| u.email)
        .unwrap_or_else(|| "a former member".into());
    let settings = db::settings::for_org(conn, &assessment.org_id)?;
    Ok(Some(OverrideWork {
        row,
        org_id: assessment.org_id.clone(),
        who,
        opportunity_id: assessment.opportunity_id,
        candidate: assessment.candidate_name,
        settings,
    }))
}

/// Writes the override to Lever: the progress tag, then the note, each once.
pub async fn write_back(
    db: &Db,
    lever: &LeverWriter<'_>,
    work: &OverrideWork,
    now: impl Fn() -> NaiveDateTime,
) -> Result<(), super::LifecycleError> {
    let (row, settings) = (&work.row, &work.settings);
    let opportunity_id = work.opportunity_id.as_str();
    if row.tag_done_at.is_none() && settings.write_backs.progress_tags {
        let opportunity = lever.client.get_opportunity(opportunity_id).await?;
        let tag = |state| settings.progress_tag(result_progress(state).expect("a graded state"));
        // Whatever the grade was before, the tag it carries is the other result's.
        let previous = [tag(other(row.to_state))];
        replace_tag(
            lever.client,
            &opportunity,
            tag(row.to_state),
            &previous,
            lever.perform_as,
        )
        .await?;
        mark(db, &row.id, false, now()).await?;
    }
    if row.note_done_at.is_none() && settings.write_backs.note {
        let reference = note_reference(row);
        let notes = lever.client.list_notes(opportunity_id).await?;
        if !notes.iter().any(|n| n.body().contains(&reference)) {
            let value = format!(
                "leverbridge grade change for {}: {}.\n{reference}",
                work.candidate,
                override_line(row, &work.who)
            );
            let note = NewNote {
                value,
                score: None,
                secret: false,
                notify_followers: settings.notify_followers,
            };
            lever
                .client
                .create_note(opportunity_id, note, lever.perform_as)
                .await?;
        }
        mark(db, &row.id, true, now()).await?;
    }
    Ok(())
}

fn other(state: AssessmentState) -> AssessmentState {
    if state == AssessmentState::Passed {
        AssessmentState::Failed
    } else {
        AssessmentState::Passed
    }
}

async fn mark(db: &Db, id: &str, note: bool, at: NaiveDateTime) -> Result<(), DbError> {
    let id = id.to_owned();
    db.run(move |conn| cases::override_step_done(conn, &id, note, at).map_err(DbError::from))
        .await
}
