//! Running code against test cases: the comparison rule, each case's verdict, and the two
//! things callers ask for, a run on custom input and a run of a list of cases.
//!
//! **The comparison rule** (shown to question authors): the program's output matches the
//! expected output when they are equal after removing trailing spaces and tabs from every line,
//! making `\r\n` plain `\n`, and removing blank lines at the end. Leading whitespace and blank
//! lines elsewhere count.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::process::{Ending, Execution};
use super::{Sandbox, SandboxError};

/// The comparison rule in words, for the question form.
pub const COMPARISON_RULE: &str = "Output matches when it equals the expected output after trailing spaces on each line and blank lines at the end are ignored; everything else (leading spaces, blank lines between lines, letter case) counts.";

/// Whether `got` matches `expected` under the comparison rule.
pub fn outputs_match(expected: &str, got: &str) -> bool {
    normalised(expected) == normalised(got)
}

fn normalised(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.trim_end_matches(['\r', ' ', '\t']))
        .collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// A test case as the judge needs it.
#[derive(Clone, Debug)]
pub struct Case<'a> {
    pub input: &'a str,
    pub expected: &'a str,
    /// In place of the language's base CPU limit.
    pub time_limit: Option<Duration>,
}

impl<'a> Case<'a> {
    /// A case as stored: its time limit, if it has one, in milliseconds.
    pub fn stored(input: &'a str, expected: &'a str, time_limit_ms: Option<i32>) -> Case<'a> {
        Case {
            input,
            expected,
            time_limit: time_limit_ms.map(|ms| Duration::from_millis(ms.max(1) as u64)),
        }
    }
}

/// What became of one case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Passed,
    WrongAnswer,
    TimeLimit,
    RuntimeError,
    CompileError,
}

impl Verdict {
    pub const ALL: [Verdict; 5] = [
        Verdict::Passed,
        Verdict::WrongAnswer,
        Verdict::TimeLimit,
        Verdict::RuntimeError,
        Verdict::CompileError,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::WrongAnswer => "wrong_answer",
            Verdict::TimeLimit => "time_limit",
            Verdict::RuntimeError => "runtime_error",
            Verdict::CompileError => "compile_error",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Verdict::Passed => "Passed",
            Verdict::WrongAnswer => "Wrong answer",
            Verdict::TimeLimit => "Time limit exceeded",
            Verdict::RuntimeError => "Runtime error",
            Verdict::CompileError => "Compile error",
        }
    }

    pub fn parse(raw: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == raw)
    }
}

/// One case's result: the verdict, what the program printed (capped) and how long it took.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseResult {
    pub verdict: Verdict,
    pub stdout: String,
    pub stderr: String,
    pub truncated: bool,
    pub time_ms: i64,
    /// What ended the program, in words ("exited with code 1", "killed by signal 11").
    pub ending: String,
}

/// The result of a run on custom input (or of a compilation that failed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunResult {
    /// `ok`, `compile_error`, `time_limit`, `runtime_error`.
    pub status: String,
    pub stdout: String,
    pub stderr: String,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    /// The exit code, when the program exited.
    pub exit_code: Option<i32>,
    pub time_ms: i64,
    pub ending: String,
}

/// Says what ended a program, e.g. "exited with code 0", "stopped at the CPU limit (5 s)".
pub fn describe(execution: &Execution, cpu_limit: Duration, wall_limit: Duration) -> String {
    let mut said = match execution.ending {
        Ending::Exited(code) => format!("exited with code {code}"),
        Ending::CpuLimit => format!("stopped at the CPU time limit ({} s)", seconds(cpu_limit)),
        Ending::WallLimit => format!(
            "stopped at the wall-clock limit ({} s)",
            seconds(wall_limit)
        ),
        Ending::Signalled(9) => {
            "killed (signal 9): it used up a limit such as the CPU time or memory".to_owned()
        }
        Ending::Signalled(11) => "crashed: segmentation fault (signal 11)".to_owned(),
        Ending::Signalled(6) => "aborted (signal 6)".to_owned(),
        Ending::Signalled(25) => {
            "stopped: it wrote a file larger than the limit (signal 25)".to_owned()
        }
        Ending::Signalled(s) => format!("ended by signal {s}"),
    };
    if memory_exhausted(&execution.stderr.text) {
        said.push_str("; it ran out of memory");
    }
    if execution.stdout.truncated || execution.stderr.truncated {
        said.push_str("; output truncated");
    }
    said
}

fn seconds(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms % 1000 == 0 {
        (ms / 1000).to_string()
    } else {
        format!("{:.1}", ms as f64 / 1000.0)
    }
}

/// Whether the program's errors say it ran out of memory (Python, Node, C++, Java).
fn memory_exhausted(stderr: &str) -> bool {
    [
        "MemoryError",
        "heap out of memory",
        "std::bad_alloc",
        "OutOfMemoryError",
        "Cannot allocate memory",
    ]
    .iter()
    .any(|sign| stderr.contains(sign))
}

