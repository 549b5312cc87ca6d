//! Typed settings, read once from `LEVERBRIDGE_*` environment variables.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `LEVERBRIDGE_BIND` | address the HTTP server listens on | `127.0.0.1:8080` |
//! | `LEVERBRIDGE_DATABASE_URL` | `sqlite://PATH`, a bare file path, or `postgres://…` | `sqlite://data/leverbridge.db` |
//! | `LEVERBRIDGE_PUBLIC_URL` | base URL that Lever and candidates reach (webhook and assessment links) | `http://` + the bind address |
//! | `LEVERBRIDGE_SECRET_KEY` | base64 of 32 random bytes: signs sessions, encrypts secrets at rest; `serve` refuses to start without it | none |
//! | `LEVERBRIDGE_LEVER_API_URL` | replaces Lever's API root (production and sandbox alike), e.g. the simulator's `http://127.0.0.1:4000/v1` | Lever's hosts, as the organization chose |
//! | `LEVERBRIDGE_LEVER_AUTH_URL` | replaces Lever's OAuth host (production and sandbox alike) | Lever's hosts |
//! | `LEVERBRIDGE_LEVER_CLIENT_ID`, `LEVERBRIDGE_LEVER_CLIENT_SECRET` | leverbridge's OAuth app in Lever (both or neither): shows *Add to Lever* on the Connection page | unset: API keys only |
//! | `LEVERBRIDGE_WORKERS` | Lever-lane job workers inside `serve` (1 to 64) | `2` |
//! | `LEVERBRIDGE_MAIL_WORKERS` | mail-lane job workers inside `serve` (0 to 64; 0 leaves mail to `leverbridge worker --lanes mail`) | `1` |
//! | `LEVERBRIDGE_GRADING_WORKERS` | grading-lane job workers inside `serve` (0 to 64) | `1` |
//! | `LEVERBRIDGE_METRICS_TOKEN` | bearer token that opens `GET /metrics` to scrapers not on this host (at least 16 characters; `openssl rand -hex 32`); without it only loopback may scrape | unset: loopback only |
//! | `LEVERBRIDGE_QUEUE_WAIT_LIMIT` | seconds the oldest due job may wait for a worker before `/readyz` answers 503 saying so (10 to 86400) | `600` |
//! | `LEVERBRIDGE_RETENTION_DAYS` | days finished jobs, webhook deliveries and recorded Lever calls are kept before the hourly sweep deletes them (1 to 3650) | `90` |
//! | `LEVERBRIDGE_TRUSTED_PROXIES` | reverse proxies in front of leverbridge, as addresses or CIDR ranges (`127.0.0.1, 10.0.0.0/8`): from these peers the client's address is read from `Forwarded` / `X-Forwarded-For` (the rightmost hop that is not a trusted proxy), from any other peer never; sign-in is throttled per client address | unset: the TCP peer is the client |
//! | `LEVERBRIDGE_SANDBOX_SLOTS` | candidates' programs (runs, tests, grading) that run at once in this process, each in its own bubblewrap sandbox under its own uid (1 to 64) | `2` |
//! | `LEVERBRIDGE_SANDBOX_UID` | the uid of the first sandbox slot; slot n runs as this + n, so no account may use these uids (1000 to 4294900000; give each replica on one host its own range) | `61000` |
//! | `RUST_LOG` | log filter (tracing-subscriber syntax) | `info` |
//!
//! Make a secret key with `openssl rand -base64 32` (or `head -c32 /dev/urandom | base64`).

use std::net::SocketAddr;

use anyhow::{anyhow, bail, Context};
use base64::Engine;

use crate::crypto::SecretKey;
use crate::domain::Lane;

/// Where the data lives; declared with the database that opens it, named here with the other
/// settings.
pub use crate::domain::DatabaseUrl;

/// Where leverbridge sends Lever API and OAuth traffic when the environment overrides Lever's hosts.
#[derive(Clone, Debug, Default)]
pub struct LeverHosts {
    pub api_url: Option<String>,
    pub auth_url: Option<String>,
}

