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
use crate::lever::{LeverClient, LeverError, Opportunity};
use crate::queue::{self, NewJob};

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

/// Takes the choice links `links` off the opportunity where Lever (as just read) still shows
/// them: after the choice, or once the choice was withdrawn.
pub async fn remove_choice_links(
    client: &LeverClient,
    opportunity: &Opportunity,
    links: &[String],
    perform_as: &str,
) -> Result<(), LeverError> {
    let shown: Vec<String> = links
        .iter()
        .filter(|l| opportunity.links.contains(l))
        .cloned()
        .collect();
    if !shown.is_empty() {
        client
            .remove_links(&opportunity.id, &shown, perform_as)
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
    /// The candidate was archived, hired or deleted in Lever before anyone chose: nothing may
    /// be sent to them.
    Withdrawn,
}

impl Refused {
    /// Why `choice` can no longer be made, if it cannot.
    pub fn of(choice: &QuestionChoice) -> Option<Refused> {
        if choice.withdrawn_at.is_some() {
            Some(Refused::Withdrawn)
        } else if choice.chosen_at.is_some() {
            Some(Refused::AlreadyChosen)
        } else {
            None
        }
    }
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
    if let Some(refused) = Refused::of(choice) {
        return Ok(Err(refused));
    }
    if !db::question_choices::claim(conn, &choice.id, by, now)? {
        // Lost to a withdrawal or another member at the same moment: theirs stands.
        let now_stands = db::question_choices::find(conn, &choice.org_id, &choice.id)?;
        return Ok(Err(now_stands
            .as_ref()
            .and_then(Refused::of)
            .unwrap_or(Refused::AlreadyChosen)));
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
    db::question_choices::set_assessment(conn, &choice.id, &assessment.id)?;
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
    let job =
        NewJob::of(&assessment.org_id, &payload, max_attempts).for_event(Some(&choice.event_id));
    queue::enqueue(conn, &job)?;
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
) -> Result<(), write_back::StepError> {
    remove_choice_links(client, seen, &[choice_link.to_owned()], perform_as).await?;
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
