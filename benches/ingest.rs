//! Webhook ingestion throughput (issue 4): signed Lever deliveries accepted per second (verified,
//! stored durably with their job, answered 200) on SQLite and PostgreSQL, beside the same server
//! answering the no-op `GET /healthz`. The target is at least half the no-op rate.
//!
//! `cargo bench --bench ingest` prints a Markdown table. PostgreSQL runs when
//! `LEVERBRIDGE_TEST_POSTGRES` is set (e.g. postgres://postgres@127.0.0.1:5432/test), in a fresh
//! database it creates and drops. The server runs without job workers, so only ingestion is
//! measured; the jobs stay queued and are counted at the end against the deliveries accepted.
//! The two loads alternate in one-second rounds, so a neighbour's CPU use skews both alike.
//! Deliveries are signed before each round, so while it runs the load generator only sends
//! requests, as it does for the no-op.
//! `LEVERBRIDGE_BENCH_SECS` and `LEVERBRIDGE_BENCH_CLIENTS` change the measured seconds (5) and
//! the concurrent clients (16). Run without `--bench` (as `cargo test --benches` does), it only
//! takes a short smoke run.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use anyhow::{bail, Context};
use diesel::{Connection, ExpressionMethods, PgConnection, QueryDsl, RunQueryDsl};
use leverbridge::config::{DatabaseUrl, LeverHosts, Settings, Tuning};
use leverbridge::crypto::{random_token, SecretKey};
use leverbridge::db::schema::{jobs, webhook_events};
use leverbridge::db::{self, Db};
use leverbridge::startup::Application;
use leverbridge::web::lever_webhook::token_context;

const EVENT: &str = "candidateStageChange";
const TARGET_RATIO: f64 = 0.5;

/// How long and how hard each load runs.
#[derive(Clone, Copy)]
struct Plan {
    clients: usize,
    warm_up: Duration,
    /// Measured time per load, split into `rounds` alternating slices.
    measure: Duration,
    rounds: u32,
}

impl Plan {
    fn from_env() -> anyhow::Result<Plan> {
        let number = |name: &str, default: u64| -> anyhow::Result<u64> {
            match std::env::var(name) {
                Ok(raw) => raw
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .with_context(|| {
                        format!("{name} must be a positive whole number, not `{raw}`")
                    }),
                Err(_) => Ok(default),
            }
        };
        let clients = number("LEVERBRIDGE_BENCH_CLIENTS", 16)? as usize;
        // `cargo bench` passes `--bench`; anything else (`cargo test --benches`) is a smoke run.
        if !std::env::args().any(|arg| arg == "--bench") {
            return Ok(Plan {
                clients,
                warm_up: Duration::from_millis(100),
                measure: Duration::from_millis(300),
                rounds: 1,
            });
        }
        let seconds = number("LEVERBRIDGE_BENCH_SECS", 5)?;
        Ok(Plan {
            clients,
            warm_up: Duration::from_secs(1),
            measure: Duration::from_secs(seconds),
            rounds: seconds as u32,
        })
    }
}

enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres(_) => "PostgreSQL",
        }
    }
}

/// A fresh database for one backend's run, removed afterwards.
struct BenchDatabase {
    url: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
    pg_cleanup: Option<(String, String)>,
}

impl BenchDatabase {
    fn new(backend: &Backend) -> anyhow::Result<BenchDatabase> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().context("Failed to create a temp dir")?;
                Ok(BenchDatabase {
                    url: DatabaseUrl::Sqlite(dir.path().join("leverbridge.db")),
                    _dir: Some(dir),
                    pg_cleanup: None,
                })
            }
            Backend::Postgres(admin_url) => {
                let name = format!("lb_bench_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::establish(admin_url)
                    .context("Failed to connect to LEVERBRIDGE_TEST_POSTGRES")?;
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .context("Failed to create the bench database")?;
                let mut url =
                    url::Url::parse(admin_url).context("LEVERBRIDGE_TEST_POSTGRES is not a URL")?;
                url.set_path(&name);
                Ok(BenchDatabase {
                    url: DatabaseUrl::Postgres(url.to_string()),
                    _dir: None,
                    pg_cleanup: Some((admin_url.clone(), name)),
                })
            }
        }
    }
}

impl Drop for BenchDatabase {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.pg_cleanup.take() {
            // FORCE: the server (still running, idle) holds pooled connections to it.
            let dropped = PgConnection::establish(&admin_url)
                .map_err(anyhow::Error::from)
                .and_then(|mut admin| {
                    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut admin)
                        .map_err(anyhow::Error::from)
                });
            if let Err(e) = dropped {
                eprintln!("warning: could not drop the bench database {name}: {e}");
            }
        }
    }
}

