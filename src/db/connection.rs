//! Connections, the pool, migrations and the blocking bridge.

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{ManageConnection, Pool, PooledConnection};
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::domain::DatabaseUrl;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One connection to either backend; queries written against it run on both.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

/// Why a database step failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("could not connect to the database {url}: {message}")]
    Connect { url: String, message: String },
    #[error("the database is busy or unreachable: {0}")]
    Pool(String),
    #[error(transparent)]
    Query(diesel::result::Error),
    /// A stored row could not be read: it holds a value this version does not know (a state a
    /// newer version wrote, say). The message names the column and the value.
    #[error("{0}")]
    Unreadable(String),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("the database task was cancelled")]
    Cancelled,
}

impl From<diesel::result::Error> for DbError {
    fn from(error: diesel::result::Error) -> DbError {
        match &error {
            // The deepest cause says what was found (`domain::UnknownStored`); diesel's own
            // wrapper only says which field it was reading.
            diesel::result::Error::DeserializationError(cause) => {
                let mut deepest: &(dyn std::error::Error + 'static) = cause.as_ref();
                while let Some(inner) = deepest.source() {
                    deepest = inner;
                }
                DbError::Unreadable(deepest.to_string())
            }
            _ => DbError::Query(error),
        }
    }
}

/// Opens connections for r2d2, choosing the backend from the URL so the real error (wrong
/// password, missing file) reaches the user instead of MultiConnection's generic one.
#[derive(Clone, Debug)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{0}")]
    Connection(#[from] diesel::ConnectionError),
    #[error("{0}")]
    Query(#[from] diesel::result::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConn;
    type Error = ConnectError;

    fn connect(&self) -> Result<DbConn, ConnectError> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)?;
                }
                create_owner_only(path)?;
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())?;
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; \
                     PRAGMA journal_size_limit = 67108864; PRAGMA wal_autocheckpoint = 0;",
                )?;
                restrict_sqlite_companions(path)?;
                Ok(DbConn::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => Ok(DbConn::Pg(PgConnection::establish(url)?)),
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), ConnectError> {
        conn.batch_execute("SELECT 1").map_err(Into::into)
    }

    /// A connection handed back by a panicking thread (perhaps mid-transaction) or whose
    /// transaction state diesel reports broken is dropped, not reused.
    fn has_broken(&self, conn: &mut DbConn) -> bool {
        use diesel::r2d2::R2D2Connection;
        std::thread::panicking()
            || match conn {
                DbConn::Sqlite(c) => c.is_broken(),
                DbConn::Pg(c) => c.is_broken(),
            }
    }
}

