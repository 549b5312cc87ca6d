//! Health checks, migrations on both backends, and a database URL that cannot be used.

use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use leverbridge::config::DatabaseUrl;
use leverbridge::db::Db;

use crate::both_backends;
use crate::helpers::{spawn_app, test_database, Backend};

both_backends!(
    health_and_readiness_answer,
    migrations_apply_once_and_create_the_schema,
    the_webhook_figures_migration_counts_deliveries_already_stored
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
    let database = test_database(&backend);
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

/// Migration 4 moved the Webhooks page's figures into `webhook_event_stats`; on a database that
/// already holds deliveries it must count them as the page did before.
async fn the_webhook_figures_migration_counts_deliveries_already_stored(backend: Backend) {
    use diesel::connection::SimpleConnection;
    use leverbridge::db::schema::webhook_events;
    use leverbridge::db::webhooks::{stats, WebhookEvent};
    use leverbridge::domain::DeliveryStatus;

    let database = test_database(&backend);
    let url = database.url.clone();
    let dialect = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres(_) => "postgres",
    };
    tokio::task::spawn_blocking(move || {
        let db = Db::connect(&url).unwrap();
        db.migrate().unwrap();
        let mut conn = db.get().unwrap();
        let org = leverbridge::db::orgs::find_or_create(&mut conn, "acme", "Acme").unwrap();
        let at = |s: &str| {
            chrono::NaiveDateTime::parse_from_str(&format!("2026-11-20 {s}"), "%F %T").unwrap()
        };
        let stored = [
            ("candidateStageChange", "fired", true, "10:00:00"),
            ("candidateStageChange", "duplicate", true, "10:00:01"),
            ("candidateStageChange", "rejected", false, "10:00:03"),
            ("candidateStageChange", "rejected", true, "10:00:02"),
            ("candidateHired", "verification", true, "09:00:00"),
            ("candidateHired", "recorded", true, "09:30:00"),
            ("interviewCreated", "rejected", false, "11:00:00"),
        ];
        for (i, (event, status, valid, time)) in stored.into_iter().enumerate() {
            let row = WebhookEvent {
                id: format!("event-{i}"),
                org_id: org.id.clone(),
                received_at: at(time),
                event: event.into(),
                token: None,
                triggered_at: None,
                opportunity_id: None,
                to_stage_id: None,
                signature_valid: valid,
                status: DeliveryStatus::from_stored(status).unwrap(),
                outcome: String::new(),
                configuration_id: None,
                body: "{}".into(),
                candidate_name: None,
            };
            diesel::insert_into(webhook_events::table)
                .values(&row)
                .execute(&mut *conn)
                .unwrap();
        }
        // Migration 4 again, now over these deliveries.
        let dir = format!(
            "{}/migrations/{dialect}/2026-11-22-000004_webhook_event_stats",
            env!("CARGO_MANIFEST_DIR")
        );
        for step in ["down.sql", "up.sql"] {
            let sql = std::fs::read_to_string(format!("{dir}/{step}")).unwrap();
            conn.batch_execute(&sql).unwrap();
        }

        let change = stats(&mut conn, &org.id, "candidateStageChange").unwrap();
        assert_eq!((change.accepted, change.rejected), (2, 2));
        assert_eq!(
            change.last,
            Some((at("10:00:03"), false)),
            "the latest delivery"
        );
        assert_eq!(change.last_verification, None);
        let hired = stats(&mut conn, &org.id, "candidateHired").unwrap();
        assert_eq!((hired.accepted, hired.rejected), (2, 0));
        assert_eq!(hired.last, Some((at("09:30:00"), true)));
        assert_eq!(hired.last_verification, Some(at("09:00:00")));
        let unhandled = stats(&mut conn, &org.id, "interviewCreated").unwrap();
        assert_eq!(
            (unhandled.accepted, unhandled.rejected, unhandled.last),
            (0, 0, None)
        );
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

#[test]
fn create_user_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/cli.db", dir.path().display());
    let password = dir.path().join("password.txt");
    std::fs::write(&password, "a long enough password\n").unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_leverbridge"))
            .arg("create-user")
            .args(args)
            .arg("--password-file")
            .arg(&password)
            .env("LEVERBRIDGE_DATABASE_URL", &url)
            .output()
            .unwrap()
    };
    let ok = run(&[
        "--email",
        "Dana@Acme.test",
        "--org",
        "acme",
        "--org-name",
        "Acme Robotics",
        "--role",
        "admin",
    ]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout)
        .contains("dana@acme.test is admin of Acme Robotics (/orgs/acme)"));
    let support = run(&["--email", "help@vendor.test", "--role", "support"]);
    assert!(support.status.success());
    assert!(
        String::from_utf8_lossy(&support.stdout).contains("support user help@vendor.test is ready")
    );

    for (args, expected) in [
        (
            vec!["--email", "x@acme.test", "--role", "admin"],
            "--org is required for the admin role",
        ),
        (
            vec!["--email", "x@acme.test", "--org", "acme", "--role", "owner"],
            "`owner` is not a role",
        ),
        (
            vec![
                "--email",
                "not-an-email",
                "--org",
                "acme",
                "--role",
                "reviewer",
            ],
            "is not an e-mail address",
        ),
        (
            vec![
                "--email",
                "x@acme.test",
                "--org",
                "Acme Inc",
                "--role",
                "reviewer",
            ],
            "not a valid organization short name",
        ),
        (
            vec![
                "--email",
                "x@vendor.test",
                "--org",
                "acme",
                "--role",
                "support",
            ],
            "support staff belong to no organization",
        ),
    ] {
        let refused = run(&args);
        assert!(!refused.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains(expected),
            "{args:?}: {}",
            String::from_utf8_lossy(&refused.stderr)
        );
    }
    std::fs::write(&password, "short\n").unwrap();
    let short = run(&[
        "--email",
        "y@acme.test",
        "--org",
        "acme",
        "--role",
        "reviewer",
    ]);
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12 characters"));
    std::fs::write(&password, "password1234\n").unwrap();
    let common = run(&[
        "--email",
        "y@acme.test",
        "--org",
        "acme",
        "--role",
        "reviewer",
    ]);
    assert!(String::from_utf8_lossy(&common.stderr).contains("too easy to guess"));

    // Nothing refused was written: only the two users exist.
    let db = Db::connect(&DatabaseUrl::parse(&url).unwrap()).unwrap();
    let mut conn = db.get().unwrap();
    use leverbridge::db::schema::users;
    let emails: Vec<String> = users::table
        .select(users::email)
        .order(users::email.asc())
        .load(&mut *conn)
        .unwrap();
    assert_eq!(emails, ["dana@acme.test", "help@vendor.test"]);
}

#[test]
fn logs_name_routes_never_the_secrets_in_paths() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let (mut child, port) = crate::child_process::spawn_serve_on_sqlite(dir.path());
    let secret = "EndpointKeyThatMustNotBeLogged0";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let answered = loop {
        let sent = std::net::TcpStream::connect(("127.0.0.1", port)).and_then(|mut stream| {
            use std::io::Write;
            write!(
                stream,
                "POST /webhooks/lever/{secret} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
            )?;
            let mut answer = String::new();
            stream.read_to_string(&mut answer)?;
            Ok(answer)
        });
        match sent {
            Ok(answer) => break answer,
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(100))
            }
            Err(e) => panic!("serve did not answer: {e}"),
        }
    };
    assert!(answered.starts_with("HTTP/1.1 404"), "{answered}");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let _ = child.kill();
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    let _ = child.wait();
    assert!(
        logs.contains("unknown endpoint key") && logs.contains("/webhooks/lever/{key}"),
        "{logs}"
    );
    assert!(
        !logs.contains(secret),
        "the endpoint key reached the logs: {logs}"
    );
}