/// Everything `serve` and `demo` need, parsed and checked.
#[derive(Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    pub database_url: DatabaseUrl,
    pub public_url: url::Url,
    pub secret_key: SecretKey,
    pub lever: LeverHosts,
    /// leverbridge's OAuth app in Lever, when it is registered as one.
    pub lever_app: Option<crate::lever::oauth::OAuthApp>,
    /// Job workers per lane inside `serve` (`leverbridge worker --lanes` runs some lanes alone).
    pub workers: LaneWorkers,
    /// Opens `GET /metrics` to a scraper that is not on this host (`web::metrics`).
    pub metrics_token: Option<MetricsToken>,
    pub tuning: Tuning,
}

/// How long a session lasts, and the clock it is measured by.
#[derive(Clone, Debug)]
pub struct SessionLimits {
    /// Ends a session unused for this long.
    pub idle: std::time::Duration,
    /// Ends a session this long after sign-in, however busy.
    pub absolute: std::time::Duration,
    /// The server's clock (`Tuning::clock`), so tests move a session's age instead of waiting.
    pub clock: crate::clock::Clock,
}

/// Certificates trusted as roots besides the public ones (webpki-roots) when a mail server's
/// certificate is checked. Production has none; the tests add the self-signed certificate of
/// their mail server (the simulated `mailbox`). It is set in code only (`config::Tuning`), never
/// from the environment or a page, and nothing here skips the check.
#[derive(Clone, Debug, Default)]
pub struct SmtpRoots(Vec<Vec<u8>>);

impl SmtpRoots {
    /// Trusts `der` (a DER certificate) too.
    pub fn with(mut self, der: Vec<u8>) -> SmtpRoots {
        self.0.push(der);
        self
    }

    /// The certificates, DER.
    pub fn certificates(&self) -> &[Vec<u8>] {
        &self.0
    }
}

/// How many job workers each lane runs in this process. A lane with none is left to other
/// processes (`leverbridge worker --lanes …` on other machines, against the same PostgreSQL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LaneWorkers {
    /// `LEVERBRIDGE_WORKERS`: Lever write-backs, drained fairly between organizations.
    pub lever: usize,
    /// `LEVERBRIDGE_MAIL_WORKERS`: candidate emails.
    pub mail: usize,
    /// `LEVERBRIDGE_GRADING_WORKERS`: grading runs, each in a sandbox slot.
    pub grading: usize,
}

impl Default for LaneWorkers {
    fn default() -> Self {
        LaneWorkers {
            lever: 2,
            mail: 1,
            grading: 1,
        }
    }
}

impl LaneWorkers {
    /// The environment variable that sets each lane's count.
    pub const VARIABLES: [(Lane, &'static str); 3] = [
        (Lane::Lever, "LEVERBRIDGE_WORKERS"),
        (Lane::Mail, "LEVERBRIDGE_MAIL_WORKERS"),
        (Lane::Grading, "LEVERBRIDGE_GRADING_WORKERS"),
    ];

    /// No workers at all.
    pub const fn none() -> LaneWorkers {
        LaneWorkers {
            lever: 0,
            mail: 0,
            grading: 0,
        }
    }

    pub fn of(&self, lane: Lane) -> usize {
        match lane {
            Lane::Lever => self.lever,
            Lane::Mail => self.mail,
            Lane::Grading => self.grading,
        }
    }

    fn set(&mut self, lane: Lane, count: usize) {
        match lane {
            Lane::Lever => self.lever = count,
            Lane::Mail => self.mail = count,
            Lane::Grading => self.grading = count,
        }
    }

    pub fn total(&self) -> usize {
        self.lever + self.mail + self.grading
    }

    /// These counts for `lanes` only; the other lanes get none.
    pub fn only(&self, lanes: &[Lane]) -> LaneWorkers {
        let mut only = LaneWorkers::none();
        for lane in lanes {
            only.set(*lane, self.of(*lane));
        }
        only
    }

    /// Each lane's count from its variable (0 to 64; the default when unset). The Lever lane
    /// needs at least one unless it is explicitly set to 0.
    pub fn from_env() -> anyhow::Result<LaneWorkers> {
        let mut workers = LaneWorkers::default();
        for (lane, variable) in Self::VARIABLES {
            if let Some(raw) = env(variable) {
                let count = raw
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n <= 64 && (lane != Lane::Lever || *n >= 1))
                    .ok_or_else(|| {
                        let least = if lane == Lane::Lever { 1 } else { 0 };
                        anyhow!("{variable} must be a number from {least} to 64, not `{raw}`")
                    })?;
                workers.set(lane, count);
            }
        }
        Ok(workers)
    }
}

