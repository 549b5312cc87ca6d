//! Hardening of the HTTP edge and the files: `/readyz` leaks no database error, and the SQLite
//! files are private.

use leverbridge::config::DatabaseUrl;

use crate::both_backends;
use crate::helpers::{spawn_app_configured, Backend};

both_backends!(readiness_never_shows_the_raw_database_error);

async fn readiness_never_shows_the_raw_database_error(backend: Backend) {
    let app = spawn_app_configured(backend, |_| {}).await;
    // Break the database under the running server: its migration table loses a column.
    app.db
        .run(|conn| {
            use diesel::connection::SimpleConnection;
            conn.batch_execute(
                "ALTER TABLE __diesel_schema_migrations RENAME COLUMN version TO moved_version",
            )
            .map_err(leverbridge::db::DbError::from)
        })
        .await
        .unwrap();
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    let body = response.text().await.unwrap();
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "unavailable");
    assert_eq!(json["reason"], "database unavailable");
    assert!(!body.contains("version"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_database_and_its_log_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app_configured(Backend::Sqlite, |_| {}).await;
    app.create_user("admin@acme.test", Some("acme"), "admin")
        .await;
    let DatabaseUrl::Sqlite(path) = app.database.url.clone() else {
        unreachable!("SQLite")
    };
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", path.display());
        let mode = std::fs::metadata(&file)
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file} has mode {:o}", mode & 0o777);
    }
}
