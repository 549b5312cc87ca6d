//! The candidate's pages behind an assessment link: start once, save (JSON and plain form),
//! every save kept, submit; the server's deadline; expired links; bad input refused with
//! nothing changed. Time moves on an adjustable clock, never by sleeping.

use chrono::{Duration, NaiveDateTime};
use leverbridge::assessments::AssessmentState;
use leverbridge::clock::Clock;
use leverbridge::config::Settings;
use leverbridge::db::assessments::Assessment;
use leverbridge::db::snapshots::Snapshot;
use leverbridge::db::{self, DbError};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{location, Backend, Browser, TestApp};
use crate::lever_world::{connected_with, LeverAccount, TAG, TRIGGER};

both_backends!(
    a_candidate_starts_once_saves_and_submits,
    when_the_time_runs_out_the_last_save_is_the_submission,
    an_invitation_not_started_by_its_date_has_expired,
    bad_saves_are_refused_and_change_nothing,
    a_live_interview_shows_its_card_and_takes_no_saves,
);

const STARTER: &str = "def allow(now):\n    # <your code>\n    pass\n";

/// leverbridge on an adjustable clock, connected to Lever, with the question's starter code set.
pub(crate) async fn world(backend: Backend) -> (TestApp, LeverAccount, Clock) {
    world_with(backend, |_| {}).await
}