/// Reads `--lanes lever,mail` (or `all`): the lanes a `leverbridge worker` process runs.
pub fn parse_lanes(raw: &str) -> anyhow::Result<Vec<Lane>> {
    if raw.trim() == "all" {
        return Ok(Lane::ALL.to_vec());
    }
    let mut lanes = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let lane = Lane::from_stored(name).ok_or_else(|| {
            anyhow!("`{name}` is not a lane; the lanes are lever, mail and grading (or all)")
        })?;
        if !lanes.contains(&lane) {
            lanes.push(lane);
        }
    }
    if lanes.is_empty() {
        bail!("name at least one lane: lever, mail or grading (or all)");
    }
    Ok(lanes)
}

/// The bearer token a scraper not on this host sends to read `GET /metrics`.
#[derive(Clone)]
pub struct MetricsToken(secrecy::SecretString);

impl MetricsToken {
    /// Shorter tokens are refused: the metrics name the organizations' traffic.
    pub const MIN_LEN: usize = 16;

    pub fn parse(raw: &str) -> anyhow::Result<MetricsToken> {
        let raw = raw.trim();
        if raw.len() < Self::MIN_LEN {
            bail!(
                "LEVERBRIDGE_METRICS_TOKEN must be at least {} characters; make one with `openssl rand -hex 32`",
                Self::MIN_LEN
            );
        }
        if !raw.bytes().all(|b| b.is_ascii_graphic()) {
            bail!("LEVERBRIDGE_METRICS_TOKEN must be printable ASCII without spaces, as an Authorization header carries it");
        }
        Ok(MetricsToken(raw.to_owned().into()))
    }

    /// Whether `presented` is this token, compared in constant time.
    pub fn matches(&self, presented: &str) -> bool {
        use secrecy::ExposeSecret;
        use subtle::ConstantTimeEq;
        let expected = self.0.expose_secret().as_bytes();
        expected.len() == presented.len() && bool::from(expected.ct_eq(presented.as_bytes()))
    }
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(***)")
    }
}

