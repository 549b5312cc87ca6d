//! A candidate was archived, hired or deleted in Lever: withdraw their unfinished assessments,
//! take the link off the candidate and mark them `{prefix}: Cancelled` in Lever; withdraw a
//! recruiter's choice still waiting for its question and take its link off too; for a deletion,
//! erase what leverbridge holds of them ([`crate::assessments::withdrawal`] says what is
//! withdrawn and why).
//!
//! A webhook's `data` is not signed, so Lever decides: an archive is acted on only while Lever
//! shows the candidate archived, and a deletion only once Lever answers 404 for the opportunity.
//! (A hire cannot be seen through the API, so its signed delivery is trusted.) The withdrawal is
//! stored before anything is written to Lever, and each write-back step is recorded once done,
//! so a rerun writes nothing twice.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::stage_change::{lever_failure, retry_db};
use crate::assessments::progress_write_back::CANCELLED;
use crate::assessments::question_choice::{choice_link, remove_choice_links};
use crate::assessments::record;
use crate::assessments::result_write_back::ResultError;
use crate::assessments::withdrawal::LeftPipeline;
use crate::assessments::AssessmentState;
use crate::db::withdrawals::{self, Erased};
use crate::db::{self, DbError};
use crate::lever::LeverError;
use crate::queue::{writable_connection, JobFailure, Run};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Payload {
    pub opportunity_id: String,
    /// A [`LeftPipeline`]: `archived`, `hired` or `deleted`.
    pub left: String,
}

