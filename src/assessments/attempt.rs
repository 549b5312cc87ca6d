//! A candidate taking a take-home test through their link: start the clock once, save as often
//! as they like until the deadline, submit. The deadline is the server's: once it has passed,
//! the last save is the submission (marked "time ran out"), or the assessment expires when
//! nothing was saved, and every further save is refused.
//!
//! Each step locks the assessment in a write transaction, so a save racing a submission (or two
//! starts) cannot interleave.

use chrono::NaiveDateTime;

use super::saves::{self, storable_code, SaveRefused, MAX_CODE_BYTES};
use super::{progress_write_back, terms, AssessmentState, TakeHomeTerms};
use crate::config::SaveLimits;
use crate::db::assessments::{self, Assessment};
use crate::db::connection::write_transaction;
use crate::db::snapshots::{self, SaveListing, Snapshot};
use crate::db::DbConn;
use crate::domain::PadKind;

/// Where an attempt stands, as the candidate's pages show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// A live interview pad: no clock, the interviewer shares the pad.
    Live,
    /// Invited, and may start until `start_by`.
    Ready { start_by: NaiveDateTime },
    /// Invited, but `start_by` has passed.
    LinkExpired,
    /// Started; saves are accepted until `deadline`.
    InProgress { deadline: NaiveDateTime },
    /// Handed in (and perhaps already scored); `time_ran_out` when the deadline handed it in.
    Submitted { time_ran_out: bool },
    /// The time ran out with nothing saved.
    Expired,
    /// Withdrawn in Lever.
    Cancelled,
}

