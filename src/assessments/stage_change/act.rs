//! What one configuration that fired does: a new assessment (created once) written back to
//! Lever, a recruiter's choice and its link, or, for a candidate moved back, the invitation
//! sent again or nothing.

use chrono::NaiveDateTime;

use super::{lever_outcome, name_at, Ctx, Stop};
use crate::assessments::create::{self, For};
use crate::assessments::invite_again::{invite_again, InviteAgainError, Reentry};
use crate::assessments::question_choice::{self, choice_link, write_choice_link};
use crate::assessments::trigger::Pick;
use crate::assessments::write_back::{self, StepError, Steps};
use crate::assessments::{self, AssessmentState, LifecycleError};
use crate::db::assessments::Assessment;
use crate::db::configurations::Configuration;
use crate::db::question_choices::QuestionChoice;
use crate::db::{self, DbError};
use crate::domain::event_outcome::{Acted, InvitationEmail, NotAgain};
use crate::domain::{pad_label, LeftPipeline, QuestionSource};

/// Creates (once) and writes back what a configuration that fired calls for.
pub(super) async fn act(
    ctx: &Ctx<'_>,
    configuration: &Configuration,
    pick: Pick,
) -> Result<Acted, Stop> {
    let now = ctx.settings.tuning.clock.now();
    let question_id = match pick {
        Pick::Question(id) => id,
        Pick::Recruiter => {
            let (c, o) = (configuration.id.clone(), ctx.opportunity.id.clone());
            let existing = ctx
                .db
                .run(move |conn| {
                    db::assessments::for_opportunity(conn, &c, &o).map_err(DbError::from)
                })
                .await?;
            return match existing {
                // The question was chosen after an earlier move: this is a re-entry.
                Some(assessment) => reenter(ctx, configuration, assessment).await,
                None => choice(ctx, configuration, now).await,
            };
        }
    };
    let (assessment, created) = create_once(ctx, configuration, question_id, now).await?;
    if !created && assessment.event_id != ctx.moved.event_id {
        return reenter(ctx, configuration, assessment).await;
    }
    let link = assessments::link(&ctx.settings.public_url, &assessment.token);
    let lever = ctx.lever;
    let written = write_back::invite(
        ctx.db,
        lever.client,
        &assessment,
        &link,
        lever.perform_as,
        ctx.opportunity,
        &ctx.known.settings,
        Steps::Pending,
    )
    .await;
    let written = match written {
        Ok(()) => Ok(()),
        Err(StepError::Lever(e)) => Err(e),
        Err(StepError::Database(e)) => return Err(e.into()),
    };
    lever_outcome(ctx.opportunity, written)?;
    Ok(Acted::Fired {
        configuration: name_at(configuration, ctx.to_stage),
        pad: pad_label(&configuration.pad_kind).to_string(),
        posting_question: assessment
            .question_title
            .clone()
            .filter(|_| configuration.question_source() == QuestionSource::PostingTag),
        email: invitation_email(ctx, &assessment).await?,
    })
}

/// The assessment for this opportunity and configuration, created (with its invitation email
/// queued, and a *Send now* on its timeline) unless it exists; `true` when created now.
async fn create_once(
    ctx: &Ctx<'_>,
    configuration: &Configuration,
    question_id: Option<String>,
    now: NaiveDateTime,
) -> Result<(Assessment, bool), DbError> {
    let (c, settings) = (configuration.clone(), ctx.known.settings.clone());
    let (opportunity_id, name) = (ctx.opportunity.id.clone(), ctx.opportunity.name.clone());
    let event = ctx.moved.event_id.to_owned();
    let sent_by = ctx.moved.send_now.map(|s| s.by.clone());
    let to_stage = ctx.to_stage.to_owned();
    // The invitation email goes to the first address Lever lists, queued with the assessment.
    let recipient = ctx.opportunity.emails.first().cloned();
    let attempts = ctx.settings.tuning.job_max_attempts;
    ctx.db
        .run(move |conn| {
            db::connection::write_transaction(conn, |conn| {
                let made = create::create_once(
                    conn,
                    &c,
                    For {
                        opportunity_id: &opportunity_id,
                        candidate_name: &name,
                        event_id: &event,
                        question_id: question_id.as_deref(),
                    },
                    &settings,
                    now,
                )?;
                if made.1 {
                    assessments::emails::queue_invitation(conn, &made.0, recipient.as_deref(), &settings, attempts)?;
                }
                if let (Some(by), true) = (&sent_by, made.1) {
                    db::assessment_history::record(
                        conn,
                        &made.0.id,
                        "sent_now",
                        now,
                        &format!("Sent now by {by} on Events: the candidate lacked the tag when moved to “{to_stage}”"),
                    )?;
                }
                Ok(made)
            })
            .map_err(|e: diesel::result::Error| DbError::from(e))
        })
        .await
}

