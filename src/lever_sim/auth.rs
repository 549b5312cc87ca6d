//! Who is calling: the API key from HTTP Basic auth, and the `perform_as` user.

use actix_web::HttpRequest;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::error::ApiError;
use super::state::Account;

/// The API key sent as the Basic-auth user name (the password is empty and ignored).
pub(crate) fn api_key(req: &HttpRequest) -> Option<String> {
    let header = req.headers().get("Authorization")?.to_str().ok()?;
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let key = decoded.split(':').next().unwrap_or_default();
    (!key.is_empty()).then(|| key.to_string())
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
