//! Webhook ingestion throughput: signed Lever deliveries accepted per second (verified, stored
//! durably with their job, answered 200) on SQLite and PostgreSQL, beside the same server
//! answering the no-op `GET /healthz`. The floor is absolute, at 16 clients: 5,000 durable
//! deliveries/s on SQLite (committing with `synchronous = FULL`) and 2,500 on PostgreSQL. The
//! no-op rate and the ratio to it are printed beside it for information only: the no-op rate
//! varies too much between runs on the same kind of machine to decide anything.
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

#[path = "../../tests/support/database.rs"]
mod database;
#[path = "../support/env.rs"]
mod env;
mod load;
mod setup;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use env::number;
use leverbridge::startup::Application;

use database::{Backend, FreshDatabase};
use load::{run_load, stock, Presigned, Target};
use setup::{bench_settings, set_up_receiver, stored_counts};

pub const EVENT: &str = "candidateStageChange";
/// The clients the floor is stated for.
const FLOOR_CLIENTS: usize = 16;

/// The least accepted deliveries per second each backend must reach at [`FLOOR_CLIENTS`].
fn floor(backend: &str) -> f64 {
    if backend == "SQLite" {
        5000.0
    } else {
        2500.0
    }
}

/// The verdict column: whether the row meets its floor, which holds at [`FLOOR_CLIENTS`] only.
fn verdict(row: &Row, clients: usize) -> String {
    if clients != FLOOR_CLIENTS {
        format!("n/a (floor at {FLOOR_CLIENTS} clients)")
    } else if row.accepted_per_sec >= floor(row.backend) {
        "yes".into()
    } else {
        "no".into()
    }
}

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
    let database = FreshDatabase::new(backend, "lb_bench")?;
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
        "| backend | accepted deliveries/s | p50 ms | p99 ms | no-op req/s | ratio | floor /s | met |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---|");
    for row in rows {
        let floor = floor(row.backend);
        let met = verdict(row, plan.clients);
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.0} | {:.2} | {floor:.0} | {met} |",
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
         server without job workers. The floor is in accepted deliveries/s at \
         {FLOOR_CLIENTS} clients; the no-op rate and the ratio are for information.",
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
