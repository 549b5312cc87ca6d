//! *Check solution*: the reference solution run against the typed cases in the sandbox, and
//! what the form shows of it (per case: passed, or what went wrong, in a few lines).

use super::cases::{runnable, Runnable};
use crate::db::cases::TestCase;
use crate::sandbox::judge::{self, Case, CaseResult, Verdict};
use crate::sandbox::Sandbox;

/// Lines of a program's output or of an expected output the results table shows.
const EXCERPT_LINES: usize = 6;
/// Characters of one such line.
const EXCERPT_WIDTH: usize = 120;

/// What running the reference solution came to.
pub enum Checked {
    /// It ran against every case: the report says how each went.
    Ran(CheckReport),
    /// It could not run here (no sandbox, or the sandbox failed to start it): why, in words.
    NotChecked(String),
}

/// The results table: one row per case, in the order the cases are stored.
pub struct CheckReport {
    pub rows: Vec<CheckRow>,
    pub passed: usize,
    /// The compiler's complaint, when the solution did not compile (every case fails with it).
    pub compile_output: Option<String>,
    /// Set when a save was refused because of this report.
    pub refused_save: bool,
}

impl CheckReport {
    pub fn total(&self) -> usize {
        self.rows.len()
    }

    pub fn all_passed(&self) -> bool {
        self.passed == self.rows.len()
    }
}

/// One case's line in the results table.
pub struct CheckRow {
    pub number: usize,
    pub verdict: &'static str,
    pub passed: bool,
    /// `badge-ok`, `badge-bad` or `badge-warn`.
    pub badge: &'static str,
    pub time_ms: i64,
    /// For a wrong answer: the first line (1 first) where the outputs differ.
    pub differs_at: Option<usize>,
    /// For a wrong answer: the expected output and the program's, in excerpts around the
    /// first difference.
    pub expected: Option<String>,
    pub got: Option<String>,
    /// What ended the program, and its errors in an excerpt (a crash, a time limit).
    pub ending: Option<String>,
    pub stderr: Option<String>,
}

/// Runs `solution` (in `language`) against `cases`, as a task of its own: the sandbox's
/// futures nest deeply, and polled under the request's middleware they overflow the stack of
/// a server worker in a debug build.
pub async fn run(sandbox: &Sandbox, language: &str, solution: &str, cases: &[TestCase]) -> Checked {
    let (sandbox, language) = (sandbox.clone(), language.to_owned());
    let (solution, cases) = (solution.to_owned(), cases.to_vec());
    let task = tokio::spawn(async move { run_here(&sandbox, &language, &solution, &cases).await });
    task.await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "checking the reference solution stopped");
        Checked::NotChecked(format!("the check stopped unexpectedly ({e})"))
    })
}

async fn run_here(
    sandbox: &Sandbox,
    language: &str,
    solution: &str,
    cases: &[TestCase],
) -> Checked {
    match runnable(sandbox, language) {
        Runnable::Yes => {}
        Runnable::NotHere(why) | Runnable::Unavailable(why) => return Checked::NotChecked(why),
    }
    let judged: Vec<Case<'_>> = cases
        .iter()
        .map(|c| Case::stored(&c.input, &c.expected, c.time_limit_ms))
        .collect();
    match judge::run_cases(sandbox, language, solution, &judged).await {
        Ok(results) => Checked::Ran(report(cases, &results)),
        Err(e) => {
            tracing::warn!(error = %e, "the reference solution could not be checked");
            Checked::NotChecked(e.to_string())
        }
    }
}

fn report(cases: &[TestCase], results: &[CaseResult]) -> CheckReport {
    let compile_output = results
        .first()
        .filter(|r| r.verdict == Verdict::CompileError)
        .map(|r| {
            excerpt(if r.stderr.is_empty() {
                &r.stdout
            } else {
                &r.stderr
            })
        });
    let rows: Vec<CheckRow> = cases
        .iter()
        .zip(results)
        .enumerate()
        .map(|(n, (case, result))| row(n + 1, case, result))
        .collect();
    CheckReport {
        passed: rows.iter().filter(|r| r.passed).count(),
        rows,
        compile_output,
        refused_save: false,
    }
}

