//! Automatic grading: a submitted take-home whose question has test cases is graded without a
//! reviewer. A `grade` job (the `grading` lane), queued in the transaction that hands the test
//! in (*Submit*, or the time running out with a save), compiles the submission once in the
//! sandbox, runs every case, and stores the per-case results, the score (the weighted
//! percentage of cases passed) and the result the pass mark gives, together with the progress
//! write-back to Lever, in one transaction, once: a second run (after a crash mid-run) finds
//! the assessment graded and changes nothing.

use serde::{Deserialize, Serialize};

use super::{progress_write_back, AssessmentState};
use crate::db::assessments::Assessment;
use crate::db::cases::{self, CaseResultRow, Grade, TestCase};
use crate::db::connection::write_transaction;
use crate::db::{self, Db, DbConn, DbError};
use crate::queue::{self, NewJob};
use crate::sandbox::judge::{self, Case, CaseResult, Verdict};
use crate::sandbox::{Sandbox, SandboxError};

/// The job's payload.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GradeJob {
    pub assessment_id: String,
}

/// Queues the grading of `assessment` when it has test cases. Call it in the transaction that
/// hands it in.
pub fn enqueue_if_cased(
    conn: &mut DbConn,
    assessment: &Assessment,
    max_attempts: i32,
) -> diesel::QueryResult<bool> {
    if !cases::assessment_has_cases(conn, &assessment.id)? {
        return Ok(false);
    }
    let job = GradeJob {
        assessment_id: assessment.id.clone(),
    };
    queue::enqueue(conn, &NewJob::of(&assessment.org_id, &job, max_attempts))?;
    Ok(true)
}

/// What a grading run came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Graded {
    /// Stored now.
    Now {
        passed: i32,
        total: i32,
        score: i32,
        state: AssessmentState,
    },
    /// Nothing to do: graded already (an earlier run), no longer submitted (scored by hand,
    /// withdrawn), gone, or without cases.
    Nothing(&'static str),
}

#[derive(Debug, thiserror::Error)]
pub enum GradingError {
    #[error("database: {0}")]
    Database(#[from] DbError),
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
}

/// What grading needs of the assessment, read at once.
struct Work {
    assessment: Assessment,
    cases: Vec<TestCase>,
    code: String,
    pass_mark: u32,
}

/// Grades the submitted assessment `id` (see the module's doc).
pub async fn grade(
    db: &Db,
    sandbox: &Sandbox,
    id: &str,
    now: impl Fn() -> chrono::NaiveDateTime,
    max_attempts: i32,
) -> Result<Graded, GradingError> {
    let work = {
        let id = id.to_owned();
        db.run(move |conn| read_work(conn, &id)).await?
    };
    let work = match work {
        Ok(work) => work,
        Err(why) => return Ok(Graded::Nothing(why)),
    };
    let judged: Vec<Case<'_>> = work
        .cases
        .iter()
        .map(|c| Case::stored(&c.input, &c.expected, c.time_limit_ms))
        .collect();
    let results = judge::run_cases(
        sandbox,
        &work.assessment.question_language,
        &work.code,
        &judged,
    )
    .await?;
    let grade = grade_of(&work, &results, now());
    let rows = result_rows(&work, &results);
    let outcome = Graded::Now {
        passed: grade.passed,
        total: grade.total,
        score: grade.score,
        state: grade.state,
    };
    let stored = db
        .run(move |conn| {
            write_transaction(conn, |conn| -> Result<bool, DbError> {
                let stored = cases::store_grade(conn, &work.assessment.id, &grade, &rows)?;
                if stored {
                    let mut graded = work.assessment.clone();
                    graded.state = grade.state;
                    progress_write_back::enqueue(conn, &graded, max_attempts)?;
                }
                Ok(stored)
            })
        })
        .await?;
    Ok(if stored {
        outcome
    } else {
        Graded::Nothing("it was graded or scored meanwhile")
    })
}

fn read_work(conn: &mut DbConn, id: &str) -> Result<Result<Work, &'static str>, DbError> {
    let Some((assessment, _)) = db::assessments::by_id(conn, id)? else {
        return Ok(Err("the assessment no longer exists"));
    };
    if assessment.state != AssessmentState::Submitted {
        return Ok(Err("it is no longer waiting for a grade"));
    }
    if cases::grade_of(conn, id)?.is_some() {
        return Ok(Err("it was graded already"));
    }
    let cases = cases::for_assessment(conn, id)?;
    if cases.is_empty() {
        return Ok(Err("it has no test cases"));
    }
    let code = db::snapshots::latest(conn, id)?
        .map(|s| s.code)
        .unwrap_or_default();
    let pass_mark = db::settings::for_org(conn, &assessment.org_id)?.pass_mark;
    Ok(Ok(Work {
        assessment,
        cases,
        code,
        pass_mark,
    }))
}

/// The score and result `results` give under the organization's pass mark.
fn grade_of(work: &Work, results: &[CaseResult], at: chrono::NaiveDateTime) -> Grade {
    let weighted: Vec<(i32, bool)> = work
        .cases
        .iter()
        .zip(results)
        .map(|(case, result)| (case.weight, result.verdict == Verdict::Passed))
        .collect();
    let score = judge::weighted_score(&weighted);
    let passed = weighted.iter().filter(|(_, p)| *p).count() as i32;
    let total = work.cases.len() as i32;
    let state = if score >= work.pass_mark as i32 {
        AssessmentState::Passed
    } else {
        AssessmentState::Failed
    };
    let failure_reason = (state == AssessmentState::Failed).then(|| {
        let compile = results.iter().any(|r| r.verdict == Verdict::CompileError);
        if compile {
            "The submission does not compile.".to_owned()
        } else {
            format!(
                "Passed {passed} of {total} test cases (score {score}, pass mark {}).",
                work.pass_mark
            )
        }
    });
    Grade {
        state,
        score,
        passed,
        total,
        failure_reason,
        at,
    }
}

fn result_rows(work: &Work, results: &[CaseResult]) -> Vec<CaseResultRow> {
    work.cases
        .iter()
        .zip(results)
        .map(|(case, r)| CaseResultRow {
            assessment_id: work.assessment.id.clone(),
            position: case.position,
            verdict: r.verdict.as_str().to_owned(),
            stdout: r.stdout.clone(),
            stderr: r.stderr.clone(),
            truncated: r.truncated,
            time_ms: r.time_ms,
            ending: r.ending.clone(),
        })
        .collect()
}
