//! Lines of an assessment's timeline that its own columns and write-back steps do not tell:
//! invited again, sent anyway, question chosen. Each is recorded once, under its key.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::assessment_history;
use super::DbConn;

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

/// The assessment's lines, oldest first: `(when, what)`.
pub fn lines(conn: &mut DbConn, assessment_id: &str) -> QueryResult<Vec<(NaiveDateTime, String)>> {
    assessment_history::table
        .filter(assessment_history::assessment_id.eq(assessment_id))
        .order(assessment_history::happened_at.asc())
        .select((assessment_history::happened_at, assessment_history::what))
        .load(conn)
}
