//! Deleting history older than the retention period, at most `limit` rows per statement (the
//! sweep in `jobs::retention` repeats each step, pausing between, until a step deletes fewer).
//!
//! Each statement reads an index over exactly the rows it deletes or checks, so a batch costs
//! the same however long the history is: finished jobs by `(state, run_at)`, deliveries and
//! delivery tokens per organization by `(org_id, received_at)` and `(org_id, triggered_at, …)`,
//! Lever calls by `at`.

use chrono::NaiveDateTime;
use diesel::dsl::{exists, not};
use diesel::prelude::*;

use super::schema::{
    assessments, jobs, lever_calls, organizations, question_choices, seen_tokens, webhook_events,
};
use super::DbConn;
use crate::domain::{AssessmentState, JobState};

/// A job in one of these states will not run again (a dead one only if someone presses Retry).
const FINISHED_JOBS: [JobState; 2] = [JobState::Done, JobState::Dead];
/// A job in one of these states still needs its delivery.
const UNFINISHED_JOBS: [JobState; 3] = [JobState::Queued, JobState::Running, JobState::Parked];

/// Deletes up to `limit` jobs that finished (done, or dead after their last attempt) before
/// `before`. A finished job's `run_at` is when it finished or earlier, so the `(state, run_at)`
/// index finds them.
pub fn finished_jobs(conn: &mut DbConn, before: NaiveDateTime, limit: i64) -> QueryResult<usize> {
    let old: Vec<String> = jobs::table
        .filter(jobs::state.eq_any(FINISHED_JOBS))
        .filter(jobs::run_at.lt(before))
        .filter(jobs::updated_at.lt(before))
        .select(jobs::id)
        .limit(limit)
        .load(conn)?;
    diesel::delete(
        jobs::table
            .filter(jobs::id.eq_any(old))
            // Checked again as each row is deleted: a dead job retried meanwhile is queued now.
            .filter(jobs::state.eq_any(FINISHED_JOBS))
            .filter(jobs::updated_at.lt(before)),
    )
    .execute(conn)
}

/// Deletes up to `limit` of the organization's webhook deliveries received before `before`,
/// except those something unfinished still refers to: a job that is queued, running or parked,
/// an assessment not yet finished, or a question choice not yet made.
pub fn old_deliveries(
    conn: &mut DbConn,
    org_id: &str,
    before: NaiveDateTime,
    limit: i64,
) -> QueryResult<usize> {
    let old: Vec<String> = webhook_events::table
        .filter(webhook_events::org_id.eq(org_id))
        .filter(webhook_events::received_at.lt(before))
        .filter(not(still_needed()))
        .select(webhook_events::id)
        .limit(limit)
        .load(conn)?;
    diesel::delete(
        webhook_events::table
            .filter(webhook_events::id.eq_any(old))
            // Checked again as each row is deleted: a job queued for it meanwhile keeps it.
            .filter(not(still_needed())),
    )
    .execute(conn)
}

/// Whether something unfinished refers to a delivery.
type StillNeeded = Box<
    dyn BoxableExpression<
        webhook_events::table,
        <DbConn as diesel::Connection>::Backend,
        SqlType = diesel::sql_types::Bool,
    >,
>;

fn still_needed() -> StillNeeded {
    let unfinished_assessments: Vec<AssessmentState> = AssessmentState::ALL
        .into_iter()
        .filter(|state| !state.is_finished())
        .collect();
    let unfinished_job = jobs::table
        .filter(jobs::event_id.eq(webhook_events::id.nullable()))
        .filter(jobs::state.eq_any(UNFINISHED_JOBS));
    let unfinished_assessment = assessments::table
        .filter(assessments::event_id.eq(webhook_events::id))
        .filter(assessments::state.eq_any(unfinished_assessments));
    let pending_choice = question_choices::table
        .filter(question_choices::event_id.eq(webhook_events::id))
        .filter(question_choices::assessment_id.is_null())
        .filter(question_choices::withdrawn_at.is_null());
    Box::new(
        exists(unfinished_job)
            .or(exists(unfinished_assessment))
            .or(exists(pending_choice)),
    )
}

/// Deletes about `limit` of the organization's delivery tokens whose delivery was triggered
/// before `before_ms` (milliseconds since the epoch, as Lever sends `triggeredAt`): the oldest
/// `limit`, and any that share the last one's millisecond.
pub fn old_delivery_tokens(
    conn: &mut DbConn,
    org_id: &str,
    before_ms: i64,
    limit: i64,
) -> QueryResult<usize> {
    let last: Option<i64> = seen_tokens::table
        .filter(seen_tokens::org_id.eq(org_id))
        .filter(seen_tokens::triggered_at.lt(before_ms))
        .order(seen_tokens::triggered_at.asc())
        .select(seen_tokens::triggered_at)
        .offset(limit.max(1) - 1)
        .limit(1)
        .first(conn)
        .optional()?;
    let end = last.map_or(before_ms, |last| last.saturating_add(1).min(before_ms));
    diesel::delete(
        seen_tokens::table
            .filter(seen_tokens::org_id.eq(org_id))
            .filter(seen_tokens::triggered_at.lt(end)),
    )
    .execute(conn)
}

/// Deletes up to `limit` recorded Lever calls made before `before`.
pub fn old_lever_calls(conn: &mut DbConn, before: NaiveDateTime, limit: i64) -> QueryResult<usize> {
    let old: Vec<String> = lever_calls::table
        .filter(lever_calls::at.lt(before))
        .select(lever_calls::id)
        .limit(limit)
        .load(conn)?;
    diesel::delete(lever_calls::table.filter(lever_calls::id.eq_any(old))).execute(conn)
}

/// Every organization's id: deliveries and their tokens are deleted one organization at a time,
/// along the indexes that begin with it.
pub fn organization_ids(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    organizations::table
        .select(organizations::id)
        .order(organizations::id.asc())
        .load(conn)
}
