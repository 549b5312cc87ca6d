//! Who is calling: an API key from HTTP Basic auth or an OAuth access token (Bearer), and the
//! `perform_as` user.

use actix_web::HttpRequest;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::error::ApiError;
use super::state::Account;

/// The credential of an API request.
pub(crate) enum Credential {
    /// Sent as the Basic-auth user name (the password is empty and ignored).
    ApiKey(String),
    /// `Authorization: Bearer ACCESS_TOKEN`.
    Bearer(String),
}

pub(crate) fn credential(req: &HttpRequest) -> Option<Credential> {
    let header = req.headers().get("Authorization")?.to_str().ok()?;
    let (scheme, value) = header.trim().split_once(' ')?;
    let value = value.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return (!value.is_empty()).then(|| Credential::Bearer(value.to_string()));
    }
    let (user, _password) = basic(req)?;
    (!user.is_empty()).then_some(Credential::ApiKey(user))
}

/// The user name and password of HTTP Basic auth, as sent (no decoding beyond base64).
pub(crate) fn basic(req: &HttpRequest) -> Option<(String, String)> {
    let header = req.headers().get("Authorization")?.to_str().ok()?;
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':').unwrap_or((&decoded, ""));
    Some((user.to_string(), password.to_string()))
}

/// The last four characters of a key, for the request log.
pub(crate) fn last4(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

/// Checks `perform_as`: required where Lever requires it, and always an active user of the account.
pub(crate) fn check_perform_as(
    acct: &Account,
    perform_as: Option<&str>,
    required: bool,
) -> Result<Option<String>, ApiError> {
    let Some(user_id) = perform_as.filter(|id| !id.is_empty()) else {
        return if required {
            Err(ApiError::bad_request(
                "Missing required parameter: perform_as",
            ))
        } else {
            Ok(None)
        };
    };
    match acct.user(user_id) {
        None => Err(ApiError::bad_request(format!(
            "Invalid perform_as: no user with id {user_id}"
        ))),
        Some(user) if user.deactivated_at.is_some() => Err(ApiError::bad_request(format!(
            "Invalid perform_as: user {user_id} is deactivated"
        ))),
        Some(_) => Ok(Some(user_id.to_string())),
    }
}
