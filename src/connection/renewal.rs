//! Keeping an OAuth connection's access token fresh: renewed before it expires and when Lever
//! answers 401, one renewal per connection at a time, across replicas.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use secrecy::SecretString;

use super::access::{environment, LeverAccess};
use super::sealed::{access_context, refresh_context, seal_tokens};
use crate::crypto::SecretKey;
use crate::db::lever::LeverConnection;
use crate::db::lever_oauth::{RenewedTokens, NEEDS_REAUTHORIZATION};
use crate::db::{self, Db, DbConn, DbError};
use crate::lever::oauth::{self, OAuthError};
use crate::lever::{LeverError, RenewToken};

/// An access token this close to its expiry is renewed before use.
const RENEW_BEFORE_SECONDS: i64 = 120;

/// The access token to use now: the stored one, renewed first when it expires within two
/// minutes.
pub async fn current_access_token(
    database: &Db,
    lever: &LeverAccess,
    connection: &LeverConnection,
) -> Result<SecretString, LeverError> {
    let sealed = connection
        .access_token_sealed
        .as_deref()
        .ok_or_else(|| lost("the connection holds no access token"))?;
    let token = lever
        .secret_key()
        .open(&access_context(&connection.org_id), sealed)
        .map_err(|e| lost(&format!("the stored access token cannot be read: {e}")))?;
    let expiring = connection
        .token_expires_at
        .is_some_and(|at| at - db::now() < chrono::Duration::seconds(RENEW_BEFORE_SECONDS));
    if expiring {
        return renew(database, lever, &connection.org_id, &token).await;
    }
    Ok(SecretString::from(token))
}

fn lost(message: &str) -> LeverError {
    LeverError::AuthorizationLost {
        message: message.to_owned(),
    }
}

/// Renews a connection's access token because `stale` was refused or is about to expire. One
/// renewal at a time per connection: in this process a lock per organization, and across
/// replicas on PostgreSQL the connection's row, locked from reading the tokens until the new
/// pair is stored (in the same statement). Whoever waited finds a token other than `stale`
/// and uses it without calling Lever.
pub async fn renew(
    database: &Db,
    lever: &LeverAccess,
    org_id: &str,
    stale: &str,
) -> Result<SecretString, LeverError> {
    let lock = lever.renewal_lock(org_id);
    let _held = lock.lock().await;
    let (lever, org, stale) = (lever.clone(), org_id.to_owned(), stale.to_owned());
    let runtime = tokio::runtime::Handle::current();
    // An `Ok(Err(…))` is a failure whose record (the connection marked as needing
    // re-authorization) must be committed, not rolled back.
    let outcome = database
        .run(
            move |conn| -> Result<Result<SecretString, LeverError>, RenewError> {
                if matches!(conn, DbConn::Pg(_)) {
                    db::connection::write_transaction(conn, |conn| {
                        renew_with(conn, &lever, &org, &stale, &runtime)
                    })
                } else {
                    renew_with(conn, &lever, &org, &stale, &runtime)
                }
            },
        )
        .await
        .map_err(RenewError::into_lever)?;
    outcome
}

/// Why a renewal failed.
enum RenewError {
    Lever(LeverError),
    Db(DbError),
}

impl From<diesel::result::Error> for RenewError {
    fn from(e: diesel::result::Error) -> Self {
        RenewError::Db(e.into())
    }
}

impl From<DbError> for RenewError {
    fn from(e: DbError) -> Self {
        RenewError::Db(e)
    }
}

impl RenewError {
    fn into_lever(self) -> LeverError {
        match self {
            RenewError::Lever(e) => e,
            // Worth another attempt later, like a network failure.
            RenewError::Db(e) => LeverError::Transport(format!(
                "the renewed Lever token could not be read or stored ({e})"
            )),
        }
    }
}

/// Runs on a blocking thread, inside the row lock on PostgreSQL: the token request to Lever is
/// made while the lock is held, so no other replica uses the refresh token meanwhile.
fn renew_with(
    conn: &mut DbConn,
    lever: &LeverAccess,
    org_id: &str,
    stale: &str,
    runtime: &tokio::runtime::Handle,
) -> Result<Result<SecretString, LeverError>, RenewError> {
    let connection = connection_to_renew(conn, org_id)?;
    let key = lever.secret_key();
    let current = open_token(key, access_context(org_id), &connection.access_token_sealed)?;
    let fresh_enough = connection
        .token_expires_at
        .is_none_or(|at| at - db::now() >= chrono::Duration::seconds(RENEW_BEFORE_SECONDS));
    if let Some(current) = current.filter(|c| c != stale && fresh_enough) {
        return Ok(Ok(SecretString::from(current)));
    }
    let Some(refresh) = open_token(
        key,
        refresh_context(org_id),
        &connection.refresh_token_sealed,
    )?
    else {
        let reason = "Lever gave no refresh token (offline_access was not granted)";
        db::lever_oauth::mark_needs_reauthorization(conn, &connection, reason)?;
        return Ok(Err(lost(reason)));
    };
    let tokens = match refresh_at_lever(conn, lever, &connection, &refresh, runtime)? {
        Ok(tokens) => tokens,
        Err(refused) => return Ok(Err(refused)),
    };
    store_renewed_tokens(conn, key, &connection, &tokens)?;
    tracing::info!(org_id, "renewed the Lever access token");
    Ok(Ok(tokens.access_token))
}

