//! `spawn_app()`: the real application on a random port with its own fresh database, and a
//! cookie-keeping client that signs in through the real login form.

use std::sync::Once;

use leverbridge::config::{DatabaseUrl, LeverHosts, SaveLimits, Settings, Tuning};
use leverbridge::crypto::SecretKey;
use leverbridge::db::Db;
use leverbridge::queue::Jobs;
use leverbridge::startup::Application;
use std::sync::Arc;

pub use crate::database::Backend;
use crate::database::FreshDatabase;

impl Backend {
    /// PostgreSQL from `LEVERBRIDGE_TEST_POSTGRES`, or `None` with a loud message; under CI
    /// (`CI` set) a missing PostgreSQL fails the test instead.
    pub fn postgres(test: &str) -> Option<Backend> {
        match std::env::var("LEVERBRIDGE_TEST_POSTGRES") {
            Ok(url) if !url.trim().is_empty() => Some(Backend::Postgres(url)),
            _ => {
                skip_unless_ci(&format!(
                    "{test} on PostgreSQL: LEVERBRIDGE_TEST_POSTGRES is not set \
                     (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable). .ci/run sets it."
                ));
                None
            }
        }
    }
}

/// Skips a test that needs a missing service, loudly; under CI (`CI` set) fails it instead, so a
/// green CI run never hides a test that did not run.
pub fn skip_unless_ci(what: &str) {
    if let Some(message) = missing_service(what, std::env::var_os("CI").is_some()) {
        panic!("{message}");
    }
}

/// What to do about a missing service: `Some(failure)` under CI, else print the skip and `None`.
fn missing_service(what: &str, ci: bool) -> Option<String> {
    if ci {
        Some(format!(
            "CI is set, so this test may not be skipped: {what} .ci/run must provide it."
        ))
    } else {
        eprintln!("\n*** SKIPPED {what} ***\n");
        None
    }
}

#[test]
fn a_missing_service_fails_under_ci_and_skips_elsewhere() {
    let failure = missing_service("the browser test: chromium is missing.", true).unwrap();
    assert!(
        failure.contains("may not be skipped: the browser test"),
        "{failure}"
    );
    assert_eq!(missing_service("the browser test.", false), None);
}

/// Runs an `async fn(Backend)` test on SQLite and, when configured, on PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(pg) = $crate::helpers::Backend::postgres(stringify!($name)) {
                    super::$name(pg).await
                }
            }
        }
    )+};
}

/// A fresh database for one test, removed when the test ends.
pub fn test_database(backend: &Backend) -> FreshDatabase {
    FreshDatabase::new(backend, "lb_test").expect("a fresh test database")
}

/// A browser session on the app: its own cookie jar.
pub struct Browser {
    pub address: String,
    pub client: reqwest::Client,
}

impl std::ops::Deref for TestApp {
    type Target = Browser;
    fn deref(&self) -> &Browser {
        &self.browser
    }
}

pub struct TestApp {
    pub browser: Browser,
    pub db: Db,
    /// The job system: tests drain the queue with `jobs.run_until_idle()` instead of sleeping.
    pub jobs: Arc<Jobs>,
    pub database: FreshDatabase,
    /// The settings it was built with, to build it again on the same database (a restart).
    pub settings: Settings,
}

pub const PASSWORD: &str = "correct horse battery";

fn init_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var("TEST_LOG").is_ok() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter("info,leverbridge=debug")
                .try_init();
        }
    });
}

/// Settings for a test: random port, fresh key, and Lever pointed wherever `lever` says.
pub fn test_settings(url: DatabaseUrl, lever: LeverHosts) -> Settings {
    let bind = "127.0.0.1:0".parse().unwrap();
    Settings {
        bind,
        database_url: url,
        public_url: url::Url::parse("http://127.0.0.1:0").unwrap(),
        secret_key: SecretKey::generate(),
        lever,
        lever_app: None,
        workers: leverbridge::config::LaneWorkers::default(),
        metrics_token: None,
        tuning: Tuning {
            job_backoff_base: std::time::Duration::from_millis(1),
            job_max_attempts: 3,
            job_lease: std::time::Duration::from_secs(60),
            job_stop_grace: std::time::Duration::from_secs(5),
            lever_backoff_base: std::time::Duration::from_millis(5),
            lever_max_retries: 3,
            lever_timeout: std::time::Duration::from_secs(3),
            // As fast as the tests' simulated Lever allows (`lever_world::TEST_RATE`), so no
            // test waits at Lever's pace; `connected_at_levers_pace` keeps the real one.
            lever_rate_per_sec: crate::lever_world::TEST_RATE.per_second,
            lever_burst: crate::lever_world::TEST_RATE.burst as u32,
            // Every save its own snapshot, so tests count saves; `bounded_saves` sets the slot.
            saves: SaveLimits {
                snapshot_slot: std::time::Duration::ZERO,
                ..SaveLimits::default()
            },
            ..Tuning::default()
        },
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, LeverHosts::default()).await
}

