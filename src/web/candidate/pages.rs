//! The candidate's pages: start, editor, live pad, and one page for every other state.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use askama::Template;
use chrono::NaiveDateTime;

use crate::assessments::attempt::{time_limit, Attempt, AttemptError, Phase};
use crate::assessments::saves::MAX_CODE_BYTES;
use crate::db::questions::{editor_indent, language_label};
use crate::web::editor_asset::editor_script_url;
use crate::web::questions::prompt_html;
use crate::web::WebError;

#[derive(Template)]
#[template(path = "candidate_start.html")]
struct StartPage {
    token: String,
    candidate: String,
    title: String,
    language: &'static str,
    time_limit: String,
    start_by: String,
    max_kb: usize,
}

#[derive(Template)]
#[template(path = "candidate_editor.html")]
struct EditorPage {
    token: String,
    title: String,
    prompt_html: String,
    language: String,
    language_label: &'static str,
    /// One level of indentation in the editor (`tab` or a number of spaces).
    indent_unit: String,
    code: String,
    last_saved: Option<String>,
    /// When the code shown was saved (ms since the epoch, the server's clock; 0 when nothing
    /// was saved yet), so the editor can tell whether text this browser kept is newer.
    saved_at_ms: i64,
    deadline: String,
    deadline_ms: i64,
    now_ms: i64,
    remaining: String,
    max_bytes: usize,
    max_kb: usize,
    script_url: &'static str,
    /// Lets the editor's own `<style>` element through the Content-Security-Policy.
    style_nonce: String,
    /// Why *Run* is unavailable for this question on this server; `None` when code can run.
    run_unavailable: Option<String>,
    /// The visible test cases *Run tests* runs (0: no *Run tests* button).
    visible_cases: i64,
    /// Runs one link may make in its attempt, and the shortest gap between two, in seconds.
    max_runs: i64,
    run_gap_secs: u64,
}

#[derive(Template)]
#[template(path = "candidate_live.html")]
struct LivePage {
    candidate: String,
    title: Option<String>,
    prompt_html: Option<String>,
}

#[derive(Template)]
#[template(path = "candidate_status.html")]
struct StatusPage<'a> {
    heading: &'a str,
    message: &'a str,
    /// `ok`, `warn` or `bad`, with its badge text.
    tone: &'a str,
    badge: &'a str,
    details: Vec<(&'static str, String)>,
    back: Option<String>,
}

/// Whether the candidate's code can run here, and the runs' allowance.
pub struct Running {
    /// Why not, when it cannot.
    pub unavailable: Option<String>,
    pub pace: crate::config::RunPace,
}

/// What the link shows in `attempt`'s phase.
pub fn attempt_page(
    attempt: &Attempt,
    now: NaiveDateTime,
    running: &Running,
) -> Result<HttpResponse, WebError> {
    let a = &attempt.assessment;
    let title = title_of(a);
    let saved = attempt.latest.as_ref().map(|s| when(s.saved_at));
    match attempt.phase {
        Phase::Live => page(
            StatusCode::OK,
            &LivePage {
                candidate: a.candidate_name.clone(),
                title: a.question_title.clone(),
                prompt_html: a.question_prompt.as_deref().map(prompt_html),
            },
        ),
        Phase::Ready { start_by } => page(
            StatusCode::OK,
            &StartPage {
                token: a.token.clone(),
                candidate: a.candidate_name.clone(),
                title,
                language: language_label(&a.question_language),
                time_limit: minutes_text(time_limit(a)),
                start_by: when(start_by),
                max_kb: MAX_CODE_BYTES / 1024,
            },
        ),
        Phase::InProgress { deadline } => {
            editor_page(attempt, title, saved, (deadline, now), running)
        }
        Phase::LinkExpired => {
            let start_by = a.start_by.map(when).unwrap_or_default();
            status(
                StatusCode::GONE,
                "This link has expired",
                &format!("This test had to be started by {start_by}, and that date has passed. If you still want to take it, ask the recruiter for a new invitation."),
                ("bad", "Expired"),
                vec![("Test", title), ("Start by", start_by)],
                None,
            )
        }
        Phase::Submitted { time_ran_out: false } => status(
            StatusCode::OK,
            "Submitted",
            &format!("Thank you, {}. Your solution has been submitted and can no longer be changed. The recruiting team will be in touch; you can close this page.", a.candidate_name),
            ("ok", "Submitted"),
            vec![
                ("Test", title),
                ("Submitted", a.submitted_at.map(when).unwrap_or_default()),
            ],
            None,
        ),
        Phase::Submitted { time_ran_out: true } => time_over_page(attempt, title, saved),
        Phase::Expired => time_over_page(attempt, title, None),
        Phase::Cancelled => status(
            StatusCode::GONE,
            "This assessment has been withdrawn",
            "The recruiting team has withdrawn this assessment, so it can no longer be taken. If you think this is a mistake, contact them.",
            ("bad", "Withdrawn"),
            vec![("Test", title)],
            None,
        ),
    }
}

