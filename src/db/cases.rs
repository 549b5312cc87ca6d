//! Test cases (a question's, and each assessment's copy), what grading found for each, the
//! candidate's runs, and grades changed by hand.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{
    assessment_cases, assessment_runs, assessments, case_results, grade_overrides, question_cases,
};
use super::DbConn;
use crate::domain::AssessmentState;

/// One test case: what the program reads and must print, how much it counts, whether the
/// candidate sees it, and an optional time limit of its own.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = question_cases)]
pub struct TestCase {
    pub position: i32,
    pub input: String,
    pub expected: String,
    pub weight: i32,
    pub hidden: bool,
    pub time_limit_ms: Option<i32>,
}

/// A question's cases, in order.
pub fn for_question(conn: &mut DbConn, question_id: &str) -> QueryResult<Vec<TestCase>> {
    question_cases::table
        .filter(question_cases::question_id.eq(question_id))
        .order(question_cases::position.asc())
        .select(TestCase::as_select())
        .load(conn)
}

/// How many cases each of these questions has.
pub fn counts_for_questions(
    conn: &mut DbConn,
    question_ids: &[String],
) -> QueryResult<Vec<(String, i64)>> {
    question_cases::table
        .filter(question_cases::question_id.eq_any(question_ids))
        .group_by(question_cases::question_id)
        .select((question_cases::question_id, diesel::dsl::count_star()))
        .load(conn)
}

