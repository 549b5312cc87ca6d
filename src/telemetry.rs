//! What an operator watches from outside: counters, gauges and histograms recorded where things
//! happen, through the `metrics` facade, and rendered in Prometheus's text format by
//! `GET /metrics` (`web::metrics`).
//!
//! The recorder is global to the process, so it is installed once however many applications
//! one process builds (the tests build many); figures are the process's, not one
//! application's. Labels take a small, fixed set of values: reasons and kinds by name, Lever
//! endpoints by their pattern (`lever::endpoint_name`), never an id or an organization.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::domain::{JobState, Lane};
use crate::lever::call_metrics::{LEVER_CALLS, LEVER_CALL_SECONDS, LEVER_RATE_LIMITED};

/// Webhook deliveries by what became of them (`outcome`) and why (`reason`).
pub const DELIVERIES: &str = "leverbridge_webhook_deliveries_total";
/// Jobs in the queue by state, read from the database when scraped.
pub const QUEUE_JOBS: &str = "leverbridge_queue_jobs";
/// How long the oldest due job has waited, read from the database when scraped.
pub const QUEUE_OLDEST_DUE: &str = "leverbridge_queue_oldest_due_seconds";
/// Job attempts by kind and how each ended.
pub const JOB_OUTCOMES: &str = "leverbridge_job_outcomes_total";
/// Rows the retention sweep deleted, by table.
pub const RETENTION_DELETED: &str = "leverbridge_retention_deleted_total";

/// Upper bounds of the Lever latency histogram's buckets, in seconds: Lever answers in tens to
/// hundreds of milliseconds; a call is cut off at `Tuning::lever_timeout` (15 s).
const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0,
];

/// How often recorded histogram samples are folded into their buckets, so they do not pile up
/// between scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's recorder the first time; later calls return the same one.
pub fn install() -> &'static PrometheusHandle {
    RECORDER.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(LEVER_CALL_SECONDS.into()), LATENCY_BUCKETS)
            .expect("the latency buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder was installed first; GET /metrics will be empty");
        }
        describe();
        let upkeep = handle.clone();
        // A thread, not a task: the runtime that happens to install the recorder (a test's)
        // may end long before the process does.
        let started = std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || loop {
                std::thread::sleep(UPKEEP_EVERY);
                upkeep.run_upkeep();
            });
        if let Err(e) = started {
            tracing::warn!(error = %e, "no metrics upkeep thread; histograms are folded when scraped");
        }
        handle
    })
}

/// The metrics in Prometheus's text format.
pub fn render() -> String {
    let handle = install();
    handle.run_upkeep();
    handle.render()
}

fn describe() {
    describe_counter!(
        DELIVERIES,
        "Webhook deliveries by outcome (accepted, rejected, duplicate, not_stored) and reason"
    );
    describe_gauge!(
        QUEUE_JOBS,
        "Jobs in the queue by state (queued, running, parked, dead), read from the database when scraped"
    );
    describe_gauge!(
        QUEUE_OLDEST_DUE,
        Unit::Seconds,
        "How long the oldest job that is due has waited for a worker"
    );
    describe_counter!(
        JOB_OUTCOMES,
        "Job attempts by kind and outcome (done, retry, parked, dead, released, lost_lease)"
    );
    describe_counter!(
        LEVER_CALLS,
        "HTTP attempts to Lever's API by endpoint pattern and status (the code, or `error` when no answer came)"
    );
    describe_histogram!(
        LEVER_CALL_SECONDS,
        Unit::Seconds,
        "Latency of HTTP attempts to Lever's API by endpoint pattern"
    );
    describe_counter!(
        LEVER_RATE_LIMITED,
        "Lever API attempts answered 429 Too Many Requests, by endpoint pattern"
    );
    describe_counter!(
        RETENTION_DELETED,
        "Rows the retention sweep deleted, by table"
    );
}