/// Timings and limits that production leaves at their defaults and tests change.
#[derive(Clone, Debug)]
pub struct Tuning {
    /// Wait before a failed job runs again, after its first failed attempt; doubles per attempt
    /// up to `job_backoff_max`, with jitter.
    pub job_backoff_base: std::time::Duration,
    /// The longest wait between two attempts of a job.
    pub job_backoff_max: std::time::Duration,
    /// Attempts before a job is dead (shown on Events with a Retry button). With the backoff,
    /// they span a day and more, so a job outlasts a long Lever outage.
    pub job_max_attempts: i32,
    /// How long a claim on a job holds without news from its worker, which renews it while the
    /// job runs: a crashed worker's job is claimed again once this has passed.
    pub job_lease: std::time::Duration,
    /// The longest one attempt of a job may run, whatever it waits for: past it the attempt
    /// fails and is retried on the queue's schedule, so no worker is ever held for good.
    pub job_attempt_deadline: std::time::Duration,
    /// How long the oldest due job may wait for a worker before `/readyz` answers 503
    /// (`LEVERBRIDGE_QUEUE_WAIT_LIMIT`).
    pub queue_wait_limit: std::time::Duration,
    /// How often each worker expires the assessments that ran out and queues due reminders.
    pub expiry_sweep_every: std::time::Duration,
    /// The whole conversation with a mail server for one email (connecting, TLS, every reply):
    /// past it the attempt fails and is retried, however the server trickles its answers.
    pub smtp_deadline: std::time::Duration,
    /// On a graceful stop, how long running jobs may take to finish before they are released
    /// (due again at once, the attempt given back) for the next start.
    pub job_stop_grace: std::time::Duration,
    /// First wait before the Lever client repeats a 429 or 5xx.
    pub lever_backoff_base: std::time::Duration,
    /// Repeats of one Lever call before the job itself fails.
    pub lever_max_retries: u32,
    /// How long one Lever call may take.
    pub lever_timeout: std::time::Duration,
    /// How long a webhook delivery waits to be stored before it is answered 503 with
    /// `Retry-After` (Lever delivers it again), so a store that falls behind sheds load instead
    /// of holding connections open.
    pub intake_wait: std::time::Duration,
    /// How long history is kept, and how the sweep that deletes older rows paces itself.
    pub retention: Retention,
    /// A signed-in session unused for this long ends.
    pub session_idle: std::time::Duration,
    /// A signed-in session ends this long after sign-in, however busy.
    pub session_lifetime: std::time::Duration,
    /// What bounds sign-in attempts.
    pub login: LoginLimits,
    /// A request body must have arrived this long after its headers; otherwise 408 and the
    /// connection is closed (a body trickled in byte by byte would hold it open forever).
    pub request_body_timeout: std::time::Duration,
    /// Lever calls per second per organization, steady (Lever allows 10 per API key; the
    /// default is 9.8).
    pub lever_rate_per_sec: f64,
    /// Lever calls per organization that may go at once before the steady rate applies
    /// (Lever allows bursts of 20; the default is 19).
    pub lever_burst: u32,
    /// The time assessment deadlines are measured by: the system clock, or in tests one they
    /// move forward.
    pub clock: crate::clock::Clock,
    /// Certificates a mail server's TLS may chain to besides the public roots: none in
    /// production, the test mail server's own in the tests.
    pub smtp_extra_roots: SmtpRoots,
    /// What bounds the saves one candidate link can make.
    pub saves: SaveLimits,
    /// The reverse proxies whose forwarding headers name the client
    /// (`LEVERBRIDGE_TRUSTED_PROXIES`; none by default).
    pub trusted_proxies: crate::domain::TrustedProxies,
    /// Where and how candidates' code runs (`sandbox`).
    pub sandbox: SandboxTuning,
    /// What bounds the runs one candidate link can ask for.
    pub runs: RunPace,
}

/// The sandbox that compiles and runs candidates' code (README, "Running code").
#[derive(Clone, Debug)]
pub struct SandboxTuning {
    /// bubblewrap's binary.
    pub bwrap: std::path::PathBuf,
    /// Programs that may run at once in this process (`LEVERBRIDGE_SANDBOX_SLOTS`), each under
    /// its own unprivileged uid; more wait their turn, first come first served.
    pub slots: usize,
    /// The uid of the first slot (`LEVERBRIDGE_SANDBOX_UID`); slot n runs as this + n. No
    /// account on the host should use these uids.
    pub first_uid: u32,
    /// Limits of one run of a program.
    pub run: RunLimits,
    /// Limits of one compilation.
    pub compile: RunLimits,
    /// Size of the writable scratch directory (`/work`, a tmpfs) in the sandbox, and again of
    /// `/dev/shm`.
    pub scratch_bytes: u64,
    /// Runs reuse a sandbox kept built per slot (README, "Running code"); off, each run builds
    /// its own, as compilations do (the runner bench compares the two).
    pub warm: bool,
}

/// The limits one process tree in the sandbox runs under. CPU, memory, processes, file size
/// and open files are kernel limits set before exec; the wall clock and the output are the
/// server's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunLimits {
    pub cpu: std::time::Duration,
    pub wall: std::time::Duration,
    /// Writable private memory (`RLIMIT_DATA`): heap and anonymous maps, which is what a
    /// program fills; address space reserved and not written (a JIT's) does not count.
    pub memory_bytes: u64,
    pub processes: u64,
    pub file_bytes: u64,
    pub open_files: u64,
    /// Kept of stdout, and again of stderr; the rest is dropped and the output marked truncated.
    pub output_bytes: usize,
}