/// The organization's OAuth connection, read for renewal; none to renew when it is no longer
/// OAuth or already waits for an admin to authorize again.
fn connection_to_renew(conn: &mut DbConn, org_id: &str) -> Result<LeverConnection, RenewError> {
    let connection = db::lever_oauth::connection_for_renewal(conn, org_id)?
        .filter(LeverConnection::is_oauth)
        .ok_or_else(|| RenewError::Lever(lost("Lever is no longer connected through OAuth")))?;
    if let Some(reason) = connection
        .status_message
        .as_deref()
        .filter(|m| connection.is_broken() && m.starts_with(NEEDS_REAUTHORIZATION))
    {
        return Err(RenewError::Lever(lost(reason)));
    }
    Ok(connection)
}

/// A stored token, unsealed; a token that cannot be unsealed loses the authorization.
fn open_token(
    key: &SecretKey,
    context: String,
    sealed: &Option<String>,
) -> Result<Option<String>, RenewError> {
    sealed
        .as_deref()
        .map(|s| key.open(&context, s))
        .transpose()
        .map_err(|e| RenewError::Lever(lost(&format!("a stored token cannot be read: {e}"))))
}

/// Asks Lever for a new token pair with `refresh`. An `Ok(Err(…))` is Lever's lasting refusal,
/// already recorded on the connection (it needs re-authorization); an `Err` is worth retrying
/// or reported as it is.
fn refresh_at_lever(
    conn: &mut DbConn,
    lever: &LeverAccess,
    connection: &LeverConnection,
    refresh: &str,
    runtime: &tokio::runtime::Handle,
) -> Result<Result<oauth::Tokens, LeverError>, RenewError> {
    let app = lever.app().ok_or_else(|| {
        RenewError::Lever(lost(
            "Add to Lever is no longer set up on this leverbridge (LEVERBRIDGE_LEVER_CLIENT_ID)",
        ))
    })?;
    let endpoints = lever.oauth_endpoints(environment(&connection.environment));
    let answer = runtime.block_on(oauth::refresh(lever.oauth_http(), app, &endpoints, refresh));
    match answer {
        Ok(tokens) => Ok(Ok(tokens)),
        Err(OAuthError::InvalidGrant(message)) => {
            let reason = format!("Lever refused to renew the authorization ({message}): it was revoked, or unused for 90 days");
            db::lever_oauth::mark_needs_reauthorization(conn, connection, &reason)?;
            Ok(Err(lost(&reason)))
        }
        Err(OAuthError::Refused(message)) => Err(RenewError::Lever(LeverError::Unauthorized {
            message: format!("Lever refused to renew the access token: {message}"),
        })),
        Err(OAuthError::Transport(message)) => {
            Err(RenewError::Lever(LeverError::Transport(message)))
        }
    }
}

/// Seals and stores the renewed pair, unless the connection was replaced meanwhile.
fn store_renewed_tokens(
    conn: &mut DbConn,
    key: &SecretKey,
    connection: &LeverConnection,
    tokens: &oauth::Tokens,
) -> Result<(), RenewError> {
    let org_id = connection.org_id.as_str();
    let sealed = seal_tokens(key, org_id, tokens);
    let renewed = RenewedTokens {
        access_sealed: sealed.access,
        refresh_sealed: sealed.refresh,
        expires_at: sealed.expires_at,
        scopes: (!tokens.scopes.is_empty()).then(|| tokens.scopes.join(" ")),
    };
    if !db::lever_oauth::store_renewed(conn, connection, renewed)? {
        return Err(RenewError::Lever(LeverError::Transport(
            "the connection changed while its token was renewed; it is tried again".into(),
        )));
    }
    Ok(())
}

/// The client side of [`renew`]: a Lever client calls it when Lever answers 401.
pub struct Renewal {
    pub database: Db,
    pub lever: LeverAccess,
    pub org_id: String,
}

impl RenewToken for Renewal {
    fn renew<'a>(&'a self, stale: &'a str) -> BoxFuture<'a, Result<SecretString, LeverError>> {
        Box::pin(renew(&self.database, &self.lever, &self.org_id, stale))
    }
}

/// The renewal for one connection, shared by its client.
pub fn renewal(database: &Db, lever: &LeverAccess, org_id: &str) -> Arc<dyn RenewToken> {
    Arc::new(Renewal {
        database: database.clone(),
        lever: lever.clone(),
        org_id: org_id.to_owned(),
    })
}
