//! Recruiter's choice (CodeSignal): when such a configuration fires, the link written to Lever
//! opens a page where a signed-in member of the organization picks the question. Only then is
//! the assessment created and the candidate invited; the choice link in Lever is replaced by
//! the candidate's link.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::create::{self, For};
use super::write_back::{self, Steps};
use crate::db::assessments::Assessment;
use crate::db::configurations::Configuration;
use crate::db::question_choices::QuestionChoice;
use crate::db::questions::Question;
use crate::db::{self, Db, DbConn};
use crate::domain::OrgSettings;
use crate::jobs::{self, JobKind, NewJob};
use crate::lever::{LeverClient, LeverError, Opportunity};

/// The page a choice link opens: `{public URL}/orgs/{slug}/choose/{choice id}`.
pub fn choice_link(public_url: &url::Url, org_slug: &str, choice_id: &str) -> String {
    format!(
        "{}/orgs/{org_slug}/choose/{choice_id}",
        public_url.as_str().trim_end_matches('/')
    )
}

/// Puts the choice link on the opportunity unless Lever already shows it. The link is the
/// only way to the choice, so it is written whatever Settings says about the candidate's link.
pub async fn write_choice_link(
    client: &LeverClient,
    opportunity: &Opportunity,
    link: &str,
    perform_as: &str,
) -> Result<(), LeverError> {
    if !opportunity.links.iter().any(|l| l == link) {
        client
            .add_links(&opportunity.id, &[link.to_owned()], perform_as)
            .await?;
    }
    Ok(())
}

/// The job queued when a question is chosen.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Payload {
    pub choice_id: String,
    pub assessment_id: String,
}

/// Why a choice was not taken.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Somebody chose first; the assessment they created stands.
    AlreadyChosen,
}

/// `by` (an e-mail address) chose `question` for `choice`: creates the assessment, records who
/// chose, and queues its invitation write-back, in the caller's write transaction.
#[allow(clippy::too_many_arguments)]
pub fn choose(
    conn: &mut DbConn,
    choice: &QuestionChoice,
    configuration: &Configuration,
    question: &Question,
    by: &str,
    settings: &OrgSettings,
    now: NaiveDateTime,
    max_attempts: i32,
) -> Result<Result<Assessment, Refused>, diesel::result::Error> {
    if choice.chosen_at.is_some() {
        return Ok(Err(Refused::AlreadyChosen));
    }
    let (assessment, _) = create::create_once(
        conn,
        configuration,
        For {
            opportunity_id: &choice.opportunity_id,
            candidate_name: &choice.candidate_name,
            event_id: &choice.event_id,
            question_id: Some(&question.id),
        },
        settings,
        now,
    )?;
    if !db::question_choices::record_choice(conn, &choice.id, &assessment.id, by, now)? {
        return Ok(Err(Refused::AlreadyChosen));
    }
    db::assessment_history::record(
        conn,
        &assessment.id,
        "question_chosen",
        now,
        &format!(
            "Question “{}” chosen by {by} (recruiter's choice)",
            question.title
        ),
    )?;
    let payload = Payload {
        choice_id: choice.id.clone(),
        assessment_id: assessment.id.clone(),
    };
    jobs::enqueue(
        conn,
        &NewJob {
            org_id: &assessment.org_id,
            kind: JobKind::QuestionChosen,
            payload: serde_json::to_value(payload).expect("a payload of strings serialises"),
            event_id: Some(&choice.event_id),
            max_attempts,
        },
    )?;
    Ok(Ok(assessment))
}

/// After the choice: the choice link leaves Lever and the invitation is written (link,
/// progress tag and note, per Settings). `seen` is the opportunity as just read.
#[allow(clippy::too_many_arguments)]
pub async fn invite(
    db: &Db,
    client: &LeverClient,
    assessment: &Assessment,
    choice_link: &str,
    candidate_link: &str,
    perform_as: &str,
    seen: &Opportunity,
    settings: &OrgSettings,
) -> Result<(), LeverError> {
    if seen.links.iter().any(|l| l == choice_link) {
        client
            .remove_links(&seen.id, &[choice_link.to_owned()], perform_as)
            .await?;
    }
    write_back::invite(
        db,
        client,
        assessment,
        candidate_link,
        perform_as,
        seen,
        settings,
        Steps::Pending,
    )
    .await
}