impl Default for SandboxTuning {
    fn default() -> Self {
        use std::time::Duration;
        SandboxTuning {
            bwrap: "/usr/bin/bwrap".into(),
            slots: 2,
            first_uid: 61000,
            run: RunLimits {
                cpu: Duration::from_secs(5),
                wall: Duration::from_secs(10),
                memory_bytes: 512 * 1024 * 1024,
                processes: 60,
                file_bytes: 1024 * 1024,
                open_files: 64,
                output_bytes: 64 * 1024,
            },
            compile: RunLimits {
                cpu: Duration::from_secs(20),
                wall: Duration::from_secs(30),
                memory_bytes: 1024 * 1024 * 1024,
                processes: 60,
                file_bytes: 64 * 1024 * 1024,
                open_files: 256,
                output_bytes: 64 * 1024,
            },
            scratch_bytes: 64 * 1024 * 1024,
            warm: true,
        }
    }
}

/// What bounds the runs (*Run*, *Run tests*) one candidate link can ask for.
#[derive(Clone, Copy, Debug)]
pub struct RunPace {
    /// The shortest time between two runs from one link.
    pub gap: std::time::Duration,
    /// Most runs in one attempt.
    pub per_attempt: i64,
    /// How long a request waits for its run before answering "queued" (202) and leaving the
    /// editor to poll.
    pub answer_within: std::time::Duration,
}

impl Default for RunPace {
    fn default() -> Self {
        RunPace {
            gap: std::time::Duration::from_secs(3),
            per_attempt: 200,
            answer_within: std::time::Duration::from_secs(8),
        }
    }
}

/// What one candidate link may store, so a hostile or broken editor cannot fill the database
/// or the reviewer's page (README, "The candidate's editor").
#[derive(Clone, Debug)]
pub struct SaveLimits {
    /// Saves (autosave or *Save*) one link may make at once, then one more each `period`;
    /// beyond that, 429 with `Retry-After`.
    pub pace: Throttle,
    /// Bytes of code one attempt may keep across its snapshots; past it, saves are refused
    /// and the last accepted save stays the submission.
    pub quota_bytes: usize,
    /// Playback keeps one snapshot per slot of this length since *Start*: a save in the same
    /// slot as the newest snapshot replaces it. Zero keeps every save (the tests' setting).
    pub snapshot_slot: std::time::Duration,
    /// Most snapshots one attempt keeps; at the cap each save replaces the newest.
    pub max_snapshots: i32,
}

impl Default for SaveLimits {
    fn default() -> Self {
        SaveLimits {
            pace: Throttle {
                burst: 20,
                period: std::time::Duration::from_secs(1),
            },
            quota_bytes: 20 * 1024 * 1024,
            snapshot_slot: std::time::Duration::from_secs(30),
            max_snapshots: 500,
        }
    }
}

/// What the retention sweep (`jobs::retention`) keeps, and how it deletes the rest: in batches
/// of `batch` rows per statement with `pause` between them, so neither backend is held for long.
#[derive(Clone, Debug)]
pub struct Retention {
    /// Finished jobs, webhook deliveries and recorded Lever calls older than this are deleted
    /// (`LEVERBRIDGE_RETENTION_DAYS`). Delivery tokens are kept for the replay window instead.
    pub keep: chrono::Duration,
    /// Rows deleted by one statement.
    pub batch: i64,
    /// Between two batches, so the intake and the workers get the database in between.
    pub pause: std::time::Duration,
    /// Between two sweeps.
    pub every: std::time::Duration,
}

impl Retention {
    pub const DEFAULT_DAYS: i64 = 90;
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            keep: chrono::Duration::days(Self::DEFAULT_DAYS),
            batch: 1000,
            pause: std::time::Duration::from_millis(100),
            every: std::time::Duration::from_secs(3600),
        }
    }
}

/// Sign-in limits: password checks are deliberately costly (argon2 takes ~19 MiB and tens of
/// milliseconds each), so their number at once and their rate are bounded.
#[derive(Clone, Debug)]
pub struct LoginLimits {
    /// Password checks running at once; a sign-in waits for a free one.
    pub hash_permits: usize,
    /// How long a sign-in waits for a free check before it gets 503.
    pub hash_wait: std::time::Duration,
    /// Attempts on one e-mail address (known or not, so the answer says nothing about which).
    pub per_account: Throttle,
    /// Attempts from one client address (IPv6 counted per /64).
    pub per_address: Throttle,
}

