//! The drain at Lever's limit (P2): K organizations, each with its own key on the simulator at
//! Lever's real limit (10 requests/s, bursts of 20, per key), N candidates each tagged with the
//! configuration's tag and moved into its trigger stage at once. Timed from the first move until
//! every candidate has its link in Lever, against the bound that limit allows:
//! (accepted calls − 20) / 10 s per key, keys in parallel.
//!
//! `cargo bench --bench drain` prints a Markdown table: on SQLite the app runs in this process
//! as `serve` runs it (its two job workers, production's Lever pace); with
//! `LEVERBRIDGE_TEST_POSTGRES` set (e.g. postgres://postgres@127.0.0.1:5432/test), two
//! `leverbridge serve` processes share a fresh PostgreSQL database (created and dropped) and
//! each organization's key, with Lever's webhooks delivered to the first.
//! Everything is read from the simulator's request log: the calls made after the first move,
//! the 429s it answered, and each key's busiest one-second window.
//! `LEVERBRIDGE_BENCH_CANDIDATES` changes N (40) and `LEVERBRIDGE_BENCH_DEADLINE_SECS` how long
//! a run may wait for its links (60 s). Run without `--bench` (as `cargo test --benches` does),
//! it only takes a short smoke run.

#[path = "../../tests/support/database.rs"]
mod database;
#[path = "../support/env.rs"]
mod env;
mod lever;
mod measure;
mod org;
mod replica;
mod runs;

use std::time::Duration;

use anyhow::Context;
use env::number;
use leverbridge::lever_sim::RateLimit;

use measure::{Drain, Ending};

/// What the runs measure.
struct Plan {
    /// K for each run, on each backend.
    orgs: Vec<usize>,
    /// N per organization.
    candidates: usize,
    /// How long a run waits for every link.
    deadline: Duration,
    smoke: bool,
}

impl Plan {
    fn from_env() -> anyhow::Result<Plan> {
        // `cargo bench` passes `--bench`; anything else (`cargo test --benches`) is a smoke run.
        if !std::env::args().any(|arg| arg == "--bench") {
            return Ok(Plan {
                orgs: vec![1, 2],
                candidates: 3,
                deadline: Duration::from_secs(30),
                smoke: true,
            });
        }
        Ok(Plan {
            orgs: vec![1, 5],
            candidates: number("LEVERBRIDGE_BENCH_CANDIDATES", 40)? as usize,
            deadline: Duration::from_secs(number("LEVERBRIDGE_BENCH_DEADLINE_SECS", 60)?),
            smoke: false,
        })
    }
}

/// Targets from issue 15.
const CALLS_PER_INVITATION: f64 = 4.0;
const EFFICIENCY: f64 = 0.9;

/// One table row.
struct Row {
    backend: &'static str,
    orgs: usize,
    candidates: usize,
    drain: Drain,
}

impl Row {
    /// Calls Lever accepted per invitation (its 429s are counted apart).
    fn calls_per_invitation(&self) -> f64 {
        self.drain.accepted() as f64 / self.drain.invitations as f64
    }

    fn bound(&self) -> Duration {
        self.drain.bound(RateLimit::LEVER)
    }

    /// Bound over time: exact when every link arrived, an upper limit otherwise; none when
    /// the calls fit in Lever's burst.
    fn efficiency(&self) -> Option<f64> {
        let time = self.drain.links.unwrap_or(self.drain.waited);
        let bound = self.bound().as_secs_f64();
        (bound > 0.0).then(|| bound / time.as_secs_f64())
    }

    fn time(&self) -> String {
        match (self.drain.links, self.drain.ending) {
            (Some(links), _) => format!("{:.2}", links.as_secs_f64()),
            (None, ending) => format!(
                "> {:.1} ({}/{} linked, {})",
                self.drain.waited.as_secs_f64(),
                self.drain.linked,
                self.drain.invitations,
                if ending == Ending::Stalled {
                    "stalled"
                } else {
                    "deadline"
                }
            ),
        }
    }

    fn missed(&self) -> Vec<&'static str> {
        let mut missed = Vec::new();
        if self.drain.links.is_none() {
            missed.push("incomplete");
        }
        if self.calls_per_invitation() > CALLS_PER_INVITATION + 1e-9 {
            missed.push("calls");
        }
        if self.efficiency().is_some_and(|e| e < EFFICIENCY) {
            missed.push("efficiency");
        }
        if self.drain.refused() > 0 {
            missed.push("429s");
        }
        missed
    }
}

