//! A candidate left the pipeline in Lever (archived, hired or deleted): their unfinished
//! assessments are withdrawn.
//!
//! What "unfinished" means:
//! - **invited** and **started** assessments are withdrawn: the link stops working (the candidate
//!   sees a "withdrawn" page and saves are refused), the link is removed from the candidate in
//!   Lever, `{prefix}: Cancelled` replaces the progress tag and a note says why (the progress
//!   write-back does those steps for a cancelled state, recorded once each); a candidate who was
//!   emailed the invitation is emailed that it was withdrawn (archived or hired; a deleted
//!   candidate's address is erased), when candidate emails are on.
//! - a **submitted** assessment is kept when the candidate is archived or hired: the work is
//!   handed in, and its score is still worth having (a hired candidate's test belongs with their
//!   record; an archived one may be reconsidered), so a reviewer may still score it and its
//!   result is written to Lever as usual. When the candidate is **deleted** it is withdrawn
//!   too, since nothing may be written for them any more.
//! - **passed, failed, expired** and already **cancelled** ones are finished: nothing changes,
//!   except that a deletion erases their personal data as well.
//!
//! A restore (unarchived) does nothing: a withdrawn assessment stays withdrawn; moving the
//! candidate into a trigger stage again is what sends a new one.

use std::sync::Arc;

use super::progress_write_back::{self, CANCELLED};
use super::question_choice::{choice_link, remove_choice_links};
use super::record::{self, AssessmentRecord};
use super::result_write_back::ResultError;
use super::{AssessmentState, LeverWriter, LifecycleError};
use crate::config::Settings;
use crate::db::assessments::Assessment;
use crate::db::lever::LeverConnection;
use crate::db::question_choices::QuestionChoice;
use crate::db::withdrawals::{self, Withdrawal};
use crate::db::{self, Db, DbError};
use crate::domain::event_outcome::{LeverWritten, Tagging, WithdrawalOutcome, WithdrawalReport};
use crate::domain::OrgSettings;
use crate::lever::{LeverError, Opportunity};

pub use crate::domain::LeftPipeline;

/// The delivery: which candidate left, and how.
pub struct Leaving<'a> {
    pub org_id: &'a str,
    pub opportunity_id: &'a str,
    pub event_id: &'a str,
    pub left: LeftPipeline,
}

/// What leverbridge holds about the candidate before anything is withdrawn.
pub struct Held {
    assessments: Vec<(Assessment, Withdrawal)>,
    unchosen: Vec<QuestionChoice>,
    known: bool,
    /// The organization's Lever connection, if any.
    pub connection: Option<LeverConnection>,
    settings: OrgSettings,
}

fn state(assessment: &Assessment) -> AssessmentState {
    assessment.state
}

impl Held {
    pub async fn load(db: &Db, leaving: &Leaving<'_>) -> Result<Held, DbError> {
        let (org, opportunity) = (leaving.org_id.to_owned(), leaving.opportunity_id.to_owned());
        let event = leaving.event_id.to_owned();
        db.run(move |conn| -> Result<_, DbError> {
            Ok(Held {
                assessments: withdrawals::for_candidate(conn, &org, &opportunity)?,
                unchosen: db::question_choices::unchosen_for_candidate(conn, &org, &opportunity)?,
                known: withdrawals::knows_candidate(conn, &org, &opportunity, &event)?,
                connection: db::lever::connection(conn, &org)?,
                settings: db::settings::for_org(conn, &org)?,
            })
        })
        .await
    }

    /// The outcome when there is nothing to withdraw and no link to take off, so Lever need
    /// not be asked; `None` when there is work.
    pub fn nothing_to_do(&self, leaving: &Leaving<'_>) -> Option<WithdrawalOutcome> {
        let left = leaving.left;
        if !self.known {
            return Some(WithdrawalOutcome::NothingHeld {
                opportunity_id: leaving.opportunity_id.to_owned(),
            });
        }
        // Withdrawn now, or earlier by a run of this job that stopped before its write-back.
        let to_write = self
            .assessments
            .iter()
            .filter(|(a, w)| {
                w.purged_at.is_none()
                    && (left.withdraws(state(a)) || state(a) == AssessmentState::Cancelled)
            })
            .count();
        // A choice nobody made: waiting now, or withdrawn by an earlier run whose link may be left.
        if left == LeftPipeline::Deleted || to_write > 0 || !self.unchosen.is_empty() {
            return None;
        }
        Some(WithdrawalOutcome::Withdrew(WithdrawalReport {
            left,
            assessments: Vec::new(),
            choices: 0,
            written: None,
            kept: self.assessments.iter().map(|(a, _)| state(a)).collect(),
            erased: None,
        }))
    }
}