/// `burst` attempts at once, then one more each `period`; beyond that, 429.
#[derive(Clone, Copy, Debug)]
pub struct Throttle {
    pub burst: u32,
    pub period: std::time::Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        use std::time::Duration;
        LoginLimits {
            hash_permits: 2,
            hash_wait: Duration::from_secs(3),
            per_account: Throttle {
                burst: 5,
                period: Duration::from_secs(60),
            },
            per_address: Throttle {
                burst: 20,
                period: Duration::from_secs(6),
            },
        }
    }
}

impl Default for Tuning {
    fn default() -> Self {
        use std::time::Duration;
        Tuning {
            // With up to a quarter more of jitter, the first retry after a Lever outage comes
            // within 15 s; doubling to 6 hours, 15 attempts span more than a day.
            job_backoff_base: Duration::from_secs(12),
            job_backoff_max: Duration::from_secs(6 * 3600),
            job_max_attempts: 15,
            job_lease: Duration::from_secs(60),
            job_stop_grace: Duration::from_secs(10),
            job_attempt_deadline: Duration::from_secs(600),
            queue_wait_limit: Duration::from_secs(QUEUE_WAIT_LIMIT_DEFAULT_SECS),
            expiry_sweep_every: Duration::from_secs(60),
            smtp_deadline: Duration::from_secs(60),
            lever_backoff_base: Duration::from_millis(500),
            lever_max_retries: 4,
            lever_timeout: Duration::from_secs(15),
            intake_wait: Duration::from_secs(10),
            retention: Retention::default(),
            session_idle: Duration::from_secs(12 * 3600),
            session_lifetime: Duration::from_secs(7 * 24 * 3600),
            login: LoginLimits::default(),
            request_body_timeout: Duration::from_secs(20),
            // Just under Lever's limit: requests leave at the bucket's pace but reach Lever with
            // some jitter. Starting one token short of Lever's burst, and earning 0.2 a second
            // less than Lever, leaves a margin that only grows; a tenth under (9/s) would make
            // a bulk move take 10% longer than Lever allows.
            lever_rate_per_sec: crate::lever::LEVER_RATE_PER_SEC * 0.98,
            lever_burst: crate::lever::LEVER_BURST - 1,
            clock: crate::clock::Clock::system(),
            smtp_extra_roots: SmtpRoots::default(),
            saves: SaveLimits::default(),
            trusted_proxies: Default::default(),
            sandbox: SandboxTuning::default(),
            runs: RunPace::default(),
        }
    }
}

impl Tuning {
    /// The idle and absolute limits of a signed-in session.
    pub fn session_limits(&self) -> SessionLimits {
        SessionLimits {
            idle: self.session_idle,
            absolute: self.session_lifetime,
            clock: self.clock.clone(),
        }
    }
}

impl Settings {
    /// Reads every setting from the environment; a missing or malformed value is an error that
    /// says which variable and how to fix it.
    pub fn from_env() -> anyhow::Result<Self> {
        let bind = bind_from_env()?;
        let database_url = database_url_from_env()?;
        let public_url = public_url(env("LEVERBRIDGE_PUBLIC_URL").as_deref(), bind)?;
        let secret_key = match env("LEVERBRIDGE_SECRET_KEY") {
            Some(raw) => SecretKey::from_base64(&raw).context("LEVERBRIDGE_SECRET_KEY is invalid")?,
            None => bail!(
                "LEVERBRIDGE_SECRET_KEY is not set. It signs sessions and encrypts secrets at rest. \
                 Make one with `openssl rand -base64 32` and export it, e.g. \
                 export LEVERBRIDGE_SECRET_KEY=\"$(openssl rand -base64 32)\""
            ),
        };
        let workers = LaneWorkers::from_env()?;
        Ok(Settings {
            bind,
            database_url,
            public_url,
            secret_key,
            lever: LeverHosts {
                api_url: env("LEVERBRIDGE_LEVER_API_URL"),
                auth_url: env("LEVERBRIDGE_LEVER_AUTH_URL"),
            },
            lever_app: lever_app_from_env()?,
            workers,
            metrics_token: metrics_token_from_env()?,
            tuning: Tuning {
                retention: retention_from_env()?,
                trusted_proxies: trusted_proxies_from_env()?,
                queue_wait_limit: queue_wait_limit_from_env()?,
                sandbox: sandbox_from_env()?,
                ..Tuning::default()
            },
        })
    }

