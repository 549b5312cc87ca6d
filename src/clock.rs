//! The one clock the server reads "now" from: assessment deadlines, sessions, sign-in limits,
//! the webhook replay window. Production reads the system clock; tests hold a
//! [`Clock::adjustable`] one and move it forward instead of sleeping.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{Duration, NaiveDateTime, Timelike, Utc};

/// Now, as the server sees it. Cheap to clone; clones of an adjustable clock move together.
#[derive(Clone, Default)]
pub struct Clock {
    /// Microseconds added to the system time; `None` for the plain system clock.
    skew: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock (the default).
    pub fn system() -> Clock {
        Clock { skew: None }
    }

    /// The system clock, movable forward with [`Clock::advance`] (for tests).
    pub fn adjustable() -> Clock {
        Clock {
            skew: Some(Arc::new(AtomicI64::new(0))),
        }
    }

    /// Now, in UTC, at the precision both database backends store (microseconds).
    pub fn now(&self) -> NaiveDateTime {
        let now = system_now();
        match &self.skew {
            Some(skew) => now + Duration::microseconds(skew.load(Ordering::SeqCst)),
            None => now,
        }
    }

    /// Moves this clock and its clones forward by `by`.
    ///
    /// # Panics
    /// On the system clock, which cannot be moved.
    pub fn advance(&self, by: Duration) {
        let skew = self
            .skew
            .as_ref()
            .expect("only a Clock::adjustable() clock can be moved");
        let micros = by
            .num_microseconds()
            .expect("a step of less than 292 000 years");
        skew.fetch_add(micros, Ordering::SeqCst);
    }
}

/// The system time in UTC, cut to whole microseconds: the precision both database backends
/// store, so a time read back equals the time written.
pub fn system_now() -> NaiveDateTime {
    let now = Utc::now().naive_utc();
    let micros = now.nanosecond() / 1_000 * 1_000;
    now.with_nanosecond(micros).unwrap_or(now)
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.skew {
            None => f.write_str("Clock::system()"),
            Some(skew) => write!(f, "Clock::adjustable(+{} µs)", skew.load(Ordering::SeqCst)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_adjustable_clock_and_its_clones_move_together() {
        let clock = Clock::adjustable();
        let copy = clock.clone();
        let before = copy.now();
        clock.advance(Duration::hours(3));
        let after = copy.now();
        assert!(after - before >= Duration::hours(3), "{before} → {after}");
        assert!(after - before < Duration::hours(3) + Duration::minutes(1));
    }

    #[test]
    #[should_panic(expected = "only a Clock::adjustable() clock can be moved")]
    fn the_system_clock_cannot_be_moved() {
        Clock::system().advance(Duration::seconds(1));
    }
}
