//! A candidate moved to a stage in Lever: each configuration watching the stage (its trigger
//! stage, or a stage-name prefix) fires or says why not ([`super::trigger`]); one that fires
//! creates its assessment and writes it back to Lever, or, for a recruiter's choice, writes the
//! link to the page where the question is picked. A candidate moved back into a trigger stage
//! gets no second assessment: invited again before starting, nothing after.
//!
//! The webhook's `data` is not signed, so the opportunity is read again from Lever and must
//! really be at the stage. The candidate's own tags decide: Lever copies a posting's tags onto
//! the candidates who apply, so a candidate whose tag was removed is exempt even when the
//! posting still carries it. A posting's tags are read only to pick a question.

use crate::connection::StagesError;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::trigger::{self, Pick, Skip};
use super::{LeverWriter, LifecycleError};
use crate::config::Settings;
use crate::db::configurations::Configuration;
use crate::db::lever::LeverConnection;
use crate::db::questions::Question;
use crate::db::{self, Db, DbError};
use crate::domain::event_outcome::{Skipped, StageChange, StageChangeOutcome};
use crate::domain::OrgSettings;
use crate::lever::{LeverClient, LeverError, Opportunity, Posting};

mod act;

/// An admin pressed *Send now* on Events for a delivery ignored because the candidate lacked
/// the tag: this configuration fires as if the tag had been there.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SendNow {
    pub configuration_id: String,
    /// Who pressed it (an e-mail address).
    pub by: String,
}

/// The delivery: who moved where, and whether an admin sent it anyway.
pub struct Move<'a> {
    pub event_id: &'a str,
    pub opportunity_id: &'a str,
    pub to_stage_id: &'a str,
    pub send_now: Option<&'a SendNow>,
}

/// What the organization holds that a stage change is decided on.
pub struct Known {
    org_id: String,
    configs: Vec<Configuration>,
    /// The organization's Lever connection, if any.
    pub connection: Option<LeverConnection>,
    stage_names: HashMap<String, String>,
    settings: OrgSettings,
    questions: Vec<Question>,
    slug: String,
}

/// How a stage change ended early, or failed.
enum Stop {
    Settle(StageChangeOutcome),
    Fail(LifecycleError),
}

impl From<LifecycleError> for Stop {
    fn from(error: LifecycleError) -> Self {
        Stop::Fail(error)
    }
}

impl From<DbError> for Stop {
    fn from(error: DbError) -> Self {
        Stop::Fail(error.into())
    }
}

impl From<LeverError> for Stop {
    fn from(error: LeverError) -> Self {
        Stop::Fail(error.into())
    }
}

impl Known {
    pub async fn load(db: &Db, org_id: &str) -> Result<Known, DbError> {
        let org = org_id.to_owned();
        db.run(move |conn| -> Result<_, DbError> {
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
                org_id: org,
            })
        })
        .await
    }

    /// A stage added in Lever since its stages were read may begin with a prefix: then Lever's
    /// stages are read again before deciding.
    pub fn needs_stage_refresh(&self, moved: &Move<'_>) -> bool {
        moved.send_now.is_none()
            && trigger::needs_stage_refresh(
                &self.configs,
                self.stage_name(moved.to_stage_id).as_deref(),
            )
    }

    /// Reads Lever's stages again into the cache.
    pub async fn refresh_stages(
        &mut self,
        db: &Db,
        client: &LeverClient,
    ) -> Result<(), LifecycleError> {
        let pairs = match crate::connection::refresh_stages(db, client, &self.org_id).await {
            Ok(pairs) => pairs,
            Err(StagesError::Lever(e)) => return Err(LifecycleError::Lever(e)),
            Err(StagesError::Db(e)) => return Err(LifecycleError::Database(e)),
        };
        if !pairs.is_empty() {
            self.stage_names = pairs.into_iter().collect();
        }
        Ok(())
    }

    fn stage_name(&self, id: &str) -> Option<String> {
        self.stage_names.get(id).cloned()
    }

    fn name_or_id(&self, id: &str) -> String {
        self.stage_name(id).unwrap_or_else(|| id.to_owned())
    }

    /// The configurations that watch the stage moved to; when none does, the outcome that says so.
    pub fn watching(&self, moved: &Move<'_>) -> Result<Vec<&Configuration>, StageChangeOutcome> {
        let watching: Vec<&Configuration> = match moved.send_now {
            Some(now) => self
                .configs
                .iter()
                .filter(|c| c.id == now.configuration_id)
                .collect(),
            None => trigger::watching(
                &self.configs,
                moved.to_stage_id,
                self.stage_name(moved.to_stage_id).as_deref(),
            ),
        };
        if !watching.is_empty() {
            return Ok(watching);
        }
        Err(match moved.send_now {
            Some(now) => StageChangeOutcome::SendNowConfigurationDeleted { by: now.by.clone() },
            None => StageChangeOutcome::NotATrigger {
                stage: self.name_or_id(moved.to_stage_id),
            },
        })
    }
}

