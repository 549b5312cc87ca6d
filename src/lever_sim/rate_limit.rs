//! Lever's rate limit: a token bucket per API key, 10 requests/s steady with bursts to 20.

use std::time::Instant;

const RATE_PER_SECOND: f64 = 10.0;
const BURST: f64 = 20.0;

pub(crate) struct TokenBucket {
    tokens: f64,
    refilled_at: Instant,
}

impl Default for TokenBucket {
    fn default() -> Self {
        TokenBucket {
            tokens: BURST,
            refilled_at: Instant::now(),
        }
    }
}

impl TokenBucket {
    /// Takes one token; `false` when the bucket is empty (answer 429).
    pub fn try_take(&mut self) -> bool {
        let now = Instant::now();
        let elapsed = now.duration_since(self.refilled_at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * RATE_PER_SECOND).min(BURST);
        self.refilled_at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}
