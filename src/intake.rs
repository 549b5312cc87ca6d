//! The intake: stores verified webhook deliveries with the jobs they cause.
//!
//! Handlers verify a delivery in memory and hand it here; one writer task takes everything
//! waiting and stores it in one transaction (group commit), then answers each handler, which
//! only then answers Lever. Every delivery is still stored with its job, atomically, before its
//! 2xx; many share a commit, and SQLite has a single writer instead of several waiting on its lock.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Mutex};

use crate::db::connection::write_transaction;
use crate::db::webhooks::{SeenToken, WebhookEvent};
use crate::db::{self, Db, DbConn, DbError};
use crate::jobs::queue::{self, Job};
use crate::jobs::Jobs;

/// Most deliveries stored in one transaction.
const MAX_BATCH: usize = 256;
/// Deliveries waiting for the writer before handlers wait for room (back-pressure).
const QUEUE: usize = 8192;

/// A delivery ready to store: its event row, the job it causes, and whether its token must
/// not have been seen before.
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
}

struct Pending {
    delivery: Delivery,
    reply: oneshot::Sender<Result<Stored, IntakeError>>,
}

#[derive(Clone)]
pub struct Intake {
    tx: mpsc::Sender<Pending>,
}

impl Intake {
    /// Starts the writers on the current runtime: one on SQLite (a second would only wait for
    /// its write lock), several on PostgreSQL (each batch is mostly round trips, which overlap).
    pub fn start(db: Db, jobs: Arc<Jobs>) -> Intake {
        let (tx, rx) = mpsc::channel(QUEUE);
        if db.is_postgres() {
            let rx = Arc::new(Mutex::new(rx));
            for _ in 0..4 {
                tokio::spawn(writer(db.clone(), jobs.clone(), rx.clone()));
            }
        } else {
            std::thread::Builder::new()
                .name("intake-writer".into())
                .spawn(move || sqlite_writer(db, jobs, rx))
                .expect("the intake writer thread starts");
        }
        Intake { tx }
    }

    /// Stores a delivery; returns once it is committed.
    pub async fn store(&self, delivery: Delivery) -> Result<Stored, IntakeError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Pending { delivery, reply })
            .await
            .map_err(|_| IntakeError::Stopped)?;
        answer.await.map_err(|_| IntakeError::Stopped)?
    }
}

/// SQLite's one writer: a thread of its own keeping its connection, so a batch costs no thread
/// hop and no pool checkout. It ends when the server (every sender) is gone.
fn sqlite_writer(db: Db, jobs: Arc<Jobs>, mut rx: mpsc::Receiver<Pending>) {
    let mut held = None;
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let (deliveries, replies): (Vec<Delivery>, Vec<_>) =
            batch.into_iter().map(|p| (p.delivery, p.reply)).unzip();
        let conn = match held.take() {
            Some(conn) => Ok(conn),
            None => db.get(),
        };
        let result = conn.and_then(|mut conn| {
            // A panic while storing must not end the writer (every later delivery would fail):
            // the batch is refused, Lever retries it, and the connection is not reused.
            let stored = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                store_batch(&mut conn, deliveries)
            }))
            .unwrap_or_else(|_| Err(DbError::Pool("storing the batch panicked".into())));
            if stored.is_ok() {
                held = Some(conn);
            }
            stored
        });
        answer(&jobs, replies, result);
    }
}

/// Takes everything waiting (up to a batch), stores it, answers each sender; repeats.
async fn writer(db: Db, jobs: Arc<Jobs>, rx: Arc<Mutex<mpsc::Receiver<Pending>>>) {
    loop {
        let mut batch = Vec::new();
        {
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else { return };
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
        }
        let (deliveries, replies): (Vec<Delivery>, Vec<_>) =
            batch.into_iter().map(|p| (p.delivery, p.reply)).unzip();
        let result = db.run(move |conn| store_batch(conn, deliveries)).await;
        answer(&jobs, replies, result);
    }
}

