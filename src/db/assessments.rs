//! Assessments, and the write-back steps already completed in Lever for each.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{assessment_step_attempts, assessment_steps, assessments};
use super::DbConn;
use crate::domain::AssessmentState;
use crate::domain::WriteBackStep;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = assessments)]
pub struct Assessment {
    pub id: String,
    pub org_id: String,
    pub configuration_id: String,
    pub opportunity_id: String,
    pub candidate_name: String,
    /// The unguessable part of the candidate's link `/a/{token}`.
    pub token: String,
    pub pad_kind: String,
    pub question_title: Option<String>,
    pub question_prompt: Option<String>,
    pub tag_name: String,
    pub state: AssessmentState,
    /// The webhook event that created it.
    pub event_id: String,
    pub created_at: NaiveDateTime,
    /// The question's language (a `Language` value) and starter code, copied like its title.
    pub question_language: String,
    pub starter_code: String,
    /// The take-home terms (`assessments::TakeHomeTerms`) it was sent with; `None` for a
    /// live interview pad, which has no clock.
    pub time_limit_minutes: Option<i32>,
    pub start_by: Option<NaiveDateTime>,
    /// When the candidate pressed *Start*, and when the time then runs out.
    pub started_at: Option<NaiveDateTime>,
    pub deadline_at: Option<NaiveDateTime>,
    pub submitted_at: Option<NaiveDateTime>,
    /// Handed in by the deadline (its last save) rather than by the candidate.
    pub time_ran_out: bool,
}

impl Assessment {
    /// The candidate's name as pages show it; once a deleted candidate's name was erased, words
    /// that say so.
    pub fn shown_name(&self) -> String {
        if self.candidate_name.trim().is_empty() {
            "A candidate deleted in Lever".into()
        } else {
            self.candidate_name.clone()
        }
    }
}

pub fn for_opportunity(
    conn: &mut DbConn,
    configuration_id: &str,
    opportunity_id: &str,
) -> QueryResult<Option<Assessment>> {
    assessments::table
        .filter(assessments::configuration_id.eq(configuration_id))
        .filter(assessments::opportunity_id.eq(opportunity_id))
        .select(Assessment::as_select())
        .first(conn)
        .optional()
}

/// Of `configuration_ids`, those whose assessment for this opportunity was created by the
/// delivery `event_id` (by an earlier run of its job).
pub fn configurations_fired_by(
    conn: &mut DbConn,
    configuration_ids: &[String],
    opportunity_id: &str,
    event_id: &str,
) -> QueryResult<Vec<String>> {
    assessments::table
        .filter(assessments::configuration_id.eq_any(configuration_ids))
        .filter(assessments::opportunity_id.eq(opportunity_id))
        .filter(assessments::event_id.eq(event_id))
        .select(assessments::configuration_id)
        .load(conn)
}

/// Creates the assessment unless one exists for this opportunity and configuration; returns the
/// one that stands, and whether it is new.
pub fn create_once(conn: &mut DbConn, new: &Assessment) -> QueryResult<(Assessment, bool)> {
    if let Some(existing) = for_opportunity(conn, &new.configuration_id, &new.opportunity_id)? {
        return Ok((existing, false));
    }
    diesel::insert_into(assessments::table)
        .values(new)
        .execute(conn)?;
    Ok((new.clone(), true))
}

/// The organization's assessment for an opportunity under any configuration, the newest.
pub fn by_opportunity_any(
    conn: &mut DbConn,
    opportunity_id: &str,
) -> QueryResult<Option<Assessment>> {
    assessments::table
        .filter(assessments::opportunity_id.eq(opportunity_id))
        .order(assessments::created_at.desc())
        .select(Assessment::as_select())
        .first(conn)
        .optional()
}

pub fn by_token(conn: &mut DbConn, token: &str) -> QueryResult<Option<Assessment>> {
    assessments::table
        .filter(assessments::token.eq(token))
        .select(Assessment::as_select())
        .first(conn)
        .optional()
}

