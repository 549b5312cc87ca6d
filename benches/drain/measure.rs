//! One drain, timed on the simulated Lever: every candidate moved into the trigger stage at once,
//! then Lever's request log read until every candidate has its link.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::{stream, TryStreamExt};
use leverbridge::lever_sim::RateLimit;

use crate::lever::{Account, Lever, Request};

/// How often the request log is read.
const POLL: Duration = Duration::from_millis(250);
/// Once every candidate has its link, the drain is over when Lever hears nothing for this long
/// (the last invitations' tag and note follow their link).
const QUIET: Duration = Duration::from_secs(2);
/// Before that, a drain with no Lever call for this long has stalled (its jobs wait out a
/// retry backoff); the Lever client's own retries of a 429 wait at most a few seconds.
const STALL: Duration = Duration::from_secs(8);
/// Moves in flight at once per organization: a recruiter's bulk move.
const MOVES_IN_FLIGHT: usize = 4;

/// How waiting for the links ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Every candidate got its link.
    Linked,
    /// The deadline passed first.
    Deadline,
    /// Lever heard nothing for [`STALL`] before every candidate had its link.
    Stalled,
}

/// What one drain did, read from Lever's request logs.
pub struct Drain {
    pub ending: Ending,
    pub invitations: usize,
    pub linked: usize,
    /// From the first move until the last candidate's link arrived, when all did.
    pub links: Option<Duration>,
    /// From the first move until the bench stopped waiting.
    pub waited: Duration,
    /// From the first move until the last move was answered (its delivery accepted).
    pub moved: Duration,
    /// Per key (account): the Lever requests made after the first move.
    pub per_key: Vec<KeyLog>,
}

/// One key's requests after the first move.
pub struct KeyLog {
    pub requests: Vec<Request>,
    pub t0_ms: i64,
}

impl KeyLog {
    pub fn calls(&self) -> usize {
        self.requests.len()
    }

    /// Requests Lever answered 429.
    pub fn refused(&self) -> usize {
        self.requests
            .iter()
            .filter(|r| r.status == Some(429))
            .count()
    }

    /// Requests Lever let through its bucket (answered anything but 429).
    pub fn accepted(&self) -> usize {
        self.calls() - self.refused()
    }

    /// The shortest time Lever's bucket allows for the requests it accepted: the burst at once,
    /// then the steady rate.
    pub fn bound(&self, limit: RateLimit) -> Duration {
        let accepted = self.accepted() as f64;
        Duration::from_secs_f64((accepted - limit.burst).max(0.0) / limit.per_second)
    }

    /// The most requests in any one-second window.
    pub fn peak_per_second(&self) -> usize {
        let mut at: Vec<i64> = self.requests.iter().map(|r| r.at_ms).collect();
        at.sort_unstable();
        let mut peak = 0;
        let mut first = 0;
        for (last, t) in at.iter().enumerate() {
            while *t - at[first] >= 1000 {
                first += 1;
            }
            peak = peak.max(last - first + 1);
        }
        peak
    }

    /// From the first move until the last request.
    pub fn last_call(&self) -> Option<Duration> {
        let last = self.requests.iter().map(|r| r.at_ms).max()?;
        Some(Duration::from_millis((last - self.t0_ms).max(0) as u64))
    }

    /// When each opportunity's link first arrived.
    fn linked_at(&self) -> HashMap<&str, i64> {
        let mut linked = HashMap::new();
        for request in &self.requests {
            if let Some(id) = request.linked_opportunity() {
                linked.entry(id).or_insert(request.at_ms);
            }
        }
        linked
    }
}

impl Drain {
    pub fn accepted(&self) -> usize {
        self.per_key.iter().map(KeyLog::accepted).sum()
    }

    pub fn refused(&self) -> usize {
        self.per_key.iter().map(KeyLog::refused).sum()
    }

    /// Keys work in parallel: the slowest key's bound.
    pub fn bound(&self, limit: RateLimit) -> Duration {
        self.per_key
            .iter()
            .map(|k| k.bound(limit))
            .max()
            .unwrap_or_default()
    }

