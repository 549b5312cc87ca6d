//! Sessions live on the server: signing out, a password reset and a removed membership end
//! them, and they expire when idle and at an absolute limit.

use std::sync::Arc;
use std::time::Duration;

use leverbridge::clock::Clock;

use crate::both_backends;
use crate::helpers::{csrf_in, location, with_people, Backend, Browser, TestApp};

both_backends!(
    a_copied_cookie_stops_working_after_sign_out,
    sign_out_ends_this_browser_only_and_everywhere_ends_them_all,
    a_password_reset_ends_the_users_sessions,
    removing_a_membership_ends_the_members_sessions,
    sessions_end_when_idle,
    sessions_end_at_their_absolute_limit,
);

/// A browser whose cookie jar the test can read, to copy its cookie elsewhere.
fn browser_with_jar(app: &TestApp) -> (Browser, Arc<reqwest::cookie::Jar>) {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_provider(jar.clone())
        .build()
        .unwrap();
    let browser = Browser {
        address: app.address.clone(),
        client,
    };
    (browser, jar)
}

/// What an attacker holding a copy of the cookie sends.
async fn get_with_cookie(app: &TestApp, cookie: &str, path: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

async fn a_copied_cookie_stops_working_after_sign_out(backend: Backend) {
    let app = with_people(backend, |_| {}).await;
    let (browser, jar) = browser_with_jar(&app);
    browser.login("admin@acme.test").await;
    let url: url::Url = app.url("/").parse().unwrap();
    use reqwest::cookie::CookieStore;
    let copied = jar.cookies(&url).unwrap().to_str().unwrap().to_owned();
    assert_eq!(
        get_with_cookie(&app, &copied, "/orgs/acme").await.status(),
        200
    );
    // The same user on another device.
    let laptop = app.as_new_session().await;
    laptop.login("admin@acme.test").await;

    let response = browser
        .post_form("/orgs/acme", "/logout/everywhere", &[])
        .await;
    assert_eq!(response.status(), 303);

    let stolen = get_with_cookie(&app, &copied, "/orgs/acme").await;
    assert_eq!(stolen.status(), 303, "a copied cookie must stop working");
    assert!(location(&stolen).starts_with("/login"));
    // Signing out everywhere ends the user's other sessions as well.
    assert_eq!(laptop.get("/orgs/acme").await.status(), 303);
    // The login page shows the form to the dead cookie instead of sending it around in circles.
    let page = get_with_cookie(&app, &copied, "/login").await;
    assert_eq!(page.status(), 200);

    // The user signs in again; whoever kept the old cookie cannot sign them out with it.
    browser.login("admin@acme.test").await;
    let token = csrf_in(&page.text().await.unwrap());
    let logout = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/logout/everywhere"))
        .header("cookie", &copied)
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 303);
    assert_eq!(browser.get("/orgs/acme").await.status(), 200);
}

async fn sign_out_ends_this_browser_only_and_everywhere_ends_them_all(backend: Backend) {
    let app = with_people(backend, |_| {}).await;
    let (browser, jar) = browser_with_jar(&app);
    browser.login("admin@acme.test").await;
    let url: url::Url = app.url("/").parse().unwrap();
    use reqwest::cookie::CookieStore;
    let copied = jar.cookies(&url).unwrap().to_str().unwrap().to_owned();
    let laptop = app.as_new_session().await;
    laptop.login("admin@acme.test").await;
    // Both ways out are offered on every page.
    let page = browser.get_html("/orgs/acme").await;
    assert!(page.contains("action=\"/logout\""), "{page}");
    assert!(page.contains(">Sign out everywhere</button>"), "{page}");
    let list = browser.get_html("/orgs").await;
    assert!(list.contains(">Sign out everywhere</button>"), "{list}");

    // Sign out: this browser's session ends, a copy of its cookie with it.
    let response = browser.post_form("/orgs/acme", "/logout", &[]).await;
    assert_eq!(response.status(), 303);
    assert!(location(&response).starts_with("/login"));
    assert_eq!(browser.get("/orgs/acme").await.status(), 303);
    assert_eq!(
        get_with_cookie(&app, &copied, "/orgs/acme").await.status(),
        303,
        "the copied cookie ended with its session"
    );
    // The laptop stays signed in.
    assert_eq!(laptop.get("/orgs/acme").await.status(), 200);

    // Sign out everywhere from the laptop: no session of the user is left.
    browser.login("admin@acme.test").await;
    let response = laptop
        .post_form("/orgs/acme", "/logout/everywhere", &[])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(laptop.get("/orgs/acme").await.status(), 303);
    assert_eq!(browser.get("/orgs/acme").await.status(), 303);
}

