//! The record of every HTTP call made to Lever.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::lever_calls;
use super::DbConn;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = lever_calls)]
pub struct LeverCallRecord {
    pub id: String,
    pub org_id: String,
    pub event_id: Option<String>,
    pub method: String,
    pub path: String,
    pub status: Option<i32>,
    pub error: Option<String>,
    pub attempt: i32,
    pub duration_ms: i64,
    pub at: NaiveDateTime,
}

pub fn insert_all(conn: &mut DbConn, calls: &[LeverCallRecord]) -> QueryResult<()> {
    for call in calls {
        diesel::insert_into(lever_calls::table)
            .values(call)
            .execute(conn)?;
    }
    Ok(())
}

/// The calls made for these events, oldest first.
pub fn for_events(conn: &mut DbConn, event_ids: &[String]) -> QueryResult<Vec<LeverCallRecord>> {
    lever_calls::table
        .filter(lever_calls::event_id.eq_any(event_ids))
        .order(lever_calls::at.asc())
        .select(LeverCallRecord::as_select())
        .load(conn)
}
