//! What saving a working connection tells its caller: the organization's parked work (waiting
//! for Lever to be connected, or for a broken connection to be fixed) may resume.
//!
//! This module never calls the queue; the caller hands over the queue's release of parked work
//! (`queue::table::unpark`), and `connect_key` and `oauth::complete` call it *inside* the
//! transaction that saves the connection. Saving and releasing commit together or not at all: returning a flag and letting
//! the caller release the work in a transaction of its own would leave the work parked behind a
//! working connection whenever that second step failed, with nothing to retry it. The count
//! comes back in the result (`resumed`), for the caller to wake the workers and say so.

use diesel::QueryResult;

use crate::db::DbConn;

/// Releases an organization's parked work, returning how many jobs run again; called once,
/// inside the transaction that saves a working connection, with the organization's id.
pub type ResumeParked = fn(&mut DbConn, &str) -> QueryResult<usize>;
