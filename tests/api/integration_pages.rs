//! Who may see and change the integration's pages, and how every kind of bad input is refused
//! without changing anything.

use serde_json::json;

use crate::both_backends;
use crate::helpers::Backend;
use crate::lever_world::{connected, save_settings, webhook_url_in, LeverAccount, TAG, TRIGGER};

both_backends!(
    reviewers_support_and_other_organizations_are_kept_out,
    a_bad_or_insufficient_key_is_explained_and_not_saved,
    invalid_configurations_are_refused_field_by_field,
    bad_webhook_deliveries_are_refused_and_recorded,
    a_dead_job_is_retried_by_support,
);

async fn reviewers_support_and_other_organizations_are_kept_out(backend: Backend) {
    let (app, lever) = connected(backend).await;
    app.create_user("reviewer@acme.test", Some("acme"), "reviewer")
        .await;
    app.create_user("help@vendor.test", None, "support").await;
    app.create_user("admin@globex.test", Some("globex"), "admin")
        .await;

    // A reviewer: no admin pages, no admin navigation.
    let reviewer = app.as_new_session().await;
    reviewer.login("reviewer@acme.test").await;
    for page in [
        "connection",
        "webhooks",
        "configurations",
        "events",
        "configurations/new",
    ] {
        let response = reviewer.get(&format!("/orgs/acme/{page}")).await;
        assert_eq!(response.status(), 403, "{page}");
    }
    let overview = reviewer.get_html("/orgs/acme").await;
    assert!(
        !overview.contains("/orgs/acme/connection\""),
        "no admin entries in the reviewer's navigation"
    );
    let html = reviewer.get_html("/orgs/acme").await;
    let token = crate::helpers::csrf_in(&html);
    let response = reviewer
        .post_raw(
            "/orgs/acme/configurations/new",
            &[("csrf_token", &token), ("tag_name", "x")],
        )
        .await;
    assert_eq!(response.status(), 403);

    // Support: reads everything with secrets masked, changes nothing.
    let support = app.as_new_session().await;
    support.login("help@vendor.test").await;
    let page = support.get_html("/orgs/acme/connection").await;
    assert!(page.contains("Connected") && page.contains("<fieldset disabled>"));
    assert!(!page.contains(&lever.key), "the key is never rendered");
    let webhooks = support.get_html("/orgs/acme/webhooks").await;
    assert!(webhooks.contains("••••") && webhooks.contains("Support view"));
    let admin_url = webhook_url_in(&app.get_html("/orgs/acme/webhooks").await);
    let endpoint_key = admin_url.rsplit('/').next().unwrap();
    assert!(
        !webhooks.contains(endpoint_key),
        "support sees only the end of the endpoint key"
    );
    assert_eq!(
        support
            .get("/orgs/acme/events?page=9223372036854775807")
            .await
            .status(),
        200
    );
    for (page, action, fields) in [
        (
            "/orgs/acme/connection",
            "/orgs/acme/connection",
            vec![
                ("api_key", "whatever-key-123456"),
                ("environment", "production"),
            ],
        ),
        (
            "/orgs/acme/connection",
            "/orgs/acme/connection/disconnect",
            vec![],
        ),
        ("/orgs/acme/webhooks", "/orgs/acme/webhooks/rotate", vec![]),
        (
            "/orgs/acme/configurations",
            "/orgs/acme/configurations/refresh-stages",
            vec![],
        ),
    ] {
        let response = support.post_form(page, action, &fields).await;
        assert_eq!(response.status(), 403, "{action}");
        assert!(response.text().await.unwrap().contains("read-only"));
    }
    assert!(
        support
            .get_html("/orgs/acme/connection")
            .await
            .contains("Connected"),
        "still connected"
    );
    assert_eq!(
        webhook_url_in(&support.get_html("/orgs/acme/webhooks").await),
        webhook_url_in(&webhooks),
        "URL not rotated"
    );

    // Another organization's admin: 404 on every page of this one.
    let stranger = app.as_new_session().await;
    stranger.login("admin@globex.test").await;
    for page in ["", "/connection", "/webhooks", "/configurations", "/events"] {
        assert_eq!(
            stranger.get(&format!("/orgs/acme{page}")).await.status(),
            404,
            "{page}"
        );
    }
}

