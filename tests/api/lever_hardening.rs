//! Issue 11's hardening of the Lever connection, driven through the dashboard against the
//! simulator: pagination with Lever's real offset tokens, a connection test that writes nothing,
//! a working key that a weaker one does not silently replace, a disconnect that asks first, and
//! write-back errors worded for what really happened.

use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{Backend, TestApp};
use crate::lever_world::{app_for, connected, post, LeverAccount, TAG, TRIGGER};

const NIL_ID: &str = "00000000-0000-0000-0000-000000000000";

both_backends!(
    more_than_a_page_of_users_and_stages_arrive_through_the_dashboard,
    the_connection_test_writes_nothing_to_lever,
    a_weaker_key_replaces_a_working_one_only_when_confirmed,
    disconnecting_asks_first_and_names_the_consequence,
    a_404_from_the_notes_list_is_not_called_a_deletion,
    a_confidential_opportunity_is_named_as_such,
);

/// Submits the Connection page's key form.
async fn connect(app: &TestApp, key: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let mut fields = vec![("api_key", key), ("environment", "production")];
    fields.extend_from_slice(extra);
    app.post_form("/orgs/acme/connection", "/orgs/acme/connection", &fields)
        .await
}

async fn more_than_a_page_of_users_and_stages_arrive_through_the_dashboard(backend: Backend) {
    let lever = LeverAccount::new().await;
    let (http, users_url, stages_url) = (
        &lever.http,
        lever.control("/users"),
        lever.control("/stages"),
    );
    let users: Vec<String> = (0..250).map(|i| format!("Paged User {i:03}")).collect();
    for (i, name) in users.iter().enumerate() {
        let body = json!({"name": name, "email": format!("paged{i}@initech.example"), "accessRole": "team member"});
        post(http, &users_url, body).await;
    }
    let mut stages: Vec<String> = (0..150).map(|i| format!("Paged stage {i:03}")).collect();
    for text in &stages {
        post(http, &stages_url, json!({"text": text})).await;
    }
    let app = app_for(&lever, backend).await;
    app.login("admin@acme.test").await;

    // Connecting reads every page: Lever's `next` token goes back as it came.
    let response = connect(&app, &lever.key, &[]).await;
    assert_eq!(response.status(), 303);
    let page = app.get_html("/orgs/acme/connection").await;
    assert!(
        page.contains("Connected to Lever: 252 users and 154 stages read"),
        "{page}"
    );
    let settings = app.get_html("/orgs/acme/settings").await;
    for name in &users {
        assert!(
            settings.contains(name),
            "{name} offered as the default user"
        );
    }
    let form = app.get_html("/orgs/acme/configurations/new").await;
    for text in &stages {
        assert!(form.contains(text), "{text} offered as a trigger stage");
    }

    // Refreshing the stages reads every page too.
    let added = "Added after connecting".to_owned();
    post(http, &stages_url, json!({"text": added})).await;
    stages.push(added);
    let response = app
        .post_form(
            "/orgs/acme/configurations",
            "/orgs/acme/configurations/refresh-stages",
            &[],
        )
        .await;
    assert_eq!(response.status(), 303);
    let page = app.get_html("/orgs/acme/configurations").await;
    assert!(page.contains("155 stages read from Lever."), "{page}");
    let form = app.get_html("/orgs/acme/configurations/new").await;
    for text in &stages {
        assert!(
            form.contains(text.as_str()),
            "{text} offered after refreshing"
        );
    }

    // Each later page was asked for with the token exactly as Lever gave it.
    let log = lever.requests().await;
    let paged: Vec<&str> = log
        .iter()
        .filter_map(|r| r["query"].as_str())
        .filter(|query| query.contains("offset="))
        .collect();
    assert_eq!(paged.len(), 2 + 1 + 1, "users ×2, stages ×2: {paged:?}");
    assert!(paged.iter().all(|query| query.contains("offset=%5B1%2C")));
}

async fn the_connection_test_writes_nothing_to_lever(backend: Backend) {
    let lever = LeverAccount::new().await;
    let opportunity = lever.candidate("Wanda Written", &[]).await;
    let before = lever.opportunity(&opportunity).await;
    let app = app_for(&lever, backend).await;
    app.login("admin@acme.test").await;

    assert_eq!(connect(&app, &lever.key, &[]).await.status(), 303);
    let page = app.get_html("/orgs/acme/connection").await;
    assert!(page.contains("every permission present"), "{page}");
    assert!(
        page.contains("<code>create feedback template</code>") && page.contains("not tested"),
        "the one permission that cannot be probed without writing is named: {page}"
    );

    let log = lever.requests().await;
    assert!(log.len() > 10, "{log:?}");
    for request in &log {
        let (method, path) = (
            request["method"].as_str().unwrap(),
            request["path"].as_str().unwrap(),
        );
        if method != "GET" {
            assert!(
                path.starts_with(&format!("/v1/opportunities/{NIL_ID}/")),
                "{method} {path} writes to something that exists"
            );
            assert_eq!(request["status"], 404, "{method} {path}");
        }
    }
    assert!(
        !log.iter()
            .any(|r| r["method"] == "POST" && r["path"] == "/v1/feedback_templates"),
        "no feedback template is posted"
    );
    let templates = lever
        .http
        .get(format!("{}/v1/feedback_templates", lever.sim.base_url()))
        .basic_auth(&lever.key, Some(""))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(templates["data"], json!([]), "no template was created");
    assert_eq!(
        lever.opportunity(&opportunity).await,
        before,
        "the account's candidate is untouched"
    );
}

