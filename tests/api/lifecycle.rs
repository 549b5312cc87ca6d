//! A candidate leaves the pipeline in Lever: archived, hired or deleted. Unfinished assessments
//! are withdrawn (link removed, `{prefix}: Cancelled` in Lever, a withdrawn page for the
//! candidate), a submitted one is kept for scoring, a recruiter's choice still waiting for its
//! question is withdrawn (its link removed, its page refusing a choice), a restore does nothing,
//! events about candidates leverbridge never saw are acknowledged, and a deletion erases every
//! trace of the candidate's text from the database.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use leverbridge::db::{self, DbConn, DbError};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{Backend, TestApp};
use crate::lever_view::{notes_with, tags};
use crate::lever_world::{
    connected, count, post, save_settings, webhook_url_in, LeverAccount, TAG, TRIGGER,
};
use crate::scoring::{
    assessment, forget_step, invite, requeue, score, state, take_the_test, INVITED, IN_PROGRESS,
};
use crate::triggers::{add_recruiters_choice, first_question_on, waiting_for_a_choice};
use leverbridge::assessments::AssessmentState;

both_backends!(
    archiving_withdraws_unfinished_assessments_and_keeps_a_submitted_one,
    a_candidate_emailed_an_invitation_is_emailed_that_it_was_withdrawn,
    hiring_withdraws_once_though_lever_sends_two_events,
    deleting_a_candidate_erases_their_text_from_every_table,
    deleting_a_candidate_erases_the_address_their_invitation_went_to,
    events_about_candidates_leverbridge_never_saw_are_acknowledged,
    a_rerun_after_a_crash_at_any_withdrawal_step_writes_nothing_twice,
    a_choice_still_to_be_made_is_withdrawn_when_the_candidate_is_archived_or_hired,
    deleting_a_candidate_waiting_for_a_choice_withdraws_it_and_erases_their_name,
);

const CANCELLED: &str = "leverbridge: Cancelled";
const LIFECYCLE: [&str; 3] = [
    "candidateArchiveChange",
    "candidateHired",
    "candidateDeleted",
];

/// `connected`, with Lever's archive, hire and deletion webhooks pointed at the organization and
/// their signature tokens pasted on the Webhooks page, as an admin does for the stage change.
async fn connected_for_lifecycle(backend: Backend) -> (TestApp, LeverAccount) {
    let (app, lever) = connected(backend).await;
    let url = webhook_url_in(&app.get_html("/orgs/acme/webhooks").await);
    let mut fields = Vec::new();
    for event in LIFECYCLE {
        let token = lever.set_webhook(event, &url).await;
        fields.push((format!("token_{event}"), token));
    }
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let response = app
        .post_form("/orgs/acme/webhooks", "/orgs/acme/webhooks/tokens", &fields)
        .await;
    assert_eq!(response.status(), 303);
    let page = app.get_html("/orgs/acme/webhooks").await;
    assert!(
        !page.contains("Not set"),
        "every event's token is saved: {page}"
    );
    (app, lever)
}

async fn archive(lever: &LeverAccount, opportunity: &str, archived: bool) -> Value {
    post(
        &lever.http,
        &lever.control(&format!("/opportunities/{opportunity}/archive")),
        json!({"archived": archived, "reason": if archived { Some("Not a fit") } else { None }}),
    )
    .await
}