async fn a_bad_or_insufficient_key_is_explained_and_not_saved(backend: Backend) {
    let lever = LeverAccount::new().await;
    let app = crate::lever_world::app_for(&lever, backend).await;
    app.login("admin@acme.test").await;
    let connect = |key: String| {
        let app = &app;
        async move {
            app.post_form(
                "/orgs/acme/connection",
                "/orgs/acme/connection",
                &[("api_key", &key), ("environment", "sandbox")],
            )
            .await
        }
    };

    let response = connect(String::new()).await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("Paste the API key"));
    let response = connect("not a key".into()).await;
    assert_eq!(response.status(), 422);

    let response = connect("x".repeat(40)).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Lever rejected this key"),
        "Lever's reason is shown"
    );
    assert!(
        page.contains("value=\"sandbox\" checked"),
        "the environment chosen is kept"
    );
    assert!(
        app.get_html("/orgs/acme/connection")
            .await
            .contains("Not connected"),
        "nothing saved"
    );

    // A key without the write permissions: connected, with each missing permission named.
    let limited = lever
        .http
        .post(lever.control("/keys"))
        .json(
            &json!({"permissions": ["list users", "list stages", "list tags", "read opportunity"]}),
        )
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = connect(limited).await;
    assert_eq!(response.status(), 303);
    let page = app.get_html("/orgs/acme/connection").await;
    assert!(page.contains("Permissions missing"));
    for permission in [
        "add opportunity link",
        "add opportunity tag",
        "list opportunity notes",
        "create opportunity note",
    ] {
        assert!(
            page.contains(&format!("<code>{permission}</code>")),
            "{permission} listed"
        );
    }

    // The default Lever user (chosen on Settings) must be one of the active users Lever listed.
    let response = save_settings(&app, &[("default_user_id", "no-such-user")]).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("Choose one of the active Lever users listed"));
    assert!(
        !page.contains("Gone Person"),
        "deactivated users are not offered"
    );
    let page = app.get_html("/orgs/acme/connection").await;
    assert!(page.contains("Not chosen"));
}

async fn invalid_configurations_are_refused_field_by_field(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let submit = |fields: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let owned: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.post_form(
                "/orgs/acme/configurations/new",
                "/orgs/acme/configurations/new",
                &owned,
            )
            .await
        }
    };
    let trigger = lever.stage(TRIGGER);

    let response = submit(vec![
        ("trigger_stage_id", trigger.clone()),
        ("pad_kind", "take_home".into()),
        ("tag_name", "  take-home tag ".into()),
    ])
    .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("A take-home test needs a question"));
    assert!(
        page.contains("value=\"  take-home tag \""),
        "what was typed is kept"
    );

    let response = submit(vec![
        ("trigger_stage_id", "no-such-stage".into()),
        ("pad_kind", "live".into()),
        ("tag_name", "".into()),
    ])
    .await;
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Choose one of your Lever stages.")
            && page.contains("Enter the tag candidates must carry.")
    );

    let response = submit(vec![
        ("trigger_stage_id", lever.stage("On-site interview")),
        ("pad_kind", "live".into()),
        ("tag_name", format!(" {TAG} ")),
    ])
    .await;
    assert_eq!(response.status(), 422);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("is already used by the configuration at “Phone interview”"));

    let response = submit(vec![
        ("trigger_stage_id", lever.stage("On-site interview")),
        ("pad_kind", "sideways".into()),
        ("tag_name", "x".into()),
    ])
    .await;
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Choose Live interview or Take-home test."));

    // The question must be one of the library's.
    let response = submit(vec![
        ("trigger_stage_id", lever.stage("On-site interview")),
        ("pad_kind", "take_home".into()),
        ("question_id", "no-such-question".into()),
        ("tag_name", "unknown question".into()),
    ])
    .await;
    assert_eq!(response.status(), 422);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Choose one of the questions in your library."));

    // A live interview needs no question; the tag is trimmed and keeps its case.
    let response = submit(vec![
        ("trigger_stage_id", lever.stage("On-site interview")),
        ("pad_kind", "live".into()),
        ("tag_name", "  Live Pad ".into()),
    ])
    .await;
    assert_eq!(response.status(), 303);
    let list = app.get_html("/orgs/acme/configurations").await;
    assert!(list.contains("<code>Live Pad</code>") && list.contains("<code>coding-test</code>"));
    assert_eq!(
        list.matches("/edit\"").count(),
        2,
        "only the two valid configurations exist"
    );
}