fn row(number: usize, case: &TestCase, result: &CaseResult) -> CheckRow {
    let verdict = result.verdict;
    let differs_at =
        (verdict == Verdict::WrongAnswer).then(|| first_difference(&case.expected, &result.stdout));
    // Two lines of what matched before the first difference.
    let context = differs_at.unwrap_or(0).saturating_sub(2);
    let (expected, got, ending, stderr) = match verdict {
        Verdict::Passed | Verdict::CompileError => (None, None, None, None),
        Verdict::WrongAnswer => (
            Some(excerpt_from(&case.expected, context)),
            Some(excerpt_from(&result.stdout, context)),
            None,
            Some(result.stderr.as_str())
                .filter(|s| !s.trim().is_empty())
                .map(excerpt),
        ),
        Verdict::TimeLimit | Verdict::RuntimeError => (
            None,
            None,
            Some(result.ending.clone()),
            Some(result.stderr.as_str())
                .filter(|s| !s.trim().is_empty())
                .map(excerpt),
        ),
    };
    CheckRow {
        number,
        verdict: verdict.label(),
        passed: verdict == Verdict::Passed,
        badge: match verdict {
            Verdict::Passed => "badge-ok",
            Verdict::TimeLimit => "badge-warn",
            _ => "badge-bad",
        },
        time_ms: result.time_ms,
        differs_at: differs_at.map(|n| n + 1),
        expected,
        got,
        ending,
        stderr,
    }
}

/// The first few lines of `text`, each cut to a readable width, and how many more there were.
pub fn excerpt(text: &str) -> String {
    excerpt_from(text, 0)
}

/// A few lines of `text` from line `start` (0 first), saying how many come before and after.
fn excerpt_from(text: &str, start: usize) -> String {
    if text.trim().is_empty() {
        return "(nothing)".into();
    }
    let lines: Vec<&str> = text.trim_end_matches(['\n', '\r']).split('\n').collect();
    let start = start.min(lines.len().saturating_sub(1));
    let mut shown: Vec<String> = Vec::new();
    if start > 0 {
        shown.push(format!("… {} above", plural(start, "line")));
    }
    shown.extend(lines.iter().skip(start).take(EXCERPT_LINES).map(|line| {
        let line = line.trim_end_matches('\r');
        if line.chars().count() > EXCERPT_WIDTH {
            let cut: String = line.chars().take(EXCERPT_WIDTH).collect();
            format!("{cut}…")
        } else {
            line.to_owned()
        }
    }));
    let after = lines.len().saturating_sub(start + EXCERPT_LINES);
    if after > 0 {
        shown.push(format!("… {}", plural(after, "more line")));
    }
    shown.join("\n")
}

fn plural(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// The first line (0 first) where the program's output and the expected output differ, lines
/// compared as the comparison rule compares them.
fn first_difference(expected: &str, got: &str) -> usize {
    let lines = |text: &str| -> Vec<String> {
        text.split('\n')
            .map(|l| l.trim_end_matches(['\r', ' ', '\t']).to_owned())
            .collect()
    };
    let (expected, got) = (lines(expected), lines(got));
    let longest = expected.len().max(got.len());
    (0..longest)
        .find(|&n| expected.get(n) != got.get(n))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::{excerpt, excerpt_from, first_difference};

    #[test]
    fn an_excerpt_keeps_a_few_short_lines_and_says_how_many_more() {
        assert_eq!(excerpt("a\nb\n"), "a\nb");
        assert_eq!(excerpt("\n \n"), "(nothing)");
        let long = (1..=10)
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(excerpt(&long), "1\n2\n3\n4\n5\n6\n… 4 more lines");
        let wide = "x".repeat(200);
        assert_eq!(excerpt(&wide).chars().count(), 121);
        assert_eq!(excerpt_from(&long, 7), "… 7 lines above\n8\n9\n10");
        assert_eq!(first_difference("a\nb\nc\n", "a  \nb\nx\n"), 2);
        assert_eq!(first_difference("a\nb", "a\nb\nc"), 2);
    }
}
