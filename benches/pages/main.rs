//! Dashboard pages at scale: with 100k webhook deliveries and 100k finished jobs (and the 20k
//! assessments, 80k Lever calls and 20k emails a fifth of them caused), each page of the
//! organization answered in under 10 ms at the 99th percentile, on SQLite and PostgreSQL.
//!
//! `cargo bench --bench pages` seeds a fresh database per backend straight through diesel, starts
//! the real application over it (without job workers), signs in through the login form and
//! requests each page one after another, printing each page's p50 and p99 as a Markdown table.
//! PostgreSQL runs when `LEVERBRIDGE_TEST_POSTGRES` is set (e.g.
//! postgres://postgres@127.0.0.1:5432/test), in a fresh database it creates and drops.
//! `LEVERBRIDGE_BENCH_REQUESTS` changes the requests per page (200). Run without `--bench` (as
//! `cargo test --benches` does), it only takes a short smoke run over a small history.

#[path = "../../tests/support/database.rs"]
mod database;
mod seed;

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use leverbridge::commands::create_user::{create_user, NewUser};
use leverbridge::config::{DatabaseUrl, LeverHosts, Settings, Tuning};
use leverbridge::crypto::SecretKey;
use leverbridge::db::keyset::Cursor;
use leverbridge::startup::Application;

use database::{Backend, FreshDatabase};
use seed::{seed, Seeded, Size};

pub const EVENT: &str = "candidateStageChange";
const ORG: &str = "bench";
const EMAIL: &str = "admin@bench.test";
const PASSWORD: &str = "bench-password-long-enough";
/// The slowest 99th percentile a page may have, in milliseconds.
const TARGET_P99_MS: f64 = 10.0;
/// Events per page on the Events page.
const EVENTS_PER_PAGE: usize = 25;

#[derive(Clone, Copy)]
struct Plan {
    size: Size,
    requests: usize,
    warm_up: usize,
}

impl Plan {
    fn from_env() -> anyhow::Result<Plan> {
        // `cargo bench` passes `--bench`; anything else (`cargo test --benches`) is a smoke run.
        if !std::env::args().any(|arg| arg == "--bench") {
            return Ok(Plan {
                size: Size {
                    deliveries: 2_000,
                    fired_every: 5,
                },
                requests: 5,
                warm_up: 1,
            });
        }
        let requests = match std::env::var("LEVERBRIDGE_BENCH_REQUESTS") {
            Ok(raw) => raw
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .with_context(|| {
                    format!(
                        "LEVERBRIDGE_BENCH_REQUESTS must be a positive whole number, not `{raw}`"
                    )
                })?,
            Err(_) => 200,
        };
        Ok(Plan {
            size: Size {
                deliveries: 100_000,
                fired_every: 5,
            },
            requests,
            warm_up: 20,
        })
    }
}

fn backend_name(backend: &Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres(_) => "PostgreSQL",
    }
}

fn settings(url: DatabaseUrl) -> Settings {
    Settings {
        bind: "127.0.0.1:0".parse().expect("a socket address"),
        database_url: url,
        public_url: url::Url::parse("http://127.0.0.1:0").expect("a URL"),
        secret_key: SecretKey::generate(),
        lever: LeverHosts::default(),
        lever_app: None,
        metrics_token: None,
        workers: leverbridge::config::LaneWorkers::default(),
        tuning: Tuning::default(),
    }
}

/// The pages measured: (name, path under the organization).
fn pages(seeded: &Seeded) -> Vec<(String, String)> {
    // The event just before page 2000's first, as its Older link names it.
    let deep = 1999 * EVENTS_PER_PAGE - 1;
    let (received_at, id) =
        &seeded.events_newest_first[deep.min(seeded.events_newest_first.len() - 1)];
    let deep_cursor = Cursor {
        at: *received_at,
        id: id.clone(),
    };
    let assessment = seeded.assessments_newest_first.len() / 2;
    let (created_at, id) = &seeded.assessments_newest_first[assessment];
    let assessment_cursor = Cursor {
        at: *created_at,
        id: id.clone(),
    };
    vec![
        ("Overview".into(), String::new()),
        ("Events, newest".into(), "/events".into()),
        (
            "Events, 2000 pages back (Older link)".into(),
            format!("/events?older_than={deep_cursor}"),
        ),
        (
            "Events, old-style link `?page=2000`".into(),
            "/events?page=2000".into(),
        ),
        ("Assessments, newest".into(), "/assessments".into()),
        (
            format!("Assessments, {assessment} back (cursor)"),
            format!("/assessments?after={assessment_cursor}"),
        ),
        (
            "Assessments, passed only".into(),
            "/assessments?state=passed".into(),
        ),
        ("Webhooks".into(), "/webhooks".into()),
        ("Configurations".into(), "/configurations".into()),
        ("Questions".into(), "/questions".into()),
        ("Settings".into(), "/settings".into()),
        ("Connection".into(), "/connection".into()),
    ]
    .into_iter()
    .map(|(name, path)| (name, format!("/orgs/{}{path}", seeded.org_slug)))
    .collect()
}

