//! Every kept save of a candidate's code, with its time, so a reviewer can play the attempt back.
//! Pages read the list of saves ([`list`]: times and sizes) and at most one save's code.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::snapshots;
use super::DbConn;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = snapshots)]
pub struct Snapshot {
    pub id: String,
    pub assessment_id: String,
    /// 1 for the first save of the assessment, then one more for each kept.
    pub seq: i32,
    pub code: String,
    pub saved_at: NaiveDateTime,
    pub size_bytes: i32,
    pub line_count: i32,
}

/// A save as the list shows it, without its code.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = snapshots)]
pub struct SaveListing {
    pub seq: i32,
    pub saved_at: NaiveDateTime,
    pub size_bytes: i32,
    pub line_count: i32,
}

fn sized(code: &str) -> (i32, i32) {
    let clamp = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    (clamp(code.len()), clamp(code.lines().count()))
}

/// Keeps one more save. Call it inside the transaction that locked the assessment, so the
/// numbering has no gaps or repeats.
pub fn add(
    conn: &mut DbConn,
    assessment_id: &str,
    code: &str,
    saved_at: NaiveDateTime,
) -> QueryResult<SaveListing> {
    let last: Option<i32> = snapshots::table
        .filter(snapshots::assessment_id.eq(assessment_id))
        .select(diesel::dsl::max(snapshots::seq))
        .first(conn)?;
    let (size_bytes, line_count) = sized(code);
    let snapshot = Snapshot {
        id: super::new_id(),
        assessment_id: assessment_id.to_owned(),
        seq: last.unwrap_or(0) + 1,
        code: code.to_owned(),
        saved_at,
        size_bytes,
        line_count,
    };
    diesel::insert_into(snapshots::table)
        .values(&snapshot)
        .execute(conn)?;
    Ok(SaveListing {
        seq: snapshot.seq,
        saved_at,
        size_bytes,
        line_count,
    })
}

/// Puts `code` in place of save `seq` (coalescing: the save keeps its number, takes the new
/// time). Call it inside the transaction that locked the assessment.
pub fn replace(
    conn: &mut DbConn,
    assessment_id: &str,
    seq: i32,
    code: &str,
    saved_at: NaiveDateTime,
) -> QueryResult<SaveListing> {
    let (size_bytes, line_count) = sized(code);
    diesel::update(
        snapshots::table
            .filter(snapshots::assessment_id.eq(assessment_id))
            .filter(snapshots::seq.eq(seq)),
    )
    .set((
        snapshots::code.eq(code),
        snapshots::saved_at.eq(saved_at),
        snapshots::size_bytes.eq(size_bytes),
        snapshots::line_count.eq(line_count),
    ))
    .execute(conn)?;
    Ok(SaveListing {
        seq,
        saved_at,
        size_bytes,
        line_count,
    })
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

/// Save `seq`, code and all.
pub fn by_seq(conn: &mut DbConn, assessment_id: &str, seq: i32) -> QueryResult<Option<Snapshot>> {
    snapshots::table
        .filter(snapshots::assessment_id.eq(assessment_id))
        .filter(snapshots::seq.eq(seq))
        .select(Snapshot::as_select())
        .first(conn)
        .optional()
}

/// Every save's number, time and size, oldest first, without the code (the playback's list).
pub fn list(conn: &mut DbConn, assessment_id: &str) -> QueryResult<Vec<SaveListing>> {
    snapshots::table
        .filter(snapshots::assessment_id.eq(assessment_id))
        .order(snapshots::seq.asc())
        .select(SaveListing::as_select())
        .load(conn)
}

/// Bytes of code the attempt's saves hold together (its quota's measure).
pub fn stored_bytes(conn: &mut DbConn, assessment_id: &str) -> QueryResult<i64> {
    let sum: Option<i64> = snapshots::table
        .filter(snapshots::assessment_id.eq(assessment_id))
        .select(diesel::dsl::sum(snapshots::size_bytes))
        .first(conn)?;
    Ok(sum.unwrap_or(0))
}

/// The newest save, without its code.
pub fn newest(conn: &mut DbConn, assessment_id: &str) -> QueryResult<Option<SaveListing>> {
    snapshots::table
        .filter(snapshots::assessment_id.eq(assessment_id))
        .order(snapshots::seq.desc())
        .select(SaveListing::as_select())
        .first(conn)
        .optional()
}

/// Every save with its code, oldest first: for checks that need every body (the tests); the
/// pages read [`list`] and one save.
pub fn all(conn: &mut DbConn, assessment_id: &str) -> QueryResult<Vec<Snapshot>> {
    snapshots::table
        .filter(snapshots::assessment_id.eq(assessment_id))
        .order(snapshots::seq.asc())
        .select(Snapshot::as_select())
        .load(conn)
}
