//! A candidate moved to a stage in Lever: each configuration watching the stage (its trigger
//! stage, or a stage-name prefix) fires or says why not ([`crate::assessments::trigger`]); one
//! that fires creates its assessment and writes it back to Lever, or, for a recruiter's choice,
//! writes the link to the page where the question is picked. A candidate moved back into a
//! trigger stage gets no second assessment: invited again before starting, nothing after.
//!
//! The webhook's `data` is not signed, so the opportunity is read again from Lever and must
//! really be at the stage. The candidate's own tags decide: Lever copies a posting's tags onto
//! the candidates who apply, so a candidate whose tag was removed is exempt even when the
//! posting still carries it. A posting's tags are read only to pick a question.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::assessments::create::{self, For};
use crate::assessments::invite_again::{invite_again, InviteAgainError, Reentry};
use crate::assessments::question_choice::{choice_link, write_choice_link};
use crate::assessments::trigger::{self, Pick, Skip};
use crate::assessments::withdrawal::LeftPipeline;
use crate::assessments::write_back::{self, StepError, Steps};
use crate::assessments::{self, AssessmentState};
use crate::connection::StagesError;
use crate::db::assessments::Assessment;
use crate::db::configurations::Configuration;
use crate::db::lever::LeverConnection;
use crate::db::question_choices::QuestionChoice;
use crate::db::questions::Question;
use crate::db::{self, DbError};
use crate::domain::{pad_label, OrgSettings};
use crate::lever::{LeverClient, LeverError, Opportunity, Posting};
use crate::queue::{writable_connection, JobFailure, Run};

/// The kind of job this file runs.

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Payload {
    pub opportunity_id: String,
    pub to_stage_id: String,
    /// An admin pressed *Send now* on Events for a delivery ignored because the candidate
    /// lacked the tag: this configuration fires as if the tag had been there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_now: Option<SendNow>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SendNow {
    pub configuration_id: String,
    /// Who pressed it (an e-mail address).
    pub by: String,
}

/// What the job read before deciding.
struct Known {
    configs: Vec<Configuration>,
    connection: Option<LeverConnection>,
    stage_names: HashMap<String, String>,
    settings: OrgSettings,
    questions: Vec<Question>,
    slug: String,
}

/// Everything one configuration's action needs.
struct Ctx<'a> {
    run: &'a Run<'a>,
    client: &'a LeverClient,
    connection: &'a LeverConnection,
    perform_as: &'a str,
    opportunity: &'a Opportunity,
    settings: &'a OrgSettings,
    event_id: &'a str,
    to_stage: &'a str,
    slug: &'a str,
}

/// What one configuration that fired came to.
enum Acted {
    /// A new assessment, written back.
    Fired(String),
    /// A recruiter's choice: the link to choose the question written.
    Choice(String),
    /// Moved back before starting: invited again, or the choice link written again.
    Again(String),
    /// Moved back after starting: nothing sent.
    NotAgain(String),
}