fn millis(duration: Duration) -> i64 {
    duration.as_millis().min(i64::MAX as u128) as i64
}

fn run_result(status: &str, execution: &Execution, ending: String) -> RunResult {
    RunResult {
        status: status.to_owned(),
        stdout: execution.stdout.text.clone(),
        stderr: execution.stderr.text.clone(),
        stdout_truncated: execution.stdout.truncated,
        stderr_truncated: execution.stderr.truncated,
        exit_code: match execution.ending {
            Ending::Exited(code) => Some(code),
            _ => None,
        },
        time_ms: millis(execution.elapsed),
        ending,
    }
}

/// Compiles `code` and runs it once on `stdin` (the candidate's *Run*).
pub async fn run_code(
    sandbox: &Sandbox,
    language: &str,
    code: &str,
    stdin: &str,
) -> Result<RunResult, SandboxError> {
    let mut session = sandbox.session(language, code).await?;
    if let Err(failed) = session.compile().await? {
        let compile = sandbox.tuning().compile;
        return Ok(run_result(
            "compile_error",
            &failed,
            format!(
                "the compiler {}",
                describe(&failed, compile.cpu, compile.wall)
            ),
        ));
    }
    let limits = session.run_limits(None);
    let execution = session.run(stdin.as_bytes(), &limits).await?;
    let status = match execution.ending {
        _ if execution.timed_out() => "time_limit",
        Ending::Exited(0) => "ok",
        _ => "runtime_error",
    };
    let ending = describe(&execution, limits.cpu, limits.wall);
    Ok(run_result(status, &execution, ending))
}

/// Compiles `code` once and runs every case; a compilation that fails fails every case with
/// its output.
pub async fn run_cases(
    sandbox: &Sandbox,
    language: &str,
    code: &str,
    cases: &[Case<'_>],
) -> Result<Vec<CaseResult>, SandboxError> {
    let mut session = sandbox.session(language, code).await?;
    if let Err(failed) = session.compile().await? {
        let compile = sandbox.tuning().compile;
        let ending = format!(
            "the compiler {}",
            describe(&failed, compile.cpu, compile.wall)
        );
        return Ok(cases
            .iter()
            .map(|_| CaseResult {
                verdict: Verdict::CompileError,
                stdout: failed.stdout.text.clone(),
                stderr: failed.stderr.text.clone(),
                truncated: failed.stderr.truncated,
                time_ms: millis(failed.elapsed),
                ending: ending.clone(),
            })
            .collect());
    }
    let mut results = Vec::with_capacity(cases.len());
    for case in cases {
        let limits = session.run_limits(case.time_limit);
        let execution = session.run(case.input.as_bytes(), &limits).await?;
        let verdict = match execution.ending {
            _ if execution.timed_out() => Verdict::TimeLimit,
            Ending::Exited(0) if outputs_match(case.expected, &execution.stdout.text) => {
                Verdict::Passed
            }
            Ending::Exited(0) => Verdict::WrongAnswer,
            _ => Verdict::RuntimeError,
        };
        results.push(CaseResult {
            verdict,
            ending: describe(&execution, limits.cpu, limits.wall),
            stdout: execution.stdout.text,
            stderr: execution.stderr.text,
            truncated: execution.stdout.truncated || execution.stderr.truncated,
            time_ms: millis(execution.elapsed),
        });
    }
    Ok(results)
}

/// The weighted percentage of cases passed, rounded to a whole number: `(weight, passed)`.
pub fn weighted_score(cases: &[(i32, bool)]) -> i32 {
    let total: i64 = cases.iter().map(|(w, _)| i64::from((*w).max(0))).sum();
    if total == 0 {
        return 0;
    }
    let passed: i64 = cases
        .iter()
        .filter(|(_, p)| *p)
        .map(|(w, _)| i64::from((*w).max(0)))
        .sum();
    ((passed * 100 + total / 2) / total) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_spaces_and_trailing_blank_lines_do_not_count() {
        assert!(outputs_match("1\n2\n", "1  \n2\t\n\n\n"));
        assert!(outputs_match("a b\r\n", "a b"));
        assert!(outputs_match("", "\n\n"));
        assert!(!outputs_match("1\n2", "1\n\n2"));
        assert!(!outputs_match("x", " x"));
        assert!(!outputs_match("Yes", "yes"));
    }

    #[test]
    fn the_score_is_the_weighted_share_of_cases_passed() {
        assert_eq!(weighted_score(&[(1, true), (1, false)]), 50);
        assert_eq!(weighted_score(&[(3, true), (1, false)]), 75);
        assert_eq!(
            weighted_score(&[(1, true), (1, true), (1, false)]),
            67,
            "rounded to the nearest"
        );
        assert_eq!(weighted_score(&[]), 0);
        assert_eq!(weighted_score(&[(0, true)]), 0);
        for v in Verdict::ALL {
            assert_eq!(Verdict::parse(v.as_str()), Some(v));
        }
    }
}
