//! The intake: stores verified webhook deliveries with the jobs they cause.
//!
//! Handlers verify a delivery in memory and hand it here; one writer task takes everything
//! waiting and stores it in one transaction (group commit), then answers each handler, which
//! only then answers Lever. Every delivery is still stored with its job, atomically, before its
//! 2xx; many share a commit, and SQLite has a single writer instead of several waiting on its lock.

pub mod classify;
mod store;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use tokio::sync::{mpsc, oneshot};

use diesel::r2d2::PooledConnection;

use crate::db::connection::ConnectionManager;
use crate::db::webhooks::{EventTally, SeenToken, WebhookEvent};
use crate::db::{Db, DbConn, DbError};
use crate::domain::{webhook_event, DeliveryStatus};
use crate::queue::table::Job;
use crate::queue::Jobs;

/// Most deliveries stored in one transaction.
const MAX_BATCH: usize = 256;
/// Writers on PostgreSQL.
const PG_WRITERS: usize = 2;
/// How often SQLite's writer copies the log into the database between its batches. With no
/// commit running meanwhile the copy catches up with the whole log, so the next commit starts
/// the log from its beginning again: the log is rewritten in place instead of growing.
const SQLITE_CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// Deliveries waiting for the writer before handlers wait for room (back-pressure).
const QUEUE: usize = 8192;

/// A delivery ready to store: its event row, the job it causes, and whether its token must
/// not have been seen before.
#[derive(Clone)]
pub struct Delivery {
    pub event: WebhookEvent,
    pub job: Option<Job>,
    pub deduplicate: bool,
}

/// What storing a delivery came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Stored {
    /// Stored as it was (a rejection, a verification, an event with no job).
    Recorded,
    /// Stored with its job.
    Queued,
    /// Its token was accepted before: stored as a duplicate, no job.
    Duplicate,
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("the delivery could not be stored: {0}")]
    Store(String),
    #[error("the intake has stopped")]
    Stopped,
    #[error("the store is behind: the delivery was not stored within {0:?}")]
    Busy(Duration),
}

struct Pending {
    delivery: Delivery,
    reply: oneshot::Sender<Result<Stored, IntakeError>>,
}

#[derive(Clone)]
pub struct Intake {
    tx: mpsc::Sender<Pending>,
    /// How long a delivery may wait to be stored (`Tuning::intake_wait`).
    wait: Duration,
}

impl Intake {
    /// Starts the writers: one on SQLite (a second would only wait for its write lock), a few
    /// on PostgreSQL (while one waits for its commit, another gathers the next batch).
    pub fn start(db: Db, jobs: Arc<Jobs>, wait: Duration) -> Intake {
        let (tx, rx) = mpsc::channel(QUEUE);
        let rx = Arc::new(std::sync::Mutex::new(rx));
        let writers = if db.is_postgres() { PG_WRITERS } else { 1 };
        for n in 0..writers {
            let (db, jobs, rx) = (db.clone(), jobs.clone(), rx.clone());
            std::thread::Builder::new()
                .name(format!("intake-writer-{n}"))
                .spawn(move || writer(n as i32, db, jobs, rx))
                .expect("an intake writer thread starts");
        }
        Intake { tx, wait }
    }

