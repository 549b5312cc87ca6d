//! What the session cookie holds: the token of the signed-in session (whose row in the
//! `sessions` table says who is signed in, and whether still), the CSRF token and flash messages.

use actix_session::Session;
use serde::{Deserialize, Serialize};

use super::WebError;

const SESSION_TOKEN: &str = "session";
const CSRF: &str = "csrf";
const FLASHES: &str = "flashes";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Flash {
    /// `success`, `error` or `info`: the CSS modifier.
    pub kind: String,
    pub message: String,
}

/// The token of the signed-in session, if the cookie carries one (it may have been revoked or
/// have expired since: `db::sessions::user_of` decides).
pub fn token(session: &Session) -> Option<String> {
    session.get::<String>(SESSION_TOKEN).ok().flatten()
}

/// Puts a freshly started session's token in a new cookie (so a planted one is worthless).
pub fn sign_in(session: &Session, token: &str) -> Result<(), WebError> {
    session.renew();
    session.clear();
    session
        .insert(SESSION_TOKEN, token)
        .map_err(|e| WebError::Unexpected(anyhow::anyhow!("{e}")))?;
    csrf_token(session);
    Ok(())
}

/// Drops the whole cookie; the server-side session is ended by `db::sessions`.
pub fn forget(session: &Session) {
    session.purge();
}

/// Drops a token whose session has ended, keeping the CSRF token so the login form shown next
/// can be submitted.
pub fn drop_token(session: &Session) {
    session.remove(SESSION_TOKEN);
}

/// The session's CSRF token, created on first use.
pub fn csrf_token(session: &Session) -> String {
    if let Ok(Some(token)) = session.get::<String>(CSRF) {
        return token;
    }
    let token = crate::crypto::random_token(40);
    let _ = session.insert(CSRF, &token);
    token
}

/// Whether `submitted` is this session's CSRF token (constant-time).
pub fn csrf_matches(session: &Session, submitted: Option<&str>) -> bool {
    use subtle::ConstantTimeEq;
    match (session.get::<String>(CSRF).ok().flatten(), submitted) {
        (Some(expected), Some(given)) => expected.as_bytes().ct_eq(given.as_bytes()).into(),
        _ => false,
    }
}

pub fn flash(session: &Session, kind: &str, message: impl Into<String>) {
    let mut flashes: Vec<Flash> = session.get(FLASHES).ok().flatten().unwrap_or_default();
    flashes.push(Flash {
        kind: kind.to_owned(),
        message: message.into(),
    });
    let _ = session.insert(FLASHES, flashes);
}

/// The pending flash messages; reading them clears them.
pub fn take_flashes(session: &Session) -> Vec<Flash> {
    let flashes = session.get(FLASHES).ok().flatten().unwrap_or_default();
    session.remove(FLASHES);
    flashes
}
