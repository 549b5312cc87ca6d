//! A candidate moved to a stage in Lever: if a configuration fires, create its assessment and
//! write it back to Lever.
//!
//! The webhook's `data` is not signed, so the opportunity is read again from Lever and must
//! really be at the trigger stage and carry the configuration's tag. The candidate's own tags
//! decide: Lever copies a posting's tags onto the candidates who apply, so a candidate whose
//! tag was removed is exempt even when the posting still carries it.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::worker::{writable_connection, JobFailure, Run};
use crate::assessments::{self, write_back, AssessmentState, TakeHomeTerms};
use crate::db::assessments::Assessment;
use crate::db::configurations::Configuration;
use crate::db::lever::LeverConnection;
use crate::db::{self, DbError};
use crate::domain::OrgSettings;
use crate::domain::{pad_label, PadKind};
use crate::lever::{LeverError, Opportunity};

/// The kind of job this file runs.
pub const KIND: super::JobKind = super::JobKind::StageChange;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Payload {
    pub opportunity_id: String,
    pub to_stage_id: String,
}

pub async fn run(run: &Run<'_>) -> Result<(), JobFailure> {
    let (jobs, job) = (run.jobs, run.job);
    let payload: Payload = serde_json::from_str(&job.payload)
        .map_err(|e| JobFailure::Retry(format!("the job's payload is unreadable: {e}")))?;
    let event_id = job.event_id.clone().unwrap_or_default();
    let org_id = job.org_id.clone();

    let (configs, already_fired, connection, stage_names, settings) = {
        let (org, stage) = (org_id.clone(), payload.to_stage_id.clone());
        let (opportunity, event) = (payload.opportunity_id.clone(), event_id.clone());
        jobs.db
            .run(move |conn| -> Result<_, DbError> {
                let configs = db::configurations::for_stage(conn, &org, &stage)?;
                let ids: Vec<String> = configs.iter().map(|c| c.id.clone()).collect();
                let already_fired =
                    db::assessments::configurations_fired_by(conn, &ids, &opportunity, &event)?;
                let connection = db::lever::connection(conn, &org)?;
                let names: HashMap<String, String> = db::lever::stages(conn, &org)?
                    .into_iter()
                    .map(|s| (s.id, s.text))
                    .collect();
                let settings = db::settings::for_org(conn, &org)?;
                Ok((configs, already_fired, connection, names, settings))
            })
            .await
            .map_err(retry_db)?
    };
    let stage_name = |id: &str| {
        stage_names
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_owned())
    };
    let to_stage = stage_name(&payload.to_stage_id);
    let settle = |status: &'static str, outcome: String, configuration: Option<String>| {
        let event_id = event_id.clone();
        async move {
            jobs.db
                .run(move |conn| {
                    db::webhooks::set_outcome(
                        conn,
                        &event_id,
                        status,
                        &outcome,
                        configuration.as_deref(),
                    )
                    .map_err(DbError::from)
                })
                .await
                .map_err(retry_db)
        }
    };

    if configs.is_empty() {
        let outcome = format!("Stage “{to_stage}” is not the trigger stage of any configuration.");
        return settle("ignored", outcome, None).await;
    }
    let (connection, perform_as) = writable_connection(connection)?;
    let client = run.client(&connection)?;

    let opportunity = match client.get_opportunity(&payload.opportunity_id).await {
        Ok(opportunity) => opportunity,
        Err(LeverError::NotFound { .. }) => {
            let outcome = format!(
                "Lever has no opportunity {} (deleted?); nothing was created.",
                payload.opportunity_id
            );
            return settle("ignored", outcome, None).await;
        }
        Err(e) => return Err(lever_failure(run, &connection, e).await),
    };
    if !opportunity.name.is_empty() {
        let (event, name) = (event_id.clone(), opportunity.name.clone());
        jobs.db
            .run(move |conn| {
                db::webhooks::set_candidate_name(conn, &event, &name).map_err(DbError::from)
            })
            .await
            .map_err(retry_db)?;
    }
    // An earlier run of this job created assessments and stopped before their write-back was
    // done (a crash, a broken connection, Lever failing for a while): their links may be in
    // Lever already, so the write-back is finished whatever the candidate's stage and tags are
    // now, and nothing new is created.
    let matching: Vec<&Configuration> = if already_fired.is_empty() {
        match fires(&opportunity, &payload.to_stage_id, &configs, &stage_name) {
            Ok(matching) => matching,
            Err(outcome) => return settle("ignored", outcome, None).await,
        }
    } else {
        configs
            .iter()
            .filter(|c| already_fired.contains(&c.id))
            .collect()
    };

    let mut fired = Vec::new();
    let mut duplicates = Vec::new();
    for configuration in matching {
        let (assessment, created) =
            create_assessment(run, configuration, &opportunity, &event_id, &settings).await?;
        if !created && assessment.event_id != event_id {
            duplicates.push(format!(
                "configuration “{}” already fired for this opportunity (on {})",
                configuration.tag_name,
                assessment.created_at.format("%-d %b %Y %H:%M:%S UTC")
            ));
            continue;
        }
        let link = assessments::link(&jobs.settings.public_url, &assessment.token);
        match write_back::invite(
            &jobs.db,
            &client,
            &assessment,
            &link,
            &perform_as,
            &opportunity,
            &settings,
        )
        .await
        {
            Ok(()) => {}
            Err(LeverError::NotFound { message, endpoint }) => {
                // Only the opportunity's own 404 says it is gone; a list under it may 404 alone.
                let outcome = if endpoint.as_deref() == Some("list opportunity notes") {
                    format!(
                        "Lever answered 404 Not Found ({message}) to listing the notes of opportunity {}, which it had just shown; the link and the tag were written, the note was not.",
                        payload.opportunity_id
                    )
                } else {
                    format!(
                        "Lever no longer has opportunity {} (deleted while leverbridge wrote to it).",
                        payload.opportunity_id
                    )
                };
                return settle("ignored", outcome, None).await;
            }
            Err(e) => return Err(lever_failure(run, &connection, e).await),
        }
        fired.push((configuration, invitation_email(run, &assessment).await?));
    }

    let author = connection.default_user_name.clone().unwrap_or(perform_as);
    if fired.is_empty() {
        let outcome = format!(
            "Duplicate: {}. Nothing new was created.",
            duplicates.join("; ")
        );
        return settle("duplicate", outcome, None).await;
    }
    let described: Vec<String> = fired
        .iter()
        .map(|(c, _)| {
            format!(
                "configuration “{}” fired ({} at “{to_stage}”)",
                c.tag_name,
                pad_label(&c.pad_kind)
            )
        })
        .collect();
    let emailed: Vec<&str> = fired.iter().filter_map(|(_, e)| e.as_deref()).collect();
    let written = match write_back::invite_summary(&settings.write_backs) {
        Some(steps) => format!("{steps} written to Lever as {author}"),
        None => "nothing written to Lever (link, progress tag and note are switched off on the Settings page)".into(),
    };
    let mut outcome = format!(
        "{} for {}: {written}.",
        capitalise(&described.join("; ")),
        opportunity.name
    );
    for email in emailed {
        outcome.push(' ');
        outcome.push_str(email);
    }
    if !duplicates.is_empty() {
        outcome.push_str(&format!(
            " Skipped as duplicates: {}.",
            duplicates.join("; ")
        ));
    }
    settle("fired", outcome, Some(fired[0].0.id.clone())).await
}