/// [`world`] with its settings changed by `configure` (the save limits, say).
pub(crate) async fn world_with(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> (TestApp, LeverAccount, Clock) {
    let clock = Clock::adjustable();
    let for_app = clock.clone();
    let (app, lever) = connected_with(backend, move |s| {
        s.tuning.clock = for_app;
        configure(s);
    })
    .await;
    set_question(&app, "Rate limiter", "python", STARTER).await;
    (app, lever, clock)
}

/// A candidate tagged `tags` moved to the trigger stage; returns the path of their link.
pub(crate) async fn invite(
    app: &TestApp,
    lever: &LeverAccount,
    name: &str,
    tags: &[&str],
) -> String {
    let id = lever.candidate(name, tags).await;
    lever.move_to(&id, TRIGGER).await;
    assert_eq!(app.drain().await, 1);
    let held = lever.opportunity(&id).await;
    let link = held["links"][0]
        .as_str()
        .expect("a link in Lever")
        .to_owned();
    link.strip_prefix(&app.address)
        .expect("the link points at leverbridge")
        .to_owned()
}

/// Gives `acme`'s one question its title, language and starter code, through its edit form.
pub(crate) async fn set_question(app: &TestApp, title: &str, language: &str, starter: &str) {
    let list = app.get_html("/orgs/acme/questions").await;
    let marker = "<td class=\"question-title\"><a href=\"/orgs/acme/questions/";
    let start = list.find(marker).expect("a question listed") + marker.len();
    let id = &list[start..start + list[start..].find('"').unwrap()];
    let response = app
        .post_form(
            &format!("/orgs/acme/questions/{id}/edit"),
            &format!("/orgs/acme/questions/{id}/edit"),
            &[
                ("title", title),
                ("prompt", "Write a token bucket.\n\n*Ten* calls a second."),
                ("language", language),
                ("starter_code", starter),
            ],
        )
        .await;
    assert_eq!(response.status(), 303, "question updated");
}

pub(crate) fn token_of(path: &str) -> String {
    path.trim_start_matches("/a/").to_owned()
}

pub(crate) async fn assessment(app: &TestApp, path: &str) -> Assessment {
    let token = token_of(path);
    app.db
        .run(move |conn| db::assessments::by_token(conn, &token).map_err(DbError::from))
        .await
        .unwrap()
        .expect("the assessment exists")
}

pub(crate) async fn snapshots(app: &TestApp, assessment_id: &str) -> Vec<Snapshot> {
    let id = assessment_id.to_owned();
    app.db
        .run(move |conn| db::snapshots::all(conn, &id).map_err(DbError::from))
        .await
        .unwrap()
}

pub(crate) async fn post_json(candidate: &Browser, path: &str, body: Value) -> (u16, Value) {
    let response = candidate
        .client
        .post(candidate.url(path))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn post_raw_body(
    candidate: &Browser,
    path: &str,
    content_type: &str,
    body: String,
) -> (u16, String) {
    let response = candidate
        .client
        .post(candidate.url(path))
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

pub(crate) async fn page(candidate: &Browser, path: &str) -> (u16, String) {
    let response = candidate.get(path).await;
    (response.status().as_u16(), response.text().await.unwrap())
}

fn state(a: &Assessment) -> AssessmentState {
    a.state
}

fn millis(at: NaiveDateTime) -> i64 {
    at.and_utc().timestamp_millis()
}

async fn a_candidate_starts_once_saves_and_submits(backend: Backend) {
    let (app, lever, clock) = world(backend).await;
    let path = invite(&app, &lever, "Ada Lovelace", &[TAG]).await;
    let candidate = app.as_new_session().await;

    // The terms were fixed when the assessment was created.
    let invited = assessment(&app, &path).await;
    assert_eq!(state(&invited), AssessmentState::Invited);
    assert_eq!(invited.time_limit_minutes, Some(120));
    assert_eq!(
        invited.start_by.unwrap() - invited.created_at,
        Duration::days(7)
    );

    // The start page: title, time limit, start-by date, instructions; the question waits.
    let (status, start_page) = page(&candidate, &path).await;
    assert_eq!(status, 200);
    for shown in [
        "Rate limiter",
        "2 hours",
        "Start by",
        "Python",
        "200 KB",
        "Start the test",
    ] {
        assert!(start_page.contains(shown), "{shown}: {start_page}");
    }
    assert!(start_page.contains(
        &invited
            .start_by
            .unwrap()
            .format("%-d %b %Y, %H:%M UTC")
            .to_string()
    ));
    assert!(
        !start_page.contains("token bucket"),
        "the question shows once started"
    );

    // Start: the clock begins on the server.
    let response = candidate.post_raw(&format!("{path}/start"), &[]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), path);
    let started = assessment(&app, &path).await;
    assert_eq!(state(&started), AssessmentState::Started);
    let (started_at, deadline) = (started.started_at.unwrap(), started.deadline_at.unwrap());
    assert_eq!(deadline - started_at, Duration::minutes(120));

    // A second Start ten minutes later keeps the clock.
    clock.advance(Duration::minutes(10));
    let response = candidate.post_raw(&format!("{path}/start"), &[]).await;
    assert_eq!(response.status(), 303);
    let again = assessment(&app, &path).await;
    assert_eq!(
        (again.started_at, again.deadline_at),
        (Some(started_at), Some(deadline))
    );

    // The editor: question, starter code, the server's deadline for the countdown.
    let (status, editor) = page(&candidate, &path).await;
    assert_eq!(status, 200);
    assert!(
        editor.contains("<em>Ten</em> calls a second."),
        "prompt rendered: {editor}"
    );
    assert!(
        editor.contains("    # &#60;your code&#62;"),
        "starter code, escaped: {editor}"
    );
    assert!(editor.contains(&format!("data-deadline-ms=\"{}\"", millis(deadline))));
    assert!(
        editor.contains("Time left at page load: 1 h 50 min"),
        "remaining time without JavaScript"
    );
    assert!(editor.contains("src=\"/static/editor.js?v="));
    assert!(editor.contains("data-language=\"python\""));
    assert!(editor.contains("Not saved yet"));

    // An autosave (JSON) and a plain-form save, each kept with its time.
    let (status, saved) = post_json(
        &candidate,
        &format!("{path}/autosave"),
        json!({"code": "v1"}),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["snapshot"], 1);
    clock.advance(Duration::minutes(1));
    let response = candidate
        .post_raw(&format!("{path}/save"), &[("code", "v2 <b>")])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), path);
    let (_, editor) = page(&candidate, &path).await;
    assert!(
        editor.contains("v2 &#60;b&#62;</textarea>"),
        "the editor reopens on the last save"
    );
    assert!(editor.contains("Last saved"));
    let kept = snapshots(&app, &started.id).await;
    let codes: Vec<&str> = kept.iter().map(|s| s.code.as_str()).collect();
    assert_eq!(codes, ["v1", "v2 <b>"]);
    let between = kept[1].saved_at - kept[0].saved_at;
    assert!(
        between >= Duration::minutes(1) && between < Duration::seconds(90),
        "{between}"
    );
    assert_eq!(kept.iter().map(|s| s.seq).collect::<Vec<_>>(), [1, 2]);

    // Submit: the form sends the autosaved code with a browser's \r\n line breaks, which is
    // the same code, so no third copy is kept.
    clock.advance(Duration::minutes(5));
    let (status, _) = post_json(
        &candidate,
        &format!("{path}/autosave"),
        json!({"code": "final\nanswer"}),
    )
    .await;
    assert_eq!(status, 200);
    let response = candidate
        .post_raw(
            &format!("{path}/submit"),
            &[("code", "final\r\nanswer"), ("confirmed", "yes")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let submitted = assessment(&app, &path).await;
    assert_eq!(state(&submitted), AssessmentState::Submitted);
    assert!(!submitted.time_ran_out);
    let took = submitted.submitted_at.unwrap() - started_at;
    assert!(
        took >= Duration::minutes(16) && took < Duration::minutes(17),
        "{took}"
    );
    let kept = snapshots(&app, &started.id).await;
    assert_eq!(kept.len(), 3, "the submission is the last autosave");
    assert_eq!(kept.last().unwrap().code, "final\nanswer");
    let (status, done) = page(&candidate, &path).await;
    assert_eq!(status, 200);
    assert!(
        done.contains("Submitted") && done.contains("can no longer be changed"),
        "{done}"
    );

    // Nothing more is taken: JSON, form, submit or start.
    let (status, refused) = post_json(
        &candidate,
        &format!("{path}/autosave"),
        json!({"code": "more"}),
    )
    .await;
    assert_eq!(status, 409);
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("already been submitted"),
        "{refused}"
    );
    let response = candidate
        .post_raw(&format!("{path}/save"), &[("code", "more")])
        .await;
    assert_eq!(response.status(), 409);
    assert!(response.text().await.unwrap().contains("Already submitted"));
    let response = candidate
        .post_raw(
            &format!("{path}/submit"),
            &[("code", "more"), ("confirmed", "yes")],
        )
        .await;
    assert_eq!(response.status(), 409);
    let response = candidate.post_raw(&format!("{path}/start"), &[]).await;
    assert_eq!(response.status(), 409);
    assert_eq!(snapshots(&app, &started.id).await.len(), 3);
    let after = assessment(&app, &path).await;
    assert_eq!(
        (state(&after), after.submitted_at),
        (AssessmentState::Submitted, submitted.submitted_at)
    );
}

async fn when_the_time_runs_out_the_last_save_is_the_submission(backend: Backend) {
    let (app, lever, clock) = world(backend).await;
    let path = invite(&app, &lever, "Ada Lovelace", &[TAG]).await;
    let idle = invite(&app, &lever, "Idle Ike", &[TAG]).await;
    let candidate = app.as_new_session().await;
    for p in [&path, &idle] {
        assert_eq!(
            candidate
                .post_raw(&format!("{p}/start"), &[])
                .await
                .status(),
            303
        );
    }
    let (status, _) = post_json(
        &candidate,
        &format!("{path}/autosave"),
        json!({"code": "draft 1"}),
    )
    .await;
    assert_eq!(status, 200);
    clock.advance(Duration::minutes(100));
    let (status, _) = post_json(
        &candidate,
        &format!("{path}/autosave"),
        json!({"code": "draft 2"}),
    )
    .await;
    assert_eq!(status, 200);

    // The deadline passes; the next save is refused and the last one is the submission.
    clock.advance(Duration::minutes(21));
    let (status, refused) = post_json(
        &candidate,
        &format!("{path}/autosave"),
        json!({"code": "too late"}),
    )
    .await;
    assert_eq!(status, 409, "{refused}");
    let message = refused["error"].as_str().unwrap();
    assert!(
        message.contains("The time is over") && message.contains("last saved code was submitted"),
        "{message}"
    );
    assert_eq!(refused["time_is_over"], true);
    let settled = assessment(&app, &path).await;
    assert_eq!(state(&settled), AssessmentState::Submitted);
    assert!(settled.time_ran_out, "marked: time ran out");
    assert_eq!(settled.submitted_at, settled.deadline_at);
    let kept = snapshots(&app, &settled.id).await;
    assert_eq!(
        kept.iter().map(|s| s.code.as_str()).collect::<Vec<_>>(),
        ["draft 1", "draft 2"]
    );

    // The page says so; the form's save and submit are refused with the same message.
    let (status, over) = page(&candidate, &path).await;
    assert_eq!(status, 200);
    assert!(
        over.contains("Time is over") && over.contains("was submitted for you"),
        "{over}"
    );
    for action in ["save", "submit"] {
        let response = candidate
            .post_raw(&format!("{path}/{action}"), &[("code", "too late")])
            .await;
        assert_eq!(response.status(), 409);
        let body = response.text().await.unwrap();
        assert!(
            body.contains("Time is over") && body.contains("Further changes are not saved"),
            "{body}"
        );
    }
    assert_eq!(snapshots(&app, &settled.id).await.len(), 2);

    // Who saved nothing and opens the page after the deadline: time over, nothing submitted.
    let (status, nothing) = page(&candidate, &idle).await;
    assert_eq!(status, 200);
    assert!(
        nothing.contains("Time is over") && nothing.contains("nothing was submitted"),
        "{nothing}"
    );
    let expired = assessment(&app, &idle).await;
    assert_eq!(state(&expired), AssessmentState::Expired);
    assert!(expired.submitted_at.is_none());
}

async fn an_invitation_not_started_by_its_date_has_expired(backend: Backend) {
    let (app, lever, clock) = world(backend).await;
    let path = invite(&app, &lever, "Ada Lovelace", &[TAG]).await;
    let candidate = app.as_new_session().await;

    clock.advance(Duration::days(7) - Duration::minutes(1));
    let (status, start_page) = page(&candidate, &path).await;
    assert_eq!(status, 200, "still startable a minute before its date");
    assert!(start_page.contains("Start the test"));

    clock.advance(Duration::minutes(2));
    let (status, expired) = page(&candidate, &path).await;
    assert_eq!(status, 410);
    assert!(
        expired.contains("This link has expired") && expired.contains("had to be started by"),
        "{expired}"
    );
    let response = candidate.post_raw(&format!("{path}/start"), &[]).await;
    assert_eq!(response.status(), 409);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("This link has expired"));
    let (status, _) = post_json(
        &candidate,
        &format!("{path}/autosave"),
        json!({"code": "x"}),
    )
    .await;
    assert_eq!(status, 409);
    let unchanged = assessment(&app, &path).await;
    assert_eq!(state(&unchanged), AssessmentState::Invited);
    assert!(unchanged.started_at.is_none() && unchanged.deadline_at.is_none());
    assert!(snapshots(&app, &unchanged.id).await.is_empty());
}

