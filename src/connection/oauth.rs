//! "Add to Lever": connecting an organization through Lever's OAuth, from the consent page to
//! the saved connection. The protocol itself (URLs, token requests, claims) is `lever::oauth`;
//! keeping the token fresh is `renewal.rs`, and the webhooks leverbridge registers once
//! connected are `webhooks.rs`.

use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use super::access::{environment, LeverAccess};
use super::account::{account_taken, cached_user, org_on_same_account, stage_pairs};
use super::calls::record_calls;
use super::resume::ResumeParked;
use super::sealed::seal_tokens;
use super::stages::keep_stages;
use crate::crypto::random_token;
use crate::db::lever::{CachedUser, NewAuth, NewConnection};
use crate::db::lever_oauth::OAuthState;
use crate::db::{self, Db, DbConn, DbError};
use crate::domain::org_settings::OrgSettings;
use crate::lever::oauth::{self, OAuthError, Tokens};

/// Where Lever sends the admin back; registered with Lever as the app's redirect URI.
pub const CALLBACK_PATH: &str = "/oauth/lever/callback";

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
    #[error("{} The access Lever just granted was revoked.", account_taken(.0))]
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
/// users and stages, saves the connection (tokens sealed) and lets parked work resume through
/// `resume_parked` in the same transaction (see `resume.rs`). (The caller then registers
/// leverbridge's webhooks: [`register_webhooks`](super::register_webhooks).) A grant obtained
/// and then not kept (the account is taken, or saving failed) is revoked, so none is left
/// unused in Lever.
#[tracing::instrument(skip_all, fields(org_id = %started.org_id))]
pub async fn complete(
    database: &Db,
    lever: &LeverAccess,
    redirect_uri: &str,
    started: &OAuthState,
    code: &str,
    resume_parked: ResumeParked,
) -> Result<Completed, OAuthConnectError> {
    let app = lever.app().ok_or(OAuthConnectError::NotConfigured)?.clone();
    let endpoints = lever.oauth_endpoints(environment(&started.environment));
    let tokens = oauth::exchange_code(lever.oauth_http(), &app, &endpoints, redirect_uri, code)
        .await
        .map_err(|e| match e {
            OAuthError::InvalidGrant(m) | OAuthError::Refused(m) => {
                OAuthConnectError::LeverRefused(m)
            }
            OAuthError::Transport(m) => OAuthConnectError::Lever(m),
        })?;
    let kept = keep(database, lever, started, &tokens, resume_parked).await;
    if kept.is_err() {
        match &tokens.refresh_token {
            Some(refresh) => {
                let revoked = oauth::revoke(
                    lever.oauth_http(),
                    &app,
                    &endpoints,
                    refresh.expose_secret(),
                )
                .await;
                if let Err(e) = revoked {
                    tracing::warn!(error = %e, "a grant not kept could not be revoked");
                }
            }
            None => tracing::warn!("a grant not kept came without a refresh token to revoke"),
        }
    }
    kept
}

/// [`complete`] once the code is traded: checks, reads and saves.
async fn keep(
    database: &Db,
    lever: &LeverAccess,
    started: &OAuthState,
    tokens: &Tokens,
    resume_parked: ResumeParked,
) -> Result<Completed, OAuthConnectError> {
    let environment = environment(&started.environment);
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
    let grant = Grant {
        org_id: org_id.clone(),
        environment,
        auth: sealed_tokens(lever, &org_id, tokens, &claims, granted.join(" ")),
        started_by: started.started_by.clone(),
        users: report.users.iter().map(cached_user).collect(),
        stages: stage_pairs(&report),
        missing: missing.clone(),
    };
    let (user_count, stage_count) = (grant.users.len(), grant.stages.len());
    let resumed = database
        .run(move |conn| {
            db::connection::write_transaction(conn, |conn| save_grant(conn, grant, resume_parked))
        })
        .await?;
    Ok(Completed {
        users: user_count,
        stages: stage_count,
        missing,
        resumed,
    })
}

/// A grant checked and read, ready to be saved as the organization's connection.
struct Grant {
    org_id: String,
    environment: &'static str,
    auth: NewAuth,
    started_by: String,
    users: Vec<CachedUser>,
    stages: Vec<(String, String)>,
    missing: Vec<String>,
}

/// [`keep`]'s transaction: the account check, the connection saved, and the parked work
/// resumed once it is; returns how many jobs resumed.
fn save_grant(
    conn: &mut DbConn,
    grant: Grant,
    resume_parked: ResumeParked,
) -> Result<usize, OAuthConnectError> {
    let org = grant.org_id.as_str();
    // The account may be connected by API key elsewhere: its users say so.
    if let Some(other) = org_on_same_account(conn, &grant.users, org)? {
        return Err(OAuthConnectError::AccountTaken(other));
    }
    db::lever::replace_users(conn, org, &grant.users)?;
    keep_stages(conn, org, &grant.stages)?;
    let saved = db::lever::save_connection(
        conn,
        NewConnection {
            org_id: org,
            environment: grant.environment,
            auth: grant.auth,
            missing: grant.missing,
            connected_by: &grant.started_by,
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
    Ok(resume_parked(conn, org)?)
}

fn sealed_tokens(
    lever: &LeverAccess,
    org_id: &str,
    tokens: &Tokens,
    claims: &oauth::Claims,
    scopes: String,
) -> NewAuth {
    let sealed = seal_tokens(lever.secret_key(), org_id, tokens);
    NewAuth::OAuth {
        access_sealed: sealed.access,
        refresh_sealed: sealed.refresh,
        expires_at: sealed.expires_at,
        account_id: claims.account_id.clone(),
        user_id: claims.user_id.clone(),
        scopes,
    }
}
