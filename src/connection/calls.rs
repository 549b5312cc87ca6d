//! The record of the calls made to Lever, listed on the Events page.

use crate::db::lever_calls::LeverCallRecord;
use crate::db::{self, DbConn};
use crate::lever::LeverCall;

/// Saves the calls a client made, attributed to a webhook event when there is one.
pub fn record_calls(
    conn: &mut DbConn,
    org_id: &str,
    event_id: Option<&str>,
    calls: Vec<LeverCall>,
) -> diesel::QueryResult<()> {
    let now = db::now();
    let records: Vec<LeverCallRecord> = calls
        .into_iter()
        .map(|call| LeverCallRecord {
            id: db::new_id(),
            org_id: org_id.to_owned(),
            event_id: event_id.map(str::to_owned),
            method: call.method,
            path: call.path,
            status: call.status.map(i32::from),
            error: call.error,
            attempt: call.attempt as i32,
            duration_ms: call.duration_ms as i64,
            at: now,
        })
        .collect();
    db::lever_calls::insert_all(conn, &records)
}
