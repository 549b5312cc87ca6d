//! Recruiter's choice: candidates who reached a trigger and wait for a member of the
//! organization to pick their question. The assessment is created once it is picked.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::question_choices;
use super::DbConn;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = question_choices)]
pub struct QuestionChoice {
    pub id: String,
    pub org_id: String,
    pub configuration_id: String,
    pub opportunity_id: String,
    pub candidate_name: String,
    /// The delivery that brought the candidate to the trigger.
    pub event_id: String,
    pub created_at: NaiveDateTime,
    /// The assessment created when the question was chosen.
    pub assessment_id: Option<String>,
    /// Who chose it (an e-mail address) and when.
    pub chosen_by: Option<String>,
    pub chosen_at: Option<NaiveDateTime>,
    /// Set when the candidate left the pipeline in Lever before anyone chose.
    pub withdrawn_at: Option<NaiveDateTime>,
    /// `archived`, `hired` or `deleted` (a [`crate::domain::LeftPipeline`]).
    pub withdraw_reason: Option<String>,
}

/// Creates the choice unless one exists for this opportunity and configuration; returns the
/// one that stands, and whether it is new.
pub fn create_once(conn: &mut DbConn, new: &QuestionChoice) -> QueryResult<(QuestionChoice, bool)> {
    if let Some(existing) = for_opportunity(conn, &new.configuration_id, &new.opportunity_id)? {
        return Ok((existing, false));
    }
    diesel::insert_into(question_choices::table)
        .values(new)
        .execute(conn)?;
    Ok((new.clone(), true))
}

pub fn for_opportunity(
    conn: &mut DbConn,
    configuration_id: &str,
    opportunity_id: &str,
) -> QueryResult<Option<QuestionChoice>> {
    question_choices::table
        .filter(question_choices::configuration_id.eq(configuration_id))
        .filter(question_choices::opportunity_id.eq(opportunity_id))
        .select(QuestionChoice::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut DbConn, org_id: &str, id: &str) -> QueryResult<Option<QuestionChoice>> {
    question_choices::table
        .filter(question_choices::org_id.eq(org_id))
        .filter(question_choices::id.eq(id))
        .select(QuestionChoice::as_select())
        .first(conn)
        .optional()
}

/// The organization's choices for the opportunity that nobody made, withdrawn or still waiting,
/// oldest first.
pub fn unchosen_for_candidate(
    conn: &mut DbConn,
    org_id: &str,
    opportunity_id: &str,
) -> QueryResult<Vec<QuestionChoice>> {
    question_choices::table
        .filter(question_choices::org_id.eq(org_id))
        .filter(question_choices::opportunity_id.eq(opportunity_id))
        .filter(question_choices::chosen_at.is_null())
        .order((
            question_choices::created_at.asc(),
            question_choices::id.asc(),
        ))
        .select(QuestionChoice::as_select())
        .load(conn)
}

/// Withdraws choice `id` if nobody chose it and it is not withdrawn already; returns whether it
/// was (a member choosing at the same moment wins or loses as a whole, as in `record_choice`).
pub fn withdraw(conn: &mut DbConn, id: &str, reason: &str, at: NaiveDateTime) -> QueryResult<bool> {
    let updated = diesel::update(
        question_choices::table
            .filter(question_choices::id.eq(id))
            .filter(question_choices::chosen_at.is_null())
            .filter(question_choices::withdrawn_at.is_null()),
    )
    .set((
        question_choices::withdrawn_at.eq(Some(at)),
        question_choices::withdraw_reason.eq(Some(reason)),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Claims choice `id` for `chosen_by` at `at`; `false` when someone chose first or it was
/// withdrawn. Call it before creating the assessment, in the same write transaction: on
/// PostgreSQL the update locks the row, so a withdrawal or another member's choice at the same
/// moment waits for this transaction and then finds the choice made.
pub fn claim(conn: &mut DbConn, id: &str, chosen_by: &str, at: NaiveDateTime) -> QueryResult<bool> {
    let updated = diesel::update(
        question_choices::table
            .filter(question_choices::id.eq(id))
            .filter(question_choices::chosen_at.is_null())
            .filter(question_choices::withdrawn_at.is_null()),
    )
    .set((
        question_choices::chosen_by.eq(Some(chosen_by)),
        question_choices::chosen_at.eq(Some(at)),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// The assessment created for claimed choice `id`.
pub fn set_assessment(conn: &mut DbConn, id: &str, assessment_id: &str) -> QueryResult<()> {
    diesel::update(question_choices::table.filter(question_choices::id.eq(id)))
        .set(question_choices::assessment_id.eq(Some(assessment_id)))
        .execute(conn)
        .map(drop)
}
