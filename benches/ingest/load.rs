//! The load generator: deliveries signed ahead of time, the two targets, and clients sending
//! back to back.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use anyhow::{bail, Context};
use leverbridge::crypto::random_token;

use crate::EVENT;

/// Signed deliveries made before a timed slice, so that during it the load generator does the
/// same per-request work for both loads (one HTTP exchange) and its signing and JSON encoding
/// are not counted against the server.
pub struct Presigned {
    pub bodies: Vec<Bytes>,
    pub next: AtomicUsize,
    /// Requests that found the stock used up and were signed during the slice.
    pub signed_late: AtomicUsize,
}

impl Presigned {
    pub fn new(signature_token: &str, count: usize) -> Presigned {
        Presigned {
            bodies: (0..count).map(|_| delivery(signature_token)).collect(),
            next: AtomicUsize::new(0),
            signed_late: AtomicUsize::new(0),
        }
    }

    pub fn take(&self, signature_token: &str) -> Bytes {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        match self.bodies.get(i) {
            Some(body) => body.clone(),
            None => {
                self.signed_late.fetch_add(1, Ordering::Relaxed);
                delivery(signature_token)
            }
        }
    }
}

/// A fresh stage-change delivery (its own token and opportunity), signed as Lever signs.
pub fn delivery(signature_token: &str) -> Bytes {
    let token = random_token(48);
    let triggered_at = chrono::Utc::now().timestamp_millis();
    let body = serde_json::json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "triggeredAt": triggered_at,
        "event": EVENT,
        "data": {
            "opportunityId": uuid::Uuid::new_v4().to_string(),
            "toStageId": "stage-assessment",
            "fromStageId": "stage-phone-screen",
        },
        "signature": leverbridge::lever::sign(signature_token.as_bytes(), &token, triggered_at),
        "token": token,
    });
    serde_json::to_vec(&body).expect("serialisable").into()
}

/// What the load sends: signed deliveries, or the no-op health check.
#[derive(Clone)]
pub enum Target {
    Webhook {
        url: String,
        signature_token: String,
        stock: Arc<Presigned>,
    },
    Noop {
        url: String,
    },
}

impl Target {
    /// The same target with `count` freshly signed deliveries in stock (none for the no-op).
    pub fn stocked(&self, count: usize) -> Target {
        match self {
            Target::Webhook {
                url,
                signature_token,
                ..
            } => Target::Webhook {
                url: url.clone(),
                signature_token: signature_token.clone(),
                stock: Arc::new(Presigned::new(signature_token, count)),
            },
            Target::Noop { .. } => self.clone(),
        }
    }

    pub fn signed_late(&self) -> usize {
        match self {
            Target::Webhook { stock, .. } => stock.signed_late.load(Ordering::Relaxed),
            Target::Noop { .. } => 0,
        }
    }

    /// One request; `Err` says why it does not count as answered.
    pub async fn send(&self, client: &reqwest::Client) -> Result<(), String> {
        let response = match self {
            Target::Webhook {
                url,
                signature_token,
                stock,
            } => {
                client
                    .post(url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(stock.take(signature_token))
                    .send()
                    .await
            }
            Target::Noop { url } => client.get(url).send().await,
        }
        .map_err(|e| format!("request failed: {e}"))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| format!("answer unreadable: {e}"))?;
        if status != reqwest::StatusCode::OK {
            return Err(format!("{status}: {}", String::from_utf8_lossy(&body)));
        }
        if matches!(self, Target::Webhook { .. }) && &body[..] != br#"{"status":"accepted"}"# {
            return Err(format!(
                "200 but not accepted: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        Ok(())
    }
}

/// What one load run saw.
#[derive(Default)]
pub struct Tally {
    /// 200s over the whole run, warm-up included (what the database must hold).
    pub answered: u64,
    /// 200s to requests started inside a measured window.
    pub measured: u64,
    /// Latencies of those.
    pub latencies: Vec<Duration>,
    pub failures: u64,
    pub first_failure: Option<String>,
}

impl Tally {
    pub fn merge(&mut self, other: Tally) {
        self.answered += other.answered;
        self.measured += other.measured;
        self.latencies.extend(other.latencies);
        self.failures += other.failures;
        if self.first_failure.is_none() {
            self.first_failure = other.first_failure;
        }
    }

    pub fn percentile_ms(&self, p: usize) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = (self.latencies.len() * p / 100).min(self.latencies.len() - 1);
        self.latencies[i].as_secs_f64() * 1000.0
    }
}

/// `clients` tasks sending back to back: `warm_up` (not measured), then `measure`.
pub async fn run_load(
    client: &reqwest::Client,
    target: &Target,
    clients: usize,
    warm_up: Duration,
    measure: Duration,
) -> anyhow::Result<Tally> {
    let measure_from = Instant::now() + warm_up;
    let end = measure_from + measure;
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let client = client.clone();
            let target = target.clone();
            tokio::spawn(async move {
                let mut tally = Tally::default();
                loop {
                    let sent = Instant::now();
                    if sent >= end {
                        break;
                    }
                    let result = target.send(&client).await;
                    let took = sent.elapsed();
                    match result {
                        Ok(()) => {
                            tally.answered += 1;
                            if sent >= measure_from {
                                tally.measured += 1;
                                tally.latencies.push(took);
                            }
                        }
                        Err(why) => {
                            tally.failures += 1;
                            tally.first_failure.get_or_insert(why);
                            if tally.failures > 50 && tally.failures > tally.answered {
                                break; // mostly failing: no point in hammering on
                            }
                        }
                    }
                }
                tally
            })
        })
        .collect();
    let mut total = Tally::default();
    for task in tasks {
        total.merge(task.await.context("a load task panicked")?);
    }
    if total.failures > total.answered {
        bail!(
            "most requests failed ({} of {}); first: {}",
            total.failures,
            total.failures + total.answered,
            total.first_failure.as_deref().unwrap_or("?")
        );
    }
    Ok(total)
}

/// `target` with `count` deliveries signed, off the runtime's threads.
pub async fn stock(target: &Target, count: usize) -> anyhow::Result<Target> {
    let target = target.clone();
    Ok(tokio::task::spawn_blocking(move || target.stocked(count.max(1000))).await?)
}
