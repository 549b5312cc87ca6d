//! A question's test cases on its form: the rows as typed (plain fields such as `case_input_0`,
//! so the form works without JavaScript), their checks, and whether the question's language
//! can run them here.

use std::collections::BTreeMap;
use std::collections::HashMap;

use crate::db::cases::TestCase;
use crate::sandbox::languages::{self, LanguageSpec};
use crate::sandbox::{Sandbox, SandboxError};

/// The most cases a question may have.
pub const MAX_CASES: usize = 50;
/// The largest input, and the largest expected output, of one case, in bytes.
pub const MAX_CASE_BYTES: usize = 64 * 1024;
/// A case's weight: a whole number in this range.
pub const WEIGHTS: std::ops::RangeInclusive<i32> = 1..=100;
/// A case's own time limit, in milliseconds.
pub const TIME_LIMITS_MS: std::ops::RangeInclusive<i32> = 100..=30_000;

/// Problems with the form, by field name (`title`, `case_weight_2` …).
pub type Errors = HashMap<String, String>;

/// One case as the form shows and posts it: text as typed, numbers not yet parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseRow {
    pub position: String,
    pub input: String,
    pub expected: String,
    pub weight: String,
    pub hidden: bool,
    /// Seconds, e.g. `2` or `0.5`; empty for the language's default.
    pub time_limit: String,
    pub remove: bool,
}

impl CaseRow {
    /// A blank row to fill in, placed after `count` others.
    pub fn blank(count: usize) -> CaseRow {
        CaseRow {
            position: (count + 1).to_string(),
            input: String::new(),
            expected: String::new(),
            weight: "1".into(),
            hidden: false,
            time_limit: String::new(),
            remove: false,
        }
    }

    /// A row left blank: no input and no expected output. Such rows are ignored.
    pub fn is_blank(&self) -> bool {
        self.input.trim().is_empty() && self.expected.trim().is_empty()
    }

    fn from_case(case: &TestCase) -> CaseRow {
        CaseRow {
            position: case.position.to_string(),
            input: case.input.clone(),
            expected: case.expected.clone(),
            weight: case.weight.to_string(),
            hidden: case.hidden,
            time_limit: case.time_limit_ms.map(seconds).unwrap_or_default(),
            remove: false,
        }
    }
}

/// The form's rows for stored cases, and one blank row after them.
pub fn rows_for(cases: &[TestCase]) -> Vec<CaseRow> {
    let mut rows: Vec<CaseRow> = cases.iter().map(CaseRow::from_case).collect();
    rows.push(CaseRow::blank(rows.len()));
    rows
}

/// Adds a blank row unless the last one is blank already (or there is none), so a form shown
/// again always has a row to fill in.
pub fn with_blank_row(mut rows: Vec<CaseRow>) -> Vec<CaseRow> {
    if rows.last().is_none_or(|r| !r.is_blank()) {
        rows.push(CaseRow::blank(rows.len()));
    }
    rows
}

/// `1500` → `1.5`: milliseconds as the seconds the form shows.
pub fn seconds(ms: i32) -> String {
    format!("{}", f64::from(ms) / 1000.0)
}

/// The rows posted as `case_{field}_{n}`, in the order of `n`; other fields are left alone.
pub fn rows_from_pairs(pairs: &[(String, String)]) -> Vec<CaseRow> {
    let mut rows: BTreeMap<u32, CaseRow> = BTreeMap::new();
    for (key, value) in pairs {
        let Some((field, n)) = key
            .strip_prefix("case_")
            .and_then(|rest| rest.rsplit_once('_'))
        else {
            continue;
        };
        let Ok(n) = n.parse::<u32>() else { continue };
        let row = rows.entry(n).or_insert_with(|| CaseRow {
            weight: String::new(),
            position: String::new(),
            ..CaseRow::blank(0)
        });
        match field {
            "position" => row.position = value.clone(),
            "input" => row.input = value.clone(),
            "expected" => row.expected = value.clone(),
            "weight" => row.weight = value.clone(),
            "time_limit" => row.time_limit = value.clone(),
            "hidden" => row.hidden = true,
            "remove" => row.remove = true,
            _ => {}
        }
    }
    rows.into_values().collect()
}

