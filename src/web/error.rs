//! One error type for every page, rendered by `templates/error.html`.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("The page you asked for does not exist, or you do not have access to it.")]
    NotFound,
    #[error("{0}")]
    Forbidden(String),
    #[error(
        "This form has expired or did not come from this site. Reload the page and try again."
    )]
    CsrfRejected,
    #[error("{0}")]
    BadRequest(String),
    /// The thing asked for is not ready, or no longer possible, in its current state.
    #[error("{0}")]
    Conflict(String),
    #[error("sign-in required")]
    LoginRequired { next: String },
    #[error("The request is too large.")]
    PayloadTooLarge,
    /// Stored data this version cannot read (a state a newer version wrote): said as it is,
    /// since only running the right version helps.
    #[error("{0}. A newer version may have written it: make sure every replica runs the same, newest version.")]
    Unreadable(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<DbError> for WebError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unreadable(what) => WebError::Unreadable(what),
            e => WebError::Unexpected(anyhow::Error::new(e).context("database step failed")),
        }
    }
}

impl From<diesel::result::Error> for WebError {
    fn from(e: diesel::result::Error) -> Self {
        WebError::from(DbError::from(e))
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Unexpected(anyhow::Error::new(e).context("failed to render a page"))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    code: u16,
    title: &'a str,
    message: String,
}

impl WebError {
    fn title(&self) -> &'static str {
        match self {
            WebError::NotFound => "Page not found",
            WebError::Forbidden(_) => "You can't do that here",
            WebError::CsrfRejected => "Form expired",
            WebError::BadRequest(_) => "That request could not be understood",
            WebError::Conflict(_) => "Not available yet",
            WebError::PayloadTooLarge => "Request too large",
            WebError::LoginRequired { .. } => "Sign in",
            WebError::Unreadable(_) => "Stored data this version cannot read",
            WebError::Unexpected(_) => "Something went wrong on our side",
        }
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Forbidden(_) | WebError::CsrfRejected => StatusCode::FORBIDDEN,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::LoginRequired { .. } => StatusCode::SEE_OTHER,
            WebError::Unexpected(_) | WebError::Unreadable(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let WebError::LoginRequired { next } = self {
            let target = format!(
                "/login?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            );
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, target))
                .finish();
        }
        let message = match self {
            WebError::Unexpected(e) => {
                tracing::error!(error = ?e, "request failed");
                "The error has been logged. Try again in a moment; if it keeps happening, contact support.".to_owned()
            }
            WebError::Unreadable(what) => {
                tracing::error!(error = %what, "stored data could not be read");
                let said = self.to_string();
                let mut letters = said.chars();
                letters.next().map_or(said.clone(), |first| {
                    first.to_uppercase().chain(letters).collect()
                })
            }
            other => other.to_string(),
        };
        error_page(self.status_code(), self.title(), message)
    }
}

/// Renders the error page for any status (also used for actix's own 404s and extractor errors).
pub fn error_page(status: StatusCode, title: &str, message: String) -> HttpResponse {
    let page = ErrorPage {
        code: status.as_u16(),
        title,
        message,
    };
    let body = page
        .render()
        .unwrap_or_else(|_| format!("{} {}", status.as_u16(), title));
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}