/// The question's title as the candidate's pages show it.
pub(super) fn title_of(a: &crate::db::assessments::Assessment) -> String {
    a.question_title
        .clone()
        .unwrap_or_else(|| "Coding test".into())
}

/// The editor, with the time left and the code last saved; its own `<style>` is let through the
/// Content-Security-Policy by a fresh nonce.
fn editor_page(
    attempt: &Attempt,
    title: String,
    saved: Option<String>,
    (deadline, now): (NaiveDateTime, NaiveDateTime),
    running: &Running,
) -> Result<HttpResponse, WebError> {
    let a = &attempt.assessment;
    let style_nonce = crate::crypto::random_token(24);
    let policy = format!(
        "{}; style-src 'self' 'nonce-{style_nonce}'",
        crate::startup::CONTENT_SECURITY_POLICY
    );
    let mut response = page(
        StatusCode::OK,
        &EditorPage {
            token: a.token.clone(),
            title,
            prompt_html: prompt_html(a.question_prompt.as_deref().unwrap_or_default()),
            language: a.question_language.clone(),
            language_label: language_label(&a.question_language),
            indent_unit: editor_indent(&a.question_language, &a.starter_code).as_attribute(),
            code: attempt
                .latest
                .as_ref()
                .map(|s| s.code.clone())
                .unwrap_or_else(|| a.starter_code.clone()),
            last_saved: saved,
            saved_at_ms: attempt
                .latest
                .as_ref()
                .map_or(0, |s| s.saved_at.and_utc().timestamp_millis()),
            deadline: when(deadline),
            deadline_ms: deadline.and_utc().timestamp_millis(),
            now_ms: now.and_utc().timestamp_millis(),
            remaining: remaining_text(deadline - now),
            max_bytes: MAX_CODE_BYTES,
            max_kb: MAX_CODE_BYTES / 1024,
            script_url: editor_script_url(),
            style_nonce,
            run_unavailable: running.unavailable.clone(),
            visible_cases: attempt.visible_cases,
            max_runs: running.pace.per_attempt,
            run_gap_secs: running.pace.gap.as_secs(),
        },
    )?;
    response.headers_mut().insert(
        actix_web::http::header::CONTENT_SECURITY_POLICY,
        actix_web::http::header::HeaderValue::from_str(&policy)
            .map_err(|e| WebError::Unexpected(e.into()))?,
    );
    Ok(response)
}

/// The page once the deadline has passed: what was handed in for the candidate (their last
/// save, `saved`), or that nothing was, having nothing saved.
fn time_over_page(
    attempt: &Attempt,
    title: String,
    saved: Option<String>,
) -> Result<HttpResponse, WebError> {
    let a = &attempt.assessment;
    let deadline = a.deadline_at.map(when).unwrap_or_default();
    if !matches!(attempt.phase, Phase::Expired) {
        let last = saved.unwrap_or_default();
        return status(
            StatusCode::OK,
            "Time is over",
            &format!("The time ran out at {deadline}. Your last saved code, from {last}, was submitted for you, {}. The recruiting team will be in touch; you can close this page.", a.candidate_name),
            ("warn", "Submitted when the time ran out"),
            vec![("Test", title), ("Time ran out", deadline), ("Last saved", last)],
            None,
        );
    }
    status(
        StatusCode::OK,
        "Time is over",
        &format!("The time ran out at {deadline} before any code was saved, so nothing was submitted. If you think this is a mistake, contact the recruiter."),
        ("bad", "Expired"),
        vec![("Test", title), ("Time ran out", deadline)],
        None,
    )
}

/// The page for a step that was refused (nothing was changed by it).
pub fn refusal_page(e: &AttemptError, token: &str) -> Result<HttpResponse, WebError> {
    match e {
        AttemptError::Database(inner) => Err(WebError::Unexpected(
            anyhow::anyhow!("{inner}").context("a candidate's step failed"),
        )),
        other => Ok(refusal_response(other, token)),
    }
}

