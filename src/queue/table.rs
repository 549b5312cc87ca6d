//! The durable job table: a job row is written in the same transaction as whatever causes it,
//! claimed by one worker of its lane at a time under a lease, retried with exponential backoff
//! and jitter, and `dead` after its last attempt until someone presses Retry.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::Rng;

use crate::config::Tuning;
use crate::db::cached::Fixed;
use crate::db::connection::write_transaction;
use crate::db::schema::jobs;
use crate::db::{self, webhooks, DbConn};
use crate::domain::event_outcome::EventOutcome;
use crate::domain::{JobState, Lane};

/// A job row, as read and as first written.
#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = jobs, treat_none_as_default_value = false)]
pub struct Job {
    pub id: String,
    pub org_id: String,
    pub kind: String,
    pub payload: String,
    pub state: JobState,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    pub event_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub lane: Lane,
}

/// A job to queue: [`enqueue`] one, or insert [`NewJob::row`]s in a batch.
pub struct NewJob<'a> {
    org_id: &'a str,
    kind: &'static str,
    lane: Lane,
    payload: String,
    event_id: Option<&'a str>,
    max_attempts: i32,
}

impl<'a> NewJob<'a> {
    /// A job of the kind stored as `kind`, in `lane`, its payload already JSON; made by
    /// `NewJob::of` from a typed job.
    pub(super) fn new(
        org_id: &'a str,
        kind: &'static str,
        lane: Lane,
        payload: String,
        max_attempts: i32,
    ) -> NewJob<'a> {
        NewJob {
            org_id,
            kind,
            lane,
            payload,
            event_id: None,
            max_attempts,
        }
    }

    /// The webhook delivery the job acts on: its fate is that delivery's outcome on Events.
    pub fn for_event(mut self, event_id: Option<&'a str>) -> NewJob<'a> {
        self.event_id = event_id;
        self
    }

    /// The row to insert: queued, due now. Insert it in the transaction that stores its cause.
    pub fn row(&self) -> Job {
        let now = db::now();
        Job {
            id: db::new_id(),
            org_id: self.org_id.to_owned(),
            kind: self.kind.to_owned(),
            payload: self.payload.clone(),
            state: JobState::Queued,
            attempts: 0,
            max_attempts: self.max_attempts,
            run_at: now,
            locked_until: None,
            locked_by: None,
            last_error: None,
            event_id: self.event_id.map(str::to_owned),
            created_at: now,
            updated_at: now,
            lane: self.lane,
        }
    }
}

/// Queues a job, due now. Call it inside the transaction that stores the job's cause.
pub fn enqueue(conn: &mut DbConn, job: &NewJob<'_>) -> QueryResult<Job> {
    let row = job.row();
    enqueue_rows(conn, &[&row])?;
    Ok(row)
}

/// Queues jobs already made with [`NewJob::row`] (the intake makes them when it checks a
/// delivery, so a batch stored again one by one keeps their ids): the one way jobs are inserted.
pub fn enqueue_rows(conn: &mut DbConn, rows: &[&Job]) -> QueryResult<()> {
    match conn {
        // One cached single-row statement each: SQLite runs them without a round trip.
        DbConn::Sqlite(c) => {
            enum QueueJob {}
            for row in rows {
                Fixed::<QueueJob, _>::new(diesel::insert_into(jobs::table).values(*row))
                    .execute(c)?;
            }
        }
        // One statement for all: each statement is a round trip to the server.
        DbConn::Pg(c) if !rows.is_empty() => {
            diesel::insert_into(jobs::table)
                .values(rows.to_vec())
                .execute(c)?;
        }
        DbConn::Pg(_) => {}
    }
    Ok(())
}

/// Why a job is dead when its worker stopped without settling it on every attempt.
const WORKER_DIED: &str = "its worker stopped before finishing, on every attempt";

/// Claims the next due job of any lane for `worker`: a queued job whose time has come, or a
/// running one whose lease expired (its worker died). The claim counts as an attempt. It is held
/// under `worker` and a random suffix of its own, so settling it only counts for this very claim
/// even when two workers share a name (replicas in containers all run as process 1, say).
pub fn claim(conn: &mut DbConn, worker: &str, lease: Duration) -> QueryResult<Option<Job>> {
    let claim = Claim {
        worker,
        lease,
        lanes: &Lane::ALL,
        waiting_orgs: &[],
        now: db::now(),
    };
    claim_due(conn, &claim)
}

