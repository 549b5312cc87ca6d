//! Operating leverbridge: `GET /metrics` (what it counts, and who may read it), the retention
//! sweep (what it deletes, in batches, and what it keeps), and the favicon.
//!
//! The metrics recorder is global to the test process, so figures are compared before and
//! after, never to absolute values: other tests count into the same counters meanwhile.

use chrono::Duration;
use diesel::prelude::*;
use leverbridge::clock::Clock;
use leverbridge::config::MetricsToken;
use leverbridge::db::lever_calls::LeverCallRecord;
use leverbridge::db::question_choices::QuestionChoice;
use leverbridge::db::schema::{jobs, lever_calls, question_choices, seen_tokens, webhook_events};
use leverbridge::db::webhooks::{SeenToken, WebhookEvent};
use leverbridge::db::{self, DbError};
use leverbridge::domain::{DeliveryStatus, JobState, Lane};
use leverbridge::queue::retention::Pruned;
use leverbridge::queue::Job;
use serde_json::{json, Value};

use crate::both_backends;
use crate::database::Backend;
use crate::helpers::{spawn_app, spawn_app_configured, Browser, TestApp};
use crate::lever_world::{connected, connected_with, LeverAccount, TAG, TRIGGER};

both_backends!(
    metrics_count_deliveries_jobs_and_lever_calls_by_name_never_by_id,
    metrics_answer_loopback_and_a_presented_token_is_checked,
    metrics_refuse_a_proxied_request_without_the_token,
    retention_deletes_old_history_in_batches_and_keeps_what_is_unfinished,
    a_delivery_outlives_retention_while_its_assessment_runs_and_its_token_the_replay_window,
);

const METRICS_TOKEN: &str = "scrape-me-0123456789abcdef";

/// `GET /metrics` as a scraper sends it: `headers` added.
async fn scrape_with(app: &Browser, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(app.url("/metrics"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("GET /metrics")
}

/// The metrics text, read from loopback without a token.
pub(crate) async fn scrape(app: &Browser) -> String {
    let response = scrape_with(app, &[]).await;
    assert_eq!(response.status(), 200);
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(kind.starts_with("text/plain"), "{kind}");
    response.text().await.unwrap()
}

/// The value of the sample `name` whose labels include `labels` (0 when there is none).
pub(crate) fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, "}"));
            (metric == name).then_some((rest.trim_end_matches('}'), value))
        })
        .find(|(block, _)| {
            let pairs: Vec<(&str, &str)> = block
                .split("\",")
                .filter(|pair| !pair.is_empty())
                .filter_map(|pair| pair.split_once('='))
                .map(|(k, v)| (k.trim_start_matches(','), v.trim_matches('"')))
                .collect();
            labels.iter().all(|wanted| pairs.contains(wanted))
        })
        .map_or(0.0, |(_, value)| value.parse().expect("a number"))
}

/// Lever's deliveries of a stage change for `opportunity`: (URL, body).
async fn delivery_of(lever: &LeverAccount, opportunity: &str) -> (String, Value) {
    let delivery = lever
        .deliveries()
        .await
        .into_iter()
        .find(|d| d["body"]["data"]["opportunityId"] == opportunity)
        .expect("Lever delivered the stage change");
    (
        delivery["url"].as_str().unwrap().to_owned(),
        delivery["body"].clone(),
    )
}

