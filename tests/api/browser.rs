//! In a real headless Chromium, through WebDriver: an admin sets up the integration in the
//! dashboard's forms, and a recruiter moves a candidate on the simulator's Lever page.
//! Skipped, loudly, when Chromium or ChromeDriver is missing (`.ci/run` installs both).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::helpers::Backend;
use crate::lever_world::{app_for, LeverAccount, TAG, TRIGGER};

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// ChromeDriver on a free port, and a WebDriver session with headless Chromium.
async fn browser() -> Option<(Driver, Client)> {
    let (chromium, chromedriver) = ("/usr/bin/chromium", "/usr/bin/chromedriver");
    if !std::path::Path::new(chromium).exists() || !std::path::Path::new(chromedriver).exists() {
        crate::helpers::skip_unless_ci(&format!("the browser test: {chromium} or {chromedriver} is missing (apt-get install -y chromium chromium-driver)."));
        return None;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let driver = Driver(
        Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    let profile = tempfile::tempdir().unwrap().keep();
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                     "--window-size=1280,1000", format!("--user-data-dir={}", profile.display())]
        }),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => return Some((driver, client)),
            Err(e) if Instant::now() > deadline => panic!("ChromeDriver did not answer: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

async fn text_of(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

async fn fill(client: &Client, css: &str, value: &str) {
    let field = client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    field.clear().await.unwrap();
    field.send_keys(value).await.unwrap();
}

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Waits (bounded) until the element at `css` reads exactly `expected`.
async fn wait_for_element_text(client: &Client, css: &str, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(element) = client.find(Locator::Css(css)).await {
            if element.text().await.is_ok_and(|t| t == expected) {
                return;
            }
        }
        assert!(Instant::now() < deadline, "{css} never read “{expected}”");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits (bounded) until the element at `css` reads `prefix` and then anything.
async fn wait_for_element_text_prefix(client: &Client, css: &str, prefix: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(element) = client.find(Locator::Css(css)).await {
            if element.text().await.is_ok_and(|t| t.starts_with(prefix)) {
                return;
            }
        }
        assert!(Instant::now() < deadline, "{css} never began “{prefix}”");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits (bounded) until the page shows `needle`, across a navigation a click started.
async fn wait_for_text(client: &Client, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = match client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains(needle) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "the page never showed “{needle}”: {text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sets_up_the_integration_and_a_recruiter_moves_a_candidate_in_a_browser() {
    let Some((_driver, client)) = browser().await else {
        return;
    };
    let lever = LeverAccount::new().await;
    let app = app_for(&lever, Backend::Sqlite).await;

    // Signing in: an anonymous visit lands on the login form, which brings the admin back.
    client.goto(&app.url("/orgs/acme")).await.unwrap();
    assert!(client
        .current_url()
        .await
        .unwrap()
        .path()
        .starts_with("/login"));
    fill(&client, "#email", "admin@acme.test").await;
    fill(&client, "#password", crate::helpers::PASSWORD).await;
    click(&client, "button[type=submit]").await;
    wait_for_text(&client, "Integration set-up").await;
    assert_eq!(client.current_url().await.unwrap().path(), "/orgs/acme");

    // Connection: paste the key, connect.
    click(&client, "nav.sidenav a[href='/orgs/acme/connection']").await;
    wait_for_text(&client, "Lever API key").await;
    fill(&client, "#api_key", &lever.key).await;
    click(&client, "input[name=environment][value=production]").await;
    click(
        &client,
        "form[action='/orgs/acme/connection'] button[type=submit]",
    )
    .await;
    wait_for_text(&client, "every permission present").await;

    // Settings: choose the default Lever user, everything else at its default.
    click(&client, "nav.sidenav a[href='/orgs/acme/settings']").await;
    wait_for_text(&client, "Progress-tag prefix").await;
    client
        .find(Locator::Css("#default_user_id"))
        .await
        .unwrap()
        .select_by_value(&lever.default_user)
        .await
        .unwrap();
    click(&client, "form.settings-form button[type=submit]").await;
    wait_for_text(&client, "Integration Bot is now the default Lever user").await;

    // Webhooks: copy the URL into Lever, paste Lever's signature token back.
    click(&client, "nav.sidenav a[href='/orgs/acme/webhooks']").await;
    wait_for_text(&client, "Webhook URL").await;
    let url = client
        .find(Locator::Css(".copy-field"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    let token = lever.set_webhook("candidateStageChange", &url).await;
    fill(&client, "#token_candidateStageChange", &token).await;
    click(
        &client,
        "form[action='/orgs/acme/webhooks/tokens'] button[type=submit]",
    )
    .await;
    wait_for_text(&client, "Signature token saved for Candidate Stage Change.").await;

    // Questions: the library starts empty; add the take-home question.
    click(&client, "nav.sidenav a[href='/orgs/acme/questions']").await;
    wait_for_text(&client, "No questions yet.").await;
    click(&client, ".page-header a.btn-primary").await;
    wait_for_text(&client, "Starter code").await;
    fill(&client, "#title", "Rate limiter").await;
    fill(&client, "#prompt", "Write a token bucket.").await;
    click(&client, "form.form button[type=submit]").await;
    wait_for_text(&client, "Question added to the library.").await;

    // Configurations: add a take-home test on the trigger stage for the tag.
    click(&client, "nav.sidenav a[href='/orgs/acme/configurations']").await;
    wait_for_text(&client, "Lever stages").await;
    click(&client, ".page-header a.btn-primary").await;
    wait_for_text(&client, "Tag name").await;
    client
        .find(Locator::Css("#trigger_stage_id"))
        .await
        .unwrap()
        .select_by_value(&lever.stage(TRIGGER))
        .await
        .unwrap();
    click(&client, "input[name=pad_kind][value=take_home]").await;
    fill(&client, "#tag_name", TAG).await;
    click(&client, "form.form button[type=submit]").await;
    wait_for_text(&client, "A take-home test needs a question").await;
    assert_eq!(
        client
            .find(Locator::Css("#tag_name"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some(TAG)
    );
    client
        .find(Locator::Css("#question_id"))
        .await
        .unwrap()
        .select_by_label("Rate limiter")
        .await
        .unwrap();
    click(&client, "form.form button[type=submit]").await;
    wait_for_text(&client, "Configuration created.").await;

    // A recruiter moves a tagged candidate on the simulator's Lever page.
    let ada = lever.candidate("Ada Lovelace", &[TAG]).await;
    client
        .goto(&format!(
            "{}/_sim/accounts/{}",
            lever.sim.base_url(),
            lever.id
        ))
        .await
        .unwrap();
    click(
        &client,
        &format!("#opp-{ada} button[value='{}']", lever.stage(TRIGGER)),
    )
    .await;
    wait_for_element_text(&client, &format!("#opp-{ada} td.stage"), TRIGGER).await;
    assert_eq!(app.drain().await, 1);
    client.refresh().await.unwrap();
    let links = text_of(&client, &format!("#opp-{ada} td.links")).await;
    assert!(
        links.contains("/a/"),
        "the assessment link shows on Lever's page: {links}"
    );

    // The candidate follows the link; the admin sees why on Events.
    click(&client, &format!("#opp-{ada} td.links a[href*='/a/']")).await;
    let text = wait_for_text(&client, "Start the test").await;
    assert!(text.contains("take-home coding test") && text.contains("Rate limiter"));
    // Started, the question shows beside the editor (CodeMirror, built into static/editor.js).
    click(&client, "form.candidate-start button").await;
    wait_for_text(&client, "Write a token bucket.").await;
    client
        .wait()
        .for_element(Locator::Css(
            "#pad-form.pad-enhanced .cm-editor .cm-content",
        ))
        .await
        .expect("the code editor replaces the plain textarea");
    // Typing is saved within seconds (JSON autosave), with the page saying so.
    client
        .find(Locator::Css(".cm-content"))
        .await
        .unwrap()
        .send_keys("print(42)")
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let saved = app
            .db
            .run(|conn| {
                use diesel::prelude::*;
                use leverbridge::db::schema::snapshots;
                snapshots::table
                    .select(snapshots::code)
                    .load::<String>(conn)
                    .map_err(leverbridge::db::DbError::from)
            })
            .await
            .unwrap();
        if saved.iter().any(|code| code.contains("print(42)")) {
            break;
        }
        assert!(Instant::now() < deadline, "never autosaved: {saved:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_for_element_text_prefix(&client, "#pad-status", "Saved ").await;
    client.goto(&app.url("/orgs/acme/events")).await.unwrap();
    wait_for_text(&client, "Configuration “coding-test” fired").await;
    client.close().await.unwrap();
}