async fn a_password_reset_ends_the_users_sessions(backend: Backend) {
    let app = with_people(backend, |_| {}).await;
    app.login("admin@acme.test").await;
    let reviewer = app.as_new_session().await;
    reviewer.login("reviewer@acme.test").await;

    // `leverbridge create-user` on an existing address resets the password (and role).
    app.create_user("admin@acme.test", Some("acme"), "reviewer")
        .await;

    assert_eq!(app.get("/orgs/acme").await.status(), 303, "signed out");
    assert_eq!(
        reviewer.get("/orgs/acme").await.status(),
        200,
        "other users keep their sessions"
    );
    app.login("admin@acme.test").await;
    assert_eq!(app.get("/orgs/acme").await.status(), 200);
}

async fn removing_a_membership_ends_the_members_sessions(backend: Backend) {
    let app = with_people(backend, |_| {}).await;
    let reviewer = app.as_new_session().await;
    reviewer.login("reviewer@acme.test").await;
    app.login("admin@acme.test").await;

    let removed = app
        .db
        .run(|conn| -> Result<bool, leverbridge::db::DbError> {
            use leverbridge::db;
            let user = db::users::find_by_email(conn, "reviewer@acme.test")?.unwrap();
            let org = db::orgs::find_by_slug(conn, "acme")?.unwrap();
            Ok(db::orgs::remove_membership(conn, &user.id, &org.id)?)
        })
        .await
        .unwrap();
    assert!(removed);

    assert_eq!(reviewer.get("/orgs").await.status(), 303, "signed out");
    assert_eq!(app.get("/orgs/acme").await.status(), 200);
}

/// The app with `acme`'s people, its sessions measured by a clock the test moves.
async fn with_people_on(
    backend: Backend,
    configure: impl FnOnce(&mut leverbridge::config::Settings),
) -> (TestApp, Clock) {
    let clock = Clock::adjustable();
    let for_app = clock.clone();
    let app = with_people(backend, move |s| {
        configure(s);
        s.tuning.clock = for_app;
    })
    .await;
    (app, clock)
}

/// `by`, as the clock moves.
fn span(by: Duration) -> chrono::Duration {
    chrono::Duration::from_std(by).unwrap()
}

async fn sessions_end_when_idle(backend: Backend) {
    let (app, clock) = with_people_on(backend, |s| {
        s.tuning.session_idle = Duration::from_millis(1500);
    })
    .await;
    app.login("admin@acme.test").await;
    // Use keeps it alive …
    for _ in 0..3 {
        clock.advance(span(Duration::from_millis(700)));
        assert_eq!(app.get("/orgs/acme").await.status(), 200);
    }
    // … and a pause longer than the idle limit ends it.
    clock.advance(span(Duration::from_millis(1700)));
    let response = app.get("/orgs/acme").await;
    assert_eq!(response.status(), 303);
    assert!(location(&response).starts_with("/login"));
    // The same browser, still holding the ended session's cookie, signs in again.
    app.login("admin@acme.test").await;
    assert_eq!(app.get("/orgs/acme").await.status(), 200);
}

async fn sessions_end_at_their_absolute_limit(backend: Backend) {
    let (app, clock) = with_people_on(backend, |s| {
        s.tuning.session_lifetime = Duration::from_millis(2000);
    })
    .await;
    let started = clock.now();
    app.login("admin@acme.test").await;
    while clock.now() - started < span(Duration::from_millis(1500)) {
        assert_eq!(app.get("/orgs/acme").await.status(), 200);
        clock.advance(span(Duration::from_millis(250)));
    }
    clock.advance(span(Duration::from_millis(800)));
    assert_eq!(
        app.get("/orgs/acme").await.status(),
        303,
        "busy or not, the session ends at its absolute limit"
    );
}