/// A key of the account with exactly `permissions`.
async fn key_with(lever: &LeverAccount, permissions: &[&str]) -> String {
    post(
        &lever.http,
        &lever.control("/keys"),
        json!({ "permissions": permissions }),
    )
    .await["key"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn last4(key: &str) -> &str {
    &key[key.len() - 4..]
}

async fn a_weaker_key_replaces_a_working_one_only_when_confirmed(backend: Backend) {
    let lever = LeverAccount::new().await;
    let app = app_for(&lever, backend).await;
    app.login("admin@acme.test").await;
    assert_eq!(connect(&app, &lever.key, &[]).await.status(), 303);

    let lacking = ["create opportunity note", "add opportunity tag"];
    let granted: Vec<&str> = leverbridge::lever::REQUIRED_PERMISSIONS
        .iter()
        .copied()
        .filter(|p| !lacking.contains(p))
        .collect();
    let weaker = key_with(&lever, &granted).await;

    // Tested, explained, not saved: the working key stays.
    let response = connect(&app, &weaker, &[]).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("The new key was tested and not saved"),
        "{page}"
    );
    for permission in lacking {
        assert!(
            page.contains(&format!(
                "<code>{permission}</code> <span class=\"muted\">(the current key has it)</span>"
            )),
            "{permission} named: {page}"
        );
    }
    assert!(page.contains("name=\"confirm_replace\" value=\"yes\""));
    assert!(!page.contains(&weaker), "the key is never echoed back");
    let page = app.get_html("/orgs/acme/connection").await;
    assert!(
        page.contains(&format!("••••••••{}", last4(&lever.key)))
            && page.contains("badge-ok\">Connected"),
        "{page}"
    );

    // Submitting again with the box ticked replaces it.
    let response = connect(&app, &weaker, &[("confirm_replace", "yes")]).await;
    assert_eq!(response.status(), 303);
    let page = app.get_html("/orgs/acme/connection").await;
    assert!(
        page.contains(&format!("••••••••{}", last4(&weaker)))
            && page.contains("Permissions missing"),
        "{page}"
    );

    // A key lacking nothing the current one has replaces it without a question.
    assert_eq!(
        connect(&app, &lever.new_key().await, &[]).await.status(),
        303
    );
    assert!(app
        .get_html("/orgs/acme/connection")
        .await
        .contains("badge-ok\">Connected"));
}

async fn disconnecting_asks_first_and_names_the_consequence(backend: Backend) {
    let lever = LeverAccount::new().await;
    let app = app_for(&lever, backend).await;
    app.login("admin@acme.test").await;
    assert_eq!(connect(&app, &lever.key, &[]).await.status(), 303);
    let consequence =
        "leverbridge stops writing to Lever and queued work is parked until you connect again";
    let page = app.get_html("/orgs/acme/connection").await;
    assert!(
        page.contains(consequence) && page.contains("name=\"confirm\" value=\"yes\" required"),
        "{page}"
    );

    // Without the confirmation (a browser without validation, a script): nothing changes.
    let response = app
        .post_form(
            "/orgs/acme/connection",
            "/orgs/acme/connection/disconnect",
            &[],
        )
        .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Nothing was changed. Tick the box to confirm") && page.contains(consequence),
        "{page}"
    );
    assert!(app
        .get_html("/orgs/acme/connection")
        .await
        .contains("badge-ok\">Connected"));

    let response = app
        .post_form(
            "/orgs/acme/connection",
            "/orgs/acme/connection/disconnect",
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert!(app
        .get_html("/orgs/acme/connection")
        .await
        .contains("Not connected"));
}

async fn a_404_from_the_notes_list_is_not_called_a_deletion(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let nora = lever.candidate("Nora Notes", &[TAG]).await;
    // The first attempt's note fails, so the next one looks for it in Lever first.
    lever
        .set_faults(json!({"scripted": [
            {"method": "POST", "pathEndsWith": "/notes", "status": 503},
            {"method": "GET", "pathEndsWith": "/notes", "status": 404}
        ]}))
        .await;
    lever.move_to(&nora, TRIGGER).await;
    app.drain().await;
    // The retry's backoff (a millisecond in the tests) has passed.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    app.drain().await;

    let events = app.get_html("/orgs/acme/events").await;
    assert!(
        events.contains(&format!(
            "to listing the notes of opportunity {nora}, which it had just shown; the link and the tag were written, the note was not."
        )),
        "{events}"
    );
    assert!(!events.contains("deleted"), "{events}");
    let held = lever.opportunity(&nora).await;
    assert_eq!(held["links"].as_array().unwrap().len(), 1, "{held}");
    assert_eq!(held["notes"], json!([]), "{held}");
}

async fn a_confidential_opportunity_is_named_as_such(backend: Backend) {
    let (app, lever) = connected(backend).await;
    let body = json!({"name": "Connie Confidential", "tags": [TAG], "stageId": lever.stage("New lead"), "confidential": true});
    let connie = post(&lever.http, &lever.control("/candidates"), body).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    lever.move_to(&connie, TRIGGER).await;
    app.drain().await;

    let events = app.get_html("/orgs/acme/events").await;
    assert!(
        events.contains("it is confidential: the key cannot read it"),
        "{events}"
    );
    assert!(!events.contains("lacks the"), "{events}");

    // A key with access to confidential data: the waiting work runs.
    let key = post(
        &lever.http,
        &lever.control("/keys"),
        json!({"permissions": null, "confidentialAccess": true}),
    )
    .await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(connect(&app, &key, &[]).await.status(), 303);
    assert_eq!(app.drain().await, 1);
    let held = lever.opportunity(&connie).await;
    assert_eq!(held["links"].as_array().unwrap().len(), 1, "{held}");
}
