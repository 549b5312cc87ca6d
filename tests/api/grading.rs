//! Running the candidate's code: *Run* and *Run tests* from the candidate's link (paced, kept on
//! the timeline, never showing hidden cases), automatic grading of a submission with test cases
//! (stored once, written back to Lever without a reviewer), and a reviewer changing a grade with
//! a reason. Every program runs in the real sandbox.

use leverbridge::assessments::AssessmentState;
use leverbridge::db::cases::TestCase;
use leverbridge::db::{self, DbError};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{skip_unless_ci, Backend, Browser, TestApp};
use crate::lever_view::{notes_with, tags};
use crate::lever_world::{connected_with, LeverAccount};
use crate::scoring::{assessment, invite, take_the_test, FAILED, IN_PROGRESS, PASSED};

both_backends!(
    a_submission_with_cases_is_graded_and_reaches_lever_without_a_reviewer,
    a_failing_submission_is_graded_on_weights_and_a_reviewer_changes_the_grade_with_a_reason,
    the_candidate_runs_code_and_the_visible_tests_within_the_links_pace,
    grading_run_again_stores_nothing_twice,
    a_busy_sandbox_answers_queued_and_the_run_finishes_when_polled,
    the_last_save_handed_in_when_time_runs_out_is_graded_on_the_cases_sent,
);

/// Whether the sandbox can run code here; otherwise the test is skipped, loudly (and fails
/// under `CI`).
fn sandbox_ready(app: &TestApp) -> bool {
    match app.jobs.sandbox.unavailable() {
        None => true,
        Some(why) => {
            skip_unless_ci(&format!("running code: {why}"));
            false
        }
    }
}

/// Sums the numbers on stdin: the cases' task.
pub(crate) const SUM: &str = "import sys\nprint(sum(int(x) for x in sys.stdin.read().split()))\n";
/// Right on non-negative numbers only.
const SUM_OF_NATURALS: &str =
    "import sys\nprint(sum(max(0, int(x)) for x in sys.stdin.read().split()))\n";

/// Two visible cases and a hidden one worth two.
pub(crate) fn sum_cases() -> Vec<TestCase> {
    let case = |position, input: &str, expected: &str, weight, hidden| TestCase {
        position,
        input: input.into(),
        expected: expected.into(),
        weight,
        hidden,
        time_limit_ms: None,
    };
    vec![
        case(1, "1 2\n", "3\n", 1, false),
        case(2, "5 5\n", "10\n", 1, false),
        case(3, "100 -1\n", "99\n", 2, true),
    ]
}

/// Gives acme's question “Rate limiter” (the configuration's) `cases`.
pub(crate) async fn give_cases(app: &TestApp, cases: Vec<TestCase>) {
    app.db
        .run(move |conn| -> Result<(), DbError> {
            let org = db::orgs::find_by_slug(conn, "acme")?.expect("acme");
            let question =
                db::questions::with_title(conn, &org.id, "Rate limiter")?.expect("the question");
            db::cases::replace_for_question(conn, &question.id, &cases)?;
            Ok(())
        })
        .await
        .unwrap();
}

async fn graded_app(backend: Backend) -> Option<(TestApp, LeverAccount)> {
    graded_app_with(backend, |_| {}).await
}

async fn graded_app_with(
    backend: Backend,
    configure: impl FnOnce(&mut leverbridge::config::Settings),
) -> Option<(TestApp, LeverAccount)> {
    let (app, lever) = connected_with(backend, |s| {
        s.tuning.clock = leverbridge::clock::Clock::adjustable();
        configure(s);
    })
    .await;
    if !sandbox_ready(&app) {
        return None;
    }
    give_cases(&app, sum_cases()).await;
    Some((app, lever))
}