/// The configurations the opportunity, as Lever now shows it, fires at `to_stage_id`; or why none
/// fires, in words.
fn fires<'c>(
    opportunity: &Opportunity,
    to_stage_id: &str,
    configs: &'c [Configuration],
    stage_name: &dyn Fn(&str) -> String,
) -> Result<Vec<&'c Configuration>, String> {
    let to_stage = stage_name(to_stage_id);
    if opportunity.archived {
        return Err("The candidate is archived in Lever; nothing was created.".to_owned());
    }
    if opportunity.stage_id.as_deref() != Some(to_stage_id) {
        let now_at = opportunity
            .stage_id
            .as_deref()
            .map(stage_name)
            .unwrap_or_else(|| "no stage".into());
        return Err(format!(
            "Lever shows the candidate at “{now_at}”, not “{to_stage}” (a webhook's data is not signed, so Lever decides); nothing was created."
        ));
    }
    let matching: Vec<&Configuration> = configs
        .iter()
        .filter(|c| opportunity.tags.contains(&c.tag_name))
        .collect();
    if matching.is_empty() {
        let wanted: Vec<String> = configs
            .iter()
            .map(|c| format!("“{}”", c.tag_name))
            .collect();
        return Err(format!(
            "The candidate lacks the tag {} that stage “{to_stage}” requires; nothing was created.",
            wanted.join(" or ")
        ));
    }
    Ok(matching)
}

/// What became of the assessment's invitation email, in words for the delivery's outcome;
/// `None` when none was meant to be sent.
async fn invitation_email(
    run: &Run<'_>,
    assessment: &Assessment,
) -> Result<Option<String>, JobFailure> {
    let id = assessment.id.clone();
    let emails = run
        .jobs
        .db
        .run(move |conn| db::emails::for_assessment(conn, &id).map_err(DbError::from))
        .await
        .map_err(retry_db)?;
    let Some(invitation) = emails
        .iter()
        .rev()
        .find(|e| e.kind() == db::emails::EmailKind::Invitation)
    else {
        return Ok(None);
    };
    Ok(Some(match invitation.recipient.as_deref() {
        Some(to) => format!("Invitation email to {to} queued."),
        None => format!(
            "No invitation email: Lever lists no email address for {}; Lever shows “Invite Failed”.",
            assessment.candidate_name
        ),
    }))
}