    /// Deliveries handed in and not yet taken by a writer (what a test waits on instead of a
    /// guessed pause).
    pub fn waiting(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Stores a delivery; returns once it is committed, or `Busy` when that takes longer than
    /// the intake's wait. A delivery that gave up waiting may still be stored afterwards; Lever's
    /// next attempt is then a duplicate, acknowledged and not acted on twice.
    pub async fn store(&self, delivery: Delivery) -> Result<Stored, IntakeError> {
        let (reply, answer) = oneshot::channel();
        let stored = async {
            self.tx
                .send(Pending { delivery, reply })
                .await
                .map_err(|_| IntakeError::Stopped)?;
            answer.await.map_err(|_| IntakeError::Stopped)?
        };
        tokio::time::timeout(self.wait, stored)
            .await
            .unwrap_or(Err(IntakeError::Busy(self.wait)))
    }
}

/// A writer: a thread of its own keeping its connection, so a batch costs no thread hop and no
/// pool checkout. It takes everything waiting (up to a batch), stores it, answers each sender,
/// and repeats; it ends when the server (every sender) is gone.
fn writer(n: i32, db: Db, jobs: Arc<Jobs>, rx: Arc<std::sync::Mutex<mpsc::Receiver<Pending>>>) {
    let mut writer = Writer { n, db, held: None };
    let mut checkpointed = Instant::now();
    loop {
        let batch = {
            let mut rx = rx.lock().unwrap_or_else(|p| p.into_inner());
            let Some(first) = rx.blocking_recv() else {
                return;
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            batch
        };
        let (deliveries, replies): (Vec<Delivery>, Vec<_>) =
            batch.into_iter().map(|p| (p.delivery, p.reply)).unzip();
        let outcomes = writer.store_each(deliveries);
        if outcomes.iter().any(|o| matches!(o, Ok(Stored::Queued))) {
            jobs.wake();
        }
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            let _ = reply.send(outcome.map_err(|e| IntakeError::Store(e.to_string())));
        }
        if checkpointed.elapsed() >= SQLITE_CHECKPOINT_EVERY {
            checkpointed = Instant::now();
            if let Some(DbConn::Sqlite(conn)) = writer.held.as_deref_mut() {
                checkpoint(conn);
            }
        }
    }
}

/// A writer's connection, kept between batches while it works.
struct Writer {
    n: i32,
    db: Db,
    held: Option<PooledConnection<ConnectionManager>>,
}

impl Writer {
    /// Stores a batch in one commit; if that fails, each delivery on its own, so one bad
    /// delivery fails only itself and not every organization's deliveries batched with it.
    fn store_each(&mut self, deliveries: Vec<Delivery>) -> Vec<Result<Stored, DbError>> {
        if deliveries.len() == 1 {
            return vec![self.store(deliveries).map(|mut stored| stored.remove(0))];
        }
        // Kept for the one-by-one retry: a failed batch may have marked some as duplicates of
        // copies whose storing it then rolled back.
        let copies = deliveries.clone();
        match self.store(deliveries) {
            Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
            Err(e) => {
                tracing::warn!(error = %e, deliveries = copies.len(),
                    "a batch of webhook deliveries failed; storing them one by one");
                copies
                    .into_iter()
                    .map(|delivery| self.store(vec![delivery]).map(|mut s| s.remove(0)))
                    .collect()
            }
        }
    }

    /// Stores deliveries in one transaction on the writer's connection.
    fn store(&mut self, deliveries: Vec<Delivery>) -> Result<Vec<Stored>, DbError> {
        let mut conn = match self.held.take() {
            Some(conn) => conn,
            None => {
                let mut conn = self.db.get()?;
                durable(&mut conn)?;
                conn
            }
        };
        // A panic while storing must not end the writer (every later delivery would fail): the
        // deliveries are refused, Lever retries them, and the connection is not reused.
        let stored = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            store_batch(&mut conn, deliveries, self.n)
        }))
        .unwrap_or_else(|_| Err(DbError::Pool("storing the deliveries panicked".into())));
        match &stored {
            Ok(_) => self.held = Some(conn),
            Err(e) => tracing::error!(error = %e, "failed to store webhook deliveries"),
        }
        stored
    }
}

/// A passive checkpoint on the writer's own connection (see `SQLITE_CHECKPOINT_EVERY`).
fn checkpoint(conn: &mut diesel::SqliteConnection) {
    use diesel::connection::SimpleConnection;
    if let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE)") {
        tracing::warn!(error = %e, "SQLite checkpoint failed; it is tried again later");
    }
}

/// Lever is told a delivery is stored only after its commit, so that commit must survive a power
/// loss: on SQLite the writer's connection syncs the log on every commit (`synchronous = FULL`;
/// other connections stay at NORMAL, their work is idempotent and runs again). PostgreSQL's
/// commits are durable by default.
fn durable(conn: &mut DbConn) -> Result<(), DbError> {
    use diesel::connection::SimpleConnection;
    if let DbConn::Sqlite(conn) = conn {
        conn.batch_execute("PRAGMA synchronous = FULL")?;
    }
    Ok(())
}

/// Stores a batch: each delivery with its job, atomically, and a delivery whose token was
/// accepted before (earlier, concurrently, or earlier in the same batch) as a duplicate without
/// its job; and adds the batch to `writer`'s tallies for the Webhooks page, in the same
/// transaction. Outcomes come back in the deliveries' order.
fn store_batch(
    conn: &mut DbConn,
    deliveries: Vec<Delivery>,
    writer: i32,
) -> Result<Vec<Stored>, DbError> {
    store::store_batch(conn, deliveries, writer)
}

/// Whether the Webhooks page counts this event: only the events leverbridge handles are shown.
fn counted(event: &WebhookEvent) -> bool {
    webhook_event(&event.event).is_some()
}

/// What a stored batch adds to the Webhooks page's figures, per organization and event.
fn tallies(deliveries: &[Delivery], writer: i32) -> Vec<EventTally> {
    let mut tallies: Vec<EventTally> = Vec::new();
    for event in deliveries.iter().map(|d| &d.event).filter(|e| counted(e)) {
        let i = match tallies
            .iter()
            .position(|t| t.org_id == event.org_id && t.event == event.event)
        {
            Some(i) => i,
            None => {
                tallies.push(EventTally {
                    org_id: event.org_id.clone(),
                    event: event.event.clone(),
                    writer,
                    accepted: 0,
                    rejected: 0,
                    last_received_at: event.received_at,
                    last_signature_valid: event.signature_valid,
                    last_verification_at: None,
                });
                tallies.len() - 1
            }
        };
        tallies[i].add(event.received_at, event.signature_valid, event.status);
    }
    tallies
}

