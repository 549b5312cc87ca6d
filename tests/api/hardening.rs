//! Hardening of the HTTP edge and the files: slow bodies are cut off, every response carries
//! security headers, `/readyz` leaks no database error, and the SQLite files are private.

use std::time::{Duration, Instant};

use leverbridge::config::DatabaseUrl;

use crate::both_backends;
use crate::helpers::{spawn_app_configured, with_people, Backend, PASSWORD};

both_backends!(
    a_body_that_trickles_in_gets_408_and_the_connection_closes,
    every_response_carries_the_security_headers,
    https_deployments_send_hsts,
    readiness_never_shows_the_raw_database_error,
);

async fn a_body_that_trickles_in_gets_408_and_the_connection_closes(backend: Backend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = with_people(backend, |s| {
        s.tuning.request_body_timeout = Duration::from_secs(1);
    })
    .await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /login HTTP/1.1\r\nHost: {address}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let (mut reader, mut writer) = stream.into_split();
    // One byte every 100 ms: it would take 10 s to finish.
    let trickle = tokio::spawn(async move {
        for _ in 0..100 {
            if writer.write_all(b"a").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), reader.read_to_end(&mut answer)).await;
    trickle.abort();
    assert!(read.is_ok(), "the connection was still open after 5 s");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("did not arrive within 1 seconds"),
        "{answer}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    // A body that arrives in time is unaffected.
    assert_eq!(
        app.try_login("admin@acme.test", PASSWORD).await.status(),
        303
    );
}

fn assert_security_headers(response: &reqwest::Response, what: &str) {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("{what}: no {name}"))
    };
    let csp = header("content-security-policy");
    assert!(csp.contains("default-src 'self'"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert_eq!(header("x-frame-options"), "DENY", "{what}");
    assert_eq!(header("referrer-policy"), "same-origin", "{what}");
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
}

/// Nothing a `default-src 'self'` policy would block: no inline script, handler or style.
fn assert_no_inline_code(html: &str, what: &str) {
    let lower = html.to_lowercase();
    for forbidden in [
        " onclick=",
        " onload=",
        " onsubmit=",
        " onchange=",
        " style=",
        "<style",
        "javascript:",
    ] {
        assert!(!lower.contains(forbidden), "{what} has {forbidden}");
    }
    for (at, _) in lower.match_indices("<script") {
        let tag_end = lower[at..].find('>').unwrap() + at;
        assert!(
            lower[at..tag_end].contains(" src="),
            "{what} has an inline script"
        );
    }
}

async fn every_response_carries_the_security_headers(backend: Backend) {
    let app = with_people(backend, |_| {}).await;
    let anonymous = app.as_new_session().await;
    for path in [
        "/login",
        "/healthz",
        "/no/such/page",
        "/static/style.css",
        "/orgs/acme",
    ] {
        let response = anonymous.get(path).await;
        assert_security_headers(&response, path);
        assert!(response
            .headers()
            .get("strict-transport-security")
            .is_none());
    }
    let refused = anonymous
        .post_raw("/login", &[("email", "a@b.test"), ("password", "x")])
        .await;
    assert_eq!(refused.status(), 403);
    assert_security_headers(&refused, "a refused form");

    app.login("admin@acme.test").await;
    for path in [
        "/orgs",
        "/orgs/acme",
        "/orgs/acme/connection",
        "/orgs/acme/webhooks",
        "/orgs/acme/configurations",
        "/orgs/acme/configurations/new",
        "/orgs/acme/events",
        "/static/app.js",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_security_headers(&response, path);
        assert_no_inline_code(&response.text().await.unwrap(), path);
    }
    assert_no_inline_code(&anonymous.get_html("/login").await, "/login");
}

async fn https_deployments_send_hsts(backend: Backend) {
    let app = spawn_app_configured(backend, |s| {
        s.public_url = url::Url::parse("https://leverbridge.example").unwrap();
    })
    .await;
    for path in ["/login", "/healthz"] {
        let response = app.get(path).await;
        assert_security_headers(&response, path);
        assert_eq!(
            response.headers()["strict-transport-security"],
            "max-age=31536000",
            "{path}"
        );
    }
}

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