/// The job ends with this outcome on the event.
struct Settle(&'static str, String);

pub async fn run(run: &Run<'_>) -> Result<(), JobFailure> {
    let (jobs, job) = (run.ctx, run.job);
    let payload: Payload = serde_json::from_str(&job.payload)
        .map_err(|e| JobFailure::Retry(format!("the job's payload is unreadable: {e}")))?;
    let event_id = job.event_id.clone().unwrap_or_default();
    let org_id = job.org_id.clone();
    let settle = |Settle(status, outcome): Settle, configuration: Option<String>| {
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
    let (settled, configuration) = decide_and_act(run, &payload, &org_id, &event_id).await?;
    settle(settled, configuration).await
}

async fn decide_and_act(
    run: &Run<'_>,
    payload: &Payload,
    org_id: &str,
    event_id: &str,
) -> Result<(Settle, Option<String>), JobFailure> {
    let jobs = run.ctx;
    let mut known = {
        let org = org_id.to_owned();
        jobs.db
            .run(move |conn| -> Result<_, DbError> {
                Ok(Known {
                    configs: db::configurations::list(conn, &org)?,
                    connection: db::lever::connection(conn, &org)?,
                    stage_names: db::lever::stages(conn, &org)?
                        .into_iter()
                        .map(|s| (s.id, s.text))
                        .collect(),
                    settings: db::settings::for_org(conn, &org)?,
                    questions: db::questions::list(conn, &org)?,
                    slug: db::orgs::find(conn, &org)?
                        .map(|o| o.slug)
                        .unwrap_or_default(),
                })
            })
            .await
            .map_err(retry_db)?
    };
    let to_stage_id = payload.to_stage_id.as_str();
    let send_now = payload.send_now.as_ref();
    // A stage added in Lever since its stages were read may begin with a prefix.
    if send_now.is_none()
        && trigger::needs_stage_refresh(
            &known.configs,
            known.stage_names.get(to_stage_id).map(String::as_str),
        )
    {
        refresh_stages(run, &mut known, org_id).await?;
    }
    let stage_name = |id: &str| known.stage_names.get(id).cloned();
    let name_or_id = |id: &str| stage_name(id).unwrap_or_else(|| id.to_owned());
    let to_stage = name_or_id(to_stage_id);
    let watching: Vec<&Configuration> = match send_now {
        Some(now) => known
            .configs
            .iter()
            .filter(|c| c.id == now.configuration_id)
            .collect(),
        None => trigger::watching(
            &known.configs,
            to_stage_id,
            stage_name(to_stage_id).as_deref(),
        ),
    };
    if watching.is_empty() {
        let outcome = match send_now {
            Some(now) => format!("{} pressed Send now, but the configuration has been deleted since; nothing was created.", now.by),
            None => format!("Stage “{to_stage}” is not the trigger stage of any configuration."),
        };
        return Ok((Settle("ignored", outcome), None));
    }
    let (connection, perform_as) = writable_connection(known.connection.clone())?;
    let client = run.client(&connection).await?;
    let opportunity = match client.get_opportunity(&payload.opportunity_id).await {
        Ok(opportunity) => opportunity,
        Err(LeverError::NotFound { .. }) => {
            let outcome = format!(
                "Lever has no opportunity {} (deleted?); nothing was created.",
                payload.opportunity_id
            );
            return Ok((Settle("ignored", outcome), None));
        }
        Err(e) => return Err(lever_failure(run, &connection, e).await),
    };
    if !opportunity.name.is_empty() {
        let (event, name) = (event_id.to_owned(), opportunity.name.clone());
        jobs.db
            .run(move |conn| {
                db::webhooks::set_candidate_name(conn, &event, &name).map_err(DbError::from)
            })
            .await
            .map_err(retry_db)?;
    }

    // An earlier run of this job created assessments (or choices) and stopped before their
    // write-back was done (a crash, a broken connection, Lever failing for a while): their
    // links may be in Lever already, so the write-back is finished whatever the candidate's
    // stage and tags are now, and nothing new is decided.
    let already = {
        let ids: Vec<String> = watching.iter().map(|c| c.id.clone()).collect();
        let (opp, event) = (payload.opportunity_id.clone(), event_id.to_owned());
        jobs.db
            .run(move |conn| {
                db::assessments::configurations_fired_by(conn, &ids, &opp, &event)
                    .map_err(DbError::from)
            })
            .await
            .map_err(retry_db)?
    };
    let decisions: Vec<(&Configuration, Result<Pick, Skip>)> = if !already.is_empty() {
        watching
            .into_iter()
            .filter(|c| already.contains(&c.id))
            .map(|c| (c, Ok(Pick::Question(c.question_id.clone()))))
            .collect()
    } else {
        if let Some(reason) =
            trigger::candidate_blocked(&opportunity, to_stage_id, &name_or_id, send_now.is_some())
        {
            return Ok((Settle("ignored", reason), None));
        }
        let posting = posting_if_needed(run, &client, &connection, &watching, &opportunity).await?;
        watching
            .into_iter()
            .map(|c| {
                let decided = trigger::tag_check(c, &opportunity, send_now.is_some())
                    .and_then(|()| trigger::pick(c, posting.as_ref(), &known.questions));
                (c, decided)
            })
            .collect()
    };

    let ctx = Ctx {
        run,
        client: &client,
        connection: &connection,
        perform_as: &perform_as,
        opportunity: &opportunity,
        settings: &known.settings,
        event_id,
        to_stage: &to_stage,
        slug: &known.slug,
    };
    let mut acted = Vec::new();
    let mut skipped = Vec::new();
    for (configuration, decided) in decisions {
        match decided {
            Ok(pick) => match act(&ctx, configuration, pick, send_now).await {
                Ok(done) => acted.push((configuration, done)),
                Err(Stop::Settle(settled)) => return Ok((settled, None)),
                Err(Stop::Fail(failure)) => return Err(failure),
            },
            Err(skip) => skipped.push((configuration, skip)),
        }
    }
    let author = connection
        .default_user_name
        .clone()
        .unwrap_or(perform_as.clone());
    Ok(compose(
        &acted,
        &skipped,
        &opportunity.name,
        &to_stage,
        &author,
        &known.settings,
        send_now,
        &stage_name,
    ))
}

/// Reads Lever's stages again into the cache (a stage id arrived that the cache lacks).
async fn refresh_stages(run: &Run<'_>, known: &mut Known, org_id: &str) -> Result<(), JobFailure> {
    let (connection, _) = writable_connection(known.connection.clone())?;
    let client = run.client(&connection).await?;
    let pairs = match crate::connection::refresh_stages(&run.ctx.db, &client, org_id).await {
        Ok(pairs) => pairs,
        Err(StagesError::Lever(e)) => return Err(lever_failure(run, &connection, e).await),
        Err(StagesError::Db(e)) => return Err(retry_db(e)),
    };
    if !pairs.is_empty() {
        known.stage_names = pairs.into_iter().collect();
    }
    Ok(())
}

/// The candidate's posting, read only when a configuration that may fire picks its question
/// by the posting's tag; `None` when the candidate applied to none (or Lever lost it).
async fn posting_if_needed(
    run: &Run<'_>,
    client: &LeverClient,
    connection: &LeverConnection,
    watching: &[&Configuration],
    opportunity: &Opportunity,
) -> Result<Option<Posting>, JobFailure> {
    let needed = watching.iter().any(|c| {
        c.question_source() == crate::domain::QuestionSource::PostingTag
            && trigger::tag_check(c, opportunity, true).is_ok()
    });
    let Some(posting_id) = opportunity.posting_id.as_deref().filter(|_| needed) else {
        return Ok(None);
    };
    match client.get_posting(posting_id).await {
        Ok(posting) => Ok(Some(posting)),
        Err(LeverError::NotFound { .. }) => Ok(None),
        Err(e) => Err(lever_failure(run, connection, e).await),
    }
}

/// Why one configuration's action ended the job early.
enum Stop {
    Settle(Settle),
    Fail(JobFailure),
}

impl From<JobFailure> for Stop {
    fn from(failure: JobFailure) -> Self {
        Stop::Fail(failure)
    }
}

/// Creates (once) and writes back what a configuration that fired calls for.
async fn act(
    ctx: &Ctx<'_>,
    configuration: &Configuration,
    pick: Pick,
    send_now: Option<&SendNow>,
) -> Result<Acted, Stop> {
    let db = &ctx.run.ctx.db;
    let opportunity_id = ctx.opportunity.id.clone();
    let now = ctx.run.ctx.settings.tuning.clock.now();
    let question_id = match pick {
        Pick::Question(id) => id,
        Pick::Recruiter => {
            let existing = {
                let (c, o) = (configuration.id.clone(), opportunity_id.clone());
                db.run(move |conn| {
                    db::assessments::for_opportunity(conn, &c, &o).map_err(DbError::from)
                })
                .await
                .map_err(retry_db)?
            };
            match existing {
                // The question was chosen after an earlier move: this is a re-entry.
                Some(assessment) => return reenter(ctx, configuration, assessment).await,
                None => return choice(ctx, configuration, now).await,
            }
        }
    };
    let (assessment, created) = {
        let (c, settings) = (configuration.clone(), ctx.settings.clone());
        let (name, event) = (ctx.opportunity.name.clone(), ctx.event_id.to_owned());
        let sent_by = send_now.map(|s| s.by.clone());
        let to_stage = ctx.to_stage.to_owned();
        // The invitation email goes to the first address Lever lists, queued with the assessment.
        let recipient = ctx.opportunity.emails.first().cloned();
        let attempts = ctx.run.ctx.settings.tuning.job_max_attempts;
        db.run(move |conn| {
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
                    crate::assessments::emails::queue_invitation(
                        conn,
                        &made.0,
                        recipient.as_deref(),
                        &settings,
                        attempts,
                    )?;
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
        .map_err(retry_db)?
    };
    if !created && assessment.event_id != ctx.event_id {
        return reenter(ctx, configuration, assessment).await;
    }
    let link = assessments::link(&ctx.run.ctx.settings.public_url, &assessment.token);
    let written = write_back::invite(
        db,
        ctx.client,
        &assessment,
        &link,
        ctx.perform_as,
        ctx.opportunity,
        ctx.settings,
        Steps::Pending,
    )
    .await;
    let written = match written {
        Ok(()) => Ok(()),
        Err(StepError::Lever(e)) => Err(e),
        Err(StepError::Database(e)) => return Err(Stop::Fail(retry_db(e))),
    };
    lever_outcome(ctx, written).await?;
    let question = assessment
        .question_title
        .as_deref()
        .filter(|_| configuration.question_source() == crate::domain::QuestionSource::PostingTag)
        .map(|t| format!(", question “{t}” named by the posting's tag"))
        .unwrap_or_default();
    let email = invitation_email(ctx.run, &assessment)
        .await?
        .map(|e| format!("; {e}"))
        .unwrap_or_default();
    Ok(Acted::Fired(format!(
        "configuration {} fired ({} at “{}”{question}{email})",
        configuration.name(&|_| Some(ctx.to_stage.to_owned())),
        pad_label(&configuration.pad_kind),
        ctx.to_stage,
    )))
}

/// What became of the assessment's invitation email, in words for the delivery's outcome;
/// `None` when none was meant to be sent.
async fn invitation_email(
    run: &Run<'_>,
    assessment: &Assessment,
) -> Result<Option<String>, JobFailure> {
    let id = assessment.id.clone();
    let emails = run
        .ctx
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
        Some(to) => format!("invitation email to {to} queued"),
        None => format!(
            "no invitation email: Lever lists no email address for {}; Lever shows “Invite Failed”",
            assessment.candidate_name
        ),
    }))
}

/// A recruiter's-choice configuration fired: the choice (once) and its link in Lever.
async fn choice(
    ctx: &Ctx<'_>,
    configuration: &Configuration,
    now: chrono::NaiveDateTime,
) -> Result<Acted, Stop> {
    let new = QuestionChoice {
        id: db::new_id(),
        org_id: configuration.org_id.clone(),
        configuration_id: configuration.id.clone(),
        opportunity_id: ctx.opportunity.id.clone(),
        candidate_name: ctx.opportunity.name.clone(),
        event_id: ctx.event_id.to_owned(),
        created_at: now,
        assessment_id: None,
        chosen_by: None,
        chosen_at: None,
        withdrawn_at: None,
        withdraw_reason: None,
    };
    let (choice, created) = ctx
        .run
        .ctx
        .db
        .run(move |conn| {
            db::connection::write_transaction(conn, |conn| {
                db::question_choices::create_once(conn, &new)
            })
            .map_err(DbError::from)
        })
        .await
        .map_err(retry_db)?;
    let name = configuration.name(&|_| Some(ctx.to_stage.to_owned()));
    // Withdrawn when the candidate left the pipeline: it stays so, as a withdrawn assessment does.
    if let Some(at) = choice.withdrawn_at {
        let because = choice
            .withdraw_reason
            .as_deref()
            .and_then(LeftPipeline::parse)
            .map(LeftPipeline::because)
            .unwrap_or("the candidate left the pipeline in Lever");
        return Ok(Acted::NotAgain(format!(
            "Configuration {name} already fired for this opportunity (on {}); its choice of question was withdrawn on {} because {because}, so nothing was written again.",
            when(choice.created_at),
            when(at),
        )));
    }
    let link = choice_link(&ctx.run.ctx.settings.public_url, ctx.slug, &choice.id);
    let written = write_choice_link(ctx.client, ctx.opportunity, &link, ctx.perform_as).await;
    lever_outcome(ctx, written).await?;
    Ok(if created || choice.event_id == ctx.event_id {
        Acted::Choice(format!(
            "Configuration {name} fired ({}, recruiter's choice, at “{}”) for {}: the link to choose the question is on the candidate in Lever; the candidate is invited once a member of the organization chooses.",
            pad_label(&configuration.pad_kind),
            ctx.to_stage,
            ctx.opportunity.name,
        ))
    } else {
        Acted::Again(format!(
            "Configuration {name} already fired for this opportunity (on {}) and its question is still to be chosen: the link to choose it is on the candidate in Lever again.",
            when(choice.created_at),
        ))
    })
}

/// The candidate came back to a trigger whose assessment exists: invited again if not
/// started, else nothing.
async fn reenter(
    ctx: &Ctx<'_>,
    configuration: &Configuration,
    assessment: Assessment,
) -> Result<Acted, Stop> {
    let name = configuration.name(&|_| Some(ctx.to_stage.to_owned()));
    let fired = format!(
        "Configuration {name} already fired for this opportunity (on {})",
        when(assessment.created_at)
    );
    let state = AssessmentState::parse(&assessment.state).unwrap_or(AssessmentState::Cancelled);
    if state != AssessmentState::Invited {
        let why = match state {
            AssessmentState::Started => format!(
                "{} started it{} and it is in progress",
                assessment.candidate_name,
                assessment
                    .started_at
                    .map(|at| format!(" on {}", when(at)))
                    .unwrap_or_default()
            ),
            AssessmentState::Submitted => format!("{} has submitted it", assessment.candidate_name),
            other => format!("it is {}", other.label().to_lowercase()),
        };
        return Ok(Acted::NotAgain(format!(
            "{fired}; {why}, so the invitation was not sent again."
        )));
    }
    let link = assessments::link(&ctx.run.ctx.settings.public_url, &assessment.token);
    let again = invite_again(
        &ctx.run.ctx.db,
        ctx.client,
        &assessment,
        &link,
        ctx.perform_as,
        ctx.opportunity,
        ctx.settings,
        Reentry {
            event_id: ctx.event_id,
            stage: ctx.to_stage,
            at: ctx.run.ctx.settings.tuning.clock.now(),
            max_attempts: ctx.run.ctx.settings.tuning.job_max_attempts,
        },
    )
    .await;
    match again {
        Ok(()) => {}
        Err(InviteAgainError::Db(e)) => return Err(retry_db(e).into()),
        Err(InviteAgainError::Lever(e)) => lever_outcome(ctx, Err(e)).await?,
    }
    let what = match write_back::invite_summary(&ctx.settings.write_backs) {
        Some(steps) => format!("its {steps} are on the candidate in Lever again"),
        None => "nothing is written to Lever (switched off on the Settings page)".into(),
    };
    Ok(Acted::Again(format!(
        "{fired}, and {} has not started it: invited again ({what}); no second assessment.",
        assessment.candidate_name
    )))
}

/// What a Lever failure during a write-back means: the opportunity gone ends the job with
/// that outcome; anything else is the job's failure.
async fn lever_outcome(ctx: &Ctx<'_>, written: Result<(), LeverError>) -> Result<(), Stop> {
    match written {
        Ok(()) => Ok(()),
        Err(LeverError::NotFound { message, endpoint }) => {
            // Only the opportunity's own 404 says it is gone; a list under it may 404 alone.
            let outcome = if endpoint.as_deref() == Some("list opportunity notes") {
                format!(
                    "Lever answered 404 Not Found ({message}) to listing the notes of opportunity {}, which it had just shown; the link and the tag were written, the note was not.",
                    ctx.opportunity.id
                )
            } else {
                format!(
                    "Lever no longer has opportunity {} (deleted while leverbridge wrote to it).",
                    ctx.opportunity.id
                )
            };
            Err(Stop::Settle(Settle("ignored", outcome)))
        }
        Err(e) => Err(Stop::Fail(lever_failure(ctx.run, ctx.connection, e).await)),
    }
}

/// The event's outcome, in words, and the configuration it names.
#[allow(clippy::too_many_arguments)]
fn compose(
    acted: &[(&Configuration, Acted)],
    skipped: &[(&Configuration, Skip)],
    candidate: &str,
    to_stage: &str,
    author: &str,
    settings: &OrgSettings,
    send_now: Option<&SendNow>,
    stage_name: &dyn Fn(&str) -> Option<String>,
) -> (Settle, Option<String>) {
    let mut sentences = Vec::new();
    let fired: Vec<&str> = acted
        .iter()
        .filter_map(|(_, a)| match a {
            Acted::Fired(line) => Some(line.as_str()),
            _ => None,
        })
        .collect();
    if !fired.is_empty() {
        let written = match write_back::invite_summary(&settings.write_backs) {
            Some(steps) => format!("{steps} written to Lever as {author}"),
            None => "nothing written to Lever (link, progress tag and note are switched off on the Settings page)".into(),
        };
        sentences.push(format!(
            "{} for {candidate}: {written}.",
            capitalise(&fired.join("; "))
        ));
    }
    for (_, a) in acted {
        match a {
            Acted::Choice(s) | Acted::Again(s) | Acted::NotAgain(s) => sentences.push(s.clone()),
            Acted::Fired(_) => {}
        }
    }
    let any = |f: fn(&Acted) -> bool| acted.iter().any(|(_, a)| f(a));
    let status = if any(|a| matches!(a, Acted::Fired(_) | Acted::Choice(_))) {
        "fired"
    } else if any(|a| matches!(a, Acted::Again(_))) {
        "reinvited"
    } else if !acted.is_empty() {
        "duplicate"
    } else if skipped
        .iter()
        .all(|(_, s)| matches!(s, Skip::MissingTag(_)))
    {
        "no_tag"
    } else {
        "ignored"
    };
    if status == "no_tag" {
        let wanted: Vec<String> = skipped
            .iter()
            .filter_map(|(_, s)| match s {
                Skip::MissingTag(tag) => Some(format!("“{tag}”")),
                _ => None,
            })
            .collect();
        sentences.push(format!(
            "The candidate lacks the tag {} that stage “{to_stage}” requires; nothing was created. If the tag was added after the move, an admin can send it now.",
            wanted.join(" or ")
        ));
    } else if !skipped.is_empty() {
        let lines: Vec<String> = skipped
            .iter()
            .map(|(c, s)| format!("configuration {}: {}", c.name(stage_name), s.describe()))
            .collect();
        let tail = if acted.is_empty() {
            "; nothing was created."
        } else {
            "."
        };
        sentences.push(format!("Not fired: {}{tail}", lines.join("; ")));
    }
    let mut outcome = sentences.join(" ");
    if let (Some(now), "fired") = (send_now, status) {
        outcome = format!(
            "Sent now by {} (the candidate lacked the tag at the move). {outcome}",
            now.by
        );
    }
    let configuration = acted.first().map(|(c, _)| c.id.clone());
    (Settle(status, outcome), configuration)
}

fn when(at: chrono::NaiveDateTime) -> String {
    at.format("%-d %b %Y %H:%M:%S UTC").to_string()
}

/// What a Lever error means for the job (the progress write-back's too).
pub(super) async fn lever_failure(
    run: &Run<'_>,
    connection: &LeverConnection,
    error: LeverError,
) -> JobFailure {
    match error {
        LeverError::Unauthorized { message } => {
            let reason = crate::connection::mark_broken(&run.ctx.db, connection, &message).await;
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
        // The renewal marked the connection already ("needs re-authorization").
        lost @ LeverError::AuthorizationLost { .. } => JobFailure::Park(lost.to_string()),
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