async fn bad_webhook_deliveries_are_refused_and_recorded(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let url = webhook_url_in(&app.get_html("/orgs/acme/webhooks").await);
    let http = reqwest::Client::new();
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    let genuine = lever.deliveries().await[0]["body"].clone();
    assert_eq!(app.drain().await, 1);

    let unknown = url.rsplit_once('/').unwrap().0.to_owned() + "/not-a-real-endpoint-key";
    assert_eq!(
        http.post(&unknown)
            .json(&genuine)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
        (http.post(&url).header("content-type", "application/json").body("{not json"), 400, "malformed delivery"),
        (http.post(&url).header("content-type", "application/json").body(vec![b' '; 70 * 1024]), 413, "larger than 64 KiB"),
        (http.post(&url).json(&json!({"event": "interviewCreated", "token": "t".repeat(48), "triggeredAt": 1, "signature": "00", "data": {"x": 1}})), 400, "does not handle the event"),
        (http.post(&url).json(&json!({"event": "candidateHired", "token": "t".repeat(48), "triggeredAt": 1, "signature": "00", "data": {"opportunityId": ada}})), 401, "no signature token is saved for Candidate Hired"),
        (http.post(&url).json(&{ let mut b = genuine.clone(); b["signature"] = json!("ab".repeat(32)); b["token"] = json!("z".repeat(48)); b }), 401, "signature invalid"),
        (http.post(&url).json(&{ let mut b = genuine.clone(); b.as_object_mut().unwrap().remove("signature"); b }), 400, "malformed delivery"),
        // NUL characters (PostgreSQL's text holds none) are refused at the door, never failing the store.
        (http.post(&url).json(&json!({"event": "interview\u{0}Created", "token": "t\u{0}".repeat(24), "triggeredAt": 1, "signature": "00", "data": {}})), 400, "contains a NUL character"),
        (http.post(&url).header("content-type", "application/json").body(&b"{\"nul\": \0}"[..]), 400, "malformed delivery"),
    ];
    for (request, status, reason) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status, "{reason}");
        assert!(response.text().await.unwrap().contains(reason), "{reason}");
    }
    assert_eq!(app.drain().await, 0, "nothing was queued");
    let held = lever.opportunity(&ada).await;
    assert_eq!(held["notes"].as_array().unwrap().len(), 1);
    let events = app.get_html("/orgs/acme/events").await;
    assert_eq!(
        events.matches(">Invalid</span>").count(),
        1,
        "only the forged signature reads Invalid"
    );
    for reason in [
        "Rejected: malformed delivery",
        "Rejected: the body is larger than 64 KiB",
        "Rejected: leverbridge does not handle the event",
        "Rejected: signature invalid",
        "Rejected: malformed delivery: the `token` field contains a NUL character",
    ] {
        assert!(events.contains(reason), "{reason} recorded");
    }
    let webhooks = app.get_html("/orgs/acme/webhooks").await;
    // Stage change: 1 accepted, 1 rejected (the bad signature); Candidate Hired: 0 and 1.
    let compact: String = webhooks.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(
        compact.contains("<tdclass=\"num\">1</td><tdclass=\"num\">1</td>"),
        "stage-change counts"
    );
    assert!(
        compact.contains("<tdclass=\"num\">0</td><tdclass=\"num\">1</td>"),
        "hired counts"
    );
}