/// One table row.
struct Row {
    backend: &'static str,
    page: String,
    p50_ms: f64,
    p99_ms: f64,
}

fn percentile_ms(sorted: &[Duration], p: usize) -> f64 {
    let i = (sorted.len() * p).div_ceil(100).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

async fn sign_in(client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    let html = client
        .get(format!("{base}/login"))
        .send()
        .await?
        .text()
        .await?;
    let marker = "name=\"csrf_token\" value=\"";
    let start = html
        .find(marker)
        .context("the login page has a CSRF field")?
        + marker.len();
    let token = &html[start..start + html[start..].find('"').context("a closing quote")?];
    let response = client
        .post(format!("{base}/login"))
        .form(&[
            ("csrf_token", token),
            ("email", EMAIL),
            ("password", PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await?;
    if response.status() != 303 {
        bail!("signing in answered {}", response.status());
    }
    Ok(())
}

async fn bench_backend(backend: &Backend, plan: Plan) -> anyhow::Result<Vec<Row>> {
    let name = backend_name(backend);
    let database = FreshDatabase::new(backend, "lb_bench")?;
    let app = Application::build(settings(database.url.clone()))
        .await
        .context("Failed to build the application")?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let db = app.db().clone();
    tokio::spawn(app.run_without_workers());

    let url = database.url.clone();
    let started = Instant::now();
    let seeded = tokio::task::spawn_blocking(move || -> anyhow::Result<Seeded> {
        create_user(
            &url,
            NewUser {
                email: EMAIL.into(),
                org: Some(ORG.into()),
                org_name: Some("Bench Inc".into()),
                role: "admin".into(),
                password: PASSWORD.into(),
            },
        )?;
        let org_id = {
            let mut conn = db.get()?;
            leverbridge::db::orgs::find_by_slug(&mut conn, ORG)?
                .context("the organization was created")?
                .id
        };
        seed(&db, &org_id, ORG, plan.size)
    })
    .await??;
    eprintln!(
        "{name}: seeded {} deliveries with their jobs, {} assessments in {:.1} s",
        seeded.events_newest_first.len(),
        seeded.assessments_newest_first.len(),
        started.elapsed().as_secs_f64()
    );

    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .context("Failed to build the HTTP client")?;
    sign_in(&client, &base).await?;
    let mut rows = Vec::new();
    for (page, path) in pages(&seeded) {
        let url = format!("{base}{path}");
        let mut latencies = Vec::with_capacity(plan.requests);
        for i in 0..plan.warm_up + plan.requests {
            let sent = Instant::now();
            let response = client.get(&url).send().await?;
            let status = response.status();
            response.bytes().await?;
            let took = sent.elapsed();
            if status != 200 {
                bail!("{name}: {path} answered {status}");
            }
            if i >= plan.warm_up {
                latencies.push(took);
            }
        }
        latencies.sort_unstable();
        rows.push(Row {
            backend: name,
            page,
            p50_ms: percentile_ms(&latencies, 50),
            p99_ms: percentile_ms(&latencies, 99),
        });
    }
    drop(database);
    Ok(rows)
}

fn print_table(rows: &[Row], plan: Plan) {
    println!();
    println!("| backend | page | p50 ms | p99 ms | p99 under {TARGET_P99_MS:.0} ms |");
    println!("|---|---|---:|---:|---|");
    for row in rows {
        let met = if row.p99_ms < TARGET_P99_MS {
            "yes"
        } else {
            "no"
        };
        println!(
            "| {} | {} | {:.2} | {:.2} | {met} |",
            row.backend, row.page, row.p50_ms, row.p99_ms
        );
    }
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!();
    println!(
        "{} deliveries with a finished job each (one in {} fired an assessment); {} requests per \
         page one after another after {} to warm up, signed in as an admin; client and server \
         share this {cores}-core machine; server without job workers.",
        plan.size.deliveries, plan.size.fired_every, plan.requests, plan.warm_up
    );
}

fn main() -> anyhow::Result<()> {
    let plan = Plan::from_env()?;
    let mut backends = vec![Backend::Sqlite];
    match std::env::var("LEVERBRIDGE_TEST_POSTGRES") {
        Ok(url) if !url.trim().is_empty() => backends.push(Backend::Postgres(url)),
        _ => eprintln!(
            "\n*** SKIPPED PostgreSQL: LEVERBRIDGE_TEST_POSTGRES is not set \
             (e.g. postgres://postgres@127.0.0.1:5432/test). ***\n"
        ),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("Failed to start the runtime")?;
    runtime.block_on(async {
        let mut rows = Vec::new();
        for backend in &backends {
            rows.extend(bench_backend(backend, plan).await?);
        }
        print_table(&rows, plan);
        Ok(())
    })
}
