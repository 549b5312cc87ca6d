//! `leverbridge serve` processes (as in `tests/api/oauth.rs`), each with its job workers, for the
//! run where two replicas share one PostgreSQL database and one Lever key per organization.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};

/// A running `leverbridge serve`.
pub struct Replica {
    child: Child,
    pub port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

/// A free port on loopback, so the webhook URL can name it before the process starts.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Replica {
    /// Starts `serve` on `port` with production's defaults (two job workers, Lever's pace)
    /// and the simulator as its Lever.
    pub fn start(
        port: u16,
        database_url: &str,
        secret_key: &str,
        lever_api_url: &str,
    ) -> anyhow::Result<Replica> {
        let dir = tempfile::tempdir().context("Failed to create a temp dir")?;
        let log = dir.path().join("serve.log");
        let child = Command::new(env!("CARGO_BIN_EXE_leverbridge"))
            .arg("serve")
            .env("LEVERBRIDGE_BIND", format!("127.0.0.1:{port}"))
            .env("LEVERBRIDGE_DATABASE_URL", database_url)
            .env("LEVERBRIDGE_SECRET_KEY", secret_key)
            .env("LEVERBRIDGE_LEVER_API_URL", lever_api_url)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("Failed to start `leverbridge serve`")?;
        Ok(Replica {
            child,
            port,
            log,
            _dir: dir,
        })
    }

    /// The process id, to read its memory from `/proc`.
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub async fn wait_ready(&mut self, http: &reqwest::Client) -> anyhow::Result<()> {
        for _ in 0..300 {
            if let Ok(answer) = http.get(format!("{}/readyz", self.url())).send().await {
                if answer.status().is_success() {
                    return Ok(());
                }
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("serve exited ({status}): {}", self.log_tail(20));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("serve never got ready: {}", self.log_tail(20))
    }

    /// The last `lines` lines of its log.
    pub fn log_tail(&self, lines: usize) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Stops it as an orchestrator would (SIGTERM, then a kill after ten seconds).
    pub async fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..100 {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    /// A replica still running when the bench fails is killed.
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
