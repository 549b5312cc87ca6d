//! Writing a new assessment back to Lever: link, progress tag and note, each done once and
//! each only when its write-back is switched on in the organization's settings.
//!
//! Each completed step is recorded, so a job that runs again skips it. A link or tag the
//! opportunity already shows is not added again; a note would be duplicated, so before creating
//! one the opportunity's notes are searched for this assessment's reference.

use crate::db::{self, assessments::Assessment, Db, DbError};
use crate::domain::org_settings::WriteBacks;
use crate::domain::{pad_label, OrgSettings, PadKind, WriteBackStep};
use crate::lever::{LeverClient, LeverError, NewNote, Opportunity};

/// Why a write-back step failed: Lever refused it or could not be reached, or its record could
/// not be read or written. Without its record a step cannot be judged done or not, so the
/// attempt fails and is retried; it never guesses.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Lever(#[from] LeverError),
    #[error("the write-back's record of its steps could not be read or written: {0}")]
    Database(#[from] DbError),
}

/// The reference written into the note, by which a retry recognises it.
pub fn note_reference(assessment: &Assessment) -> String {
    format!("leverbridge ref {}", assessment.id)
}

/// The invitation note. A live interview's is the interviewer's note: the pad's link, to open
/// at the interview (CodeSignal's interview trigger stages). `invite_failed` when the
/// invitation email had no address to go to.
pub fn note_text(assessment: &Assessment, link: &str, invite_failed: bool) -> String {
    let failed = if invite_failed {
        "\nThe invitation email was not sent: Lever lists no email address for the candidate. Add one and move them into the stage again, or send them the link yourself."
    } else {
        ""
    };
    let question = assessment
        .question_title
        .as_deref()
        .map(|t| format!(" on “{t}”"))
        .unwrap_or_default();
    let tag = if assessment.tag_name.is_empty() {
        String::new()
    } else {
        format!(" (tag “{}”)", assessment.tag_name)
    };
    let reference = note_reference(assessment);
    let name = &assessment.candidate_name;
    if PadKind::parse(&assessment.pad_kind) == Ok(PadKind::Live) {
        return format!(
            "Interview note: leverbridge created a live interview pad{question} for {name}{tag}.\n\
             Interviewer, open the pad at the interview and give the candidate the same link; \
             the session is kept for playback.\nPad: {link}\n{reference}"
        );
    }
    format!(
        "leverbridge created a {kind}{question} for {name}{tag}.{failed}\nLink: {link}\n{reference}",
        kind = pad_label(&assessment.pad_kind).to_lowercase(),
    )
}

/// What `invite` writes under `write_backs`, in words ("link, progress tag and note"), or
/// `None` when they are all switched off.
pub fn invite_summary(write_backs: &WriteBacks) -> Option<String> {
    let steps: Vec<&str> = [
        (write_backs.link, "link"),
        (write_backs.progress_tags, "progress tag"),
        (write_backs.note, "note"),
    ]
    .into_iter()
    .filter_map(|(on, step)| on.then_some(step))
    .collect();
    match steps.as_slice() {
        [] => None,
        [one] => Some((*one).to_owned()),
        [rest @ .., last] => Some(format!("{} and {last}", rest.join(", "))),
    }
}

/// Whether `invite` skips the steps already recorded, or looks at Lever again for each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Steps {
    /// The first invitation (and its reruns): a recorded step is done.
    Pending,
    /// Invited again: whatever Lever no longer shows (a recruiter removed the tag, say) is
    /// written again; what it shows is left alone, and the note is found by its reference.
    Recheck,
}

