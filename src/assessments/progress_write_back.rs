//! Writing an assessment's progress back to Lever after its invitation: when the candidate
//! starts, `{prefix}: Assessment in Progress` replaces `{prefix}: Candidate Invited`; when it is
//! submitted (or its time runs out with a save), `{prefix}: Submitted` replaces that, so a
//! recruiter sees who awaits a grade or a reviewer; when it is graded or a reviewer scores it, `{prefix}: Passed` or `{prefix}: Failed` replaces whichever progress tag
//! it carries, a result note is written (notifying the followers per Settings), the result is
//! submitted as a feedback form and the PDF report attached as a file
//! ([`result_write_back`](super::result_write_back)), and a passing candidate moves to the
//! Settings' pass stage; when it expires (not started by its date, or its
//! time ran out with nothing saved), `{prefix}: Expired` replaces the progress tag and a note
//! says why. Each step only when Settings switches it on.
//!
//! What is written follows the assessment's state when the job runs, not the event that
//! queued it, so jobs that run late or out of order still leave Lever right. Each step is
//! recorded in `assessment_steps` once done and skipped afterwards; a step whose recording
//! was lost (a crash right after Lever answered) finds its work in Lever and does not repeat
//! it: a tag present is not added, the note is found by its reference, the feedback and the
//! file are looked for when an earlier run began them, a candidate already at the pass stage
//! is not moved.
//!
//! The feedback form and the report file stand alone: when Lever refuses one of them for good
//! (a 4xx other than 401 and 429), the assessment's timeline says which and why, and the other
//! steps (the stage move among them) still go ahead before the job waits on the refusal.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::record::AssessmentRecord;
use super::result_write_back::{self, ResultError};
pub use super::steps::{
    refused_step, result_progress, step_label, CANCELLED, EXPIRED, FAILED, IN_PROGRESS, PASSED,
    SUBMITTED,
};
use super::write_back::{record as record_step, step_done};
use super::{AssessmentState, INVITED, INVITE_FAILED};
use crate::db::assessments::{Assessment, Scoring};
use crate::db::{Db, DbConn};
use crate::domain::{OrgSettings, WriteBackStep};
use crate::lever::{LeverClient, LeverError, NewNote};
use crate::queue::{self, NewJob};

/// The job's payload.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProgressWriteBackJob {
    pub assessment_id: String,
}

/// Queues the write-back of `assessment`'s progress. Call it in the transaction that changes
/// its state.
pub fn enqueue(
    conn: &mut DbConn,
    assessment: &Assessment,
    max_attempts: i32,
) -> diesel::QueryResult<()> {
    let payload = ProgressWriteBackJob {
        assessment_id: assessment.id.clone(),
    };
    queue::enqueue(
        conn,
        &NewJob::of(&assessment.org_id, &payload, max_attempts),
    )?;
    Ok(())
}

/// The steps `assessment`'s state calls for under `settings`, in the order they are done.
pub fn due_steps(state: AssessmentState, settings: &OrgSettings) -> Vec<WriteBackStep> {
    let on = settings.write_backs;
    let mut steps = Vec::new();
    match state {
        AssessmentState::Started if on.progress_tags => steps.push(WriteBackStep::InProgressTag),
        AssessmentState::Submitted if on.progress_tags => steps.push(WriteBackStep::SubmittedTag),
        AssessmentState::Passed | AssessmentState::Failed | AssessmentState::Expired => {
            if on.progress_tags {
                steps.push(WriteBackStep::ResultTag);
            }
            if on.note {
                steps.push(WriteBackStep::ResultNote);
            }
            let scored = state != AssessmentState::Expired;
            if scored && on.feedback_form {
                steps.push(WriteBackStep::FeedbackForm);
            }
            if scored && on.report_file {
                steps.push(WriteBackStep::ReportFile);
            }
            if state == AssessmentState::Passed && settings.pass_stage_id.is_some() {
                steps.push(WriteBackStep::PassStage);
            }
        }
        // The link comes off whatever Settings say now: it may have been written while the
        // link write-back was on, and it no longer leads anywhere but the withdrawn page.
        AssessmentState::Cancelled => {
            steps.push(WriteBackStep::Unlink);
            if on.progress_tags {
                steps.push(WriteBackStep::CancelledTag);
            }
            if on.note {
                steps.push(WriteBackStep::CancelledNote);
            }
        }
        _ => {}
    }
    steps
}

