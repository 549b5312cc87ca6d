//! The two write-back steps that create something new in Lever for a scored assessment: the
//! feedback form and the PDF report file.
//!
//! Lever cannot be asked "create unless it exists", so each step notes that it began
//! (`assessment_step_attempts`) before it creates. A first run creates at once; a run after
//! one that began the step but never recorded it done (a crash between Lever's answer and the
//! record) first looks in Lever: the feedback by the assessment's id in its report link, the
//! file by its name, which carries the assessment's id.

use std::sync::Arc;

use super::feedback_form;
use super::record::AssessmentRecord;
use super::report;
use super::write_back::{attempted, note_attempt};
use crate::db::Db;
use crate::domain::WriteBackStep;
use crate::lever::{LeverClient, LeverError};

/// Why a result write-back step failed.
#[derive(Debug, thiserror::Error)]
pub enum ResultError {
    #[error(transparent)]
    Lever(#[from] LeverError),
    #[error("the PDF report could not be made: {0}")]
    Report(String),
    /// Lever refused `step` for good ([`LeverError::is_refusal`]); the steps after it went ahead.
    #[error(
        "{} was not written ({error}); the other write-back steps went ahead.",
        super::steps::refused_step(*step)
    )]
    Refused {
        step: WriteBackStep,
        error: LeverError,
    },
    /// A step's record could not be read or written: the attempt fails and is retried.
    #[error("the write-back's record of its steps could not be read or written: {0}")]
    Database(#[from] crate::db::DbError),
}

/// Submits the result as a feedback form on leverbridge's template.
pub async fn feedback(
    db: &Db,
    client: &LeverClient,
    record: &AssessmentRecord,
    report_url: &str,
    perform_as: &str,
) -> Result<(), ResultError> {
    let a = &record.assessment;
    let opportunity = a.opportunity_id.as_str();
    let fields = feedback_form::template(db, client, &a.org_id, perform_as, false).await?;
    if attempted(db, a, WriteBackStep::FeedbackForm).await? {
        let earlier = client.list_feedback(opportunity).await?;
        if earlier.iter().any(|f| f.mentions(&a.id)) {
            return Ok(());
        }
    }
    note_attempt(db, a, WriteBackStep::FeedbackForm).await?;
    let score = record.scoring.score.unwrap_or_default();
    let reason = record.scoring.failure_reason.as_deref();
    let grading = record.grading_text();
    let values = |fields: &feedback_form::TemplateFields| {
        feedback_form::values(
            fields,
            score,
            record.state(),
            reason,
            (report_url, grading.as_deref()),
        )
    };
    let refused = match client
        .create_feedback(
            opportunity,
            &fields.template_id,
            values(&fields),
            perform_as,
        )
        .await
    {
        Ok(_) => return Ok(()),
        Err(e @ (LeverError::BadRequest { .. } | LeverError::NotFound { .. })) => e,
        Err(e) => return Err(e.into()),
    };
    // The template may have been deleted or edited in Lever: find or make it afresh, once.
    feedback_form::forget(db, &a.org_id).await;
    let fresh = feedback_form::template(db, client, &a.org_id, perform_as, true).await?;
    if fresh == fields {
        return Err(refused.into());
    }
    tracing::info!(
        old = %fields.template_id,
        new = %fresh.template_id,
        "Lever refused the kept feedback template; using the one found or made now"
    );
    client
        .create_feedback(opportunity, &fresh.template_id, values(&fresh), perform_as)
        .await?;
    Ok(())
}

/// Uploads the PDF report to the opportunity.
pub async fn report_file(
    db: &Db,
    client: &LeverClient,
    record: &Arc<AssessmentRecord>,
    detail_url: &str,
    perform_as: &str,
) -> Result<(), ResultError> {
    let a = &record.assessment;
    let opportunity = a.opportunity_id.as_str();
    let name = report::file_name(&a.candidate_name, &a.id);
    if attempted(db, a, WriteBackStep::ReportFile).await? {
        let earlier = client.list_files(opportunity).await?;
        if earlier.iter().any(|f| f.name == name) {
            return Ok(());
        }
    }
    // Read again, so the report's timeline has the steps this run has done so far.
    let record = reloaded(db, record).await;
    let pdf = record
        .report_pdf_off_thread(detail_url)
        .await
        .ok_or_else(|| ResultError::Report("the assessment is not scored".into()))?
        .map_err(|e| ResultError::Report(e.to_string()))?;
    note_attempt(db, a, WriteBackStep::ReportFile).await?;
    client
        .upload_file(opportunity, &name, report::CONTENT_TYPE, pdf, perform_as)
        .await?;
    Ok(())
}

/// The record as it is now, or as it was when it cannot be read.
async fn reloaded(db: &Db, record: &Arc<AssessmentRecord>) -> Arc<AssessmentRecord> {
    let a = &record.assessment;
    let (org, id) = (a.org_id.clone(), a.id.clone());
    match db
        .run(move |conn| super::record::load(conn, &org, &id))
        .await
    {
        Ok(Some(fresh)) => Arc::new(fresh),
        _ => Arc::clone(record),
    }
}
