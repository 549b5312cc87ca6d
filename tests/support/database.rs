//! A fresh database per run, on either backend, removed afterwards. Shared by the API tests
//! (`tests/api`) and the ingest bench (`benches/ingest`), each of which includes this file as a
//! module of its own.

use anyhow::Context;
use diesel::{Connection, PgConnection, RunQueryDsl};
use leverbridge::config::DatabaseUrl;

/// Which database a run uses.
#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite,
    /// With the administrative URL the fresh database is created through.
    Postgres(String),
}

/// A fresh database: a SQLite file in a temporary directory, or a PostgreSQL database named
/// `{prefix}_{random}`; dropping it removes it.
pub struct FreshDatabase {
    pub url: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
    pg_cleanup: Option<(String, String)>,
}

impl FreshDatabase {
    pub fn new(backend: &Backend, prefix: &str) -> anyhow::Result<FreshDatabase> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().context("Failed to create a temp dir")?;
                Ok(FreshDatabase {
                    url: DatabaseUrl::Sqlite(dir.path().join("leverbridge.db")),
                    _dir: Some(dir),
                    pg_cleanup: None,
                })
            }
            Backend::Postgres(admin_url) => {
                let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::establish(admin_url)
                    .context("Failed to connect to LEVERBRIDGE_TEST_POSTGRES")?;
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .with_context(|| format!("Failed to create the database {name}"))?;
                let mut url =
                    url::Url::parse(admin_url).context("LEVERBRIDGE_TEST_POSTGRES is not a URL")?;
                url.set_path(&name);
                Ok(FreshDatabase {
                    url: DatabaseUrl::Postgres(url.to_string()),
                    _dir: None,
                    pg_cleanup: Some((admin_url.clone(), name)),
                })
            }
        }
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.pg_cleanup.take() else {
            return;
        };
        // On a thread of its own: the connection blocks, and this may run on an async thread.
        // FORCE: a server that is still up (idle) holds pooled connections to the database.
        let dropped = std::thread::spawn(move || {
            let mut admin = PgConnection::establish(&admin_url)?;
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)?;
            anyhow::Ok(())
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("warning: could not drop a fresh database: {e}"),
            Err(_) => eprintln!("warning: dropping a fresh database panicked"),
        }
    }
}