async fn metrics_count_deliveries_jobs_and_lever_calls_by_name_never_by_id(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let before = scrape(&app).await;
    // Lever answers the first addTags 429; the client waits and repeats it.
    lever
        .set_faults(json!({"scripted": [
            {"method": "POST", "pathEndsWith": "/addTags", "status": 429}
        ]}))
        .await;

    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    assert_eq!(app.drain().await, 1);
    let (url, body) = delivery_of(&lever, &ada).await;
    let mut forged = body.clone();
    forged["signature"] = json!("0".repeat(64));
    let response = app.client.post(&url).json(&forged).send().await.unwrap();
    assert_eq!(response.status(), 401);

    let after = scrape(&app).await;
    let grew = |name: &str, labels: &[(&str, &str)]| {
        let (was, is) = (sample(&before, name, labels), sample(&after, name, labels));
        assert!(is >= was + 1.0, "{name}{labels:?}: {was} → {is}\n{after}");
    };
    grew(
        "leverbridge_webhook_deliveries_total",
        &[("outcome", "accepted"), ("reason", "queued")],
    );
    grew(
        "leverbridge_webhook_deliveries_total",
        &[("outcome", "rejected"), ("reason", "signature_invalid")],
    );
    grew(
        "leverbridge_job_outcomes_total",
        &[("kind", "stage_change"), ("outcome", "done")],
    );
    grew(
        "leverbridge_lever_calls_total",
        &[("endpoint", "GET /opportunities/:id"), ("status", "200")],
    );
    grew(
        "leverbridge_lever_calls_total",
        &[
            ("endpoint", "POST /opportunities/:id/addTags"),
            ("status", "429"),
        ],
    );
    grew(
        "leverbridge_lever_rate_limited_total",
        &[("endpoint", "POST /opportunities/:id/addTags")],
    );
    grew(
        "leverbridge_lever_call_duration_seconds_count",
        &[("endpoint", "POST /opportunities/:id/addLinks")],
    );
    // A real histogram, with buckets, not a summary.
    assert!(
        sample(
            &after,
            "leverbridge_lever_call_duration_seconds_bucket",
            &[
                ("endpoint", "POST /opportunities/:id/addLinks"),
                ("le", "+Inf")
            ],
        ) >= 1.0,
        "{after}"
    );
    for state in ["queued", "running", "parked", "dead"] {
        let line = format!("leverbridge_queue_jobs{{state=\"{state}\"}} ");
        assert!(after.contains(&line), "no {line}in\n{after}");
    }
    assert!(after.contains("leverbridge_queue_oldest_due_seconds "));
    assert!(after.contains("# HELP leverbridge_webhook_deliveries_total "));
    assert!(
        !after.contains(&ada),
        "an opportunity id became a label:\n{after}"
    );
}

async fn metrics_answer_loopback_and_a_presented_token_is_checked(backend: Backend) {
    let app = spawn_app_configured(backend, |s| {
        s.metrics_token = Some(MetricsToken::parse(METRICS_TOKEN).unwrap())
    })
    .await;
    let bearer = format!("Bearer {METRICS_TOKEN}");

    assert_eq!(scrape_with(&app, &[]).await.status(), 200, "loopback");
    let with_token = scrape_with(&app, &[("authorization", &bearer)]).await;
    assert_eq!(with_token.status(), 200);
    assert!(with_token
        .text()
        .await
        .unwrap()
        .contains("leverbridge_queue_jobs"));

    let wrong = scrape_with(
        &app,
        &[("authorization", "Bearer scrape-me-not-0123456789")],
    )
    .await;
    assert_eq!(
        wrong.status(),
        401,
        "a wrong token is refused even from loopback"
    );
    let challenge = wrong.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("not the one LEVERBRIDGE_METRICS_TOKEN sets"));

    let basic = scrape_with(&app, &[("authorization", "Basic c2NyYXBlOm1l")]).await;
    assert_eq!(basic.status(), 401);
    assert!(basic
        .text()
        .await
        .unwrap()
        .contains("must be `Bearer <token>`"));

    // Without a configured token, no token opens the metrics.
    let untokened = spawn_app(Backend::Sqlite).await;
    let refused = scrape_with(&untokened, &[("authorization", &bearer)]).await;
    assert_eq!(refused.status(), 401);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("LEVERBRIDGE_METRICS_TOKEN is not set"));
}

/// Behind a reverse proxy on the same host every client arrives from loopback: a request the
/// proxy marks as forwarded is judged as coming from elsewhere.
async fn metrics_refuse_a_proxied_request_without_the_token(backend: Backend) {
    let forwarded = ("x-forwarded-for", "203.0.113.9");
    let open = spawn_app(backend.clone()).await;
    let refused = scrape_with(&open, &[forwarded]).await;
    assert_eq!(refused.status(), 403);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("answers only requests from this host"));
    let proxied = scrape_with(&open, &[("forwarded", "for=203.0.113.9")]).await;
    assert_eq!(proxied.status(), 403);

    let guarded = spawn_app_configured(backend, |s| {
        s.metrics_token = Some(MetricsToken::parse(METRICS_TOKEN).unwrap())
    })
    .await;
    let asked = scrape_with(&guarded, &[forwarded]).await;
    assert_eq!(asked.status(), 401);
    assert!(asked
        .text()
        .await
        .unwrap()
        .contains("needs `Authorization: Bearer <token>`"));
    let bearer = format!("Bearer {METRICS_TOKEN}");
    let scraped = scrape_with(&guarded, &[forwarded, ("authorization", &bearer)]).await;
    assert_eq!(scraped.status(), 200);
}

