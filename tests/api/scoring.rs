//! The reviewer's side: an assessment's detail page (timeline, submission, playback), the
//! scoring form (who may score, what is refused), and the progress written back to Lever when
//! the candidate starts and when a reviewer scores: progress tags, the result note, the stage
//! move; each only when Settings switches it on, and never twice.

use diesel::prelude::*;
use leverbridge::assessments::{progress_write_back, AssessmentState};
use leverbridge::db::assessments::{Assessment, Scoring};
use leverbridge::db::{self, DbError};

use crate::both_backends;
use crate::helpers::{location, Backend, Browser, TestApp};
use crate::lever_view::{notes_with, tags};
use crate::lever_world::{connected, save_settings, LeverAccount, TAG, TRIGGER};

both_backends!(
    a_started_then_passed_assessment_is_shown_and_written_back,
    a_failed_score_carries_its_reason_to_lever,
    bad_or_repeated_scores_are_refused_and_change_nothing,
    write_backs_switched_off_are_absent_in_lever,
    a_rerun_of_the_write_back_writes_nothing_twice,
);

pub(crate) const INVITED: &str = "leverbridge: Candidate Invited";
pub(crate) const IN_PROGRESS: &str = "leverbridge: Assessment in Progress";
pub(crate) const SUBMITTED: &str = "leverbridge: Submitted";
pub(crate) const PASSED: &str = "leverbridge: Passed";
pub(crate) const FAILED: &str = "leverbridge: Failed";

/// A candidate tagged for the configuration, moved to its trigger stage and invited; returns
/// their opportunity id and the path of their link.
pub(crate) async fn invite(app: &TestApp, lever: &LeverAccount, name: &str) -> (String, String) {
    let id = lever.candidate(name, &[TAG]).await;
    lever.move_to(&id, TRIGGER).await;
    assert_eq!(app.drain().await, 1);
    let held = lever.opportunity(&id).await;
    let link = held["links"][0].as_str().expect("a link in Lever");
    let path = link
        .strip_prefix(&app.address)
        .expect("the link points at leverbridge")
        .to_owned();
    (id, path)
}

pub(crate) async fn assessment(app: &TestApp, path: &str) -> (Assessment, Scoring) {
    let token = path.trim_start_matches("/a/").to_owned();
    app.db
        .run(move |conn| -> Result<_, DbError> {
            let a = db::assessments::by_token(conn, &token)?.expect("the assessment exists");
            let scoring = db::assessments::scoring(conn, &a.id)?;
            Ok((a, scoring))
        })
        .await
        .unwrap()
}

pub(crate) fn state(a: &Assessment) -> AssessmentState {
    a.state
}

/// The candidate starts, saves each of `saves`, then submits the last one again.
pub(crate) async fn take_the_test(app: &TestApp, path: &str, saves: &[&str]) -> Browser {
    let candidate = app.as_new_session().await;
    let response = candidate.post_raw(&format!("{path}/start"), &[]).await;
    assert_eq!(response.status(), 303);
    for code in saves {
        let response = candidate
            .post_raw(&format!("{path}/save"), &[("code", code)])
            .await;
        assert_eq!(response.status(), 303);
    }
    let last = saves.last().copied().unwrap_or_default();
    let response = candidate
        .post_raw(
            &format!("{path}/submit"),
            &[("code", last), ("confirmed", "yes")],
        )
        .await;
    assert_eq!(response.status(), 303);
    candidate
}

/// A signed-in browser for a new member of `acme` with `role` (or support staff).
async fn member(app: &TestApp, email: &str, role: &str) -> Browser {
    let org = (role != "support").then_some("acme");
    app.create_user(email, org, role).await;
    let browser = app.as_new_session().await;
    browser.login(email).await;
    browser
}

pub(crate) async fn score(
    browser: &Browser,
    detail: &str,
    fields: &[(&str, &str)],
) -> (u16, String, String) {
    let response = browser
        .post_form(detail, &format!("{detail}/score"), fields)
        .await;
    let status = response.status().as_u16();
    let to = location(&response);
    (status, to, response.text().await.unwrap())
}