/// Checks every row, recording each problem under its field's name, and returns the cases to
/// store: blank and removed rows dropped, the rest in the order their positions give (ties
/// keep the form's order), numbered from 1.
pub fn parse(rows: &[CaseRow], errors: &mut Errors) -> Vec<TestCase> {
    let mut kept: Vec<(i64, usize, TestCase)> = Vec::new();
    for (n, row) in rows.iter().enumerate() {
        if row.remove || row.is_blank() {
            continue;
        }
        let mut fail = |field: &str, message: String| {
            errors.insert(format!("case_{field}_{n}"), message);
        };
        let order = match row.position.trim() {
            "" => n as i64 + 1,
            raw => raw.parse::<i64>().unwrap_or_else(|_| {
                fail(
                    "position",
                    format!("The order is a whole number (1 comes first); “{raw}” is not."),
                );
                0
            }),
        };
        let input = stdin_text(&row.input);
        let expected = super::normalise_lines(&row.expected);
        for (field, text, what) in [
            ("input", &input, "input"),
            ("expected", &expected, "expected output"),
        ] {
            if text.len() > MAX_CASE_BYTES {
                fail(field, too_long(what, text.len()));
            }
        }
        let weight = parse_weight(&row.weight).map_err(|m| fail("weight", m));
        let time_limit_ms = parse_time_limit(&row.time_limit).map_err(|m| fail("time_limit", m));
        if let (Ok(weight), Ok(time_limit_ms)) = (weight, time_limit_ms) {
            let case = TestCase {
                position: 0,
                input,
                expected,
                weight,
                hidden: row.hidden,
                time_limit_ms,
            };
            kept.push((order, n, case));
        }
    }
    let count = kept.len();
    if count > MAX_CASES {
        errors.insert(
            "cases".into(),
            format!(
                "A question has at most {MAX_CASES} test cases; this one has {count}: remove some."
            ),
        );
    }
    kept.sort_by_key(|(order, n, _)| (*order, *n));
    kept.into_iter()
        .enumerate()
        .map(|(n, (_, _, case))| TestCase {
            position: n as i32 + 1,
            ..case
        })
        .collect()
}

/// A case's input as the program reads it: CRLF as LF, and a last line break if it lacks one
/// (many programs read whole lines).
fn stdin_text(typed: &str) -> String {
    let mut text = super::normalise_lines(typed);
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

fn too_long(what: &str, bytes: usize) -> String {
    format!(
        "Keep the {what} to {} KB or less (this one is {} KB).",
        MAX_CASE_BYTES / 1024,
        bytes.div_ceil(1024)
    )
}

fn parse_weight(raw: &str) -> Result<i32, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(1);
    }
    match raw.parse::<i32>() {
        Ok(weight) if WEIGHTS.contains(&weight) => Ok(weight),
        _ => Err(format!(
            "The weight is a whole number from {} to {}; “{raw}” is not.",
            WEIGHTS.start(),
            WEIGHTS.end()
        )),
    }
}

fn parse_time_limit(raw: &str) -> Result<Option<i32>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let ms = raw
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite())
        .map(|s| (s * 1000.0).round());
    match ms {
        Some(ms)
            if ms >= f64::from(*TIME_LIMITS_MS.start())
                && ms <= f64::from(*TIME_LIMITS_MS.end()) =>
        {
            Ok(Some(ms as i32))
        }
        _ => Err(format!(
            "The time limit is a number of seconds from {} to {} (e.g. 2 or 0.5), or empty for \
             the language's default; “{raw}” is not.",
            seconds(*TIME_LIMITS_MS.start()),
            seconds(*TIME_LIMITS_MS.end())
        )),
    }
}

