//! A scored assessment in Lever beyond its tag and note: the feedback form on the template
//! leverbridge creates once and reuses, with the rating option its score maps to, and the PDF
//! report attached as a file (also served on leverbridge); each per Settings, and none of
//! them written twice when a run crashes at any step.

use diesel::prelude::*;
use leverbridge::db::DbError;
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{Backend, TestApp};
use crate::lever_view::{notes_with, tags};
use crate::lever_world::{connected, count, LeverAccount, TAG, TRIGGER};
use crate::scoring::{
    assessment, forget_step, requeue, score, settings, take_the_test, IN_PROGRESS, PASSED,
};

both_backends!(
    scored_results_arrive_as_feedback_on_one_template_and_a_pdf_file,
    the_feedback_form_and_the_report_file_each_follow_settings,
    a_rerun_after_a_crash_at_any_step_writes_nothing_twice,
    a_template_lost_on_either_side_is_found_again_not_duplicated,
    a_failed_write_back_shows_on_the_assessment_with_a_retry,
    a_feedback_form_lever_refuses_holds_back_neither_the_report_nor_the_stage_move,
);

/// A tagged candidate moved to the trigger stage and invited (other jobs, such as the webhook
/// of an earlier candidate's pass-stage move, may run too); returns the opportunity id and the
/// path of their link.
async fn invited(app: &TestApp, lever: &LeverAccount, name: &str) -> (String, String) {
    let id = lever.candidate(name, &[TAG]).await;
    lever.move_to(&id, TRIGGER).await;
    assert!(app.drain().await >= 1);
    let held = lever.opportunity(&id).await;
    let link = held["links"][0].as_str().expect("a link in Lever");
    let path = link.strip_prefix(&app.address).unwrap().to_owned();
    (id, path)
}

/// A candidate invited, through the test and scored `fields` by the admin; returns their
/// opportunity id and the assessment's detail page.
async fn scored(
    app: &TestApp,
    lever: &LeverAccount,
    name: &str,
    code: &str,
    fields: &[(&str, &str)],
) -> (String, String) {
    let (opportunity, path) = invited(app, lever, name).await;
    take_the_test(app, &path, &[code]).await;
    app.drain().await;
    let (submitted, _) = assessment(app, &path).await;
    let detail = format!("/orgs/acme/assessments/{}", submitted.id);
    let (status, _, body) = score(app, &detail, fields).await;
    assert_eq!(status, 303, "{body}");
    app.drain().await;
    (opportunity, detail)
}

/// Lever's feedback templates, as the API lists them.
async fn templates(lever: &LeverAccount) -> Vec<Value> {
    let response = lever
        .http
        .get(format!("{}/v1/feedback_templates", lever.sim.base_url()))
        .basic_auth(&lever.key, Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["data"].as_array().cloned().unwrap_or_default()
}

/// The opportunity's feedback forms as Lever lists them: each a map of field label → value.
pub(crate) async fn feedback_forms(
    lever: &LeverAccount,
    opportunity: &str,
) -> Vec<(String, Vec<(String, Value)>)> {
    let response = lever
        .http
        .get(format!(
            "{}/v1/opportunities/{opportunity}/feedback",
            lever.sim.base_url()
        ))
        .basic_auth(&lever.key, Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let fields = f["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|field| {
                    (
                        field["text"].as_str().unwrap().to_owned(),
                        field["value"].clone(),
                    )
                })
                .collect();
            (f["text"].as_str().unwrap_or_default().to_owned(), fields)
        })
        .collect()
}

fn value<'a>(fields: &'a [(String, Value)], label: &str) -> &'a Value {
    &fields
        .iter()
        .find(|(text, _)| text == label)
        .unwrap_or_else(|| panic!("no field “{label}” in {fields:?}"))
        .1
}

