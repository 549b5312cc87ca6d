//! The integration loop: a tagged candidate moved in Lever gets an assessment, and everything
//! else gets nothing in Lever and the right reason on the Events page.

use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::Backend;
use crate::lever_view::{links, notes, tags};
use crate::lever_world::{connected, TAG, TRIGGER};

both_backends!(
    a_tagged_candidate_gets_an_assessment_and_nothing_else_does,
    a_crash_between_steps_repeats_nothing_in_lever,
    an_interrupted_write_back_is_finished_after_the_candidate_moves_on,
    a_claim_that_ran_out_settles_nothing_even_under_the_same_worker_name,
    a_job_whose_worker_dies_on_every_attempt_is_dead_and_says_so,
    a_revoked_key_parks_work_until_reconnected
);

async fn a_tagged_candidate_gets_an_assessment_and_nothing_else_does(backend: Backend) {
    let (app, lever) = connected(backend).await;

    // Lever's "Verify connection" arrives and shows on the Webhooks page.
    let verification = lever.verify("candidateStageChange").await;
    assert_eq!(verification["attempts"][0]["status"], 200, "{verification}");
    let page = app.get_html("/orgs/acme/webhooks").await;
    assert!(page.contains("Arrived"), "verification shown");

    // A tagged candidate moved to the trigger stage: link, progress tag and note in Lever.
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    let moved = lever.move_to(&ada, TRIGGER).await;
    assert_eq!(moved["deliveries"][0]["responseStatus"], 200, "{moved}");
    assert_eq!(app.drain().await, 1);
    let held = lever.opportunity(&ada).await;
    let ada_links = links(&held);
    assert_eq!(ada_links.len(), 1, "{held}");
    assert!(
        ada_links[0].starts_with(&format!("{}/a/", app.address)),
        "{ada_links:?}"
    );
    assert!(tags(&held).contains(&"leverbridge: Candidate Invited".to_owned()));
    assert_eq!(notes(&held).len(), 1);
    assert_eq!(
        notes(&held)[0]["authorId"],
        lever.default_user.as_str(),
        "written as the default Lever user"
    );
    assert!(notes(&held)[0]["value"]
        .as_str()
        .unwrap()
        .contains("Rate limiter"));

    // The link opens the candidate's page with the question.
    let candidate_page = app.client.get(&ada_links[0]).send().await.unwrap();
    assert_eq!(candidate_page.status(), 200);
    let body = candidate_page.text().await.unwrap();
    assert!(body.contains("Take-home test") && body.contains("Rate limiter"));
    assert!(
        !body.contains("Write a token bucket."),
        "the question shows once the clock starts"
    );

    // An untagged candidate: nothing.
    let bob = lever.candidate("Bob Untagged", &["other"]).await;
    lever.move_to(&bob, TRIGGER).await;
    // A tagged candidate moved to a stage that triggers nothing: nothing.
    let cy = lever.candidate("Cy Tagged", &[TAG]).await;
    lever.move_to(&cy, "On-site interview").await;
    app.drain().await;
    for id in [&bob, &cy] {
        let held = lever.opportunity(id).await;
        assert!(links(&held).is_empty() && notes(&held).is_empty(), "{held}");
    }

    // A forged signature: 401, recorded, nothing acted on.
    let deliveries = lever.deliveries().await;
    let first = deliveries
        .iter()
        .find(|d| d["body"]["data"]["opportunityId"] == ada.as_str())
        .expect("Ada's delivery");
    let url = first["url"].as_str().unwrap().to_owned();
    let mut forged = first["body"].clone();
    forged["token"] = json!("x".repeat(48));
    forged["data"]["opportunityId"] = json!(bob);
    let response = app.client.post(&url).json(&forged).send().await.unwrap();
    assert_eq!(response.status(), 401);

    // A replay of Ada's delivery, byte for byte: acknowledged as a duplicate, nothing new.
    let response = app
        .client
        .post(&url)
        .json(&first["body"])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap()["status"],
        "duplicate"
    );

    // The same delivery with triggeredAt's leading digit moved onto the end of its token: the
    // signed text (token then triggeredAt) and so the signature are unchanged, and the token is
    // new, but triggeredAt now lies decades back. Refused; nothing queued.
    let mut shifted = first["body"].clone();
    let triggered = shifted["triggeredAt"].as_i64().unwrap().to_string();
    shifted["token"] = json!(format!(
        "{}{}",
        shifted["token"].as_str().unwrap(),
        &triggered[..1]
    ));
    shifted["triggeredAt"] = json!(triggered[1..].parse::<i64>().unwrap());
    let response = app.client.post(&url).json(&shifted).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("refused as a possible replay"));
    assert_eq!(app.drain().await, 0, "the shifted copy queued nothing");

    // Ada moved away and back into the trigger stage: a new delivery, the same configuration.
    lever.move_to(&ada, "On-site interview").await;
    lever.move_to(&ada, TRIGGER).await;
    app.drain().await;
    let held = lever.opportunity(&ada).await;
    assert_eq!(links(&held).len(), 1, "still one link: {held}");
    assert_eq!(notes(&held).len(), 1, "still one note");
    assert_eq!(
        tags(&held)
            .iter()
            .filter(|t| t.starts_with("leverbridge"))
            .count(),
        1
    );
    let bob_held = lever.opportunity(&bob).await;
    assert!(
        links(&bob_held).is_empty(),
        "the forged delivery did nothing"
    );

    // The Events page says why, for each.
    let events = app.get_html("/orgs/acme/events").await;
    for expected in [
        "Configuration “coding-test” fired (Take-home test at “Phone interview”) for Ada Lovelace: link, progress tag and note written to Lever as Integration Bot.",
        "The candidate lacks the tag “coding-test”",
        "Stage “On-site interview” is not the trigger stage of any configuration.",
        "Rejected: signature invalid",
        "Duplicate of the delivery received",
        "more than a year before the delivery arrived; refused as a possible replay",
        "already fired for this opportunity",
        "Verify connection request for the Candidate Stage Change webhook arrived",
        "GET /opportunities/",
        "POST /opportunities/",
    ] {
        assert!(events.contains(expected), "Events page lacks “{expected}”");
    }
    let webhooks = app.get_html("/orgs/acme/webhooks").await;
    assert!(
        webhooks.contains("Signature valid"),
        "the last delivery's signature is shown"
    );
    let overview = app.get_html("/orgs/acme").await;
    assert_eq!(
        overview.matches("badge-ok\">Done").count(),
        4,
        "every set-up step done: {overview}"
    );
    assert!(overview.contains("Notes and tags are written as Integration Bot."));
}