/// Replaces a question's cases with `cases`, numbered in the order given.
pub fn replace_for_question(
    conn: &mut DbConn,
    question_id: &str,
    cases: &[TestCase],
) -> QueryResult<()> {
    diesel::delete(question_cases::table.filter(question_cases::question_id.eq(question_id)))
        .execute(conn)?;
    for (n, case) in cases.iter().enumerate() {
        diesel::insert_into(question_cases::table)
            .values((
                question_cases::question_id.eq(question_id),
                question_cases::position.eq(n as i32 + 1),
                question_cases::input.eq(&case.input),
                question_cases::expected.eq(&case.expected),
                question_cases::weight.eq(case.weight),
                question_cases::hidden.eq(case.hidden),
                question_cases::time_limit_ms.eq(case.time_limit_ms),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Copies a question's cases into an assessment (when it is created).
pub fn copy_to_assessment(
    conn: &mut DbConn,
    question_id: &str,
    assessment_id: &str,
) -> QueryResult<usize> {
    let cases = for_question(conn, question_id)?;
    for case in &cases {
        diesel::insert_into(assessment_cases::table)
            .values((
                assessment_cases::assessment_id.eq(assessment_id),
                assessment_cases::position.eq(case.position),
                assessment_cases::input.eq(&case.input),
                assessment_cases::expected.eq(&case.expected),
                assessment_cases::weight.eq(case.weight),
                assessment_cases::hidden.eq(case.hidden),
                assessment_cases::time_limit_ms.eq(case.time_limit_ms),
            ))
            .execute(conn)?;
    }
    Ok(cases.len())
}

/// An assessment's copy of its cases, in order.
pub fn for_assessment(conn: &mut DbConn, assessment_id: &str) -> QueryResult<Vec<TestCase>> {
    assessment_cases::table
        .filter(assessment_cases::assessment_id.eq(assessment_id))
        .order(assessment_cases::position.asc())
        .select((
            assessment_cases::position,
            assessment_cases::input,
            assessment_cases::expected,
            assessment_cases::weight,
            assessment_cases::hidden,
            assessment_cases::time_limit_ms,
        ))
        .load::<(i32, String, String, i32, bool, Option<i32>)>(conn)
        .map(|rows| {
            rows.into_iter()
                .map(
                    |(position, input, expected, weight, hidden, time_limit_ms)| TestCase {
                        position,
                        input,
                        expected,
                        weight,
                        hidden,
                        time_limit_ms,
                    },
                )
                .collect()
        })
}

/// How many of the assessment's cases the candidate may run (the visible ones).
pub fn visible_count(conn: &mut DbConn, assessment_id: &str) -> QueryResult<i64> {
    assessment_cases::table
        .filter(assessment_cases::assessment_id.eq(assessment_id))
        .filter(assessment_cases::hidden.eq(false))
        .count()
        .get_result(conn)
}

/// Whether the assessment has cases (and so is graded automatically).
pub fn assessment_has_cases(conn: &mut DbConn, assessment_id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        assessment_cases::table.filter(assessment_cases::assessment_id.eq(assessment_id)),
    ))
    .get_result(conn)
}

/// What grading found for one case.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = case_results)]
pub struct CaseResultRow {
    pub assessment_id: String,
    pub position: i32,
    /// A `sandbox::judge::Verdict` value.
    pub verdict: String,
    pub stdout: String,
    pub stderr: String,
    pub truncated: bool,
    pub time_ms: i64,
    pub ending: String,
}

pub fn results_for(conn: &mut DbConn, assessment_id: &str) -> QueryResult<Vec<CaseResultRow>> {
    case_results::table
        .filter(case_results::assessment_id.eq(assessment_id))
        .order(case_results::position.asc())
        .select(CaseResultRow::as_select())
        .load(conn)
}

/// Stores the grade of a submitted assessment and its per-case results, once: only while the
/// assessment is still submitted and ungraded (a second run of the grading job, after a crash,
/// finds it graded and changes nothing). Returns whether this call stored it. Call it in a
/// write transaction.
pub fn store_grade(
    conn: &mut DbConn,
    assessment_id: &str,
    grade: &Grade,
    results: &[CaseResultRow],
) -> QueryResult<bool> {
    let changed = diesel::update(
        assessments::table
            .filter(assessments::id.eq(assessment_id))
            .filter(assessments::state.eq(AssessmentState::Submitted))
            .filter(assessments::graded_at.is_null()),
    )
    .set((
        assessments::state.eq(grade.state),
        assessments::score.eq(Some(grade.score)),
        assessments::failure_reason.eq(grade.failure_reason.as_deref()),
        assessments::scored_by.eq(Some(AUTOMATIC_GRADING)),
        assessments::scored_at.eq(Some(grade.at)),
        assessments::graded_at.eq(Some(grade.at)),
        assessments::cases_passed.eq(Some(grade.passed)),
        assessments::cases_total.eq(Some(grade.total)),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Ok(false);
    }
    diesel::delete(case_results::table.filter(case_results::assessment_id.eq(assessment_id)))
        .execute(conn)?;
    // One row at a time: a batch insert is not portable across the two backends.
    for row in results {
        diesel::insert_into(case_results::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(true)
}

/// Who scored an automatically graded assessment, as stored in `scored_by`.
pub const AUTOMATIC_GRADING: &str = "automatic grading";

/// A grade from the cases.
#[derive(Clone, Debug)]
pub struct Grade {
    pub state: AssessmentState,
    pub score: i32,
    pub passed: i32,
    pub total: i32,
    pub failure_reason: Option<String>,
    pub at: NaiveDateTime,
}

/// How many cases an assessment passed, of how many, when it was graded automatically.
pub fn grade_of(conn: &mut DbConn, assessment_id: &str) -> QueryResult<Option<(i32, i32)>> {
    assessments::table
        .find(assessment_id)
        .select((assessments::cases_passed, assessments::cases_total))
        .first::<(Option<i32>, Option<i32>)>(conn)
        .optional()
        .map(|row| match row {
            Some((Some(passed), Some(total))) => Some((passed, total)),
            _ => None,
        })
}

/// One of the candidate's runs.
#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = assessment_runs)]
pub struct RunRow {
    pub id: String,
    pub assessment_id: String,
    /// `custom` (*Run*) or `tests` (*Run tests*).
    pub kind: String,
    pub requested_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    /// One line for the timeline, once finished.
    pub summary: Option<String>,
    /// The result as JSON, once finished.
    pub result: Option<String>,
}

pub fn insert_run(conn: &mut DbConn, run: &RunRow) -> QueryResult<()> {
    diesel::insert_into(assessment_runs::table)
        .values(run)
        .execute(conn)
        .map(|_| ())
}

pub fn finish_run(
    conn: &mut DbConn,
    id: &str,
    at: NaiveDateTime,
    summary: &str,
    result: &str,
) -> QueryResult<()> {
    diesel::update(assessment_runs::table.find(id))
        .set((
            assessment_runs::finished_at.eq(Some(at)),
            assessment_runs::summary.eq(Some(summary)),
            assessment_runs::result.eq(Some(result)),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn find_run(conn: &mut DbConn, assessment_id: &str, id: &str) -> QueryResult<Option<RunRow>> {
    assessment_runs::table
        .filter(assessment_runs::assessment_id.eq(assessment_id))
        .filter(assessment_runs::id.eq(id))
        .select(RunRow::as_select())
        .first(conn)
        .optional()
}

/// An assessment's runs, oldest first, without their results.
pub fn runs_for(
    conn: &mut DbConn,
    assessment_id: &str,
) -> QueryResult<Vec<(String, NaiveDateTime, Option<String>)>> {
    assessment_runs::table
        .filter(assessment_runs::assessment_id.eq(assessment_id))
        .order(assessment_runs::requested_at.asc())
        .select((
            assessment_runs::kind,
            assessment_runs::requested_at,
            assessment_runs::summary,
        ))
        .load(conn)
}

/// How many runs the assessment has had, and when the newest was asked for.
pub fn run_tally(
    conn: &mut DbConn,
    assessment_id: &str,
) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    assessment_runs::table
        .filter(assessment_runs::assessment_id.eq(assessment_id))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::max(assessment_runs::requested_at),
        ))
        .first(conn)
}

/// Erases the candidate's runs and their programs' output (a deleted candidate).
pub fn erase_work(conn: &mut DbConn, assessment_ids: &[String]) -> QueryResult<usize> {
    let runs = diesel::delete(
        assessment_runs::table.filter(assessment_runs::assessment_id.eq_any(assessment_ids)),
    )
    .execute(conn)?;
    diesel::update(case_results::table.filter(case_results::assessment_id.eq_any(assessment_ids)))
        .set((case_results::stdout.eq(""), case_results::stderr.eq("")))
        .execute(conn)?;
    Ok(runs)
}

/// A grade changed by hand.
#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = grade_overrides)]
pub struct Override {
    pub id: String,
    pub assessment_id: String,
    pub from_state: AssessmentState,
    pub from_score: Option<i32>,
    pub to_state: AssessmentState,
    pub to_score: i32,
    pub reason: String,
    pub changed_by: String,
    pub changed_at: NaiveDateTime,
    pub tag_done_at: Option<NaiveDateTime>,
    pub note_done_at: Option<NaiveDateTime>,
}

pub fn insert_override(conn: &mut DbConn, row: &Override) -> QueryResult<()> {
    diesel::insert_into(grade_overrides::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn find_override(conn: &mut DbConn, id: &str) -> QueryResult<Option<Override>> {
    grade_overrides::table
        .find(id)
        .select(Override::as_select())
        .first(conn)
        .optional()
}

pub fn overrides_for(conn: &mut DbConn, assessment_id: &str) -> QueryResult<Vec<Override>> {
    grade_overrides::table
        .filter(grade_overrides::assessment_id.eq(assessment_id))
        .order(grade_overrides::changed_at.asc())
        .select(Override::as_select())
        .load(conn)
}

/// Records that an override's tag (`note == false`) or note step is done in Lever.
pub fn override_step_done(
    conn: &mut DbConn,
    id: &str,
    note: bool,
    at: NaiveDateTime,
) -> QueryResult<()> {
    let target = grade_overrides::table.find(id);
    if note {
        diesel::update(target)
            .set(grade_overrides::note_done_at.eq(Some(at)))
            .execute(conn)?;
    } else {
        diesel::update(target)
            .set(grade_overrides::tag_done_at.eq(Some(at)))
            .execute(conn)?;
    }
    Ok(())
}

/// Changes a graded assessment's state and score (an override). Call it in a write
/// transaction that also stores the [`Override`].
pub fn set_grade(
    conn: &mut DbConn,
    assessment_id: &str,
    state: AssessmentState,
    score: i32,
    failure_reason: Option<&str>,
) -> QueryResult<usize> {
    diesel::update(assessments::table.find(assessment_id))
        .set((
            assessments::state.eq(state),
            assessments::score.eq(Some(score)),
            assessments::failure_reason.eq(failure_reason),
        ))
        .execute(conn)
}
