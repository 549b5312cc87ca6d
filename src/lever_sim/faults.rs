//! Fault injection, per account, switchable at run time through the control API.

use rand::Rng;
use serde::{Deserialize, Serialize};

/// How long the timeout fault holds a request: longer than any client waits.
pub(crate) const TIMEOUT_HOLD: std::time::Duration = std::time::Duration::from_secs(30);

#[derive(Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Faults {
    /// Share of API answers replaced by a 500 or 503.
    pub error_5xx_rate: f64,
    /// Share of API answers replaced by a 429.
    pub rate_429_rate: f64,
    /// Added to every API answer.
    pub latency_ms: u64,
    /// Share of API requests held for [`TIMEOUT_HOLD`].
    pub timeout_rate: f64,
    /// Send `Retry-After: 1` with 429 answers.
    pub retry_after: bool,
    /// Every key of the account answers 401.
    pub revoked: bool,
    /// Answers given instead of the real one to the next matching requests, in order.
    pub scripted: Vec<ScriptedAnswer>,
    /// The Webhooks API leaves out the signature token (which Lever's documentation does not
    /// promise to return): the admin must copy it from Lever's settings.
    pub omit_webhook_tokens: bool,
}

/// "Answer the next `times` requests `METHOD …path_ends_with` with `status`": for the failures
/// that no rate produces on demand, such as a 404 from one list under an existing opportunity.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ScriptedAnswer {
    pub method: String,
    pub path_ends_with: String,
    pub status: u16,
    #[serde(default = "once")]
    pub times: u32,
}

fn once() -> u32 {
    1
}

/// A partial update from `PUT /_sim/api/accounts/{acct}/faults`: missing = unchanged.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FaultsUpdate {
    #[serde(alias = "error_5xx_rate")]
    pub error5xx_rate: Option<f64>,
    #[serde(alias = "rate_429_rate")]
    pub rate429_rate: Option<f64>,
    pub latency_ms: Option<u64>,
    pub timeout_rate: Option<f64>,
    pub retry_after: Option<bool>,
    pub revoked: Option<bool>,
    /// Replaces the scripted answers still pending.
    pub scripted: Option<Vec<ScriptedAnswer>>,
    pub omit_webhook_tokens: Option<bool>,
}

impl Faults {
    pub fn apply(&mut self, update: FaultsUpdate) -> Result<(), String> {
        for (name, rate) in [
            ("error5xxRate", update.error5xx_rate),
            ("rate429Rate", update.rate429_rate),
            ("timeoutRate", update.timeout_rate),
        ] {
            if let Some(rate) = rate {
                if !(0.0..=1.0).contains(&rate) {
                    return Err(format!("{name} must be between 0.0 and 1.0"));
                }
            }
        }
        if let Some(v) = update.error5xx_rate {
            self.error_5xx_rate = v;
        }
        if let Some(v) = update.rate429_rate {
            self.rate_429_rate = v;
        }
        if let Some(v) = update.latency_ms {
            self.latency_ms = v;
        }
        if let Some(v) = update.timeout_rate {
            self.timeout_rate = v;
        }
        if let Some(v) = update.retry_after {
            self.retry_after = v;
        }
        if let Some(v) = update.revoked {
            self.revoked = v;
        }
        if let Some(v) = update.omit_webhook_tokens {
            self.omit_webhook_tokens = v;
        }
        if let Some(scripted) = update.scripted {
            if let Some(bad) = scripted.iter().find(|s| !(400..=599).contains(&s.status)) {
                return Err(format!(
                    "scripted status {} is not an error status",
                    bad.status
                ));
            }
            self.scripted = scripted;
        }
        Ok(())
    }

    /// The status scripted for this request, if any; uses up one of its times.
    pub fn take_scripted(&mut self, method: &str, path: &str) -> Option<u16> {
        let index = self.scripted.iter().position(|s| {
            s.method.eq_ignore_ascii_case(method) && path.ends_with(&s.path_ends_with)
        })?;
        let answer = &mut self.scripted[index];
        let status = answer.status;
        answer.times = answer.times.saturating_sub(1);
        if answer.times == 0 {
            self.scripted.remove(index);
        }
        Some(status)
    }
}

/// True with probability `rate`; exact at 0.0 and 1.0.
pub(crate) fn roll(rate: f64) -> bool {
    if rate <= 0.0 {
        false
    } else if rate >= 1.0 {
        true
    } else {
        rand::thread_rng().gen::<f64>() < rate
    }
}
