//! The durable job table: a job row is written in the same transaction as whatever causes it,
//! claimed by one worker at a time under a lease, retried with exponential backoff and jitter,
//! and `dead` after its last attempt until someone presses Retry.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::Rng;

use crate::db::connection::write_transaction;
use crate::db::schema::jobs;
use crate::db::{self, DbConn};

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = jobs)]
pub struct Job {
    pub id: String,
    pub org_id: String,
    pub kind: String,
    pub payload: String,
    pub state: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    pub event_id: Option<String>,
}

pub struct NewJob<'a> {
    pub org_id: &'a str,
    pub kind: &'a str,
    pub payload: serde_json::Value,
    pub event_id: Option<&'a str>,
    pub max_attempts: i32,
}

/// A job row as it is first written: queued, due now.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = jobs)]
pub struct NewJobRow {
    pub id: String,
    pub org_id: String,
    pub kind: String,
    pub payload: String,
    pub state: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    pub event_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl NewJob<'_> {
    pub fn row(&self) -> NewJobRow {
        let now = db::now();
        NewJobRow {
            id: db::new_id(),
            org_id: self.org_id.to_owned(),
            kind: self.kind.to_owned(),
            payload: self.payload.to_string(),
            state: "queued".into(),
            attempts: 0,
            max_attempts: self.max_attempts,
            run_at: now,
            locked_until: None,
            locked_by: None,
            last_error: None,
            event_id: self.event_id.map(str::to_owned),
            created_at: now,
            updated_at: now,
        }
    }
}

/// Adds a job, due now. Call it inside the transaction that stores its cause.
pub fn enqueue(conn: &mut DbConn, new: NewJob) -> QueryResult<String> {
    let row = new.row();
    insert_jobs(conn, std::slice::from_ref(&row))?;
    Ok(row.id)
}

/// Adds many jobs in one statement.
pub fn insert_jobs(conn: &mut DbConn, rows: &[NewJobRow]) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    match conn {
        DbConn::Sqlite(c) => diesel::insert_into(jobs::table).values(rows).execute(c)?,
        DbConn::Pg(c) => diesel::insert_into(jobs::table).values(rows).execute(c)?,
    };
    Ok(())
}

/// Claims the next due job for `worker`: a queued job whose time has come, or a running one
/// whose lease expired (its worker died). The claim counts as an attempt.
pub fn claim(conn: &mut DbConn, worker: &str, lease: Duration) -> QueryResult<Option<Job>> {
    let now = db::now();
    let due = jobs::state
        .eq("queued")
        .and(jobs::run_at.le(now))
        .or(jobs::state.eq("running").and(jobs::locked_until.lt(now)));
    write_transaction(conn, |conn| {
        let id: Option<String> = match conn {
            // Several replicas share the table: skip rows another transaction is claiming.
            DbConn::Pg(pg) => jobs::table
                .filter(due)
                .order(jobs::run_at.asc())
                .select(jobs::id)
                .limit(1)
                .for_update()
                .skip_locked()
                .first(pg)
                .optional()?,
            // SQLite: BEGIN IMMEDIATE already holds the only write lock.
            DbConn::Sqlite(lite) => jobs::table
                .filter(due)
                .order(jobs::run_at.asc())
                .select(jobs::id)
                .limit(1)
                .first(lite)
                .optional()?,
        };
        let Some(id) = id else { return Ok(None) };
        let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(5));
        diesel::update(jobs::table.find(&id))
            .set((
                jobs::state.eq("running"),
                jobs::attempts.eq(jobs::attempts + 1),
                jobs::locked_until.eq(Some(until)),
                jobs::locked_by.eq(Some(worker)),
                jobs::updated_at.eq(now),
            ))
            .execute(conn)?;
        jobs::table
            .find(&id)
            .select(Job::as_select())
            .first(conn)
            .optional()
    })
}

/// The job is done.
pub fn finish(conn: &mut DbConn, job_id: &str) -> QueryResult<()> {
    set_state(conn, job_id, "done", None, None)
}

