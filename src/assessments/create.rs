//! Creating an assessment for a candidate that a configuration fired for: once per opportunity
//! and configuration, with a copy of its question and, for a take-home test, the terms it is
//! sent with.

use chrono::NaiveDateTime;

use super::{AssessmentState, TakeHomeTerms};
use crate::db::assessments::Assessment;
use crate::db::configurations::Configuration;
use crate::db::{self, DbConn};
use crate::domain::{OrgSettings, PadKind};

/// Who the assessment is for, and what caused it.
pub struct For<'a> {
    pub opportunity_id: &'a str,
    pub candidate_name: &'a str,
    /// The delivery that fired the configuration.
    pub event_id: &'a str,
    /// The library question it asks: the configuration's, the posting's or the recruiter's.
    pub question_id: Option<&'a str>,
}

/// Creates the assessment unless one exists for this opportunity and configuration; returns
/// the one that stands, and whether it is new. Call it inside a write transaction.
pub fn create_once(
    conn: &mut DbConn,
    configuration: &Configuration,
    who: For<'_>,
    settings: &OrgSettings,
    now: NaiveDateTime,
) -> diesel::QueryResult<(Assessment, bool)> {
    if let Some(existing) =
        db::assessments::for_opportunity(conn, &configuration.id, who.opportunity_id)?
    {
        return Ok((existing, false));
    }
    // Take-home tests carry their terms (from Settings) from the moment they are sent, so a later
    // change of Settings does not move a deadline already given; live pads have no clock.
    let terms = TakeHomeTerms {
        time_limit_minutes: settings.time_limit_minutes as i32,
        days_to_start: settings.days_to_start as i32,
    };
    let take_home = PadKind::parse(&configuration.pad_kind) == Ok(PadKind::TakeHome);
    let mut new = Assessment {
        id: db::new_id(),
        org_id: configuration.org_id.clone(),
        configuration_id: configuration.id.clone(),
        opportunity_id: who.opportunity_id.to_owned(),
        candidate_name: who.candidate_name.to_owned(),
        token: crate::crypto::random_token(32),
        pad_kind: configuration.pad_kind.clone(),
        question_title: None,
        question_prompt: None,
        // Empty when the configuration needs no tag.
        tag_name: configuration.tag_name.clone().unwrap_or_default(),
        state: AssessmentState::Invited,
        event_id: who.event_id.to_owned(),
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
    // A copy: editing the question later leaves the assessments already sent alone.
    let mut asked = None;
    if let Some(id) = who.question_id {
        if let Some(question) = db::questions::find(conn, &new.org_id, id)? {
            new.question_title = Some(question.title);
            new.question_prompt = Some(question.prompt);
            new.question_language = question.language;
            new.starter_code = question.starter_code;
            asked = Some(question.id);
        }
    }
    let (assessment, created) = db::assessments::create_once(conn, &new)?;
    // Its test cases are copied with it, for the same reason.
    if let (true, Some(question_id)) = (created, asked) {
        db::cases::copy_to_assessment(conn, &question_id, &assessment.id)?;
    }
    Ok((assessment, created))
}
