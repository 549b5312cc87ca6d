//! Client-side token buckets, so leverbridge stays under Lever's limit (10 requests/s per API
//! key, bursts to 20) instead of collecting 429s. One bucket per connection key, shared by every
//! client and worker in the process that uses that key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

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
}

impl RateLimiters {
    pub fn new(rate_per_sec: f64, burst: u32) -> Self {
        RateLimiters {
            buckets: Arc::default(),
            rate_per_sec: rate_per_sec.max(f64::MIN_POSITIVE),
            burst: burst.max(1),
        }
    }

    /// The bucket for `key`, created full on first use.
    pub fn bucket(&self, key: &str) -> Arc<TokenBucket> {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        buckets
            .entry(key.to_owned())
            .or_insert_with(|| Arc::new(TokenBucket::new(self.rate_per_sec, self.burst)))
            .clone()
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
#[derive(Debug)]
pub struct TokenBucket {
    state: Mutex<BucketState>,
    rate_per_sec: f64,
    burst: f64,
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
        }
    }

    /// Waits until a request may be sent.
    pub async fn acquire(&self) {
        let wait = self.reserve(Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
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