/// A worker claims the due job and runs it through; the caller then makes it as if the worker
/// died somewhere in between.
async fn run_as_a_worker_about_to_die(app: &crate::helpers::TestApp) -> leverbridge::queue::Job {
    let job = app
        .db
        .run(|conn| {
            leverbridge::queue::table::claim(
                conn,
                "doomed-worker",
                std::time::Duration::from_secs(60),
            )
            .map_err(leverbridge::db::DbError::from)
        })
        .await
        .unwrap()
        .expect("a job is due");
    let (result, _calls) = app.jobs.execute(&job).await;
    assert!(result.is_ok());
    job
}

/// The job's lease runs out: it belongs to nobody.
fn expire_lease(conn: &mut leverbridge::db::DbConn, job_id: &str) -> diesel::QueryResult<usize> {
    use diesel::prelude::*;
    use leverbridge::db::schema::jobs;
    let past = leverbridge::db::now() - chrono::Duration::seconds(1);
    diesel::update(jobs::table.find(job_id))
        .set(jobs::locked_until.eq(Some(past)))
        .execute(conn)
}

async fn a_crash_between_steps_repeats_nothing_in_lever(backend: Backend) {
    use diesel::prelude::*;
    use leverbridge::db::schema::{assessment_steps, jobs};

    let (app, lever) = connected(backend).await;
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;

    // A worker claims the job and does all of Lever's writes, then dies before settling the job
    // (and before recording its steps, the worst moment).
    let job = run_as_a_worker_about_to_die(&app).await;
    let job_id = job.id.clone();
    app.db
        .run(move |conn| -> Result<(), leverbridge::db::DbError> {
            diesel::delete(assessment_steps::table).execute(conn)?;
            // The lease runs out: the job belongs to nobody.
            expire_lease(conn, &job_id)?;
            Ok(())
        })
        .await
        .unwrap();
    let held = lever.opportunity(&ada).await;
    assert_eq!(links(&held).len(), 1);

    // Another worker picks it up again.
    assert_eq!(app.drain().await, 1);
    let held = lever.opportunity(&ada).await;
    assert_eq!(links(&held).len(), 1, "one link: {held}");
    assert_eq!(
        tags(&held)
            .iter()
            .filter(|t| *t == "leverbridge: Candidate Invited")
            .count(),
        1
    );
    assert_eq!(notes(&held).len(), 1, "one note: {held}");
    let job_id = job.id.clone();
    let (state, attempts) = app
        .db
        .run(move |conn| {
            jobs::table
                .find(&job_id)
                .select((jobs::state, jobs::attempts))
                .first::<(String, i32)>(conn)
                .map_err(leverbridge::db::DbError::from)
        })
        .await
        .unwrap();
    assert_eq!((state.as_str(), attempts), ("done", 2));
}