/// Creates the SQLite file readable and writable by its owner only (0600, whatever the umask),
/// before SQLite opens it: it holds password hashes and sealed Lever credentials. The demo's
/// key file is made the same way.
pub(crate) fn create_owner_only(path: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(file) => file.set_permissions(std::fs::Permissions::from_mode(0o600))?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// SQLite gives the write-ahead log and its index the database file's mode; they are set to
/// 0600 here as well, so a log left by an older version or another tool is tightened too.
fn restrict_sqlite_companions(path: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    for suffix in ["-wal", "-shm"] {
        use std::os::unix::fs::PermissionsExt;
        let mut companion = path.as_os_str().to_owned();
        companion.push(suffix);
        let companion = std::path::PathBuf::from(companion);
        match std::fs::metadata(&companion) {
            Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
                std::fs::set_permissions(&companion, std::fs::Permissions::from_mode(0o600))?
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// The pool, cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnectionManager>,
    url: DatabaseUrl,
}

impl Db {
    /// Connects once directly (so a bad URL fails fast with the real reason), then builds the pool.
    pub fn connect(url: &DatabaseUrl) -> Result<Db, DbError> {
        let manager = ConnectionManager { url: url.clone() };
        let first = manager.connect().map_err(|e| DbError::Connect {
            url: url.redacted(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        drop(first);
        let size = match url {
            DatabaseUrl::Sqlite(_) => 8,
            DatabaseUrl::Postgres(_) => 12,
        };
        let pool = Pool::builder()
            .max_size(size)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(15))
            .build(manager)
            .map_err(|e| DbError::Pool(e.to_string()))?;
        Ok(Db {
            pool,
            url: url.clone(),
        })
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.url, DatabaseUrl::Postgres(_))
    }

    /// A pooled connection for blocking code.
    pub fn get(&self) -> Result<PooledConnection<ConnectionManager>, DbError> {
        self.pool.get().map_err(|e| DbError::Pool(e.to_string()))
    }

    /// Runs a blocking diesel function on the blocking thread pool.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool
                .get()
                .map_err(|e| E::from(DbError::Pool(e.to_string())))?;
            f(&mut conn)
        })
        .await
        .map_err(|_| E::from(DbError::Cancelled))?
    }

    /// Applies every pending migration of this backend.
    pub fn migrate(&self) -> Result<Vec<String>, DbError> {
        let mut conn = self.get()?;
        let applied = match &mut *conn {
            DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
            DbConn::Pg(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
        }
        .map_err(|e| DbError::Migration(e.to_string()))?;
        Ok(applied.iter().map(|v| v.to_string()).collect())
    }

    /// SQLite only: copies the write-ahead log into the database now and then, off the path of
    /// any commit (connections do not checkpoint on their own, so no commit waits for an fsync).
    /// A passive checkpoint never blocks readers or the writer.
    pub fn spawn_sqlite_checkpoints(&self) {
        if self.is_postgres() {
            return;
        }
        let db = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            for n in 0u64.. {
                tick.tick().await;
                // Every minute a truncating checkpoint resets the log (it waits for a quiet
                // moment); in between, passive ones never block anyone.
                let sql = if n % 60 == 59 {
                    "PRAGMA wal_checkpoint(TRUNCATE)"
                } else {
                    "PRAGMA wal_checkpoint(PASSIVE)"
                };
                let result = db
                    .run(move |conn| conn.batch_execute(sql).map_err(DbError::from))
                    .await;
                if let Err(e) = result {
                    tracing::warn!(error = %e, "SQLite checkpoint failed; it is tried again in a second");
                }
            }
        });
    }

    /// Whether the database answers and every migration has been applied (for `/readyz`).
    pub fn ready(&self) -> Result<(), String> {
        let mut conn = self.get().map_err(|e| e.to_string())?;
        conn.batch_execute("SELECT 1").map_err(|e| e.to_string())?;
        let pending = match &mut *conn {
            DbConn::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
            DbConn::Pg(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
        }
        .map_err(|e| e.to_string())?;
        if pending {
            return Err("migrations are pending; run `leverbridge migrate`".into());
        }
        Ok(())
    }
}

/// Runs `f` in a transaction that takes the write lock up front: `BEGIN IMMEDIATE` on SQLite
/// (so two writers wait for each other instead of failing on a lock upgrade), a normal
/// transaction on PostgreSQL.
pub fn write_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        DbConn::Pg(_) => return conn.transaction(f),
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
    }
    let result = f(conn);
    let DbConn::Sqlite(c) = conn else {
        unreachable!("matched above")
    };
    match result {
        Ok(value) => {
            if let Err(e) = AnsiTransactionManager::commit_transaction(c) {
                let _ = AnsiTransactionManager::rollback_transaction(c);
                return Err(e.into());
            }
            Ok(value)
        }
        Err(e) => {
            let _ = AnsiTransactionManager::rollback_transaction(c);
            Err(e)
        }
    }
}

/// Runs `save` in a write transaction; if it loses a race to a concurrent save (a unique or
/// foreign-key violation at its insert: PostgreSQL runs the check and the insert of two saves
/// concurrently), runs it once more, when its own check finds what the other save did and can
/// explain it to the user instead of failing.
pub fn save_rechecked<T, F>(conn: &mut DbConn, mut save: F) -> Result<T, DbError>
where
    F: FnMut(&mut DbConn) -> Result<T, DbError>,
{
    use diesel::result::{DatabaseErrorKind, Error};
    match write_transaction(conn, &mut save) {
        Err(DbError::Query(Error::DatabaseError(
            DatabaseErrorKind::UniqueViolation | DatabaseErrorKind::ForeignKeyViolation,
            _,
        ))) => write_transaction(conn, save),
        result => result,
    }
}
