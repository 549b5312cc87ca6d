//! Lines of an assessment's timeline that its own columns and write-back steps do not tell:
//! invited again, sent anyway, question chosen. Each is recorded once, under its key.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::assessment_history;
use super::DbConn;
use crate::domain::WriteBackStep;

/// Records `what` under `key` unless that key is recorded already; returns whether it is new,
/// so a job that runs twice does what follows a new line once.
pub fn record(
    conn: &mut DbConn,
    assessment_id: &str,
    key: &str,
    at: NaiveDateTime,
    what: &str,
) -> QueryResult<bool> {
    let known = assessment_history::table
        .find((assessment_id, key))
        .count()
        .get_result::<i64>(conn)?
        > 0;
    if known {
        return Ok(false);
    }
    diesel::insert_into(assessment_history::table)
        .values((
            assessment_history::assessment_id.eq(assessment_id),
            assessment_history::key.eq(key),
            assessment_history::happened_at.eq(at),
            assessment_history::what.eq(what),
        ))
        .execute(conn)?;
    Ok(true)
}

/// The start of the key of a line saying Lever refused a write-back step.
const REFUSED: &str = "refused:";

/// Records that Lever refused the write-back `step` at `at`: one line per refusal.
pub fn record_refusal(
    conn: &mut DbConn,
    assessment_id: &str,
    step: WriteBackStep,
    at: NaiveDateTime,
    what: &str,
) -> QueryResult<bool> {
    let key = format!("{REFUSED}{step}:{}", at.and_utc().timestamp_micros());
    record(conn, assessment_id, &key, at, what)
}

/// The refusal lines of the assessments these webhook events created, oldest first:
/// `(event id, when, what)`, for the Events page.
pub fn refusals_for_events(
    conn: &mut DbConn,
    event_ids: &[String],
) -> QueryResult<Vec<(String, NaiveDateTime, String)>> {
    use super::schema::assessments;
    let created: Vec<(String, String)> = assessments::table
        .filter(assessments::event_id.eq_any(event_ids))
        .select((assessments::id, assessments::event_id))
        .load(conn)?;
    if created.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&String> = created.iter().map(|(id, _)| id).collect();
    let lines: Vec<(String, NaiveDateTime, String)> = assessment_history::table
        .filter(assessment_history::assessment_id.eq_any(ids))
        .filter(assessment_history::key.like(format!("{REFUSED}%")))
        .order(assessment_history::happened_at.asc())
        .select((
            assessment_history::assessment_id,
            assessment_history::happened_at,
            assessment_history::what,
        ))
        .load(conn)?;
    Ok(lines
        .into_iter()
        .filter_map(|(assessment, at, what)| {
            let (_, event) = created.iter().find(|(id, _)| *id == assessment)?;
            Some((event.clone(), at, what))
        })
        .collect())
}

/// The assessment's lines, oldest first: `(when, what)`.
pub fn lines(conn: &mut DbConn, assessment_id: &str) -> QueryResult<Vec<(NaiveDateTime, String)>> {
    assessment_history::table
        .filter(assessment_history::assessment_id.eq(assessment_id))
        .order(assessment_history::happened_at.asc())
        .select((assessment_history::happened_at, assessment_history::what))
        .load(conn)
}
