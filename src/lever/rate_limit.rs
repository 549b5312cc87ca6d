//! Client-side token buckets, so leverbridge stays under Lever's limit (10 requests/s per API
//! key, bursts to 20) instead of collecting 429s. One bucket per connection key, shared by every
//! client and worker in the process that uses that key; with several replicas, a
//! [`SharedLimit`] (a bucket in the database) is drawn on as well, so that together they keep
//! the key's limit. The job workers also read the buckets to claim work an organization can do
//! now ([`RateLimiters::throttled`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::time::Instant;

/// A bucket kept outside the process, shared by every replica using a key.
pub trait SharedLimit: Send + Sync {
    /// Takes one token from `key`'s bucket (steady `rate_per_sec`, at most `burst`) and returns
    /// how long to wait before using it; `None` when the bucket cannot be reached (the caller
    /// then relies on its own bucket).
    fn reserve<'a>(
        &'a self,
        key: &'a str,
        rate_per_sec: f64,
        burst: f64,
    ) -> BoxFuture<'a, Option<Duration>>;
}

/// Lever's documented steady rate.
pub const LEVER_RATE_PER_SEC: f64 = 10.0;
/// Lever's documented burst.
pub const LEVER_BURST: u32 = 20;

/// The process-wide registry of buckets, keyed by connection (e.g. the organization id).
#[derive(Clone)]
pub struct RateLimiters {
    buckets: Arc<Mutex<HashMap<String, Arc<TokenBucket>>>>,
    rate_per_sec: f64,
    burst: u32,
    shared: Option<Arc<dyn SharedLimit>>,
}

impl RateLimiters {
    pub fn new(rate_per_sec: f64, burst: u32) -> Self {
        RateLimiters {
            buckets: Arc::default(),
            rate_per_sec: rate_per_sec.max(f64::MIN_POSITIVE),
            burst: burst.max(1),
            shared: None,
        }
    }

    /// Draws on `shared` too, for replicas sharing keys.
    pub fn with_shared(mut self, shared: Arc<dyn SharedLimit>) -> Self {
        self.shared = Some(shared);
        self
    }

    /// The bucket for `key`, created full on first use.
    pub fn bucket(&self, key: &str) -> Arc<TokenBucket> {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        buckets
            .entry(key.to_owned())
            .or_insert_with(|| {
                let mut bucket = TokenBucket::new(self.rate_per_sec, self.burst);
                bucket.shared = self.shared.clone().map(|shared| (key.to_owned(), shared));
                Arc::new(bucket)
            })
            .clone()
    }

    /// The keys whose bucket holds fewer than `tokens` now, each with how long until it does.
    /// A worker leaves their work to later rather than wait in their bucket while other keys'
    /// work waits.
    pub fn throttled(&self, tokens: f64) -> Vec<(String, Duration)> {
        let now = Instant::now();
        let buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        buckets
            .iter()
            .filter_map(|(key, bucket)| bucket.time_until(tokens, now).map(|w| (key.clone(), w)))
            .collect()
    }
}

impl Default for RateLimiters {
    /// Lever's limits: 10 requests/s, bursts to 20.
    fn default() -> Self {
        RateLimiters::new(LEVER_RATE_PER_SEC, LEVER_BURST)
    }
}

impl std::fmt::Debug for RateLimiters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiters")
            .field("rate_per_sec", &self.rate_per_sec)
            .field("burst", &self.burst)
            .finish_non_exhaustive()
    }
}

/// A token bucket that hands out reservations: a caller takes a token now (the balance may go
/// negative) and sleeps until its token would have been earned, so waiters are served in order.
pub struct TokenBucket {
    state: Mutex<BucketState>,
    rate_per_sec: f64,
    burst: f64,
    /// The key and the bucket the replicas share, if any.
    shared: Option<(String, Arc<dyn SharedLimit>)>,
}