/// The reference written into the result note, by which a rerun recognises it.
pub fn result_note_reference(assessment: &Assessment) -> String {
    format!("leverbridge result ref {}", assessment.id)
}

/// The result note: score, result, failure reason, who scored it and where to read it.
pub fn result_note_text(
    assessment: &Assessment,
    scoring: &Scoring,
    (scorer, grading): (&str, Option<String>),
    links: &ResultLinks<'_>,
) -> String {
    let detail_url = links.detail_url;
    let state = assessment.state;
    let question = assessment
        .question_title
        .as_deref()
        .map(|t| format!(" on “{t}”"))
        .unwrap_or_default();
    if state == AssessmentState::Expired {
        let why = match (assessment.started_at, assessment.start_by) {
            (None, Some(by)) => {
                format!("it was not started by {}", by.format("%-d %b %Y %H:%M UTC"))
            }
            (None, None) => "it was not started in time".to_owned(),
            (Some(_), _) => "the time ran out with no code saved".to_owned(),
        };
        return format!(
            "leverbridge result for {name}{question}: Expired ({why}).\nDetails: {detail_url}\n{}",
            result_note_reference(assessment),
            name = assessment.candidate_name,
        );
    }
    let mut text = format!(
        "leverbridge result for {name}{question}: {result}, score {score}/100.",
        name = assessment.candidate_name,
        result = state.label(),
        score = scoring.score.unwrap_or_default(),
    );
    if let Some(reason) = scoring.failure_reason.as_deref() {
        text.push_str(&format!("\nFailure reason: {reason}"));
    }
    if let Some(grading) = grading {
        text.push_str(&format!("\n{grading}"));
    }
    text.push_str(&format!(
        "\nScored by {scorer}. Submission and playback: {detail_url}\nReport (PDF): {}\n{}",
        links.report_url,
        result_note_reference(assessment)
    ));
    text
}

/// Where the assessment and its result can be read on leverbridge.
pub struct ResultLinks<'a> {
    /// The candidate's link (the one written to Lever with the invitation).
    pub candidate_link: &'a str,
    /// The assessment's detail page.
    pub detail_url: &'a str,
    /// Its PDF report.
    pub report_url: &'a str,
}

impl ResultLinks<'_> {
    /// The report's address for a detail page's.
    pub fn report_url(detail_url: &str) -> String {
        format!("{detail_url}/report.pdf")
    }
}

/// The steps whose refusal by Lever does not hold the others back: they only add a record to
/// the candidate's profile, which nothing after them needs.
const STANDING_ALONE: [WriteBackStep; 2] = [WriteBackStep::FeedbackForm, WriteBackStep::ReportFile];

