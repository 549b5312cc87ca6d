//! Error answers: Lever's `{code, message}` for `/v1`, `{message}` for the control API.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::json;

/// An error answer of the simulated Lever API.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after: bool,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: false,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequestError", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UnauthorizedError", message)
    }

    pub fn forbidden(permission: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "ForbiddenError",
            format!("This API key is missing permission: {permission}"),
        )
    }

    /// An OAuth access token whose grant lacks the endpoint's scope.
    pub fn missing_scope(scope: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "ForbiddenError",
            format!("Missing required scope: {scope}"),
        )
    }

    /// A confidential opportunity asked for with a key that has no access to confidential data.
    pub fn confidential() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "ForbiddenError",
            "This API key does not have access to confidential data",
        )
    }

    /// An answer scripted through the faults: Lever's error shape for that status.
    pub fn scripted(status: u16) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let code = match status.as_u16() {
            400 => "BadRequestError",
            401 => "UnauthorizedError",
            403 => "ForbiddenError",
            404 => "ResourceNotFound",
            429 => "TooManyRequests",
            _ => "InternalServerError",
        };
        let message = status.canonical_reason().unwrap_or("Error");
        Self::new(status, code, message)
    }

    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!("{what} {id} not found"),
        )
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            message,
        )
    }

    pub fn too_many_requests(retry_after: bool) -> Self {
        ApiError {
            retry_after,
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Rate limit exceeded; slow down",
            )
        }
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "An unexpected error occurred",
        )
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "Lever is temporarily unavailable for maintenance",
        )
    }

    pub fn gateway_timeout() -> Self {
        Self::new(
            StatusCode::GATEWAY_TIMEOUT,
            "GatewayTimeout",
            "The request took too long",
        )
    }

    pub fn response(&self) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status);
        if self.retry_after {
            builder.insert_header(("Retry-After", "1"));
        }
        builder.json(json!({ "code": self.code, "message": self.message }))
    }
}

/// An error answer of the control API (not Lever's format).
#[derive(Debug)]
pub(crate) struct ControlError {
    pub status: StatusCode,
    pub message: String,
}

impl ControlError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ControlError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ControlError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ControlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl actix_web::ResponseError for ControlError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(json!({ "message": self.message }))
    }
}

/// Parses a JSON body for the control API; an empty body reads as `{}`.
pub(crate) fn parse_control_json<T: serde::de::DeserializeOwned>(
    body: &[u8],
) -> Result<T, ControlError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body)
        .map_err(|e| ControlError::bad_request(format!("Invalid JSON body: {e}")))
}
