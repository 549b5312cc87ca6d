//! A simulated Lever account for integration tests, driven only over the simulator's HTTP
//! control API, and an organization connected to it through leverbridge's real pages.

use std::time::Duration;

use leverbridge::config::{LeverHosts, Settings};
use leverbridge::domain::org_settings;
use leverbridge::lever_sim::{spawn_sim, RateLimit, SimConfig, SimHandle};
use serde_json::{json, Value};

use crate::helpers::{location, spawn_app_configured, spawn_app_with, Backend, Browser, TestApp};

/// The rate limit of the tests' simulated Lever and of leverbridge's client in the tests (see
/// `helpers::test_settings`): fast enough that no test waits for it. `connected_at_levers_pace`
/// keeps Lever's real limit on both sides.
pub const TEST_RATE: RateLimit = RateLimit {
    per_second: 1000.0,
    burst: 2000.0,
};

pub const TAG: &str = "coding-test";
pub const TRIGGER: &str = "Phone interview";

pub struct LeverAccount {
    pub sim: SimHandle,
    pub http: reqwest::Client,
    pub id: String,
    pub key: String,
    pub default_user: String,
    pub stages: Vec<(String, String)>,
}

impl LeverAccount {
    /// An account with a few users (one deactivated), Lever's pipeline and an all-permission key,
    /// at a rate limit tests need not wait for (`TEST_RATE`).
    pub async fn new() -> LeverAccount {
        LeverAccount::with_rate(TEST_RATE).await
    }

    /// The same account, its keys limited to `rate` (`RateLimit::LEVER` for Lever's own pace).
    pub async fn with_rate(rate: RateLimit) -> LeverAccount {
        let sim = spawn_sim(SimConfig {
            retry_base: Duration::from_millis(20),
            rate_limit: rate,
            ..Default::default()
        })
        .await
        .expect("simulator starts");
        // An idle pooled connection is dropped before the simulator's 5 s keep-alive ends: a
        // request sent on one the server is closing fails with IncompleteMessage (seen once in
        // CI after a test waited out a lease).
        let http = reqwest::Client::builder()
            .pool_idle_timeout(std::time::Duration::from_secs(2))
            .build()
            .expect("an HTTP client");
        let base = format!("{}/_sim/api", sim.base_url());
        let id = post(
            &http,
            &format!("{base}/accounts"),
            json!({"name": "Initech"}),
        )
        .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let account = format!("{base}/accounts/{id}");
        let key = post(
            &http,
            &format!("{account}/keys"),
            json!({"permissions": null}),
        )
        .await["key"]
            .as_str()
            .unwrap()
            .to_owned();
        let default_user = post(&http, &format!("{account}/users"), json!({"name": "Integration Bot", "email": "bot@initech.example", "accessRole": "admin"}))
            .await["id"].as_str().unwrap().to_owned();
        post(&http, &format!("{account}/users"), json!({"name": "Rita Recruiter", "email": "rita@initech.example", "accessRole": "team member"})).await;
        post(&http, &format!("{account}/users"), json!({"name": "Gone Person", "email": "gone@initech.example", "accessRole": "interviewer", "deactivated": true})).await;
        let mut stages = Vec::new();
        for (stage_id, text) in [
            (Some("lead-new"), "New lead"),
            (None, "Recruiter screen"),
            (None, TRIGGER),
            (None, "On-site interview"),
        ] {
            let mut body = json!({"text": text});
            if let Some(stage_id) = stage_id {
                body["id"] = json!(stage_id);
            }
            let created = post(&http, &format!("{account}/stages"), body).await["id"]
                .as_str()
                .unwrap()
                .to_owned();
            stages.push((created, text.to_owned()));
        }
        LeverAccount {
            sim,
            http,
            id,
            key,
            default_user,
            stages,
        }
    }

    pub fn control(&self, path: &str) -> String {
        format!(
            "{}/_sim/api/accounts/{}{}",
            self.sim.base_url(),
            self.id,
            path
        )
    }

    pub fn stage(&self, text: &str) -> String {
        self.stages
            .iter()
            .find(|(_, t)| t == text)
            .map(|(id, _)| id.clone())
            .expect("stage exists")
    }