/// Does every step the assessment's state calls for that is switched on and not yet recorded.
/// A step [standing alone](STANDING_ALONE) that Lever refuses for good is noted on the
/// timeline and the rest go ahead; the first such refusal is then the error.
pub async fn write(
    db: &Db,
    client: &LeverClient,
    record: &Arc<AssessmentRecord>,
    links: &ResultLinks<'_>,
    perform_as: &str,
) -> Result<(), ResultError> {
    let (assessment, settings) = (&record.assessment, &record.settings);
    let state = record.state();
    let mut pending = Vec::new();
    for step in due_steps(state, settings) {
        if !step_done(db, assessment, step).await? {
            pending.push(step);
        }
    }
    if pending.is_empty() {
        return Ok(());
    }
    let opportunity_id = assessment.opportunity_id.as_str();
    // Lever's tags and stage now decide what is still to write.
    let opportunity = client.get_opportunity(opportunity_id).await?;
    let mut refused = None;
    for step in pending {
        match write_step(db, client, record, &opportunity, links, perform_as, step).await {
            Ok(()) => record_step(db, assessment, step).await?,
            Err(ResultError::Lever(error))
                if error.is_refusal() && STANDING_ALONE.contains(&step) =>
            {
                note_refusal(db, assessment, step, &error).await?;
                refused.get_or_insert(ResultError::Refused { step, error });
            }
            Err(e) => return Err(e),
        }
    }
    refused.map_or(Ok(()), Err)
}

/// Does one write-back `step`; `opportunity` is what Lever showed before the first.
async fn write_step(
    db: &Db,
    client: &LeverClient,
    record: &Arc<AssessmentRecord>,
    opportunity: &crate::lever::Opportunity,
    links: &ResultLinks<'_>,
    perform_as: &str,
    step: WriteBackStep,
) -> Result<(), ResultError> {
    let (assessment, settings) = (&record.assessment, &record.settings);
    let state = record.state();
    let opportunity_id = assessment.opportunity_id.as_str();
    let tag = |progress: &str| settings.progress_tag(progress);
    match step {
        WriteBackStep::InProgressTag => {
            let wanted = tag(IN_PROGRESS);
            let previous = [tag(INVITED), tag(INVITE_FAILED)];
            replace_tag(client, opportunity, wanted, &previous, perform_as).await?;
        }
        WriteBackStep::SubmittedTag => {
            let wanted = tag(SUBMITTED);
            let previous = [tag(INVITED), tag(INVITE_FAILED), tag(IN_PROGRESS)];
            replace_tag(client, opportunity, wanted, &previous, perform_as).await?;
        }
        WriteBackStep::ResultTag => {
            let wanted = tag(result_progress(state).expect("a scored state"));
            let previous = [
                tag(INVITED),
                tag(INVITE_FAILED),
                tag(IN_PROGRESS),
                tag(SUBMITTED),
            ];
            replace_tag(client, opportunity, wanted, &previous, perform_as).await?;
        }
        WriteBackStep::Unlink => {
            let link = links.candidate_link.to_owned();
            if opportunity.links.contains(&link) {
                client
                    .remove_links(opportunity_id, &[link], perform_as)
                    .await?;
            }
        }
        WriteBackStep::CancelledTag => {
            let wanted = tag(CANCELLED);
            let previous = [tag(INVITED), tag(IN_PROGRESS), tag(SUBMITTED)];
            replace_tag(client, opportunity, wanted, &previous, perform_as).await?;
        }
        WriteBackStep::ResultNote => result_note(client, record, links, perform_as).await?,
        WriteBackStep::CancelledNote => {
            cancelled_note(client, record, links.detail_url, perform_as).await?
        }
        WriteBackStep::FeedbackForm => {
            result_write_back::feedback(db, client, record, links.report_url, perform_as).await?
        }
        WriteBackStep::ReportFile => {
            result_write_back::report_file(db, client, record, links.detail_url, perform_as).await?
        }
        WriteBackStep::PassStage => {
            let stage = settings.pass_stage_id.as_deref().expect("a pass stage");
            if opportunity.stage_id.as_deref() != Some(stage) {
                client
                    .change_stage(opportunity_id, stage, perform_as)
                    .await?;
            }
        }
        other => unreachable!("{other} is not a progress write-back step"),
    }
    Ok(())
}

/// Writes the result note, unless an earlier run did.
async fn result_note(
    client: &LeverClient,
    record: &AssessmentRecord,
    links: &ResultLinks<'_>,
    perform_as: &str,
) -> Result<(), LeverError> {
    let assessment = &record.assessment;
    let reference = result_note_reference(assessment);
    let text = || {
        result_note_text(
            assessment,
            &record.scoring,
            (
                record.scorer.as_deref().unwrap_or("a former member"),
                record.grading_text(),
            ),
            links,
        )
    };
    note_once(client, record, &reference, text, perform_as).await
}