/// A webhook delivery row received at `at`.
fn event(id: &str, org_id: &str, at: chrono::NaiveDateTime) -> WebhookEvent {
    WebhookEvent {
        id: id.into(),
        org_id: org_id.into(),
        received_at: at,
        event: "candidateStageChange".into(),
        token: Some(format!("token-{id}")),
        triggered_at: Some(at.and_utc().timestamp_millis()),
        opportunity_id: Some("opp".into()),
        to_stage_id: Some("stage".into()),
        signature_valid: true,
        status: DeliveryStatus::Fired,
        outcome: "Fired.".into(),
        configuration_id: None,
        body: "{}".into(),
        candidate_name: None,
    }
}

/// A job row in `state` that last changed at `at`, for the delivery `event`.
fn job(id: &str, org_id: &str, state: &str, at: chrono::NaiveDateTime, event: &str) -> Job {
    Job {
        id: id.into(),
        org_id: org_id.into(),
        kind: "stage_change".into(),
        payload: "{}".into(),
        state: JobState::from_stored(state).expect("a job state"),
        attempts: 1,
        max_attempts: 3,
        run_at: at,
        locked_until: (state == "running").then_some(at),
        locked_by: (state == "running").then(|| "gone-worker".into()),
        last_error: None,
        event_id: Some(event.into()),
        created_at: at,
        updated_at: at,
        lane: Lane::Lever,
    }
}

fn choice(id: &str, org_id: &str, event: &str, made: bool) -> QuestionChoice {
    QuestionChoice {
        id: id.into(),
        org_id: org_id.into(),
        configuration_id: format!("configuration-{id}"),
        opportunity_id: format!("opportunity-{id}"),
        candidate_name: "Ada".into(),
        event_id: event.into(),
        created_at: db::now(),
        assessment_id: made.then(|| format!("assessment-{id}")),
        chosen_by: made.then(|| "admin@acme.test".into()),
        chosen_at: made.then(db::now),
        withdrawn_at: None,
        withdraw_reason: None,
    }
}

fn call(id: &str, org_id: &str, at: chrono::NaiveDateTime) -> LeverCallRecord {
    LeverCallRecord {
        id: id.into(),
        org_id: org_id.into(),
        event_id: None,
        method: "GET".into(),
        path: "/opportunities/opp".into(),
        status: Some(200),
        error: None,
        attempt: 1,
        duration_ms: 12,
        at,
    }
}

fn token(org_id: &str, name: &str, days_ago: i64) -> SeenToken {
    SeenToken {
        org_id: org_id.into(),
        triggered_at: (db::now() - Duration::days(days_ago))
            .and_utc()
            .timestamp_millis(),
        token: name.into(),
        event_id: format!("event-{name}"),
    }
}

/// The ids left in a table.
async fn ids_left(app: &TestApp, table: &'static str) -> Vec<String> {
    app.db
        .run(move |conn| {
            let mut ids: Vec<String> = match table {
                "jobs" => jobs::table.select(jobs::id).load(conn)?,
                "webhook_events" => webhook_events::table
                    .select(webhook_events::id)
                    .load(conn)?,
                "seen_tokens" => seen_tokens::table.select(seen_tokens::token).load(conn)?,
                "lever_calls" => lever_calls::table.select(lever_calls::id).load(conn)?,
                other => panic!("no table {other}"),
            };
            ids.sort();
            Ok::<_, DbError>(ids)
        })
        .await
        .unwrap()
}

