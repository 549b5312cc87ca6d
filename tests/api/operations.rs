//! Operating leverbridge: the favicon.

use crate::database::Backend;
use crate::helpers::{spawn_app, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_favicon_is_served_cached_and_linked_from_every_kind_of_page() {
    let app = spawn_app(Backend::Sqlite).await;
    for (path, kind) in [
        ("/favicon.ico", "image/x-icon"),
        ("/static/favicon.svg", "image/svg+xml"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], kind);
        let cache = response.headers()["cache-control"].to_str().unwrap();
        assert!(cache.contains("max-age="), "{path}: {cache}");
        let bytes = response.bytes().await.unwrap();
        match path {
            "/favicon.ico" => assert_eq!(&bytes[..4], &[0, 0, 1, 0], "an ICO header"),
            _ => assert!(bytes.starts_with(b"<svg")),
        }
    }
    let link = "<link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">";
    let login = app.get_html("/login").await;
    assert!(login.contains(link), "{login}");
    let missing = app.get("/no/such/page").await;
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains(link));
    // Signed out, a dashboard page sends the visitor to sign in (logged at DEBUG: see
    // `web::request_span`).
    let redirected = app.get("/orgs/acme").await;
    assert_eq!(redirected.status(), 303);
}

/// The dashboard's layout and the candidate's pages link the icon too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_links_the_favicon() {
    let app = TestApp::with_admin(Backend::Sqlite).await;
    let overview = app.get_html("/orgs/acme").await;
    assert!(overview.contains("href=\"/static/favicon.svg\""));
}