async fn create_assessment(
    run: &Run<'_>,
    configuration: &Configuration,
    opportunity: &Opportunity,
    event_id: &str,
    settings: &OrgSettings,
) -> Result<(Assessment, bool), JobFailure> {
    let (opportunity_id, candidate_name) = (opportunity.id.as_str(), opportunity.name.as_str());
    // The invitation email goes to the first address Lever lists, queued with the assessment.
    let recipient = opportunity.emails.first().cloned();
    let email_settings = settings.clone();
    let attempts = run.jobs.settings.tuning.job_max_attempts;
    // Take-home tests carry their terms (from Settings) from the moment they are sent, so a later
    // change of Settings does not move a deadline already given; live pads have no clock.
    let terms = TakeHomeTerms {
        time_limit_minutes: settings.time_limit_minutes as i32,
        days_to_start: settings.days_to_start as i32,
    };
    let now = run.jobs.settings.tuning.clock.now();
    let take_home = PadKind::parse(&configuration.pad_kind) == Ok(PadKind::TakeHome);
    let mut new = Assessment {
        id: db::new_id(),
        org_id: configuration.org_id.clone(),
        configuration_id: configuration.id.clone(),
        opportunity_id: opportunity_id.to_owned(),
        candidate_name: candidate_name.to_owned(),
        token: crate::crypto::random_token(32),
        pad_kind: configuration.pad_kind.clone(),
        question_title: None,
        question_prompt: None,
        tag_name: configuration.tag_name.clone(),
        state: AssessmentState::Invited.as_str().into(),
        event_id: event_id.to_owned(),
        created_at: now,
        question_language: "plaintext".into(),
        starter_code: String::new(),
        time_limit_minutes: take_home.then_some(terms.time_limit_minutes),
        start_by: take_home.then(|| terms.start_by(now)),
        started_at: None,
        deadline_at: None,
        submitted_at: None,
        time_ran_out: false,
    };
    let question_id = configuration.question_id.clone();
    run.jobs
        .db
        .run(move |conn| {
            db::connection::write_transaction(conn, |conn| {
                // A copy: editing the question later leaves the assessments already sent alone.
                if let Some(id) = question_id {
                    if let Some(question) = db::questions::find(conn, &new.org_id, &id)? {
                        new.question_title = Some(question.title);
                        new.question_prompt = Some(question.prompt);
                        new.question_language = question.language;
                        new.starter_code = question.starter_code;
                    }
                }
                let (assessment, created) = db::assessments::create_once(conn, &new)?;
                if created {
                    crate::assessments::emails::queue_invitation(
                        conn,
                        &assessment,
                        recipient.as_deref(),
                        &email_settings,
                        attempts,
                    )?;
                }
                Ok::<_, diesel::result::Error>((assessment, created))
            })
            .map_err(DbError::from)
        })
        .await
        .map_err(retry_db)
}

/// What a Lever error means for the job (the progress write-back's too).
pub(super) async fn lever_failure(
    run: &Run<'_>,
    connection: &LeverConnection,
    error: LeverError,
) -> JobFailure {
    match error {
        LeverError::Unauthorized { message } => {
            let reason = format!("Lever answered 401 Unauthorized: {message}");
            let (org, sealed, stored) = (connection.org_id.clone(), connection.api_key_sealed.clone(), reason.clone());
            if let Err(e) = run
                .jobs
                .db
                .run(move |conn| db::lever::mark_broken(conn, &org, &sealed, &stored).map_err(DbError::from))
                .await
            {
                tracing::error!(error = %e, "failed to mark the Lever connection broken");
            }
            JobFailure::Park(format!("the Lever connection is broken ({reason}); reconnect it on the Connection page."))
        }
        // The connection test found the permission granted: the opportunity is what is refused.
        LeverError::Forbidden { message, permission: Some(p) }
            if !connection.missing().contains(&p) && !crate::lever::UNTESTED_PERMISSIONS.contains(&p.as_str()) =>
        {
            JobFailure::Park(format!("Lever refused the opportunity ({message}): it is confidential: the key cannot read it. Allow the key access to confidential data in Lever (Settings → Integrations and API → API Credentials) and connect again."))
        }
        LeverError::Forbidden { message, permission } => JobFailure::Park(match permission {
            Some(p) => format!("the API key lacks the “{p}” permission ({message}); grant it in Lever and connect again."),
            None => format!("Lever refused the call ({message}); check the key's permissions and connect again."),
        }),
        // Retrying the same request cannot help; most often the default user was deactivated.
        LeverError::BadRequest { message } => JobFailure::Park(format!(
            "Lever refused the request ({message}); if the default Lever user was deactivated, choose another on the Settings page."
        )),
        other => JobFailure::Retry(other.to_string()),
    }
}

pub(super) fn retry_db(e: DbError) -> JobFailure {
    JobFailure::Retry(format!("database: {e}"))
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