fn bench_settings(url: DatabaseUrl) -> Settings {
    Settings {
        bind: "127.0.0.1:0".parse().expect("a socket address"),
        database_url: url,
        public_url: url::Url::parse("http://127.0.0.1:0").expect("a URL"),
        secret_key: SecretKey::generate(),
        lever: LeverHosts::default(),
        workers: 1,
        tuning: Tuning::default(),
    }
}

/// The organization deliveries go to: its endpoint key and its stage-change signature token.
struct Receiver {
    org_id: String,
    endpoint_key: String,
    signature_token: String,
}

fn set_up_receiver(db: &Db, secret: &SecretKey) -> anyhow::Result<Receiver> {
    let mut conn = db.get()?;
    let org = db::orgs::find_or_create(&mut conn, "bench", "Bench")?;
    let endpoint_key = db::webhooks::rotate_endpoint_key(&mut conn, &org.id)?;
    let signature_token = random_token(32);
    let sealed = secret.seal(&token_context(&org.id, EVENT), &signature_token);
    let last4 = &signature_token[signature_token.len() - 4..];
    db::webhooks::set_token(&mut conn, &org.id, EVENT, &sealed, last4)?;
    Ok(Receiver {
        org_id: org.id,
        endpoint_key,
        signature_token,
    })
}

/// (webhook events, jobs) stored for the organization.
fn stored_counts(db: &Db, org_id: &str) -> anyhow::Result<(i64, i64)> {
    let mut conn = db.get()?;
    let events = webhook_events::table
        .filter(webhook_events::org_id.eq(org_id))
        .count()
        .get_result::<i64>(&mut *conn)?;
    let jobs = jobs::table
        .filter(jobs::org_id.eq(org_id))
        .count()
        .get_result::<i64>(&mut *conn)?;
    Ok((events, jobs))
}

/// Signed deliveries made before a timed slice, so that during it the load generator does the
/// same per-request work for both loads (one HTTP exchange) and its signing and JSON encoding
/// are not counted against the server.
struct Presigned {
    bodies: Vec<Bytes>,
    next: AtomicUsize,
    /// Requests that found the stock used up and were signed during the slice.
    signed_late: AtomicUsize,
}

impl Presigned {
    fn new(signature_token: &str, count: usize) -> Presigned {
        Presigned {
            bodies: (0..count).map(|_| delivery(signature_token)).collect(),
            next: AtomicUsize::new(0),
            signed_late: AtomicUsize::new(0),
        }
    }

    fn take(&self, signature_token: &str) -> Bytes {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        match self.bodies.get(i) {
            Some(body) => body.clone(),
            None => {
                self.signed_late.fetch_add(1, Ordering::Relaxed);
                delivery(signature_token)
            }
        }
    }
}

/// A fresh stage-change delivery (its own token and opportunity), signed as Lever signs.
fn delivery(signature_token: &str) -> Bytes {
    let token = random_token(48);
    let triggered_at = chrono::Utc::now().timestamp_millis();
    let body = serde_json::json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "triggeredAt": triggered_at,
        "event": EVENT,
        "data": {
            "opportunityId": uuid::Uuid::new_v4().to_string(),
            "toStageId": "stage-assessment",
            "fromStageId": "stage-phone-screen",
        },
        "signature": leverbridge::lever::sign(signature_token.as_bytes(), &token, triggered_at),
        "token": token,
    });
    serde_json::to_vec(&body).expect("serialisable").into()
}

/// What the load sends: signed deliveries, or the no-op health check.
#[derive(Clone)]
enum Target {
    Webhook {
        url: String,
        signature_token: String,
        stock: Arc<Presigned>,
    },
    Noop {
        url: String,
    },
}

impl Target {
    /// The same target with `count` freshly signed deliveries in stock (none for the no-op).
    fn stocked(&self, count: usize) -> Target {
        match self {
            Target::Webhook {
                url,
                signature_token,
                ..
            } => Target::Webhook {
                url: url.clone(),
                signature_token: signature_token.clone(),
                stock: Arc::new(Presigned::new(signature_token, count)),
            },
            Target::Noop { .. } => self.clone(),
        }
    }

    fn signed_late(&self) -> usize {
        match self {
            Target::Webhook { stock, .. } => stock.signed_late.load(Ordering::Relaxed),
            Target::Noop { .. } => 0,
        }
    }

