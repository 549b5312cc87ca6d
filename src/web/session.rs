//! What the session cookie holds: the signed-in user, the CSRF token and flash messages.

use actix_session::Session;
use serde::{Deserialize, Serialize};

use super::WebError;

const USER_ID: &str = "user_id";
const CSRF: &str = "csrf";
const FLASHES: &str = "flashes";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Flash {
    /// `success`, `error` or `info`: the CSS modifier.
    pub kind: String,
    pub message: String,
}

pub fn user_id(session: &Session) -> Option<String> {
    session.get::<String>(USER_ID).ok().flatten()
}

/// Starts a fresh session for this user (a new cookie, so a planted one is worthless).
pub fn sign_in(session: &Session, user_id: &str) -> Result<(), WebError> {
    session.renew();
    session.clear();
    session
        .insert(USER_ID, user_id)
        .map_err(|e| WebError::Unexpected(anyhow::anyhow!("{e}")))?;
    csrf_token(session);
    Ok(())
}

pub fn sign_out(session: &Session) {
    session.purge();
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