/// What became of the assessment's invitation email; `None` when none was meant to be sent.
async fn invitation_email(
    ctx: &Ctx<'_>,
    assessment: &Assessment,
) -> Result<Option<InvitationEmail>, DbError> {
    let id = assessment.id.clone();
    let emails = ctx
        .db
        .run(move |conn| db::emails::for_assessment(conn, &id).map_err(DbError::from))
        .await?;
    let Some(invitation) = emails
        .iter()
        .rev()
        .find(|e| e.kind() == db::emails::EmailKind::Invitation)
    else {
        return Ok(None);
    };
    Ok(Some(match invitation.recipient.clone() {
        Some(to) => InvitationEmail::Queued { to },
        None => InvitationEmail::NoAddress {
            candidate: assessment.candidate_name.clone(),
        },
    }))
}

/// A recruiter's-choice configuration fired: the choice (once) and its link in Lever.
async fn choice(
    ctx: &Ctx<'_>,
    configuration: &Configuration,
    now: NaiveDateTime,
) -> Result<Acted, Stop> {
    let new = QuestionChoice {
        id: db::new_id(),
        org_id: configuration.org_id.clone(),
        configuration_id: configuration.id.clone(),
        opportunity_id: ctx.opportunity.id.clone(),
        candidate_name: ctx.opportunity.name.clone(),
        event_id: ctx.moved.event_id.to_owned(),
        created_at: now,
        assessment_id: None,
        chosen_by: None,
        chosen_at: None,
        withdrawn_at: None,
        withdraw_reason: None,
    };
    let (choice, created) = ctx
        .db
        .run(move |conn| {
            db::connection::write_transaction(conn, |conn| {
                db::question_choices::create_once(conn, &new)
            })
            .map_err(DbError::from)
        })
        .await?;
    let configuration_name = name_at(configuration, ctx.to_stage);
    // Withdrawn when the candidate left the pipeline: it stays so, as a withdrawn assessment does.
    if let Some(withdrawn_at) = choice.withdrawn_at {
        let because = choice
            .withdraw_reason
            .as_deref()
            .and_then(LeftPipeline::parse)
            .map(LeftPipeline::because)
            .unwrap_or("the candidate left the pipeline in Lever");
        return Ok(Acted::ChoiceWithdrawn {
            configuration: configuration_name,
            fired_at: choice.created_at,
            withdrawn_at,
            because: because.to_owned(),
        });
    }
    let link = choice_link(&ctx.settings.public_url, &ctx.known.slug, &choice.id);
    let written = write_choice_link(
        ctx.lever.client,
        ctx.opportunity,
        &link,
        ctx.lever.perform_as,
    )
    .await;
    lever_outcome(ctx.opportunity, written)?;
    let pad = pad_label(&configuration.pad_kind).to_string();
    let noted = question_choice::write_choice_note(
        ctx.lever.client,
        ctx.opportunity,
        (&choice, &pad, &link),
        &ctx.known.settings,
        ctx.lever.perform_as,
    )
    .await;
    lever_outcome(ctx.opportunity, noted)?;
    Ok(if created || choice.event_id == ctx.moved.event_id {
        Acted::ChoiceLinked {
            configuration: configuration_name,
            pad: pad_label(&configuration.pad_kind).to_string(),
        }
    } else {
        Acted::ChoiceLinkedAgain {
            configuration: configuration_name,
            fired_at: choice.created_at,
        }
    })
}

/// The candidate came back to a trigger whose assessment exists: invited again if not
/// started, else nothing.
async fn reenter(
    ctx: &Ctx<'_>,
    configuration: &Configuration,
    assessment: Assessment,
) -> Result<Acted, Stop> {
    let configuration_name = name_at(configuration, ctx.to_stage);
    let state = assessment.state;
    if state != AssessmentState::Invited {
        let candidate = assessment.candidate_name.clone();
        let why = match state {
            AssessmentState::Started => NotAgain::Started {
                candidate,
                at: assessment.started_at,
            },
            AssessmentState::Submitted => NotAgain::Submitted { candidate },
            other => NotAgain::Finished(other),
        };
        return Ok(Acted::NotInvitedAgain {
            configuration: configuration_name,
            fired_at: assessment.created_at,
            why,
        });
    }
    let link = assessments::link(&ctx.settings.public_url, &assessment.token);
    let again = invite_again(
        ctx.db,
        ctx.lever.client,
        &assessment,
        &link,
        ctx.lever.perform_as,
        ctx.opportunity,
        &ctx.known.settings,
        Reentry {
            event_id: ctx.moved.event_id,
            stage: ctx.to_stage,
            at: ctx.settings.tuning.clock.now(),
            max_attempts: ctx.settings.tuning.job_max_attempts,
        },
    )
    .await;
    match again {
        Ok(()) => {}
        Err(InviteAgainError::Db(e)) => return Err(Stop::Fail(LifecycleError::Database(e))),
        Err(InviteAgainError::Lever(e)) => lever_outcome(ctx.opportunity, Err(e))?,
    }
    Ok(Acted::InvitedAgain {
        configuration: configuration_name,
        fired_at: assessment.created_at,
        candidate: assessment.candidate_name,
    })
}
