//! Every save of a candidate's code, kept with its time so a reviewer can play the attempt back.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::snapshots;
use super::DbConn;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = snapshots)]
pub struct Snapshot {
    pub id: String,
    pub assessment_id: String,
    /// 1 for the first save of the assessment, then one more for each.
    pub seq: i32,
    pub code: String,
    pub saved_at: NaiveDateTime,
}

/// Keeps one more save. Call it inside the transaction that locked the assessment, so the
/// numbering has no gaps or repeats.
pub fn add(
    conn: &mut DbConn,
    assessment_id: &str,
    code: &str,
    saved_at: NaiveDateTime,
) -> QueryResult<Snapshot> {
    let last: Option<i32> = snapshots::table
        .filter(snapshots::assessment_id.eq(assessment_id))
        .select(diesel::dsl::max(snapshots::seq))
        .first(conn)?;
    let snapshot = Snapshot {
        id: super::new_id(),
        assessment_id: assessment_id.to_owned(),
        seq: last.unwrap_or(0) + 1,
        code: code.to_owned(),
        saved_at,
    };
    diesel::insert_into(snapshots::table)
        .values(&snapshot)
        .execute(conn)?;
    Ok(snapshot)
}

/// The last save: what the candidate's editor reopens with, and what is handed in.
pub fn latest(conn: &mut DbConn, assessment_id: &str) -> QueryResult<Option<Snapshot>> {
    snapshots::table
        .filter(snapshots::assessment_id.eq(assessment_id))
        .order(snapshots::seq.desc())
        .select(Snapshot::as_select())
        .first(conn)
        .optional()
}

/// Every save, oldest first (the playback).
pub fn all(conn: &mut DbConn, assessment_id: &str) -> QueryResult<Vec<Snapshot>> {
    snapshots::table
        .filter(snapshots::assessment_id.eq(assessment_id))
        .order(snapshots::seq.asc())
        .select(Snapshot::as_select())
        .load(conn)
}
