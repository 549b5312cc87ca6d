//! A connection Lever stopped accepting: any 401 to its credentials, from a job or a page,
//! marks it broken here, so work waits and every page says so until an admin reconnects.

use crate::db::lever::LeverConnection;
use crate::db::{self, Db, DbError};

/// Lever answered 401 (`lever_message`) to `connection`'s credentials: marks the connection
/// broken and returns the reason stored, for the caller to show or park its work with. A
/// connection replaced meanwhile is not marked. A failure to store the mark is logged and does
/// not hide Lever's refusal from the caller.
#[tracing::instrument(skip_all, fields(org_id = %connection.org_id))]
pub async fn mark_broken(
    database: &Db,
    connection: &LeverConnection,
    lever_message: &str,
) -> String {
    let reason = format!("Lever answered 401 Unauthorized: {lever_message}");
    let (broken, stored) = (connection.clone(), reason.clone());
    let marked = database
        .run(move |conn| db::lever::mark_broken(conn, &broken, &stored).map_err(DbError::from))
        .await;
    if let Err(e) = marked {
        tracing::error!(error = %e, "failed to mark the Lever connection broken");
    }
    reason
}
