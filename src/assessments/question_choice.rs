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
use crate::db::{self, Db, DbConn, DbError};
use crate::domain::event_outcome::QuestionChosen;
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

/// The reference written into a choice's note, by which a rerun recognises it.
pub fn choice_note_reference(choice: &QuestionChoice) -> String {
    format!("leverbridge choice ref {}", choice.id)
}

/// The note beside a choice link, saying what the link is for: a bare link in Lever does not.
pub fn choice_note_text(choice: &QuestionChoice, pad: &str, link: &str) -> String {
    format!(
        "leverbridge: choose the assessment for {name}. A {pad} is waiting for a member of your team to pick its question: open {link} (sign in to leverbridge). {name} is invited once it is chosen, and this link then comes off the profile.\n{reference}",
        name = choice.candidate_name,
        reference = choice_note_reference(choice),
    )
}

/// Writes the note explaining the choice link, once (found again by its reference), when
/// Settings writes notes.
pub async fn write_choice_note(
    client: &LeverClient,
    opportunity: &Opportunity,
    (choice, pad, link): (&QuestionChoice, &str, &str),
    settings: &OrgSettings,
    perform_as: &str,
) -> Result<(), LeverError> {
    if !settings.write_backs.note {
        return Ok(());
    }
    let reference = choice_note_reference(choice);
    let notes = client.list_notes(&opportunity.id).await?;
    if notes.iter().any(|n| n.body().contains(&reference)) {
        return Ok(());
    }
    let note = crate::lever::NewNote {
        value: choice_note_text(choice, pad, link),
        score: None,
        secret: false,
        notify_followers: settings.notify_followers,
    };
    client
        .create_note(&opportunity.id, note, perform_as)
        .await?;
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
pub struct QuestionChosenJob {
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
    let payload = QuestionChosenJob {
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

/// What a made choice's invitation is written from.
pub struct Chosen {
    assessment: Assessment,
    choice: QuestionChoice,
    slug: String,
    /// The organization's Lever connection, if any.
    pub connection: Option<crate::db::lever::LeverConnection>,
    settings: OrgSettings,
}

impl Chosen {
    /// `None` when the candidate's data was purged: there is nothing left to write.
    pub async fn load(
        db: &Db,
        org_id: &str,
        payload: &QuestionChosenJob,
    ) -> Result<Option<Chosen>, DbError> {
        let (org, id, choice_id) = (
            org_id.to_owned(),
            payload.assessment_id.clone(),
            payload.choice_id.clone(),
        );
        db.run(move |conn| -> Result<_, DbError> {
            let (Some(assessment), Some(choice)) = (
                db::assessments::find(conn, &org, &id)?,
                db::question_choices::find(conn, &org, &choice_id)?,
            ) else {
                return Ok(None);
            };
            Ok(Some(Chosen {
                assessment,
                choice,
                slug: db::orgs::find(conn, &org)?
                    .map(|o| o.slug)
                    .unwrap_or_default(),
                connection: db::lever::connection(conn, &org)?,
                settings: db::settings::for_org(conn, &org)?,
            }))
        })
        .await
    }

    /// The delivery the choice came from, where its outcome goes.
    pub fn event_id(&self) -> &str {
        &self.choice.event_id
    }
}

/// After the choice: the choice link leaves Lever, the invitation email is queued (once) and
/// the invitation written. `None` when there is nothing to tell the delivery: Lever has the
/// opportunity no more, or the choice was withdrawn before this ran (only its link comes off).
pub async fn write_invitation(
    db: &Db,
    settings: &crate::config::Settings,
    lever: &super::LeverWriter<'_>,
    chosen: &Chosen,
) -> Result<Option<QuestionChosen>, super::LifecycleError> {
    let (assessment, client) = (&chosen.assessment, lever.client);
    let opportunity = match client.get_opportunity(&assessment.opportunity_id).await {
        Ok(opportunity) => opportunity,
        Err(LeverError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let public = &settings.public_url;
    let chooser = choice_link(public, &chosen.slug, &chosen.choice.id);
    // Withdrawn (the candidate archived, hired or deleted in Lever) before this job ran: no
    // invitation; only the choice link, which no longer leads anywhere, comes off.
    if assessment.state == super::AssessmentState::Cancelled {
        return match remove_choice_links(client, &opportunity, &[chooser], lever.perform_as).await {
            Ok(()) | Err(LeverError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        };
    }
    queue_invitation_once(
        db,
        assessment,
        &opportunity,
        &chosen.settings,
        settings.tuning.job_max_attempts,
    )
    .await?;
    let link = super::link(public, &assessment.token);
    let invited = invite(
        db,
        client,
        assessment,
        &chooser,
        &link,
        lever.perform_as,
        &opportunity,
        &chosen.settings,
    )
    .await;
    match invited {
        Ok(()) | Err(write_back::StepError::Lever(LeverError::NotFound { .. })) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Some(QuestionChosen {
        question: assessment.question_title.clone().unwrap_or_default(),
        chosen_by: chosen.choice.chosen_by.clone(),
        candidate: assessment.candidate_name.clone(),
        invite_steps: write_back::invite_summary(&chosen.settings.write_backs),
        author: lever.author.to_owned(),
        configuration_id: assessment.configuration_id.clone(),
    }))
}

/// The invitation email, once: queued the first time the write-back gets this far.
async fn queue_invitation_once(
    db: &Db,
    assessment: &Assessment,
    opportunity: &Opportunity,
    settings: &OrgSettings,
    attempts: i32,
) -> Result<(), DbError> {
    let (stored, recipient, settings) = (
        assessment.clone(),
        opportunity.emails.first().cloned(),
        settings.clone(),
    );
    db.run(move |conn| {
        db::connection::write_transaction(conn, |conn| {
            let sent = db::emails::for_assessment(conn, &stored.id)?;
            if !sent
                .iter()
                .any(|e| e.kind() == db::emails::EmailKind::Invitation)
            {
                super::emails::queue_invitation(
                    conn,
                    &stored,
                    recipient.as_deref(),
                    &settings,
                    attempts,
                )?;
            }
            Ok::<_, diesel::result::Error>(())
        })
        .map_err(DbError::from)
    })
    .await
}