/// What a duplicate's event says, naming the delivery that first brought its token (when it is
/// known: one accepted by a concurrent transaction may not be visible yet).
fn duplicate_outcome(first_received: Option<NaiveDateTime>) -> String {
    let first = match first_received {
        Some(at) => format!(
            "the delivery received {}",
            at.format("%-d %b %Y %H:%M:%S UTC")
        ),
        None => "an earlier delivery".to_owned(),
    };
    format!(
        "Duplicate of {first} (the same delivery token: a retry or a replay); nothing was done."
    )
}

impl Delivery {
    /// The token this delivery must be the first to bring, if any.
    fn claim(&self) -> Option<SeenToken> {
        let token = self.event.token.clone().filter(|_| self.deduplicate)?;
        Some(SeenToken {
            org_id: self.event.org_id.clone(),
            triggered_at: self.event.triggered_at?,
            token,
            event_id: self.event.id.clone(),
        })
    }

    /// How this delivery, as it now stands, was stored.
    fn stored(&self) -> Stored {
        if self.event.status == DeliveryStatus::Duplicate {
            Stored::Duplicate
        } else if self.job.is_some() {
            Stored::Queued
        } else {
            Stored::Recorded
        }
    }

    /// Turns this delivery into a duplicate: no job, and an outcome that says so.
    fn mark_duplicate(&mut self, first_received: Option<NaiveDateTime>) {
        self.event.status = DeliveryStatus::Duplicate;
        self.event.outcome = duplicate_outcome(first_received);
        self.job = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(diesel::QueryableByName)]
    struct Synchronous {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        synchronous: i32,
    }

    fn synchronous(conn: &mut DbConn) -> i32 {
        use diesel::RunQueryDsl;
        diesel::sql_query("PRAGMA synchronous")
            .get_result::<Synchronous>(conn)
            .unwrap()
            .synchronous
    }

    #[test]
    fn on_sqlite_the_writer_syncs_every_commit_and_other_connections_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let url = crate::config::DatabaseUrl::Sqlite(dir.path().join("intake.db"));
        let db = Db::connect(&url).unwrap();
        db.migrate().unwrap();
        let mut writer = Writer {
            n: 0,
            db: db.clone(),
            held: None,
        };
        assert_eq!(writer.store(Vec::new()).unwrap(), Vec::new());
        let held = writer
            .held
            .as_deref_mut()
            .expect("the writer keeps its connection");
        assert_eq!(synchronous(held), 2, "FULL on the writer's connection");
        assert_eq!(synchronous(&mut db.get().unwrap()), 1, "NORMAL elsewhere");
    }

    fn event(name: &str, status: DeliveryStatus, valid: bool, second: u32) -> Delivery {
        let received_at = chrono::NaiveDate::from_ymd_opt(2026, 11, 22)
            .unwrap()
            .and_hms_opt(12, 0, second)
            .unwrap();
        Delivery {
            event: WebhookEvent {
                id: format!("{name}-{second}"),
                org_id: "org".into(),
                received_at,
                event: name.into(),
                token: None,
                triggered_at: None,
                opportunity_id: None,
                to_stage_id: None,
                signature_valid: valid,
                status,
                outcome: String::new(),
                configuration_id: None,
                body: "{}".into(),
                candidate_name: None,
            },
            job: None,
            deduplicate: false,
        }
    }

    #[test]
    fn a_batch_is_tallied_per_handled_event_with_its_latest_delivery() {
        let batch = [
            event("candidateStageChange", DeliveryStatus::Queued, true, 1),
            event("candidateStageChange", DeliveryStatus::Rejected, false, 3),
            event("candidateStageChange", DeliveryStatus::Duplicate, true, 2),
            event("candidateHired", DeliveryStatus::Verification, true, 4),
            event("interviewCreated", DeliveryStatus::Rejected, false, 5),
            event("unknown", DeliveryStatus::Rejected, false, 6),
        ];
        let tallies = tallies(&batch, 1);
        assert_eq!(tallies.len(), 2, "only handled events are counted");
        let change = &tallies[0];
        assert_eq!(
            (
                change.event.as_str(),
                change.writer,
                change.accepted,
                change.rejected
            ),
            ("candidateStageChange", 1, 2, 1)
        );
        assert_eq!(change.last_received_at, batch[1].event.received_at);
        assert!(
            !change.last_signature_valid,
            "the latest delivery's signature"
        );
        assert_eq!(change.last_verification_at, None);
        let hired = &tallies[1];
        assert_eq!((hired.accepted, hired.rejected), (1, 0));
        assert_eq!(hired.last_verification_at, Some(batch[3].event.received_at));
    }
}
