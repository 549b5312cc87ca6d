//! Login, sessions, CSRF, roles and organization isolation.

use crate::both_backends;
use crate::helpers::{csrf_in, location, new_client, spawn_app, Backend, TestApp, PASSWORD};

both_backends!(
    anonymous_users_are_sent_to_login,
    login_succeeds_and_lands_on_the_organization,
    wrong_password_gets_a_clear_message_and_no_session,
    forms_without_a_valid_csrf_token_are_refused,
    logout_ends_the_session,
    another_organizations_pages_are_404,
    support_sees_every_organization_read_only,
    unknown_pages_get_the_error_page,
    session_cookies_are_secure_behind_https,
);

async fn session_cookies_are_secure_behind_https(backend: Backend) {
    // Behind a TLS-terminating proxy the public URL is https: cookies must say Secure.
    let app = crate::helpers::spawn_app_configured(backend, |settings| {
        settings.public_url = url::Url::parse("https://leverbridge.example").unwrap();
    })
    .await;
    app.create_user("admin@acme.test", Some("acme"), "admin")
        .await;
    let response = app.get("/login").await;
    let cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
}

async fn anonymous_users_are_sent_to_login(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.get("/orgs/acme").await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login?next=%2Forgs%2Facme");
    let page = app.get_html("/login").await;
    assert!(page.contains("Sign in"));
}

async fn login_succeeds_and_lands_on_the_organization(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("admin@acme.test", Some("acme"), "admin")
        .await;
    let response = app
        .post_form(
            "/login",
            "/login",
            &[
                ("email", "Admin@Acme.test "),
                ("password", PASSWORD),
                ("next", "/orgs/acme"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/orgs/acme");
    // The session's cookie (a device cookie for the sign-in throttle comes beside it).
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("leverbridge_session="))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain-http public URL: no Secure flag ({cookie})"
    );

    let home = app.get("/").await;
    assert_eq!(
        location(&home),
        "/orgs/acme",
        "a member of one organization lands on it"
    );
    let overview = app.get_html("/orgs/acme").await;
    assert!(overview.contains("ACME Inc"));
    assert!(overview.contains("admin@acme.test"));
}

async fn wrong_password_gets_a_clear_message_and_no_session(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("admin@acme.test", Some("acme"), "admin")
        .await;
    for (email, password) in [
        ("admin@acme.test", "wrong password"),
        ("nobody@acme.test", PASSWORD),
    ] {
        let response = app
            .post_form(
                "/login",
                "/login",
                &[("email", email), ("password", password)],
            )
            .await;
        assert_eq!(response.status(), 401);
        let page = response.text().await.unwrap();
        assert!(page.contains("Incorrect e-mail address or password."));
        assert!(
            page.contains(&format!("value=\"{email}\"")),
            "the e-mail typed is kept"
        );
    }
    assert_eq!(
        app.get("/orgs/acme").await.status(),
        303,
        "still signed out"
    );
}

async fn forms_without_a_valid_csrf_token_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("admin@acme.test", Some("acme"), "admin")
        .await;
    // A login form without the token, and one with a forged token: 403, not signed in.
    let _ = app.get("/login").await;
    for token in [None, Some("forged-token")] {
        let mut fields = vec![("email", "admin@acme.test"), ("password", PASSWORD)];
        if let Some(t) = token {
            fields.push(("csrf_token", t));
        }
        let response = app.post_raw("/login", &fields).await;
        assert_eq!(response.status(), 403);
        assert!(response.text().await.unwrap().contains("Form expired"));
    }
    assert_eq!(app.get("/orgs/acme").await.status(), 303);

    // Signed in, a logout without the token changes nothing.
    app.login("admin@acme.test").await;
    let response = app.post_raw("/logout", &[]).await;
    assert_eq!(response.status(), 403);
    assert_eq!(app.get("/orgs/acme").await.status(), 200, "still signed in");

    // A token from another session is not valid in this one.
    let other = new_client();
    let html = other
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let foreign = csrf_in(&html);
    let response = app.post_raw("/logout", &[("csrf_token", &foreign)]).await;
    assert_eq!(response.status(), 403);
    assert_eq!(app.get("/orgs/acme").await.status(), 200);
}

async fn logout_ends_the_session(backend: Backend) {
    let app = TestApp::with_admin(backend).await;
    let response = app.post_form("/orgs/acme", "/logout", &[]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login");
    assert_eq!(app.get("/orgs/acme").await.status(), 303);
}

async fn another_organizations_pages_are_404(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("admin@acme.test", Some("acme"), "admin")
        .await;
    app.create_user("admin@globex.test", Some("globex"), "admin")
        .await;
    app.login("admin@acme.test").await;
    let response = app.get("/orgs/globex").await;
    assert_eq!(response.status(), 404);
    let page = response.text().await.unwrap();
    assert!(page.contains("Page not found"));
    assert!(
        !page.contains("GLOBEX"),
        "nothing of the other organization leaks"
    );
    assert_eq!(
        app.get("/orgs/no-such-org").await.status(),
        404,
        "unknown and forbidden look alike"
    );
    let list = app.get_html("/orgs").await;
    assert!(list.contains("ACME Inc") && !list.contains("GLOBEX"));
}

async fn support_sees_every_organization_read_only(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("admin@acme.test", Some("acme"), "admin")
        .await;
    app.create_user("admin@globex.test", Some("globex"), "admin")
        .await;
    app.create_user("help@vendor.test", None, "support").await;
    app.login("help@vendor.test").await;
    assert_eq!(location(&app.get("/").await), "/orgs");
    let list = app.get_html("/orgs").await;
    assert!(list.contains("ACME Inc") && list.contains("GLOBEX Inc"));
    let overview = app.get_html("/orgs/globex").await;
    assert!(overview.contains("Support view"));
    assert!(overview.contains("admin@globex.test"));
}

async fn unknown_pages_get_the_error_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.get("/definitely/not/here").await;
    assert_eq!(response.status(), 404);
    let page = response.text().await.unwrap();
    assert!(page.contains("Page not found") && page.contains("/static/style.css"));
}