async fn a_submission_with_cases_is_graded_and_reaches_lever_without_a_reviewer(backend: Backend) {
    let Some((app, lever)) = graded_app(backend).await else {
        return;
    };
    let (opportunity, path) = invite(&app, &lever, "Grace Hopper").await;
    take_the_test(&app, &path, &[SUM]).await;
    app.drain().await;

    let (graded, scoring) = assessment(&app, &path).await;
    assert_eq!(graded.state, AssessmentState::Passed);
    assert_eq!(scoring.score, Some(100));
    assert_eq!(scoring.scored_by.as_deref(), Some("automatic grading"));
    let held = lever.opportunity(&opportunity).await;
    let now_tags = tags(&held);
    assert!(now_tags.contains(&PASSED.to_owned()), "{now_tags:?}");
    assert!(!now_tags.contains(&IN_PROGRESS.to_owned()), "{now_tags:?}");
    let notes = notes_with(&held, "leverbridge result for Grace Hopper");
    assert_eq!(notes.len(), 1, "{held}");
    let note = notes[0]["value"].as_str().unwrap();
    for said in [
        "Passed, score 100/100.",
        "Test cases: passed 3 of 3 cases (score 100)",
        "3. Passed, hidden case",
        "Scored by automatic grading.",
    ] {
        assert!(note.contains(said), "{said}: {note}");
    }
    let forms = crate::results_in_lever::feedback_forms(&lever, &opportunity).await;
    assert_eq!(forms.len(), 1, "{forms:?}");
    let cases = forms[0]
        .1
        .iter()
        .find(|(label, _)| label == "Test cases")
        .map(|(_, value)| value.as_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    assert!(
        cases.starts_with("Test cases: passed 3 of 3 cases (score 100)\n1. Passed"),
        "the feedback form carries the cases: {forms:?}"
    );

    // The reviewer's page: each case, hidden input included, and the grade.
    let detail = format!("/orgs/acme/assessments/{}", graded.id);
    let page = app.get_html(&detail).await;
    for shown in [
        "Graded automatically: passed 3 of 3 cases (score 100)",
        "<pre class=\"case-io\">100 -1\n</pre>",
        "Hidden",
        "Graded automatically: passed 3 of 3 cases (score 100), passed",
        "Change the grade",
    ] {
        assert!(page.contains(shown), "{shown}: {page}");
    }
    // The report has the cases too.
    let pdf = app.get(&format!("{detail}/report.pdf")).await;
    assert_eq!(pdf.status(), 200);
    let text = crate::helpers::pdf_text(&pdf.bytes().await.unwrap());
    assert!(text.contains("passed 3 of 3 cases"), "{text}");
}

async fn a_failing_submission_is_graded_on_weights_and_a_reviewer_changes_the_grade_with_a_reason(
    backend: Backend,
) {
    let Some((app, lever)) = graded_app(backend).await else {
        return;
    };
    let (opportunity, path) = invite(&app, &lever, "Alan Turing").await;
    take_the_test(&app, &path, &[SUM_OF_NATURALS]).await;
    app.drain().await;

    // Two of three cases, but the hidden one weighs two: 2 of 4 = 50, under the pass mark (70).
    let (graded, scoring) = assessment(&app, &path).await;
    assert_eq!(graded.state, AssessmentState::Failed);
    assert_eq!(scoring.score, Some(50));
    assert_eq!(
        scoring.failure_reason.as_deref(),
        Some("Passed 2 of 3 test cases (score 50, pass mark 70).")
    );
    let held = lever.opportunity(&opportunity).await;
    assert!(tags(&held).contains(&FAILED.to_owned()));
    let note = notes_with(&held, "leverbridge result for Alan Turing")[0]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(note.contains("passed 2 of 3 cases (score 50)"), "{note}");
    assert!(note.contains("3. Wrong answer, hidden case"), "{note}");

    // A change without a reason is refused and changes nothing.
    let reviewer = reviewer(&app).await;
    let detail = format!("/orgs/acme/assessments/{}", graded.id);
    let grade = format!("{detail}/grade");
    let refused = reviewer
        .post_form(
            &detail,
            &grade,
            &[("score", "80"), ("result", ""), ("reason", " ")],
        )
        .await;
    assert_eq!(refused.status(), 422);
    let body = refused.text().await.unwrap();
    assert!(body.contains("Say why the grade changes"), "{body}");
    assert_eq!(assessment(&app, &path).await.1.score, Some(50));
    let unchanged = reviewer
        .post_form(
            &detail,
            &grade,
            &[("score", "50"), ("result", "failed"), ("reason", "Same")],
        )
        .await;
    assert_eq!(unchanged.status(), 409);

    let reason = "Negative inputs were out of scope in the brief.";
    let changed = reviewer
        .post_form(
            &detail,
            &grade,
            &[("score", "80"), ("result", ""), ("reason", reason)],
        )
        .await;
    assert_eq!(changed.status(), 303);
    let (now, scoring) = assessment(&app, &path).await;
    assert_eq!(
        (now.state, scoring.score),
        (AssessmentState::Passed, Some(80))
    );
    app.drain().await;
    app.drain().await;
    let held = lever.opportunity(&opportunity).await;
    let now_tags = tags(&held);
    assert!(now_tags.contains(&PASSED.to_owned()), "{now_tags:?}");
    assert!(
        !now_tags.contains(&FAILED.to_owned()),
        "replaced: {now_tags:?}"
    );
    let notes = notes_with(&held, "leverbridge grade change for Alan Turing");
    assert_eq!(notes.len(), 1, "written once: {held}");
    let note = notes[0]["value"].as_str().unwrap();
    assert!(
        note.contains(&format!(
            "Grade changed by reviewer@acme.test from Failed (score 50) to Passed (score 80): {reason}"
        )),
        "{note}"
    );
    let page = reviewer.get_html(&detail).await;
    assert!(
        page.contains("Grade changed by reviewer@acme.test from Failed (score 50)"),
        "{page}"
    );
    assert!(
        page.contains("Graded automatically: passed 2 of 3 cases (score 50), failed"),
        "{page}"
    );
}

async fn reviewer(app: &TestApp) -> Browser {
    app.create_user("reviewer@acme.test", Some("acme"), "reviewer")
        .await;
    let browser = app.as_new_session().await;
    browser.login("reviewer@acme.test").await;
    browser
}

async fn post_json(browser: &Browser, url: &str, body: Value) -> (u16, Option<String>, Value) {
    let response = browser
        .client
        .post(format!("{}{url}", browser.address))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    (
        status,
        retry,
        serde_json::from_str(&text).unwrap_or(json!({ "raw": text })),
    )
}

/// A run as the editor makes it: posted, then, when the server answers 202 "queued" (its slots
/// busy with other tests' programs), polled until it is done.
async fn run_json(browser: &Browser, url: &str, body: Value) -> (u16, Value) {
    let (mut status, _, mut said) = post_json(browser, url, body).await;
    for _ in 0..1200 {
        if status != 202 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let response = browser.get(said["poll"].as_str().unwrap()).await;
        if response.status() != 202 {
            status = response.status().as_u16();
            said = response.json().await.unwrap();
        }
    }
    (status, said)
}

async fn the_candidate_runs_code_and_the_visible_tests_within_the_links_pace(backend: Backend) {
    // Each run is answered at once (202) and polled, so the next request's distance from it is
    // the test's, not the time a busy machine takes to run it.
    let Some((app, lever)) = graded_app_with(backend, |s| {
        s.tuning.runs.answer_within = std::time::Duration::ZERO;
    })
    .await
    else {
        return;
    };
    let (_, path) = invite(&app, &lever, "Ada Lovelace").await;
    let candidate = app.as_new_session().await;
    // Not started: nothing runs.
    let (status, _, said) =
        post_json(&candidate, &format!("{path}/run"), json!({"code": SUM})).await;
    assert_eq!(status, 409, "{said}");
    assert_eq!(
        candidate
            .post_raw(&format!("{path}/start"), &[])
            .await
            .status(),
        303
    );
    let editor = candidate.get_html(&path).await;
    assert!(editor.contains("data-visible-cases=\"2\""), "{editor}");
    assert!(!editor.contains("100 -1"), "no hidden case on the page");

    let (status, _, first) = post_json(
        &candidate,
        &format!("{path}/run"),
        json!({"code": SUM, "input": "40 2"}),
    )
    .await;
    assert_eq!(status, 202, "{first}");

    // Faster than one run per 3 s from the link: refused with the wait.
    let (status, retry, said) = post_json(
        &candidate,
        &format!("{path}/run-tests"),
        json!({"code": SUM_OF_NATURALS}),
    )
    .await;
    assert_eq!(status, 429, "{said}");
    assert_eq!(retry.as_deref(), Some("3"));
    assert!(
        said["error"].as_str().unwrap().contains("one every 3 s"),
        "{said}"
    );

    // The first run, polled as the editor does, is done.
    let mut ran = Value::Null;
    for _ in 0..1200 {
        let response = candidate.get(first["poll"].as_str().unwrap()).await;
        if response.status() == 200 {
            ran = response.json().await.unwrap();
            break;
        }
        assert_eq!(response.status(), 202);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(ran["run"]["status"], "done", "{ran}");
    assert_eq!(ran["run"]["result"]["status"], "ok");
    assert_eq!(ran["run"]["result"]["stdout"], "42\n");
    assert_eq!(ran["run"]["result"]["exit_code"], 0);

    app.settings
        .tuning
        .clock
        .advance(chrono::Duration::seconds(3));
    let (status, tested) = run_json(
        &candidate,
        &format!("{path}/run-tests"),
        json!({"code": SUM_OF_NATURALS}),
    )
    .await;
    assert_eq!(status, 200, "{tested}");
    let result = &tested["run"]["result"];
    assert_eq!(
        (result["passed"].as_u64(), result["total"].as_u64()),
        (Some(2), Some(2))
    );
    // The hidden case (100 -1, expecting 99) is in none of the answer's cases (the answer's
    // ids and times may hold the digits by chance).
    let cases = result["cases"].as_array().unwrap();
    assert!(
        cases
            .iter()
            .all(|c| c["input"] != "100 -1\n" && c["expected"] != "99\n"),
        "hidden stays hidden: {tested}"
    );
    assert!(!tested.to_string().contains("100 -1"), "{tested}");

    // A crash is a runtime error with its stderr; bad requests are refused as JSON.
    app.settings
        .tuning
        .clock
        .advance(chrono::Duration::seconds(3));
    let (status, crashed) = run_json(
        &candidate,
        &format!("{path}/run"),
        json!({"code": "raise SystemExit(3)"}),
    )
    .await;
    assert_eq!(status, 200, "{crashed}");
    assert_eq!(crashed["run"]["result"]["status"], "runtime_error");
    assert_eq!(crashed["run"]["result"]["exit_code"], 3);
    let (status, _, said) = post_json(&candidate, &format!("{path}/run"), json!({"cod": 1})).await;
    assert_eq!(status, 400, "{said}");
    assert!(said["error"].as_str().is_some(), "{said}");
    let (status, _, _) = post_json(
        &candidate,
        "/a/00000000000000000000000000000000/run",
        json!({"code": SUM}),
    )
    .await;
    assert_eq!(status, 404);

    // Each run is on the reviewer's timeline.
    let (a, _) = assessment(&app, &path).await;
    let page = app
        .get_html(&format!("/orgs/acme/assessments/{}", a.id))
        .await;
    for line in [
        "Ran the code on custom input: exited with code 0",
        "Ran the visible tests: 2 of 2 passed",
        "Ran the code on custom input: exited with code 3",
    ] {
        assert!(page.contains(line), "{line}: {page}");
    }

    // Handed in: no more runs.
    let response = candidate
        .post_raw(
            &format!("{path}/submit"),
            &[("code", SUM), ("confirmed", "yes")],
        )
        .await;
    assert_eq!(response.status(), 303);
    app.settings
        .tuning
        .clock
        .advance(chrono::Duration::seconds(3));
    let (status, _, said) =
        post_json(&candidate, &format!("{path}/run"), json!({"code": SUM})).await;
    assert_eq!(status, 409, "{said}");
}

async fn grading_run_again_stores_nothing_twice(backend: Backend) {
    let Some((app, lever)) = graded_app(backend).await else {
        return;
    };
    let (_, path) = invite(&app, &lever, "Edsger Dijkstra").await;
    take_the_test(&app, &path, &[SUM]).await;
    let (submitted, _) = assessment(&app, &path).await;
    let clock = app.settings.tuning.clock.clone();
    let grade = |id: String| {
        let (db, sandbox, clock) = (app.db.clone(), app.jobs.sandbox.clone(), clock.clone());
        async move {
            leverbridge::assessments::grading::grade(&db, &sandbox, &id, move || clock.now(), 3)
                .await
                .unwrap()
        }
    };
    // Two runs at once, as after a crash when the job is claimed again.
    let first = tokio::spawn(grade(submitted.id.clone()));
    let second = tokio::spawn(grade(submitted.id.clone()));
    let (first, second) = (first.await.unwrap(), second.await.unwrap());
    let stored = [&first, &second]
        .iter()
        .filter(|g| matches!(g, leverbridge::assessments::grading::Graded::Now { .. }))
        .count();
    assert_eq!(stored, 1, "{first:?} {second:?}");
    let id = submitted.id.clone();
    let (results, write_backs) = app
        .db
        .run(move |conn| -> Result<_, DbError> {
            use diesel::prelude::*;
            use leverbridge::db::schema::jobs;
            let results = db::cases::results_for(conn, &id)?.len();
            let payloads: Vec<String> = jobs::table
                .filter(jobs::kind.eq("progress_write_back"))
                .select(jobs::payload)
                .load(conn)?;
            let jobs = payloads.iter().filter(|p| p.contains(&id)).count();
            Ok((results, jobs))
        })
        .await
        .unwrap();
    assert_eq!(results, 3);
    // The start's write-back, the hand-in's (the Submitted tag) and the grade's.
    assert_eq!(write_backs, 3);
}

/// Every sandbox slot busy: a run is answered 202 "queued" at once, never an error, and the
/// editor's poll then finds it done. A run whose server stopped before it finished says so.
/// The attempt's allowance of runs is enforced too.
async fn a_busy_sandbox_answers_queued_and_the_run_finishes_when_polled(backend: Backend) {
    let Some((app, lever)) = graded_app_with(backend, |s| {
        s.tuning.runs.answer_within = std::time::Duration::ZERO;
        s.tuning.runs.per_attempt = 2;
    })
    .await
    else {
        return;
    };
    let (_, path) = invite(&app, &lever, "Barbara Liskov").await;
    let candidate = app.as_new_session().await;
    assert_eq!(
        candidate
            .post_raw(&format!("{path}/start"), &[])
            .await
            .status(),
        303
    );

    // Hold every slot, as other candidates' runs would.
    let sandbox = app.jobs.sandbox.clone();
    let mut held = Vec::new();
    for _ in 0..sandbox.tuning().slots {
        held.push(sandbox.session("python", "print(1)").await.unwrap());
    }
    let (status, _, queued) = post_json(
        &candidate,
        &format!("{path}/run"),
        json!({"code": SUM, "input": "2 2"}),
    )
    .await;
    assert_eq!(status, 202, "{queued}");
    assert_eq!(queued["run"]["status"], "queued");
    let poll = queued["poll"].as_str().unwrap().to_owned();
    let waiting = candidate.get(&poll).await;
    assert_eq!(waiting.status(), 202, "still waiting for a slot");
    drop(held);
    let mut done = Value::Null;
    for _ in 0..200 {
        let response = candidate.get(&poll).await;
        if response.status() == 200 {
            done = response.json().await.unwrap();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(done["run"]["result"]["stdout"], "4\n", "{done}");

    // The second run is the attempt's last.
    app.settings
        .tuning
        .clock
        .advance(chrono::Duration::seconds(3));
    let (status, _, _) = post_json(&candidate, &format!("{path}/run"), json!({"code": SUM})).await;
    assert!(status == 200 || status == 202, "{status}");
    app.settings
        .tuning
        .clock
        .advance(chrono::Duration::seconds(3));
    let (status, _, said) =
        post_json(&candidate, &format!("{path}/run"), json!({"code": SUM})).await;
    assert_eq!(status, 429, "{said}");
    assert!(
        said["error"].as_str().unwrap().contains("used its 2 runs"),
        "{said}"
    );

    // A run its server never finished (it stopped) is said to be lost once it is old.
    let (a, _) = assessment(&app, &path).await;
    let lost = db::cases::RunRow {
        id: db::new_id(),
        assessment_id: a.id.clone(),
        kind: "custom".into(),
        requested_at: app.settings.tuning.clock.now() - chrono::Duration::minutes(10),
        finished_at: None,
        summary: None,
        result: None,
    };
    let id = lost.id.clone();
    app.db
        .run(move |conn| db::cases::insert_run(conn, &lost).map_err(DbError::from))
        .await
        .unwrap();
    let response = candidate.get(&format!("{path}/runs/{id}")).await;
    assert_eq!(response.status(), 503);
    let said: Value = response.json().await.unwrap();
    assert!(
        said["error"].as_str().unwrap().contains("interrupted"),
        "{said}"
    );
}

/// The time runs out with a save: that save is handed in and graded, on the cases the
/// assessment was sent with, whatever the question's cases became since.
async fn the_last_save_handed_in_when_time_runs_out_is_graded_on_the_cases_sent(backend: Backend) {
    let Some((app, lever)) = graded_app(backend).await else {
        return;
    };
    let (opportunity, path) = invite(&app, &lever, "Margaret Hamilton").await;
    // Edited after the invitation: a case the candidate's code would fail.
    let mut edited = sum_cases();
    edited[0].expected = "4\n".into();
    give_cases(&app, edited).await;
    let candidate = app.as_new_session().await;
    assert_eq!(
        candidate
            .post_raw(&format!("{path}/start"), &[])
            .await
            .status(),
        303
    );
    let saved = candidate
        .post_raw(&format!("{path}/save"), &[("code", SUM)])
        .await;
    assert_eq!(saved.status(), 303);
    app.settings
        .tuning
        .clock
        .advance(chrono::Duration::minutes(121));
    let page = candidate.get_html(&path).await;
    assert!(page.contains("The time ran out at"), "{page}");
    app.drain().await;
    let (graded, scoring) = assessment(&app, &path).await;
    assert!(graded.time_ran_out);
    assert_eq!(
        (graded.state, scoring.score),
        (AssessmentState::Passed, Some(100))
    );
    assert!(tags(&lever.opportunity(&opportunity).await).contains(&PASSED.to_owned()));
}