async fn retention_deletes_old_history_in_batches_and_keeps_what_is_unfinished(backend: Backend) {
    // Two rows a statement, so every kind of row takes several batches.
    let app = spawn_app_configured(backend, |s| {
        s.tuning.retention.batch = 2;
        s.tuning.retention.pause = std::time::Duration::from_millis(1);
    })
    .await;
    let before = scrape(&app).await;
    let (old, recent) = (
        db::now() - Duration::days(91),
        db::now() - Duration::days(89),
    );
    app.db
        .run(move |conn| {
            let acme = db::orgs::find_or_create(conn, "acme", "Acme")?.id;
            let globex = db::orgs::find_or_create(conn, "globex", "Globex")?.id;
            let mut events = [
                event("e-old-1", &acme, old),
                event("e-old-2", &acme, old),
                event("e-old-3", &acme, old),
                event("e-old-4", &globex, old),
                event("e-old-5", &globex, old),
                event("e-of-done-job", &acme, old),
                event("e-of-dead-job", &acme, old),
                event("e-of-chosen-question", &acme, old),
                event("e-of-queued-job", &acme, old),
                event("e-of-running-job", &acme, old),
                event("e-of-parked-job", &acme, old),
                event("e-of-pending-choice", &acme, old),
                event("e-recent", &acme, recent),
            ];
            events.sort_by(|a, b| a.id.cmp(&b.id));
            for event in &events {
                diesel::insert_into(webhook_events::table)
                    .values(event)
                    .execute(conn)?;
            }
            let jobs = [
                job("j-done-1", &acme, "done", old, "e-of-done-job"),
                job("j-done-2", &acme, "done", old, "e-old-1"),
                job("j-done-3", &globex, "done", old, "e-old-4"),
                job("j-dead", &acme, "dead", old, "e-of-dead-job"),
                job("j-queued", &acme, "queued", old, "e-of-queued-job"),
                job("j-running", &acme, "running", old, "e-of-running-job"),
                job("j-parked", &acme, "parked", old, "e-of-parked-job"),
                job("j-done-recently", &acme, "done", recent, "e-recent"),
            ];
            for job in &jobs {
                diesel::insert_into(jobs::table).values(job).execute(conn)?;
            }
            for choice in [
                choice("made", &acme, "e-of-chosen-question", true),
                choice("pending", &acme, "e-of-pending-choice", false),
            ] {
                diesel::insert_into(question_choices::table)
                    .values(&choice)
                    .execute(conn)?;
            }
            for token in [
                token(&acme, "t-past-the-window", 367),
                token(&acme, "t-in-the-window", 300),
                token(&acme, "t-recent", 1),
                token(&globex, "t-globex-1", 400),
                token(&globex, "t-globex-2", 500),
                token(&globex, "t-globex-3", 600),
            ] {
                diesel::insert_into(seen_tokens::table)
                    .values(&token)
                    .execute(conn)?;
            }
            for call in [
                call("c-old-1", &acme, old),
                call("c-old-2", &acme, old),
                call("c-old-3", &globex, old),
                call("c-recent", &acme, recent),
            ] {
                diesel::insert_into(lever_calls::table)
                    .values(&call)
                    .execute(conn)?;
            }
            Ok::<_, DbError>(())
        })
        .await
        .unwrap();

    let pruned = app.jobs.prune_history().await.unwrap();
    assert_eq!(
        pruned,
        Pruned {
            jobs: 4,
            deliveries: 8,
            delivery_tokens: 4,
            lever_calls: 3,
        }
    );
    assert_eq!(
        ids_left(&app, "jobs").await,
        ["j-done-recently", "j-parked", "j-queued", "j-running"]
    );
    assert_eq!(
        ids_left(&app, "webhook_events").await,
        [
            "e-of-parked-job",
            "e-of-pending-choice",
            "e-of-queued-job",
            "e-of-running-job",
            "e-recent"
        ]
    );
    assert_eq!(
        ids_left(&app, "seen_tokens").await,
        ["t-in-the-window", "t-recent"]
    );
    assert_eq!(ids_left(&app, "lever_calls").await, ["c-recent"]);

    // Nothing more to do.
    assert_eq!(app.jobs.prune_history().await.unwrap(), Pruned::default());
    let after = scrape(&app).await;
    for (table, rows) in [("jobs", 4.0), ("webhook_events", 8.0), ("lever_calls", 3.0)] {
        let counted = |text: &str| {
            sample(
                text,
                "leverbridge_retention_deleted_total",
                &[("table", table)],
            )
        };
        assert!(counted(&after) >= counted(&before) + rows, "{table}");
    }
}

