//! Where a job stands in the queue, and the lane it runs in.

use diesel::deserialize::FromSqlRow;
use diesel::expression::AsExpression;

/// A job's state, stored in `jobs.state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum JobState {
    /// Waiting for its time (`run_at`) and a worker of its lane.
    Queued,
    /// Claimed by a worker, under a lease.
    Running,
    /// Waiting for an admin to fix its cause (a broken connection, no default Lever user).
    Parked,
    /// Out of attempts, until someone presses Retry.
    Dead,
    Done,
}

impl JobState {
    pub const ALL: [JobState; 5] = [
        JobState::Queued,
        JobState::Running,
        JobState::Parked,
        JobState::Dead,
        JobState::Done,
    ];

    /// The stored name. Stored rows keep it, so it never changes.
    pub const fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Parked => "parked",
            JobState::Dead => "dead",
            JobState::Done => "done",
        }
    }

    /// Not settled for good: counted on the Overview and in `/metrics`.
    pub const UNFINISHED: [JobState; 4] = [
        JobState::Queued,
        JobState::Running,
        JobState::Parked,
        JobState::Dead,
    ];
}

crate::stored_as_text!(JobState, "job state", display);

/// The lane a job runs in: each lane has workers of its own, so one kind of slow work never
/// holds another (a hung mail server never holds a Lever write-back; Lever's pace never holds
/// grading). Stored in `jobs.lane`, written from the job's kind when it is queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum Lane {
    /// Work that calls Lever: drained fairly between organizations, paced by Lever's limit.
    Lever,
    /// Email to candidates, through each organization's mail server.
    Mail,
    /// Running candidates' code against test cases: CPU-bound, bounded by sandbox slots.
    Grading,
}

impl Lane {
    pub const ALL: [Lane; 3] = [Lane::Lever, Lane::Mail, Lane::Grading];

    /// The stored name, also how `--lanes` and the environment name it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Lane::Lever => "lever",
            Lane::Mail => "mail",
            Lane::Grading => "grading",
        }
    }
}

crate::stored_as_text!(Lane, "job lane", display);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_stored_names_are_not_read() {
        assert_eq!(JobState::from_stored("paused"), None);
        assert_eq!(Lane::from_stored("Lever"), None);
    }
}
