//! What bounds the saves of one candidate link ([`SaveLimits`]): code is made storable first
//! (line breaks made plain, then the size and NUL checks), saves are paced per link, the
//! attempt's snapshots share a quota, and consecutive saves are coalesced so playback keeps a
//! bounded number of snapshots.

use chrono::{Duration, NaiveDateTime};

use crate::config::{SaveLimits, Throttle};
use crate::db::assessments::{self, Assessment};
use crate::db::snapshots::{self, SaveListing};
use crate::db::DbConn;

/// The most code one save may carry: 200 KB.
pub const MAX_CODE_BYTES: usize = 200 * 1024;

/// Why a save was refused, with nothing kept. The candidate's pages word each as the
/// attempt's error of the same name (`attempt::AttemptError`), which this converts into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveRefused {
    /// More than [`MAX_CODE_BYTES`] (the size is given).
    TooLarge(usize),
    /// The code holds a NUL character.
    Nul,
    /// Faster than the link's pace; the next may come after the wait.
    TooFast(Duration),
    /// The attempt's snapshots would pass the quota (the quota is given).
    QuotaReached(usize),
}

/// Code as it is stored: browsers send a form's textarea with `\r\n` line breaks and the
/// editor's JSON autosave with `\n`, so the breaks are made plain before the size is checked
/// (the same code must pass or fail either way). NUL cannot be stored in PostgreSQL text and is
/// no part of any program, so code holding one is refused.
pub fn storable_code(code: &str) -> Result<String, SaveRefused> {
    let code = code.replace("\r\n", "\n");
    if code.len() > MAX_CODE_BYTES {
        return Err(SaveRefused::TooLarge(code.len()));
    }
    if code.contains('\0') {
        return Err(SaveRefused::Nul);
    }
    Ok(code)
}

/// Whether a save arriving `now` is within the link's pace. Generic cell rate: `paced_until`
/// moves one period on with each save; a save that would move it more than the burst ahead of
/// now waits. `Ok` holds the new `paced_until`, `Err` how long to wait.
pub fn pace(
    paced_until: Option<NaiveDateTime>,
    now: NaiveDateTime,
    limit: Throttle,
) -> Result<NaiveDateTime, Duration> {
    let period = Duration::from_std(limit.period).unwrap_or(Duration::MAX);
    let next = paced_until.unwrap_or(now).max(now) + period;
    let horizon = now + period * i32::try_from(limit.burst).unwrap_or(i32::MAX);
    if next > horizon {
        Err(next - horizon)
    } else {
        Ok(next)
    }
}

/// Whether a save at `now` replaces the newest snapshot rather than adding one: both in the
/// same slot since `started` (one snapshot per slot), or the attempt at its snapshot cap.
pub fn coalesces(
    newest: &SaveListing,
    started: NaiveDateTime,
    now: NaiveDateTime,
    limits: &SaveLimits,
) -> bool {
    if newest.seq >= limits.max_snapshots {
        return true;
    }
    let Ok(slot) = Duration::from_std(limits.snapshot_slot) else {
        return false;
    };
    let micros = slot.num_microseconds().unwrap_or(i64::MAX);
    if micros <= 0 {
        return false;
    }
    let slot_of = |at: NaiveDateTime| {
        (at - started)
            .num_microseconds()
            .unwrap_or(i64::MAX)
            .div_euclid(micros)
    };
    slot_of(newest.saved_at) == slot_of(now)
}

/// The newest snapshot keeping `code` now would replace (one in the same slot), and whether the
/// attempt's quota has room for `code` in its place.
fn fit(
    conn: &mut DbConn,
    assessment: &Assessment,
    code: &str,
    now: NaiveDateTime,
    limits: &SaveLimits,
) -> Result<(Option<SaveListing>, Result<(), SaveRefused>), diesel::result::Error> {
    let started = assessment.started_at.unwrap_or(assessment.created_at);
    let replaced = snapshots::newest(conn, &assessment.id)?
        .filter(|newest| coalesces(newest, started, now, limits));
    let stored = snapshots::stored_bytes(conn, &assessment.id)?;
    let freed = replaced.as_ref().map_or(0, |r| i64::from(r.size_bytes));
    let total = stored - freed + i64::try_from(code.len()).unwrap_or(i64::MAX);
    let room = if total > i64::try_from(limits.quota_bytes).unwrap_or(i64::MAX) {
        Err(SaveRefused::QuotaReached(limits.quota_bytes))
    } else {
        Ok(())
    };
    Ok((replaced, room))
}