impl std::fmt::Debug for TokenBucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenBucket")
            .field("rate_per_sec", &self.rate_per_sec)
            .field("burst", &self.burst)
            .field("shared", &self.shared.is_some())
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct BucketState {
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    fn new(rate_per_sec: f64, burst: u32) -> Self {
        TokenBucket {
            state: Mutex::new(BucketState {
                tokens: f64::from(burst),
                updated: Instant::now(),
            }),
            rate_per_sec,
            burst: f64::from(burst),
            shared: None,
        }
    }

    /// Waits until a request may be sent: by this process's bucket and, with replicas, by
    /// the shared one.
    pub async fn acquire(&self) {
        let mut wait = self.reserve(Instant::now());
        if let Some((key, shared)) = &self.shared {
            if let Some(shared_wait) = shared.reserve(key, self.rate_per_sec, self.burst).await {
                wait = wait.max(shared_wait);
            }
        }
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// How long until the bucket holds `tokens`; `None` when it does now.
    fn time_until(&self, tokens: f64, now: Instant) -> Option<Duration> {
        let state = self
            .state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let earned = now.saturating_duration_since(state.updated).as_secs_f64() * self.rate_per_sec;
        let balance = (state.tokens + earned).min(self.burst);
        let wanted = tokens.min(self.burst);
        (balance < wanted).then(|| Duration::from_secs_f64((wanted - balance) / self.rate_per_sec))
    }

    /// Takes one token at `now` and returns how long to wait before using it.
    fn reserve(&self, now: Instant) -> Duration {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let earned = now.saturating_duration_since(state.updated).as_secs_f64() * self.rate_per_sec;
        state.tokens = (state.tokens + earned).min(self.burst);
        state.updated = state.updated.max(now);
        state.tokens -= 1.0;
        if state.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-state.tokens / self.rate_per_sec)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_follow_rate_and_burst() {
        let bucket = TokenBucket::new(10.0, 20);
        let start = Instant::now();
        let waits: Vec<Duration> = (0..40).map(|_| bucket.reserve(start)).collect();
        assert!(waits[..20].iter().all(|wait| wait.is_zero()));
        assert!((waits[20].as_secs_f64() - 0.1).abs() < 1e-9);
        assert!((waits[39].as_secs_f64() - 2.0).abs() < 1e-9);

        // Five seconds later 50 tokens have been earned against a debt of 20, but the balance
        // never exceeds the burst: 20 go through, the 21st waits.
        let later = start + Duration::from_secs(5);
        let waits: Vec<Duration> = (0..21).map(|_| bucket.reserve(later)).collect();
        assert!(waits[..20].iter().all(|wait| wait.is_zero()));
        assert!(!waits[20].is_zero());
    }

    #[test]
    fn a_bucket_short_of_a_jobs_worth_of_tokens_is_throttled() {
        let limiters = RateLimiters::new(10.0, 20);
        let busy = limiters.bucket("busy");
        let idle = limiters.bucket("idle");
        let now = Instant::now();
        for _ in 0..18 {
            busy.reserve(now);
        }
        idle.reserve(now);
        let throttled = limiters.throttled(4.0);
        assert_eq!(throttled.len(), 1, "{throttled:?}");
        assert_eq!(throttled[0].0, "busy");
        // Two tokens left: two more to earn at 10/s.
        let wait = throttled[0].1.as_secs_f64();
        assert!((0.15..=0.2).contains(&wait), "{wait}");
        // Never more than the burst is asked for.
        let small = RateLimiters::new(10.0, 2);
        small.bucket("small");
        assert!(small.throttled(4.0).is_empty());
    }

    #[test]
    fn buckets_are_shared_per_key() {
        let limiters = RateLimiters::new(10.0, 2);
        let clone = limiters.clone();
        assert!(Arc::ptr_eq(
            &limiters.bucket("org-1"),
            &clone.bucket("org-1")
        ));
        assert!(!Arc::ptr_eq(
            &limiters.bucket("org-1"),
            &limiters.bucket("org-2")
        ));
    }

    /// Real time (tokio's `test-util` clock is not enabled in this crate): 40 acquisitions at
    /// 10/s with a burst of 20, from two tasks sharing the key, take about two seconds.
    #[tokio::test]
    async fn forty_acquisitions_take_two_seconds() {
        let limiters = RateLimiters::new(10.0, 20);
        let started = std::time::Instant::now();
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let bucket = limiters.bucket("org-1");
                tokio::spawn(async move {
                    for _ in 0..20 {
                        bucket.acquire().await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(1950), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
    }
}