/// The bytes of the opportunity's file `id`, downloaded from Lever.
async fn download(lever: &LeverAccount, opportunity: &str, id: &str) -> (String, Vec<u8>) {
    let response = lever
        .http
        .get(format!(
            "{}/v1/opportunities/{opportunity}/files/{id}/download",
            lever.sim.base_url()
        ))
        .basic_auth(&lever.key, Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (kind, response.bytes().await.unwrap().to_vec())
}

async fn scored_results_arrive_as_feedback_on_one_template_and_a_pdf_file(backend: Backend) {
    let (app, lever) = connected(backend).await;
    assert!(templates(&lever).await.is_empty(), "a fresh account");
    let (ada, ada_detail) = scored(
        &app,
        &lever,
        "Ada Lovelace",
        "def bucket():\n    return 'tokens'",
        &[("score", "85"), ("result", "passed")],
    )
    .await;
    let (alan, _) = scored(
        &app,
        &lever,
        "Alan Turing",
        "print('hi')",
        &[
            ("score", "45"),
            ("result", "failed"),
            ("failure_reason", "No tests.\r\nMissed the burst."),
        ],
    )
    .await;
    let (grace, _) = scored(
        &app,
        &lever,
        "Grace Hopper",
        "x = 1",
        &[("score", "70"), ("result", "")],
    )
    .await;

    // One template, created once and reused for every result.
    let held = templates(&lever).await;
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["text"], "leverbridge assessment result");
    // Of the types Lever lists only (the score as text), and the rating's options in Lever's
    // order, highest first: the rating is picked by its text, not its place.
    let fields = held[0]["fields"].as_array().unwrap();
    let types: Vec<&str> = fields.iter().map(|f| f["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "score-system",
            "text",
            "dropdown",
            "textarea",
            "text",
            "textarea"
        ]
    );
    assert_eq!(fields[0]["options"][0]["text"], "4 - Strong Hire");
    let created = lever
        .requests()
        .await
        .iter()
        .filter(|r| r["method"] == "POST" && r["path"] == "/v1/feedback_templates")
        .count();
    assert_eq!(created, 1, "the template is made once");

    // Each feedback form: the rating is the option's text, by the score's band.
    for (opportunity, rating, score, result) in [
        (&ada, "4 - Strong Hire", 85, "Passed"),
        (&alan, "2 - No Hire", 45, "Failed"),
        (&grace, "3 - Hire", 70, "Passed"),
    ] {
        let forms = feedback_forms(&lever, opportunity).await;
        assert_eq!(forms.len(), 1, "{forms:?}");
        let (title, fields) = &forms[0];
        assert_eq!(title, "leverbridge assessment result");
        assert_eq!(value(fields, "Rating"), rating, "{fields:?}");
        assert_eq!(value(fields, "Score (0–100)"), score.to_string().as_str());
        assert_eq!(value(fields, "Result"), result);
        let report = value(fields, "Report").as_str().unwrap();
        assert!(
            report.starts_with(&format!("{}/orgs/acme/assessments/", app.address))
                && report.ends_with("/report.pdf"),
            "{report}"
        );
    }
    let alan_forms = feedback_forms(&lever, &alan).await;
    assert_eq!(
        value(&alan_forms[0].1, "Failure reason"),
        "No tests.\nMissed the burst."
    );
    let ada_forms = feedback_forms(&lever, &ada).await;
    assert!(value(&ada_forms[0].1, "Failure reason").is_null());
    let author = lever.opportunity(&ada).await["feedback"][0]["authorId"].clone();
    assert_eq!(
        author,
        lever.default_user.as_str(),
        "done as the default user"
    );

    // The report: a PDF file on the opportunity, and the same document on leverbridge.
    let held = lever.opportunity(&ada).await;
    let files = held["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{held}");
    let name = files[0]["name"].as_str().unwrap();
    assert!(
        name.starts_with("leverbridge-report-ada-lovelace-") && name.ends_with(".pdf"),
        "{name}"
    );
    let (kind, pdf) = download(&lever, &ada, files[0]["id"].as_str().unwrap()).await;
    assert_eq!(kind, "application/pdf");
    assert!(pdf.starts_with(b"%PDF-"), "a PDF");
    let text = crate::helpers::pdf_text(&pdf);
    for shown in [
        "Ada Lovelace",
        "Rate limiter",
        "85 / 100",
        "Passed",
        "def bucket():",
        "return 'tokens'",
        "Submitted by the candidate",
        "The candidate's work",
    ] {
        assert!(text.contains(shown), "{shown}: {text}");
    }
    // The report is for a hiring team: Lever's bookkeeping stays on the page and on Events.
    for absent in ["in Lever", "Tag “", "email"] {
        assert!(!text.contains(absent), "{absent}: {text}");
    }
    let response = app.get(&format!("{ada_detail}/report.pdf")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    let disposition = response.headers()["content-disposition"].to_str().unwrap();
    assert_eq!(disposition, format!("inline; filename=\"{name}\""));
    let served = crate::helpers::pdf_text(&response.bytes().await.unwrap());
    assert!(served.contains("Ada Lovelace") && served.contains("85 / 100"));

    // The note links to the report; the detail page names every step.
    let note = &notes_with(&held, "leverbridge result for Ada Lovelace")[0]["value"];
    assert!(
        note.as_str().unwrap().contains(&format!(
            "Report (PDF): {}{ada_detail}/report.pdf",
            app.address
        )),
        "{note}"
    );
    let page = app.get_html(&ada_detail).await;
    for shown in [
        "Feedback form submitted in Lever",
        "PDF report attached in Lever",
        &format!("href=\"{ada_detail}/report.pdf\""),
    ] {
        assert!(page.contains(shown), "{shown}: {page}");
    }

    // Not scored yet: no report, with the reason; a stranger's id: 404.
    let (_, path) = invited(&app, &lever, "Edsger Dijkstra").await;
    let (invited, _) = assessment(&app, &path).await;
    let response = app
        .get(&format!("/orgs/acme/assessments/{}/report.pdf", invited.id))
        .await;
    assert_eq!(response.status(), 409);
    let text = response.text().await.unwrap();
    assert!(
        text.contains("The report is made once the assessment is scored; this one is invited."),
        "{text}"
    );
    let response = app.get("/orgs/acme/assessments/nope/report.pdf").await;
    assert_eq!(response.status(), 404);
    let anonymous = app.as_new_session().await;
    let response = anonymous.get(&format!("{ada_detail}/report.pdf")).await;
    assert_eq!(response.status(), 303, "members only");
}

async fn the_feedback_form_and_the_report_file_each_follow_settings(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let response = settings(&app, &lever, &[("write_feedback", "")]).await;
    assert_eq!(response.status(), 303);
    let (no_feedback, detail) = scored(
        &app,
        &lever,
        "Barbara Liskov",
        "ok = True",
        &[("score", "90"), ("result", "passed")],
    )
    .await;
    let held = lever.opportunity(&no_feedback).await;
    assert_eq!(
        held["feedback"],
        Value::Array(vec![]),
        "no feedback: {held}"
    );
    assert_eq!(
        held["files"].as_array().unwrap().len(),
        1,
        "the report is on"
    );
    assert!(templates(&lever).await.is_empty(), "no template either");
    let page = app.get_html(&detail).await;
    assert!(!page.contains("Feedback form submitted"), "{page}");

    let response = settings(&app, &lever, &[("write_report", "")]).await;
    assert_eq!(response.status(), 303);
    let (no_report, detail) = scored(
        &app,
        &lever,
        "John Backus",
        "ok = False",
        &[("score", "20"), ("result", "failed")],
    )
    .await;
    let held = lever.opportunity(&no_report).await;
    assert_eq!(held["files"], Value::Array(vec![]), "no file: {held}");
    assert_eq!(
        held["feedback"].as_array().unwrap().len(),
        1,
        "feedback is on"
    );
    let page = app.get_html(&detail).await;
    assert!(!page.contains("PDF report attached"), "{page}");
    // The report stays readable on leverbridge whatever Lever is sent.
    let response = app.get(&format!("{detail}/report.pdf")).await;
    assert_eq!(response.status(), 200);
}

async fn a_rerun_after_a_crash_at_any_step_writes_nothing_twice(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let onsite = lever.stage("On-site interview");
    let response = settings(&app, &lever, &[("pass_stage_id", &onsite)]).await;
    assert_eq!(response.status(), 303);
    // The result's steps in order, each with the first write of the step after it.
    let steps = [
        ("tag_result", Some(("POST", "/notes"))),
        ("result_note", Some(("POST", "/feedback"))),
        ("feedback_form", Some(("POST", "/files"))),
        ("report_file", Some(("PUT", "/stage"))),
        ("pass_stage", None),
    ];
    for (n, (crashed, next)) in steps.into_iter().enumerate() {
        let name = format!("Candidate {n}");
        let (opportunity, path) = invited(&app, &lever, &name).await;
        take_the_test(&app, &path, &["print(1)"]).await;
        app.drain().await;
        let (submitted, _) = assessment(&app, &path).await;
        let detail = format!("/orgs/acme/assessments/{}", submitted.id);

        // The run stops before the next step's write (Lever refuses it, the job is parked) …
        if let Some((method, path_end)) = next {
            lever
                .set_faults(serde_json::json!({"scripted": [
                    {"method": method, "pathEndsWith": path_end, "status": 400}
                ]}))
                .await;
        }
        let (status, _, _) = score(&app, &detail, &[("score", "80"), ("result", "passed")]).await;
        assert_eq!(status, 303);
        app.drain().await;
        // … and the step before it reached Lever but its record was lost: a crash.
        let deleted = forget_step(&app, &submitted.id, crashed).await;
        assert_eq!(deleted, 1, "{crashed} was done before the crash");

        requeue(&app, &submitted.id).await;
        app.drain().await;
        let held = lever.opportunity(&opportunity).await;
        let writes = lever.writes_to(&opportunity).await;
        let context = format!("crash after {crashed}: {writes:?}");
        assert_eq!(
            count(&writes, "POST notes"),
            2,
            "invitation and result: {context}"
        );
        assert_eq!(count(&writes, "POST feedback"), 1, "{context}");
        assert_eq!(count(&writes, "POST files"), 1, "{context}");
        assert_eq!(count(&writes, "PUT stage"), 1, "{context}");
        assert_eq!(
            notes_with(&held, &format!("leverbridge result for {name}")).len(),
            1,
            "{context}"
        );
        assert_eq!(held["feedback"].as_array().unwrap().len(), 1, "{context}");
        assert_eq!(held["files"].as_array().unwrap().len(), 1, "{context}");
        let now_tags = tags(&held);
        assert!(
            now_tags.contains(&PASSED.to_owned()),
            "{context}: {now_tags:?}"
        );
        assert!(!now_tags.contains(&IN_PROGRESS.to_owned()), "{context}");
        assert_eq!(held["stage"], onsite.as_str(), "{context}");
    }
    assert_eq!(templates(&lever).await.len(), 1);
}

async fn a_template_lost_on_either_side_is_found_again_not_duplicated(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let (first, _) = scored(
        &app,
        &lever,
        "Radia Perlman",
        "a = 1",
        &[("score", "75"), ("result", "passed")],
    )
    .await;
    assert_eq!(
        lever.opportunity(&first).await["feedback"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // leverbridge forgot the template (a crash before it kept the ids): found by its title.
    app.db
        .run(|conn| -> Result<_, DbError> {
            use leverbridge::db::schema::lever_feedback_templates as t;
            diesel::delete(t::table)
                .execute(conn)
                .map_err(DbError::from)
        })
        .await
        .unwrap();
    let (second, _) = scored(
        &app,
        &lever,
        "Whitfield Diffie",
        "b = 2",
        &[("score", "30"), ("result", "failed")],
    )
    .await;
    let forms = feedback_forms(&lever, &second).await;
    assert_eq!(value(&forms[0].1, "Rating"), "1 - Strong No Hire");

    // The kept template no longer exists in Lever: refused, then found again and used.
    app.db
        .run(|conn| -> Result<_, DbError> {
            use leverbridge::db::schema::lever_feedback_templates as t;
            diesel::update(t::table)
                .set(t::template_id.eq("a-template-deleted-in-lever"))
                .execute(conn)
                .map_err(DbError::from)
        })
        .await
        .unwrap();
    let (third, _) = scored(
        &app,
        &lever,
        "Martin Hellman",
        "c = 3",
        &[("score", "95"), ("result", "passed")],
    )
    .await;
    let forms = feedback_forms(&lever, &third).await;
    assert_eq!(forms.len(), 1, "{forms:?}");
    assert_eq!(value(&forms[0].1, "Rating"), "4 - Strong Hire");
    assert_eq!(templates(&lever).await.len(), 1, "never a second template");

    // A template kept in the old shape (its score a `number` field, which Lever refuses, made
    // against the simulator before it followed Lever) is not used: the one Lever holds in this
    // shape is found and used at once, with no refused write.
    let old_shape = serde_json::json!({
        "template_id": "a-template-with-a-number-field",
        "rating": "r", "rating_options": ["1 - Strong No Hire", "2 - No Hire", "3 - Hire", "4 - Strong Hire"],
        "score": "s", "result": "x", "failure_reason": "f", "report": "p",
    })
    .to_string();
    app.db
        .run(move |conn| -> Result<_, DbError> {
            use leverbridge::db::schema::lever_feedback_templates as t;
            diesel::update(t::table)
                .set((
                    t::template_id.eq("a-template-with-a-number-field"),
                    t::fields.eq(old_shape),
                ))
                .execute(conn)
                .map_err(DbError::from)
        })
        .await
        .unwrap();
    let since = lever.requests().await.len();
    let (fourth, _) = scored(
        &app,
        &lever,
        "Leslie Lamport",
        "d = 4",
        &[("score", "60"), ("result", "failed")],
    )
    .await;
    let refused: Vec<Value> = lever.requests().await[since..]
        .iter()
        .filter(|r| r["status"].as_u64().is_some_and(|s| s >= 400))
        .cloned()
        .collect();
    assert!(refused.is_empty(), "{refused:?}");
    let forms = feedback_forms(&lever, &fourth).await;
    assert_eq!(forms.len(), 1, "{forms:?}");
    assert_eq!(value(&forms[0].1, "Rating"), "2 - No Hire");
    assert_eq!(templates(&lever).await.len(), 1, "never a second template");
}

async fn a_failed_write_back_shows_on_the_assessment_with_a_retry(backend: Backend) {
    let (app, lever) = connected(backend).await;
    // Lever refuses the feedback form: the job is parked with Lever's reason.
    lever
        .set_faults(serde_json::json!({"scripted": [
            {"method": "POST", "pathEndsWith": "/feedback", "status": 400}
        ]}))
        .await;
    let (opportunity, detail) = scored(
        &app,
        &lever,
        "Katherine Johnson",
        "orbit = 1",
        &[("score", "77"), ("result", "passed")],
    )
    .await;
    let page = app.get_html(&detail).await;
    assert!(
        page.contains(
            "Writing this assessment&#39;s progress to Lever waits: the feedback form was not written (Lever refused the request as invalid"
        ),
        "{page}"
    );
    assert!(
        !page.contains("/retry\""),
        "a parked job has no Retry: {page}"
    );
    assert_eq!(
        lever.opportunity(&opportunity).await["feedback"],
        serde_json::json!([])
    );

    // The same job out of attempts: Retry for admins (and support), not for reviewers.
    let id = detail.rsplit('/').next().unwrap().to_owned();
    let needle = format!("%{id}%");
    app.db
        .run(move |conn| -> Result<_, DbError> {
            use leverbridge::db::schema::jobs;
            diesel::update(
                jobs::table
                    .filter(jobs::payload.like(needle))
                    .filter(jobs::state.eq("parked")),
            )
            .set((jobs::state.eq("dead"), jobs::attempts.eq(13)))
            .execute(conn)
            .map_err(DbError::from)
        })
        .await
        .unwrap();
    let page = app.get_html(&detail).await;
    assert!(
        page.contains(
            "Writing this assessment&#39;s progress to Lever failed 13 times and stopped"
        ),
        "{page}"
    );
    assert!(
        page.contains(&format!("action=\"{detail}/retry\"")),
        "{page}"
    );
    app.create_user("reviewer@acme.test", Some("acme"), "reviewer")
        .await;
    let reviewer = app.as_new_session().await;
    reviewer.login("reviewer@acme.test").await;
    let page = reviewer.get_html(&detail).await;
    assert!(page.contains("failed 13 times and stopped") && !page.contains("/retry\""));
    let response = reviewer
        .post_form(&detail, &format!("{detail}/retry"), &[])
        .await;
    assert_eq!(response.status(), 403);

    let response = app
        .post_form(&detail, &format!("{detail}/retry"), &[])
        .await;
    assert_eq!(response.status(), 303);
    app.drain().await;
    let forms = feedback_forms(&lever, &opportunity).await;
    assert_eq!(forms.len(), 1, "written on the retry: {forms:?}");
    let page = app.get_html(&detail).await;
    assert!(!page.contains("write-back-trouble"), "{page}");
    assert!(page.contains("Feedback form submitted in Lever"));
    // Nothing left to retry.
    let response = app
        .post_form(&detail, &format!("{detail}/retry"), &[])
        .await;
    assert_eq!(response.status(), 303);
    let page = app.get_html(&detail).await;
    assert!(page.contains("Nothing is waiting for a retry"), "{page}");
}

async fn a_feedback_form_lever_refuses_holds_back_neither_the_report_nor_the_stage_move(
    backend: Backend,
) {
    let (app, lever) = connected(backend).await;
    let onsite = lever.stage("On-site interview");
    let response = settings(&app, &lever, &[("pass_stage_id", &onsite)]).await;
    assert_eq!(response.status(), 303);
    // Lever refuses every feedback form for good (a 400, not a 401 or a 429).
    lever
        .set_faults(serde_json::json!({"scripted": [
            {"method": "POST", "pathEndsWith": "/feedback", "status": 400, "times": 10}
        ]}))
        .await;
    let (opportunity, detail) = scored(
        &app,
        &lever,
        "Frances Allen",
        "fn main() {}",
        &[("score", "88"), ("result", "passed")],
    )
    .await;

    // The steps after the feedback form went ahead: the report, and the move to the stage.
    let held = lever.opportunity(&opportunity).await;
    assert_eq!(held["feedback"], serde_json::json!([]), "{held}");
    assert_eq!(held["files"].as_array().unwrap().len(), 1, "{held}");
    assert_eq!(held["stage"], onsite.as_str(), "{held}");
    assert!(tags(&held).contains(&PASSED.to_owned()), "{held}");

    // The timeline and Events say which step failed and why; the job waits on it.
    let why = "Not written in Lever: the feedback form (Lever refused the request as invalid: \
               Bad Request (BadRequestError)). The other write-back steps went ahead.";
    let page = app.get_html(&detail).await;
    for shown in [
        why,
        "PDF report attached in Lever",
        "Moved to the stage “On-site interview” in Lever",
        "Writing this assessment&#39;s progress to Lever waits: the feedback form was not written",
    ] {
        assert!(page.contains(shown), "{shown}: {page}");
    }
    assert!(!page.contains("Feedback form submitted in Lever"), "{page}");
    let events = app.get_html("/orgs/acme/events").await;
    let row = events
        .split("<tr>")
        .find(|row| row.contains("Frances Allen") && row.contains("refused"))
        .unwrap_or_else(|| panic!("no refusal under the delivery: {events}"));
    assert!(row.contains(why), "{row}");
}