    /// Whether cookies must carry `Secure`.
    pub fn https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// An absolute URL under the public base, e.g. `absolute_url("/a/TOKEN")`.
    pub fn absolute_url(&self, path: &str) -> String {
        format!("{}{}", self.public_url.as_str().trim_end_matches('/'), path)
    }
}

/// `LEVERBRIDGE_SANDBOX_SLOTS` (1 to 64) and `LEVERBRIDGE_SANDBOX_UID` (1000 to 4294900000).
fn sandbox_from_env() -> anyhow::Result<SandboxTuning> {
    let mut sandbox = SandboxTuning::default();
    if let Some(raw) = env("LEVERBRIDGE_SANDBOX_SLOTS") {
        sandbox.slots = match raw.trim().parse::<usize>() {
            Ok(n) if (1..=64).contains(&n) => n,
            _ => bail!("LEVERBRIDGE_SANDBOX_SLOTS must be a whole number from 1 to 64 (programs run at once); “{raw}” is not"),
        };
    }
    if let Some(raw) = env("LEVERBRIDGE_SANDBOX_UID") {
        sandbox.first_uid = match raw.trim().parse::<u32>() {
            Ok(n) if (1000..=4_294_900_000).contains(&n) => n,
            _ => bail!("LEVERBRIDGE_SANDBOX_UID must be a uid from 1000 to 4294900000 that no account uses (the first sandbox slot's); “{raw}” is not"),
        };
    }
    Ok(sandbox)
}

/// `LEVERBRIDGE_LEVER_CLIENT_ID` and `LEVERBRIDGE_LEVER_CLIENT_SECRET`: both, or neither.
pub fn lever_app_from_env() -> anyhow::Result<Option<crate::lever::oauth::OAuthApp>> {
    match (
        env("LEVERBRIDGE_LEVER_CLIENT_ID"),
        env("LEVERBRIDGE_LEVER_CLIENT_SECRET"),
    ) {
        (Some(client_id), Some(secret)) => Ok(Some(crate::lever::oauth::OAuthApp {
            client_id: client_id.trim().to_owned(),
            client_secret: secret.trim().to_owned().into(),
        })),
        (None, None) => Ok(None),
        (Some(_), None) => bail!(
            "LEVERBRIDGE_LEVER_CLIENT_ID is set but LEVERBRIDGE_LEVER_CLIENT_SECRET is not: set both (from Lever's partner app registration) or neither"
        ),
        (None, Some(_)) => bail!(
            "LEVERBRIDGE_LEVER_CLIENT_SECRET is set but LEVERBRIDGE_LEVER_CLIENT_ID is not: set both (from Lever's partner app registration) or neither"
        ),
    }
}

/// `LEVERBRIDGE_METRICS_TOKEN`, when set.
pub fn metrics_token_from_env() -> anyhow::Result<Option<MetricsToken>> {
    env("LEVERBRIDGE_METRICS_TOKEN")
        .map(|raw| MetricsToken::parse(&raw))
        .transpose()
}

/// `LEVERBRIDGE_QUEUE_WAIT_LIMIT`'s default, in seconds.
pub const QUEUE_WAIT_LIMIT_DEFAULT_SECS: u64 = 600;

/// `LEVERBRIDGE_QUEUE_WAIT_LIMIT` in seconds, or the default ten minutes.
pub fn queue_wait_limit_from_env() -> anyhow::Result<std::time::Duration> {
    let Some(raw) = env("LEVERBRIDGE_QUEUE_WAIT_LIMIT") else {
        return Ok(std::time::Duration::from_secs(
            QUEUE_WAIT_LIMIT_DEFAULT_SECS,
        ));
    };
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|secs| (10..=86_400).contains(secs))
        .map(std::time::Duration::from_secs)
        .ok_or_else(|| {
            anyhow!("LEVERBRIDGE_QUEUE_WAIT_LIMIT must be a number of seconds from 10 to 86400, not `{raw}`")
        })
}