/// What became of a webhook delivery, as `GET /metrics` counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// Stored and answered 2xx; the reason is what leverbridge does with it.
    Accepted(&'static str),
    /// Refused (answered 4xx); recorded on Events when its organization is known.
    Rejected(&'static str),
    /// Its delivery token was accepted before: acknowledged, nothing done.
    Duplicate,
    /// Not stored (answered 503): Lever delivers it again.
    NotStored(&'static str),
}

impl DeliveryOutcome {
    /// A stored delivery that was answered 2xx, by the status its event was stored with.
    pub fn accepted(status: &str) -> DeliveryOutcome {
        DeliveryOutcome::Accepted(match status {
            "queued" => "queued",
            "recorded" => "recorded",
            "verification" => "verification",
            "ignored" => "ignored",
            _ => "other",
        })
    }

    fn labels(self) -> (&'static str, &'static str) {
        match self {
            DeliveryOutcome::Accepted(reason) => ("accepted", reason),
            DeliveryOutcome::Rejected(reason) => ("rejected", reason),
            DeliveryOutcome::Duplicate => ("duplicate", "token_seen"),
            DeliveryOutcome::NotStored(reason) => ("not_stored", reason),
        }
    }
}

/// Counts a webhook delivery.
pub fn delivery(outcome: DeliveryOutcome) {
    let (outcome, reason) = outcome.labels();
    metrics::counter!(DELIVERIES, "outcome" => outcome, "reason" => reason).increment(1);
}

/// The job kinds this process runs (registered with the queue), so that a stored kind it
/// does not know is counted as `unknown` and the label keeps its few values.
static JOB_KINDS: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());

/// Says that jobs of `kind` exist (the queue's registry calls it for each kind it registers).
pub fn job_kind(kind: &'static str) {
    let mut kinds = JOB_KINDS.lock().unwrap_or_else(|p| p.into_inner());
    if !kinds.contains(&kind) {
        kinds.push(kind);
    }
}

/// Counts how a job attempt ended. `kind` is the job's stored kind; one not registered with
/// [`job_kind`] is counted as `unknown`.
pub fn job_outcome(kind: &str, outcome: &'static str) {
    let label = {
        let kinds = JOB_KINDS.lock().unwrap_or_else(|p| p.into_inner());
        kinds
            .iter()
            .copied()
            .find(|k| *k == kind)
            .unwrap_or("unknown")
    };
    metrics::counter!(JOB_OUTCOMES, "kind" => label, "outcome" => outcome).increment(1);
}

/// Sets the queue gauges: jobs per unfinished state (a state not counted is zero; finished
/// jobs are history, not queue), per lane and in all, and how long each lane's oldest due job
/// has waited, and the longest of them.
pub fn queue_depth(counts: &[(Lane, JobState, i64)], waited: &[(Lane, Option<Duration>)]) {
    for state in JobState::UNFINISHED {
        let mut all = 0;
        for lane in Lane::ALL {
            let n = counts
                .iter()
                .find(|(l, s, _)| *l == lane && *s == state)
                .map_or(0, |(_, _, n)| *n);
            all += n;
            metrics::gauge!(QUEUE_JOBS, "lane" => lane.as_str(), "state" => state.as_str())
                .set(n as f64);
        }
        metrics::gauge!(QUEUE_JOBS, "state" => state.as_str()).set(all as f64);
    }
    let seconds = |wait: &Option<Duration>| wait.map_or(0.0, |d| d.as_secs_f64());
    for (lane, wait) in waited {
        metrics::gauge!(QUEUE_OLDEST_DUE, "lane" => lane.as_str()).set(seconds(wait));
    }
    let longest = waited.iter().filter_map(|(_, wait)| *wait).max();
    metrics::gauge!(QUEUE_OLDEST_DUE).set(seconds(&longest));
}

/// Counts rows the retention sweep deleted from `table`.
pub fn retention_deleted(table: &'static str, rows: usize) {
    metrics::counter!(RETENTION_DELETED, "table" => table).increment(rows as u64);
}
