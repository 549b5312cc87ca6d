//! The dashboard, the login, health checks: actix handlers, one module per page.

pub mod auth;
pub mod csrf;
pub mod error;
mod health;
pub mod layout;
pub mod lever_webhook;
mod login;
mod orgs;
mod overview;
pub mod session;

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

pub use error::WebError;

use std::sync::Arc;

use crate::config::Settings;
use crate::db::Db;
use crate::jobs::Jobs;
use crate::lever_access::LeverAccess;

/// Shared by every handler.
pub struct AppState {
    pub settings: Settings,
    pub db: Db,
    pub lever: LeverAccess,
    pub jobs: Arc<Jobs>,
}

/// Registers every route of the dashboard.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/login", web::get().to(login::show))
        .route("/login", web::post().to(login::submit))
        .route("/logout", web::post().to(login::logout))
        .route(
            "/webhooks/lever/{key}",
            web::post().to(lever_webhook::receive),
        )
        .route("/", web::get().to(orgs::home))
        .route("/orgs", web::get().to(orgs::index))
        .service(web::scope("/orgs/{org}").route("", web::get().to(overview::show)));
}

/// Renders a template as a 200 HTML page.
pub fn render<T: Template>(page: &T) -> Result<HttpResponse, WebError> {
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

/// A 303 redirect, the answer to every successful form post.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location))
        .finish()
}

/// The error page for routes that do not exist.
pub async fn not_found(_req: HttpRequest) -> Result<HttpResponse, WebError> {
    Err(WebError::NotFound)
}

/// Turns extractor failures (bad path, query or form) into the error page.
pub fn bad_request_handler<E: std::fmt::Display>(err: E, _req: &HttpRequest) -> actix_web::Error {
    WebError::BadRequest(format!("The request could not be read: {err}.")).into()
}
