//! The candidate's runs during a take-home: *Run* (the current code on their own input) and
//! *Run tests* (the visible cases). Each is allowed only while the test is in progress, within
//! the link's pace (one per `RunPace::gap`) and allowance (`RunPace::per_attempt` per attempt),
//! both counted from the stored runs under the assessment's lock; each is kept, with a one-line
//! summary, on the assessment's timeline. The programs run in the sandbox, whose slots serve
//! waiting runs first come, first served, so a busy server makes a run wait, never fail.

use chrono::NaiveDateTime;
use serde::Serialize;

use super::attempt::{self, AttemptError, Phase};
use super::saves::storable_code;
use crate::config::RunPace;
use crate::db::assessments;
use crate::db::cases::{self, RunRow, TestCase};
use crate::db::connection::write_transaction;
use crate::db::DbConn;
use crate::sandbox::judge::{self, Case, RunResult, Verdict};
use crate::sandbox::{Sandbox, SandboxError};

/// What the candidate asked to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunKind {
    /// The code on their own input.
    Custom,
    /// The code against the visible cases.
    Tests,
}

impl RunKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Custom => "custom",
            RunKind::Tests => "tests",
        }
    }
}

/// Why a run was not started. Nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum RunRefused {
    #[error(transparent)]
    Attempt(#[from] AttemptError),
    #[error("Runs are limited to one every {} s: run again in {} s.", .gap_secs, .wait_secs)]
    TooFast { gap_secs: u64, wait_secs: i64 },
    #[error("This attempt has used its {0} runs; your code is still saved and can be submitted.")]
    Exhausted(i64),
    #[error("This question has no visible test cases to run.")]
    NoCases,
    #[error("The input is {} KB; at most 64 KB can be given to a run. Nothing was run.", .0.div_ceil(1024))]
    InputTooLarge(usize),
    #[error("{0}")]
    Sandbox(#[from] SandboxError),
}

impl From<diesel::result::Error> for RunRefused {
    fn from(e: diesel::result::Error) -> Self {
        RunRefused::Attempt(AttemptError::Database(e))
    }
}

/// A run accepted: its row, what to run, and where.
pub struct Accepted {
    pub run: RunRow,
    pub kind: RunKind,
    pub language: String,
    pub code: String,
    /// What *Run* gives the program on stdin.
    pub input: String,
    /// The visible cases (for *Run tests*).
    pub cases: Vec<TestCase>,
}

/// Accepts a run from the link `token` at `now` if the test is in progress and the link's pace
/// and allowance let it, storing its row (unfinished).
pub fn accept(
    conn: &mut DbConn,
    token: &str,
    (kind, code, input): (RunKind, &str, &str),
    now: NaiveDateTime,
    pace: &RunPace,
    sandbox: &Sandbox,
) -> Result<Accepted, RunRefused> {
    if input.len() > MAX_INPUT_BYTES {
        return Err(RunRefused::InputTooLarge(input.len()));
    }
    let code = storable_code(code).map_err(AttemptError::from)?;
    write_transaction(conn, |conn| -> Result<Accepted, RunRefused> {
        let assessment =
            assessments::by_token_for_update(conn, token)?.ok_or(AttemptError::UnknownLink)?;
        match attempt::phase(&assessment, now) {
            Phase::InProgress { deadline } if now < deadline => {}
            // Past the deadline: the page's next load hands it in; the run is refused.
            Phase::InProgress { .. } => {
                return Err(AttemptError::Closed(Phase::Submitted { time_ran_out: true }).into())
            }
            closed => return Err(AttemptError::Closed(closed).into()),
        }
        sandbox.can_run(&assessment.question_language)?;
        let mut cases = Vec::new();
        if kind == RunKind::Tests {
            cases = cases::for_assessment(conn, &assessment.id)?;
            cases.retain(|c| !c.hidden);
            if cases.is_empty() {
                return Err(RunRefused::NoCases);
            }
        }
        let (count, last) = cases::run_tally(conn, &assessment.id)?;
        if count >= pace.per_attempt {
            return Err(RunRefused::Exhausted(pace.per_attempt));
        }
        let gap = chrono::Duration::from_std(pace.gap).unwrap_or_default();
        if let Some(last) = last.filter(|last| now < *last + gap) {
            let wait = (last + gap - now).num_milliseconds();
            return Err(RunRefused::TooFast {
                gap_secs: pace.gap.as_secs(),
                wait_secs: (wait + 999) / 1000,
            });
        }
        let run = RunRow {
            id: crate::db::new_id(),
            assessment_id: assessment.id.clone(),
            kind: kind.as_str().to_owned(),
            requested_at: now,
            finished_at: None,
            summary: None,
            result: None,
        };
        cases::insert_run(conn, &run)?;
        Ok(Accepted {
            run,
            kind,
            language: assessment.question_language,
            code,
            input: input.replace("\r\n", "\n"),
            cases,
        })
    })
}

/// The largest custom input, in bytes.
pub const MAX_INPUT_BYTES: usize = 64 * 1024;

/// One visible case's result as the candidate sees it.
#[derive(Clone, Debug, Serialize)]
pub struct ShownCase {
    pub position: i32,
    pub verdict: Verdict,
    pub label: &'static str,
    pub input: String,
    pub expected: String,
    pub got: String,
    pub stderr: String,
    pub time_ms: i64,
    pub ending: String,
}

/// The result of *Run tests*.
#[derive(Clone, Debug, Serialize)]
pub struct TestsResult {
    pub passed: usize,
    pub total: usize,
    pub cases: Vec<ShownCase>,
}

/// Runs an accepted run in the sandbox: its result as JSON and its line for the timeline.
pub async fn execute(sandbox: &Sandbox, accepted: &Accepted) -> (String, String) {
    match accepted.kind {
        RunKind::Custom => {
            let input = &accepted.input;
            let result = judge::run_code(sandbox, &accepted.language, &accepted.code, input).await;
            custom_outcome(result)
        }
        RunKind::Tests => {
            let cases: Vec<Case<'_>> = accepted
                .cases
                .iter()
                .map(|c| Case::stored(&c.input, &c.expected, c.time_limit_ms))
                .collect();
            let results =
                judge::run_cases(sandbox, &accepted.language, &accepted.code, &cases).await;
            tests_outcome(&accepted.cases, results)
        }
    }
}

fn custom_outcome(result: Result<RunResult, SandboxError>) -> (String, String) {
    match result {
        Ok(result) => {
            let line = format!(
                "Ran the code on custom input: {} ({:.2} s)",
                result.ending,
                result.time_ms as f64 / 1000.0
            );
            (serde_json::to_string(&result).unwrap_or_default(), line)
        }
        Err(e) => failed_outcome(e),
    }
}

fn tests_outcome(
    cases: &[TestCase],
    results: Result<Vec<judge::CaseResult>, SandboxError>,
) -> (String, String) {
    let results = match results {
        Ok(results) => results,
        Err(e) => return failed_outcome(e),
    };
    let shown: Vec<ShownCase> = cases
        .iter()
        .zip(results)
        .map(|(case, r)| ShownCase {
            position: case.position,
            verdict: r.verdict,
            label: r.verdict.label(),
            input: case.input.clone(),
            expected: case.expected.clone(),
            got: r.stdout,
            stderr: r.stderr,
            time_ms: r.time_ms,
            ending: r.ending,
        })
        .collect();
    let passed = shown
        .iter()
        .filter(|c| c.verdict == Verdict::Passed)
        .count();
    let line = format!("Ran the visible tests: {passed} of {} passed", shown.len());
    let result = TestsResult {
        passed,
        total: shown.len(),
        cases: shown,
    };
    (serde_json::to_string(&result).unwrap_or_default(), line)
}

/// A run the sandbox could not carry out: said to the candidate as an error.
fn failed_outcome(e: SandboxError) -> (String, String) {
    let message = e.to_string();
    (
        serde_json::json!({ "error": message }).to_string(),
        format!("A run could not be carried out: {message}"),
    )
}