    /// One request; `Err` says why it does not count as answered.
    async fn send(&self, client: &reqwest::Client) -> Result<(), String> {
        let response = match self {
            Target::Webhook {
                url,
                signature_token,
                stock,
            } => {
                client
                    .post(url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(stock.take(signature_token))
                    .send()
                    .await
            }
            Target::Noop { url } => client.get(url).send().await,
        }
        .map_err(|e| format!("request failed: {e}"))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| format!("answer unreadable: {e}"))?;
        if status != reqwest::StatusCode::OK {
            return Err(format!("{status}: {}", String::from_utf8_lossy(&body)));
        }
        if matches!(self, Target::Webhook { .. }) && &body[..] != br#"{"status":"accepted"}"# {
            return Err(format!(
                "200 but not accepted: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        Ok(())
    }
}

/// What one load run saw.
#[derive(Default)]
struct Tally {
    /// 200s over the whole run, warm-up included (what the database must hold).
    answered: u64,
    /// 200s to requests started inside a measured window.
    measured: u64,
    /// Latencies of those.
    latencies: Vec<Duration>,
    failures: u64,
    first_failure: Option<String>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.answered += other.answered;
        self.measured += other.measured;
        self.latencies.extend(other.latencies);
        self.failures += other.failures;
        if self.first_failure.is_none() {
            self.first_failure = other.first_failure;
        }
    }

    fn percentile_ms(&self, p: usize) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = (self.latencies.len() * p / 100).min(self.latencies.len() - 1);
        self.latencies[i].as_secs_f64() * 1000.0
    }
}

/// `clients` tasks sending back to back: `warm_up` (not measured), then `measure`.
async fn run_load(
    client: &reqwest::Client,
    target: &Target,
    clients: usize,
    warm_up: Duration,
    measure: Duration,
) -> anyhow::Result<Tally> {
    let measure_from = Instant::now() + warm_up;
    let end = measure_from + measure;
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let client = client.clone();
            let target = target.clone();
            tokio::spawn(async move {
                let mut tally = Tally::default();
                loop {
                    let sent = Instant::now();
                    if sent >= end {
                        break;
                    }
                    let result = target.send(&client).await;
                    let took = sent.elapsed();
                    match result {
                        Ok(()) => {
                            tally.answered += 1;
                            if sent >= measure_from {
                                tally.measured += 1;
                                tally.latencies.push(took);
                            }
                        }
                        Err(why) => {
                            tally.failures += 1;
                            tally.first_failure.get_or_insert(why);
                            if tally.failures > 50 && tally.failures > tally.answered {
                                break; // mostly failing: no point in hammering on
                            }
                        }
                    }
                }
                tally
            })
        })
        .collect();
    let mut total = Tally::default();
    for task in tasks {
        total.merge(task.await.context("a load task panicked")?);
    }
    if total.failures > total.answered {
        bail!(
            "most requests failed ({} of {}); first: {}",
            total.failures,
            total.failures + total.answered,
            total.first_failure.as_deref().unwrap_or("?")
        );
    }
    Ok(total)
}

/// `target` with `count` deliveries signed, off the runtime's threads.
async fn stock(target: &Target, count: usize) -> anyhow::Result<Target> {
    let target = target.clone();
    Ok(tokio::task::spawn_blocking(move || target.stocked(count.max(1000))).await?)
}

/// One table row.
struct Row {
    backend: &'static str,
    accepted_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    noop_per_sec: f64,
    failures: u64,
}

impl Row {
    fn ratio(&self) -> f64 {
        self.accepted_per_sec / self.noop_per_sec
    }
}