/// Everything one configuration's action needs.
struct Ctx<'a> {
    db: &'a Db,
    settings: &'a Settings,
    lever: &'a LeverWriter<'a>,
    opportunity: &'a Opportunity,
    known: &'a Known,
    moved: &'a Move<'a>,
    to_stage: &'a str,
}

/// Decides, for each configuration `watching` the stage, whether it fires, and does what each
/// that fires calls for in Lever and here.
pub async fn fire(
    db: &Db,
    settings: &Settings,
    lever: &LeverWriter<'_>,
    known: &Known,
    watching: Vec<&Configuration>,
    moved: &Move<'_>,
) -> Result<StageChangeOutcome, LifecycleError> {
    match fire_or_stop(db, settings, lever, known, watching, moved).await {
        Ok(outcome) | Err(Stop::Settle(outcome)) => Ok(outcome),
        Err(Stop::Fail(e)) => Err(e),
    }
}

async fn fire_or_stop(
    db: &Db,
    settings: &Settings,
    lever: &LeverWriter<'_>,
    known: &Known,
    watching: Vec<&Configuration>,
    moved: &Move<'_>,
) -> Result<StageChangeOutcome, Stop> {
    let opportunity = read_opportunity(db, lever.client, moved).await?;
    let to_stage = known.name_or_id(moved.to_stage_id);
    let ctx = Ctx {
        db,
        settings,
        lever,
        opportunity: &opportunity,
        known,
        moved,
        to_stage: &to_stage,
    };
    let decisions = decide(&ctx, watching).await?;
    let mut acted = Vec::new();
    let mut skipped = Vec::new();
    for (configuration, decided) in decisions {
        match decided {
            Ok(pick) => acted.push((
                configuration.id.clone(),
                act::act(&ctx, configuration, pick).await?,
            )),
            Err(skip) => {
                let configuration = configuration.name(&|id| known.stage_name(id));
                skipped.push(match skip {
                    Skip::MissingTag(tag) => Skipped::MissingTag { configuration, tag },
                    Skip::NoPosting => Skipped::NoPosting { configuration },
                    Skip::NoPostingTag { posting, prefix } => Skipped::NoPostingTag {
                        configuration,
                        posting,
                        prefix,
                    },
                });
            }
        }
    }
    Ok(StageChangeOutcome::Decided(Box::new(StageChange {
        candidate: opportunity.name.clone(),
        to_stage,
        invite_steps: super::write_back::invite_summary(&known.settings.write_backs),
        author: lever.author.to_owned(),
        sent_now_by: moved.send_now.map(|now| now.by.clone()),
        acted,
        skipped,
    })))
}