/// What a worker asks for when it claims a job.
pub struct Claim<'a> {
    pub worker: &'a str,
    pub lease: Duration,
    /// The lanes the worker serves.
    pub lanes: &'a [Lane],
    /// Organizations whose Lever rate limit would make the worker wait: their jobs are left to
    /// later, so one organization's burst never holds up another's work.
    pub waiting_orgs: &'a [String],
    /// Now, by the process's clock: what is due.
    pub now: NaiveDateTime,
}

/// Claims the oldest due job of `claim`'s lanes (see [`claim`]).
pub fn claim_due(conn: &mut DbConn, claim: &Claim<'_>) -> QueryResult<Option<Job>> {
    let now = claim.now;
    let holder = format!("{}/{}", claim.worker, crate::crypto::random_token(8));
    let abandoned = jobs::state
        .eq(JobState::Running)
        .and(jobs::locked_until.lt(now));
    let due = jobs::state
        .eq(JobState::Queued)
        .and(jobs::run_at.le(now))
        .or(abandoned.and(jobs::attempts.lt(jobs::max_attempts)));
    write_transaction(conn, |conn| {
        bury_exhausted(conn, now)?;
        let due = jobs::table
            .filter(jobs::lane.eq_any(claim.lanes))
            .filter(due)
            .filter(jobs::org_id.ne_all(claim.waiting_orgs))
            .order(jobs::run_at.asc())
            .select(jobs::id)
            .limit(1);
        let id: Option<String> = match conn {
            // Several replicas share the table: skip rows another transaction is claiming.
            DbConn::Pg(pg) => due.for_update().skip_locked().first(pg).optional()?,
            // SQLite: BEGIN IMMEDIATE already holds the only write lock.
            DbConn::Sqlite(lite) => due.first(lite).optional()?,
        };
        let Some(id) = id else { return Ok(None) };
        let until =
            now + chrono::Duration::from_std(claim.lease).unwrap_or(chrono::Duration::minutes(5));
        diesel::update(jobs::table.find(&id))
            .set((
                jobs::state.eq(JobState::Running),
                jobs::attempts.eq(jobs::attempts + 1),
                jobs::locked_until.eq(Some(until)),
                jobs::locked_by.eq(Some(&holder)),
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

/// A job whose worker died on each of its attempts (it may be what kills them) is dead, and
/// its delivery's outcome says so, with a Retry button beside it.
fn bury_exhausted(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<()> {
    let abandoned = jobs::state
        .eq(JobState::Running)
        .and(jobs::locked_until.lt(now));
    let exhausted: Vec<(String, Option<String>, i32, String)> = jobs::table
        .filter(abandoned)
        .filter(jobs::attempts.ge(jobs::max_attempts))
        .select((jobs::id, jobs::event_id, jobs::attempts, jobs::kind))
        .load(conn)?;
    for (id, event, attempts, kind) in exhausted {
        let buried = diesel::update(jobs::table.find(&id).filter(abandoned))
            .set((
                jobs::state.eq(JobState::Dead),
                jobs::last_error.eq(WORKER_DIED),
                jobs::locked_until.eq(None::<NaiveDateTime>),
                jobs::locked_by.eq(None::<String>),
                jobs::updated_at.eq(now),
            ))
            .execute(conn)?;
        if buried == 1 {
            crate::telemetry::job_outcome(&kind, "dead");
        }
        if let (1, Some(event)) = (buried, event) {
            let outcome = EventOutcome::FailedAfter {
                attempts,
                error: format!("{WORKER_DIED}."),
            };
            webhooks::record_outcome(conn, &event, &outcome)?;
        }
    }
    Ok(())
}

/// The job is done. Like every settling step, it only counts while `job`'s claim still holds:
/// `false` means the lease ran out and another worker owns the job now. Every settling step
/// takes `now` from the process's clock, as the claim did.
pub fn finish(conn: &mut DbConn, job: &Job, now: NaiveDateTime) -> QueryResult<bool> {
    set_state(conn, job, JobState::Done, None, now, now)
}

/// The job failed this attempt: run again after a backoff, or give up when out of attempts.
/// Returns whether it is now dead (`None` when the lease was lost).
pub fn fail(
    conn: &mut DbConn,
    job: &Job,
    error: &str,
    backoff: &Backoff,
    now: NaiveDateTime,
) -> QueryResult<Option<bool>> {
    if job.attempts >= job.max_attempts {
        let dead = set_state(conn, job, JobState::Dead, Some(error), now, now)?;
        return Ok(dead.then_some(true));
    }
    let delay = backoff.jittered(job.attempts);
    let run_at = now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1));
    let queued = set_state(conn, job, JobState::Queued, Some(error), run_at, now)?;
    Ok(queued.then_some(false))
}

/// The job waits for something an admin must fix (a broken connection, no default user).
pub fn park(conn: &mut DbConn, job: &Job, reason: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let updated = diesel::update(held(job))
        .set((
            jobs::state.eq(JobState::Parked),
            jobs::last_error.eq(Some(reason)),
            // Waiting is not failing: the attempt is given back.
            jobs::attempts.eq(jobs::attempts - 1),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::locked_by.eq(None::<String>),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}

/// The job is still being worked on: its lease runs `lease` from now. `false` means the claim
/// no longer holds (another worker claimed the job after the lease ran out), so the work must stop.
pub fn renew(
    conn: &mut DbConn,
    job: &Job,
    lease: Duration,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(1));
    let updated = diesel::update(held(job))
        .set((jobs::locked_until.eq(Some(until)), jobs::updated_at.eq(now)))
        .execute(conn)?;
    Ok(updated == 1)
}

/// The worker stops before the job finished (a graceful stop): the job is due again at once,
/// and the interrupted attempt is given back.
pub fn release(conn: &mut DbConn, job: &Job, now: NaiveDateTime) -> QueryResult<bool> {
    let updated = diesel::update(held(job))
        .set((
            jobs::state.eq(JobState::Queued),
            jobs::attempts.eq(jobs::attempts - 1),
            jobs::run_at.eq(now),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::locked_by.eq(None::<String>),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}

/// At the start of the only process that uses a SQLite database: the jobs its previous run
/// left running (it was killed) are held by nobody, so their leases end now and they are
/// claimed at once, each interrupted claim still counting as an attempt. Never on PostgreSQL,
/// where another replica may be running them.
pub fn reclaim_interrupted(conn: &mut DbConn) -> QueryResult<usize> {
    let now = db::now();
    let ended = now - chrono::Duration::seconds(1);
    diesel::update(jobs::table.filter(jobs::state.eq(JobState::Running)))
        .set((jobs::locked_until.eq(Some(ended)), jobs::updated_at.eq(now)))
        .execute(conn)
}

/// A job's row, as long as a claim on it still holds.
type HeldJob = diesel::dsl::Filter<
    diesel::dsl::Filter<
        diesel::dsl::Filter<jobs::table, diesel::dsl::Eq<jobs::id, String>>,
        diesel::dsl::Eq<jobs::state, JobState>,
    >,
    diesel::dsl::Eq<jobs::locked_by, String>,
>;

/// The row of a job, as long as the claim `job` describes still holds.
fn held(job: &Job) -> HeldJob {
    jobs::table
        .filter(jobs::id.eq(job.id.clone()))
        .filter(jobs::state.eq(JobState::Running))
        .filter(jobs::locked_by.eq(job.locked_by.clone().unwrap_or_default()))
}

/// The cause of parked jobs was fixed: queue them all again.
pub fn unpark(conn: &mut DbConn, org_id: &str) -> QueryResult<usize> {
    let now = db::now();
    diesel::update(
        jobs::table
            .filter(jobs::org_id.eq(org_id))
            .filter(jobs::state.eq(JobState::Parked)),
    )
    .set((
        jobs::state.eq(JobState::Queued),
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
            .filter(jobs::state.eq(JobState::Dead)),
    )
    .set((
        jobs::state.eq(JobState::Queued),
        jobs::attempts.eq(0),
        jobs::run_at.eq(now),
        jobs::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Where the job behind an event stands, for the Events page.
#[derive(Clone, Debug, Queryable)]
pub struct EventJob {
    pub event_id: Option<String>,
    pub job_id: String,
    pub state: JobState,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: NaiveDateTime,
}

impl EventJob {
    /// When a job that failed runs again; `None` unless it waits for a retry.
    pub fn next_attempt(&self) -> Option<NaiveDateTime> {
        (self.state == JobState::Queued && self.attempts > 0).then_some(self.run_at)
    }
}

/// The jobs behind these events that are dead or wait for another attempt.
pub fn for_events(conn: &mut DbConn, event_ids: &[String]) -> QueryResult<Vec<EventJob>> {
    jobs::table
        .filter(jobs::event_id.eq_any(event_ids))
        .filter(jobs::state.eq_any([JobState::Dead, JobState::Queued]))
        .select((
            jobs::event_id,
            jobs::id,
            jobs::state,
            jobs::attempts,
            jobs::max_attempts,
            jobs::run_at,
        ))
        .load(conn)
}

/// The jobs with these ids (those that still exist).
pub fn by_ids(conn: &mut DbConn, job_ids: &[String]) -> QueryResult<Vec<Job>> {
    jobs::table
        .filter(jobs::id.eq_any(job_ids))
        .select(Job::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConn, job_id: &str) -> QueryResult<Option<Job>> {
    jobs::table
        .find(job_id)
        .select(Job::as_select())
        .first(conn)
        .optional()
}

/// The most recent job of `kind` for the organization whose payload names `assessment_id` and
/// that is in trouble: waiting to retry after a failure, parked or dead. For the assessment's
/// page, since such jobs have no webhook delivery on Events.
pub fn trouble_for_assessment(
    conn: &mut DbConn,
    org_id: &str,
    kind: &str,
    assessment_id: &str,
) -> QueryResult<Option<Job>> {
    let names_it = format!("%\"assessment_id\":\"{assessment_id}\"%");
    jobs::table
        .filter(jobs::org_id.eq(org_id))
        .filter(jobs::kind.eq(kind))
        .filter(
            jobs::state
                .eq_any([JobState::Parked, JobState::Dead])
                .or(jobs::state.eq(JobState::Queued).and(jobs::attempts.gt(0))),
        )
        .filter(jobs::payload.like(names_it))
        .order(jobs::updated_at.desc())
        .select(Job::as_select())
        .first(conn)
        .optional()
}

/// An organization's unfinished jobs per state (queued, running, parked, dead), for the
/// Overview. Finished jobs are not counted: they are the history, which only grows, and the
/// index on (org_id, state) lets the count read only the others.
pub fn unfinished_counts(conn: &mut DbConn, org_id: &str) -> QueryResult<Vec<(JobState, i64)>> {
    use diesel::dsl::count_star;
    jobs::table
        .filter(jobs::org_id.eq(org_id))
        .filter(jobs::state.eq_any(JobState::UNFINISHED))
        .group_by(jobs::state)
        .select((jobs::state, count_star()))
        .load(conn)
}

/// The queue's depth, for `GET /metrics`.
#[derive(Clone, Debug, Default)]
pub struct QueueDepth {
    /// Unfinished jobs per lane and state (a pair with none is absent).
    pub counts: Vec<(Lane, JobState, i64)>,
    /// Per lane, when its oldest queued job that is due became due.
    pub oldest_due: Vec<(Lane, Option<NaiveDateTime>)>,
}

/// Each lane's unfinished jobs per state and its oldest due job. Both read only the
/// `(lane, state, run_at)` index over unfinished states, so they cost the queue's size, not the
/// history's.
pub fn depth(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<QueueDepth> {
    use diesel::dsl::count_star;
    let counts = jobs::table
        .filter(jobs::state.eq_any(JobState::UNFINISHED))
        .group_by((jobs::lane, jobs::state))
        .select((jobs::lane, jobs::state, count_star()))
        .load(conn)?;
    let oldest_due = Lane::ALL
        .into_iter()
        .map(|lane| Ok((lane, oldest_due(conn, &[lane], now)?)))
        .collect::<QueryResult<_>>()?;
    Ok(QueueDepth { counts, oldest_due })
}

/// When the oldest queued job of `lanes` that is due by `now` became due, if any is.
pub fn oldest_due(
    conn: &mut DbConn,
    lanes: &[Lane],
    now: NaiveDateTime,
) -> QueryResult<Option<NaiveDateTime>> {
    jobs::table
        .filter(jobs::lane.eq_any(lanes))
        .filter(jobs::state.eq(JobState::Queued))
        .filter(jobs::run_at.le(now))
        .select(diesel::dsl::min(jobs::run_at))
        .first(conn)
}

fn set_state(
    conn: &mut DbConn,
    job: &Job,
    state: JobState,
    error: Option<&str>,
    run_at: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(held(job))
        .set((
            jobs::state.eq(state),
            jobs::last_error.eq(error),
            jobs::run_at.eq(run_at),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::locked_by.eq(None::<String>),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}

/// When a failed job runs again: `base · 2^(n-1)` after its n-th failed attempt, at most `max`,
/// plus up to a quarter more at random so that jobs failing together do not retry together.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    pub fn from_tuning(tuning: &Tuning) -> Backoff {
        Backoff {
            base: tuning.job_backoff_base,
            max: tuning.job_backoff_max,
        }
    }

    /// The wait after the `attempt`-th failed attempt, before jitter.
    pub fn delay(&self, attempt: i32) -> Duration {
        let doublings = attempt.clamp(1, 31) as u32 - 1;
        self.base.saturating_mul(1u32 << doublings).min(self.max)
    }

    /// The wait after the `attempt`-th failed attempt, with its jitter.
    pub fn jittered(&self, attempt: i32) -> Duration {
        let delay = self.delay(attempt);
        delay + delay.mul_f64(rand::thread_rng().gen_range(0.0..0.25))
    }

    /// How long, at least, a job that fails every one of its `max_attempts` is retried before
    /// it is dead.
    pub fn span(&self, max_attempts: i32) -> Duration {
        (1..max_attempts).map(|attempt| self.delay(attempt)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_with_jitter() {
        let backoff = Backoff {
            base: Duration::from_secs(10),
            max: Duration::from_secs(3600),
        };
        assert_eq!(backoff.delay(1), Duration::from_secs(10));
        assert_eq!(backoff.delay(3), Duration::from_secs(40));
        assert_eq!(backoff.delay(30), Duration::from_secs(3600));
        assert_eq!(backoff.delay(i32::MAX), Duration::from_secs(3600));
        for attempt in [1, 3, 30] {
            let jittered = backoff.jittered(attempt);
            let delay = backoff.delay(attempt);
            assert!(jittered >= delay && jittered <= delay.mul_f64(1.25));
        }
    }

    /// A Lever outage of a day must not kill the work that arrived meanwhile.
    #[test]
    fn the_default_schedule_retries_for_more_than_a_day() {
        let tuning = Tuning::default();
        let span = Backoff::from_tuning(&tuning).span(tuning.job_max_attempts);
        assert!(
            span >= Duration::from_secs(24 * 3600),
            "retried for only {span:?}"
        );
        // …but not for days on end.
        assert!(span <= Duration::from_secs(36 * 3600), "{span:?}");
    }

    /// After a short Lever outage the work goes through within about 15 s, not a minute later;
    /// later waits still double to the same six-hour cap.
    #[test]
    fn the_default_first_retry_comes_within_fifteen_seconds() {
        let tuning = Tuning::default();
        let backoff = Backoff::from_tuning(&tuning);
        for _ in 0..200 {
            assert!(backoff.jittered(1) <= Duration::from_secs(15));
        }
        assert!(
            backoff.delay(1) >= Duration::from_secs(10),
            "not a hammering"
        );
        assert_eq!(backoff.delay(2), backoff.delay(1) * 2);
        assert_eq!(
            backoff.delay(tuning.job_max_attempts - 1),
            Duration::from_secs(6 * 3600)
        );
    }
}