/// Tells each sender how its delivery was stored, and wakes a job worker if work arrived.
fn answer(
    jobs: &Jobs,
    replies: Vec<oneshot::Sender<Result<Stored, IntakeError>>>,
    result: Result<Vec<Stored>, DbError>,
) {
    match result {
        Ok(outcomes) => {
            if outcomes.contains(&Stored::Queued) {
                jobs.wake();
            }
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                let _ = reply.send(Ok(outcome));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "failed to store webhook deliveries");
            for reply in replies {
                let _ = reply.send(Err(IntakeError::Store(e.to_string())));
            }
        }
    }
}

/// Stores a batch in one transaction: duplicates (by delivery token, against earlier deliveries,
/// concurrent batches and the batch itself) are stored as such, without their job.
pub fn store_batch(
    conn: &mut DbConn,
    mut deliveries: Vec<Delivery>,
) -> Result<Vec<Stored>, DbError> {
    write_transaction(conn, |conn| {
        // The first of each token in the batch claims it; later copies are duplicates of it.
        let mut first_in_batch: HashMap<(String, String), String> = HashMap::new();
        let mut duplicate_of: Vec<Option<String>> = vec![None; deliveries.len()];
        let mut claims = Vec::new();
        for (i, delivery) in deliveries.iter().enumerate() {
            let Some(token) = delivery
                .event
                .token
                .clone()
                .filter(|_| delivery.deduplicate)
            else {
                continue;
            };
            let key = (delivery.event.org_id.clone(), token.clone());
            match first_in_batch.get(&key) {
                Some(first) => duplicate_of[i] = Some(first.clone()),
                None => {
                    first_in_batch.insert(key, delivery.event.id.clone());
                    claims.push(SeenToken {
                        org_id: delivery.event.org_id.clone(),
                        token,
                        event_id: delivery.event.id.clone(),
                    });
                }
            }
        }
        let claimed = db::webhooks::claim_tokens(conn, &claims)?;
        // Tokens claimed elsewhere: find the event that has them.
        let mut lost: HashMap<&str, Vec<String>> = HashMap::new();
        for claim in claims
            .iter()
            .filter(|c| !claimed.contains(&(c.org_id.clone(), c.token.clone())))
        {
            lost.entry(claim.org_id.as_str())
                .or_default()
                .push(claim.token.clone());
        }
        let mut earlier: HashMap<(String, String), String> = HashMap::new();
        for (org_id, tokens) in lost {
            for seen in db::webhooks::seen(conn, org_id, &tokens)? {
                earlier.insert((seen.org_id, seen.token), seen.event_id);
            }
        }
        let mut jobs = Vec::new();
        let mut outcomes = Vec::with_capacity(deliveries.len());
        for (delivery, in_batch) in deliveries.iter_mut().zip(duplicate_of) {
            let key = delivery
                .event
                .token
                .clone()
                .map(|t| (delivery.event.org_id.clone(), t));
            let first = in_batch.or_else(|| {
                key.and_then(|k| earlier.get(&k).cloned())
                    .filter(|_| delivery.deduplicate)
            });
            if let Some(first) = first {
                delivery.event.status = "duplicate".into();
                delivery.event.outcome = format!(
                    "Duplicate of event {} (the same delivery token: a retry or a replay); nothing was done.",
                    &first[..first.len().min(8)]
                );
                delivery.job = None;
                outcomes.push(Stored::Duplicate);
                continue;
            }
            outcomes.push(if delivery.job.is_some() {
                Stored::Queued
            } else {
                Stored::Recorded
            });
            jobs.extend(delivery.job.take());
        }
        let events: Vec<WebhookEvent> = deliveries.into_iter().map(|d| d.event).collect();
        db::webhooks::insert_events(conn, &events)?;
        queue::insert_jobs(conn, &jobs)?;
        Ok(outcomes)
    })
}
