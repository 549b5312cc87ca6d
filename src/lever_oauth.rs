//! "Add to Lever": connecting an organization through Lever's OAuth, keeping its access token
//! fresh (one refresh at a time per connection, across replicas), registering leverbridge's own
//! webhooks, and disconnecting.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::crypto::random_token;
use crate::db::lever::{CachedUser, LeverConnection, NewAuth, NewConnection};
use crate::db::lever_oauth::{OAuthState, RenewedTokens, NEEDS_REAUTHORIZATION};
use crate::db::{self, Db, DbConn, DbError};
use crate::domain::org_settings::OrgSettings;
use crate::domain::WEBHOOK_EVENTS;
use crate::lever::oauth::{self, OAuthError, Tokens};
use crate::lever::{LeverClient, LeverError, RenewToken};
use crate::lever_access::{cached_user, environment, record_calls, LeverAccess};

/// Where Lever sends the admin back; registered with Lever as the app's redirect URI.
pub const CALLBACK_PATH: &str = "/oauth/lever/callback";

/// An access token this close to its expiry is renewed before use.
const RENEW_BEFORE_SECONDS: i64 = 120;

/// The scopes leverbridge asks for, each with why, and whether it is needed given the
/// organization's settings.
pub struct ScopeNeed {
    pub scope: &'static str,
    pub why: &'static str,
}

/// Only what the enabled features use (LEVER_API.md lists the scopes).
pub fn scopes_needed(settings: &OrgSettings) -> Vec<ScopeNeed> {
    let need = |scope, why| ScopeNeed { scope, why };
    let mut scopes = vec![
        need(
            "offline_access",
            "stay connected without asking you again every hour",
        ),
        need(
            "users:read:admin",
            "list your Lever users, to choose who leverbridge writes as",
        ),
        need(
            "stages:read:admin",
            "list your pipeline stages for the trigger stages",
        ),
        need("tags:read:admin", "list tags for the configurations"),
        need(
            "postings:read:admin",
            "read a posting's tags (posting-tag question selection)",
        ),
        need(
            "opportunities:read:admin",
            "read a candidate's stage, tags and email when a webhook arrives",
        ),
        need(
            "opportunities:write:admin",
            "add the assessment link and progress tags, and move passing candidates",
        ),
        need(
            "notes:read:admin",
            "check for a note already written, so none is written twice",
        ),
        need("notes:write:admin", "write the invitation and result notes"),
        need(
            "webhooks:read:admin",
            "find the webhooks leverbridge created earlier",
        ),
        need(
            "webhooks:write:admin",
            "create and delete leverbridge's webhooks, so you paste no token",
        ),
    ];
    if settings.write_backs.feedback_form {
        scopes.extend([
            need(
                "feedback:read:admin",
                "check for a scored feedback form already submitted",
            ),
            need("feedback:write:admin", "submit the scored feedback form"),
            need(
                "feedback_templates:read:admin",
                "find leverbridge's feedback form template",
            ),
            need(
                "feedback_templates:write:admin",
                "create leverbridge's feedback form template",
            ),
        ]);
    }
    if settings.write_backs.report_file {
        scopes.extend([
            need("files:read:admin", "check for a report already uploaded"),
            need(
                "files:write:admin",
                "upload the PDF report to the candidate's profile",
            ),
        ]);
    }
    scopes
}

fn access_context(org_id: &str) -> String {
    format!("lever-oauth-access:{org_id}")
}

fn refresh_context(org_id: &str) -> String {
    format!("lever-oauth-refresh:{org_id}")
}

fn state_hash(state: &str) -> String {
    hex::encode(Sha256::digest(state.as_bytes()))
}