    pub async fn candidate(&self, name: &str, tags: &[&str]) -> String {
        let body = json!({"name": name, "email": format!("{}@example.com", name.to_lowercase().replace(' ', ".")), "tags": tags, "stageId": self.stage("New lead")});
        post(&self.http, &self.control("/candidates"), body).await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Moves a candidate as a recruiter would; answers after Lever's first delivery attempt.
    pub async fn move_to(&self, opportunity: &str, stage_text: &str) -> Value {
        post(
            &self.http,
            &self.control(&format!("/opportunities/{opportunity}/stage")),
            json!({"stageId": self.stage(stage_text)}),
        )
        .await
    }

    /// Everything Lever holds for an opportunity: tags, links, notes, files, feedback.
    pub async fn opportunity(&self, opportunity: &str) -> Value {
        let response = self
            .http
            .get(self.control(&format!("/opportunities/{opportunity}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Points an event's webhook at `url` as a Super Admin would; returns its signature token.
    pub async fn set_webhook(&self, event: &str, url: &str) -> String {
        let response = self
            .http
            .put(self.control(&format!("/webhooks/{event}")))
            .json(&json!({"url": url}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json::<Value>().await.unwrap()["signatureToken"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn verify(&self, event: &str) -> Value {
        post(
            &self.http,
            &self.control(&format!("/webhooks/{event}/verify")),
            json!({}),
        )
        .await
    }

    /// The writes Lever accepted for an opportunity, oldest first, as "METHOD last-segment"
    /// ("POST addLinks", "POST notes", …).
    pub async fn writes_to(&self, opportunity: &str) -> Vec<String> {
        self.requests()
            .await
            .iter()
            .filter(|r| r["method"] != "GET")
            .filter(|r| r["status"].as_u64().is_some_and(|s| s < 300))
            .filter_map(|r| call_about(r, opportunity))
            .collect()
    }

    /// Every call Lever received about `opportunity` since its request log held `since`
    /// entries, whatever its answer, as `METHOD last-path-segment`.
    pub async fn calls_about(&self, opportunity: &str, since: usize) -> Vec<String> {
        self.requests().await[since..]
            .iter()
            .filter_map(|r| call_about(r, opportunity))
            .collect()
    }

    /// Polls until every one of `opportunities` shows one link in Lever (about 100 ms apart,
    /// `tries` times); whether they all do.
    pub async fn wait_for_links(&self, opportunities: &[String], tries: usize) -> bool {
        for _ in 0..tries {
            let mut all = true;
            for id in opportunities {
                all &= self.opportunity(id).await["links"]
                    .as_array()
                    .is_some_and(|l| l.len() == 1);
            }
            if all {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    /// Every API request Lever received, oldest first (method, path, query, status, …).
    pub async fn requests(&self) -> Vec<Value> {
        let response = self
            .http
            .get(self.control("/requests"))
            .send()
            .await
            .unwrap();
        response.json::<Vec<Value>>().await.unwrap()
    }

    pub async fn deliveries(&self) -> Vec<Value> {
        let response = self
            .http
            .get(self.control("/deliveries"))
            .send()
            .await
            .unwrap();
        response
            .json::<Value>()
            .await
            .unwrap()
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub async fn set_faults(&self, faults: Value) {
        let response = self
            .http
            .put(self.control("/faults"))
            .json(&faults)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    pub async fn new_key(&self) -> String {
        post(
            &self.http,
            &self.control("/keys"),
            json!({"permissions": null}),
        )
        .await["key"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

/// How many of `writes` (see `LeverAccount::writes_to`) are `which`.
pub fn count(writes: &[String], which: &str) -> usize {
    writes.iter().filter(|w| *w == which).count()
}

/// A request of the simulator's log as `METHOD last-path-segment`, if its path names
/// `opportunity`.
fn call_about(request: &Value, opportunity: &str) -> Option<String> {
    let path = request["path"].as_str()?;
    path.contains(opportunity).then(|| {
        format!(
            "{} {}",
            request["method"].as_str().unwrap_or_default(),
            path.rsplit('/').next().unwrap_or_default()
        )
    })
}

pub async fn post(http: &reqwest::Client, url: &str, body: Value) -> Value {
    let response = http.post(url).json(&body).send().await.unwrap();
    let status = response.status();
    let value: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "POST {url} → {status}: {value}");
    value
}

/// The value of the read-only copy field on the Webhooks page.
pub fn webhook_url_in(html: &str) -> String {
    let marker = "class=\"copy-field\" type=\"text\" readonly value=\"";
    let start = html.find(marker).expect("webhook URL shown") + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

/// leverbridge pointed at this simulated Lever, with an organization `acme` and its admin
/// (not signed in).
pub async fn app_for(lever: &LeverAccount, backend: Backend) -> TestApp {
    let app = spawn_app_with(backend, hosts_for(lever)).await;
    app.create_user("admin@acme.test", Some("acme"), "admin")
        .await;
    app
}

/// Where leverbridge reaches this simulated Lever.
pub fn hosts_for(lever: &LeverAccount) -> LeverHosts {
    LeverHosts {
        api_url: Some(format!("{}/v1", lever.sim.base_url())),
        auth_url: None,
    }
}

/// leverbridge (admin signed in) and a Lever account, connected through the real pages: key
/// tested, default user chosen, stage-change webhook pointed at the organization with its token
/// pasted, and a take-home configuration on the trigger stage for `TAG` asking the library
/// question “Rate limiter” (prompt “Write a token bucket.”).
pub async fn connected(backend: Backend) -> (TestApp, LeverAccount) {
    connected_with(backend, |_| {}).await
}

/// `connected`, with Lever's real rate limit (10/s, bursts of 20) in the simulator and
/// leverbridge's client at its production pace (a tenth under it), as production runs.
pub async fn connected_at_levers_pace(backend: Backend) -> (TestApp, LeverAccount) {
    connected_at_levers_pace_with(backend, |_| {}).await
}

/// `connected_at_levers_pace`, with test settings changed by `configure`.
pub async fn connected_at_levers_pace_with(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> (TestApp, LeverAccount) {
    let lever = LeverAccount::with_rate(RateLimit::LEVER).await;
    connected_to(lever, backend, |settings| {
        let production = leverbridge::config::Tuning::default();
        settings.tuning.lever_rate_per_sec = production.lever_rate_per_sec;
        settings.tuning.lever_burst = production.lever_burst;
        configure(settings);
    })
    .await
}

/// `connected`, with test settings changed by `configure`.
pub async fn connected_with(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> (TestApp, LeverAccount) {
    connected_to(LeverAccount::new().await, backend, configure).await
}

async fn connected_to(
    lever: LeverAccount,
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> (TestApp, LeverAccount) {
    let hosts = hosts_for(&lever);
    let app = spawn_app_configured(backend, |settings| {
        settings.lever = hosts;
        configure(settings);
    })
    .await;
    app.create_user("admin@acme.test", Some("acme"), "admin")
        .await;
    connect(&app, &lever).await;
    (app, lever)
}

/// Signs in the admin `admin@acme.test` (already created) and connects the organization `acme`
/// to `lever` as `connected` describes.
pub async fn connect(app: &TestApp, lever: &LeverAccount) {
    app.login("admin@acme.test").await;

    let response = app
        .post_form(
            "/orgs/acme/connection",
            "/orgs/acme/connection",
            &[("api_key", &lever.key), ("environment", "production")],
        )
        .await;
    assert_eq!(response.status(), 303, "the key is accepted");
    let page = app.get_html("/orgs/acme/connection").await;
    assert!(page.contains("Connected"), "{page}");
    let settings = app.get_html("/orgs/acme/settings").await;
    assert!(settings.contains("Integration Bot"), "{settings}");
    let response = save_settings(app, &[("default_user_id", &lever.default_user)]).await;
    assert_eq!(response.status(), 303);

    let url = webhook_url_in(&app.get_html("/orgs/acme/webhooks").await);
    let token = lever.set_webhook("candidateStageChange", &url).await;
    let response = app
        .post_form(
            "/orgs/acme/webhooks",
            "/orgs/acme/webhooks/tokens",
            &[("token_candidateStageChange", &token)],
        )
        .await;
    assert_eq!(response.status(), 303);

    add_take_home_configuration(app, lever).await;
}

/// The library question “Rate limiter” and a take-home configuration asking it on the trigger
/// stage for `TAG` (the admin of `acme` signed in).
pub async fn add_take_home_configuration(app: &Browser, lever: &LeverAccount) {
    let question = add_question(app, "Rate limiter", "Write a token bucket.").await;
    let trigger = lever.stage(TRIGGER);
    let response = add_configuration(
        app,
        &[
            ("trigger_stage_id", &trigger),
            ("pad_kind", "take_home"),
            ("question_id", &question),
            ("tag_name", TAG),
        ],
    )
    .await;
    assert_eq!(response.status(), 303, "configuration saved");
}

/// The Add configuration form as a browser first sends it (tagged candidates at a trigger stage,
/// a live interview, a question from the library; no stage, tag or question chosen, every text
/// empty), with `changes` applied.
pub fn configuration_form<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("trigger_style", "tag"),
        ("trigger_stage_id", ""),
        ("stage_prefix", ""),
        ("tag_name", ""),
        ("pad_kind", "live"),
        ("question_source", "library"),
        ("question_id", ""),
        ("question_tag_prefix", ""),
    ];
    apply(&mut fields, changes);
    fields
}

/// A form's `fields` with `changes` applied: a changed field moves to the end with its new value,
/// a new one is added.
fn apply<'a>(fields: &mut Vec<(&'a str, &'a str)>, changes: &[(&'a str, &'a str)]) {
    for (name, value) in changes {
        fields.retain(|(n, _)| n != name);
        fields.push((name, value));
    }
}

/// Submits `acme`'s Add configuration form: the defaults with `changes` applied (see
/// `configuration_form`).
pub async fn add_configuration(app: &Browser, changes: &[(&str, &str)]) -> reqwest::Response {
    app.post_form(
        "/orgs/acme/configurations/new",
        "/orgs/acme/configurations/new",
        &configuration_form(changes),
    )
    .await
}

/// The Settings form at its defaults as a browser sends it (ticked boxes only, no default Lever
/// user), with `changes` applied: a checkbox set to "" is left out, as an unticked one is.
pub fn settings_form<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("notify_followers", "on"),
        ("write_link", "on"),
        ("write_progress_tags", "on"),
        ("write_note", "on"),
        ("write_feedback", "on"),
        ("write_report", "on"),
        ("progress_tag_prefix", "leverbridge"),
        ("time_limit_minutes", "120"),
        ("days_to_start", "7"),
        ("pass_mark", "70"),
        ("pass_stage_id", ""),
        (
            "email_subject",
            template_default(&org_settings::EMAIL_SUBJECT),
        ),
        ("email_body", template_default(&org_settings::EMAIL_BODY)),
        (
            "withdrawn_subject",
            template_default(&org_settings::WITHDRAWN_SUBJECT),
        ),
        (
            "withdrawn_body",
            template_default(&org_settings::WITHDRAWN_BODY),
        ),
        ("start_reminder_hours", "0"),
        ("deadline_reminder_minutes", "0"),
        ("smtp_host", ""),
        ("smtp_port", "587"),
        ("smtp_tls", "starttls"),
        ("smtp_username", ""),
        ("smtp_password", ""),
        ("smtp_from", ""),
    ];
    apply(&mut fields, changes);
    let checkbox = |name: &str| {
        name == "notify_followers" || name == "email_enabled" || name.starts_with("write_")
    };
    fields.retain(|(name, value)| !(checkbox(name) && value.is_empty()));
    fields
}

/// The default text of a template setting, as the Settings form first shows it.
pub fn template_default(setting: &org_settings::Setting) -> &'static str {
    match setting.kind {
        org_settings::Kind::Template { default, .. } => default,
        other => panic!("{} is not a template: {other:?}", setting.name),
    }
}

/// Submits `acme`'s Settings form: the defaults with `changes` applied (see `settings_form`).
pub async fn save_settings(app: &Browser, changes: &[(&str, &str)]) -> reqwest::Response {
    app.post_form(
        "/orgs/acme/settings",
        "/orgs/acme/settings",
        &settings_form(changes),
    )
    .await
}

/// Adds a Python question to `acme`'s library through the Questions page; returns its id.
pub async fn add_question(app: &Browser, title: &str, prompt: &str) -> String {
    let response = app
        .post_form(
            "/orgs/acme/questions/new",
            "/orgs/acme/questions/new",
            &[
                ("title", title),
                ("prompt", prompt),
                ("language", "python"),
                ("starter_code", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), 303, "question added");
    let to = location(&response);
    to.rsplit('/').next().unwrap().to_owned()
}
