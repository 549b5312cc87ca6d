//! `leverbridge serve` processes beside the test, as replicas sharing one database.

use std::time::Duration;

use crate::lever_world::LeverAccount;

/// A `leverbridge serve` process.
pub struct Replica {
    child: std::process::Child,
    port: u16,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Replica {
    /// `leverbridge serve` on `database_url` with secret `key`, pointed at `lever`'s simulator
    /// (API and OAuth), with `extra` environment variables.
    pub fn start(
        database_url: &str,
        key: &str,
        lever: &LeverAccount,
        extra: &[(&'static str, String)],
    ) -> Replica {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("serve.log");
        let (child, port) = crate::child_process::spawn_serve(|serve| {
            serve
                .env("LEVERBRIDGE_DATABASE_URL", database_url)
                .env("LEVERBRIDGE_SECRET_KEY", key)
                .env(
                    "LEVERBRIDGE_LEVER_API_URL",
                    format!("{}/v1", lever.sim.base_url()),
                )
                .env("LEVERBRIDGE_LEVER_AUTH_URL", lever.sim.base_url())
                .envs(extra.iter().map(|(k, v)| (*k, v.as_str())))
                .env("LEVERBRIDGE_WORKERS", "3")
                .env("RUST_LOG", "info")
                .stderr(std::fs::File::create(&log).unwrap());
        });
        Replica {
            child,
            port,
            log,
            _dir: dir,
        }
    }

    /// Its address, e.g. `http://127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub async fn wait_ready(&self) {
        let http = reqwest::Client::new();
        for _ in 0..300 {
            if let Ok(answer) = http
                .get(format!("http://127.0.0.1:{}/readyz", self.port))
                .send()
                .await
            {
                if answer.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "serve never got ready: {}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    /// Stops it (SIGTERM, as orchestrators do) and returns its log.
    pub fn stop(mut self) -> String {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..100 {
            if self.child.try_wait().ok().flatten().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}