/// Why an authorization could not start or finish. Each says what to do; nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum OAuthConnectError {
    #[error("Add to Lever is not set up on this leverbridge: set LEVERBRIDGE_LEVER_CLIENT_ID and LEVERBRIDGE_LEVER_CLIENT_SECRET.")]
    NotConfigured,
    #[error("This authorization is not one leverbridge is waiting for: it was already used, or did not start here. Nothing was saved; start again with Add to Lever.")]
    UnknownState,
    #[error("This authorization was started in another browser session. Nothing was saved; start again with Add to Lever from this browser.")]
    OtherSession,
    #[error("This authorization took longer than ten minutes and has expired. Nothing was saved; start again with Add to Lever.")]
    Expired,
    #[error("Access was not granted in Lever{}. Nothing was saved; click Add to Lever again and choose Accept to connect.", .0.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Denied(Option<String>),
    #[error("Lever answered the authorization with an error: {0}. Nothing was saved.")]
    LeverRefused(String),
    #[error("That Lever account is already connected to the organization “{0}”. One Lever account can be connected to one organization; disconnect it there first. Nothing was saved.")]
    AccountTaken(String),
    #[error("Could not finish the authorization with Lever: {0}. Nothing was saved; try Add to Lever again.")]
    Lever(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for OAuthConnectError {
    fn from(e: diesel::result::Error) -> Self {
        OAuthConnectError::Db(e.into())
    }
}

/// Starts an authorization for an organization: records the `state` (bound to the admin's
/// session, single-use, ten minutes) and returns Lever's consent page to send the admin to.
pub async fn start(
    database: &Db,
    lever: &LeverAccess,
    redirect_uri: &str,
    started: StartedBy,
) -> Result<String, OAuthConnectError> {
    let app = lever.app().ok_or(OAuthConnectError::NotConfigured)?.clone();
    let endpoints = lever.oauth_endpoints(started.environment);
    let org = started.org_id.clone();
    let settings = database
        .run(move |conn| db::settings::for_org(conn, &org).map_err(DbError::from))
        .await?;
    let scopes: Vec<&str> = scopes_needed(&settings).iter().map(|s| s.scope).collect();
    let state = random_token(43);
    let row = OAuthState {
        state_hash: state_hash(&state),
        org_id: started.org_id,
        session_id: started.session_id,
        started_by: started.email,
        environment: started.environment.to_owned(),
        scopes: scopes.join(" "),
        created_at: db::now(),
    };
    let url = oauth::authorize_url(&app, &endpoints, redirect_uri, &state, &scopes)
        .map_err(|e| OAuthConnectError::Lever(e.to_string()))?;
    database
        .run(move |conn| db::lever_oauth::save_state(conn, &row).map_err(DbError::from))
        .await?;
    Ok(url)
}

/// Who starts an authorization, for which organization and environment.
pub struct StartedBy {
    pub org_id: String,
    /// `db::sessions::key_of` of the admin's session token.
    pub session_id: String,
    pub email: String,
    pub environment: &'static str,
}

/// The authorization the callback's `state` names, used up by this call; refused when it is
/// unknown or used, started in another session, or expired.
pub async fn claim(
    database: &Db,
    state: &str,
    session_id: Option<&str>,
) -> Result<OAuthState, OAuthConnectError> {
    let hash = state_hash(state);
    let found = database
        .run(move |conn| db::lever_oauth::take_state(conn, &hash).map_err(DbError::from))
        .await?
        .ok_or(OAuthConnectError::UnknownState)?;
    if session_id != Some(found.session_id.as_str()) {
        return Err(OAuthConnectError::OtherSession);
    }
    if found.expired(db::now()) {
        return Err(OAuthConnectError::Expired);
    }
    Ok(found)
}

/// What connecting through OAuth did.
pub struct Completed {
    pub users: usize,
    pub stages: usize,
    /// Scopes asked for and not granted.
    pub missing: Vec<String>,
    pub resumed: usize,
}

/// Trades the code for tokens, checks the Lever account is not another organization's, reads
/// users and stages, saves the connection (tokens sealed) and resumes parked work. (The caller
/// then registers leverbridge's webhooks: [`register_webhooks`].)
#[tracing::instrument(skip_all, fields(org_id = %started.org_id))]
pub async fn complete(
    database: &Db,
    lever: &LeverAccess,
    redirect_uri: &str,
    started: &OAuthState,
    code: &str,
) -> Result<Completed, OAuthConnectError> {
    let app = lever.app().ok_or(OAuthConnectError::NotConfigured)?.clone();
    let environment = environment(&started.environment);
    let endpoints = lever.oauth_endpoints(environment);
    let tokens = oauth::exchange_code(lever.oauth_http(), &app, &endpoints, redirect_uri, code)
        .await
        .map_err(|e| match e {
            OAuthError::InvalidGrant(m) | OAuthError::Refused(m) => {
                OAuthConnectError::LeverRefused(m)
            }
            OAuthError::Transport(m) => OAuthConnectError::Lever(m),
        })?;
    let claims = oauth::claims(tokens.access_token.expose_secret())
        .map_err(OAuthConnectError::LeverRefused)?;
    let org_id = started.org_id.clone();
    let (account, org) = (claims.account_id.clone(), org_id.clone());
    let taken = database
        .run(move |conn| -> Result<_, DbError> {
            let Some(other) = db::lever_oauth::org_on_account(conn, &account, &org)? else {
                return Ok(None);
            };
            Ok(Some(
                db::orgs::find(conn, &other)?.map_or(other, |o| o.name),
            ))
        })
        .await?;
    if let Some(other) = taken {
        return Err(OAuthConnectError::AccountTaken(other));
    }

    let client = lever.bearer_client(&org_id, environment, tokens.access_token.clone());
    let report = client.probe_permissions().await;
    let calls = client.take_calls();
    let org = org_id.clone();
    database
        .run(move |conn| record_calls(conn, &org, None, calls).map_err(DbError::from))
        .await?;
    let report = report.map_err(|e| OAuthConnectError::Lever(e.to_string()))?;
    let asked: Vec<String> = started.scopes.split(' ').map(str::to_owned).collect();
    let granted = if tokens.scopes.is_empty() {
        asked.clone()
    } else {
        tokens.scopes.clone()
    };
    let missing: Vec<String> = asked
        .iter()
        .filter(|scope| !granted.contains(scope))
        .cloned()
        .collect();
    let users: Vec<CachedUser> = report.users.iter().map(cached_user).collect();
    let stages: Vec<(String, String)> = report
        .stages
        .iter()
        .map(|s| (s.id.clone(), s.text.clone()))
        .collect();
    let (user_count, stage_count) = (users.len(), stages.len());
    let auth = sealed_tokens(lever, &org_id, &tokens, &claims, granted.join(" "));
    let (org, by, saved_missing, env) = (
        org_id.clone(),
        started.started_by.clone(),
        missing.clone(),
        environment,
    );
    let resumed = database
        .run(move |conn| {
            db::connection::write_transaction(conn, |conn| -> Result<usize, OAuthConnectError> {
                db::lever::replace_users(conn, &org, &users)?;
                if !stages.is_empty() {
                    db::lever::replace_stages(conn, &org, &stages)?;
                }
                let saved = db::lever::save_connection(
                    conn,
                    NewConnection {
                        org_id: &org,
                        environment: env,
                        auth,
                        missing: saved_missing,
                        connected_by: &by,
                    },
                );
                match saved {
                    Err(diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::UniqueViolation,
                        _,
                    )) => {
                        return Err(OAuthConnectError::AccountTaken(
                            "another organization".into(),
                        ))
                    }
                    other => other?,
                }
                Ok(crate::jobs::queue::unpark(conn, &org)?)
            })
        })
        .await?;
    Ok(Completed {
        users: user_count,
        stages: stage_count,
        missing,
        resumed,
    })
}

