//! "Add to Lever" in the database: authorizations in flight (`lever_oauth_states`) and an OAuth
//! connection's tokens, renewed under a lock (the connection row itself on PostgreSQL).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::lever::LeverConnection;
use super::schema::{lever_connections, lever_oauth_states};
use super::DbConn;

/// How long an admin has to accept in Lever before the `state` is refused.
pub const STATE_LIFETIME_MINUTES: i64 = 10;

/// Starts `status_message` of a connection whose grant Lever no longer honours.
pub const NEEDS_REAUTHORIZATION: &str = "needs re-authorization";

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = lever_oauth_states)]
pub struct OAuthState {
    pub state_hash: String,
    pub org_id: String,
    /// The signed-in session that started it (`db::sessions::key_of` of its cookie token).
    pub session_id: String,
    /// The admin's email.
    pub started_by: String,
    pub environment: String,
    /// Space-separated, as asked for.
    pub scopes: String,
    pub created_at: NaiveDateTime,
}

impl OAuthState {
    pub fn expired(&self, now: NaiveDateTime) -> bool {
        now - self.created_at > chrono::Duration::minutes(STATE_LIFETIME_MINUTES)
    }
}

/// Records a started authorization, and forgets those abandoned long ago.
pub fn save_state(conn: &mut DbConn, state: &OAuthState) -> QueryResult<()> {
    let long_ago = state.created_at - chrono::Duration::days(1);
    diesel::delete(lever_oauth_states::table.filter(lever_oauth_states::created_at.lt(long_ago)))
        .execute(conn)?;
    diesel::insert_into(lever_oauth_states::table)
        .values(state)
        .execute(conn)?;
    Ok(())
}

/// The authorization `state_hash` names, deleted as it is read: a state works once.
pub fn take_state(conn: &mut DbConn, state_hash: &str) -> QueryResult<Option<OAuthState>> {
    super::connection::write_transaction(conn, |conn| {
        let found = lever_oauth_states::table
            .find(state_hash)
            .select(OAuthState::as_select())
            .first(conn)
            .optional()?;
        let deleted = diesel::delete(lever_oauth_states::table.find(state_hash)).execute(conn)?;
        Ok(found.filter(|_| deleted == 1))
    })
}

/// The organization (other than `org_id`) already connected to Lever account `account_id`.
pub fn org_on_account(
    conn: &mut DbConn,
    account_id: &str,
    org_id: &str,
) -> QueryResult<Option<String>> {
    lever_connections::table
        .filter(lever_connections::lever_account_id.eq(account_id))
        .filter(lever_connections::org_id.ne(org_id))
        .select(lever_connections::org_id)
        .first(conn)
        .optional()
}

/// The connection, locked until the transaction ends on PostgreSQL, so that replicas renew its
/// token one at a time. (SQLite has one process; its callers serialize in memory.)
pub fn connection_for_renewal(
    conn: &mut DbConn,
    org_id: &str,
) -> QueryResult<Option<LeverConnection>> {
    let row = lever_connections::table.find(org_id);
    match conn {
        DbConn::Pg(pg) => row
            .select(LeverConnection::as_select())
            .for_update()
            .first(pg)
            .optional(),
        DbConn::Sqlite(lite) => row
            .select(LeverConnection::as_select())
            .first(lite)
            .optional(),
    }
}

/// A renewed pair, sealed.
pub struct RenewedTokens {
    pub access_sealed: String,
    pub refresh_sealed: Option<String>,
    pub expires_at: Option<NaiveDateTime>,
    pub scopes: Option<String>,
}

/// Stores a renewed pair in one statement, if the refresh token used is still the stored one
/// (it is, under the renewal lock). Lever rotates refresh tokens: the new one replaces the old.
/// Returns whether it was stored.
pub fn store_renewed(
    conn: &mut DbConn,
    renewed_from: &LeverConnection,
    tokens: RenewedTokens,
) -> QueryResult<bool> {
    let now = super::now();
    let refresh = tokens
        .refresh_sealed
        .or_else(|| renewed_from.refresh_token_sealed.clone());
    let scopes = tokens
        .scopes
        .unwrap_or_else(|| renewed_from.granted_scopes.clone());
    let updated = diesel::update(
        lever_connections::table
            .filter(lever_connections::org_id.eq(&renewed_from.org_id))
            .filter(lever_connections::refresh_token_sealed.eq(&renewed_from.refresh_token_sealed)),
    )
    .set((
        lever_connections::access_token_sealed.eq(Some(tokens.access_sealed)),
        lever_connections::refresh_token_sealed.eq(refresh),
        lever_connections::token_expires_at.eq(tokens.expires_at),
        lever_connections::token_refreshed_at.eq(Some(now)),
        lever_connections::granted_scopes.eq(scopes),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Lever refused the refresh token `renewed_from` holds: the connection needs a new
/// authorization, and work waits for it. (Nothing is marked if it was renewed meanwhile.)
pub fn mark_needs_reauthorization(
    conn: &mut DbConn,
    renewed_from: &LeverConnection,
    reason: &str,
) -> QueryResult<usize> {
    diesel::update(
        lever_connections::table
            .filter(lever_connections::org_id.eq(&renewed_from.org_id))
            .filter(lever_connections::refresh_token_sealed.eq(&renewed_from.refresh_token_sealed)),
    )
    .set((
        lever_connections::status.eq("broken"),
        lever_connections::status_message.eq(format!("{NEEDS_REAUTHORIZATION}: {reason}")),
        lever_connections::checked_at.eq(super::now()),
    ))
    .execute(conn)
}