/// Whether `code` could be kept now within the attempt's quota (a hand-in asked before it is
/// confirmed: refused at once rather than after the candidate confirms).
pub fn fits(
    conn: &mut DbConn,
    assessment: &Assessment,
    code: &str,
    now: NaiveDateTime,
    limits: &SaveLimits,
) -> Result<Result<(), SaveRefused>, diesel::result::Error> {
    Ok(fit(conn, assessment, code, now, limits)?.1)
}

/// Keeps `code` (already [`storable_code`]) as the attempt's newest snapshot, coalesced and
/// within the quota; `paced` saves (autosave, *Save*) are also held to the link's pace, a
/// submission is not. Call it inside the transaction that locked the assessment.
pub fn keep(
    conn: &mut DbConn,
    assessment: &Assessment,
    code: &str,
    now: NaiveDateTime,
    limits: &SaveLimits,
    paced: bool,
) -> Result<Result<SaveListing, SaveRefused>, diesel::result::Error> {
    let paced_until = if paced {
        match pace(
            assessments::saves_paced_until(conn, &assessment.id)?,
            now,
            limits.pace,
        ) {
            Ok(until) => Some(until),
            Err(wait) => return Ok(Err(SaveRefused::TooFast(wait))),
        }
    } else {
        None
    };
    let (replaced, room) = fit(conn, assessment, code, now, limits)?;
    if let Err(refused) = room {
        return Ok(Err(refused));
    }
    let kept = match replaced {
        Some(newest) => snapshots::replace(conn, &assessment.id, newest.seq, code, now)?,
        None => snapshots::add(conn, &assessment.id, code, now)?,
    };
    if let Some(until) = paced_until {
        assessments::record_save_pace(conn, &assessment.id, until)?;
    }
    Ok(Ok(kept))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000 + seconds, 0)
            .unwrap()
            .naive_utc()
    }

    #[test]
    fn line_breaks_are_made_plain_before_the_size_is_checked() {
        let lines = "x".repeat(99) + "\r\n";
        let just_fits = lines.repeat(MAX_CODE_BYTES / 100);
        assert!(just_fits.len() > MAX_CODE_BYTES);
        let stored = storable_code(&just_fits).expect("fits once its breaks are plain");
        assert_eq!(stored.len(), MAX_CODE_BYTES);
        assert!(matches!(
            storable_code(&"x".repeat(MAX_CODE_BYTES + 1)),
            Err(SaveRefused::TooLarge(_))
        ));
        assert!(matches!(storable_code("print(1)\0"), Err(SaveRefused::Nul)));
    }

    #[test]
    fn the_pace_allows_a_burst_then_one_a_period() {
        let limit = Throttle {
            burst: 3,
            period: std::time::Duration::from_secs(2),
        };
        let mut until = None;
        for _ in 0..3 {
            until = Some(pace(until, at(0), limit).expect("within the burst"));
        }
        assert_eq!(pace(until, at(0), limit), Err(Duration::seconds(2)));
        assert_eq!(pace(until, at(1), limit), Err(Duration::seconds(1)));
        assert!(pace(until, at(2), limit).is_ok());
        assert_eq!(pace(until, at(60), limit), Ok(at(62)));
    }

    #[test]
    fn saves_in_one_slot_replace_the_newest_and_the_cap_holds() {
        let limits = SaveLimits::default();
        let newest = |seq, saved| SaveListing {
            seq,
            saved_at: at(saved),
            size_bytes: 1,
            line_count: 1,
        };
        assert!(coalesces(&newest(1, 5), at(0), at(29), &limits));
        assert!(!coalesces(&newest(1, 29), at(0), at(30), &limits));
        assert!(coalesces(
            &newest(limits.max_snapshots, 0),
            at(0),
            at(3600),
            &limits
        ));
        let every_save = SaveLimits {
            snapshot_slot: std::time::Duration::ZERO,
            ..SaveLimits::default()
        };
        assert!(!coalesces(&newest(1, 5), at(0), at(5), &every_save));
    }
}