async fn bench_backend(
    backend: &Backend,
    client: &reqwest::Client,
    plan: Plan,
) -> anyhow::Result<Row> {
    let database = BenchDatabase::new(backend)?;
    let settings = bench_settings(database.url.clone());
    let secret = settings.secret_key.clone();
    let app = Application::build(settings)
        .await
        .context("Failed to build the application")?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let db = app.db().clone();
    tokio::spawn(app.run_without_workers());

    let receiver = {
        let db = db.clone();
        tokio::task::spawn_blocking(move || set_up_receiver(&db, &secret)).await??
    };
    let webhook = Target::Webhook {
        url: format!("{base}/webhooks/lever/{}", receiver.endpoint_key),
        signature_token: receiver.signature_token,
        stock: Arc::new(Presigned::new("", 0)),
    };
    let noop = Target::Noop {
        url: format!("{base}/healthz"),
    };

    eprintln!(
        "{}: signed deliveries and no-op requests, alternating…",
        backend.name()
    );
    let none = Duration::ZERO;
    let slice = plan.measure / plan.rounds;
    // Deliveries are signed ahead of each load for half again the rate last seen (at first, a
    // rate above what this machine answers even for the no-op).
    let mut rate = 60_000.0;
    let mut signed_late = 0;
    let stocked = plan.warm_up.as_secs_f64() * rate * 1.5;
    let target = stock(&webhook, stocked as usize).await?;
    let mut ingest = run_load(client, &target, plan.clients, plan.warm_up, none).await?;
    signed_late += target.signed_late();
    rate = ingest.answered as f64 / plan.warm_up.as_secs_f64();
    let mut baseline = run_load(client, &noop, plan.clients, plan.warm_up / 2, none).await?;
    for _ in 0..plan.rounds {
        let target = stock(&webhook, (slice.as_secs_f64() * rate * 1.5) as usize).await?;
        let round = run_load(client, &target, plan.clients, none, slice).await?;
        signed_late += target.signed_late();
        rate = rate.max(round.answered as f64 / slice.as_secs_f64());
        ingest.merge(round);
        baseline.merge(run_load(client, &noop, plan.clients, none, slice).await?);
    }
    if signed_late > 0 {
        eprintln!(
            "warning: {}: {signed_late} deliveries were signed during a timed slice (the stock \
             ran out), which slows the load generator",
            backend.name()
        );
    }
    ingest.latencies.sort_unstable();

    let (events, jobs) = {
        let db = db.clone();
        let org_id = receiver.org_id.clone();
        tokio::task::spawn_blocking(move || stored_counts(&db, &org_id)).await??
    };
    let answered = ingest.answered as i64;
    if events != answered || jobs != answered {
        let message = format!(
            "{}: {answered} deliveries were answered 200 but {events} webhook events and {jobs} \
             jobs are stored",
            backend.name()
        );
        // A delivery that failed on the client's side may still have been stored.
        if ingest.failures == 0 {
            bail!(message);
        }
        eprintln!("warning: {message} ({} requests failed)", ingest.failures);
    } else {
        eprintln!(
            "{}: stored {events} webhook events and {jobs} jobs, one per accepted delivery",
            backend.name()
        );
    }
    for (what, tally) in [("deliveries", &ingest), ("no-op requests", &baseline)] {
        if tally.failures > 0 {
            eprintln!(
                "warning: {}: {} {what} failed; first: {}",
                backend.name(),
                tally.failures,
                tally.first_failure.as_deref().unwrap_or("?")
            );
        }
    }
    drop(db);
    drop(database);
    let seconds = (slice * plan.rounds).as_secs_f64();
    Ok(Row {
        backend: backend.name(),
        accepted_per_sec: ingest.measured as f64 / seconds,
        p50_ms: ingest.percentile_ms(50),
        p99_ms: ingest.percentile_ms(99),
        noop_per_sec: baseline.measured as f64 / seconds,
        failures: ingest.failures + baseline.failures,
    })
}

fn print_table(rows: &[Row], plan: Plan) {
    println!();
    println!(
        "| backend | accepted deliveries/s | p50 ms | p99 ms | no-op req/s | ratio | target met (≥ {TARGET_RATIO}) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---|");
    for row in rows {
        let met = if row.ratio() >= TARGET_RATIO {
            "yes"
        } else {
            "no"
        };
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.0} | {:.2} | {met} |",
            row.backend,
            row.accepted_per_sec,
            row.p50_ms,
            row.p99_ms,
            row.noop_per_sec,
            row.ratio()
        );
    }
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!();
    println!(
        "{} concurrent clients over keep-alive HTTP/1.1; {:.1} s measured per load in {} \
         alternating rounds after a warm-up; client and server share this {cores}-core machine; \
         server without job workers.",
        plan.clients,
        plan.measure.as_secs_f64(),
        plan.rounds
    );
    if rows.iter().any(|row| row.failures > 0) {
        println!("Some requests failed: see the warnings above.");
    }
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
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(plan.clients)
            .timeout(Duration::from_secs(30))
            .build()
            .context("Failed to build the HTTP client")?;
        let mut rows = Vec::new();
        for backend in &backends {
            rows.push(bench_backend(backend, &client, plan).await?);
        }
        print_table(&rows, plan);
        Ok(())
    })
}