/// The opportunity as Lever shows it now; its name goes on the delivery.
async fn read_opportunity(
    db: &Db,
    client: &LeverClient,
    moved: &Move<'_>,
) -> Result<Opportunity, Stop> {
    let opportunity = match client.get_opportunity(moved.opportunity_id).await {
        Ok(opportunity) => opportunity,
        Err(LeverError::NotFound { .. }) => {
            return Err(Stop::Settle(StageChangeOutcome::NoSuchOpportunity {
                opportunity_id: moved.opportunity_id.to_owned(),
            }))
        }
        Err(e) => return Err(e.into()),
    };
    if !opportunity.name.is_empty() {
        let (event, name) = (moved.event_id.to_owned(), opportunity.name.clone());
        db.run(move |conn| {
            db::webhooks::set_candidate_name(conn, &event, &name).map_err(DbError::from)
        })
        .await?;
    }
    Ok(opportunity)
}

/// Each watching configuration's decision: the question it fires with, or why it does not.
async fn decide<'c>(
    ctx: &Ctx<'_>,
    watching: Vec<&'c Configuration>,
) -> Result<Vec<(&'c Configuration, Result<Pick, Skip>)>, Stop> {
    // An earlier run of this job created assessments (or choices) and stopped before their
    // write-back was done (a crash, a broken connection, Lever failing for a while): their
    // links may be in Lever already, so the write-back is finished whatever the candidate's
    // stage and tags are now, and nothing new is decided.
    let already = {
        let ids: Vec<String> = watching.iter().map(|c| c.id.clone()).collect();
        let (opp, event) = (
            ctx.moved.opportunity_id.to_owned(),
            ctx.moved.event_id.to_owned(),
        );
        ctx.db
            .run(move |conn| {
                db::assessments::configurations_fired_by(conn, &ids, &opp, &event)
                    .map_err(DbError::from)
            })
            .await?
    };
    if !already.is_empty() {
        return Ok(watching
            .into_iter()
            .filter(|c| already.contains(&c.id))
            .map(|c| (c, Ok(Pick::Question(c.question_id.clone()))))
            .collect());
    }
    let (opportunity, send_now) = (ctx.opportunity, ctx.moved.send_now.is_some());
    let name_or_id = |id: &str| ctx.known.name_or_id(id);
    if let Some(blocked) =
        trigger::candidate_blocked(opportunity, ctx.moved.to_stage_id, &name_or_id, send_now)
    {
        return Err(Stop::Settle(StageChangeOutcome::CandidateBlocked(blocked)));
    }
    let posting = posting_if_needed(ctx.lever.client, &watching, opportunity).await?;
    Ok(watching
        .into_iter()
        .map(|c| {
            let decided = trigger::tag_check(c, opportunity, send_now)
                .and_then(|()| trigger::pick(c, posting.as_ref(), &ctx.known.questions));
            (c, decided)
        })
        .collect())
}

/// The candidate's posting, read only when a configuration that may fire picks its question
/// by the posting's tag; `None` when the candidate applied to none (or Lever lost it).
async fn posting_if_needed(
    client: &LeverClient,
    watching: &[&Configuration],
    opportunity: &Opportunity,
) -> Result<Option<Posting>, LeverError> {
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
        Err(e) => Err(e),
    }
}

/// What a Lever failure during a write-back means: the opportunity gone ends the job with
/// that outcome; anything else is the job's failure.
fn lever_outcome(opportunity: &Opportunity, written: Result<(), LeverError>) -> Result<(), Stop> {
    match written {
        Ok(()) => Ok(()),
        Err(LeverError::NotFound { message, endpoint }) => {
            let opportunity_id = opportunity.id.clone();
            // Only the opportunity's own 404 says it is gone; a list under it may 404 alone.
            Err(Stop::Settle(
                if endpoint.as_deref() == Some("list opportunity notes") {
                    StageChangeOutcome::NotesUnlisted {
                        message,
                        opportunity_id,
                    }
                } else {
                    StageChangeOutcome::DeletedWhileWriting { opportunity_id }
                },
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// A configuration's name with the stage moved to for its trigger stage.
fn name_at(configuration: &Configuration, to_stage: &str) -> String {
    configuration.name(&|_| Some(to_stage.to_owned()))
}