/// Whether a question's cases can run on this server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Runnable {
    Yes,
    /// The language has no toolchain here, or leverbridge never runs it: cases are refused.
    NotHere(String),
    /// The sandbox is unavailable on this machine: cases are kept but nothing runs (and no
    /// reference solution is checked) until it is.
    Unavailable(String),
}

/// Whether code in `language` (a question's stored language) can run here, and why not.
pub fn runnable(sandbox: &Sandbox, language: &str) -> Runnable {
    let Some(spec) = languages::spec(language) else {
        return Runnable::NotHere(not_declared(language));
    };
    match sandbox.can_run(spec.key) {
        Ok(_) => Runnable::Yes,
        Err(SandboxError::Unavailable(why)) => Runnable::Unavailable(why),
        Err(e) => Runnable::NotHere(e.to_string()),
    }
}

fn not_declared(language: &str) -> String {
    let label = crate::db::questions::language_label(language);
    format!(
        "{label} programs cannot be run by leverbridge, which runs {}. Choose one of these, \
         or leave the cases empty so a reviewer scores the answers.",
        runnable_names()
    )
}

/// The languages leverbridge runs, named for people.
fn runnable_names() -> String {
    languages::LANGUAGES
        .iter()
        .map(|l| l.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The languages this server runs, named for people (those leverbridge runs when the sandbox
/// is unavailable, since they run once it is).
pub fn runnable_here(sandbox: &Sandbox) -> String {
    match sandbox.runtimes() {
        [] => runnable_names(),
        runtimes => runtimes
            .iter()
            .map(|r| r.spec.name)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// "5 s": the CPU time a run in `language` gets when its case sets no limit.
pub fn default_time_limit(sandbox: &Sandbox, language: &str) -> Option<String> {
    let spec: &LanguageSpec = languages::spec(language)?;
    let cpu = sandbox.tuning().run.cpu * spec.time_multiplier;
    let ms = i32::try_from(cpu.as_millis()).ok()?;
    Some(format!("{} s", seconds(ms)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
        fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn rows_are_read_in_the_order_of_their_numbers_and_checkboxes_are_ticked_by_presence() {
        let rows = rows_from_pairs(&pairs(&[
            ("title", "ignored"),
            ("case_input_10", "b"),
            ("case_input_2", "a"),
            ("case_hidden_10", "on"),
            ("case_time_limit_2", "1.5"),
            ("case_remove_x", "on"),
        ]));
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].input.as_str(), rows[0].hidden), ("a", false));
        assert_eq!(rows[0].time_limit, "1.5");
        assert_eq!((rows[1].input.as_str(), rows[1].hidden), ("b", true));
    }

    #[test]
    fn cases_are_ordered_by_position_and_checked_field_by_field() {
        let row = |position: &str, input: &str, weight: &str, limit: &str| CaseRow {
            position: position.into(),
            input: input.into(),
            expected: "x".into(),
            weight: weight.into(),
            time_limit: limit.into(),
            hidden: false,
            remove: false,
        };
        let mut errors = Errors::new();
        let cases = parse(
            &[
                row("2", "a\r\nb", "3", "0.25"),
                row("1", "c", "", ""),
                CaseRow::blank(2),
            ],
            &mut errors,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(cases[0].input, "c\n");
        assert_eq!((cases[0].position, cases[0].weight), (1, 1));
        assert_eq!(cases[1].input, "a\nb\n");
        assert_eq!((cases[1].weight, cases[1].time_limit_ms), (3, Some(250)));

        let bad = [row("x", "a", "0", "31"), row("", "b", "2.5", "0.05")];
        parse(&bad, &mut errors);
        for key in [
            "case_position_0",
            "case_weight_0",
            "case_time_limit_0",
            "case_weight_1",
            "case_time_limit_1",
        ] {
            assert!(errors.contains_key(key), "{key}: {errors:?}");
        }
        assert_eq!(seconds(1500), "1.5");
        assert_eq!(seconds(2000), "2");
    }
}
