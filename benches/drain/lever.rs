//! The simulated Lever as the bench drives it: one account per organization, its tagged
//! candidates, the recruiter's stage moves and the request log, all through the simulator's
//! control API.

use std::time::Duration;

use anyhow::{ensure, Context};
use leverbridge::lever_sim::{seed_company, spawn_sim, RateLimit, SimConfig, SimHandle};
use serde::Deserialize;
use serde_json::{json, Value};

/// The tag the configuration fires on; every bench candidate carries it.
pub const TAG: &str = "leverbridge-bench";
/// The configuration's trigger stage, one of the seeded pipeline's.
pub const TRIGGER: &str = "Phone interview";
/// Where the bench candidates wait before the move.
const START: &str = "New applicant";

/// The simulator at Lever's real limit, and a client for its control API.
pub struct Lever {
    pub sim: SimHandle,
    http: reqwest::Client,
}

/// One organization's account in the simulator.
pub struct Account {
    pub id: String,
    pub api_key: String,
    pub default_user_id: String,
    pub trigger_stage_id: String,
    /// Where new candidates wait ([`START`]); the soak bench adds its own there.
    #[allow(dead_code)]
    pub start_stage_id: String,
    /// The N candidates' opportunities, each tagged [`TAG`] and waiting in [`START`].
    pub opportunities: Vec<String>,
}

/// One line of the simulator's request log.
#[derive(Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    pub method: String,
    pub path: String,
    pub status: Option<u16>,
    pub at_ms: i64,
}

impl Request {
    /// The opportunity whose link this request added, when it is a successful `addLinks`.
    pub fn linked_opportunity(&self) -> Option<&str> {
        let ok = self.status.is_some_and(|s| (200..300).contains(&s));
        let rest = self.path.strip_prefix("/v1/opportunities/")?;
        let id = rest.strip_suffix("/addLinks")?;
        (ok && self.method == "POST").then_some(id)
    }
}

impl Lever {
    /// Lever's limit per key (10/s, bursts of 20); webhook deliveries retried soon.
    pub async fn start() -> anyhow::Result<Lever> {
        let sim = spawn_sim(SimConfig {
            rate_limit: RateLimit::LEVER,
            retry_base: Duration::from_millis(200),
            ..Default::default()
        })
        .await
        .context("the Lever simulator did not start")?;
        // Idle connections are dropped before the simulator's 5 s keep-alive ends.
        let http = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(30))
            .build()
            .context("Failed to build the control API client")?;
        Ok(Lever { sim, http })
    }

    fn control(&self, account: &str, path: &str) -> String {
        format!("{}/_sim/api/accounts/{account}{path}", self.sim.base_url())
    }

    /// A company with the demo's people and pipeline and an all-permission key, plus
    /// `candidates` candidates tagged [`TAG`].
    pub async fn account(&self, company: &str, candidates: usize) -> anyhow::Result<Account> {
        let seed = seed_company(&self.sim, company, "bench-seed").await?;
        let stage = |text: &str| {
            seed.stages
                .iter()
                .find(|(_, t)| t == text)
                .map(|(id, _)| id.clone())
                .with_context(|| format!("the seeded pipeline has no stage {text}"))
        };
        let start = stage(START)?;
        let mut opportunities = Vec::with_capacity(candidates);
        for i in 0..candidates {
            opportunities.push(
                self.add_candidate(&seed.account_id, &format!("Bench Candidate {i}"), &start)
                    .await?,
            );
        }
        Ok(Account {
            trigger_stage_id: stage(TRIGGER)?,
            start_stage_id: start,
            id: seed.account_id,
            api_key: seed.api_key,
            default_user_id: seed.default_user_id,
            opportunities,
        })
    }

    /// Points an event's webhook at `url` as a Super Admin would; returns its signature token.
    pub async fn set_webhook(
        &self,
        account: &str,
        event: &str,
        url: &str,
    ) -> anyhow::Result<String> {
        let answer: Value = self
            .http
            .put(self.control(account, &format!("/webhooks/{event}")))
            .json(&json!({ "url": url }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(answer["signatureToken"]
            .as_str()
            .context("the simulator returned no signature token")?
            .to_owned())
    }

    /// Moves a candidate as a recruiter would; answers after Lever's first delivery attempt.
    pub async fn move_to(
        &self,
        account: &str,
        opportunity: &str,
        stage: &str,
    ) -> anyhow::Result<()> {
        self.post(
            &self.control(account, &format!("/opportunities/{opportunity}/stage")),
            json!({ "stageId": stage }),
        )
        .await?;
        Ok(())
    }

    /// The account's request log, oldest first.
    pub async fn requests(&self, account: &str) -> anyhow::Result<Vec<Request>> {
        Ok(self
            .http
            .get(self.control(account, "/requests"))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    /// A candidate named `name`, tagged [`TAG`], waiting in `stage`; returns its opportunity.
    pub async fn add_candidate(
        &self,
        account: &str,
        name: &str,
        stage: &str,
    ) -> anyhow::Result<String> {
        let email = format!("{}@example.com", name.to_lowercase().replace(' ', "."));
        let created = self
            .post(
                &self.control(account, "/candidates"),
                json!({ "name": name, "email": email, "tags": [TAG], "stageId": stage }),
            )
            .await?;
        Ok(created["id"]
            .as_str()
            .context("the simulator created a candidate without an id")?
            .to_owned())
    }

    /// The opportunity as Lever holds it (the simulator's control view).
    pub async fn opportunity(&self, account: &str, opportunity: &str) -> anyhow::Result<Value> {
        Ok(self
            .http
            .get(self.control(account, &format!("/opportunities/{opportunity}")))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    /// How many links the opportunity holds in Lever.
    pub async fn links(&self, account: &str, opportunity: &str) -> anyhow::Result<usize> {
        let held = self.opportunity(account, opportunity).await?;
        Ok(held["links"].as_array().map_or(0, Vec::len))
    }

    async fn post(&self, url: &str, body: Value) -> anyhow::Result<Value> {
        let response = self.http.post(url).json(&body).send().await?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        ensure!(status.is_success(), "{url} answered {status}: {answer}");
        Ok(answer)
    }
}