/// Withdraws the candidate's unfinished assessments and waiting choices, takes their links off
/// in Lever (and tags the assessments Cancelled), and for a deletion erases what leverbridge
/// holds of them. Lever decides whether the candidate really left.
pub async fn withdraw(
    db: &Db,
    settings: &Settings,
    lever: &LeverWriter<'_>,
    held: &Held,
    leaving: &Leaving<'_>,
) -> Result<WithdrawalOutcome, LifecycleError> {
    let left = leaving.left;
    let seen = match confirm_in_lever(db, lever, leaving).await? {
        Ok(seen) => seen,
        Err(outcome) => return Ok(outcome),
    };
    // The withdrawal itself, stored before Lever is written to: from here on the link shows the
    // withdrawn page and refuses saves.
    let now = settings.tuning.clock.now();
    let emailing = (held.settings.clone(), settings.tuning.job_max_attempts);
    let (assessments, choices) = store(db, leaving, now, emailing).await?;
    let mut gone = seen.is_none();
    if let Some(opportunity) = &seen {
        gone = write_to_lever(db, &settings.public_url, lever, leaving, opportunity).await?;
    }
    let erased = if left == LeftPipeline::Deleted {
        let (org, opportunity) = (leaving.org_id.to_owned(), leaving.opportunity_id.to_owned());
        let erase = move |conn: &mut db::DbConn| {
            db::connection::write_transaction(conn, |conn| {
                withdrawals::erase_candidate(conn, &org, &opportunity, now).map_err(DbError::from)
            })
        };
        Some(db.run(erase).await?)
    } else {
        None
    };
    let tagging = match assessments.is_empty() {
        true => Tagging::NoAssessment,
        false => Tagging::Assessment(held.settings.write_backs.progress_tags),
    };
    Ok(WithdrawalOutcome::Withdrew(WithdrawalReport {
        left,
        assessments,
        choices,
        written: Some(LeverWritten {
            gone,
            cancelled_tag: held.settings.progress_tag(CANCELLED),
            tagging,
            author: lever.author.to_owned(),
        }),
        // A deleted candidate's finished assessments are erased, not kept.
        kept: match left {
            LeftPipeline::Deleted => Vec::new(),
            _ => held
                .assessments
                .iter()
                .map(|(a, _)| state(a))
                .filter(|s| !left.withdraws(*s))
                .collect(),
        },
        erased,
    }))
}

/// The opportunity as Lever shows it (`None`: Lever has it no more), or the outcome when Lever
/// says the candidate did not leave this way. A webhook's `data` is not signed, so Lever
/// decides.
async fn confirm_in_lever(
    db: &Db,
    lever: &LeverWriter<'_>,
    leaving: &Leaving<'_>,
) -> Result<Result<Option<Opportunity>, WithdrawalOutcome>, LifecycleError> {
    let opportunity = match lever.client.get_opportunity(leaving.opportunity_id).await {
        Ok(opportunity) => opportunity,
        Err(LeverError::NotFound { .. }) => return Ok(Ok(None)),
        Err(e) => return Err(e.into()),
    };
    if leaving.left == LeftPipeline::Archived && !opportunity.archived {
        return Ok(Err(WithdrawalOutcome::NotArchivedInLever));
    }
    if leaving.left == LeftPipeline::Deleted {
        return Ok(Err(WithdrawalOutcome::StillInLever {
            opportunity_id: leaving.opportunity_id.to_owned(),
        }));
    }
    if !opportunity.name.is_empty() {
        let (event, name) = (leaving.event_id.to_owned(), opportunity.name.clone());
        db.run(move |conn| {
            db::webhooks::set_candidate_name(conn, &event, &name).map_err(DbError::from)
        })
        .await?;
    }
    Ok(Ok(Some(opportunity)))
}

