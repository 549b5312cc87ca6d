//! `Application::build(settings)`: the bound HTTP server and its job workers, exactly as
//! production and the tests start them, and the graceful stop that ends both.

use std::future::Future;
use std::net::TcpListener;

use actix_session::config::CookieContentSecurity;
use actix_session::storage::CookieSessionStore;
use actix_session::SessionMiddleware;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Server;
use actix_web::middleware::{self, DefaultHeaders};
use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;
use tracing_actix_web::TracingLogger;

use crate::config::Settings;
use crate::connection::LeverAccess;
use crate::db::Db;
use crate::domain::Lane;
use crate::intake::Intake;
use crate::queue::Jobs;
use crate::web::login_guard::LoginGuard;
use crate::web::request_span::RedactedRootSpan;
use crate::web::{self as pages, AppState};

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

impl Application {
    /// Connects to the database, applies migrations and binds the server.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let db = open_migrated(&settings).await?;
        Self::build_with_db(settings, db)
    }

    /// Binds the server over an already migrated database.
    pub fn build_with_db(settings: Settings, db: Db) -> anyhow::Result<Application> {
        let mut settings = settings;
        let (listener, port) = listen(&mut settings)?;
        crate::telemetry::install();
        let state = app_state(settings, db);
        let server = http_server(listener, state.clone())?;
        Ok(Application {
            port,
            server,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn db(&self) -> &Db {
        &self.state.db
    }

    /// The settings in force (the public URL follows the port actually bound).
    pub fn settings(&self) -> &Settings {
        &self.state.settings
    }

    pub fn lever(&self) -> &LeverAccess {
        &self.state.lever
    }

    /// The job system, e.g. for `run_until_idle()` in tests.
    pub fn jobs(&self) -> std::sync::Arc<Jobs> {
        self.state.jobs.clone()
    }

    /// Serves requests with `settings.workers` job workers beside the server until SIGTERM or
    /// Ctrl-C, then stops gracefully (see [`Application::run_until`]).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(stop_signal()).await
    }

    /// Serves requests with `settings.workers` job workers and the retention sweep beside the
    /// server until `stop` completes. Then the server stops taking connections and finishes its
    /// requests, while the workers claim nothing more and finish their running jobs within
    /// `tuning.job_stop_grace` or release them, so the next start runs them at once.
    pub async fn run_until(self, stop: impl Future<Output = ()>) -> std::io::Result<()> {
        let jobs = self.state.jobs.clone();
        jobs.start_workers(self.state.settings.workers)
            .await
            .map_err(std::io::Error::other)?;
        let _sweeper = crate::queue::retention::start(jobs.clone());
        let handle = self.server.handle();
        let mut server = self.server;
        tokio::select! {
            ended = &mut server => {
                jobs.stop().await;
                ended
            }
            () = stop => {
                tracing::info!("stopping: finishing requests and running jobs");
                let (ended, (), ()) = tokio::join!(server, handle.stop(true), jobs.stop());
                ended
            }
        }
    }

    /// Serves requests without job workers: jobs run only when the caller drains the queue.
    pub async fn run_without_workers(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Binds the configured address. Bound to a random port (tests), the public URL follows the
/// port actually chosen.
fn listen(settings: &mut Settings) -> anyhow::Result<(TcpListener, u16)> {
    let listener = TcpListener::bind(settings.bind)
        .with_context(|| format!("could not listen on {}", settings.bind))?;
    let port = listener.local_addr()?.port();
    if settings.public_url.port() == Some(0) {
        let _ = settings.public_url.set_port(Some(port));
    }
    Ok((listener, port))
}

/// What every request handler shares: the settings, the database, Lever access, the job system
/// and the webhook intake (started here, with the SQLite checkpoints).
fn app_state(settings: Settings, db: Db) -> web::Data<AppState> {
    let lever = LeverAccess::new(
        settings.lever.clone(),
        settings.tuning.clone(),
        settings.secret_key.clone(),
    )
    .with_app(settings.lever_app.clone())
    .sharing_limits_in(&db);
    let jobs = Jobs::new(
        db.clone(),
        settings.clone(),
        lever.clone(),
        crate::jobs::registry(),
    );
    let intake = Intake::start(db.clone(), jobs.clone(), settings.tuning.intake_wait);
    db.spawn_sqlite_checkpoints();
    web::Data::new(AppState {
        settings,
        db,
        lever,
        jobs,
        intake,
        webhook_keys: Default::default(),
    })
}

/// The HTTP server on `listener`: sessions in a private cookie, the security headers, request
/// tracing, the form/query/path error pages, the static assets and every page's route.
fn http_server(listener: TcpListener, app_state: web::Data<AppState>) -> anyhow::Result<Server> {
    let key = Key::from(&app_state.settings.secret_key.derive("session-cookie"));
    let https = app_state.settings.https();
    let login_guard = web::Data::new(LoginGuard::new(
        &app_state.settings.tuning.login,
        app_state.settings.tuning.clock.clone(),
    ));
    let server = HttpServer::new(move || {
        let sessions = SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
            .cookie_name("leverbridge_session".into())
            .cookie_secure(https)
            .cookie_http_only(true)
            .cookie_same_site(SameSite::Lax)
            .cookie_content_security(CookieContentSecurity::Private)
            .build();
        App::new()
            .wrap(middleware::from_fn(pages::body_deadline::body_deadline))
            .wrap(sessions)
            .wrap(security_headers(https))
            .wrap(TracingLogger::<RedactedRootSpan>::new())
            .app_data(app_state.clone())
            .app_data(login_guard.clone())
            .app_data(
                web::FormConfig::default()
                    .limit(256 * 1024)
                    .error_handler(pages::bad_request_handler),
            )
            .app_data(web::QueryConfig::default().error_handler(pages::bad_request_handler))
            .app_data(web::PathConfig::default().error_handler(pages::bad_request_handler))
            .route("/static/style.css", web::get().to(stylesheet))
            .route("/static/app.js", web::get().to(script))
            .service(
                web::resource("/static/editor.js")
                    .wrap(middleware::Compress::default())
                    .route(web::get().to(pages::editor_asset::editor_script)),
            )
            .configure(pages::routes)
            .default_service(web::to(pages::not_found))
    })
    .workers(2)
    // `run_until_stopped` owns the signals: it stops the workers as well as the server.
    .disable_signals()
    .listen(listener)?
    .run();
    Ok(server)
}

/// Connects to the database and applies pending migrations.
async fn open_migrated(settings: &Settings) -> anyhow::Result<Db> {
    let url = settings.database_url.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Db> {
        let db = Db::connect(&url)?;
        db.migrate()?;
        Ok(db)
    })
    .await
    .context("database start-up was cancelled")?
}

/// `leverbridge worker --lanes …`: job workers of `lanes` only, without the web server, until
/// SIGTERM or Ctrl-C (then running jobs finish or are released, as in `serve`). For PostgreSQL
/// only: several processes share its queue, while a SQLite database belongs to one process.
pub async fn run_workers(settings: Settings, lanes: &[Lane]) -> anyhow::Result<()> {
    if !matches!(
        settings.database_url,
        crate::config::DatabaseUrl::Postgres(_)
    ) {
        anyhow::bail!(
            "leverbridge worker needs PostgreSQL (LEVERBRIDGE_DATABASE_URL=postgres://…): a SQLite \
             database belongs to the one `serve` process, which runs every lane itself"
        );
    }
    let workers = settings.workers.only(lanes);
    if workers.total() == 0 {
        let names: Vec<_> = crate::config::LaneWorkers::VARIABLES
            .iter()
            .filter(|(lane, _)| lanes.contains(lane))
            .map(|(_, variable)| *variable)
            .collect();
        anyhow::bail!("no workers to run: {} set(s) 0", names.join(", "));
    }
    let db = open_migrated(&settings).await?;
    crate::telemetry::install();
    let lever = LeverAccess::new(
        settings.lever.clone(),
        settings.tuning.clone(),
        settings.secret_key.clone(),
    )
    .with_app(settings.lever_app.clone())
    .sharing_limits_in(&db);
    let jobs = Jobs::new(db, settings, lever, crate::jobs::registry());
    jobs.start_workers(workers).await?;
    tracing::info!(?workers, "job workers are running");
    stop_signal().await;
    tracing::info!("stopping: finishing running jobs");
    jobs.stop().await;
    Ok(())
}

/// The Content-Security-Policy of every response (a page may add to it, as the candidate's editor
/// adds a nonce for the styles its editor injects).
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'; object-src 'none'";

/// Headers on every response: pages load scripts, styles and images from this site only and
/// cannot be framed; other sites learn only our origin from links; HTTPS deployments tell
/// browsers to use nothing else for a year.
fn security_headers(https: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "same-origin"));
    if https {
        headers.add(("Strict-Transport-Security", "max-age=31536000"))
    } else {
        headers
    }
}

/// The little JavaScript the pages use (no inline scripts: the CSP forbids them).
async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(include_str!("../static/app.js"))
}

/// SIGTERM (how orchestrators stop a service) or Ctrl-C.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
                return;
            }
            Err(e) => tracing::error!(error = %e, "cannot listen for SIGTERM; stop with Ctrl-C"),
        }
    }
    if let Err(e) = tokio::signal::ctrl_c().await {
        tracing::error!(error = %e, "cannot listen for Ctrl-C either; stop the process with a kill");
        std::future::pending::<()>().await;
    }
}

/// The one stylesheet, compiled into the binary so it is served wherever the binary runs.
async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(include_str!("../static/style.css"))
}
