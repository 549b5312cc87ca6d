//! How a grade from test cases is said: in Lever's note and feedback form, on the timeline, on
//! the detail page and in the report.

use crate::db::cases::{CaseResultRow, TestCase};
use crate::sandbox::judge::Verdict;

/// "passed 7 of 10 cases (score 76)".
pub fn summary(passed: i32, total: i32, score: i32) -> String {
    format!("passed {passed} of {total} cases (score {score})")
}

/// One line per case for notes and the feedback form: "1. Passed (0.04 s)", "2. Wrong answer
/// (hidden)".
pub fn case_lines(cases: &[TestCase], results: &[CaseResultRow]) -> Vec<String> {
    results
        .iter()
        .map(|r| {
            let hidden = cases
                .iter()
                .find(|c| c.position == r.position)
                .is_some_and(|c| c.hidden);
            let label = Verdict::parse(&r.verdict).map_or("Unknown", Verdict::label);
            format!(
                "{}. {label}{} ({:.2} s)",
                r.position,
                if hidden { ", hidden case" } else { "" },
                r.time_ms as f64 / 1000.0
            )
        })
        .collect()
}
