//! What can go wrong when talking to Lever, worded for the person who has to fix it.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use super::lenient::value_to_string;

/// A failed Lever call, after any retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeverError {
    #[error(
        "Lever rejected the credentials (401): {message}. Reconnect Lever or enter a new API key."
    )]
    Unauthorized { message: String },
    /// An OAuth connection's grant is gone (revoked in Lever, or its refresh token unused for 90
    /// days): only a new authorization helps.
    #[error("Lever no longer accepts leverbridge's authorization ({message}). An admin must reconnect with Add to Lever on the Connection page.")]
    AuthorizationLost { message: String },
    #[error("{}", forbidden_text(.message, .permission.as_deref()))]
    Forbidden {
        message: String,
        /// The API-key permission the endpoint needs (see `permission_table.rs`).
        permission: Option<String>,
    },
    #[error("Lever could not find it (404): {message}")]
    NotFound {
        message: String,
        /// The call that was answered 404, by the permission name of its endpoint (e.g.
        /// “list opportunity notes”): a 404 from a list under an opportunity does not mean the
        /// opportunity is gone.
        endpoint: Option<String>,
    },
    #[error("Lever refused the request as invalid: {message}")]
    BadRequest { message: String },
    #[error("{}", rate_limited_text(.retry_after))]
    RateLimited { retry_after: Option<Duration> },
    #[error("Lever had a problem ({status}): {message}. It will be tried again later.")]
    Server { status: u16, message: String },
    #[error("Could not reach Lever: {0}")]
    Transport(String),
    #[error("Lever sent a response leverbridge could not read: {0}")]
    Decode(String),
}

impl LeverError {
    /// Maps a non-success response to an error. `permission` is what the endpoint needs, and
    /// names it.
    pub(crate) fn from_response(
        status: StatusCode,
        retry_after: Option<Duration>,
        body: &[u8],
        permission: Option<&str>,
    ) -> Self {
        let message = error_message(status, body);
        match status.as_u16() {
            401 => LeverError::Unauthorized { message },
            403 => LeverError::Forbidden {
                message,
                permission: permission.map(str::to_owned),
            },
            404 => LeverError::NotFound {
                message,
                endpoint: permission.map(str::to_owned),
            },
            429 => LeverError::RateLimited { retry_after },
            400..=499 => LeverError::BadRequest { message },
            code => LeverError::Server {
                status: code,
                message,
            },
        }
    }

    /// True when Lever refused the call for good: a 4xx other than 401 (the credentials, a
    /// matter for the whole connection) and 429 (a matter of time).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            LeverError::BadRequest { .. }
                | LeverError::Forbidden { .. }
                | LeverError::NotFound { .. }
        )
    }

    /// True when trying the same call again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            LeverError::RateLimited { .. } | LeverError::Server { .. } | LeverError::Transport(_)
        )
    }
}

fn forbidden_text(message: &str, permission: Option<&str>) -> String {
    match permission {
        Some(permission) => format!(
            "Lever refused access (403): {message}. The API key may lack the \u{201c}{permission}\u{201d} permission: add it in Lever (Settings \u{2192} Integrations and API \u{2192} API Credentials)."
        ),
        None => format!("Lever refused access (403): {message}"),
    }
}

fn rate_limited_text(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(wait) => format!(
            "Lever is rate limiting requests (429); it asked to wait {} s. It will be tried again later.",
            wait.as_secs()
        ),
        None => "Lever is rate limiting requests (429). It will be tried again later.".to_owned(),
    }
}

/// Reads Lever's `{"code", "message"}` error body leniently: either may be missing and the body
/// may not be JSON at all.
pub(crate) fn error_message(status: StatusCode, body: &[u8]) -> String {
    let fallback = || {
        format!(
            "HTTP {} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        )
        .trim_end()
        .to_owned()
    };
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => {
            let text = |name: &str| {
                value
                    .get(name)
                    .and_then(value_to_string)
                    .map(|text| text.trim().to_owned())
                    .filter(|text| !text.is_empty())
            };
            let message = text("message").or_else(|| text("error_description"));
            match (text("code").or_else(|| text("error")), message) {
                (Some(code), Some(message)) => format!("{message} ({code})"),
                (None, Some(message)) => message,
                (Some(code), None) => code,
                (None, None) => fallback(),
            }
        }
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() || text.starts_with('<') {
                fallback()
            } else {
                text.chars().take(300).collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_are_read_leniently() {
        let status = StatusCode::NOT_FOUND;
        assert_eq!(
            error_message(
                status,
                br#"{"code":"ResourceNotFound","message":"No opportunity"}"#
            ),
            "No opportunity (ResourceNotFound)"
        );
        assert_eq!(error_message(status, br#"{"message":"gone"}"#), "gone");
        assert_eq!(error_message(status, br#"{"code":"X"}"#), "X");
        assert_eq!(error_message(status, b"{}"), "HTTP 404 Not Found");
        assert_eq!(error_message(status, b""), "HTTP 404 Not Found");
        assert_eq!(
            error_message(status, b"<html>oops</html>"),
            "HTTP 404 Not Found"
        );
        assert_eq!(error_message(status, b"plain words"), "plain words");
    }

    #[test]
    fn statuses_map_to_variants() {
        let forbidden = LeverError::from_response(
            StatusCode::FORBIDDEN,
            None,
            b"{}",
            Some("add opportunity tag"),
        );
        assert_eq!(
            forbidden,
            LeverError::Forbidden {
                message: "HTTP 403 Forbidden".into(),
                permission: Some("add opportunity tag".into())
            }
        );
        assert!(forbidden
            .to_string()
            .contains("\u{201c}add opportunity tag\u{201d}"));
        assert!(matches!(
            LeverError::from_response(StatusCode::UNPROCESSABLE_ENTITY, None, b"", None),
            LeverError::BadRequest { .. }
        ));
        assert!(matches!(
            LeverError::from_response(StatusCode::SERVICE_UNAVAILABLE, None, b"", None),
            LeverError::Server { status: 503, .. }
        ));
    }
}