/// The real flow on a clock moved forward: a delivery outlives the retention period while the
/// assessment it created is unfinished, and its token outlives the delivery until the replay
/// window has passed, so a replay is still a duplicate.
async fn a_delivery_outlives_retention_while_its_assessment_runs_and_its_token_the_replay_window(
    backend: Backend,
) {
    let clock = Clock::adjustable();
    let for_app = clock.clone();
    let (app, lever) = connected_with(backend, move |s| s.tuning.clock = for_app).await;
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    assert_eq!(app.drain().await, 1);
    let (url, body) = delivery_of(&lever, &ada).await;
    let delivery_token = body["token"].as_str().unwrap().to_owned();
    let opportunity = ada.clone();
    let event_id = app
        .db
        .run(move |conn| {
            webhook_events::table
                .filter(webhook_events::opportunity_id.eq(&opportunity))
                .select(webhook_events::id)
                .first::<String>(conn)
                .map_err(DbError::from)
        })
        .await
        .unwrap();
    let held = |event_id: String| {
        let db = app.db.clone();
        async move {
            db.run(move |conn| {
                let event = webhook_events::table
                    .find(&event_id)
                    .count()
                    .get_result::<i64>(conn)?;
                let jobs = jobs::table
                    .filter(jobs::event_id.eq(&event_id))
                    .count()
                    .get_result::<i64>(conn)?;
                let calls = lever_calls::table
                    .filter(lever_calls::event_id.eq(&event_id))
                    .count()
                    .get_result::<i64>(conn)?;
                Ok::<_, DbError>((event, jobs, calls))
            })
            .await
            .unwrap()
        }
    };
    let (_, jobs_before, calls_before) = held(event_id.clone()).await;
    assert!(jobs_before == 1 && calls_before >= 3, "{calls_before}");

    // 91 days on: the finished job and the Lever calls go; the delivery stays while Ada's
    // assessment is unfinished.
    clock.advance(Duration::days(91));
    let pruned = app.jobs.prune_history().await.unwrap();
    assert!(pruned.jobs >= 1 && pruned.lever_calls >= 3, "{pruned:?}");
    assert_eq!(held(event_id.clone()).await, (1, 0, 0));

    // Ada never started: her assessment expires; then the delivery goes, and the Events page
    // and her assessment's page read well without it.
    assert_eq!(app.jobs.expire_due().await.unwrap(), 1);
    app.drain().await;
    let pruned = app.jobs.prune_history().await.unwrap();
    assert!(pruned.deliveries >= 1, "{pruned:?}");
    assert_eq!(held(event_id.clone()).await, (0, 0, 0));
    // 91 days on the server's clock ended the admin's session: they sign in again.
    app.login("admin@acme.test").await;
    app.get_html("/orgs/acme/events").await;
    let assessments = app.get_html("/orgs/acme/assessments").await;
    assert!(assessments.contains("Ada Lovelace"), "{assessments}");

    // Its token is kept: a replay is still a duplicate, and queues nothing.
    let replay = app.client.post(&url).json(&body).send().await.unwrap();
    assert_eq!(replay.status(), 200);
    assert_eq!(replay.json::<Value>().await.unwrap()["status"], "duplicate");
    assert_eq!(app.drain().await, 0);

    // Past the replay window (a year, and a day's margin), the token goes too.
    let kept = |token: String| {
        let db = app.db.clone();
        async move {
            db.run(move |conn| {
                seen_tokens::table
                    .filter(seen_tokens::token.eq(&token))
                    .count()
                    .get_result::<i64>(conn)
                    .map_err(DbError::from)
            })
            .await
            .unwrap()
        }
    };
    clock.advance(Duration::days(365 - 91));
    app.jobs.prune_history().await.unwrap();
    assert_eq!(kept(delivery_token.clone()).await, 1, "within the window");
    clock.advance(Duration::days(2));
    let pruned = app.jobs.prune_history().await.unwrap();
    assert!(pruned.delivery_tokens >= 1, "{pruned:?}");
    assert_eq!(kept(delivery_token).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_favicon_is_served_cached_and_linked_from_every_kind_of_page() {
    let app = spawn_app(Backend::Sqlite).await;
    for (path, kind) in [
        ("/favicon.ico", "image/x-icon"),
        ("/static/favicon.svg", "image/svg+xml"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], kind);
        let cache = response.headers()["cache-control"].to_str().unwrap();
        assert!(cache.contains("max-age="), "{path}: {cache}");
        let bytes = response.bytes().await.unwrap();
        match path {
            "/favicon.ico" => assert_eq!(&bytes[..4], &[0, 0, 1, 0], "an ICO header"),
            _ => assert!(bytes.starts_with(b"<svg")),
        }
    }
    let link = "<link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">";
    let login = app.get_html("/login").await;
    assert!(login.contains(link), "{login}");
    let missing = app.get("/no/such/page").await;
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains(link));
    // Signed out, a dashboard page sends the visitor to sign in (logged at DEBUG: see
    // `web::request_span`).
    let redirected = app.get("/orgs/acme").await;
    assert_eq!(redirected.status(), 303);
}

/// The dashboard's layout and the candidate's pages link the icon too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_links_the_favicon() {
    let app = TestApp::with_admin(Backend::Sqlite).await;
    let overview = app.get_html("/orgs/acme").await;
    assert!(overview.contains("href=\"/static/favicon.svg\""));
}