fn sealed_tokens(
    lever: &LeverAccess,
    org_id: &str,
    tokens: &Tokens,
    claims: &oauth::Claims,
    scopes: String,
) -> NewAuth {
    let key = lever.secret_key();
    NewAuth::OAuth {
        access_sealed: key.seal(&access_context(org_id), tokens.access_token.expose_secret()),
        refresh_sealed: tokens
            .refresh_token
            .as_ref()
            .map(|t| key.seal(&refresh_context(org_id), t.expose_secret())),
        expires_at: expires_at(tokens),
        account_id: claims.account_id.clone(),
        user_id: claims.user_id.clone(),
        scopes,
    }
}

fn expires_at(tokens: &Tokens) -> Option<chrono::NaiveDateTime> {
    tokens
        .expires_in
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .map(|d| db::now() + d)
}

/// What registering leverbridge's webhooks in Lever did.
#[derive(Default)]
pub struct Registration {
    /// Events whose webhook was created now.
    pub created: Vec<&'static str>,
    /// Events whose webhook leverbridge had created before.
    pub existing: Vec<&'static str>,
    /// Events whose webhook Lever returned no signature token for: paste it on Webhooks.
    pub without_token: Vec<&'static str>,
    /// Why registering stopped, if it did.
    pub failed: Option<String>,
    /// Each webhook found or created: event, Lever's id, signature token.
    made: Vec<(&'static str, String, Option<String>)>,
}

/// Creates leverbridge's webhooks in Lever (each event it handles), listing first so it never
/// creates one twice, and stores each signature token Lever returns. Webhooks this app made
/// for an earlier URL of the organization (the URL was rotated) are deleted. `webhook_base` is
/// the public URL of `/webhooks/lever/`.
#[tracing::instrument(skip_all, fields(org_id = %org_id))]
pub async fn register_webhooks(
    database: &Db,
    lever: &LeverAccess,
    org_id: &str,
    webhook_base: &str,
) -> Registration {
    let mut registration = Registration::default();
    let outcome = register(database, lever, org_id, webhook_base, &mut registration).await;
    if let Err(e) = outcome {
        registration.failed = Some(e);
    }
    registration
}

async fn register(
    database: &Db,
    lever: &LeverAccess,
    org_id: &str,
    webhook_base: &str,
    registration: &mut Registration,
) -> Result<(), String> {
    let org = org_id.to_owned();
    let (connection, endpoint_key) = database
        .run(move |conn| -> Result<_, DbError> {
            Ok((
                db::lever::connection(conn, &org)?,
                db::webhooks::endpoint_key(conn, &org)?,
            ))
        })
        .await
        .map_err(|e| e.to_string())?;
    let connection = connection.ok_or("Lever is not connected")?;
    let client = lever
        .client_for(database, &connection)
        .await
        .map_err(|e| e.to_string())?;
    let url = format!("{webhook_base}{endpoint_key}");
    let result = sync_webhooks(&client, &url, webhook_base, registration).await;
    let calls = client.take_calls();
    let org = org_id.to_owned();
    let secret = lever.secret_key().clone();
    let made = std::mem::take(&mut registration.made);
    let saved = database
        .run(move |conn| {
            record_calls(conn, &org, None, calls)?;
            db::connection::write_transaction(conn, |conn| -> Result<(), DbError> {
                for (event, id, token) in &made {
                    db::webhooks::set_managed(conn, &org, event, id, &url)?;
                    if let Some(token) = token {
                        let sealed = secret.seal(&db::webhooks::token_context(&org, event), token);
                        let last4 = crate::crypto::last_four(token);
                        db::webhooks::set_token(conn, &org, event, &sealed, &last4)?;
                    }
                }
                Ok(())
            })
        })
        .await;
    saved.map_err(|e| e.to_string())?;
    result.map_err(|e| e.to_string())
}

async fn sync_webhooks(
    client: &LeverClient,
    url: &str,
    ours: &str,
    registration: &mut Registration,
) -> Result<(), LeverError> {
    let listed = client.list_webhooks().await?;
    for stale in listed
        .iter()
        .filter(|w| w.url.starts_with(ours) && w.url != url)
    {
        client.delete_webhook(&stale.id).await?;
    }
    for kind in WEBHOOK_EVENTS {
        let found = listed.iter().find(|w| w.url == url && w.event == kind.name);
        let webhook = match found {
            Some(webhook) => {
                registration.existing.push(kind.name);
                webhook.clone()
            }
            None => {
                let webhook = client.create_webhook(url, kind.name).await?;
                registration.created.push(kind.name);
                webhook
            }
        };
        if webhook.signature_token.is_none() {
            registration.without_token.push(kind.name);
        }
        registration.made.push((
            kind.name,
            webhook.id.clone(),
            webhook.signature_token.clone(),
        ));
    }
    Ok(())
}

/// What disconnecting an OAuth connection managed to undo in Lever.
#[derive(Default)]
pub struct Undone {
    pub webhooks_deleted: usize,
    pub revoked: bool,
    /// What could not be undone in Lever (the tokens are forgotten all the same).
    pub problems: Vec<String>,
}

/// Deletes leverbridge's webhooks in Lever and revokes the grant where Lever allows; the caller
/// then forgets the connection.
pub async fn undo_in_lever(
    database: &Db,
    lever: &LeverAccess,
    connection: &LeverConnection,
) -> Undone {
    let mut undone = Undone::default();
    let org = connection.org_id.clone();
    let managed = match database
        .run(move |conn| db::webhooks::managed(conn, &org).map_err(DbError::from))
        .await
    {
        Ok(managed) => managed,
        Err(e) => {
            undone.problems.push(e.to_string());
            Vec::new()
        }
    };
    if !managed.is_empty() && !connection.is_broken() {
        match lever.client_for(database, connection).await {
            Ok(client) => {
                for webhook in &managed {
                    match client.delete_webhook(&webhook.lever_webhook_id).await {
                        Ok(()) | Err(LeverError::NotFound { .. }) => undone.webhooks_deleted += 1,
                        Err(e) => undone.problems.push(format!(
                            "the {} webhook could not be deleted ({e}); delete it in Lever",
                            webhook.event
                        )),
                    }
                }
                let (calls, org) = (client.take_calls(), connection.org_id.clone());
                let _ = database
                    .run(move |conn| record_calls(conn, &org, None, calls).map_err(DbError::from))
                    .await;
            }
            Err(e) => undone.problems.push(e.to_string()),
        }
    }
    // The refresh token as stored now (a renewal above may have rotated it).
    let org = connection.org_id.clone();
    let current = database
        .run(move |conn| db::lever::connection(conn, &org).map_err(DbError::from))
        .await
        .ok()
        .flatten();
    let refresh = current
        .as_ref()
        .and_then(|c| c.refresh_token_sealed.as_ref())
        .and_then(|sealed| {
            lever
                .secret_key()
                .open(&refresh_context(&connection.org_id), sealed)
                .ok()
        });
    if let (Some(app), Some(refresh)) = (lever.app(), refresh) {
        let endpoints = lever.oauth_endpoints(environment(&connection.environment));
        match oauth::revoke(lever.oauth_http(), app, &endpoints, &refresh).await {
            Ok(revoked) => undone.revoked = revoked,
            Err(e) => undone.problems.push(format!(
                "{e}; revoke leverbridge's access in Lever (Settings › Integrations and API)"
            )),
        }
    }
    undone
}

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
    let key = lever.secret_key();
    let open = |context: String, sealed: &Option<String>| {
        sealed
            .as_deref()
            .map(|s| key.open(&context, s))
            .transpose()
            .map_err(|e| RenewError::Lever(lost(&format!("a stored token cannot be read: {e}"))))
    };
    let current = open(access_context(org_id), &connection.access_token_sealed)?;
    let fresh_enough = connection
        .token_expires_at
        .is_none_or(|at| at - db::now() >= chrono::Duration::seconds(RENEW_BEFORE_SECONDS));
    if let Some(current) = current.filter(|c| c != stale && fresh_enough) {
        return Ok(Ok(SecretString::from(current)));
    }
    let Some(refresh) = open(refresh_context(org_id), &connection.refresh_token_sealed)? else {
        let reason = "Lever gave no refresh token (offline_access was not granted)";
        db::lever_oauth::mark_needs_reauthorization(conn, &connection, reason)?;
        return Ok(Err(lost(reason)));
    };
    let app = lever.app().ok_or_else(|| {
        RenewError::Lever(lost(
            "Add to Lever is no longer set up on this leverbridge (LEVERBRIDGE_LEVER_CLIENT_ID)",
        ))
    })?;
    let endpoints = lever.oauth_endpoints(environment(&connection.environment));
    let answer = runtime.block_on(oauth::refresh(
        lever.oauth_http(),
        app,
        &endpoints,
        &refresh,
    ));
    let tokens = match answer {
        Ok(tokens) => tokens,
        Err(OAuthError::InvalidGrant(message)) => {
            let reason = format!("Lever refused to renew the authorization ({message}): it was revoked, or unused for 90 days");
            db::lever_oauth::mark_needs_reauthorization(conn, &connection, &reason)?;
            return Ok(Err(lost(&reason)));
        }
        Err(OAuthError::Refused(message)) => {
            return Err(RenewError::Lever(LeverError::Unauthorized {
                message: format!("Lever refused to renew the access token: {message}"),
            }))
        }
        Err(OAuthError::Transport(message)) => {
            return Err(RenewError::Lever(LeverError::Transport(message)))
        }
    };
    let renewed = RenewedTokens {
        access_sealed: key.seal(&access_context(org_id), tokens.access_token.expose_secret()),
        refresh_sealed: tokens
            .refresh_token
            .as_ref()
            .map(|t| key.seal(&refresh_context(org_id), t.expose_secret())),
        expires_at: expires_at(&tokens),
        scopes: (!tokens.scopes.is_empty()).then(|| tokens.scopes.join(" ")),
    };
    if !db::lever_oauth::store_renewed(conn, &connection, renewed)? {
        return Err(RenewError::Lever(LeverError::Transport(
            "the connection changed while its token was renewed; it is tried again".into(),
        )));
    }
    tracing::info!(org_id, "renewed the Lever access token");
    Ok(Ok(tokens.access_token))
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