fn print_table(rows: &[Row], plan: &Plan, postgres_skipped: bool) {
    println!();
    println!(
        "| backend | K | N | calls/invitation | time s | bound s | efficiency | 429s | peak req/s per key | last call s | missed |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for row in rows {
        // Cut, not rounded, to three places: a miss never shows as 0.900.
        let efficiency = match (
            row.efficiency().map(|e| (e * 1000.0).floor() / 1000.0),
            row.drain.links,
        ) {
            (None, _) => "-".to_owned(),
            (Some(e), Some(_)) => format!("{e:.3}"),
            (Some(e), None) => format!("< {e:.3}"),
        };
        let missed = row.missed();
        println!(
            "| {} | {} | {} | {:.2} | {} | {:.2} | {efficiency} | {} | {} | {} | {} |",
            row.backend,
            row.orgs,
            row.candidates,
            row.calls_per_invitation(),
            row.time(),
            row.bound().as_secs_f64(),
            row.drain.refused(),
            row.drain.peak_per_second(),
            row.drain
                .last_call()
                .map_or("-".into(), |t| format!("{:.2}", t.as_secs_f64())),
            if plan.smoke {
                "-".into()
            } else if missed.is_empty() {
                "none".into()
            } else {
                missed.join(", ")
            },
        );
    }
    println!();
    println!(
        "Targets: {CALLS_PER_INVITATION} Lever calls per invitation; efficiency ≥ {EFFICIENCY} \
         for K = 1 and K = 5 with N = 40; no key over Lever's limit (no 429s), on PostgreSQL \
         with two serve processes sharing one database."
    );
    println!(
        "Calls: requests Lever accepted after the first move (429s apart); time: first move \
         until every candidate's link reached Lever; bound: (calls − 20) / 10 s for the busiest \
         key; last call: the drain's last Lever request (the last tags and notes follow the \
         links, so efficiency can pass 1.0 by a little); peak: requests, 429s included, in one \
         key's busiest second (Lever's bucket admits up to 30 from full, 10/s sustained)."
    );
    if postgres_skipped {
        println!("PostgreSQL skipped: LEVERBRIDGE_TEST_POSTGRES is not set.");
    }
    if plan.smoke {
        println!(
            "Smoke run (without --bench): N = {}, targets do not apply.",
            plan.candidates
        );
    }
}

fn report(drain: &Drain, backend: &str, orgs: usize) {
    eprintln!(
        "{backend}, K = {orgs}: moves answered after {:.1} s; {} of {} linked; stopped waiting \
         after {:.1} s",
        drain.moved.as_secs_f64(),
        drain.linked,
        drain.invitations,
        drain.waited.as_secs_f64()
    );
}

fn main() -> anyhow::Result<()> {
    let plan = Plan::from_env()?;
    let postgres = match std::env::var("LEVERBRIDGE_TEST_POSTGRES") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            eprintln!(
                "\n*** SKIPPED PostgreSQL: LEVERBRIDGE_TEST_POSTGRES is not set \
                 (e.g. postgres://postgres@127.0.0.1:5432/test). ***\n"
            );
            None
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("Failed to start the runtime")?;
    runtime.block_on(async {
        let mut rows = Vec::new();
        for &orgs in &plan.orgs {
            eprintln!("SQLite, K = {orgs}, N = {}…", plan.candidates);
            let drain = runs::sqlite(orgs, &plan).await?;
            report(&drain, "SQLite", orgs);
            rows.push(Row {
                backend: "SQLite",
                orgs,
                candidates: plan.candidates,
                drain,
            });
        }
        if let Some(admin_url) = &postgres {
            for &orgs in &plan.orgs {
                eprintln!(
                    "PostgreSQL, 2 × serve, K = {orgs}, N = {}…",
                    plan.candidates
                );
                let drain = runs::postgres(admin_url, orgs, &plan).await?;
                report(&drain, "PostgreSQL", orgs);
                rows.push(Row {
                    backend: "PostgreSQL, 2 × serve",
                    orgs,
                    candidates: plan.candidates,
                    drain,
                });
            }
        }
        print_table(&rows, &plan, postgres.is_none());
        anyhow::Ok(())
    })
}