pub async fn spawn_app_with(backend: Backend, lever: LeverHosts) -> TestApp {
    spawn_app_configured(backend, |settings| settings.lever = lever).await
}

/// The app with test settings changed by `configure` (e.g. an https public URL), without job
/// workers: tests run jobs with `drain()`.
pub async fn spawn_app_configured(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let (app, test_app) = build_app(backend, configure).await;
    tokio::spawn(app.run_without_workers());
    test_app
}

/// The app as `serve` runs it, with its job workers, until `Serving::stop`.
pub async fn spawn_serving_app(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> (TestApp, Serving) {
    let (app, test_app) = build_app(backend, configure).await;
    (test_app, Serving::start(app))
}

async fn build_app(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> (Application, TestApp) {
    init_logs();
    let database = test_database(&backend);
    let mut settings = test_settings(database.url.clone(), LeverHosts::default());
    configure(&mut settings);
    let app = Application::build(settings.clone())
        .await
        .expect("application builds");
    let settings = app.settings().clone();
    let port = app.port();
    let (db, jobs) = (app.db().clone(), app.jobs());
    let test_app = TestApp {
        browser: Browser {
            address: format!("http://127.0.0.1:{port}"),
            client: new_client(),
        },
        db,
        jobs,
        database,
        settings,
    };
    (app, test_app)
}

/// An application running with its workers, as `serve` runs it.
pub struct Serving {
    stop: tokio::sync::oneshot::Sender<()>,
    ended: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Serving {
    fn start(app: Application) -> Serving {
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let ended = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        Serving { stop, ended }
    }

    /// Stops it as SIGTERM does, and waits until it has stopped.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.ended
            .await
            .expect("the application's task")
            .expect("the application stops cleanly");
    }
}

/// The app with test settings changed by `configure`, and `acme`'s admin and reviewer created.
pub async fn with_people(backend: Backend, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let app = spawn_app_configured(backend, configure).await;
    app.create_user("admin@acme.test", Some("acme"), "admin")
        .await;
    app.create_user("reviewer@acme.test", Some("acme"), "reviewer")
        .await;
    app
}

/// A browser-like client: keeps cookies, does not follow redirects.
pub fn new_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        // Idle connections go before the server's 5 s keep-alive ends (see `LeverAccount`).
        .pool_idle_timeout(std::time::Duration::from_secs(2))
        .build()
        .unwrap()
}

/// The value of the first `csrf_token` hidden field in a page.
pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("page has a CSRF field") + marker.len();
    let end = html[start..].find('"').unwrap();
    html[start..start + end].to_owned()
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

impl Browser {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_html(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.text().await.unwrap()
    }

    /// Posts a form with the given fields (add `csrf_token` yourself, or use `post_form`).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .expect("POST")
    }

    /// Posts a form the way a browser would from `page`: with that page's CSRF token.
    pub async fn post_form(
        &self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let html = self.get_html(page).await;
        let token = csrf_in(&html);
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(action, &all).await
    }

    /// Submits the login form as a browser would, whatever the outcome.
    pub async fn try_login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_form(
            "/login",
            "/login",
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// Signs in through the login form; panics unless it succeeds.
    pub async fn login(&self, email: &str) {
        let response = self
            .post_form(
                "/login",
                "/login",
                &[("email", email), ("password", PASSWORD), ("next", "/")],
            )
            .await;
        assert_eq!(response.status(), 303, "login as {email} should succeed");
    }
}

impl TestApp {
    /// Creates a user through the same code path as `leverbridge create-user`.
    pub async fn create_user(&self, email: &str, org: Option<&str>, role: &str) {
        let url = self.database.url.clone();
        let new = leverbridge::commands::create_user::NewUser {
            email: email.into(),
            org: org.map(Into::into),
            org_name: org.map(|o| format!("{} Inc", o.to_uppercase())),
            role: role.into(),
            password: PASSWORD.into(),
        };
        tokio::task::spawn_blocking(move || {
            leverbridge::commands::create_user::create_user(&url, new)
        })
        .await
        .unwrap()
        .expect("user created");
    }

    /// Another browser on the same app, signed out.
    pub async fn as_new_session(&self) -> Browser {
        Browser {
            address: self.address.clone(),
            client: new_client(),
        }
    }

    /// Runs every due job now.
    pub async fn drain(&self) -> usize {
        self.jobs.run_until_idle().await.expect("jobs run")
    }

    /// A fresh app with an organization `acme` whose admin is signed in.
    pub async fn with_admin(backend: Backend) -> TestApp {
        let app = spawn_app(backend).await;
        app.create_user("admin@acme.test", Some("acme"), "admin")
            .await;
        app.login("admin@acme.test").await;
        app
    }
}

/// The text of a PDF (the report), as a reader would copy it; panics on a malformed PDF.
pub fn pdf_text(pdf: &[u8]) -> String {
    pdf_extract::extract_text_from_mem(pdf).expect("a readable PDF")
}
