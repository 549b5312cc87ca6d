//! The flood: one candidate link sent autosaves of 200 KB as fast as eight connections carry
//! them, then the reviewer's detail page of that assessment.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::ensure;
use futures_util::StreamExt;
use serde_json::json;

use crate::journey::{code_of, invite, Reviewer};
use crate::world::World;
use crate::Plan;

/// Connections the flood sends on at once.
const CONNECTIONS: usize = 8;
/// Targets from issue 20.
const RSS_MIB: f64 = 150.0;
const PAGE_MS: f64 = 100.0;
/// The stated quota per attempt (20 MB), with room for everything else in the database.
const DATABASE_MIB: f64 = 20.0 + 5.0;

pub struct Flood {
    saves: usize,
    bytes: usize,
    answers: BTreeMap<u16, usize>,
    seconds: f64,
    peak_rss: f64,
    database: f64,
    page_ms: f64,
}

pub async fn run(world: &World, plan: &Plan) -> anyhow::Result<Flood> {
    let link = invite(world, "Flood Candidate").await?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let started = http.post(format!("{link}/start")).send().await?;
    ensure!(
        started.status() == 303,
        "start answered {}",
        started.status()
    );

    let peak = Arc::new(Mutex::new(world.rss_mib()?));
    let flooding = Arc::new(AtomicBool::new(true));
    let pid = world.serve.pid();
    let sampler = {
        let (peak, flooding) = (peak.clone(), flooding.clone());
        tokio::spawn(async move {
            while flooding.load(Ordering::Relaxed) {
                if let Some(rss) = crate::world::rss_of(&pid.to_string()) {
                    let mut peak = peak.lock().expect("peak");
                    *peak = peak.max(rss);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let begun = Instant::now();
    let answers: Vec<u16> = futures_util::stream::iter(0..plan.flood_saves)
        .map(|i| {
            let (http, link) = (&http, &link);
            async move {
                let body = json!({ "code": code_of(plan.flood_bytes, i) });
                match http
                    .post(format!("{link}/autosave"))
                    .json(&body)
                    .send()
                    .await
                {
                    Ok(answer) => answer.status().as_u16(),
                    Err(_) => 0,
                }
            }
        })
        .buffer_unordered(CONNECTIONS)
        .collect()
        .await;
    let seconds = begun.elapsed().as_secs_f64();

    let reviewer = Reviewer::sign_in(&world.serve.url()).await?;
    let token = link.rsplit('/').next().unwrap_or_default();
    let detail = reviewer.detail_path(world, token).await?;
    let mut times = Vec::new();
    for _ in 0..5 {
        let at = Instant::now();
        reviewer.get(&detail).await?;
        times.push(at.elapsed().as_secs_f64() * 1000.0);
    }
    flooding.store(false, Ordering::Relaxed);
    sampler.await?;
    times.sort_by(f64::total_cmp);
    let mut tally = BTreeMap::new();
    for status in answers {
        *tally.entry(status).or_insert(0) += 1;
    }
    let peak_rss = *peak.lock().expect("peak");
    Ok(Flood {
        saves: plan.flood_saves,
        bytes: plan.flood_bytes,
        answers: tally,
        seconds,
        peak_rss,
        database: world.database_mib(),
        page_ms: times[times.len() / 2],
    })
}

impl Flood {
    pub fn table(&self) -> String {
        let answers: Vec<String> = self
            .answers
            .iter()
            .map(|(status, n)| match status {
                0 => format!("{n} no answer"),
                _ => format!("{n} × {status}"),
            })
            .collect();
        let verdict = |ok: bool| if ok { "meets" } else { "MISSES" };
        format!(
            "Flood: {} autosaves of {} KB at one link over {CONNECTIONS} connections in {:.1} s ({})\n\n\
             | measure | value | target | verdict |\n|---|---:|---:|---|\n\
             | serve's peak RSS | {:.1} MiB | < {RSS_MIB} MiB | {} |\n\
             | database with WAL | {:.1} MiB | < {DATABASE_MIB} MiB | {} |\n\
             | reviewer's detail page (median of 5) | {:.1} ms | < {PAGE_MS} ms | {} |\n",
            self.saves,
            self.bytes / 1000,
            self.seconds,
            answers.join(", "),
            self.peak_rss,
            verdict(self.peak_rss < RSS_MIB),
            self.database,
            verdict(self.database < DATABASE_MIB),
            self.page_ms,
            verdict(self.page_ms < PAGE_MS),
        )
    }
}