async fn delete(lever: &LeverAccount, opportunity: &str) {
    let response = lever
        .http
        .delete(lever.control(&format!("/opportunities/{opportunity}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// Lever's deliveries' answers from leverbridge, by event, newest first.
async fn delivered(lever: &LeverAccount, event: &str) -> Vec<Value> {
    lever
        .deliveries()
        .await
        .into_iter()
        .filter(|d| d["event"] == event)
        .collect()
}

/// The Events page's text.
async fn events(app: &TestApp) -> String {
    app.get_html("/orgs/acme/events").await
}

async fn archiving_withdraws_unfinished_assessments_and_keeps_a_submitted_one(backend: Backend) {
    let (app, lever) = connected_for_lifecycle(backend).await;
    let webhooks = app.get_html("/orgs/acme/webhooks").await;
    for label in [
        "Candidate Archive State Change",
        "Candidate Hired",
        "Candidate Deleted",
    ] {
        assert!(webhooks.contains(label), "{label}");
    }
    assert!(
        !webhooks.contains("Not set"),
        "every token saved: {webhooks}"
    );

    let (invited, invited_path) = invite(&app, &lever, "Ada Lovelace").await;
    let (started, started_path) = invite(&app, &lever, "Alan Turing").await;
    let candidate = app.as_new_session().await;
    let response = candidate
        .post_raw(&format!("{started_path}/start"), &[])
        .await;
    assert_eq!(response.status(), 303);
    app.drain().await;
    let (submitted, submitted_path) = invite(&app, &lever, "Grace Hopper").await;
    take_the_test(&app, &submitted_path, &["print('done')"]).await;
    app.drain().await;
    assert!(tags(&lever.opportunity(&started).await).contains(&IN_PROGRESS.to_owned()));

    for opportunity in [&invited, &started, &submitted] {
        let answer = archive(&lever, opportunity, true).await;
        assert_eq!(answer["deliveries"][0]["responseStatus"], 200, "{answer}");
    }
    assert_eq!(app.drain().await, 3);

    for (opportunity, path) in [(&invited, &invited_path), (&started, &started_path)] {
        let held = lever.opportunity(opportunity).await;
        assert_eq!(held["links"], json!([]), "the link is removed: {held}");
        let now = tags(&held);
        assert!(now.contains(&CANCELLED.to_owned()), "{now:?}");
        assert!(
            !now.contains(&INVITED.to_owned()) && !now.contains(&IN_PROGRESS.to_owned()),
            "the progress tag is replaced: {now:?}"
        );
        let (a, _) = assessment(&app, path).await;
        assert_eq!(state(&a), AssessmentState::Cancelled);
        // The candidate's link: a clear withdrawn page, and saves refused.
        let response = app.get(path).await;
        assert_eq!(response.status(), 410);
        let page = response.text().await.unwrap();
        assert!(
            page.contains("This assessment has been withdrawn"),
            "{page}"
        );
        let detail = app
            .get_html(&format!("/orgs/acme/assessments/{}", a.id))
            .await;
        for shown in [
            "Withdrawn: the candidate was archived in Lever",
            "Link removed from the candidate&#39;s Lever profile",
            "Tag “leverbridge: Cancelled” replaced the progress tag in Lever",
            "Withdrawal note written in Lever",
        ] {
            assert!(detail.contains(shown), "{shown}: {detail}");
        }
        // A note tells the recruiter why (candidate emails are off here: nobody was told).
        let notes = notes_with(
            &held,
            "was withdrawn because the candidate was archived in Lever",
        );
        assert_eq!(notes.len(), 1, "{held}");
        let note = notes[0]["value"].as_str().unwrap();
        assert!(note.contains("Its link no longer works."), "{note}");
        assert!(note.contains("The candidate was not emailed"), "{note}");
    }
    let refused = candidate
        .post_raw(&format!("{started_path}/save"), &[("code", "late")])
        .await;
    assert_eq!(refused.status(), 409);
    assert!(refused.text().await.unwrap().contains("withdrawn"));

    // The submitted one is kept: its link stays and it can still be scored.
    let held = lever.opportunity(&submitted).await;
    assert_eq!(held["links"].as_array().unwrap().len(), 1, "{held}");
    assert!(!tags(&held).contains(&CANCELLED.to_owned()));
    let (kept, _) = assessment(&app, &submitted_path).await;
    assert_eq!(state(&kept), AssessmentState::Submitted);
    let detail = format!("/orgs/acme/assessments/{}", kept.id);
    let (status, _, _) = score(&app, &detail, &[("score", "90"), ("result", "passed")]).await;
    assert_eq!(status, 303);
    app.drain().await;
    let held = lever.opportunity(&submitted).await;
    assert_eq!(
        notes_with(&held, "leverbridge result for Grace Hopper").len(),
        1
    );

    let shown = events(&app).await;
    for outcome in [
        "The candidate was archived in Lever: 1 assessment withdrawn (it was invited); its link removed and the tag “leverbridge: Cancelled” written in Lever as Integration Bot.",
        "The candidate was archived in Lever: 1 assessment withdrawn (it was in progress)",
        "The candidate was archived in Lever: nothing was left to withdraw. Kept: submitted (kept, so it can still be scored).",
    ] {
        assert!(shown.contains(outcome), "{outcome}: {shown}");
    }

    // A restore does nothing: no job, nothing written, the assessment stays withdrawn.
    let before = lever.writes_to(&invited).await;
    let answer = archive(&lever, &invited, false).await;
    assert_eq!(answer["deliveries"][0]["responseStatus"], 200);
    assert_eq!(app.drain().await, 0, "no job for a restore");
    assert_eq!(lever.writes_to(&invited).await, before);
    let (a, _) = assessment(&app, &invited_path).await;
    assert_eq!(state(&a), AssessmentState::Cancelled);
    assert!(events(&app)
        .await
        .contains("The candidate was restored from the archive in Lever: nothing to do"));

    // Lever delivering the archive again (a rerun) writes nothing twice.
    let first = delivered(&lever, "candidateArchiveChange").await;
    let archived_delivery = first
        .iter()
        .rev()
        .find(|d| d["body"]["data"]["opportunityId"] == invited.as_str())
        .unwrap();
    post(
        &lever.http,
        &lever.control(&format!(
            "/deliveries/{}/rerun",
            archived_delivery["id"].as_str().unwrap()
        )),
        json!({}),
    )
    .await;
    assert_eq!(app.drain().await, 0, "a duplicate runs nothing");
    assert_eq!(lever.writes_to(&invited).await, before);

    // The Assessments list and the Overview count the withdrawn ones.
    let list = app.get_html("/orgs/acme/assessments?state=cancelled").await;
    assert!(
        list.contains("Ada Lovelace") && list.contains("Alan Turing"),
        "{list}"
    );
    assert!(!list.contains("Grace Hopper"));
    let overview = app.get_html("/orgs/acme").await;
    assert!(
        overview.contains("2 withdrawn (archived, hired or deleted in Lever)"),
        "{overview}"
    );
}

async fn a_candidate_emailed_an_invitation_is_emailed_that_it_was_withdrawn(backend: Backend) {
    let (app, lever) = connected_for_lifecycle(backend).await;
    let mailbox = leverbridge::mailbox::Mailbox::start_on_loopback()
        .await
        .unwrap();
    let port = mailbox.port().to_string();
    let response = save_settings(&app, &crate::email::email_through(&lever, &port, &[])).await;
    assert_eq!(response.status(), 303);
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    app.drain().await;
    let grace = crate::email::candidate_without_email(&lever, "Grace Hopper").await;
    lever.move_to(&grace, TRIGGER).await;
    app.drain().await;
    assert_eq!(mailbox.messages_to("ada.lovelace@example.com").len(), 1);

    for opportunity in [&ada, &grace] {
        let answer = archive(&lever, opportunity, true).await;
        assert_eq!(answer["deliveries"][0]["responseStatus"], 200, "{answer}");
    }
    app.drain().await;
    app.drain().await;

    // Ada, whose invitation went to her address, is told; the note says so.
    let sent = mailbox.messages_to("ada.lovelace@example.com");
    assert_eq!(sent.len(), 2, "{sent:#?}");
    let told = &sent[1];
    assert_eq!(
        told.subject(),
        "Your coding assessment from ACME Inc has been withdrawn"
    );
    for said in [
        "Hello Ada Lovelace,",
        "its link no longer works",
        "The ACME Inc hiring team",
    ] {
        assert!(told.body().contains(said), "{said}: {}", told.body());
    }
    assert!(!told.body().contains('{'), "{}", told.body());
    let held = lever.opportunity(&ada).await;
    let notes = notes_with(
        &held,
        "was withdrawn because the candidate was archived in Lever",
    );
    assert_eq!(notes.len(), 1, "{held}");
    assert!(
        notes[0]["value"]
            .as_str()
            .unwrap()
            .contains("The candidate is emailed at ada.lovelace@example.com to say so."),
        "{held}"
    );
    // Grace had no address: no email, and her note says she was not told.
    let held = lever.opportunity(&grace).await;
    let notes = notes_with(&held, "was withdrawn because");
    assert_eq!(notes.len(), 1, "{held}");
    assert!(notes[0]["value"]
        .as_str()
        .unwrap()
        .contains("The candidate was not emailed"));
    assert_eq!(mailbox.messages().len(), 2, "nothing else was sent");
    // Nothing is left to run: the email went once.
    assert_eq!(app.drain().await, 0);
    assert_eq!(mailbox.messages().len(), 2);
}

async fn hiring_withdraws_once_though_lever_sends_two_events(backend: Backend) {
    let (app, lever) = connected_for_lifecycle(backend).await;
    let (hired, path) = invite(&app, &lever, "Barbara Liskov").await;
    let answer = post(
        &lever.http,
        &lever.control(&format!("/opportunities/{hired}/hire")),
        json!({}),
    )
    .await;
    let events_sent: Vec<&str> = answer["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            d["responseStatus"]
                .as_u64()
                .map(|_| "ok")
                .unwrap_or("failed")
        })
        .collect();
    assert_eq!(
        events_sent,
        ["ok", "ok"],
        "archive change and hired: {answer}"
    );
    assert_eq!(app.drain().await, 2);

    let held = lever.opportunity(&hired).await;
    assert_eq!(held["links"], json!([]));
    assert!(tags(&held).contains(&CANCELLED.to_owned()));
    let done = lever.writes_to(&hired).await;
    assert_eq!(count(&done, "POST removeLinks"), 1, "{done:?}");
    assert_eq!(
        count(&done, "POST addTags"),
        2,
        "Invited, then Cancelled: {done:?}"
    );
    assert_eq!(count(&done, "POST removeTags"), 1, "{done:?}");
    let (a, _) = assessment(&app, &path).await;
    assert_eq!(state(&a), AssessmentState::Cancelled);
    let shown = events(&app).await;
    // Whichever of the two ran first withdrew it; the other found nothing left.
    assert!(
        shown.contains("1 assessment withdrawn (it was invited)"),
        "{shown}"
    );
    assert!(
        shown.contains("nothing was left to withdraw. Kept: withdrawn already."),
        "{shown}"
    );

    // A hired delivery on its own (a move to a hired stage) withdraws too.
    let (second, second_path) = invite(&app, &lever, "Frances Allen").await;
    let response = deliver_signed(
        &app,
        &lever,
        "candidateHired",
        json!({"opportunityId": second}),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.drain().await, 1);
    let (a, _) = assessment(&app, &second_path).await;
    assert_eq!(state(&a), AssessmentState::Cancelled);
    assert!(events(&app)
        .await
        .contains("The candidate was hired in Lever: 1 assessment withdrawn"));
}

/// The signature token Lever holds for `event`'s webhook.
async fn webhook_token(lever: &LeverAccount, event: &str) -> String {
    let all: Vec<Value> = lever
        .http
        .get(lever.control("/webhooks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    all.iter()
        .find(|w| w["event"] == event)
        .and_then(|w| w["signatureToken"].as_str())
        .expect("the webhook is set")
        .to_owned()
}

/// Posts a delivery of `event` carrying `data` to the organization's webhook URL, signed with
/// the token Lever holds for the event, as Lever would.
async fn deliver_signed(
    app: &TestApp,
    lever: &LeverAccount,
    event: &str,
    data: Value,
) -> reqwest::Response {
    let token = webhook_token(lever, event).await;
    app.client
        .post(webhook_url_in(&app.get_html("/orgs/acme/webhooks").await))
        .header("content-type", "application/json")
        .body(signed(event, data, &token))
        .send()
        .await
        .unwrap()
}

/// A delivery signed as Lever signs it.
fn signed(event: &str, data: Value, signature_token: &str) -> String {
    let token = leverbridge::crypto::random_token(48);
    let triggered_at = chrono::Utc::now().timestamp_millis();
    let signature = leverbridge::lever::sign(signature_token.as_bytes(), &token, triggered_at);
    json!({"triggeredAt": triggered_at, "event": event, "data": data, "token": token,
        "signature": signature})
    .to_string()
}

#[derive(QueryableByName)]
struct Named {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Every `table.column` of the database whose text contains `needle` (any case).
fn columns_holding(conn: &mut DbConn, needle: &str) -> QueryResult<Vec<String>> {
    let columns: Vec<Named> = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(
            "SELECT m.name AS table_name, p.name AS column_name FROM sqlite_master m \
             JOIN pragma_table_info(m.name) p WHERE m.type = 'table' \
             AND m.name NOT LIKE 'sqlite_%'",
        )
        .load(c)?,
        DbConn::Pg(c) => diesel::sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name \
             FROM information_schema.columns WHERE table_schema = current_schema() \
             AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')",
        )
        .load(c)?,
    };
    assert!(
        columns.len() > 40,
        "every table is scanned: {}",
        columns.len()
    );
    let pattern = format!("%{}%", needle.to_lowercase());
    let mut found = Vec::new();
    for Named {
        table_name,
        column_name,
    } in columns
    {
        let query = format!(
            "SELECT COUNT(*) AS n FROM \"{table_name}\" \
             WHERE LOWER(CAST(\"{column_name}\" AS TEXT)) LIKE $1"
        );
        let hits: Found = match conn {
            DbConn::Sqlite(c) => diesel::sql_query(query)
                .bind::<Text, _>(&pattern)
                .get_result(c)?,
            DbConn::Pg(c) => diesel::sql_query(query)
                .bind::<Text, _>(&pattern)
                .get_result(c)?,
        };
        if hits.n > 0 {
            found.push(format!("{table_name}.{column_name}"));
        }
    }
    Ok(found)
}

async fn holding(app: &TestApp, needle: &str) -> Vec<String> {
    let needle = needle.to_owned();
    app.db
        .run(move |conn| columns_holding(conn, &needle).map_err(DbError::from))
        .await
        .unwrap()
}

async fn deleting_a_candidate_erases_the_address_their_invitation_went_to(backend: Backend) {
    let (app, lever) = connected_for_lifecycle(backend).await;
    // Candidate emails on; the mail server is never reached (nothing listens on port 9).
    let response = save_settings(
        &app,
        &[
            ("default_user_id", lever.default_user.as_str()),
            ("email_enabled", "on"),
            ("smtp_host", "127.0.0.1"),
            ("smtp_port", "9"),
            ("smtp_tls", "none"),
            ("smtp_from", "Acme Hiring <jobs@acme.test>"),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    let wilma = lever.candidate("Wilhelmina Vandersloot", &[TAG]).await;
    lever.move_to(&wilma, TRIGGER).await;
    app.drain().await;
    let address = "wilhelmina.vandersloot@example.com";
    assert!(
        events(&app)
            .await
            .contains(&format!("invitation email to {address} queued")),
        "the stage change's outcome names the address"
    );
    assert!(holding(&app, address)
        .await
        .contains(&"webhook_events.outcome".to_owned()));

    delete(&lever, &wilma).await;
    app.drain().await;
    assert_eq!(holding(&app, address).await, Vec::<String>::new());
    for needle in ["Wilhelmina", "Vandersloot"] {
        assert_eq!(
            holding(&app, needle).await,
            Vec::<String>::new(),
            "{needle}"
        );
    }
    let page = events(&app).await;
    assert!(
        page.contains("invitation email to their address (erased) queued"),
        "{page}"
    );
}

async fn deleting_a_candidate_erases_their_text_from_every_table(backend: Backend) {
    let (app, lever) = connected_for_lifecycle(backend).await;
    // One scored (a finished assessment whose failure reason names them), one mid-test.
    let (scored, scored_path) = invite(&app, &lever, "Zebulon Quixote").await;
    take_the_test(
        &app,
        &scored_path,
        &["zq_marker = 'first'", "zq_marker = 42"],
    )
    .await;
    app.drain().await;
    let (a, _) = assessment(&app, &scored_path).await;
    let detail = format!("/orgs/acme/assessments/{}", a.id);
    let (status, _, _) = score(
        &app,
        &detail,
        &[
            ("score", "30"),
            ("result", "failed"),
            ("failure_reason", "Zebulon Quixote wrote no tests"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    app.drain().await;
    let (started, started_path) = invite(&app, &lever, "Yolanda Xylophone").await;
    let candidate = app.as_new_session().await;
    candidate
        .post_raw(&format!("{started_path}/start"), &[])
        .await;
    candidate
        .post_raw(
            &format!("{started_path}/save"),
            &[("code", "yx_marker = 7")],
        )
        .await;
    app.drain().await;
    // A delivery whose body carries the name (Lever's own carry ids only, but a body is
    // stored as it came).
    let response = deliver_signed(
        &app,
        &lever,
        "candidateStageChange",
        json!({"opportunityId": started, "toStageId": "nowhere", "name": "Yolanda Xylophone"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    app.drain().await;
    // An untouched bystander keeps everything.
    let (_, bystander_path) = invite(&app, &lever, "Edsger Dijkstra").await;

    // A recruiter's choice for them (as a recruiter's-choice configuration keeps it).
    let (choice_config, choice_event, choice_opportunity) = (
        a.configuration_id.clone(),
        a.event_id.clone(),
        scored.clone(),
    );
    app.db
        .run(move |conn| -> Result<_, leverbridge::db::DbError> {
            use diesel::prelude::*;
            use leverbridge::db::schema::{organizations, question_choices as qc};
            let org: String = organizations::table
                .filter(organizations::slug.eq("acme"))
                .select(organizations::id)
                .first(conn)?;
            diesel::insert_into(qc::table)
                .values((
                    qc::id.eq("a-pending-choice"),
                    qc::org_id.eq(org),
                    qc::configuration_id.eq(choice_config),
                    qc::opportunity_id.eq(choice_opportunity),
                    qc::candidate_name.eq("Zebulon Quixote"),
                    qc::event_id.eq(choice_event),
                    qc::created_at.eq(chrono::Utc::now().naive_utc()),
                ))
                .execute(conn)
                .map_err(leverbridge::db::DbError::from)
        })
        .await
        .unwrap();

    // Before: the scan finds them in the places a candidate's text lives.
    let before = holding(&app, "Zebulon Quixote").await;
    for place in [
        "question_choices.candidate_name",
        "assessments.candidate_name",
        "assessments.failure_reason",
        "webhook_events.candidate_name",
        "webhook_events.outcome",
    ] {
        assert!(before.contains(&place.to_owned()), "{place}: {before:?}");
    }
    assert_eq!(holding(&app, "zq_marker").await, ["snapshots.code"]);
    assert!(holding(&app, "Yolanda Xylophone")
        .await
        .contains(&"webhook_events.body".to_owned()));

    for opportunity in [&scored, &started] {
        delete(&lever, opportunity).await;
    }
    assert_eq!(app.drain().await, 2);

    for needle in [
        "Zebulon",
        "Quixote",
        "zq_marker",
        "Yolanda",
        "Xylophone",
        "yx_marker",
        "zebulon.quixote@example.com",
    ] {
        assert_eq!(
            holding(&app, needle).await,
            Vec::<String>::new(),
            "{needle} is gone"
        );
    }
    assert!(!holding(&app, "Edsger Dijkstra").await.is_empty());
    let (bystander, _) = assessment(&app, &bystander_path).await;
    assert_eq!(state(&bystander), AssessmentState::Invited);

    // The rows stay, with their ids and states, for the funnel.
    let (finished, scoring) = assessment(&app, &scored_path).await;
    assert_eq!(state(&finished), AssessmentState::Failed);
    assert_eq!(
        (finished.candidate_name.as_str(), scoring.score),
        ("", None)
    );
    let (withdrawn, _) = assessment(&app, &started_path).await;
    assert_eq!(state(&withdrawn), AssessmentState::Cancelled);
    let page = app
        .get_html(&format!("/orgs/acme/assessments/{}", withdrawn.id))
        .await;
    assert!(page.contains("A candidate deleted in Lever"), "{page}");
    assert!(page.contains("Withdrawn: the candidate was deleted in Lever"));
    assert!(page.contains("The candidate was deleted in Lever: their saves were erased."));
    let response = app.get(&started_path).await;
    assert_eq!(response.status(), 410, "the link shows the withdrawn page");

    // Lever was asked once whether each is gone (404), and nothing was written after.
    for opportunity in [&scored, &started] {
        let after_delete: Vec<Value> = lever
            .requests()
            .await
            .into_iter()
            .filter(|r| r["path"] == format!("/v1/opportunities/{opportunity}"))
            .filter(|r| r["status"] == 404)
            .collect();
        assert_eq!(after_delete.len(), 1, "{after_delete:?}");
    }
    let shown = events(&app).await;
    assert!(shown.contains("The candidate was deleted in Lever: 1 assessment withdrawn (it was in progress); Lever no longer has the opportunity, so nothing was written there. Erased from leverbridge: the name, score and saves (1 save) of 1 assessment, and the details of"), "{shown}");
    // The pending choice inserted above was Zebulon's too.
    assert!(shown.contains("The candidate was deleted in Lever: 1 recruiter&#39;s choice withdrawn before a member chose the question; Lever no longer has the opportunity, so nothing was written there. Erased from leverbridge: the name, score and saves (2 saves) of 1 assessment, the name on 1 recruiter&#39;s choice, and the details of"), "{shown}");
}

async fn events_about_candidates_leverbridge_never_saw_are_acknowledged(backend: Backend) {
    let (app, lever) = connected_for_lifecycle(backend).await;
    let stranger = lever.candidate("Never Invited", &[]).await;
    archive(&lever, &stranger, true).await;
    let gone = lever.candidate("Never Seen", &[]).await;
    delete(&lever, &gone).await;
    for event in LIFECYCLE {
        let answer = lever.verify(event).await;
        assert_eq!(answer["attempts"][0]["status"], 200, "{answer}");
    }
    assert_eq!(app.drain().await, 2);
    let shown = events(&app).await;
    for opportunity in [&stranger, &gone] {
        assert!(
            shown.contains(&format!("leverbridge holds nothing about opportunity {opportunity}: no assessment was created for this candidate (none fired, or not yet); nothing was written.")),
            "{shown}"
        );
    }
    assert!(
        lever
            .requests()
            .await
            .iter()
            .all(|r| !r["path"].as_str().unwrap_or_default().contains(&stranger)),
        "Lever was not even asked"
    );
    let webhooks = app.get_html("/orgs/acme/webhooks").await;
    assert_eq!(
        webhooks
            .matches("<span class=\"badge badge-ok\">Arrived</span>")
            .count(),
        3,
        "each lifecycle webhook's Verify connection: {webhooks}"
    );

    // An archive that Lever no longer shows (restored before the job ran) withdraws nothing.
    let (restored, path) = invite(&app, &lever, "Quick Change").await;
    archive(&lever, &restored, true).await;
    archive(&lever, &restored, false).await;
    assert_eq!(app.drain().await, 1);
    let (a, _) = assessment(&app, &path).await;
    assert_eq!(state(&a), AssessmentState::Invited);
    assert!(events(&app)
        .await
        .contains("Lever shows the candidate not archived (restored since?)"));

    // A delivery without an opportunity is refused, as a stage change's is.
    let response =
        deliver_signed(&app, &lever, "candidateDeleted", json!({"deletedBy": "x"})).await;
    assert_eq!(response.status(), 400);
}

async fn a_rerun_after_a_crash_at_any_withdrawal_step_writes_nothing_twice(backend: Backend) {
    let (app, lever) = connected_for_lifecycle(backend).await;
    // The withdrawal's steps in order, each with the first write of the step after it.
    let steps = [
        ("unlink", Some(("POST", "/addTags"))),
        ("tag_cancelled", None),
    ];
    for (n, (crashed, next)) in steps.into_iter().enumerate() {
        let (opportunity, path) = invite(&app, &lever, &format!("Candidate {n}")).await;
        let (a, _) = assessment(&app, &path).await;
        // The run stops before the next step's write (Lever refuses it, the job is parked) …
        if let Some((method, path_end)) = next {
            lever
                .set_faults(json!({"scripted": [
                    {"method": method, "pathEndsWith": path_end, "status": 400}
                ]}))
                .await;
        }
        archive(&lever, &opportunity, true).await;
        app.drain().await;
        // … and the step before it reached Lever but its record was lost: a crash.
        let deleted = forget_step(&app, &a.id, crashed).await;
        assert_eq!(deleted, 1, "{crashed} was done before the crash");

        requeue(&app, &a.id).await;
        app.drain().await;
        let held = lever.opportunity(&opportunity).await;
        let done = lever.writes_to(&opportunity).await;
        let context = format!("crash after {crashed}: {done:?}");
        assert_eq!(count(&done, "POST removeLinks"), 1, "{context}");
        assert_eq!(
            count(&done, "POST addTags"),
            2,
            "Invited, then Cancelled: {context}"
        );
        assert_eq!(count(&done, "POST removeTags"), 1, "{context}");
        assert_eq!(held["links"], json!([]), "{context}");
        let progress: Vec<String> = tags(&held)
            .into_iter()
            .filter(|t| t.starts_with("leverbridge: "))
            .collect();
        assert_eq!(progress, [CANCELLED], "{context}");
        let steps = app
            .db
            .run({
                let id = a.id.clone();
                move |conn| db::assessments::steps(conn, &id).map_err(DbError::from)
            })
            .await
            .unwrap();
        let names: Vec<&str> = steps.iter().map(|(s, _)| s.as_str()).collect();
        assert!(
            names.contains(&"unlink") && names.contains(&"tag_cancelled"),
            "{context}: {names:?}"
        );
    }
}

/// What the choice page at `path` answers a member who picks `question` there now: its status
/// and page.
async fn try_to_choose(app: &TestApp, path: &str, question: &str) -> (reqwest::StatusCode, String) {
    let response = app
        .post_form(path, path, &[("question_id", question)])
        .await;
    (response.status(), response.text().await.unwrap())
}

/// No assessment exists in the organization.
async fn no_assessment(app: &TestApp) {
    let list = app.get_html("/orgs/acme/assessments").await;
    assert!(
        !list.contains("aria-label=\"Open the assessment of"),
        "no assessment was created: {list}"
    );
}

async fn a_choice_still_to_be_made_is_withdrawn_when_the_candidate_is_archived_or_hired(
    backend: Backend,
) {
    let (app, lever) = connected_for_lifecycle(backend).await;
    add_recruiters_choice(&app, &lever).await;
    let (ada, ada_path) = waiting_for_a_choice(&app, &lever, "Ada Lovelace").await;
    let (alan, alan_path) = waiting_for_a_choice(&app, &lever, "Alan Turing").await;
    let question = first_question_on(&app, &ada_path).await;

    archive(&lever, &ada, true).await;
    assert_eq!(app.drain().await, 1);
    let answer = post(
        &lever.http,
        &lever.control(&format!("/opportunities/{alan}/hire")),
        json!({}),
    )
    .await;
    assert_eq!(
        answer["deliveries"].as_array().unwrap().len(),
        2,
        "{answer}"
    );
    assert_eq!(app.drain().await, 2);

    for (opportunity, path, because) in [
        (&ada, &ada_path, "the candidate was archived in Lever"),
        (&alan, &alan_path, "the candidate was"),
    ] {
        // Lever: the choice link (with its note) is gone, asked once; nothing else was written.
        let held = lever.opportunity(opportunity).await;
        assert_eq!(held["links"], json!([]), "{held}");
        let done = lever.writes_to(opportunity).await;
        assert_eq!(
            done,
            ["POST addLinks", "POST notes", "POST removeLinks"],
            "{done:?}"
        );
        assert!(tags(&held).is_empty(), "no progress tag: {held}");

        // The page says why, and refuses a choice; nothing is created or written.
        let page = app.get_html(path).await;
        assert!(page.contains("Withdrawn on "), "{page}");
        assert!(
            page.contains(because) && page.contains("before anyone chose, so no question can be chosen and nothing is sent to them."),
            "{page}"
        );
        assert!(
            !page.contains("name=\"question_id\"") && !page.contains("is invited once you choose"),
            "no form: {page}"
        );
        let (status, refused) = try_to_choose(&app, path, &question).await;
        assert_eq!(status, 409);
        assert!(
            refused.contains("so no question can be chosen"),
            "{refused}"
        );
        assert_eq!(app.drain().await, 0, "nothing queued");
        assert_eq!(lever.writes_to(opportunity).await, done);
    }
    no_assessment(&app).await;

    let shown = events(&app).await;
    assert!(
        shown.contains("The candidate was archived in Lever: 1 recruiter&#39;s choice withdrawn before a member chose the question; its link removed in Lever as Integration Bot."),
        "{shown}"
    );
    // Hired: Lever sends the archive change and the hire; whichever ran first withdrew it.
    assert!(
        shown.contains("nothing was left to withdraw."),
        "the second of the hire's two events: {shown}"
    );

    // Restored and moved back into the stage: the choice stays withdrawn, as an assessment does.
    archive(&lever, &ada, false).await;
    lever.move_to(&ada, "Recruiter screen").await;
    lever.move_to(&ada, "On-site interview").await;
    app.drain().await;
    assert_eq!(lever.opportunity(&ada).await["links"], json!([]));
    assert!(
        events(&app)
            .await
            .contains("its choice of question was withdrawn on "),
        "{}",
        events(&app).await
    );
    assert!(events(&app)
        .await
        .contains("because the candidate was archived in Lever, so nothing was written again."));
    no_assessment(&app).await;
}

async fn deleting_a_candidate_waiting_for_a_choice_withdraws_it_and_erases_their_name(
    backend: Backend,
) {
    let (app, lever) = connected_for_lifecycle(backend).await;
    add_recruiters_choice(&app, &lever).await;
    let (zebulon, path) = waiting_for_a_choice(&app, &lever, "Zebulon Quixote").await;
    let page = app.get_html(&path).await;
    assert!(page.contains("Choose the question for Zebulon Quixote"));
    let question = first_question_on(&app, &path).await;
    assert!(holding(&app, "Zebulon Quixote")
        .await
        .contains(&"question_choices.candidate_name".to_owned()));

    delete(&lever, &zebulon).await;
    assert_eq!(app.drain().await, 1);

    for needle in ["Zebulon", "Quixote", "zebulon.quixote@example.com"] {
        assert_eq!(
            holding(&app, needle).await,
            Vec::<String>::new(),
            "{needle} is gone"
        );
    }
    let page = app.get_html(&path).await;
    assert!(
        page.contains("Withdrawn: the question for a candidate deleted in Lever"),
        "{page}"
    );
    assert!(
        page.contains("the candidate was deleted in Lever before anyone chose, so no question can be chosen and nothing is sent to them."),
        "{page}"
    );
    let (status, _) = try_to_choose(&app, &path, &question).await;
    assert_eq!(status, 409);
    assert_eq!(app.drain().await, 0);
    no_assessment(&app).await;
    // Lever no longer has the opportunity: it was asked once (404), and nothing was written.
    let done = lever.writes_to(&zebulon).await;
    assert_eq!(done, ["POST addLinks", "POST notes"], "{done:?}");

    let shown = events(&app).await;
    assert!(
        shown.contains("The candidate was deleted in Lever: 1 recruiter&#39;s choice withdrawn before a member chose the question; Lever no longer has the opportunity, so nothing was written there. Erased from leverbridge: the name on 1 recruiter&#39;s choice, and the details of"),
        "{shown}"
    );
}
