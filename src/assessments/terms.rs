//! The terms a take-home test is sent with, fixed on the assessment when it is created so that
//! changing them later leaves the invitations already sent alone.

use chrono::{Duration, NaiveDateTime};

/// How long a candidate has to finish once started, and how long to start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TakeHomeTerms {
    /// Minutes from *Start* to the deadline.
    pub time_limit_minutes: i32,
    /// Days from the invitation by which the candidate must press *Start*.
    pub days_to_start: i32,
}

impl Default for TakeHomeTerms {
    /// 120 minutes, 7 days to start (the product's defaults until the Settings page sets them).
    fn default() -> Self {
        TakeHomeTerms {
            time_limit_minutes: 120,
            days_to_start: 7,
        }
    }
}

impl TakeHomeTerms {
    /// The last moment an invitation sent at `invited_at` can be started.
    pub fn start_by(&self, invited_at: NaiveDateTime) -> NaiveDateTime {
        invited_at + Duration::days(self.days_to_start.into())
    }
}

/// The deadline of an assessment with `time_limit_minutes`, started at `started_at`.
pub fn deadline(started_at: NaiveDateTime, time_limit_minutes: i32) -> NaiveDateTime {
    started_at + Duration::minutes(time_limit_minutes.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_two_hours_and_a_week() {
        let terms = TakeHomeTerms::default();
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc();
        assert_eq!(terms.start_by(at) - at, Duration::days(7));
        assert_eq!(
            deadline(at, terms.time_limit_minutes) - at,
            Duration::hours(2)
        );
    }
}