pub async fn run(run: &Run<'_>) -> Result<(), JobFailure> {
    let jobs = run.ctx;
    let payload: Payload = serde_json::from_str(&run.job.payload)
        .map_err(|e| JobFailure::Retry(format!("the job's payload is unreadable: {e}")))?;
    let left = LeftPipeline::parse(&payload.left).ok_or_else(|| {
        JobFailure::Retry(format!(
            "unknown way to leave the pipeline “{}”",
            payload.left
        ))
    })?;
    let event_id = run.job.event_id.clone().unwrap_or_default();
    let (org_id, opportunity_id) = (run.job.org_id.clone(), payload.opportunity_id.clone());
    let settle = |status: &'static str, outcome: String| {
        let event_id = event_id.clone();
        async move {
            jobs.db
                .run(move |conn| {
                    db::webhooks::set_outcome(conn, &event_id, status, &outcome, None)
                        .map_err(DbError::from)
                })
                .await
                .map_err(retry_db)
        }
    };

    let (held, unchosen, known, connection, settings) = {
        let (org, opportunity, event) = (org_id.clone(), opportunity_id.clone(), event_id.clone());
        jobs.db
            .run(move |conn| -> Result<_, DbError> {
                let held = withdrawals::for_candidate(conn, &org, &opportunity)?;
                let unchosen =
                    db::question_choices::unchosen_for_candidate(conn, &org, &opportunity)?;
                let known = withdrawals::knows_candidate(conn, &org, &opportunity, &event)?;
                let connection = db::lever::connection(conn, &org)?;
                let settings = db::settings::for_org(conn, &org)?;
                Ok((held, unchosen, known, connection, settings))
            })
            .await
            .map_err(retry_db)?
    };
    let state = |a: &db::assessments::Assessment| {
        AssessmentState::parse(&a.state).unwrap_or(AssessmentState::Cancelled)
    };
    if !known {
        return settle(
            "ignored",
            format!(
                "leverbridge holds nothing about opportunity {opportunity_id}: no assessment was created for this candidate (none fired, or not yet); nothing was written."
            ),
        )
        .await;
    }
    // Withdrawn now, or earlier by a run of this job that stopped before its write-back.
    let to_write = |held: &[(db::assessments::Assessment, withdrawals::Withdrawal)]| {
        held.iter()
            .filter(|(a, w)| {
                w.purged_at.is_none()
                    && (left.withdraws(state(a)) || state(a) == AssessmentState::Cancelled)
            })
            .count()
    };
    // A choice nobody made: waiting now, or withdrawn by an earlier run whose link may be left.
    if left != LeftPipeline::Deleted && to_write(&held) == 0 && unchosen.is_empty() {
        let states: Vec<AssessmentState> = held.iter().map(|(a, _)| state(a)).collect();
        let nothing = Withdrawn::default();
        return settle(
            "ignored",
            outcome(left, &nothing, &states, String::new(), None),
        )
        .await;
    }

    let (connection, perform_as) = writable_connection(connection)?;
    let client = run.client(&connection).await?;
    let seen = match client.get_opportunity(&opportunity_id).await {
        Ok(opportunity) => {
            if left == LeftPipeline::Archived && !opportunity.archived {
                return settle(
                    "ignored",
                    "Lever shows the candidate not archived (restored since?), and a webhook's data is not signed, so Lever decides; nothing was withdrawn.".into(),
                )
                .await;
            }
            if left == LeftPipeline::Deleted {
                return settle(
                    "ignored",
                    format!(
                        "Lever still shows opportunity {opportunity_id}, and a webhook's data is not signed, so Lever decides; nothing was withdrawn or erased."
                    ),
                )
                .await;
            }
            if !opportunity.name.is_empty() {
                let (event, name) = (event_id.clone(), opportunity.name.clone());
                jobs.db
                    .run(move |conn| {
                        db::webhooks::set_candidate_name(conn, &event, &name).map_err(DbError::from)
                    })
                    .await
                    .map_err(retry_db)?;
            }
            Some(opportunity)
        }
        Err(LeverError::NotFound { .. }) => None,
        Err(e) => return Err(lever_failure(run, &connection, e).await),
    };
    let gone = seen.is_none();

    // The withdrawal itself, stored before Lever is written to: from here on the link shows the
    // withdrawn page and refuses saves.
    let now = jobs.settings.tuning.clock.now();
    let withdrawn: Withdrawn = {
        let (org, opportunity) = (org_id.clone(), opportunity_id.clone());
        jobs.db
            .run(move |conn| {
                db::connection::write_transaction(conn, |conn| -> Result<_, DbError> {
                    let mut withdrawn = Withdrawn::default();
                    for (a, _) in withdrawals::for_candidate(conn, &org, &opportunity)? {
                        let from = state(&a);
                        if left.withdraws(from)
                            && withdrawals::withdraw(conn, &a.id, from, left.as_str(), now)?
                        {
                            withdrawn.assessments.push(from);
                        }
                    }
                    for choice in
                        db::question_choices::unchosen_for_candidate(conn, &org, &opportunity)?
                    {
                        if db::question_choices::withdraw(conn, &choice.id, left.as_str(), now)? {
                            withdrawn.choices += 1;
                        }
                    }
                    Ok(withdrawn)
                })
            })
            .await
            .map_err(retry_db)?
    };

    // Lever: each withdrawn choice's link off; the link off and the Cancelled tag on, for each
    // withdrawn assessment.
    let mut lever_gone = gone;
    if let Some(opportunity) = &seen {
        let (org, opportunity_id) = (org_id.clone(), opportunity_id.clone());
        let records = jobs
            .db
            .run(move |conn| -> Result<_, DbError> {
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
            .map_err(retry_db)?;
        let (slug, records, choices) = records;
        // Only links Lever still shows: one removed by an earlier run is not asked again.
        let links: Vec<String> = choices
            .iter()
            .map(|id| choice_link(&jobs.settings.public_url, &slug, id))
            .collect();
        match remove_choice_links(&client, opportunity, &links, &perform_as).await {
            Ok(()) => {}
            Err(LeverError::NotFound { .. }) => lever_gone = true,
            Err(e) => return Err(lever_failure(run, &connection, e).await),
        }
        for record in records.into_iter().filter(|_| !lever_gone) {
            let record = Arc::new(record);
            match super::progress_write_back::write(run, &client, &record, &slug, &perform_as).await
            {
                Ok(()) => {}
                // Deleted meanwhile: its own delivery erases the rest.
                Err(ResultError::Lever(LeverError::NotFound { .. })) => {
                    lever_gone = true;
                    break;
                }
                Err(ResultError::Lever(e)) => return Err(lever_failure(run, &connection, e).await),
                Err(ResultError::Database(e)) => return Err(retry_db(e)),
                Err(e @ (ResultError::Report(_) | ResultError::Refused { .. })) => {
                    return Err(JobFailure::Park(e.to_string()))
                }
            }
        }
    }

    let erased = if left == LeftPipeline::Deleted {
        let (org, opportunity) = (org_id.clone(), opportunity_id.clone());
        Some(
            jobs.db
                .run(move |conn| {
                    db::connection::write_transaction(conn, |conn| {
                        withdrawals::erase_candidate(conn, &org, &opportunity, now)
                            .map_err(DbError::from)
                    })
                })
                .await
                .map_err(retry_db)?,
        )
    } else {
        None
    };

    let author = connection.default_user_name.clone().unwrap_or(perform_as);
    // A deleted candidate's finished assessments are erased, not kept.
    let kept: Vec<AssessmentState> = match left {
        LeftPipeline::Deleted => Vec::new(),
        _ => held
            .iter()
            .map(|(a, _)| state(a))
            .filter(|s| !left.withdraws(*s))
            .collect(),
    };
    let outcome = outcome(
        left,
        &withdrawn,
        &kept,
        lever_written(
            lever_gone,
            &settings.progress_tag(CANCELLED),
            if withdrawn.assessments.is_empty() {
                Tagging::NoAssessment
            } else {
                Tagging::Assessment(settings.write_backs.progress_tags)
            },
            &author,
        ),
        erased.as_ref(),
    );
    let status = if withdrawn.is_empty() && erased.is_none() {
        "ignored"
    } else {
        "withdrawn"
    };
    settle(status, outcome).await
}

/// What one run withdrew: assessments (by the state they were in) and recruiter's choices.
#[derive(Debug, Default)]
struct Withdrawn {
    assessments: Vec<AssessmentState>,
    choices: usize,
}

impl Withdrawn {
    fn is_empty(&self) -> bool {
        self.assessments.is_empty() && self.choices == 0
    }
}

/// What a withdrawal asks of Lever besides taking links off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tagging {
    /// Only recruiter's choices were withdrawn: they carry no progress tag.
    NoAssessment,
    /// An assessment was withdrawn; progress tags are on (true) or off on the Settings page.
    Assessment(bool),
}