/// `LEVERBRIDGE_RETENTION_DAYS`, or the default 90 days, with the sweep's default pacing.
pub fn retention_from_env() -> anyhow::Result<Retention> {
    let keep = match env("LEVERBRIDGE_RETENTION_DAYS") {
        Some(raw) => retention_days(&raw)?,
        None => Retention::DEFAULT_DAYS,
    };
    Ok(Retention {
        keep: chrono::Duration::days(keep),
        ..Retention::default()
    })
}

fn retention_days(raw: &str) -> anyhow::Result<i64> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|days| (1..=3650).contains(days))
        .ok_or_else(|| {
            anyhow!(
                "LEVERBRIDGE_RETENTION_DAYS must be a number of days from 1 to 3650, not `{raw}`"
            )
        })
}

/// `LEVERBRIDGE_TRUSTED_PROXIES`, or none.
pub fn trusted_proxies_from_env() -> anyhow::Result<crate::domain::TrustedProxies> {
    let raw = env("LEVERBRIDGE_TRUSTED_PROXIES").unwrap_or_default();
    crate::domain::TrustedProxies::parse(&raw).context("LEVERBRIDGE_TRUSTED_PROXIES is invalid")
}

/// `LEVERBRIDGE_BIND`, or the default `127.0.0.1:8080`.
pub fn bind_from_env() -> anyhow::Result<SocketAddr> {
    let raw = env("LEVERBRIDGE_BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
    raw.parse().map_err(|_| {
        anyhow!("LEVERBRIDGE_BIND must be HOST:PORT such as 127.0.0.1:8080, not `{raw}`")
    })
}

/// `LEVERBRIDGE_DATABASE_URL`, or the embedded default `sqlite://data/leverbridge.db`.
pub fn database_url_from_env() -> anyhow::Result<DatabaseUrl> {
    let raw =
        env("LEVERBRIDGE_DATABASE_URL").unwrap_or_else(|| "sqlite://data/leverbridge.db".into());
    DatabaseUrl::parse(&raw).context("LEVERBRIDGE_DATABASE_URL is invalid")
}

/// The public base URL: the given one (must be http or https), or `http://BIND`.
pub fn public_url(raw: Option<&str>, bind: SocketAddr) -> anyhow::Result<url::Url> {
    let raw = raw
        .map(str::to_owned)
        .unwrap_or_else(|| format!("http://{bind}"));
    let url = url::Url::parse(&raw)
        .map_err(|e| anyhow!("LEVERBRIDGE_PUBLIC_URL `{raw}` is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        bail!("LEVERBRIDGE_PUBLIC_URL must be an http:// or https:// URL, not `{raw}`");
    }
    Ok(url)
}

/// A fresh random secret key in the base64 form `LEVERBRIDGE_SECRET_KEY` takes.
pub fn generate_secret_key_base64() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_is_a_number_of_days_within_ten_years() {
        assert_eq!(retention_days("30").unwrap(), 30);
        assert_eq!(retention_days(" 3650 ").unwrap(), 3650);
        for bad in ["0", "-5", "3651", "ninety", "1.5"] {
            let err = retention_days(bad).unwrap_err().to_string();
            assert!(err.contains("LEVERBRIDGE_RETENTION_DAYS"), "{err}");
        }
    }

    #[test]
    fn a_metrics_token_is_long_enough_and_compared_whole() {
        assert!(MetricsToken::parse("short").is_err());
        assert!(MetricsToken::parse("has a space in it, sixteen+").is_err());
        let token = MetricsToken::parse("0123456789abcdef0123").unwrap();
        assert!(token.matches("0123456789abcdef0123"));
        assert!(!token.matches("0123456789abcdef012"));
        assert!(!token.matches("0123456789abcdef01234"));
        assert!(!format!("{token:?}").contains("0123"));
    }

    #[test]
    fn public_url_must_be_http() {
        let bind: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(
            public_url(None, bind).unwrap().as_str(),
            "http://127.0.0.1:8080/"
        );
        assert!(public_url(Some("ftp://x"), bind).is_err());
    }
}
