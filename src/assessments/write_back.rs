//! Writing a new assessment back to Lever: link, progress tag and note, each done once.
//!
//! Each completed step is recorded, so a job that runs again skips it. A link or tag the
//! opportunity already shows is not added again; a note would be duplicated, so before creating
//! one the opportunity's notes are searched for this assessment's reference.

use crate::db::{self, assessments::Assessment, Db};
use crate::domain::pad_label;
use crate::lever::{LeverClient, LeverError, NewNote, Opportunity};

pub const STEP_LINK: &str = "link";
pub const STEP_TAG: &str = "tag";
pub const STEP_NOTE: &str = "note";

/// The reference written into the note, by which a retry recognises it.
pub fn note_reference(assessment: &Assessment) -> String {
    format!("leverbridge ref {}", assessment.id)
}

pub fn note_text(assessment: &Assessment, link: &str) -> String {
    let question = assessment
        .question_title
        .as_deref()
        .map(|t| format!(" on “{t}”"))
        .unwrap_or_default();
    format!(
        "leverbridge created a {kind}{question} for {name} (tag “{tag}”).\nLink: {link}\n{reference}",
        kind = pad_label(&assessment.pad_kind).to_lowercase(),
        name = assessment.candidate_name,
        tag = assessment.tag_name,
        reference = note_reference(assessment),
    )
}

/// Does every write-back step not yet recorded.
pub async fn invite(
    db: &Db,
    client: &LeverClient,
    assessment: &Assessment,
    link: &str,
    perform_as: &str,
    seen: &Opportunity,
) -> Result<(), LeverError> {
    let opportunity = assessment.opportunity_id.as_str();
    let tag = crate::assessments::INVITED_TAG;
    // What Lever already shows (the job just read it) is not written again.
    if !step_done(db, assessment, STEP_LINK).await {
        if !seen.links.iter().any(|l| l == link) {
            client
                .add_links(opportunity, &[link.to_owned()], perform_as)
                .await?;
        }
        record(db, assessment, STEP_LINK).await;
    }
    if !step_done(db, assessment, STEP_TAG).await {
        if !seen.tags.iter().any(|t| t == tag) {
            client
                .add_tags(opportunity, &[tag.to_owned()], perform_as)
                .await?;
        }
        record(db, assessment, STEP_TAG).await;
    }
    if !step_done(db, assessment, STEP_NOTE).await {
        let reference = note_reference(assessment);
        let already = client
            .list_notes(opportunity)
            .await?
            .iter()
            .any(|n| n.body().contains(&reference));
        if !already {
            let note = NewNote {
                value: note_text(assessment, link),
                score: None,
                secret: false,
                notify_followers: false,
            };
            client.create_note(opportunity, note, perform_as).await?;
        }
        record(db, assessment, STEP_NOTE).await;
    }
    Ok(())
}

async fn step_done(db: &Db, assessment: &Assessment, step: &'static str) -> bool {
    let id = assessment.id.clone();
    db.run(move |conn| db::assessments::step_done(conn, &id, step).map_err(db::DbError::from))
        .await
        .unwrap_or(false)
}

async fn record(db: &Db, assessment: &Assessment, step: &'static str) {
    let id = assessment.id.clone();
    if let Err(e) = db
        .run(move |conn| db::assessments::record_step(conn, &id, step).map_err(db::DbError::from))
        .await
    {
        // The step is done in Lever; if recording fails, a rerun repeats an idempotent call.
        tracing::error!(error = %e, step, "failed to record a completed write-back step");
    }
}