async fn bad_saves_are_refused_and_change_nothing(backend: Backend) {
    let (app, lever, _clock) = world(backend).await;
    let path = invite(&app, &lever, "Ada Lovelace", &[TAG]).await;
    let candidate = app.as_new_session().await;
    assert_eq!(
        candidate
            .post_raw(&format!("{path}/start"), &[])
            .await
            .status(),
        303
    );
    let autosave = format!("{path}/autosave");

    // Over the stated 200 KB of code: JSON, form, and a body far over any limit.
    let big = "x".repeat(200 * 1024 + 1);
    let (status, refused) = post_json(&candidate, &autosave, json!({ "code": big })).await;
    assert_eq!(status, 413);
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("at most 200 KB"),
        "{refused}"
    );
    let response = candidate
        .post_raw(&format!("{path}/save"), &[("code", &big)])
        .await;
    assert_eq!(response.status(), 413);
    assert!(response.text().await.unwrap().contains("at most 200 KB"));
    let huge = "y".repeat(2 * 1024 * 1024);
    let (status, refused) = post_json(&candidate, &autosave, json!({ "code": huge })).await;
    assert_eq!(status, 413, "{refused}");
    let response = candidate
        .post_raw(&format!("{path}/submit"), &[("code", &huge)])
        .await;
    assert_eq!(response.status(), 413);

    // Malformed JSON, the wrong shape, the wrong content type.
    for body in [
        "{\"code\": \"unterminated",
        "{\"code\": 5}",
        "{\"code\": \"x\", \"extra\": 1}",
        "[]",
    ] {
        let (status, answer) =
            post_raw_body(&candidate, &autosave, "application/json", body.into()).await;
        assert_eq!(status, 400, "{body}");
        assert!(answer.contains("is not the JSON"), "{answer}");
    }
    let (status, answer) = post_raw_body(
        &candidate,
        &autosave,
        "application/x-www-form-urlencoded",
        "code=x".into(),
    )
    .await;
    assert_eq!(status, 415);
    assert!(answer.contains("as JSON"), "{answer}");

    // Unknown and forged links.
    let unknown = format!("/a/{}", "Z".repeat(32));
    for bad in [unknown.as_str(), "/a/not-a-token", "/a/%3Cscript%3E"] {
        let (status, body) = page(&candidate, bad).await;
        assert_eq!(status, 404, "{bad}");
        assert!(
            body.contains("This link does not open an assessment"),
            "{body}"
        );
        let (status, answer) =
            post_json(&candidate, &format!("{bad}/autosave"), json!({"code": "x"})).await;
        assert_eq!(status, 404, "{bad}");
        assert!(answer["error"]
            .as_str()
            .unwrap()
            .contains("does not open an assessment"));
        for action in ["start", "save", "submit"] {
            let response = candidate
                .post_raw(&format!("{bad}/{action}"), &[("code", "x")])
                .await;
            assert_eq!(response.status(), 404, "{bad}/{action}");
        }
    }

    // None of it changed anything.
    let after = assessment(&app, &path).await;
    assert_eq!(state(&after), AssessmentState::Started);
    assert!(snapshots(&app, &after.id).await.is_empty());
}

