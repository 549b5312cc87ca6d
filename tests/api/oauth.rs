//! "Add to Lever": the whole redirect dance against the simulator's authorization server, the
//! webhooks leverbridge registers itself, token renewal (once, however many jobs need it, and
//! across two `serve` processes on PostgreSQL), a revoked grant parking work until reconnected,
//! and every way an authorization can go wrong storing nothing.

use diesel::RunQueryDsl;
use leverbridge::config::{LeverHosts, Settings};
use leverbridge::crypto::SecretKey;
use leverbridge::lever::oauth::OAuthApp;
use serde_json::{json, Value};

use crate::helpers::{location, spawn_app_configured, Backend, Browser, TestApp};
use crate::lever_view::links;
use crate::lever_world::{add_take_home_configuration, post, LeverAccount, TAG, TRIGGER};
use crate::replicas::Replica;

const CLIENT_ID: &str = "leverbridge-test-app";
const CLIENT_SECRET: &str = "leverbridge-test-secret";

/// leverbridge registered as a Lever app with the simulator's authorization server, `acme`'s
/// admin signed in, nothing connected yet.
async fn oauth_world(backend: Backend) -> (TestApp, LeverAccount) {
    oauth_world_with(backend, |_| {}).await
}

async fn oauth_world_with(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> (TestApp, LeverAccount) {
    let lever = LeverAccount::new().await;
    let app = spawn_app_configured(backend, |settings| {
        settings.lever = oauth_hosts(&lever);
        settings.lever_app = Some(test_app());
        configure(settings);
    })
    .await;
    register_app(&lever, &app.url("/oauth/lever/callback")).await;
    app.create_user("admin@acme.test", Some("acme"), "admin")
        .await;
    app.login("admin@acme.test").await;
    (app, lever)
}

fn oauth_hosts(lever: &LeverAccount) -> LeverHosts {
    LeverHosts {
        api_url: Some(format!("{}/v1", lever.sim.base_url())),
        auth_url: Some(lever.sim.base_url()),
    }
}

fn test_app() -> OAuthApp {
    OAuthApp {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.to_owned().into(),
    }
}

async fn register_app(lever: &LeverAccount, callback: &str) {
    post(
        &lever.http,
        &format!("{}/_sim/api/oauth/apps", lever.sim.base_url()),
        json!({"name": "leverbridge", "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET,
               "redirectUris": [callback]}),
    )
    .await;
}

/// The app as the simulator's Lever knows it, with its grants.
async fn sim_app(lever: &LeverAccount) -> Value {
    lever
        .http
        .get(format!(
            "{}/_sim/api/oauth/apps/{CLIENT_ID}",
            lever.sim.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn grant(lever: &LeverAccount) -> Value {
    let app = sim_app(lever).await;
    let grants = app["grants"].as_array().cloned().unwrap_or_default();
    grants
        .iter()
        .rev()
        .find(|g| g["revoked"] == json!(false))
        .cloned()
        .unwrap_or_else(|| panic!("no live grant: {app}"))
}

async fn account(lever: &LeverAccount) -> Value {
    lever
        .http
        .get(lever.control(""))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Clicks *Add to Lever* as `browser`, answers Lever's consent page with `decision` (accept or
/// deny) as the account's default user, and follows Lever back to leverbridge. Returns
/// leverbridge's answer to the callback.
async fn add_to_lever(
    browser: &Browser,
    lever: &LeverAccount,
    decision: &str,
) -> reqwest::Response {
    let callback = consent(browser, lever, decision).await;
    browser.client.get(&callback).send().await.unwrap()
}

/// The dance up to Lever's redirect back: the callback URL Lever sends the browser to.
async fn consent(browser: &Browser, lever: &LeverAccount, decision: &str) -> String {
    consent_for(browser, "acme", lever, decision).await
}

/// `consent`, started from organization `org`'s Connection page.
async fn consent_for(browser: &Browser, org: &str, lever: &LeverAccount, decision: &str) -> String {
    let connection = format!("/orgs/{org}/connection");
    let response = browser
        .post_form(
            &connection,
            &format!("{connection}/oauth"),
            &[("environment", "production")],
        )
        .await;
    assert_eq!(response.status(), 303, "Add to Lever redirects to Lever");
    let authorize = location(&response);
    let sim = lever.sim.base_url();
    assert!(
        authorize.starts_with(&format!("{sim}/authorize?")),
        "{authorize}"
    );
    let url = url::Url::parse(&authorize).unwrap();
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let param = |name: &str| {
        query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    // The audience names Lever's API, never the address it is reached at (the simulator's).
    assert_eq!(param("audience"), "https://api.lever.co/v1/");
    assert_eq!(param("prompt"), "consent");
    assert!(param("scope").split(' ').any(|s| s == "offline_access"));

    // Lever's consent page, then its form as the user submits it.
    let page = lever.http.get(&authorize).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("leverbridge"), "{html}");
    let mut form = query.clone();
    form.push(("account".into(), lever.id.clone()));
    form.push(("user".into(), lever.default_user.clone()));
    form.push(("decision".into(), decision.into()));
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = no_redirects
        .post(format!("{sim}/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 302, "Lever sends the user back");
    let back = location(&answer);
    assert!(
        back.starts_with(&browser.url("/oauth/lever/callback?")),
        "{back}"
    );
    back
}

/// Connects `acme` through Add to Lever and adds the take-home configuration.
async fn connected_by_oauth(backend: Backend) -> (TestApp, LeverAccount) {
    let (app, lever) = oauth_world(backend).await;
    let response = add_to_lever(&app, &lever, "accept").await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/orgs/acme/connection");
    add_take_home_configuration(&app, &lever).await;
    (app, lever)
}

async fn connections(app: &TestApp) -> i64 {
    scalar(app, "SELECT COUNT(*) AS n FROM lever_connections").await
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

async fn scalar(app: &TestApp, sql: &'static str) -> i64 {
    app.db
        .run(move |conn| {
            diesel::sql_query(sql)
                .get_result::<Count>(conn)
                .map(|c| c.n)
                .map_err(leverbridge::db::DbError::from)
        })
        .await
        .unwrap()
}

async fn execute(app: &TestApp, sql: String) {
    app.db
        .run(move |conn| {
            diesel::sql_query(sql)
                .execute(conn)
                .map_err(leverbridge::db::DbError::from)
        })
        .await
        .unwrap();
}

/// Makes the stored access token look about to expire, as an hour's wait would.
async fn expire_stored_token(app: &TestApp) {
    execute(
        app,
        "UPDATE lever_connections SET token_expires_at = created_at".into(),
    )
    .await;
}

crate::both_backends!(
    add_to_lever_connects_registers_the_webhooks_and_a_moved_candidate_gets_a_link,
    an_expiring_token_is_renewed_once_however_many_jobs_need_it,
    a_revoked_grant_parks_work_until_lever_is_reconnected,
    deny_forged_replayed_expired_and_foreign_states_store_nothing,
    a_second_organization_on_the_same_lever_account_is_refused,
    an_account_connected_by_key_refuses_add_to_lever_elsewhere_and_the_grant_is_revoked,
    an_account_connected_through_oauth_refuses_another_organizations_key,
    an_account_connected_by_key_refuses_another_organizations_key,
    disconnect_deletes_the_webhooks_and_revokes_the_grant,
    without_a_token_from_lever_the_webhooks_page_asks_for_it,
    the_overview_says_lever_is_connected_with_oauth_or_by_its_key,
);

async fn add_to_lever_connects_registers_the_webhooks_and_a_moved_candidate_gets_a_link(
    backend: Backend,
) {
    let (app, lever) = oauth_world(backend).await;
    let page = app.get_html("/orgs/acme/connection").await;
    assert!(page.contains("Add to Lever"), "{page}");
    assert!(page.contains("offline_access") && page.contains("webhooks:write:admin"));
    assert!(page.contains("files:write:admin"), "for the PDF report");
    let saved = crate::lever_world::save_settings(&app, &[("write_report", "")]).await;
    assert_eq!(saved.status(), 303);
    let page = app.get_html("/orgs/acme/connection").await;
    assert!(
        !page.contains("files:write:admin"),
        "with the report switched off its scope is not asked for: {page}"
    );
    let csp = app
        .get("/orgs/acme/connection")
        .await
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains(&format!("form-action 'self' {}", lever.sim.base_url())),
        "{csp}"
    );

    let response = add_to_lever(&app, &lever, "accept").await;
    assert_eq!(response.status(), 303);
    let page = app.get_html("/orgs/acme/connection").await;
    assert!(
        page.contains("Connected through Add to Lever") || page.contains("Add to Lever (OAuth)"),
        "{page}"
    );
    assert!(
        page.contains(&lever.id),
        "the Lever account is shown: {page}"
    );
    assert!(page.contains("Integration Bot"), "who authorized: {page}");
    assert!(
        page.contains("webhooks registered in Lever")
            || page.contains("webhooks are registered in Lever"),
        "{page}"
    );
    assert!(!page.contains("API key</dt>"), "{page}");

    // The user who authorized is offered as the default Lever user.
    let settings = app.get_html("/orgs/acme/settings").await;
    assert!(
        settings.contains(&format!("value=\"{}\" selected", lever.default_user)),
        "{settings}"
    );

    // The webhooks, created by leverbridge in Lever, with their tokens saved.
    let held = account(&lever).await;
    let hooks = held["apiWebhooks"].as_array().unwrap();
    let mut events: Vec<&str> = hooks.iter().map(|h| h["event"].as_str().unwrap()).collect();
    events.sort_unstable();
    assert_eq!(
        events,
        [
            "candidateArchiveChange",
            "candidateDeleted",
            "candidateHired",
            "candidateStageChange"
        ]
    );
    let webhooks = app.get_html("/orgs/acme/webhooks").await;
    assert!(webhooks.contains("managed by leverbridge"), "{webhooks}");
    assert!(webhooks.contains("Super Admin must switch the webhook group on"));
    let url = crate::lever_world::webhook_url_in(&webhooks);
    assert!(hooks.iter().all(|h| h["url"] == json!(url)), "{hooks:?}");
    assert!(
        !webhooks.contains("Not set"),
        "every token is saved: {webhooks}"
    );

    // A candidate moved in Lever gets the assessment link, through Bearer calls.
    add_take_home_configuration(&app, &lever).await;
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    app.drain().await;
    let held = lever.opportunity(&ada).await;
    assert_eq!(links(&held).len(), 1, "{held}");

    // Rotating the URL moves leverbridge's webhooks in Lever to the new one.
    let response = app
        .post_form(
            "/orgs/acme/webhooks",
            "/orgs/acme/webhooks/rotate",
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let rotated = crate::lever_world::webhook_url_in(&app.get_html("/orgs/acme/webhooks").await);
    assert_ne!(rotated, url);
    let held = account(&lever).await;
    let hooks = held["apiWebhooks"].as_array().unwrap();
    assert_eq!(hooks.len(), 4, "{held}");
    assert!(
        hooks.iter().all(|h| h["url"] == json!(rotated)),
        "{hooks:?}"
    );
    let grace = lever.candidate("Grace Hopper", &[TAG]).await;
    lever.move_to(&grace, TRIGGER).await;
    app.drain().await;
    assert_eq!(links(&lever.opportunity(&grace).await).len(), 1);

    // Connecting again lists first and creates no webhook twice.
    let response = add_to_lever(&app, &lever, "accept").await;
    assert_eq!(response.status(), 303);
    let held = account(&lever).await;
    assert_eq!(held["apiWebhooks"].as_array().unwrap().len(), 4, "{held}");
}

async fn an_expiring_token_is_renewed_once_however_many_jobs_need_it(backend: Backend) {
    let (app, lever) = connected_by_oauth(backend).await;
    let before = grant(&lever).await;
    assert_eq!(before["refreshes"], json!(0));
    expire_stored_token(&app).await;
    let mut candidates = Vec::new();
    for name in ["Ada", "Grace", "Edsger", "Barbara", "Donald", "Frances"] {
        let id = lever.candidate(&format!("{name} Test"), &[TAG]).await;
        lever.move_to(&id, TRIGGER).await;
        candidates.push(id);
    }
    // Six jobs at once, each needing a fresh token.
    let runs: Vec<_> = (0..6)
        .map(|i| {
            let jobs = app.jobs.clone();
            tokio::spawn(async move { jobs.run_next(&format!("worker-{i}")).await.unwrap() })
        })
        .collect();
    for run in runs {
        run.await.unwrap();
    }
    app.drain().await;
    for id in &candidates {
        assert_eq!(links(&lever.opportunity(id).await).len(), 1, "{id}");
    }
    assert_eq!(grant(&lever).await["refreshes"], json!(1));

    // Lever refusing the token (401) renews it once more, and the job goes through.
    let id = grant(&lever).await["id"].as_str().unwrap().to_owned();
    post(
        &lever.http,
        &format!(
            "{}/_sim/api/oauth/grants/{id}/expire-access-tokens",
            lever.sim.base_url()
        ),
        json!({}),
    )
    .await;
    let late = lever.candidate("Late Comer", &[TAG]).await;
    lever.move_to(&late, TRIGGER).await;
    app.drain().await;
    assert_eq!(links(&lever.opportunity(&late).await).len(), 1);
    assert_eq!(grant(&lever).await["refreshes"], json!(2));
    let events = app.get_html("/orgs/acme/events").await;
    assert!(
        events.contains("401"),
        "the refused call is recorded: {events}"
    );
}

async fn a_revoked_grant_parks_work_until_lever_is_reconnected(backend: Backend) {
    let (app, lever) = connected_by_oauth(backend).await;
    let id = grant(&lever).await["id"].as_str().unwrap().to_owned();
    post(
        &lever.http,
        &format!("{}/_sim/api/oauth/grants/{id}/revoke", lever.sim.base_url()),
        json!({}),
    )
    .await;
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    app.drain().await;
    assert_eq!(links(&lever.opportunity(&ada).await).len(), 0);

    let page = app.get_html("/orgs/acme/connection").await;
    assert!(page.contains("Needs re-authorization"), "{page}");
    let overview = app.get_html("/orgs/acme").await;
    assert!(
        overview.contains("Lever needs to be re-authorized") && overview.contains("invalid_grant"),
        "every page says so: {overview}"
    );
    let parked = scalar(
        &app,
        "SELECT COUNT(*) AS n FROM jobs WHERE state = 'parked'",
    )
    .await;
    assert_eq!(parked, 1);

    // Reconnecting resumes the parked work.
    let response = add_to_lever(&app, &lever, "accept").await;
    assert_eq!(response.status(), 303);
    app.drain().await;
    assert_eq!(links(&lever.opportunity(&ada).await).len(), 1);
    let page = app.get_html("/orgs/acme/connection").await;
    assert!(!page.contains("Needs re-authorization"), "{page}");
    assert!(page.contains("1 waiting job(s) resumed"), "{page}");
}

async fn deny_forged_replayed_expired_and_foreign_states_store_nothing(backend: Backend) {
    let (app, lever) = oauth_world(backend).await;

    // Deny in Lever.
    let response = add_to_lever(&app, &lever, "deny").await;
    assert_eq!(response.status(), 303);
    let page = app.get_html("/orgs/acme/connection").await;
    assert!(page.contains("Access was not granted in Lever"), "{page}");
    assert_eq!(connections(&app).await, 0);

    // A state leverbridge never issued.
    let forged = app
        .get("/oauth/lever/callback?code=abc&state=forged-state-value")
        .await;
    assert_eq!(forged.status(), 400);
    let text = forged.text().await.unwrap();
    assert!(
        text.contains("not one leverbridge is waiting for"),
        "{text}"
    );
    assert_eq!(connections(&app).await, 0);

    // Started in this browser, finished in another session.
    let callback = consent(&app, &lever, "accept").await;
    let stranger = app.as_new_session().await;
    stranger.login("admin@acme.test").await;
    let foreign = stranger.client.get(&callback).send().await.unwrap();
    assert_eq!(foreign.status(), 400);
    assert!(foreign
        .text()
        .await
        .unwrap()
        .contains("another browser session"));
    assert_eq!(connections(&app).await, 0);

    // Older than ten minutes.
    let callback = consent(&app, &lever, "accept").await;
    let eleven_minutes_earlier = if app.db.is_postgres() {
        "created_at - INTERVAL '11 minutes'"
    } else {
        "datetime(created_at, '-11 minutes')"
    };
    execute(
        &app,
        format!("UPDATE lever_oauth_states SET created_at = {eleven_minutes_earlier}"),
    )
    .await;
    let expired = app.client.get(&callback).send().await.unwrap();
    assert_eq!(expired.status(), 400);
    assert!(expired.text().await.unwrap().contains("expired"));
    assert_eq!(connections(&app).await, 0);

    // A good one works once; replayed, it is refused and changes nothing.
    let callback = consent(&app, &lever, "accept").await;
    let first = app.client.get(&callback).send().await.unwrap();
    assert_eq!(first.status(), 303);
    assert_eq!(connections(&app).await, 1);
    let issued = grant(&lever).await["accessTokensIssued"].clone();
    let replayed = app.client.get(&callback).send().await.unwrap();
    assert_eq!(replayed.status(), 400);
    assert!(replayed.text().await.unwrap().contains("already used"));
    assert_eq!(grant(&lever).await["accessTokensIssued"], issued);
    assert_eq!(connections(&app).await, 1);
}

async fn a_second_organization_on_the_same_lever_account_is_refused(backend: Backend) {
    let (app, lever) = oauth_world(backend).await;
    assert_eq!(add_to_lever(&app, &lever, "accept").await.status(), 303);

    app.create_user("admin@globex.test", Some("globex"), "admin")
        .await;
    let globex = app.as_new_session().await;
    globex.login("admin@globex.test").await;
    let callback = consent_for(&globex, "globex", &lever, "accept").await;
    let back = globex.client.get(&callback).send().await.unwrap();
    assert_eq!(back.status(), 303);
    assert_eq!(location(&back), "/orgs/globex/connection");
    let page = globex.get_html("/orgs/globex/connection").await;
    assert!(
        page.contains("already connected to the organization “ACME Inc”"),
        "{page}"
    );
    assert_eq!(connections(&app).await, 1, "only acme's");
    let hooks = account(&lever).await["apiWebhooks"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(hooks, 4, "no webhooks for globex");
    assert_revoked_except(&lever, 1).await;
}

/// Lever's grants to leverbridge: `live` of them still live, every later one revoked.
async fn assert_revoked_except(lever: &LeverAccount, live: usize) {
    let app_state = sim_app(lever).await;
    let grants = app_state["grants"].as_array().unwrap();
    assert!(grants.len() > live, "a grant was obtained: {app_state}");
    let revoked: Vec<bool> = grants.iter().map(|g| g["revoked"] == json!(true)).collect();
    assert!(
        revoked[..live].iter().all(|r| !r) && revoked[live..].iter().all(|r| *r),
        "the grant obtained and not kept is revoked in Lever: {app_state}"
    );
}

/// `globex`'s admin, signed in in a browser of their own.
async fn globex_admin(app: &TestApp) -> Browser {
    app.create_user("admin@globex.test", Some("globex"), "admin")
        .await;
    let globex = app.as_new_session().await;
    globex.login("admin@globex.test").await;
    globex
}

/// Connects `org` with `key` on its Connection page; returns the answer.
async fn connect_key(browser: &Browser, org: &str, key: &str) -> reqwest::Response {
    let connection = format!("/orgs/{org}/connection");
    browser
        .post_form(
            &connection,
            &connection,
            &[("api_key", key), ("environment", "production")],
        )
        .await
}

const TAKEN_BY_ACME: &str = "already connected to the organization “ACME Inc”";

async fn an_account_connected_by_key_refuses_add_to_lever_elsewhere_and_the_grant_is_revoked(
    backend: Backend,
) {
    let (app, lever) = oauth_world(backend).await;
    assert_eq!(connect_key(&app, "acme", &lever.key).await.status(), 303);
    let globex = globex_admin(&app).await;
    let callback = consent_for(&globex, "globex", &lever, "accept").await;
    let back = globex.client.get(&callback).send().await.unwrap();
    assert_eq!(location(&back), "/orgs/globex/connection");
    let page = globex.get_html("/orgs/globex/connection").await;
    assert!(page.contains(TAKEN_BY_ACME), "{page}");
    assert_eq!(connections(&app).await, 1, "only acme's");
    let held = account(&lever).await;
    assert_eq!(held["apiWebhooks"].as_array().unwrap().len(), 0, "{held}");
    assert_revoked_except(&lever, 0).await;
}

/// Globex's admin connects a new key of the account acme holds: refused, naming acme, and only
/// acme's connection is stored.
async fn globex_key_is_refused_as_acmes_account(app: &TestApp, lever: &LeverAccount) {
    let globex = globex_admin(app).await;
    let refused = connect_key(&globex, "globex", &lever.new_key().await).await;
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.unwrap();
    assert!(page.contains(TAKEN_BY_ACME), "{page}");
    assert_eq!(connections(app).await, 1, "only acme's");
}

async fn an_account_connected_through_oauth_refuses_another_organizations_key(backend: Backend) {
    let (app, lever) = oauth_world(backend).await;
    assert_eq!(add_to_lever(&app, &lever, "accept").await.status(), 303);
    globex_key_is_refused_as_acmes_account(&app, &lever).await;
}

async fn an_account_connected_by_key_refuses_another_organizations_key(backend: Backend) {
    let (app, lever) = oauth_world(backend).await;
    assert_eq!(connect_key(&app, "acme", &lever.key).await.status(), 303);
    globex_key_is_refused_as_acmes_account(&app, &lever).await;

    // A Lever account of its own connects.
    let base = format!("{}/_sim/api", lever.sim.base_url());
    let own = post(
        &lever.http,
        &format!("{base}/accounts"),
        json!({"name": "Globex"}),
    )
    .await;
    let own = format!("{base}/accounts/{}", own["id"].as_str().unwrap());
    let key = post(
        &lever.http,
        &format!("{own}/keys"),
        json!({"permissions": null}),
    )
    .await;
    post(
        &lever.http,
        &format!("{own}/users"),
        json!({"name": "Globex Bot", "email": "bot@globex.example", "accessRole": "admin"}),
    )
    .await;
    let globex = globex_admin(&app).await;
    let connected = connect_key(&globex, "globex", key["key"].as_str().unwrap()).await;
    assert_eq!(connected.status(), 303);
    assert_eq!(connections(&app).await, 2);
}

async fn disconnect_deletes_the_webhooks_and_revokes_the_grant(backend: Backend) {
    let (app, lever) = connected_by_oauth(backend).await;
    let response = app
        .post_form(
            "/orgs/acme/connection",
            "/orgs/acme/connection/disconnect",
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let page = app.get_html("/orgs/acme/connection").await;
    assert!(page.contains("4 webhook(s) deleted in Lever"), "{page}");
    assert!(page.contains("access revoked"), "{page}");
    assert_eq!(connections(&app).await, 0);
    let held = account(&lever).await;
    assert_eq!(held["apiWebhooks"].as_array().unwrap().len(), 0, "{held}");
    let app_state = sim_app(&lever).await;
    assert!(
        app_state["grants"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["revoked"] == json!(true)),
        "{app_state}"
    );
    let webhooks = app.get_html("/orgs/acme/webhooks").await;
    assert!(!webhooks.contains("managed by leverbridge"), "{webhooks}");
}

async fn without_a_token_from_lever_the_webhooks_page_asks_for_it(backend: Backend) {
    let (app, lever) = oauth_world(backend).await;
    lever.set_faults(json!({"omitWebhookTokens": true})).await;
    assert_eq!(add_to_lever(&app, &lever, "accept").await.status(), 303);
    let page = app.get_html("/orgs/acme/connection").await;
    assert!(
        page.contains("Lever returned no signature token for: candidateStageChange"),
        "{page}"
    );
    let webhooks = app.get_html("/orgs/acme/webhooks").await;
    assert!(webhooks.contains("managed by leverbridge"), "{webhooks}");
    assert_eq!(webhooks.matches("Paste it").count(), 4, "{webhooks}");

    // The admin copies the stage change's token from the webhook in Lever and pastes it.
    let held = account(&lever).await;
    let token = held["apiWebhooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["event"] == "candidateStageChange")
        .and_then(|h| h["signatureToken"].as_str())
        .expect("Lever's settings show the token")
        .to_owned();
    let response = app
        .post_form(
            "/orgs/acme/webhooks",
            "/orgs/acme/webhooks/tokens",
            &[("token_candidateStageChange", &token)],
        )
        .await;
    assert_eq!(response.status(), 303);
    let webhooks = app.get_html("/orgs/acme/webhooks").await;
    assert_eq!(webhooks.matches("Paste it").count(), 3, "{webhooks}");

    add_take_home_configuration(&app, &lever).await;
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    lever.move_to(&ada, TRIGGER).await;
    app.drain().await;
    assert_eq!(links(&lever.opportunity(&ada).await).len(), 1);
}

/// Two `serve` processes on one PostgreSQL database, each with its workers, and an expired token:
/// the connection's row lock lets exactly one of them refresh it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_refresh_an_expired_token_once() {
    let Some(backend) = Backend::postgres("two_serve_processes_refresh_an_expired_token_once")
    else {
        return;
    };
    let key = leverbridge::config::generate_secret_key_base64();
    let secret = SecretKey::from_base64(&key).unwrap();
    let (app, lever) = oauth_world_with(backend, |settings| settings.secret_key = secret).await;
    assert_eq!(add_to_lever(&app, &lever, "accept").await.status(), 303);
    add_take_home_configuration(&app, &lever).await;
    expire_stored_token(&app).await;

    let database_url = match &app.settings.database_url {
        leverbridge::config::DatabaseUrl::Postgres(url) => url.clone(),
        other => panic!("{other:?}"),
    };
    let replicas: Vec<Replica> = (0..2)
        .map(|_| Replica::start(&database_url, &key, &lever, &oauth_env()))
        .collect();
    for replica in &replicas {
        replica.wait_ready().await;
    }
    let mut candidates = Vec::new();
    for i in 0..8 {
        let id = lever
            .candidate(&format!("Replica Candidate{i}"), &[TAG])
            .await;
        lever.move_to(&id, TRIGGER).await;
        candidates.push(id);
    }
    // The deliveries reach the test app (which runs no jobs); the replicas' workers run them.
    let done = lever.wait_for_links(&candidates, 200).await;
    let logs: Vec<String> = replicas.into_iter().map(Replica::stop).collect();
    assert!(
        done,
        "every candidate got a link; replica logs:\n{}",
        logs.join("\n----\n")
    );
    assert_eq!(
        grant(&lever).await["refreshes"],
        json!(1),
        "one refresh across both replicas; logs:\n{}",
        logs.join("\n----\n")
    );
    let renewed = logs
        .iter()
        .filter(|log| log.contains("renewed the Lever access token"))
        .count();
    assert_eq!(renewed, 1, "{}", logs.join("\n----\n"));
}

fn oauth_env() -> Vec<(&'static str, String)> {
    vec![
        ("LEVERBRIDGE_LEVER_CLIENT_ID", CLIENT_ID.to_owned()),
        ("LEVERBRIDGE_LEVER_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
    ]
}

/// The Overview's set-up checklist says how Lever is connected: an OAuth connection has no key
/// to show, a key connection shows its last four characters.
async fn the_overview_says_lever_is_connected_with_oauth_or_by_its_key(backend: Backend) {
    let (app, lever) = connected_by_oauth(backend.clone()).await;
    let overview = app.get_html("/orgs/acme").await;
    let today = chrono::Utc::now().format("%-d %b %Y").to_string();
    assert!(
        overview.contains(&format!(
            "Connected (production) with OAuth (Add to Lever) by admin@acme.test since {today}."
        )),
        "{overview}"
    );
    assert!(!overview.contains("key ••••"), "{overview}");
    drop((app, lever));

    let (app, lever) = crate::lever_world::connected(backend).await;
    let overview = app.get_html("/orgs/acme").await;
    let last4 = &lever.key[lever.key.len() - 4..];
    assert!(
        overview.contains(&format!("Connected (production), key ••••{last4}.")),
        "{overview}"
    );
    assert!(!overview.contains("OAuth"), "{overview}");
}