/// Writes the note `text` gives on the assessment's opportunity, unless one holding
/// `reference` is there already (an earlier run wrote it and its record was lost).
async fn note_once(
    client: &LeverClient,
    record: &AssessmentRecord,
    reference: &str,
    text: impl FnOnce() -> String,
    perform_as: &str,
) -> Result<(), LeverError> {
    let opportunity_id = record.assessment.opportunity_id.as_str();
    let already = client
        .list_notes(opportunity_id)
        .await?
        .iter()
        .any(|n| n.body().contains(reference));
    if !already {
        let new = NewNote {
            value: text(),
            score: None,
            secret: false,
            notify_followers: record.settings.notify_followers,
        };
        client.create_note(opportunity_id, new, perform_as).await?;
    }
    Ok(())
}

/// The reference written into a withdrawal note, by which a rerun recognises it.
pub fn cancelled_note_reference(assessment: &Assessment) -> String {
    format!("leverbridge withdrawal ref {}", assessment.id)
}

/// The note saying why the assessment was withdrawn and whether the candidate was told.
pub fn cancelled_note_text(record: &AssessmentRecord, detail_url: &str) -> String {
    let assessment = &record.assessment;
    let question = assessment
        .question_title
        .as_deref()
        .map(|t| format!(" on “{t}”"))
        .unwrap_or_default();
    let why = crate::domain::LeftPipeline::parse(
        record
            .withdrawal
            .cancel_reason
            .as_deref()
            .unwrap_or_default(),
    )
    .map_or("the candidate left the pipeline in Lever", |left| {
        left.because()
    });
    let emailed = record
        .emails
        .iter()
        .find(|e| e.kind() == crate::db::emails::EmailKind::Withdrawn)
        .and_then(|e| e.recipient.clone());
    let told = match emailed {
        Some(to) => format!("The candidate is emailed at {to} to say so."),
        None => "The candidate was not emailed (no invitation email went to them, or candidate emails are off).".into(),
    };
    format!(
        "leverbridge: the assessment{question} for {name} was withdrawn because {why}. Its link no longer works. {told}\nDetails: {detail_url}\n{reference}",
        name = assessment.candidate_name,
        reference = cancelled_note_reference(assessment),
    )
}

/// Writes the withdrawal note, unless an earlier run did.
async fn cancelled_note(
    client: &LeverClient,
    record: &AssessmentRecord,
    detail_url: &str,
    perform_as: &str,
) -> Result<(), LeverError> {
    let reference = cancelled_note_reference(&record.assessment);
    let text = || cancelled_note_text(record, detail_url);
    note_once(client, record, &reference, text, perform_as).await
}

/// Writes what `record`'s state calls for to Lever, for the organization whose short name is
/// `slug` (the links in a result note point at its pages under `public_url`).
pub async fn write_for_org(
    db: &Db,
    public_url: &url::Url,
    client: &LeverClient,
    record: &Arc<AssessmentRecord>,
    slug: &str,
    perform_as: &str,
) -> Result<(), ResultError> {
    let assessment = &record.assessment;
    let detail_url = format!(
        "{}/orgs/{slug}/assessments/{}",
        public_url.as_str().trim_end_matches('/'),
        assessment.id
    );
    let links = ResultLinks {
        candidate_link: &super::link(public_url, &assessment.token),
        detail_url: &detail_url,
        report_url: &ResultLinks::report_url(&detail_url),
    };
    write(db, client, record, &links, perform_as).await
}