/// Withdraws, in one transaction, the candidate's assessments `left` withdraws and their
/// waiting choices: the states the assessments were in, and how many choices.
async fn store(
    db: &Db,
    leaving: &Leaving<'_>,
    now: chrono::NaiveDateTime,
    (settings, attempts): (OrgSettings, i32),
) -> Result<(Vec<AssessmentState>, usize), DbError> {
    let (org, opportunity, left) = (
        leaving.org_id.to_owned(),
        leaving.opportunity_id.to_owned(),
        leaving.left,
    );
    db.run(move |conn| {
        db::connection::write_transaction(conn, |conn| -> Result<_, DbError> {
            let mut assessments = Vec::new();
            for (a, _) in withdrawals::for_candidate(conn, &org, &opportunity)? {
                let from = state(&a);
                if left.withdraws(from)
                    && withdrawals::withdraw(conn, &a.id, from, left.as_str(), now)?
                {
                    if left != LeftPipeline::Deleted {
                        super::emails::queue_withdrawal(conn, &a, &settings, attempts)?;
                    }
                    assessments.push(from);
                }
            }
            let mut choices = 0;
            for choice in db::question_choices::unchosen_for_candidate(conn, &org, &opportunity)? {
                if db::question_choices::withdraw(conn, &choice.id, left.as_str(), now)? {
                    choices += 1;
                }
            }
            Ok((assessments, choices))
        })
    })
    .await
}

/// Lever: each withdrawn choice's link off; the link off and the Cancelled tag on, for each
/// withdrawn assessment. `true` when Lever turned out to have the opportunity no more.
async fn write_to_lever(
    db: &Db,
    public_url: &url::Url,
    lever: &LeverWriter<'_>,
    leaving: &Leaving<'_>,
    opportunity: &Opportunity,
) -> Result<bool, LifecycleError> {
    let (slug, records, choices) = withdrawn_in_lever(db, leaving).await?;
    // Only links Lever still shows: one removed by an earlier run is not asked again.
    let links: Vec<String> = choices
        .iter()
        .map(|id| choice_link(public_url, &slug, id))
        .collect();
    match remove_choice_links(lever.client, opportunity, &links, lever.perform_as).await {
        Ok(()) => {}
        Err(LeverError::NotFound { .. }) => return Ok(true),
        Err(e) => return Err(e.into()),
    }
    for record in records {
        let record = Arc::new(record);
        let written = progress_write_back::write_for_org(
            db,
            public_url,
            lever.client,
            &record,
            &slug,
            lever.perform_as,
        )
        .await;
        match written {
            Ok(()) => {}
            // Deleted meanwhile: its own delivery erases the rest.
            Err(ResultError::Lever(LeverError::NotFound { .. })) => return Ok(true),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(false)
}

/// The organization's short name, the withdrawn assessments still to write back and the
/// withdrawn choices whose links may be in Lever.
async fn withdrawn_in_lever(
    db: &Db,
    leaving: &Leaving<'_>,
) -> Result<(String, Vec<AssessmentRecord>, Vec<String>), DbError> {
    let (org, opportunity_id) = (leaving.org_id.to_owned(), leaving.opportunity_id.to_owned());
    db.run(move |conn| -> Result<_, DbError> {
        let slug = db::orgs::find(conn, &org)?
            .map(|o| o.slug)
            .unwrap_or_default();
        let mut records = Vec::new();
        for (a, w) in withdrawals::for_candidate(conn, &org, &opportunity_id)? {
            if state(&a) == AssessmentState::Cancelled && w.purged_at.is_none() {
                records.extend(record::load(conn, &org, &a.id)?);
            }
        }
        let choices: Vec<String> =
            db::question_choices::unchosen_for_candidate(conn, &org, &opportunity_id)?
                .into_iter()
                .filter(|c| c.withdrawn_at.is_some())
                .map(|c| c.id)
                .collect();
        Ok((slug, records, choices))
    })
    .await
}