/// [`refusal_page`] for refusals that are the candidate's to fix or learn about.
pub fn refusal_response(e: &AttemptError, token: &str) -> HttpResponse {
    let back = Some(format!("/a/{token}"));
    let message = e.to_string();
    let code = super::refusal_status(e);
    let not_saved = |heading: &str| {
        status(
            code,
            heading,
            &message,
            ("bad", "Not saved"),
            Vec::new(),
            back.clone(),
        )
    };
    let outcome = match e {
        AttemptError::UnknownLink => status(
            code,
            "This link does not open an assessment",
            "Check that you copied the whole link from your invitation, or ask the recruiter for a new one.",
            ("bad", "Unknown link"),
            Vec::new(),
            None,
        ),
        AttemptError::TooLarge(_) => not_saved("Too much code to save"),
        AttemptError::Nul => not_saved("This code cannot be saved"),
        AttemptError::TooFast(_) => not_saved("Saving too fast"),
        AttemptError::QuotaReached(_) => not_saved("No more code can be saved"),
        AttemptError::Closed(phase) => {
            let (heading, badge) = match phase {
                Phase::Submitted { time_ran_out: true } | Phase::Expired => {
                    ("Time is over", "Not saved")
                }
                Phase::Submitted { .. } => ("Already submitted", "Not saved"),
                Phase::LinkExpired => ("This link has expired", "Expired"),
                Phase::Cancelled => ("This assessment has been withdrawn", "Withdrawn"),
                Phase::Ready { .. } => ("The test has not been started", "Not saved"),
                Phase::Live => ("This is a live interview pad", "Not saved"),
                Phase::InProgress { .. } => ("The test is in progress", "In progress"),
            };
            status(code, heading, &message, ("bad", badge), Vec::new(), back.clone())
        }
        AttemptError::Database(_) => status(
            code,
            "Something went wrong on our side",
            "The error has been logged. Go back and try again in a moment.",
            ("bad", "Error"),
            Vec::new(),
            back.clone(),
        ),
    };
    let mut response = outcome.unwrap_or_else(|e| actix_web::ResponseError::error_response(&e));
    if let AttemptError::TooFast(wait) = e {
        if let Ok(value) = actix_web::http::header::HeaderValue::from_str(
            &crate::assessments::attempt::retry_after_secs(wait).to_string(),
        ) {
            response
                .headers_mut()
                .insert(actix_web::http::header::RETRY_AFTER, value);
        }
    }
    response
}

/// A plain message in the candidate's frame (a request that could not be read, say).
pub fn message_page(
    status_code: StatusCode,
    heading: &str,
    message: &str,
    token: &str,
) -> HttpResponse {
    status(
        status_code,
        heading,
        message,
        ("bad", "Not saved"),
        Vec::new(),
        Some(format!("/a/{token}")),
    )
    .unwrap_or_else(|e| actix_web::ResponseError::error_response(&e))
}

fn status(
    code: StatusCode,
    heading: &str,
    message: &str,
    (tone, badge): (&str, &str),
    details: Vec<(&'static str, String)>,
    back: Option<String>,
) -> Result<HttpResponse, WebError> {
    page(
        code,
        &StatusPage {
            heading,
            message,
            tone,
            badge,
            details,
            back,
        },
    )
}

pub(super) fn page<T: Template>(code: StatusCode, page: &T) -> Result<HttpResponse, WebError> {
    Ok(HttpResponse::build(code)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(page.render()?))
}

/// A moment as the pages show it, in UTC.
pub(super) fn when(at: NaiveDateTime) -> String {
    at.format("%-d %b %Y, %H:%M UTC").to_string()
}

/// "2 hours", "90 minutes".
fn minutes_text(minutes: i32) -> String {
    match minutes {
        60 => "1 hour".into(),
        m if m % 60 == 0 => format!("{} hours", m / 60),
        1 => "1 minute".into(),
        m => format!("{m} minutes"),
    }
}

/// What is left, for the page without JavaScript: "1 h 59 min", "4 min".
pub(super) fn remaining_text(left: chrono::Duration) -> String {
    let minutes = (left.num_seconds().max(0) + 59) / 60;
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_words() {
        assert_eq!(minutes_text(120), "2 hours");
        assert_eq!(minutes_text(90), "90 minutes");
        assert_eq!(minutes_text(60), "1 hour");
        assert_eq!(remaining_text(chrono::Duration::seconds(7170)), "2 h");
        assert_eq!(
            remaining_text(chrono::Duration::seconds(7000)),
            "1 h 57 min"
        );
        assert_eq!(remaining_text(chrono::Duration::seconds(-5)), "0 min");
    }
}
