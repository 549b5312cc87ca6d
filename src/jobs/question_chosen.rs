//! A member picked the question of a recruiter's-choice configuration: the choice link leaves
//! Lever and the invitation is written ([`crate::assessments::question_choice`]).

use super::stage_change::{lever_failure, retry_db};
use crate::assessments::question_choice::{self, choice_link, Payload};
use crate::assessments::write_back::{self, StepError};
use crate::assessments::{self, AssessmentState};
use crate::db::{self, DbError};
use crate::lever::LeverError;
use crate::queue::{writable_connection, JobFailure, Run};

pub async fn run(run: &Run<'_>) -> Result<(), JobFailure> {
    let jobs = run.ctx;
    let payload: Payload = serde_json::from_str(&run.job.payload)
        .map_err(|e| JobFailure::Retry(format!("the job's payload is unreadable: {e}")))?;
    let org_id = run.job.org_id.clone();
    let (org, id, choice_id) = (
        org_id.clone(),
        payload.assessment_id.clone(),
        payload.choice_id.clone(),
    );
    let found = jobs
        .db
        .run(move |conn| -> Result<_, DbError> {
            let assessment = db::assessments::find(conn, &org, &id)?;
            let choice = db::question_choices::find(conn, &org, &choice_id)?;
            let slug = db::orgs::find(conn, &org)?
                .map(|o| o.slug)
                .unwrap_or_default();
            let connection = db::lever::connection(conn, &org)?;
            let settings = db::settings::for_org(conn, &org)?;
            Ok((assessment, choice, slug, connection, settings))
        })
        .await
        .map_err(retry_db)?;
    // The candidate's data was purged: there is nothing left to write.
    let (Some(assessment), Some(choice), slug, connection, settings) = found else {
        return Ok(());
    };
    let (connection, perform_as) = writable_connection(connection)?;
    let client = run.client(&connection).await?;
    let opportunity = match client.get_opportunity(&assessment.opportunity_id).await {
        Ok(opportunity) => opportunity,
        Err(LeverError::NotFound { .. }) => return Ok(()),
        Err(e) => return Err(lever_failure(run, &connection, e).await),
    };
    let public = &jobs.settings.public_url;
    let chooser = choice_link(public, &slug, &choice.id);
    // Withdrawn (the candidate archived, hired or deleted in Lever) before this job ran: no
    // invitation; only the choice link, which no longer leads anywhere, comes off.
    if AssessmentState::parse(&assessment.state) == Some(AssessmentState::Cancelled) {
        return match question_choice::remove_choice_links(
            &client,
            &opportunity,
            &[chooser],
            &perform_as,
        )
        .await
        {
            Ok(()) | Err(LeverError::NotFound { .. }) => Ok(()),
            Err(e) => Err(lever_failure(run, &connection, e).await),
        };
    }
    // The invitation email, once: queued the first time this job gets this far.
    let (stored, recipient, email_settings, attempts) = (
        assessment.clone(),
        opportunity.emails.first().cloned(),
        settings.clone(),
        jobs.settings.tuning.job_max_attempts,
    );
    jobs.db
        .run(move |conn| {
            crate::db::connection::write_transaction(conn, |conn| {
                let sent = crate::db::emails::for_assessment(conn, &stored.id)?;
                if !sent
                    .iter()
                    .any(|e| e.kind() == crate::db::emails::EmailKind::Invitation)
                {
                    crate::assessments::emails::queue_invitation(
                        conn,
                        &stored,
                        recipient.as_deref(),
                        &email_settings,
                        attempts,
                    )?;
                }
                Ok::<_, diesel::result::Error>(())
            })
            .map_err(crate::db::DbError::from)
        })
        .await
        .map_err(retry_db)?;
    let link = assessments::link(public, &assessment.token);
    match question_choice::invite(
        &jobs.db,
        &client,
        &assessment,
        &chooser,
        &link,
        &perform_as,
        &opportunity,
        &settings,
    )
    .await
    {
        Ok(()) | Err(StepError::Lever(LeverError::NotFound { .. })) => {}
        Err(StepError::Lever(e)) => return Err(lever_failure(run, &connection, e).await),
        Err(StepError::Database(e)) => return Err(retry_db(e)),
    }
    let author = connection.default_user_name.clone().unwrap_or(perform_as);
    let written = match write_back::invite_summary(&settings.write_backs) {
        Some(steps) => format!("the choice link replaced by the candidate's; {steps} written to Lever as {author}"),
        None => "the choice link removed; nothing else written to Lever (link, progress tag and note are switched off on the Settings page)".into(),
    };
    let outcome = format!(
        "Question “{}” chosen by {} for {}: {written}.",
        assessment.question_title.as_deref().unwrap_or_default(),
        choice.chosen_by.as_deref().unwrap_or("a former member"),
        assessment.candidate_name,
    );
    let (event, configuration) = (choice.event_id.clone(), assessment.configuration_id.clone());
    jobs.db
        .run(move |conn| {
            db::webhooks::set_outcome(conn, &event, "fired", &outcome, Some(&configuration))
                .map_err(DbError::from)
        })
        .await
        .map_err(retry_db)
}
