//! Issue 11's hardening of the Lever connection, driven through the dashboard against the
//! simulator: pagination with Lever's real offset tokens, a connection test that writes nothing,
//! a working key that a weaker one does not silently replace, a disconnect that asks first, and
//! write-back errors worded for what really happened.

use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{Backend, TestApp};
use crate::lever_world::{app_for, post, LeverAccount};

both_backends!(more_than_a_page_of_users_and_stages_arrive_through_the_dashboard);

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
    for name in &users {
        assert!(page.contains(name), "{name} offered as the default user");
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
    let log = requests(&lever).await;
    let paged: Vec<&str> = log
        .iter()
        .filter_map(|r| r["query"].as_str())
        .filter(|query| query.contains("offset="))
        .collect();
    assert_eq!(paged.len(), 2 + 1 + 1, "users ×2, stages ×2: {paged:?}");
    assert!(paged.iter().all(|query| query.contains("offset=%5B1%2C")));
}

async fn requests(lever: &LeverAccount) -> Vec<Value> {
    let response = lever
        .http
        .get(lever.control("/requests"))
        .send()
        .await
        .unwrap();
    response.json::<Vec<Value>>().await.unwrap()
}