/// Does every write-back step switched on in `settings` and not yet recorded (or, under
/// [`Steps::Recheck`], not shown by Lever).
#[allow(clippy::too_many_arguments)]
pub async fn invite(
    db: &Db,
    client: &LeverClient,
    assessment: &Assessment,
    link: &str,
    perform_as: &str,
    seen: &Opportunity,
    settings: &OrgSettings,
    steps: Steps,
) -> Result<(), StepError> {
    let recheck = steps == Steps::Recheck;
    let opportunity = assessment.opportunity_id.as_str();
    let invite_failed = invite_failed(db, assessment).await?;
    let (tag, tag_step) = if invite_failed {
        let tag = settings.progress_tag(crate::assessments::INVITE_FAILED);
        (tag, WriteBackStep::InviteFailedTag)
    } else {
        (
            settings.progress_tag(crate::assessments::INVITED),
            WriteBackStep::InvitedTag,
        )
    };
    let on = settings.write_backs;
    // What Lever already shows (the job just read it) is not written again.
    if on.link && (recheck || !step_done(db, assessment, WriteBackStep::Link).await?) {
        if !seen.links.iter().any(|l| l == link) {
            client
                .add_links(opportunity, &[link.to_owned()], perform_as)
                .await?;
        }
        record(db, assessment, WriteBackStep::Link).await?;
    }
    if on.progress_tags && (recheck || !step_done(db, assessment, tag_step).await?) {
        if !seen.tags.contains(&tag) {
            client.add_tags(opportunity, &[tag], perform_as).await?;
        }
        record(db, assessment, tag_step).await?;
    }
    if on.note && (recheck || !step_done(db, assessment, WriteBackStep::InvitationNote).await?) {
        // Lever's notes are read only when an earlier run may have written this one (it began
        // the step, or this is a re-check): a first invitation costs one call less.
        let reference = note_reference(assessment);
        let may_exist = recheck || attempted(db, assessment, WriteBackStep::InvitationNote).await?;
        let already = may_exist
            && client
                .list_notes(opportunity)
                .await?
                .iter()
                .any(|n| n.body().contains(&reference));
        if !already {
            note_attempt(db, assessment, WriteBackStep::InvitationNote).await?;
            let note = NewNote {
                value: note_text(assessment, link, invite_failed),
                score: None,
                secret: false,
                notify_followers: false,
            };
            client.create_note(opportunity, note, perform_as).await?;
        }
        record(db, assessment, WriteBackStep::InvitationNote).await?;
    }
    Ok(())
}

/// Whether the assessment's latest invitation email found no address to go to.
async fn invite_failed(db: &Db, assessment: &Assessment) -> Result<bool, DbError> {
    let id = assessment.id.clone();
    let emails = db
        .run(move |conn| db::emails::for_assessment(conn, &id).map_err(DbError::from))
        .await?;
    Ok(emails
        .iter()
        .rev()
        .find(|e| e.kind() == db::emails::EmailKind::Invitation)
        .is_some_and(|e| e.status == db::emails::NO_ADDRESS))
}

pub(super) async fn step_done(
    db: &Db,
    assessment: &Assessment,
    step: WriteBackStep,
) -> Result<bool, DbError> {
    let id = assessment.id.clone();
    db.run(move |conn| db::assessments::step_done(conn, &id, step).map_err(DbError::from))
        .await
}

/// Records a completed step. When that fails the attempt fails: the rerun finds what Lever
/// shows (a link, a tag) or looks for what the step created (it noted its beginning).
pub(super) async fn record(
    db: &Db,
    assessment: &Assessment,
    step: WriteBackStep,
) -> Result<(), DbError> {
    let id = assessment.id.clone();
    db.run(move |conn| db::assessments::record_step(conn, &id, step).map_err(DbError::from))
        .await
}

/// Whether an earlier run began `step` (noted before Lever is asked to create anything), so
/// that what it created may be in Lever already.
pub(super) async fn attempted(
    db: &Db,
    assessment: &Assessment,
    step: WriteBackStep,
) -> Result<bool, DbError> {
    let id = assessment.id.clone();
    db.run(move |conn| db::assessments::attempted(conn, &id, step).map_err(DbError::from))
        .await
}

/// Notes that `step` begins, before Lever is asked to create: unless it is noted, nothing is
/// created, so a crash after Lever's answer can never leave a second copy.
pub(super) async fn note_attempt(
    db: &Db,
    assessment: &Assessment,
    step: WriteBackStep,
) -> Result<(), DbError> {
    let id = assessment.id.clone();
    db.run(move |conn| db::assessments::record_attempt(conn, &id, step).map_err(DbError::from))
        .await
}

#[cfg(test)]
mod tests {
    use super::invite_summary;
    use crate::domain::org_settings::WriteBacks;

    #[test]
    fn the_summary_names_what_is_switched_on() {
        let all = WriteBacks {
            link: true,
            progress_tags: true,
            note: true,
            feedback_form: true,
            report_file: true,
        };
        assert_eq!(
            invite_summary(&all).as_deref(),
            Some("link, progress tag and note")
        );
        let no_tag = WriteBacks {
            progress_tags: false,
            ..all
        };
        assert_eq!(invite_summary(&no_tag).as_deref(), Some("link and note"));
        let note_only = WriteBacks {
            link: false,
            ..no_tag
        };
        assert_eq!(invite_summary(&note_only).as_deref(), Some("note"));
        let none = WriteBacks {
            note: false,
            ..note_only
        };
        assert_eq!(invite_summary(&none), None);
    }
}
