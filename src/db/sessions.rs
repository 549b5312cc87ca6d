//! Signed-in sessions, kept server-side so they can be ended: the session cookie carries only a
//! random token, and a session counts while its row is neither revoked nor past its idle or
//! absolute limit. Rows are keyed by the token's SHA-256, so reading the database does not give
//! anyone a usable cookie.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::schema::{sessions, users};
use super::users::User;
use super::DbConn;

pub use crate::config::SessionLimits;

impl SessionLimits {
    /// `last_seen_at` is written again only once it is this old, so a busy user costs one write
    /// now and then rather than one per request.
    fn touch_after(&self) -> chrono::Duration {
        chrono::Duration::from_std((self.idle / 10).min(Duration::from_secs(60)))
            .unwrap_or(chrono::Duration::seconds(60))
    }
}

/// The id of the session a cookie token names (its SHA-256, hex).
pub fn key_of(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn ago(now: NaiveDateTime, limit: Duration) -> NaiveDateTime {
    chrono::Duration::from_std(limit)
        .ok()
        .and_then(|d| now.checked_sub_signed(d))
        .unwrap_or(NaiveDateTime::MIN)
}

/// Starts a session for the user and returns the token for the cookie. The user's sessions that
/// have ended are deleted on the way, so the table holds little more than live sessions.
#[tracing::instrument(skip_all)]
pub fn start(conn: &mut DbConn, user_id: &str, limits: SessionLimits) -> QueryResult<String> {
    let now = limits.clock.now();
    diesel::delete(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(
                sessions::revoked_at
                    .is_not_null()
                    .or(sessions::created_at.le(ago(now, limits.absolute)))
                    .or(sessions::last_seen_at.le(ago(now, limits.idle))),
            ),
    )
    .execute(conn)?;
    let token = crate::crypto::random_token(43);
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(key_of(&token)),
            sessions::user_id.eq(user_id),
            sessions::created_at.eq(now),
            sessions::last_seen_at.eq(now),
        ))
        .execute(conn)?;
    Ok(token)
}

/// Ends the one session `token` names (signing out of this browser only); the user's others
/// go on. Returns whether a live session ended.
#[tracing::instrument(skip_all)]
pub fn end(conn: &mut DbConn, token: &str) -> QueryResult<bool> {
    let ended = diesel::update(
        sessions::table
            .find(key_of(token))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(Some(super::now())))
    .execute(conn)?;
    Ok(ended > 0)
}

/// The user a live session belongs to (and marks the session as used), or `None` when the token
/// is unknown, revoked or expired.
#[tracing::instrument(skip_all)]
pub fn user_of(conn: &mut DbConn, token: &str, limits: SessionLimits) -> QueryResult<Option<User>> {
    let now = limits.clock.now();
    let key = key_of(token);
    let found: Option<(NaiveDateTime, User)> = sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(&key))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::created_at.gt(ago(now, limits.absolute)))
        .filter(sessions::last_seen_at.gt(ago(now, limits.idle)))
        .select((sessions::last_seen_at, User::as_select()))
        .first(conn)
        .optional()?;
    let Some((last_seen_at, user)) = found else {
        return Ok(None);
    };
    if now - last_seen_at >= limits.touch_after() {
        diesel::update(sessions::table.find(&key))
            .set(sessions::last_seen_at.eq(now))
            .execute(conn)?;
    }
    Ok(Some(user))
}