/// A run that created the assessment and put its link in Lever, then stopped before the rest of
/// the write-back, finishes it on its next run even though the candidate has moved on in Lever
/// meanwhile (the link is there; the tag and note must follow).
async fn an_interrupted_write_back_is_finished_after_the_candidate_moves_on(backend: Backend) {
    use diesel::prelude::*;
    use leverbridge::db::schema::assessment_steps;
    use leverbridge::domain::WriteBackStep;

    let (app, lever) = connected(backend).await;
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    let job = run_as_a_worker_about_to_die(&app).await;
    // Make it as if the worker died right after the link: the progress tag is not in Lever and
    // only the link's step is recorded; the lease runs out. (A key of its own: leverbridge's
    // key has just used its share of Lever's rate limit.)
    let recruiter_key = lever.new_key().await;
    let removed = reqwest::Client::new()
        .post(format!(
            "{}/v1/opportunities/{ada}/removeTags?perform_as={}",
            lever.sim.base_url(),
            lever.default_user
        ))
        .basic_auth(&recruiter_key, Some(""))
        .json(&json!({"tags": ["leverbridge: Candidate Invited"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 200);
    let job_id = job.id.clone();
    app.db
        .run(move |conn| -> Result<(), leverbridge::db::DbError> {
            diesel::delete(
                assessment_steps::table.filter(assessment_steps::step.ne(WriteBackStep::Link)),
            )
            .execute(conn)?;
            expire_lease(conn, &job_id)?;
            Ok(())
        })
        .await
        .unwrap();

    // Meanwhile the recruiter moves Ada on; then the job runs again (with that move's own job).
    lever.move_to(&ada, "On-site interview").await;
    assert_eq!(app.drain().await, 2);
    let held = lever.opportunity(&ada).await;
    assert_eq!(links(&held).len(), 1, "{held}");
    assert!(
        tags(&held).contains(&"leverbridge: Candidate Invited".to_owned()),
        "the write-back was finished: {held}"
    );
    assert_eq!(
        notes(&held).len(),
        1,
        "the note is not written twice: {held}"
    );
    let events = app.get_html("/orgs/acme/events").await;
    assert!(
        !events.contains("not “Phone interview”"),
        "the first delivery is not turned into an ignored one"
    );
}

/// Two replicas may name their workers alike (each runs as process 1 in its container): the
/// worker whose lease ran out must not settle the job that the other one claimed since.
async fn a_claim_that_ran_out_settles_nothing_even_under_the_same_worker_name(backend: Backend) {
    use leverbridge::db::DbError;
    use leverbridge::queue::table as queue;

    let (app, lever) = connected(backend).await;
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    let (late, current, late_finished, current_finished) = app
        .db
        .run(|conn| -> Result<_, DbError> {
            let lease = std::time::Duration::from_secs(60);
            let late = queue::claim(conn, "1-worker-0", lease)?.expect("a job is due");
            expire_lease(conn, &late.id)?;
            let current = queue::claim(conn, "1-worker-0", lease)?.expect("claimed again");
            let late_finished = queue::finish(conn, &late, leverbridge::db::now())?;
            let current_finished = queue::finish(conn, &current, leverbridge::db::now())?;
            Ok((late, current, late_finished, current_finished))
        })
        .await
        .unwrap();
    assert_eq!(late.id, current.id);
    assert_ne!(late.locked_by, current.locked_by, "each claim is its own");
    assert!(!late_finished, "the claim that ran out settles nothing");
    assert!(current_finished);
}

/// A job that kills its worker every time (or whose workers keep dying) is dead once its
/// attempts are used up: its delivery says why, and Retry runs it again.
async fn a_job_whose_worker_dies_on_every_attempt_is_dead_and_says_so(backend: Backend) {
    use leverbridge::db::DbError;
    use leverbridge::queue::table as queue;

    let (app, lever) = connected(backend).await;
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    let dead = [("kind", "stage_change"), ("outcome", "dead")];
    let outcomes = "leverbridge_job_outcomes_total";
    let dead_before =
        crate::operations::sample(&crate::operations::scrape(&app).await, outcomes, &dead);
    let (job_id, claims) = app
        .db
        .run(|conn| -> Result<_, DbError> {
            let lease = std::time::Duration::from_secs(60);
            let (mut job_id, mut claims) = (None, 0);
            while let Some(job) = queue::claim(conn, "doomed-worker", lease)? {
                expire_lease(conn, &job.id)?;
                job_id = Some(job.id);
                claims += 1;
            }
            Ok((job_id.expect("the job was claimed"), claims))
        })
        .await
        .unwrap();
    let events = app.get_html("/orgs/acme/events").await;
    assert!(
        events.contains(&format!(
            "Failed after {claims} attempts: its worker stopped before finishing, on every attempt."
        )),
        "{events}"
    );
    let retry = format!("/orgs/acme/events/{job_id}/retry");
    assert!(events.contains(&retry), "a Retry button: {events}");
    let dead_after =
        crate::operations::sample(&crate::operations::scrape(&app).await, outcomes, &dead);
    assert!(
        dead_after >= dead_before + 1.0,
        "counted dead: {dead_before} → {dead_after}"
    );

    let response = app.post_form("/orgs/acme/events", &retry, &[]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(app.drain().await, 1);
    let held = lever.opportunity(&ada).await;
    assert_eq!(links(&held).len(), 1, "{held}");
    assert!(app.get_html("/orgs/acme/events").await.contains("fired"));
}

async fn a_revoked_key_parks_work_until_reconnected(backend: Backend) {
    let (app, lever) = connected(backend).await;
    lever.set_faults(json!({"revoked": true})).await;
    // Any 401 marks the connection broken: here the admin refreshes the stages.
    let response = app
        .post_form(
            "/orgs/acme/configurations",
            "/orgs/acme/configurations/refresh-stages",
            &[],
        )
        .await;
    assert_eq!(response.status(), 303);
    let page = app.get_html("/orgs/acme/configurations").await;
    assert!(
        page.contains("Could not read the stages from Lever")
            && page.contains("The Lever connection is broken")
    );
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    app.drain().await;

    // The 401 marks the connection broken; every page says so; the work waits.
    let overview = app.get_html("/orgs/acme").await;
    assert!(
        overview.contains("The Lever connection is broken"),
        "banner on every page"
    );
    let events = app.get_html("/orgs/acme/events").await;
    assert!(
        events.contains("Waiting: the Lever connection is broken"),
        "{events}"
    );
    assert_eq!(app.drain().await, 0, "parked work is not retried blindly");

    // The admin connects a working key: the parked work runs and Lever gets the link.
    lever.set_faults(json!({"revoked": false})).await;
    let key = lever.new_key().await;
    let response = app
        .post_form(
            "/orgs/acme/connection",
            "/orgs/acme/connection",
            &[("api_key", &key), ("environment", "production")],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(app.drain().await, 1);
    let held = lever.opportunity(&ada).await;
    assert_eq!(links(&held).len(), 1, "{held}");
    assert!(!app
        .get_html("/orgs/acme")
        .await
        .contains("The Lever connection is broken"));
}

both_backends!(concurrent_workers_share_the_queue_without_doing_anything_twice);

/// At Lever's real rate limit on both sides: twelve invitations of five calls each exceed the
/// burst of 20, so the client's bucket must pace them for Lever to answer no 429.
async fn concurrent_workers_share_the_queue_without_doing_anything_twice(backend: Backend) {
    use diesel::prelude::*;
    use leverbridge::db::schema::jobs;

    let (app, lever) = crate::lever_world::connected_at_levers_pace(backend).await;
    let mut candidates = Vec::new();
    for n in 0..12 {
        let id = lever.candidate(&format!("Candidate {n}"), &[TAG]).await;
        lever.move_to(&id, TRIGGER).await;
        candidates.push(id);
    }
    // Four workers claim from the same table at once, as replicas behind a load balancer would.
    let workers: Vec<_> = (0..4)
        .map(|n| {
            let jobs = app.jobs.clone();
            tokio::spawn(async move {
                let mut ran = 0;
                while jobs.run_next(&format!("replica-{n}")).await.unwrap() {
                    ran += 1;
                }
                ran
            })
        })
        .collect();
    let mut total = 0;
    for worker in workers {
        total += worker.await.unwrap();
    }
    assert_eq!(total, 12, "each job ran exactly once");
    let attempts: Vec<i32> = app
        .db
        .run(|conn| {
            jobs::table
                .select(jobs::attempts)
                .load(conn)
                .map_err(leverbridge::db::DbError::from)
        })
        .await
        .unwrap();
    assert!(
        attempts.iter().all(|a| *a == 1),
        "no job was claimed twice: {attempts:?}"
    );
    for id in &candidates {
        let held = lever.opportunity(id).await;
        assert_eq!(links(&held).len(), 1, "{held}");
        assert_eq!(notes(&held).len(), 1, "{held}");
    }
    let requests = lever.requests().await;
    assert!(requests.len() > 20, "more calls than Lever's burst");
    assert!(
        requests.iter().all(|r| r["status"] != 429),
        "the client kept to Lever's pace"
    );
}

both_backends!(a_verification_replayed_as_a_stage_change_and_an_archived_candidate_do_nothing);

async fn a_verification_replayed_as_a_stage_change_and_an_archived_candidate_do_nothing(
    backend: Backend,
) {
    let (app, lever) = connected(backend).await;
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;

    // A captured "Verify connection" delivery is validly signed, but the signature does not
    // cover `data`: replayed with a stage change in it, it is a duplicate, not work.
    let verification = lever.verify("candidateStageChange").await;
    assert_eq!(verification["attempts"][0]["status"], 200);
    let delivery = lever
        .deliveries()
        .await
        .into_iter()
        .find(|d| d["body"]["data"] == json!({}))
        .expect("the verification delivery");
    let mut forged = delivery["body"].clone();
    forged["data"] =
        json!({"opportunityId": ada, "toStageId": lever.stage(TRIGGER), "fromStageId": "lead-new"});
    let response = app
        .client
        .post(delivery["url"].as_str().unwrap())
        .json(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.json::<Value>().await.unwrap()["status"],
        "duplicate"
    );
    assert_eq!(app.drain().await, 0);

    // An archived candidate moved to the trigger stage gets nothing.
    let archived = lever
        .http
        .post(lever.control(&format!("/opportunities/{ada}/archive")))
        .json(&json!({"archived": true}))
        .send()
        .await
        .unwrap();
    assert!(archived.status().is_success());
    lever.move_to(&ada, TRIGGER).await;
    assert_eq!(app.drain().await, 1);
    let held = lever.opportunity(&ada).await;
    assert!(links(&held).is_empty() && notes(&held).is_empty(), "{held}");
    assert!(app
        .get_html("/orgs/acme/events")
        .await
        .contains("The candidate is archived in Lever; nothing was created."));
}