/// A step the candidate asked for that cannot happen.
#[derive(Debug, thiserror::Error)]
pub enum AttemptError {
    #[error("This link does not open an assessment. Check that you copied the whole link from your invitation, or ask the recruiter for a new one.")]
    UnknownLink,
    #[error("{}", refusal(.0))]
    Closed(Phase),
    #[error("The code is {} KB; at most {} KB can be saved. Nothing was saved.", .0.div_ceil(1024), MAX_CODE_BYTES / 1024)]
    TooLarge(usize),
    #[error("The code contains a NUL character (U+0000), which cannot be saved: remove it and save again. Nothing was saved.")]
    Nul,
    /// Saves from the link come faster than its pace allows; the next may come after the wait.
    #[error("Saves are coming too fast from this link, so this one was not saved. Your code is still in the editor; save again in {} s.", retry_after_secs(.0))]
    TooFast(chrono::Duration),
    /// The attempt's snapshots hold the quota's bytes (the quota is given).
    #[error("This attempt has reached its limit of {} of saved code, so this save was refused and nothing more can be saved. The last save that was accepted stays your submission; keep a copy of any newer code.", quota_text(*.0))]
    QuotaReached(usize),
    /// Says nothing of the database's own words: those go to the log, never to a response.
    #[error("The save failed on our side and has been logged. Try again in a moment.")]
    Database(#[from] diesel::result::Error),
}

impl From<SaveRefused> for AttemptError {
    fn from(refused: SaveRefused) -> Self {
        match refused {
            SaveRefused::TooLarge(bytes) => AttemptError::TooLarge(bytes),
            SaveRefused::Nul => AttemptError::Nul,
            SaveRefused::TooFast(wait) => AttemptError::TooFast(wait),
            SaveRefused::QuotaReached(quota) => AttemptError::QuotaReached(quota),
        }
    }
}

/// A quota in words: "20 MB", "64 KB".
fn quota_text(bytes: usize) -> String {
    const MB: usize = 1024 * 1024;
    if bytes >= MB && bytes % MB == 0 {
        format!("{} MB", bytes / MB)
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

/// Whole seconds to wait, at least one (the `Retry-After` of a save that came too fast).
pub fn retry_after_secs(wait: &chrono::Duration) -> i64 {
    (wait.num_milliseconds().max(0) + 999) / 1000
}

fn refusal(phase: &Phase) -> &'static str {
    match phase {
        Phase::Live => "This is a live interview pad: your interviewer shares it with you during the interview. Nothing was saved.",
        Phase::Ready { .. } => "The test has not been started yet: press Start on the assessment page first. Nothing was saved.",
        Phase::LinkExpired => "This link has expired: the test had to be started by the date in your invitation. Ask the recruiter if you need a new one.",
        Phase::InProgress { .. } => "The test is already in progress.",
        Phase::Submitted { time_ran_out: true } => "The time is over: your last saved code was submitted when it ran out. Further changes are not saved.",
        Phase::Submitted { time_ran_out: false } => "This test has already been submitted. Further changes are not saved.",
        Phase::Expired => "The time is over, and no code had been saved, so there is nothing to submit. Further changes are not saved.",
        Phase::Cancelled => "This assessment has been withdrawn by the recruiter. Nothing was saved.",
    }
}

/// What the candidate's page shows now.
pub struct Attempt {
    pub assessment: Assessment,
    pub phase: Phase,
    /// The last save, if any.
    pub latest: Option<Snapshot>,
    /// How many test cases the candidate may run (*Run tests*): the visible ones.
    pub visible_cases: i64,
}

/// Where `assessment` stands at `now`, the deadline aside (see [`settle`]).
pub fn phase(assessment: &Assessment, now: NaiveDateTime) -> Phase {
    let state = assessment.state;
    if state == AssessmentState::Cancelled {
        return Phase::Cancelled;
    }
    if PadKind::parse(&assessment.pad_kind) != Ok(PadKind::TakeHome) {
        return Phase::Live;
    }
    match state {
        AssessmentState::Invited => match assessment.start_by {
            Some(start_by) if now > start_by => Phase::LinkExpired,
            Some(start_by) => Phase::Ready { start_by },
            None => Phase::Ready {
                start_by: TakeHomeTerms::default().start_by(assessment.created_at),
            },
        },
        AssessmentState::Started => Phase::InProgress {
            deadline: deadline_of(assessment),
        },
        AssessmentState::Submitted | AssessmentState::Passed | AssessmentState::Failed => {
            Phase::Submitted {
                time_ran_out: assessment.time_ran_out,
            }
        }
        AssessmentState::Expired => Phase::Expired,
        AssessmentState::Cancelled => Phase::Cancelled,
    }
}

fn deadline_of(assessment: &Assessment) -> NaiveDateTime {
    assessment.deadline_at.unwrap_or_else(|| {
        let started = assessment.started_at.unwrap_or(assessment.created_at);
        terms::deadline(started, time_limit(assessment))
    })
}

/// The assessment's time limit in minutes.
pub fn time_limit(assessment: &Assessment) -> i32 {
    assessment
        .time_limit_minutes
        .unwrap_or(TakeHomeTerms::default().time_limit_minutes)
}

/// The attempt behind `token` as it stands at `now`; a started one whose deadline has passed is
/// handed in (or expired) first.
pub fn open(conn: &mut DbConn, token: &str, now: NaiveDateTime) -> Result<Attempt, AttemptError> {
    let assessment = assessments::by_token(conn, token)?.ok_or(AttemptError::UnknownLink)?;
    let assessment = match phase(&assessment, now) {
        Phase::InProgress { deadline } if now >= deadline => {
            write_transaction(conn, |conn| -> Result<_, AttemptError> {
                let mut locked = locked(conn, token)?;
                settle(conn, &mut locked, now)?;
                Ok(locked)
            })?
        }
        _ => assessment,
    };
    let latest = snapshots::latest(conn, &assessment.id)?;
    let visible_cases = crate::db::cases::visible_count(conn, &assessment.id)?;
    Ok(Attempt {
        phase: phase(&assessment, now),
        assessment,
        latest,
        visible_cases,
    })
}

/// *Start*: the clock begins now and runs for the assessment's time limit, and the progress
/// tag's write-back to Lever is queued. Starting again changes nothing (the deadline stays);
/// returns the assessment as it then stands.
pub fn start(
    conn: &mut DbConn,
    token: &str,
    now: NaiveDateTime,
) -> Result<Assessment, AttemptError> {
    step(conn, token, now, |conn, assessment| {
        match phase(assessment, now) {
            Phase::Ready { .. } => {
                let state = AssessmentState::Invited
                    .advance(AssessmentState::Started)
                    .expect("an invitation can start");
                let deadline = terms::deadline(now, time_limit(assessment));
                assessments::record_start(conn, &assessment.id, state, now, deadline)?;
                assessment.state = state;
                assessment.started_at = Some(now);
                assessment.deadline_at = Some(deadline);
                // Lever's progress tag follows: queued with the start, so it is never lost.
                let attempts = crate::config::Tuning::default().job_max_attempts;
                progress_write_back::enqueue(conn, assessment, attempts)?;
                Ok(Ok(()))
            }
            Phase::InProgress { .. } => Ok(Ok(())),
            closed => Ok(Err(AttemptError::Closed(closed))),
        }
    })
    .map(|(assessment, ())| assessment)
}

/// An autosave (or *Save*): kept as the newest snapshot, if the test is in progress, within
/// the link's pace and the attempt's quota ([`saves`]).
pub fn save(
    conn: &mut DbConn,
    token: &str,
    code: &str,
    now: NaiveDateTime,
    limits: &SaveLimits,
) -> Result<(Assessment, SaveListing), AttemptError> {
    let code = &storable_code(code)?;
    step(conn, token, now, |conn, assessment| {
        match phase(assessment, now) {
            Phase::InProgress { .. } => {
                Ok(saves::keep(conn, assessment, code, now, limits, true)?
                    .map_err(AttemptError::from))
            }
            closed => Ok(Err(AttemptError::Closed(closed))),
        }
    })
}

/// *Submit*: `code` is kept as the last snapshot (unless it is the last save already) and the
/// test is handed in. Past the quota it is refused like a save, and nothing changes.
pub fn submit(
    conn: &mut DbConn,
    token: &str,
    code: &str,
    now: NaiveDateTime,
    limits: &SaveLimits,
) -> Result<Assessment, AttemptError> {
    let code = &storable_code(code)?;
    step(conn, token, now, |conn, assessment| {
        match phase(assessment, now) {
            Phase::InProgress { .. } => {
                let unchanged =
                    snapshots::latest(conn, &assessment.id)?.is_some_and(|s| s.code == *code);
                if !unchanged {
                    if let Err(refused) = saves::keep(conn, assessment, code, now, limits, false)? {
                        return Ok(Err(refused.into()));
                    }
                }
                end(
                    conn,
                    assessment,
                    AssessmentState::Submitted,
                    Some(now),
                    false,
                )?;
                Ok(Ok(()))
            }
            closed => Ok(Err(AttemptError::Closed(closed))),
        }
    })
    .map(|(assessment, ())| assessment)
}

/// *Submit* before the candidate has confirmed it: the attempt as it stands and `code` as it
/// would be stored, if it could be handed in now (the test in progress, the code storable),
/// else why not. Changes nothing but what the deadline has changed already ([`open`]).
pub fn check_submission(
    conn: &mut DbConn,
    token: &str,
    code: &str,
    now: NaiveDateTime,
    limits: &SaveLimits,
) -> Result<(Attempt, String), AttemptError> {
    let code = storable_code(code)?;
    let attempt = open(conn, token, now)?;
    match attempt.phase {
        Phase::InProgress { .. } => {
            let a = &attempt.assessment;
            let unchanged = snapshots::latest(conn, &a.id)?.is_some_and(|s| s.code == code);
            if !unchanged {
                saves::fits(conn, a, &code, now, limits)?.map_err(AttemptError::from)?;
            }
            Ok((attempt, code))
        }
        closed => Err(AttemptError::Closed(closed)),
    }
}

type StepResult<T> = Result<Result<T, AttemptError>, diesel::result::Error>;

/// Runs `action` on the locked assessment after the deadline has had its effect. The deadline's
/// effect is committed even when `action` refuses (the refusal itself changes nothing).
fn step<T>(
    conn: &mut DbConn,
    token: &str,
    now: NaiveDateTime,
    action: impl FnOnce(&mut DbConn, &mut Assessment) -> StepResult<T>,
) -> Result<(Assessment, T), AttemptError> {
    write_transaction(conn, |conn| -> Result<_, AttemptError> {
        let mut assessment = locked(conn, token)?;
        settle(conn, &mut assessment, now)?;
        let outcome = action(conn, &mut assessment)?;
        Ok(outcome.map(|value| (assessment, value)))
    })?
}

fn locked(conn: &mut DbConn, token: &str) -> Result<Assessment, AttemptError> {
    assessments::by_token_for_update(conn, token)?.ok_or(AttemptError::UnknownLink)
}

/// When a started assessment's deadline has passed: its last save is the submission, made when
/// the time ran out; with nothing saved it expires.
fn settle(
    conn: &mut DbConn,
    assessment: &mut Assessment,
    now: NaiveDateTime,
) -> Result<(), diesel::result::Error> {
    let Phase::InProgress { deadline } = phase(assessment, now) else {
        return Ok(());
    };
    if now < deadline {
        return Ok(());
    }
    if snapshots::newest(conn, &assessment.id)?.is_some() {
        end(
            conn,
            assessment,
            AssessmentState::Submitted,
            Some(deadline),
            true,
        )
    } else {
        end(conn, assessment, AssessmentState::Expired, None, true)
    }
}

fn end(
    conn: &mut DbConn,
    assessment: &mut Assessment,
    to: AssessmentState,
    submitted_at: Option<NaiveDateTime>,
    time_ran_out: bool,
) -> Result<(), diesel::result::Error> {
    let from = assessment.state;
    let state = from.advance(to).map_err(|e| {
        diesel::result::Error::QueryBuilderError(
            format!("assessment {}: {e}", assessment.id).into(),
        )
    })?;
    assessments::record_end(conn, &assessment.id, state, submitted_at, time_ran_out)?;
    assessment.state = state;
    assessment.submitted_at = submitted_at;
    assessment.time_ran_out = time_ran_out;
    let attempts = crate::config::Tuning::default().job_max_attempts;
    // Lever's Expired tag and note, or its Submitted tag, follow: queued with the change so
    // they are never lost.
    progress_write_back::enqueue(conn, assessment, attempts)?;
    if state == AssessmentState::Submitted {
        // A question with test cases is graded without a reviewer, queued with the hand-in.
        super::grading::enqueue_if_cased(conn, assessment, attempts)?;
    }
    Ok(())
}

/// Expires what has run out by `now`, a batch at a time (the periodic sweep): invitations not
/// started by their date, and started tests past their deadline (whose last save, if any, is
/// then the submission). Each is changed under its row lock, so sweeps running at once in
/// several processes, or a candidate opening the link meanwhile, change it only once. Returns
/// how many changed.
pub fn expire_due(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize, diesel::result::Error> {
    let tokens = assessments::due_to_expire(conn, now, EXPIRY_BATCH)?;
    let mut changed = 0;
    for token in tokens {
        let expired = write_transaction(conn, |conn| -> Result<bool, diesel::result::Error> {
            let Some(mut assessment) = assessments::by_token_for_update(conn, &token)? else {
                return Ok(false);
            };
            let before = assessment.state;
            match phase(&assessment, now) {
                Phase::LinkExpired => {
                    end(conn, &mut assessment, AssessmentState::Expired, None, false)?
                }
                Phase::InProgress { .. } => settle(conn, &mut assessment, now)?,
                _ => {}
            }
            Ok(assessment.state != before)
        })?;
        changed += usize::from(expired);
    }
    Ok(changed)
}

/// Most assessments one sweep expires; the next sweep takes the rest.
const EXPIRY_BATCH: i64 = 100;

#[cfg(test)]
mod tests {
    use super::*;

    fn assessment(pad_kind: &str, state: AssessmentState, at: NaiveDateTime) -> Assessment {
        Assessment {
            id: "a".into(),
            org_id: "o".into(),
            configuration_id: "c".into(),
            opportunity_id: "opp".into(),
            candidate_name: "Ada".into(),
            token: "t".into(),
            pad_kind: pad_kind.into(),
            question_title: None,
            question_prompt: None,
            tag_name: "tag".into(),
            state,
            event_id: "e".into(),
            created_at: at,
            question_language: "python".into(),
            starter_code: String::new(),
            time_limit_minutes: Some(120),
            start_by: Some(at + chrono::Duration::days(7)),
            started_at: None,
            deadline_at: None,
            submitted_at: None,
            time_ran_out: false,
        }
    }

    #[test]
    fn a_database_failure_says_nothing_of_the_database() {
        let failed = AttemptError::Database(diesel::result::Error::QueryBuilderError(
            "invalid byte sequence for encoding \"UTF8\": 0x00".into(),
        ));
        let said = failed.to_string();
        assert!(said.contains("failed on our side"), "{said}");
        assert!(!said.contains("0x00") && !said.contains("UTF8"), "{said}");
    }

    #[test]
    fn the_phase_follows_the_state_and_the_dates() {
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc();
        let invited = assessment("take_home", AssessmentState::Invited, at);
        assert_eq!(
            phase(&invited, at),
            Phase::Ready {
                start_by: at + chrono::Duration::days(7)
            }
        );
        assert_eq!(
            phase(&invited, at + chrono::Duration::days(8)),
            Phase::LinkExpired
        );
        let live = assessment("live", AssessmentState::Invited, at);
        assert_eq!(phase(&live, at + chrono::Duration::days(30)), Phase::Live);
        let withdrawn = assessment("live", AssessmentState::Cancelled, at);
        assert_eq!(phase(&withdrawn, at), Phase::Cancelled);
        let mut started = assessment("take_home", AssessmentState::Started, at);
        started.deadline_at = Some(at + chrono::Duration::hours(2));
        assert_eq!(
            phase(&started, at),
            Phase::InProgress {
                deadline: at + chrono::Duration::hours(2)
            }
        );
    }
}
