//! Steady candidate journeys against `serve`, and its memory sampled while they run.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use serde_json::json;

use crate::world::{World, PASSWORD, REVIEWER, SLUG};
use crate::Plan;

/// What the soak saw.
pub struct Soak {
    /// `(minute, journeys finished by then, serve's RSS in MiB, database MiB, this process's
    /// RSS in MiB: the simulated Lever holding every candidate, and the load)`.
    pub rows: Vec<(u64, usize, f64, f64, f64)>,
    pub failures: Vec<String>,
    pub autosave_ms: Vec<f64>,
}

/// A reviewer signed in through the login form, keeping its session cookie.
pub struct Reviewer {
    http: reqwest::Client,
    base: String,
}

impl Reviewer {
    pub async fn sign_in(base: &str) -> anyhow::Result<Reviewer> {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let reviewer = Reviewer {
            http,
            base: base.to_owned(),
        };
        let answer = reviewer
            .post_form(
                "/login",
                "/login",
                &[("email", REVIEWER), ("password", PASSWORD)],
            )
            .await?;
        ensure!(
            answer.status() == 303,
            "sign-in answered {}",
            answer.status()
        );
        Ok(reviewer)
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<String> {
        let answer = self.http.get(format!("{}{path}", self.base)).send().await?;
        ensure!(
            answer.status() == 200,
            "GET {path} answered {}",
            answer.status()
        );
        Ok(answer.text().await?)
    }

    /// Posts a form from `page` with that page's CSRF token, as a browser would.
    pub async fn post_form(
        &self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> anyhow::Result<reqwest::Response> {
        let html = self.get(page).await?;
        let marker = "name=\"csrf_token\" value=\"";
        let start = html.find(marker).context("no CSRF field")? + marker.len();
        let end = html[start..].find('"').context("no CSRF field end")?;
        let mut all = vec![("csrf_token", &html[start..start + end])];
        all.extend_from_slice(fields);
        Ok(self
            .http
            .post(format!("{}{action}", self.base))
            .form(&all)
            .send()
            .await?)
    }

    /// The detail page of the assessment behind a candidate link.
    pub async fn detail_path(&self, world: &World, token: &str) -> anyhow::Result<String> {
        let token = token.to_owned();
        let found = world
            .db
            .run(move |conn| {
                leverbridge::db::assessments::by_token(conn, &token)
                    .map_err(leverbridge::db::DbError::from)
            })
            .await?
            .context("no assessment has that link")?;
        Ok(format!("/orgs/{SLUG}/assessments/{}", found.id))
    }
}

/// A new candidate named `name`, moved into the trigger stage as a recruiter would; their
/// link once leverbridge has written it in Lever.
pub async fn invite(world: &World, name: &str) -> anyhow::Result<String> {
    let account = &world.account;
    let opportunity = world
        .lever
        .add_candidate(&account.id, name, &account.start_stage_id)
        .await?;
    world
        .lever
        .move_to(&account.id, &opportunity, &account.trigger_stage_id)
        .await?;
    link_in_lever(world, &opportunity).await
}

/// The candidate link Lever holds for `opportunity`, once leverbridge has written it.
async fn link_in_lever(world: &World, opportunity: &str) -> anyhow::Result<String> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let held = world
            .lever
            .opportunity(&world.account.id, opportunity)
            .await?;
        let link = held["links"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l.as_str())
            .find(|l| l.contains("/a/"));
        if let Some(link) = link {
            return Ok(link.to_owned());
        }
        if Instant::now() > deadline {
            bail!("no link in Lever two minutes after the move");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Code of about `bytes`, different for each `seed`.
pub fn code_of(bytes: usize, seed: usize) -> String {
    let line = format!("    bucket.take({seed})  # keep the rate at ten a second\n");
    let mut code = String::from("def allow(bucket):\n");
    while code.len() + line.len() <= bytes {
        code.push_str(&line);
    }
    code
}

async fn journey(
    world: &World,
    candidate: &reqwest::Client,
    reviewer: &Reviewer,
    i: usize,
    autosaves: &Mutex<Vec<f64>>,
) -> anyhow::Result<()> {
    let link = invite(world, &format!("Soak Candidate {i}")).await?;
    let page = candidate.get(&link).send().await?;
    ensure!(page.status() == 200, "the link answered {}", page.status());
    let started = candidate.post(format!("{link}/start")).send().await?;
    ensure!(
        started.status() == 303,
        "start answered {}",
        started.status()
    );
    for save in 0..8 {
        let at = Instant::now();
        let saved = candidate
            .post(format!("{link}/autosave"))
            .json(&json!({ "code": code_of(1_000 + 250 * save, i) }))
            .send()
            .await?;
        ensure!(
            saved.status() == 200,
            "autosave answered {}",
            saved.status()
        );
        autosaves
            .lock()
            .expect("autosave times")
            .push(at.elapsed().as_secs_f64() * 1000.0);
    }
    let submitted = candidate
        .post(format!("{link}/submit"))
        .form(&[("code", code_of(3_000, i)), ("confirmed", "yes".into())])
        .send()
        .await?;
    ensure!(
        submitted.status() == 303,
        "submit answered {}",
        submitted.status()
    );
    if i % 2 == 0 {
        let token = link.rsplit('/').next().unwrap_or_default();
        let detail = reviewer.detail_path(world, token).await?;
        let score = (55 + i % 45).to_string();
        let scored = reviewer
            .post_form(
                &detail,
                &format!("{detail}/score"),
                &[("score", &score), ("result", "")],
            )
            .await?;
        ensure!(
            scored.status() == 303,
            "scoring answered {}",
            scored.status()
        );
    }
    Ok(())
}

/// Journeys at the plan's pace for its minutes, sampling `serve`'s RSS each second.
pub async fn soak(world: &World, plan: &Plan) -> anyhow::Result<Soak> {
    let reviewer = Reviewer::sign_in(&world.serve.url()).await?;
    let candidate = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()?;
    let finished = Arc::new(AtomicUsize::new(0));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let failures = Mutex::new(Vec::new());
    let autosaves = Mutex::new(Vec::new());
    let begun = Instant::now();
    let total = Duration::from_secs(plan.minutes * 60);
    let mut rows = Vec::new();
    let mut next_row = 1;
    let mut next_journey = Instant::now();
    let mut journeys = futures_util::stream::FuturesUnordered::new();
    let mut i = 0;
    let mut sample = tokio::time::interval(Duration::from_secs(1));
    use futures_util::StreamExt;
    while begun.elapsed() < total || !journeys.is_empty() {
        let ticking = begun.elapsed() < total;
        tokio::select! {
            _ = sample.tick() => {
                let minute = begun.elapsed().as_secs() / 60;
                if minute >= next_row && is_reported(minute, plan) {
                    rows.push((minute, finished.load(Ordering::Relaxed), world.rss_mib()?, world.database_mib(), crate::world::own_rss_mib()));
                    eprintln!("soak: minute {minute}, {} journeys, RSS {:.1} MiB", finished.load(Ordering::Relaxed), world.rss_mib()?);
                }
                if minute >= next_row {
                    next_row = minute + 1;
                }
                if ticking && Instant::now() >= next_journey && in_flight.load(Ordering::Relaxed) < plan.concurrent {
                    next_journey += plan.interval;
                    if next_journey < Instant::now() { next_journey = Instant::now() + plan.interval; }
                    in_flight.fetch_add(1, Ordering::Relaxed);
                    let (n, reviewer, candidate, failures, autosaves, finished, in_flight) =
                        (i, &reviewer, &candidate, &failures, &autosaves, &finished, &in_flight);
                    i += 1;
                    journeys.push(async move {
                        if let Err(e) = journey(world, candidate, reviewer, n, autosaves).await {
                            failures.lock().expect("failures").push(format!("journey {n}: {e:#}"));
                        }
                        finished.fetch_add(1, Ordering::Relaxed);
                        in_flight.fetch_sub(1, Ordering::Relaxed);
                    });
                }
            }
            Some(()) = journeys.next(), if !journeys.is_empty() => {}
        }
    }
    if rows.last().is_none_or(|r| r.0 < plan.minutes) {
        rows.push((
            plan.minutes,
            finished.load(Ordering::Relaxed),
            world.rss_mib()?,
            world.database_mib(),
            crate::world::own_rss_mib(),
        ));
    }
    drop(journeys);
    let failures = std::mem::take(&mut *failures.lock().expect("failures"));
    let autosave_ms = std::mem::take(&mut *autosaves.lock().expect("autosave times"));
    Ok(Soak {
        rows,
        failures,
        autosave_ms,
    })
}

/// The minutes the table shows.
fn is_reported(minute: u64, plan: &Plan) -> bool {
    [1, 10, 20, 30].contains(&minute) || minute == plan.minutes
}

impl Soak {
    pub fn table(&self, smoke: bool) -> String {
        let mut out = String::from(
            "| minute | journeys finished | serve RSS (MiB) | database (MiB) | simulated Lever and load, RSS (MiB) |\n|---:|---:|---:|---:|---:|\n",
        );
        for (minute, journeys, rss, db, lever) in &self.rows {
            out.push_str(&format!(
                "| {minute} | {journeys} | {rss:.1} | {db:.1} | {lever:.1} |\n"
            ));
        }
        let mut times = self.autosave_ms.clone();
        times.sort_by(f64::total_cmp);
        let quantile = |q: f64| {
            times
                .get(((times.len() as f64 - 1.0) * q).round() as usize)
                .copied()
                .unwrap_or(0.0)
        };
        out.push_str(&format!(
            "\n{} autosaves: p50 {:.1} ms, p99 {:.1} ms; {} journeys failed.\n",
            times.len(),
            quantile(0.5),
            quantile(0.99),
            self.failures.len()
        ));
        let at = |m: u64| self.rows.iter().find(|r| r.0 == m).map(|r| r.2);
        if let (Some(ten), Some(thirty)) = (at(10), at(30)) {
            let growth = (thirty - ten) / ten;
            out.push_str(&format!(
                "RSS from minute 10 to 30: {:+.1} MiB ({:+.1}%): {}\n",
                thirty - ten,
                growth * 100.0,
                if growth <= LEVELLED {
                    "levels off (target: at most +10%)"
                } else {
                    "MISSES: still growing (target: at most +10%)"
                }
            ));
        } else if !smoke {
            out.push_str("(shorter than 30 minutes: no verdict)\n");
        }
        out
    }
}

/// Growth from minute 10 to 30 that still counts as levelled off.
const LEVELLED: f64 = 0.10;