/// The assessment behind a candidate's link, locked until the transaction ends (PostgreSQL; on
/// SQLite `BEGIN IMMEDIATE` already holds the only write lock), so a save and a submission, or
/// two starts, never interleave.
pub fn by_token_for_update(conn: &mut DbConn, token: &str) -> QueryResult<Option<Assessment>> {
    let by_token = assessments::table.filter(assessments::token.eq(token));
    match conn {
        DbConn::Pg(pg) => by_token
            .select(Assessment::as_select())
            .for_update()
            .first(pg)
            .optional(),
        DbConn::Sqlite(lite) => by_token
            .select(Assessment::as_select())
            .first(lite)
            .optional(),
    }
}

/// The candidate pressed *Start*: the clock runs until `deadline_at`.
pub fn record_start(
    conn: &mut DbConn,
    id: &str,
    state: AssessmentState,
    started_at: NaiveDateTime,
    deadline_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(assessments::table.find(id))
        .set((
            assessments::state.eq(state),
            assessments::started_at.eq(Some(started_at)),
            assessments::deadline_at.eq(Some(deadline_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The attempt ended: handed in (by the candidate, or by the deadline when `time_ran_out`), or
/// expired with nothing saved.
pub fn record_end(
    conn: &mut DbConn,
    id: &str,
    state: AssessmentState,
    submitted_at: Option<NaiveDateTime>,
    time_ran_out: bool,
) -> QueryResult<()> {
    diesel::update(assessments::table.find(id))
        .set((
            assessments::state.eq(state),
            assessments::submitted_at.eq(submitted_at),
            assessments::time_ran_out.eq(time_ran_out),
        ))
        .execute(conn)?;
    Ok(())
}

/// When the link's save allowance is whole again (`None`: it always was).
pub fn saves_paced_until(conn: &mut DbConn, id: &str) -> QueryResult<Option<NaiveDateTime>> {
    assessments::table
        .find(id)
        .select(assessments::saves_paced_until)
        .first(conn)
}

/// A save was taken: the allowance is whole again at `until`.
pub fn record_save_pace(conn: &mut DbConn, id: &str, until: NaiveDateTime) -> QueryResult<()> {
    diesel::update(assessments::table.find(id))
        .set(assessments::saves_paced_until.eq(Some(until)))
        .execute(conn)?;
    Ok(())
}

/// A reviewer's score of an assessment; all `None` until it is scored. (The result is the
/// assessment's state.)
#[derive(Clone, Debug, Default, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = assessments)]
pub struct Scoring {
    /// 0–100.
    pub score: Option<i32>,
    pub failure_reason: Option<String>,
    /// The leverbridge user who scored it.
    pub scored_by: Option<String>,
    pub scored_at: Option<NaiveDateTime>,
}

/// The organization's assessment `id`.
pub fn find(conn: &mut DbConn, org_id: &str, id: &str) -> QueryResult<Option<Assessment>> {
    assessments::table
        .filter(assessments::org_id.eq(org_id))
        .filter(assessments::id.eq(id))
        .select(Assessment::as_select())
        .first(conn)
        .optional()
}

/// The organization's assessment `id`, locked until the transaction ends (see
/// [`by_token_for_update`]), so two reviewers scoring at once cannot both succeed.
pub fn find_for_update(
    conn: &mut DbConn,
    org_id: &str,
    id: &str,
) -> QueryResult<Option<Assessment>> {
    let query = assessments::table
        .filter(assessments::org_id.eq(org_id))
        .filter(assessments::id.eq(id));
    match conn {
        DbConn::Pg(pg) => query
            .select(Assessment::as_select())
            .for_update()
            .first(pg)
            .optional(),
        DbConn::Sqlite(lite) => query.select(Assessment::as_select()).first(lite).optional(),
    }
}

/// The assessment `id` whatever its organization (a job knows the id only).
pub fn by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<(Assessment, Scoring)>> {
    assessments::table
        .find(id)
        .select((Assessment::as_select(), Scoring::as_select()))
        .first(conn)
        .optional()
}

/// The score of assessment `id`.
pub fn scoring(conn: &mut DbConn, id: &str) -> QueryResult<Scoring> {
    assessments::table
        .find(id)
        .select(Scoring::as_select())
        .first(conn)
}

/// A reviewer scored the assessment: it is now `state` (passed or failed).
pub fn record_score(
    conn: &mut DbConn,
    id: &str,
    state: AssessmentState,
    score: i32,
    failure_reason: Option<&str>,
    scored_by: &str,
    scored_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(assessments::table.find(id))
        .set((
            assessments::state.eq(state),
            assessments::score.eq(Some(score)),
            assessments::failure_reason.eq(failure_reason),
            assessments::scored_by.eq(Some(scored_by)),
            assessments::scored_at.eq(Some(scored_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The write-back steps done for the assessment and when, oldest first.
pub fn steps(
    conn: &mut DbConn,
    assessment_id: &str,
) -> QueryResult<Vec<(WriteBackStep, NaiveDateTime)>> {
    assessment_steps::table
        .filter(assessment_steps::assessment_id.eq(assessment_id))
        .order(assessment_steps::done_at.asc())
        .select((assessment_steps::step, assessment_steps::done_at))
        .load(conn)
}

pub fn step_done(conn: &mut DbConn, assessment_id: &str, step: WriteBackStep) -> QueryResult<bool> {
    Ok(assessment_steps::table
        .find((assessment_id, step))
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

pub fn record_step(conn: &mut DbConn, assessment_id: &str, step: WriteBackStep) -> QueryResult<()> {
    if step_done(conn, assessment_id, step)? {
        return Ok(());
    }
    diesel::insert_into(assessment_steps::table)
        .values((
            assessment_steps::assessment_id.eq(assessment_id),
            assessment_steps::step.eq(step),
            assessment_steps::done_at.eq(super::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Whether a step that creates something in Lever was begun before (and so may have created
/// it, even if it was never recorded as done).
pub fn attempted(conn: &mut DbConn, assessment_id: &str, step: WriteBackStep) -> QueryResult<bool> {
    Ok(assessment_step_attempts::table
        .find((assessment_id, step))
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

/// Notes that a step is about to create something in Lever.
pub fn record_attempt(
    conn: &mut DbConn,
    assessment_id: &str,
    step: WriteBackStep,
) -> QueryResult<()> {
    if attempted(conn, assessment_id, step)? {
        return Ok(());
    }
    diesel::insert_into(assessment_step_attempts::table)
        .values((
            assessment_step_attempts::assessment_id.eq(assessment_id),
            assessment_step_attempts::step.eq(step),
            assessment_step_attempts::attempted_at.eq(super::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// A page of an organization's assessments, newest first, optionally in one state, starting
/// after `after` (keyset pagination: as fast on the thousandth page as on the first).
pub fn page(
    conn: &mut DbConn,
    org_id: &str,
    state: Option<&str>,
    after: Option<&super::keyset::Cursor>,
    limit: i64,
) -> QueryResult<Vec<Assessment>> {
    let mut query = assessments::table
        .filter(assessments::org_id.eq(org_id))
        .select(Assessment::as_select())
        .order((assessments::created_at.desc(), assessments::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some(state) = state {
        query = query.filter(assessments::state.eq(state.to_owned()));
    }
    if let Some(after) = after {
        // `created_at <= t` bounds the index range; the rest only drops the ties up to `after`.
        query = query.filter(assessments::created_at.le(after.at)).filter(
            assessments::created_at
                .lt(after.at)
                .or(assessments::id.lt(after.id.clone())),
        );
    }
    query.load(conn)
}

/// How many of the organization's assessments are in each state (those with any): a few rows
/// the database's triggers keep as assessments change, not a count of them all.
pub fn count_by_state(conn: &mut DbConn, org_id: &str) -> QueryResult<Vec<(String, i64)>> {
    use super::schema::assessment_counts;
    assessment_counts::table
        .filter(assessment_counts::org_id.eq(org_id))
        .filter(assessment_counts::n.ne(0))
        .select((assessment_counts::state, assessment_counts::n))
        .load(conn)
}

/// Tokens of take-home assessments that have run out by `now`: invitations past their start-by
/// date, and started tests past their deadline. At most `limit`, oldest first.
pub fn due_to_expire(
    conn: &mut DbConn,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<String>> {
    assessments::table
        .filter(
            assessments::state
                .eq("invited")
                .and(assessments::start_by.lt(now))
                .or(assessments::state
                    .eq("started")
                    .and(assessments::deadline_at.lt(now))),
        )
        .order(assessments::created_at.asc())
        .limit(limit)
        .select(assessments::token)
        .load(conn)
}