/// The job failed this attempt: run again after a backoff, or give up when out of attempts.
/// Returns whether it is now dead.
pub fn fail(
    conn: &mut DbConn,
    job: &Job,
    error: &str,
    backoff_base: Duration,
) -> QueryResult<bool> {
    if job.attempts >= job.max_attempts {
        set_state(conn, &job.id, "dead", Some(error), None)?;
        return Ok(true);
    }
    let delay = backoff(backoff_base, job.attempts);
    let run_at =
        db::now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1));
    set_state(conn, &job.id, "queued", Some(error), Some(run_at))?;
    Ok(false)
}

/// The job waits for something an admin must fix (a broken connection, no default user).
pub fn park(conn: &mut DbConn, job_id: &str, reason: &str) -> QueryResult<()> {
    diesel::update(jobs::table.find(job_id))
        .set((
            jobs::state.eq("parked"),
            jobs::last_error.eq(Some(reason)),
            // Waiting is not failing: the attempt is given back.
            jobs::attempts.eq(jobs::attempts - 1),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::locked_by.eq(None::<String>),
            jobs::updated_at.eq(db::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The cause of parked jobs was fixed: queue them all again.
pub fn unpark(conn: &mut DbConn, org_id: &str) -> QueryResult<usize> {
    let now = db::now();
    diesel::update(
        jobs::table
            .filter(jobs::org_id.eq(org_id))
            .filter(jobs::state.eq("parked")),
    )
    .set((
        jobs::state.eq("queued"),
        jobs::run_at.eq(now),
        jobs::updated_at.eq(now),
    ))
    .execute(conn)
}

/// The Retry button: a dead job of this organization gets a fresh set of attempts.
pub fn retry(conn: &mut DbConn, org_id: &str, job_id: &str) -> QueryResult<bool> {
    let now = db::now();
    let updated = diesel::update(
        jobs::table
            .filter(jobs::org_id.eq(org_id))
            .filter(jobs::id.eq(job_id))
            .filter(jobs::state.eq("dead")),
    )
    .set((
        jobs::state.eq("queued"),
        jobs::attempts.eq(0),
        jobs::run_at.eq(now),
        jobs::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Dead jobs behind these events: (event id, job id).
pub fn dead_for_events(
    conn: &mut DbConn,
    event_ids: &[String],
) -> QueryResult<Vec<(String, String)>> {
    let rows: Vec<(Option<String>, String)> = jobs::table
        .filter(jobs::event_id.eq_any(event_ids))
        .filter(jobs::state.eq("dead"))
        .select((jobs::event_id, jobs::id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(event, job)| event.map(|e| (e, job)))
        .collect())
}

pub fn find(conn: &mut DbConn, job_id: &str) -> QueryResult<Option<Job>> {
    jobs::table
        .find(job_id)
        .select(Job::as_select())
        .first(conn)
        .optional()
}

/// Jobs per state for an organization, for the Overview and Events pages.
pub fn counts(conn: &mut DbConn, org_id: &str) -> QueryResult<Vec<(String, i64)>> {
    use diesel::dsl::count_star;
    jobs::table
        .filter(jobs::org_id.eq(org_id))
        .group_by(jobs::state)
        .select((jobs::state, count_star()))
        .load(conn)
}

fn set_state(
    conn: &mut DbConn,
    job_id: &str,
    state: &str,
    error: Option<&str>,
    run_at: Option<NaiveDateTime>,
) -> QueryResult<()> {
    let now = db::now();
    diesel::update(jobs::table.find(job_id))
        .set((
            jobs::state.eq(state),
            jobs::last_error.eq(error),
            jobs::run_at.eq(run_at.unwrap_or(now)),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::locked_by.eq(None::<String>),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// `base · 2^(attempt-1)`, capped at an hour, plus up to 25 % jitter so retries spread out.
pub fn backoff(base: Duration, attempt: i32) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.clamp(1, 16).saturating_sub(1) as u32);
    let capped = exp.min(Duration::from_secs(3600));
    let jitter = rand::thread_rng().gen_range(0.0..0.25);
    capped + capped.mul_f64(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_secs(10);
        let first = backoff(base, 1);
        assert!(first >= base && first <= base.mul_f64(1.25));
        let third = backoff(base, 3);
        assert!(third >= Duration::from_secs(40) && third <= Duration::from_secs(50));
        assert!(backoff(base, 30) <= Duration::from_secs(4500));
    }
}
