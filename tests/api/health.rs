//! Health checks, migrations on both backends, and a database URL that cannot be used.

use diesel::{QueryDsl, RunQueryDsl};
use leverbridge::config::DatabaseUrl;
use leverbridge::db::Db;

use crate::both_backends;
use crate::helpers::{spawn_app, Backend, TestDatabase};

both_backends!(
    health_and_readiness_answer,
    migrations_apply_once_and_create_the_schema
);

async fn health_and_readiness_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(
        ready.json::<serde_json::Value>().await.unwrap()["status"],
        "ready"
    );
}

async fn migrations_apply_once_and_create_the_schema(backend: Backend) {
    let database = TestDatabase::new(&backend);
    let url = database.url.clone();
    tokio::task::spawn_blocking(move || {
        let db = Db::connect(&url).unwrap();
        assert_eq!(
            db.ready().unwrap_err(),
            "migrations are pending; run `leverbridge migrate`"
        );
        let applied = db.migrate().unwrap();
        assert!(!applied.is_empty());
        assert!(
            db.migrate().unwrap().is_empty(),
            "a second run applies nothing"
        );
        db.ready().unwrap();
        let mut conn = db.get().unwrap();
        use leverbridge::db::schema::{memberships, organizations, users};
        let counts: Vec<i64> = vec![
            organizations::table.count().get_result(&mut *conn).unwrap(),
            users::table.count().get_result(&mut *conn).unwrap(),
            memberships::table.count().get_result(&mut *conn).unwrap(),
        ];
        assert_eq!(counts, vec![0, 0, 0], "every table exists and starts empty");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_not_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::Sqlite(dir.path().join("x.db"));
    let db = Db::connect(&url).unwrap();
    assert!(db.ready().is_err());
}

#[test]
fn a_bad_database_url_gives_a_one_line_error() {
    let bin = env!("CARGO_BIN_EXE_leverbridge");
    let cases = [
        (
            "postgres://nobody:secret@127.0.0.1:1/none",
            "could not connect to the database postgres://nobody:***@127.0.0.1:1/none",
        ),
        (
            "mysql://root@localhost/x",
            "unsupported database URL scheme `mysql://`",
        ),
        (
            "sqlite:///proc/no/such/dir/x.db",
            "could not connect to the database sqlite:///proc/no/such/dir/x.db",
        ),
    ];
    for (url, expected) in cases {
        let output = std::process::Command::new(bin)
            .arg("migrate")
            .env("LEVERBRIDGE_DATABASE_URL", url)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{url}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.trim().lines().last().unwrap_or_default();
        assert!(
            last.starts_with("error: ") && last.contains(expected),
            "{url}: {stderr}"
        );
        assert!(!stderr.contains("secret"), "the password is never printed");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn serve_refuses_to_start_without_a_secret_key() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_leverbridge"))
        .arg("serve")
        .env_remove("LEVERBRIDGE_SECRET_KEY")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("LEVERBRIDGE_SECRET_KEY is not set")
            && stderr.contains("openssl rand -base64 32")
    );
}
