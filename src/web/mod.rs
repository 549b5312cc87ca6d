//! The dashboard, the login, health checks: actix handlers, one module per page.

mod assessment_detail;
mod assessments;
pub mod auth;
pub mod body_deadline;
pub mod candidate;
pub mod client_address;
mod configurations;
pub mod confirm;
mod connection;
pub mod csrf;
pub mod device_cookie;
pub mod editor_asset;
pub mod error;
mod events;
mod favicon;
mod health;
mod keyset;
pub mod layout;
mod lever_oauth;
pub mod lever_webhook;
mod login;
pub mod login_guard;
pub mod metrics;
mod orgs;
mod overview;
mod question_choice;
mod questions;
pub mod request_span;
pub mod session;
mod settings;
mod webhook_keys;
mod webhooks;

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

pub use error::WebError;

use std::sync::Arc;

use crate::config::Settings;
use crate::connection::LeverAccess;
use crate::db::Db;
use crate::intake::Intake;
use crate::queue::Jobs;

/// Shared by every handler.
pub struct AppState {
    pub settings: Settings,
    pub db: Db,
    pub lever: LeverAccess,
    pub jobs: Arc<Jobs>,
    pub intake: Intake,
    pub webhook_keys: webhook_keys::WebhookKeys,
}

/// Registers every route of the dashboard.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(metrics::show))
        .route("/favicon.ico", web::get().to(favicon::ico))
        .route("/static/favicon.svg", web::get().to(favicon::svg))
        .route("/login", web::get().to(login::show))
        .route("/login", web::post().to(login::submit))
        .route("/logout", web::post().to(login::logout))
        .route(
            "/logout/everywhere",
            web::post().to(login::logout_everywhere),
        )
        .route(
            "/webhooks/lever/{key}",
            web::post().to(lever_webhook::receive),
        )
        .route(
            crate::connection::oauth::CALLBACK_PATH,
            web::get().to(lever_oauth::callback),
        )
        .configure(candidate::routes)
        .route("/", web::get().to(orgs::home))
        .route("/orgs", web::get().to(orgs::index))
        .service(
            web::scope("/orgs/{org}")
                .route("", web::get().to(overview::show))
                .route("/assessments", web::get().to(assessments::list))
                .route("/assessments/{id}", web::get().to(assessment_detail::show))
                .route(
                    "/assessments/{id}/retry",
                    web::post().to(assessment_detail::retry),
                )
                .route(
                    "/assessments/{id}/report.pdf",
                    web::get().to(assessment_detail::report),
                )
                .route(
                    "/assessments/{id}/score",
                    web::post().to(assessment_detail::score),
                )
                .route(
                    "/assessments/{id}/grade",
                    web::post().to(assessment_detail::change),
                )
                .route("/connection", web::get().to(connection::show))
                .route("/connection", web::post().to(connection::connect))
                .route("/connection/oauth", web::post().to(lever_oauth::start))
                .route(
                    "/connection/disconnect",
                    web::post().to(connection::disconnect),
                )
                .route("/webhooks", web::get().to(webhooks::show))
                .route("/webhooks/tokens", web::post().to(webhooks::save_tokens))
                .route(
                    "/webhooks/tokens/{event}/clear",
                    web::post().to(webhooks::clear_token),
                )
                .route("/webhooks/rotate", web::post().to(webhooks::rotate))
                .route("/configurations", web::get().to(configurations::list))
                .route("/configurations/new", web::get().to(configurations::new))
                .route(
                    "/configurations/new",
                    web::post().to(configurations::create),
                )
                .route(
                    "/configurations/refresh-stages",
                    web::post().to(configurations::refresh_stages),
                )
                .route(
                    "/configurations/{id}/edit",
                    web::get().to(configurations::edit),
                )
                .route(
                    "/configurations/{id}/edit",
                    web::post().to(configurations::update),
                )
                .route(
                    "/configurations/{id}/delete",
                    web::post().to(configurations::delete),
                )
                .route("/questions", web::get().to(questions::list))
                .route("/questions/new", web::get().to(questions::new))
                .route("/questions/new", web::post().to(questions::create))
                .route("/questions/{id}", web::get().to(questions::show))
                .route("/questions/{id}/edit", web::get().to(questions::edit))
                .route("/questions/{id}/edit", web::post().to(questions::update))
                .route("/questions/{id}/delete", web::post().to(questions::delete))
                .route("/settings", web::get().to(settings::show))
                .route("/settings", web::post().to(settings::save))
                .route("/settings/test-email", web::post().to(settings::test_email))
                .route("/events", web::get().to(events::list))
                .route("/events/{job}/retry", web::post().to(events::retry))
                .route("/events/{event}/send-now", web::post().to(events::send_now))
                .route("/choose/{choice}", web::get().to(question_choice::show))
                .route("/choose/{choice}", web::post().to(question_choice::choose)),
        );
}

/// Renders a template as a 200 HTML page.
pub fn render<T: Template>(page: &T) -> Result<HttpResponse, WebError> {
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

/// Renders a form page again with its errors: 422, so the submission visibly failed.
pub fn render_invalid<T: Template>(page: &T) -> Result<HttpResponse, WebError> {
    Ok(HttpResponse::UnprocessableEntity()
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

/// What saving a form came to: saved (with the id or name the success message needs), refused
/// field by field, or its row was not there to update.
pub enum FormSaved {
    Done(String),
    Invalid(std::collections::HashMap<&'static str, String>),
    Missing,
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