/// Saves `acme`'s Settings with `changes`, keeping the default Lever user chosen.
pub(crate) async fn settings(
    app: &TestApp,
    lever: &LeverAccount,
    changes: &[(&str, &str)],
) -> reqwest::Response {
    let mut all = vec![("default_user_id", lever.default_user.as_str())];
    all.extend_from_slice(changes);
    save_settings(app, &all).await
}

/// Every write (POST, PUT, DELETE) Lever received for the opportunity (the connection test
/// probes others).
pub(crate) async fn writes(lever: &LeverAccount, opportunity: &str) -> Vec<String> {
    lever
        .requests()
        .await
        .iter()
        .filter(|r| r["method"] != "GET")
        .filter(|r| r["path"].as_str().unwrap_or_default().contains(opportunity))
        .map(|r| format!("{} {}", r["method"], r["path"]))
        .collect()
}

async fn a_started_then_passed_assessment_is_shown_and_written_back(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let onsite = lever.stage("On-site interview");
    let response = settings(&app, &lever, &[("pass_stage_id", &onsite)]).await;
    assert_eq!(response.status(), 303);
    let (opportunity, path) = invite(&app, &lever, "Grace Hopper").await;
    assert!(tags(&lever.opportunity(&opportunity).await).contains(&INVITED.to_owned()));

    // Starting queues the progress tag with the start itself.
    let candidate = app.as_new_session().await;
    let response = candidate.post_raw(&format!("{path}/start"), &[]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(app.drain().await, 1, "the start queued its write-back");
    let held = tags(&lever.opportunity(&opportunity).await);
    assert!(held.contains(&IN_PROGRESS.to_owned()), "{held:?}");
    assert!(!held.contains(&INVITED.to_owned()), "replaced: {held:?}");

    for code in ["def allow():\n    pass", "def allow():\n    return True"] {
        let response = candidate
            .post_raw(&format!("{path}/save"), &[("code", code)])
            .await;
        assert_eq!(response.status(), 303);
    }
    let final_code = "def allow():\n    return bucket.take() > 0  # <done>";
    let response = candidate
        .post_raw(
            &format!("{path}/submit"),
            &[("code", final_code), ("confirmed", "yes")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let (submitted, _) = assessment(&app, &path).await;
    let detail = format!("/orgs/acme/assessments/{}", submitted.id);

    // The list links to the detail page.
    let list = app.get_html("/orgs/acme/assessments").await;
    assert!(list.contains(&format!("href=\"{detail}\"")), "{list}");

    // The detail page: link, timeline, the submission as code, playback from the last save.
    let page = app.get_html(&detail).await;
    for shown in [
        "Grace Hopper",
        "Rate limiter",
        "Submitted",
        format!("value=\"{}{path}\"", app.address).as_str(),
        "Invited: the link was created",
        "Started by the candidate",
        "Saved snapshot 1 (2 lines)",
        "Saved snapshot 2 (2 lines)",
        "Saved snapshot 3 (2 lines)",
        "Submitted by the candidate",
        "Link added to the candidate&#39;s Lever profile",
        "Tag “leverbridge: Candidate Invited” added in Lever",
        "Tag “leverbridge: Assessment in Progress” replaced “leverbridge: Candidate Invited” in Lever",
        "<h2 class=\"card-title\">Submission</h2>",
        "Snapshot 3 of 3",
        "<code class=\"language-python\" data-highlight=\"python\">def allow():\n    return bucket.take() &#62; 0  # &#60;done&#62;</code>",
        // The script that highlights it; without it the code reads the same, in plain text.
        "<script src=\"/static/editor.js?v=",
        "href=\"?snapshot=2#submission\" rel=\"prev\"",
        "The pass mark is 70",
        "Save score",
    ] {
        assert!(page.contains(shown), "{shown}: {page}");
    }
    assert_eq!(page.matches("Saved snapshot").count(), 3, "each save");
    // Lever: a recruiter sees the submission waiting for its reviewer.
    app.drain().await;
    let held = tags(&lever.opportunity(&opportunity).await);
    assert!(held.contains(&SUBMITTED.to_owned()), "{held:?}");
    assert!(
        !held.contains(&IN_PROGRESS.to_owned()),
        "replaced: {held:?}"
    );
    let page = app.get_html(&detail).await;
    assert!(
        page.contains("Tag “leverbridge: Submitted” replaced the progress tag in Lever"),
        "{page}"
    );
    // Playback: the first save, with the way forward and none back.
    let first = app.get_html(&format!("{detail}?snapshot=1")).await;
    assert!(first.contains("Snapshot 1 of 3"), "{first}");
    assert!(first.contains("Save 1 of 3"));
    assert!(first.contains("def allow():\n    pass</code>"));
    assert!(first.contains("href=\"?snapshot=2#submission\" rel=\"next\""));
    assert!(!first.contains("rel=\"prev\""));
    let second = app.get_html(&format!("{detail}?snapshot=2")).await;
    assert!(second.contains("Snapshot 2 of 3"));
    assert!(second.contains("rel=\"prev\"") && second.contains("rel=\"next\""));
    for bad in ["0", "4", "two"] {
        let response = app.get(&format!("{detail}?snapshot={bad}")).await;
        assert_eq!(response.status(), 400, "snapshot {bad}");
        let text = response.text().await.unwrap();
        assert!(text.contains("saves 1 to 3"), "{text}");
    }

    // A reviewer scores 85, passed.
    let reviewer = member(&app, "reviewer@acme.test", "reviewer").await;
    let (status, to, _) = score(
        &reviewer,
        &detail,
        &[
            ("score", "85"),
            ("result", "passed"),
            ("failure_reason", ""),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(to, detail);
    let (scored, scoring) = assessment(&app, &path).await;
    assert_eq!(state(&scored), AssessmentState::Passed);
    assert_eq!(scoring.score, Some(85));
    assert_eq!(scoring.failure_reason, None);
    assert!(scoring.scored_by.is_some() && scoring.scored_at.is_some());
    app.drain().await;

    // Lever: the Passed tag replaced Submitted; the note; the stage move.
    let held = lever.opportunity(&opportunity).await;
    let now_tags = tags(&held);
    assert!(now_tags.contains(&PASSED.to_owned()), "{now_tags:?}");
    for gone in [INVITED, IN_PROGRESS, SUBMITTED] {
        assert!(!now_tags.contains(&gone.to_owned()), "{gone}: {now_tags:?}");
    }
    assert!(
        now_tags.contains(&TAG.to_owned()),
        "the candidate's own tag stays"
    );
    let notes = notes_with(&held, "leverbridge result for Grace Hopper");
    assert_eq!(notes.len(), 1, "{held}");
    let note = notes[0]["value"].as_str().unwrap();
    for said in [
        "on “Rate limiter”: Passed, score 85/100.",
        "Scored by reviewer@acme.test.",
        format!("{}{detail}", app.address).as_str(),
    ] {
        assert!(note.contains(said), "{said}: {note}");
    }
    assert!(!note.contains("Failure reason"));
    assert_eq!(
        notes[0]["notifyFollowers"].as_bool(),
        Some(true),
        "notified per Settings"
    );
    assert_eq!(notes[0]["authorId"], lever.default_user.as_str());
    assert_eq!(held["stage"], onsite.as_str(), "moved to the pass stage");

    // The page after scoring: the score instead of the form, the rest of the timeline.
    let page = reviewer.get_html(&detail).await;
    for shown in [
        "Scored 85/100: passed. The result is being written to Lever.",
        "<strong>85</strong> / 100",
        "Scored 85/100, passed by reviewer@acme.test",
        "Tag “leverbridge: Passed” replaced the progress tag in Lever",
        "Result note written in Lever",
        "Moved to the stage “On-site interview” in Lever",
    ] {
        assert!(page.contains(shown), "{shown}: {page}");
    }
    assert!(!page.contains("Save score"), "scored once: no form");
}

async fn a_failed_score_carries_its_reason_to_lever(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let onsite = lever.stage("On-site interview");
    let response = settings(
        &app,
        &lever,
        &[("notify_followers", ""), ("pass_stage_id", &onsite)],
    )
    .await;
    assert_eq!(response.status(), 303);
    let (opportunity, path) = invite(&app, &lever, "Alan Turing").await;
    take_the_test(&app, &path, &["print('hi')"]).await;
    let (submitted, _) = assessment(&app, &path).await;
    let detail = format!("/orgs/acme/assessments/{}", submitted.id);

    // The admin scores too; the reason keeps its line breaks.
    let reason = "Missed the burst limit.\r\nNo tests.";
    let (status, _, _) = score(
        &app,
        &detail,
        &[
            ("score", "40"),
            ("result", "failed"),
            ("failure_reason", reason),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let (failed, scoring) = assessment(&app, &path).await;
    assert_eq!(state(&failed), AssessmentState::Failed);
    assert_eq!(
        scoring.failure_reason.as_deref(),
        Some("Missed the burst limit.\nNo tests.")
    );
    app.drain().await;

    let held = lever.opportunity(&opportunity).await;
    let now_tags = tags(&held);
    assert!(now_tags.contains(&FAILED.to_owned()), "{now_tags:?}");
    for gone in [INVITED, IN_PROGRESS, PASSED] {
        assert!(!now_tags.contains(&gone.to_owned()), "{gone}: {now_tags:?}");
    }
    let notes = notes_with(&held, "leverbridge result for Alan Turing");
    assert_eq!(notes.len(), 1, "{held}");
    let note = notes[0]["value"].as_str().unwrap();
    assert!(note.contains("Failed, score 40/100."), "{note}");
    assert!(
        note.contains("Failure reason: Missed the burst limit.\nNo tests."),
        "{note}"
    );
    assert_eq!(
        notes[0]["notifyFollowers"].as_bool(),
        Some(false),
        "Settings say not to"
    );
    assert_eq!(
        held["stage"],
        lever.stage(TRIGGER).as_str(),
        "a failed candidate stays where they are"
    );
    let page = app.get_html(&detail).await;
    assert!(
        page.contains("Missed the burst limit.\nNo tests."),
        "{page}"
    );
    assert!(page.contains("<span class=\"badge badge-bad\">Failed</span>"));
}

async fn bad_or_repeated_scores_are_refused_and_change_nothing(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let (_, path) = invite(&app, &lever, "Edsger Dijkstra").await;
    let (invited, _) = assessment(&app, &path).await;
    let detail = format!("/orgs/acme/assessments/{}", invited.id);
    let reviewer = member(&app, "reviewer@acme.test", "reviewer").await;
    let support = member(&app, "support@vendor.test", "support").await;

    // Not submitted yet: no form, and a score sent anyway is refused.
    let page = reviewer.get_html(&detail).await;
    assert!(page.contains("The scoring form opens once the candidate has submitted"));
    assert!(page.contains("The candidate has not started yet."));
    assert!(!page.contains("/static/editor.js"), "no code to highlight");
    let (status, _, body) = score(&reviewer, &detail, &[("score", "90"), ("result", "")]).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body.contains("This assessment is invited, not submitted"),
        "{body}"
    );

    take_the_test(&app, &path, &["x = 1"]).await;
    app.drain().await;

    // Bad fields: 422, each explained, the form kept as typed.
    let long = "y".repeat(2001);
    for (fields, message) in [
        (
            vec![("score", "101"), ("result", "passed")],
            "The score must be from 0 to 100; “101” is not.",
        ),
        (
            vec![("score", "-1"), ("result", "failed")],
            "The score must be from 0 to 100; “-1” is not.",
        ),
        (
            vec![("score", "eighty"), ("result", "passed")],
            "The score must be a whole number from 0 to 100; “eighty” is not.",
        ),
        (
            vec![("score", ""), ("result", "")],
            "without a valid score the result cannot be derived from the pass mark (70)",
        ),
        (
            vec![("score", "50"), ("result", "maybe")],
            "“maybe” is not a result",
        ),
        (
            vec![
                ("score", "30"),
                ("result", "failed"),
                ("failure_reason", long.as_str()),
            ],
            "Keep the failure reason to 2000 characters or fewer (this one has 2001).",
        ),
        (
            vec![
                ("score", "95"),
                ("result", "passed"),
                ("failure_reason", "why"),
            ],
            "A passed assessment has no failure reason",
        ),
    ] {
        let (status, _, body) = score(&reviewer, &detail, &fields).await;
        assert_eq!(status, 422, "{fields:?}: {body}");
        assert!(body.contains(message), "{message}: {body}");
        assert!(body.contains("The score was not saved"), "{body}");
        assert!(
            body.contains(&format!("value=\"{}\"", fields[0].1)),
            "kept as typed"
        );
        nothing_changed(&app, &path).await;
    }

    // Support reads the page but cannot score; a form without its CSRF token is refused.
    let page = support.get_html(&detail).await;
    assert!(!page.contains("Save score"), "{page}");
    assert!(page.contains("reviewers and admins score them"));
    let response = support
        .post_form(&detail, &format!("{detail}/score"), &[("score", "90")])
        .await;
    assert_eq!(response.status(), 403);
    let response = reviewer
        .post_raw(&format!("{detail}/score"), &[("score", "90")])
        .await;
    assert_eq!(response.status(), 403);
    nothing_changed(&app, &path).await;

    // An assessment the organization does not have answers 404.
    let response = reviewer.get("/orgs/acme/assessments/no-such-id").await;
    assert_eq!(response.status(), 404);

    // An empty result is derived from the pass mark: 70 passes.
    let (status, _, _) = score(&reviewer, &detail, &[("score", "70"), ("result", "")]).await;
    assert_eq!(status, 303);
    let (scored, scoring) = assessment(&app, &path).await;
    assert_eq!(state(&scored), AssessmentState::Passed);
    assert_eq!(scoring.score, Some(70));

    // Scoring twice is refused, whoever tries, and the first score stands.
    let (status, _, body) = score(&app, &detail, &[("score", "10"), ("result", "failed")]).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body.contains("This assessment was already scored (passed); a score cannot be changed."),
        "{body}"
    );
    let (again, scoring_again) = assessment(&app, &path).await;
    assert_eq!(state(&again), AssessmentState::Passed);
    assert_eq!(scoring_again, scoring);
}

async fn write_backs_switched_off_are_absent_in_lever(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let response = settings(
        &app,
        &lever,
        &[
            ("write_progress_tags", ""),
            ("write_note", ""),
            ("write_feedback", ""),
            ("write_report", ""),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    let (opportunity, path) = invite(&app, &lever, "Barbara Liskov").await;
    take_the_test(&app, &path, &["ok = True"]).await;
    app.drain().await;
    let (submitted, _) = assessment(&app, &path).await;
    let detail = format!("/orgs/acme/assessments/{}", submitted.id);
    let (status, _, _) = score(&app, &detail, &[("score", "99"), ("result", "passed")]).await;
    assert_eq!(status, 303);
    app.drain().await;

    let held = lever.opportunity(&opportunity).await;
    assert_eq!(tags(&held), [TAG], "no progress tag at any point");
    assert!(
        notes_with(&held, "leverbridge").is_empty(),
        "no note: {held}"
    );
    assert_eq!(held["feedback"], serde_json::json!([]), "no feedback");
    assert_eq!(held["files"], serde_json::json!([]), "no report file");
    assert_eq!(
        held["stage"],
        lever.stage(TRIGGER).as_str(),
        "no pass stage set"
    );
    let written = writes(&lever, &opportunity).await;
    assert!(
        written.iter().all(|w| w.contains("addLinks")),
        "only the link was written: {written:?}"
    );
    let page = app.get_html(&detail).await;
    assert!(
        page.contains("Nothing is written to Lever: its write-backs are switched off"),
        "{page}"
    );
    assert!(!page.contains("replaced"), "no tag steps on the timeline");
}

async fn a_rerun_of_the_write_back_writes_nothing_twice(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let onsite = lever.stage("On-site interview");
    let response = settings(&app, &lever, &[("pass_stage_id", &onsite)]).await;
    assert_eq!(response.status(), 303);
    let (opportunity, path) = invite(&app, &lever, "Frances Allen").await;
    take_the_test(&app, &path, &["def f(): pass"]).await;
    app.drain().await;
    let (submitted, _) = assessment(&app, &path).await;
    let detail = format!("/orgs/acme/assessments/{}", submitted.id);
    let (status, _, _) = score(&app, &detail, &[("score", "88"), ("result", "")]).await;
    assert_eq!(status, 303);
    app.drain().await;
    let held = lever.opportunity(&opportunity).await;
    let written = writes(&lever, &opportunity).await;
    let requests = lever.requests().await.len();

    // The job queued again runs and finds every step recorded: not even a read.
    // (The stage move's own webhook may be waiting too: Lever announces it.)
    requeue(&app, &submitted.id).await;
    assert!(app.drain().await >= 1);
    assert_eq!(
        lever.requests().await.len(),
        requests,
        "nothing asked of Lever"
    );

    // A crash after Lever answered but before the steps were recorded: the rerun finds the
    // tags, the note (by its reference) and the stage in Lever and writes none again.
    assert!(forget_every_step(&app, &submitted.id).await >= 3);
    requeue(&app, &submitted.id).await;
    assert!(app.drain().await >= 1);
    assert_eq!(
        writes(&lever, &opportunity).await,
        written,
        "no write repeated"
    );
    let again = lever.opportunity(&opportunity).await;
    assert_eq!(tags(&again), tags(&held));
    assert_eq!(again["notes"], held["notes"]);
    assert_eq!(again["stage"], onsite.as_str());
    assert_eq!(
        notes_with(&again, "leverbridge result for Frances Allen").len(),
        1
    );
}

/// The assessment behind `path` is still submitted and unscored, and nothing was queued.
async fn nothing_changed(app: &TestApp, path: &str) {
    let (a, scoring) = assessment(app, path).await;
    assert_eq!(state(&a), AssessmentState::Submitted);
    assert_eq!(scoring, Scoring::default());
    assert_eq!(app.drain().await, 0, "no write-back queued");
}

/// Deletes the record of write-back `step` of assessment `id`, as a crash after Lever answered
/// but before the step was recorded would leave it; returns how many records went (1 when the
/// step had been done).
pub(crate) async fn forget_step(app: &TestApp, id: &str, step: &str) -> usize {
    forget(app, id, Some(step)).await
}

/// `forget_step` for every step of assessment `id` recorded so far.
pub(crate) async fn forget_every_step(app: &TestApp, id: &str) -> usize {
    forget(app, id, None).await
}

async fn forget(app: &TestApp, id: &str, step: Option<&str>) -> usize {
    let (id, step) = (id.to_owned(), step.map(str::to_owned));
    app.db
        .run(move |conn| -> Result<_, DbError> {
            use leverbridge::db::schema::assessment_steps as steps;
            let mine = steps::table.filter(steps::assessment_id.eq(id));
            match step {
                Some(step) => diesel::delete(mine.filter(steps::step.eq(step))).execute(conn),
                None => diesel::delete(mine).execute(conn),
            }
            .map_err(DbError::from)
        })
        .await
        .unwrap()
}

/// Queues the progress write-back of assessment `id` again, as a retry would.
pub(crate) async fn requeue(app: &TestApp, id: &str) {
    let id = id.to_owned();
    app.db
        .run(move |conn| -> Result<_, DbError> {
            let (a, _) = db::assessments::by_id(conn, &id)?.expect("the assessment");
            progress_write_back::enqueue(conn, &a, 3).map_err(DbError::from)
        })
        .await
        .unwrap();
}