async fn a_live_interview_shows_its_card_and_takes_no_saves(backend: Backend) {
    let (app, lever, _clock) = world(backend).await;
    let response = app
        .post_form(
            "/orgs/acme/configurations/new",
            "/orgs/acme/configurations/new",
            &[
                ("trigger_stage_id", &lever.stage(TRIGGER)),
                ("pad_kind", "live"),
                ("question_id", ""),
                ("tag_name", "live-interview"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303, "live configuration saved");
    let path = invite(&app, &lever, "Lin Live", &["live-interview"]).await;
    let candidate = app.as_new_session().await;

    let live = assessment(&app, &path).await;
    assert_eq!(
        (live.time_limit_minutes, live.start_by),
        (None, None),
        "no clock"
    );
    let (status, card) = page(&candidate, &path).await;
    assert_eq!(status, 200);
    assert!(
        card.contains("live coding interview") && card.contains("will share the pad"),
        "{card}"
    );
    let response = candidate.post_raw(&format!("{path}/start"), &[]).await;
    assert_eq!(response.status(), 409);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("live interview pad"));
    let (status, _) = post_json(
        &candidate,
        &format!("{path}/autosave"),
        json!({"code": "x"}),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(
        state(&assessment(&app, &path).await),
        AssessmentState::Invited
    );
}

#[tokio::test]
async fn the_editor_script_is_served_compressed_and_cached_for_a_year() {
    let app = crate::helpers::spawn_app(Backend::Sqlite).await;
    let response = app
        .client
        .get(app.url("/static/editor.js?v=1"))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-encoding"], "gzip");
    assert!(headers["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age=31536000"));
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    let compressed = response.bytes().await.unwrap().len();
    let plain = include_bytes!("../../static/editor.js").len();
    assert!(compressed < plain / 2, "{compressed} of {plain} bytes");
}