    pub fn peak_per_second(&self) -> usize {
        self.per_key
            .iter()
            .map(KeyLog::peak_per_second)
            .max()
            .unwrap_or(0)
    }

    pub fn last_call(&self) -> Option<Duration> {
        self.per_key.iter().filter_map(KeyLog::last_call).max()
    }
}

/// Moves every account's candidates into the trigger stage at once and waits until each has
/// its link in Lever, then until Lever goes quiet, or until `deadline` or a stall.
pub async fn drain(
    lever: &Lever,
    accounts: &[Account],
    deadline: Duration,
) -> anyhow::Result<Drain> {
    let t0_ms = chrono::Utc::now().timestamp_millis();
    let started = Instant::now();
    let moves = async {
        let per_account = accounts.iter().map(|account| {
            stream::iter(account.opportunities.iter().map(Ok)).try_for_each_concurrent(
                MOVES_IN_FLIGHT,
                move |opportunity| {
                    lever.move_to(&account.id, opportunity, &account.trigger_stage_id)
                },
            )
        });
        futures_util::future::try_join_all(per_account).await?;
        anyhow::Ok(started.elapsed())
    };
    let watch = async {
        let mut seen = 0;
        let mut last_growth = Instant::now();
        loop {
            tokio::time::sleep(POLL).await;
            let logs = read_logs(lever, accounts, t0_ms).await?;
            let calls: usize = logs.iter().map(KeyLog::calls).sum();
            if calls != seen {
                seen = calls;
                last_growth = Instant::now();
            }
            let (linked, links) = linked(accounts, &logs, t0_ms);
            let ending = if links.is_some() {
                (last_growth.elapsed() >= QUIET).then_some(Ending::Linked)
            } else if started.elapsed() >= deadline {
                Some(Ending::Deadline)
            } else if last_growth.elapsed() >= STALL {
                Some(Ending::Stalled)
            } else {
                None
            };
            if let Some(ending) = ending {
                return anyhow::Ok((ending, linked, links, logs, started.elapsed()));
            }
        }
    };
    let (moved, watched) = tokio::join!(moves, watch);
    let moved = moved?;
    let (ending, linked, links, per_key, waited) = watched?;
    Ok(Drain {
        ending,
        invitations: accounts.iter().map(|a| a.opportunities.len()).sum(),
        linked,
        links,
        waited,
        moved,
        per_key,
    })
}

/// Each account's requests since `t0_ms`.
async fn read_logs(lever: &Lever, accounts: &[Account], t0_ms: i64) -> anyhow::Result<Vec<KeyLog>> {
    let mut logs = Vec::with_capacity(accounts.len());
    for account in accounts {
        let requests = lever
            .requests(&account.id)
            .await?
            .into_iter()
            .filter(|r| r.at_ms >= t0_ms)
            .collect();
        logs.push(KeyLog { requests, t0_ms });
    }
    Ok(logs)
}

/// How many candidates have their link and, when all do, how long after the first move the
/// last one arrived.
fn linked(accounts: &[Account], logs: &[KeyLog], t0_ms: i64) -> (usize, Option<Duration>) {
    let mut count = 0;
    let mut last = t0_ms;
    let mut all = true;
    for (account, log) in accounts.iter().zip(logs) {
        let linked = log.linked_at();
        for opportunity in &account.opportunities {
            match linked.get(opportunity.as_str()) {
                Some(at) => {
                    count += 1;
                    last = last.max(*at);
                }
                None => all = false,
            }
        }
    }
    let links = all.then(|| Duration::from_millis((last - t0_ms) as u64));
    (count, links)
}

/// Candidates whose opportunity holds no link in Lever, read from each opportunity itself (a
/// check on what the request log said).
pub async fn unlinked(lever: &Lever, accounts: &[Account]) -> anyhow::Result<usize> {
    let mut missing = 0;
    for account in accounts {
        for opportunity in &account.opportunities {
            if lever.links(&account.id, opportunity).await? == 0 {
                missing += 1;
            }
        }
    }
    Ok(missing)
}