/// Puts on the assessment's timeline (and so under its delivery on Events) that Lever refused
/// `step` for good, and why.
async fn note_refusal(
    db: &Db,
    assessment: &Assessment,
    step: WriteBackStep,
    error: &LeverError,
) -> Result<(), ResultError> {
    let at = crate::db::now();
    let what = format!(
        "Not written in Lever: {} ({error}). The other write-back steps went ahead.",
        refused_step(step)
    );
    let id = assessment.id.clone();
    db.run(move |conn| {
        crate::db::assessment_history::record_refusal(conn, &id, step, at, &what)
            .map_err(crate::db::DbError::from)
    })
    .await?;
    Ok(())
}

/// Adds `wanted` unless the opportunity carries it, then removes those of `previous` it
/// carries (in that order, so the candidate never goes without a progress tag).
pub(crate) async fn replace_tag(
    client: &LeverClient,
    opportunity: &crate::lever::Opportunity,
    wanted: String,
    previous: &[String],
    perform_as: &str,
) -> Result<(), LeverError> {
    let id = opportunity.id.as_str();
    if !opportunity.tags.contains(&wanted) {
        client.add_tags(id, &[wanted], perform_as).await?;
    }
    let carried: Vec<String> = previous
        .iter()
        .filter(|t| opportunity.tags.contains(t))
        .cloned()
        .collect();
    if !carried.is_empty() {
        client.remove_tags(id, &carried, perform_as).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::org_settings::WriteBacks;

    #[test]
    fn the_steps_follow_the_state_and_the_settings() {
        let mut settings = OrgSettings::defaults();
        assert_eq!(
            due_steps(AssessmentState::Started, &settings),
            [WriteBackStep::InProgressTag]
        );
        assert_eq!(
            due_steps(AssessmentState::Submitted, &settings),
            [WriteBackStep::SubmittedTag]
        );
        assert_eq!(
            due_steps(AssessmentState::Passed, &settings),
            [
                WriteBackStep::ResultTag,
                WriteBackStep::ResultNote,
                WriteBackStep::FeedbackForm,
                WriteBackStep::ReportFile
            ]
        );
        settings.pass_stage_id = Some("s".into());
        assert_eq!(
            due_steps(AssessmentState::Passed, &settings),
            [
                WriteBackStep::ResultTag,
                WriteBackStep::ResultNote,
                WriteBackStep::FeedbackForm,
                WriteBackStep::ReportFile,
                WriteBackStep::PassStage
            ]
        );
        assert_eq!(
            due_steps(AssessmentState::Failed, &settings),
            [
                WriteBackStep::ResultTag,
                WriteBackStep::ResultNote,
                WriteBackStep::FeedbackForm,
                WriteBackStep::ReportFile
            ]
        );
        settings.write_backs = WriteBacks {
            progress_tags: false,
            note: false,
            feedback_form: false,
            ..settings.write_backs
        };
        assert_eq!(
            due_steps(AssessmentState::Failed, &settings),
            [WriteBackStep::ReportFile]
        );
        settings.write_backs.report_file = false;
        assert!(due_steps(AssessmentState::Started, &settings).is_empty());
        assert_eq!(
            due_steps(AssessmentState::Passed, &settings),
            [WriteBackStep::PassStage]
        );
        assert!(due_steps(AssessmentState::Invited, &settings).is_empty());
        assert_eq!(
            due_steps(AssessmentState::Cancelled, &settings),
            [WriteBackStep::Unlink],
            "the link comes off even when its write-back is switched off now"
        );
        settings.write_backs = OrgSettings::defaults().write_backs;
        assert_eq!(
            due_steps(AssessmentState::Cancelled, &settings),
            [
                WriteBackStep::Unlink,
                WriteBackStep::CancelledTag,
                WriteBackStep::CancelledNote
            ]
        );
        assert_eq!(
            due_steps(AssessmentState::Expired, &settings),
            [WriteBackStep::ResultTag, WriteBackStep::ResultNote],
            "an expired assessment has no feedback or report and never moves stage"
        );
    }
}
