//! Memory over time: `leverbridge serve` (a child process, so its resident memory is its own)
//! under steady candidate journeys for half an hour, its RSS read from `/proc` each second and
//! shown at 1, 10 and 30 minutes with the growth between the last two.
//!
//! One journey is what a candidate and a reviewer do: the recruiter moves a tagged candidate
//! into the trigger stage in the simulated Lever (which runs in this process, so Lever's growing
//! data is not counted), leverbridge writes the link, the candidate opens it, starts, autosaves
//! eight times and submits, and every second submission is scored by a signed-in reviewer,
//! which writes the result, the feedback and the PDF report back to Lever. Candidate emails go
//! to a real SMTP listener here too. Journeys start at a steady rate (one every
//! `LEVERBRIDGE_SOAK_INTERVAL_MS`, 1500 ms), at most `LEVERBRIDGE_SOAK_CONCURRENT` (12) at once,
//! for `LEVERBRIDGE_SOAK_MINUTES` (30); the table's rows are the minutes it reached.
//!
//! The flood (run first): 2,000 autosaves of 200 KB as fast as one client can send them at one
//! candidate link, then the reviewer's detail page of that assessment; it prints the server's
//! peak RSS, the database's size, how the saves were answered and the page's time.
//!
//! `cargo bench --bench soak` prints Markdown tables. Run without `--bench` (as
//! `cargo test --benches` does), it only takes a short smoke run.

#[path = "../../tests/support/database.rs"]
#[allow(dead_code)]
mod database;
#[path = "../support/env.rs"]
mod env;
mod flood;
mod journey;
#[path = "../drain/lever.rs"]
#[allow(dead_code)]
mod lever;
#[path = "../drain/org.rs"]
mod org;
#[path = "../drain/replica.rs"]
#[allow(dead_code)]
mod replica;
mod world;

use std::time::Duration;

use env::number;

/// What one run does.
pub struct Plan {
    pub minutes: u64,
    pub interval: Duration,
    pub concurrent: usize,
    pub flood_saves: usize,
    pub flood_bytes: usize,
    pub smoke: bool,
}

impl Plan {
    fn from_env() -> anyhow::Result<Plan> {
        // `cargo bench` passes `--bench`; anything else (`cargo test --benches`) is a smoke run.
        if !std::env::args().any(|arg| arg == "--bench") {
            return Ok(Plan {
                minutes: 1,
                interval: Duration::from_millis(1500),
                concurrent: 4,
                flood_saves: 50,
                flood_bytes: 20_000,
                smoke: true,
            });
        }
        Ok(Plan {
            minutes: number("LEVERBRIDGE_SOAK_MINUTES", 30)?,
            interval: Duration::from_millis(number("LEVERBRIDGE_SOAK_INTERVAL_MS", 1500)?),
            concurrent: number("LEVERBRIDGE_SOAK_CONCURRENT", 12)? as usize,
            flood_saves: number("LEVERBRIDGE_FLOOD_SAVES", 2000)? as usize,
            flood_bytes: number("LEVERBRIDGE_FLOOD_BYTES", 200_000)? as usize,
            smoke: false,
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let plan = Plan::from_env()?;
    let world = world::World::start().await?;

    let flood = flood::run(&world, &plan).await;
    let flood = match flood {
        Ok(flood) => flood,
        Err(e) => {
            eprintln!("serve's log, last lines:\n{}", world.serve.log_tail(20));
            return Err(e);
        }
    };
    println!("{}", flood.table());

    let soak = journey::soak(&world, &plan).await;
    let soak = match soak {
        Ok(soak) => soak,
        Err(e) => {
            eprintln!("serve's log, last lines:\n{}", world.serve.log_tail(20));
            return Err(e);
        }
    };
    println!("{}", soak.table(plan.smoke));
    println!(
        "The mail server received {} emails.",
        world.mailbox.messages().len()
    );
    world.stop().await;
    if !soak.failures.is_empty() {
        anyhow::bail!(
            "{} journeys failed; the first: {}",
            soak.failures.len(),
            soak.failures[0]
        );
    }
    Ok(())
}
