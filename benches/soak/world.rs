//! What a run measures against: the simulated Lever and a mail server in this process, one
//! organization connected as the demo connects its own, a reviewer, and `leverbridge serve`
//! as a child process on a fresh SQLite file with production's defaults.

use std::time::Duration;

use anyhow::Context;
use leverbridge::commands::create_user::{create_user, NewUser};
use leverbridge::config::DatabaseUrl;
use leverbridge::crypto::SecretKey;
use leverbridge::db::{self, Db};
use leverbridge::domain::org_settings::{
    Value, EMAIL_ENABLED, SMTP_FROM, SMTP_HOST, SMTP_PORT, SMTP_TLS,
};
use leverbridge::mailbox::Mailbox;

use crate::database::{Backend, FreshDatabase};
use crate::lever::{Account, Lever};
use crate::replica::{free_port, Replica};

pub const SLUG: &str = "soak";
pub const REVIEWER: &str = "soak-reviewer@leverbridge.test";
pub const PASSWORD: &str = "soak-reviewer-password-7c1e";

pub struct World {
    pub lever: Lever,
    pub account: Account,
    pub serve: Replica,
    pub db: Db,
    pub database: FreshDatabase,
    pub mailbox: Mailbox,
}

impl World {
    pub async fn start() -> anyhow::Result<World> {
        let lever = Lever::start().await?;
        let mailbox = Mailbox::start_on_loopback().await?;
        let database = FreshDatabase::new(&Backend::Sqlite, "lb_soak")?;
        let DatabaseUrl::Sqlite(path) = &database.url else {
            unreachable!("a SQLite database")
        };
        let database_url = format!("sqlite://{}", path.display());
        let key = leverbridge::config::generate_secret_key_base64();
        let secret = SecretKey::from_base64(&key)?;
        let db = crate::org::migrated(&database.url).await?;
        let api_url = format!("{}/v1", lever.sim.base_url());
        let access = crate::org::access(&api_url, &secret);
        let account = lever.account("Soak Robotics", 0).await?;
        let port = free_port()?;
        let public_base = format!("http://127.0.0.1:{port}");
        crate::org::connect(&db, &access, &secret, &lever, &account, SLUG, &public_base).await?;
        emails_to(&db, mailbox.port()).await?;
        let url = database.url.clone();
        tokio::task::spawn_blocking(move || {
            create_user(
                &url,
                NewUser {
                    email: REVIEWER.into(),
                    org: Some(SLUG.into()),
                    org_name: None,
                    role: "reviewer".into(),
                    password: PASSWORD.into(),
                },
            )
        })
        .await??;

        let mut serve = Replica::start(port, &database_url, &key, &api_url)?;
        serve.wait_ready(&reqwest::Client::new()).await?;
        // Let the buckets refill after the connection test.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        Ok(World {
            lever,
            account,
            serve,
            db,
            database,
            mailbox,
        })
    }

    /// `serve`'s resident memory now, in MiB.
    pub fn rss_mib(&self) -> anyhow::Result<f64> {
        rss_of(&self.serve.pid().to_string()).context("serve is gone")
    }

    /// The database file with its WAL, in MiB.
    pub fn database_mib(&self) -> f64 {
        let DatabaseUrl::Sqlite(path) = &self.database.url else {
            return 0.0;
        };
        let size = |p: std::path::PathBuf| std::fs::metadata(p).map_or(0, |m| m.len());
        let wal = path.with_extension("db-wal");
        (size(path.clone()) + size(wal)) as f64 / (1024.0 * 1024.0)
    }

    pub async fn stop(self) {
        self.serve.stop().await;
        self.lever.sim.stop().await;
        drop(self.db);
        drop(self.database);
    }
}

/// Candidate emails on, sent to this run's mail server, as the demo sends its own.
async fn emails_to(db: &Db, port: u16) -> anyhow::Result<()> {
    db.run(move |conn| -> Result<(), db::DbError> {
        let org = db::orgs::find_by_slug(conn, SLUG)?.ok_or(diesel::result::Error::NotFound)?;
        let mut values = db::settings::values(conn, &org.id)?;
        values.set(&EMAIL_ENABLED, Value::Toggle(true));
        values.set(&SMTP_HOST, Value::Text("127.0.0.1".into()));
        values.set(&SMTP_PORT, Value::Number(port.into()));
        values.set(&SMTP_TLS, Value::Text("none".into()));
        values.set(
            &SMTP_FROM,
            Value::Text("Soak Robotics <recruiting@soak.example>".into()),
        );
        db::settings::save(conn, &org.id, &values, "bench")?;
        Ok(())
    })
    .await?;
    Ok(())
}

/// The resident memory of process `pid` (or `self`), in MiB, from `/proc`.
pub fn rss_of(pid: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// This process's resident memory: the simulated Lever (every candidate, note and report it
/// was sent), its mail server and the load.
pub fn own_rss_mib() -> f64 {
    rss_of("self").unwrap_or(0.0)
}
