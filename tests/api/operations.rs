//! Operating leverbridge: `GET /metrics` (what it counts, and who may read it), and the favicon.
//!
//! The metrics recorder is global to the test process, so figures are compared before and
//! after, never to absolute values: other tests count into the same counters meanwhile.

use leverbridge::config::MetricsToken;
use serde_json::{json, Value};

use crate::both_backends;
use crate::database::Backend;
use crate::helpers::{spawn_app, spawn_app_configured, Browser, TestApp};
use crate::lever_world::{connected, LeverAccount, TAG, TRIGGER};

both_backends!(
    metrics_count_deliveries_jobs_and_lever_calls_by_name_never_by_id,
    metrics_answer_loopback_and_a_presented_token_is_checked,
    metrics_refuse_a_proxied_request_without_the_token,
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
async fn scrape(app: &Browser) -> String {
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
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
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