/// What was written to Lever, in words.
fn lever_written(gone: bool, cancelled_tag: &str, tagging: Tagging, author: &str) -> String {
    match tagging {
        _ if gone => "Lever no longer has the opportunity, so nothing was written there".into(),
        Tagging::Assessment(true) => {
            format!("its link removed and the tag “{cancelled_tag}” written in Lever as {author}")
        }
        Tagging::Assessment(false) => format!("its link removed in Lever as {author} (progress tags are switched off on the Settings page)"),
        Tagging::NoAssessment => format!("its link removed in Lever as {author}"),
    }
}

/// The event's outcome: what was withdrawn, what was kept, what Lever got, what was erased.
fn outcome(
    left: LeftPipeline,
    withdrawn: &Withdrawn,
    kept: &[AssessmentState],
    written: String,
    erased: Option<&Erased>,
) -> String {
    let mut text = capitalise(left.because());
    let mut what = Vec::new();
    if !withdrawn.assessments.is_empty() {
        let was: Vec<String> = withdrawn
            .assessments
            .iter()
            .map(|s| s.label().to_lowercase())
            .collect();
        what.push(format!(
            "{} withdrawn (it was {})",
            count(withdrawn.assessments.len(), "assessment", "assessments"),
            was.join(", ")
        ));
    }
    if withdrawn.choices > 0 {
        what.push(format!(
            "{} withdrawn before a member chose the question",
            count(
                withdrawn.choices,
                "recruiter's choice",
                "recruiter's choices"
            ),
        ));
    }
    if what.is_empty() {
        text.push_str(": nothing was left to withdraw");
    } else {
        text.push_str(&format!(": {}; {written}", what.join(", and ")));
    }
    text.push('.');
    if !kept.is_empty() {
        let kept: Vec<String> = kept.iter().map(|s| kept_as(*s)).collect();
        text.push_str(&format!(" Kept: {}.", kept.join(", ")));
    }
    if let Some(erased) = erased {
        let mut what = Vec::new();
        if erased.assessments > 0 {
            what.push(format!(
                "the name, score and saves ({}) of {}",
                count(erased.saves, "save", "saves"),
                count(erased.assessments, "assessment", "assessments"),
            ));
        }
        if erased.choices > 0 {
            what.push(format!(
                "the name on {}",
                count(erased.choices, "recruiter's choice", "recruiter's choices")
            ));
        }
        what.push(format!(
            "the details of {}",
            count(erased.deliveries, "delivery", "deliveries")
        ));
        let last = what.pop().unwrap_or_default();
        let erased = if what.is_empty() {
            last
        } else {
            format!("{}, and {last}", what.join(", "))
        };
        text.push_str(&format!(" Erased from leverbridge: {erased}."));
    }
    text
}

