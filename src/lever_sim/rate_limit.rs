//! Lever's rate limit: a token bucket per API key (and per OAuth grant), 10 requests/s steady
//! with bursts to 20.

use std::time::Instant;

/// A token bucket's steady rate and burst.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: f64,
}

impl RateLimit {
    /// Lever's documented limit per API key.
    pub const LEVER: RateLimit = RateLimit {
        per_second: 10.0,
        burst: 20.0,
    };
}

pub(crate) struct TokenBucket {
    /// Unknown until the first request, when the bucket starts full.
    tokens: f64,
    refilled_at: Instant,
}

impl Default for TokenBucket {
    fn default() -> Self {
        TokenBucket {
            tokens: f64::INFINITY,
            refilled_at: Instant::now(),
        }
    }
}

impl TokenBucket {
    /// Takes one token; `false` when the bucket is empty (answer 429).
    pub fn try_take(&mut self, limit: RateLimit) -> bool {
        let now = Instant::now();
        let elapsed = now.duration_since(self.refilled_at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * limit.per_second).min(limit.burst);
        self.refilled_at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_bucket_allows_its_burst_then_refuses() {
        let mut bucket = TokenBucket::default();
        let limit = RateLimit {
            per_second: 0.001,
            burst: 3.0,
        };
        assert!((0..3).all(|_| bucket.try_take(limit)));
        assert!(!bucket.try_take(limit));
    }
}