async fn a_dead_job_is_retried_by_support(backend: Backend) {
    let (app, lever) = connected(backend).await;
    app.create_user("help@vendor.test", None, "support").await;
    lever.set_faults(json!({"error5xxRate": 1.0})).await;
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    // Three attempts, each after a (test-short) backoff, then the job is dead.
    for _ in 0..50 {
        app.drain().await;
        if app
            .get_html("/orgs/acme/events")
            .await
            .contains("Failed after 3 attempts")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let events = app.get_html("/orgs/acme/events").await;
    assert!(
        events.contains("Failed after 3 attempts") && events.contains(">Retry</button>"),
        "{events}"
    );

    lever.set_faults(json!({"error5xxRate": 0.0})).await;
    let support = app.as_new_session().await;
    support.login("help@vendor.test").await;
    let page = support.get_html("/orgs/acme/events").await;
    let action = page
        .split("action=\"")
        .find(|s| s.contains("/retry\""))
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let response = support.post_form("/orgs/acme/events", &action, &[]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(app.drain().await, 1);
    let held = lever.opportunity(&ada).await;
    assert_eq!(held["links"].as_array().unwrap().len(), 1, "{held}");
    assert!(support
        .get_html("/orgs/acme/events")
        .await
        .contains("fired"));
}

both_backends!(
    copies_of_one_delivery_arriving_together_queue_one_job,
    a_rotated_url_and_a_changed_token_take_effect_at_once
);

async fn copies_of_one_delivery_arriving_together_queue_one_job(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    let delivery = lever.deliveries().await[0].clone();
    let (url, body) = (
        delivery["url"].as_str().unwrap().to_owned(),
        delivery["body"].clone(),
    );
    // Lever's retries and a replay, all at once, beside the original already stored.
    let http = reqwest::Client::new();
    let sends: Vec<_> = (0..6).map(|_| http.post(&url).json(&body).send()).collect();
    for response in futures_util::future::join_all(sends).await {
        let response = response.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.json::<serde_json::Value>().await.unwrap()["status"],
            "duplicate"
        );
    }
    assert_eq!(app.drain().await, 1, "one job for one delivery");
    let held = lever.opportunity(&ada).await;
    assert_eq!(held["notes"].as_array().unwrap().len(), 1);

    // A new delivery sent six times at once: exactly one is accepted.
    let bob = lever.candidate("Bob Tagged", &[TAG]).await;
    lever
        .set_webhook("candidateStageChange", "http://127.0.0.1:9/nowhere")
        .await;
    lever.move_to(&bob, TRIGGER).await;
    let fresh = lever
        .deliveries()
        .await
        .into_iter()
        .find(|d| d["body"]["data"]["opportunityId"] == bob.as_str())
        .unwrap();
    let sends: Vec<_> = (0..6)
        .map(|_| http.post(&url).json(&fresh["body"]).send())
        .collect();
    let mut statuses = Vec::new();
    for response in futures_util::future::join_all(sends).await {
        statuses.push(
            response.unwrap().json::<serde_json::Value>().await.unwrap()["status"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    statuses.sort();
    assert_eq!(
        statuses,
        [
            "accepted",
            "duplicate",
            "duplicate",
            "duplicate",
            "duplicate",
            "duplicate"
        ],
        "{statuses:?}"
    );
    assert_eq!(app.drain().await, 1);

    // The Webhooks page counts every copy as accepted (each was answered 200), whichever batch
    // and writer stored it: Ada's delivery and its 6 copies, Bob's 6.
    let webhooks = app.get_html("/orgs/acme/webhooks").await;
    let compact: String = webhooks.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(
        compact.contains("<tdclass=\"num\">13</td><tdclass=\"num\">0</td>"),
        "stage-change counts: {webhooks}"
    );
}

async fn a_rotated_url_and_a_changed_token_take_effect_at_once(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let old_url = webhook_url_in(&app.get_html("/orgs/acme/webhooks").await);
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await; // warms the endpoint cache
    assert_eq!(app.drain().await, 1);

    // A new signature token: deliveries signed with the old one are refused at once.
    let response = app
        .post_form(
            "/orgs/acme/webhooks",
            "/orgs/acme/webhooks/tokens",
            &[("token_candidateStageChange", "a-brand-new-token-1234")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let bob = lever.candidate("Bob Tagged", &[TAG]).await;
    let moved = lever.move_to(&bob, TRIGGER).await;
    assert_eq!(moved["deliveries"][0]["responseStatus"], 401, "{moved}");

    // A rotated URL: the old one is unknown at once.
    let response = app
        .post_form(
            "/orgs/acme/webhooks",
            "/orgs/acme/webhooks/rotate",
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let new_url = webhook_url_in(&app.get_html("/orgs/acme/webhooks").await);
    assert_ne!(new_url, old_url);
    let body = lever.deliveries().await[0]["body"].clone();
    assert_eq!(
        reqwest::Client::new()
            .post(&old_url)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(app.drain().await, 0);
}

/// Two saves with one tag at the same moment: the one that commits second is told, beside the
/// field, that the tag is taken. SQLite runs write transactions one at a time, so the check and
/// the insert can only interleave on PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_saves_of_one_tag_at_once_end_in_the_form_message() {
    use diesel::{Connection, PgConnection, RunQueryDsl};
    let Some(backend) = Backend::postgres("two_saves_of_one_tag_at_once_end_in_the_form_message")
    else {
        return;
    };
    let (app, lever) = connected(backend).await;
    let leverbridge::config::DatabaseUrl::Postgres(url) = app.database.url.clone() else {
        unreachable!("a PostgreSQL backend has a PostgreSQL URL")
    };
    let stage = lever.stage("On-site interview");
    // The other save has inserted its row but not committed it when this one checks the tag;
    // it commits once this save's insert waits on the tag's unique index.
    let (inserted, wait_for_insert) = tokio::sync::oneshot::channel();
    let other = std::thread::spawn(move || -> anyhow::Result<()> {
        let mut conn = PgConnection::establish(&url)?;
        diesel::sql_query("BEGIN").execute(&mut conn)?;
        diesel::sql_query(format!(
            "INSERT INTO configurations (id, org_id, trigger_stage_id, pad_kind, tag_name, created_at, updated_at) \
             SELECT 'the-other-save', id, '{stage}', 'live', 'Raced', now(), now() FROM organizations WHERE slug = 'acme'"
        ))
        .execute(&mut conn)?;
        let _ = inserted.send(());
        let waiting_on_a_lock = diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT count(*) FROM pg_stat_activity \
              WHERE wait_event_type = 'Lock' AND datname = current_database())",
        );
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while diesel::select(waiting_on_a_lock.clone()).get_result::<i64>(&mut conn)? == 0 {
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "the form's save never waited on the uncommitted tag"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        diesel::sql_query("COMMIT").execute(&mut conn)?;
        Ok(())
    });
    if wait_for_insert.await.is_err() {
        panic!("the other save failed: {:?}", other.join().unwrap());
    }
    let response = app
        .post_form(
            "/orgs/acme/configurations/new",
            "/orgs/acme/configurations/new",
            &[
                ("trigger_stage_id", &lever.stage(TRIGGER)),
                ("pad_kind", "live"),
                ("tag_name", "Raced"),
            ],
        )
        .await;
    other.join().unwrap().expect("the other save committed");
    assert_eq!(response.status(), 422);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("The tag “Raced” is already used by the configuration at “On-site interview”"));
    let list = app.get_html("/orgs/acme/configurations").await;
    assert_eq!(list.matches("<code>Raced</code>").count(), 1, "{list}");
}