/// A finished or kept assessment's state, in words.
fn kept_as(state: AssessmentState) -> String {
    match state {
        AssessmentState::Submitted => "submitted (kept, so it can still be scored)".into(),
        AssessmentState::Cancelled => "withdrawn already".into(),
        other => other.label().to_lowercase(),
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outcome_says_what_was_withdrawn_kept_and_erased() {
        let started = Withdrawn {
            assessments: vec![AssessmentState::Started],
            choices: 0,
        };
        let text = outcome(
            LeftPipeline::Archived,
            &started,
            &[AssessmentState::Submitted],
            lever_written(false, "lb: Cancelled", Tagging::Assessment(true), "Bot"),
            None,
        );
        assert_eq!(
            text,
            "The candidate was archived in Lever: 1 assessment withdrawn (it was in progress); \
             its link removed and the tag “lb: Cancelled” written in Lever as Bot. \
             Kept: submitted (kept, so it can still be scored)."
        );
        let erased = Erased {
            assessments: 2,
            saves: 3,
            deliveries: 1,
            choices: 0,
        };
        let text = outcome(
            LeftPipeline::Deleted,
            &Withdrawn::default(),
            &[],
            lever_written(true, "x", Tagging::Assessment(true), "Bot"),
            Some(&erased),
        );
        assert!(text.starts_with("The candidate was deleted in Lever: nothing was left to withdraw. Erased from leverbridge: the name, score and saves (3 saves) of 2 assessments, and the details of 1 delivery."), "{text}");
        let waiting = Withdrawn {
            assessments: Vec::new(),
            choices: 1,
        };
        let text = outcome(
            LeftPipeline::Hired,
            &waiting,
            &[],
            lever_written(false, "x", Tagging::NoAssessment, "Bot"),
            None,
        );
        assert_eq!(
            text,
            "The candidate was hired in Lever: 1 recruiter's choice withdrawn before a member \
             chose the question; its link removed in Lever as Bot."
        );
        let only_a_choice = Erased {
            assessments: 0,
            saves: 0,
            deliveries: 2,
            choices: 1,
        };
        let text = outcome(
            LeftPipeline::Deleted,
            &waiting,
            &[],
            lever_written(true, "x", Tagging::NoAssessment, "Bot"),
            Some(&only_a_choice),
        );
        assert!(text.ends_with("so nothing was written there. Erased from leverbridge: the name on 1 recruiter's choice, and the details of 2 deliveries."), "{text}");
    }
}
