//! How leverbridge reaches an organization's Lever: which host, which key, one shared HTTP
//! client and one rate-limit bucket per organization, and the record of the calls made.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use secrecy::SecretString;

use crate::config::{LeverHosts, Tuning};
use crate::crypto::SecretKey;
use crate::db::lever_calls::LeverCallRecord;
use crate::db::{self, Db, DbConn};
use crate::lever::oauth::{OAuthApp, OAuthEndpoints};
use crate::lever::{ClientConfig, Credentials, LeverCall, LeverClient, LeverError, RateLimiters};

/// Lever's hosts per environment.
pub const ENVIRONMENTS: &[(&str, &str, &str)] = &[
    ("production", "Production", "https://api.lever.co/v1"),
    ("sandbox", "Sandbox", "https://api.sandbox.lever.co/v1"),
];

#[derive(Clone)]
pub struct LeverAccess {
    http: reqwest::Client,
    limiters: RateLimiters,
    hosts: LeverHosts,
    tuning: Tuning,
    key: SecretKey,
    /// leverbridge's OAuth app, when it is registered as one ("Add to Lever").
    app: Option<OAuthApp>,
    /// For Lever's authorization server: follows no redirects.
    oauth_http: reqwest::Client,
    /// One lock per organization around renewing its OAuth token.
    renewals: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

/// Lever's limit per key, kept in the database for every replica (PostgreSQL).
struct DatabaseBuckets {
    database: Db,
}

impl crate::lever::SharedLimit for DatabaseBuckets {
    fn reserve<'a>(
        &'a self,
        key: &'a str,
        rate_per_sec: f64,
        burst: f64,
    ) -> futures_util::future::BoxFuture<'a, Option<std::time::Duration>> {
        Box::pin(async move {
            let key = key.to_owned();
            let balance = self
                .database
                .run(move |conn| {
                    db::rate_buckets::reserve(conn, &key, rate_per_sec, burst)
                        .map_err(db::DbError::from)
                })
                .await;
            match balance {
                Ok(tokens) if tokens >= 0.0 => Some(std::time::Duration::ZERO),
                Ok(tokens) => Some(std::time::Duration::from_secs_f64(-tokens / rate_per_sec)),
                Err(e) => {
                    tracing::warn!(error = %e, "the shared Lever rate limit could not be read; this replica paces alone");
                    None
                }
            }
        })
    }
}

/// The environment a form named, if it is one.
pub fn parse_environment(name: &str) -> Option<&'static str> {
    ENVIRONMENTS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(n, _, _)| *n)
}

/// The stages a connection test read, as the stage cache keeps them: (id, text) in Lever's order.
pub fn stage_pairs(report: &crate::lever::PermissionReport) -> Vec<(String, String)> {
    report
        .stages
        .iter()
        .map(|s| (s.id.clone(), s.text.clone()))
        .collect()
}

/// An environment's name as stored, or production for anything else.
pub fn environment(name: &str) -> &'static str {
    parse_environment(name).unwrap_or(ENVIRONMENTS[0].0)
}

/// Why a client for a stored connection could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the stored Lever API key cannot be read: {0}")]
    Unsealed(anyhow::Error),
    #[error(transparent)]
    Lever(#[from] LeverError),
}

impl LeverAccess {
    pub fn new(hosts: LeverHosts, tuning: Tuning, key: SecretKey) -> LeverAccess {
        let oauth_http = reqwest::Client::builder()
            .user_agent(concat!("leverbridge/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            // A token request gets the deadline of a Lever call, connecting included.
            .connect_timeout(tuning.lever_timeout.min(std::time::Duration::from_secs(10)))
            .timeout(tuning.lever_timeout)
            .build()
            .expect("the TLS backend and the default HTTP client settings are valid");
        LeverAccess {
            http: crate::lever::http_client(),
            limiters: RateLimiters::new(tuning.lever_rate_per_sec, tuning.lever_burst),
            hosts,
            tuning,
            key,
            app: None,
            oauth_http,
            renewals: Arc::default(),
        }
    }

    /// Draws on the rate-limit buckets in `database` as well (PostgreSQL, where replicas
    /// share Lever keys).
    pub fn sharing_limits_in(mut self, database: &Db) -> LeverAccess {
        if database.is_postgres() {
            let shared = Arc::new(DatabaseBuckets {
                database: database.clone(),
            });
            self.limiters = self.limiters.clone().with_shared(shared);
        }
        self
    }

    /// Offers "Add to Lever" as `app`.
    pub fn with_app(mut self, app: Option<OAuthApp>) -> LeverAccess {
        self.app = app;
        self
    }

    #[cfg(test)]
    pub(crate) fn limiters(&self) -> &RateLimiters {
        &self.limiters
    }

    /// Organizations whose Lever bucket holds fewer than `tokens` now, each with how long
    /// until it does.
    pub fn throttled_orgs(&self, tokens: f64) -> Vec<(String, std::time::Duration)> {
        self.limiters.throttled(tokens)
    }

    pub fn app(&self) -> Option<&OAuthApp> {
        self.app.as_ref()
    }

    pub fn oauth_http(&self) -> &reqwest::Client {
        &self.oauth_http
    }

    /// Lever's authorization server for an environment, unless the environment overrides it.
    pub fn oauth_endpoints(&self, environment: &str) -> OAuthEndpoints {
        OAuthEndpoints::new(environment, self.hosts.auth_url.as_deref())
    }

    pub(crate) fn renewal_lock(&self, org_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.renewals
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(org_id.to_owned())
            .or_default()
            .clone()
    }

    fn config(&self, environment: &str) -> ClientConfig {
        ClientConfig {
            api_base: self.api_base(environment),
            timeout: self.tuning.lever_timeout,
            max_retries: self.tuning.lever_max_retries,
            backoff_base: self.tuning.lever_backoff_base,
        }
    }

    /// A client with an OAuth access token that is not renewed (the connection being made).
    pub fn bearer_client(
        &self,
        org_id: &str,
        environment: &str,
        token: SecretString,
    ) -> LeverClient {
        LeverClient::new(
            self.http.clone(),
            self.config(environment),
            Credentials::Bearer(token),
            org_id.to_owned(),
            self.limiters.clone(),
        )
    }

    /// The API root for an environment, unless the environment overrides Lever's hosts.
    pub fn api_base(&self, environment: &str) -> String {
        if let Some(url) = &self.hosts.api_url {
            return url.trim_end_matches('/').to_owned();
        }
        ENVIRONMENTS
            .iter()
            .find(|(name, _, _)| *name == environment)
            .map(|(_, _, url)| (*url).to_owned())
            .unwrap_or_else(|| ENVIRONMENTS[0].2.to_owned())
    }

    /// A client for one organization with a plain API key (the connection test).
    pub fn client(&self, org_id: &str, environment: &str, api_key: &str) -> LeverClient {
        let credentials = Credentials::ApiKey(SecretString::from(api_key.to_owned()));
        LeverClient::new(
            self.http.clone(),
            self.config(environment),
            credentials,
            org_id.to_owned(),
            self.limiters.clone(),
        )
    }

    /// The sealed form of an organization's API key, bound to that organization.
    pub fn seal_api_key(&self, org_id: &str, api_key: &str) -> String {
        self.key.seal(&api_key_context(org_id), api_key)
    }

    /// A client from the stored connection. An OAuth connection's access token is renewed
    /// first when it is about to expire, and again whenever Lever answers 401 to it.
    pub async fn client_for(
        &self,
        database: &Db,
        connection: &db::lever::LeverConnection,
    ) -> Result<LeverClient, ClientError> {
        if !connection.is_oauth() {
            let api_key = self
                .key
                .open(
                    &api_key_context(&connection.org_id),
                    &connection.api_key_sealed,
                )
                .map_err(ClientError::Unsealed)?;
            return Ok(self.client(&connection.org_id, &connection.environment, &api_key));
        }
        let token = crate::lever_oauth::current_access_token(database, self, connection).await?;
        Ok(LeverClient::new(
            self.http.clone(),
            self.config(&connection.environment),
            Credentials::OAuth {
                token,
                renew: crate::lever_oauth::renewal(database, self, &connection.org_id),
            },
            connection.org_id.clone(),
            self.limiters.clone(),
        ))
    }

    pub fn secret_key(&self) -> &SecretKey {
        &self.key
    }
}

fn api_key_context(org_id: &str) -> String {
    format!("lever-api-key:{org_id}")
}

/// Saves the calls a client made, attributed to a webhook event when there is one.
pub fn record_calls(
    conn: &mut DbConn,
    org_id: &str,
    event_id: Option<&str>,
    calls: Vec<LeverCall>,
) -> diesel::QueryResult<()> {
    let now = db::now();
    let records: Vec<LeverCallRecord> = calls
        .into_iter()
        .map(|call| LeverCallRecord {
            id: db::new_id(),
            org_id: org_id.to_owned(),
            event_id: event_id.map(str::to_owned),
            method: call.method,
            path: call.path,
            status: call.status.map(i32::from),
            error: call.error,
            attempt: call.attempt as i32,
            duration_ms: call.duration_ms as i64,
            at: now,
        })
        .collect();
    db::lever_calls::insert_all(conn, &records)
}

/// A Lever user as the connection caches it (named by email when Lever has no name).
pub fn cached_user(u: &crate::lever::User) -> db::lever::CachedUser {
    db::lever::CachedUser {
        id: u.id.clone(),
        name: if u.name.is_empty() {
            u.email.clone()
        } else {
            u.name.clone()
        },
        email: u.email.clone(),
        access_role: u.access_role.clone(),
        active: u.is_active(),
    }
}

/// What connecting a key found.
pub struct Connected {
    pub users: usize,
    pub stages: usize,
    /// Permissions the key lacks, by Lever's names.
    pub missing: Vec<String>,
    /// Parked jobs that were waiting for a working connection and now run.
    pub resumed: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("Lever rejected this key: {0}")]
    Rejected(String),
    #[error("could not test the key with Lever: {0}")]
    Lever(crate::lever::LeverError),
    /// The key's Lever account is connected to another organization (named). Nothing was saved.
    #[error("{}", account_taken(.0))]
    AccountTaken(String),
    /// The working key was kept: the new one lacks permissions it has, and replacing it was
    /// not confirmed. Nothing was saved.
    #[error("the new key lacks permissions the working key has: {}", .lost.join(", "))]
    WouldLosePermissions {
        /// Permissions the working key has and the new one lacks.
        lost: Vec<String>,
        /// Everything the new key lacks.
        missing: Vec<String>,
        /// The last four characters of the working key, which stays in use.
        current_last4: String,
    },
    #[error(transparent)]
    Db(#[from] db::DbError),
}

/// Whether a new key may replace one that works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replacement {
    /// Keep a working key (one Lever has not refused) when the new key lacks a permission it
    /// has: [`ConnectError::WouldLosePermissions`].
    KeepWorkingKey,
    /// The admin confirmed: the new key replaces the current one whatever it lacks.
    Confirmed,
}

/// Tests a key live (users, stages, tags, each write permission) and, when Lever accepts it,
/// saves it sealed with the users and stages read, and resumes parked work. Every call made is
/// recorded. Nothing is saved when Lever refuses the key, nor, unless `replacement` is
/// [`Replacement::Confirmed`], when it would replace a working key that has permissions the
/// new one lacks.
pub async fn connect_key(
    database: &db::Db,
    lever: &LeverAccess,
    org_id: &str,
    environment: &'static str,
    key: &str,
    connected_by: &str,
) -> Result<Connected, ConnectError> {
    connect_key_with(
        database,
        lever,
        org_id,
        environment,
        key,
        connected_by,
        Replacement::KeepWorkingKey,
    )
    .await
}

/// [`connect_key`], saying whether replacing a working key was confirmed.
pub async fn connect_key_with(
    database: &db::Db,
    lever: &LeverAccess,
    org_id: &str,
    environment: &'static str,
    key: &str,
    connected_by: &str,
    replacement: Replacement,
) -> Result<Connected, ConnectError> {
    use crate::db::lever::{CachedUser, NewAuth, NewConnection};
    use crate::lever::LeverError;

    let client = lever.client(org_id, environment, key);
    let report = client.probe_permissions().await;
    let calls = client.take_calls();
    let org = org_id.to_owned();
    database
        .run(move |conn| record_calls(conn, &org, None, calls).map_err(db::DbError::from))
        .await?;
    let report = match report {
        Ok(report) => report,
        Err(LeverError::Unauthorized { message }) => return Err(ConnectError::Rejected(message)),
        Err(e) => return Err(ConnectError::Lever(e)),
    };
    let users: Vec<CachedUser> = report.users.iter().map(cached_user).collect();
    let stages = stage_pairs(&report);
    let (user_count, stage_count, missing) = (users.len(), stages.len(), report.missing.clone());
    let sealed = lever.seal_api_key(org_id, key);
    let last4 = crate::crypto::last_four(key);
    let (org, by) = (org_id.to_owned(), connected_by.to_owned());
    let saved = database
        .run(move |conn| {
            db::connection::write_transaction(conn, |conn| -> Result<Saved, db::DbError> {
                if let Some(other) = org_on_same_account(conn, &users, &org)? {
                    return Ok(Saved::Taken(other));
                }
                if replacement == Replacement::KeepWorkingKey {
                    if let Some(kept) = kept_working_key(conn, &org, &report.missing)? {
                        return Ok(kept);
                    }
                }
                db::lever::replace_users(conn, &org, &users)?;
                if !stages.is_empty() {
                    db::lever::replace_stages(conn, &org, &stages)?;
                }
                db::lever::save_connection(
                    conn,
                    NewConnection {
                        org_id: &org,
                        environment,
                        auth: NewAuth::ApiKey { sealed, last4 },
                        missing: report.missing,
                        connected_by: &by,
                    },
                )?;
                Ok(Saved::Replaced {
                    resumed: crate::queue::table::unpark(conn, &org)?,
                })
            })
        })
        .await?;
    match saved {
        Saved::Replaced { resumed } => Ok(Connected {
            users: user_count,
            stages: stage_count,
            missing,
            resumed,
        }),
        Saved::Kept {
            lost,
            current_last4,
        } => Err(ConnectError::WouldLosePermissions {
            lost,
            missing,
            current_last4,
        }),
        Saved::Taken(other) => Err(ConnectError::AccountTaken(other)),
    }
}

/// What an admin is told when the Lever account is another organization's, however either
/// connected.
pub fn account_taken(other: &str) -> String {
    format!("That Lever account is already connected to the organization “{other}”. One Lever account can be connected to one organization; disconnect it there first. Nothing was saved.")
}

/// The name of the other organization already connected to the Lever account these users
/// belong to (`db::lever::org_on_same_account`), however either connected.
pub(crate) fn org_on_same_account(
    conn: &mut DbConn,
    users: &[crate::db::lever::CachedUser],
    org_id: &str,
) -> Result<Option<String>, db::DbError> {
    let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    let Some(other) = db::lever::org_on_same_account(conn, &ids, org_id)? else {
        return Ok(None);
    };
    Ok(Some(
        db::orgs::find(conn, &other)?.map_or(other, |o| o.name),
    ))
}

enum Saved {
    /// Another organization is on this Lever account.
    Taken(String),
    Replaced {
        resumed: usize,
    },
    Kept {
        lost: Vec<String>,
        current_last4: String,
    },
}

/// The working key stays when the new one lacks a permission it has. A broken key (Lever
/// answered 401) is no loss.
fn kept_working_key(
    conn: &mut DbConn,
    org_id: &str,
    new_missing: &[String],
) -> Result<Option<Saved>, db::DbError> {
    let Some(current) = db::lever::connection(conn, org_id)? else {
        return Ok(None);
    };
    if current.is_broken() {
        return Ok(None);
    }
    let had_missing = current.missing();
    let lost: Vec<String> = new_missing
        .iter()
        .filter(|permission| !had_missing.contains(permission))
        .cloned()
        .collect();
    Ok((!lost.is_empty()).then_some(Saved::Kept {
        lost,
        current_last4: current.api_key_last4,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_limit_comes_from_the_settings() {
        let access =
            |tuning| LeverAccess::new(LeverHosts::default(), tuning, SecretKey::generate());
        let lever = format!("{:?}", access(Tuning::default()).limiters);
        assert!(
            lever.contains("rate_per_sec: 9.8") && lever.contains("burst: 19"),
            "{lever}"
        );
        let fast = Tuning {
            lever_rate_per_sec: 500.0,
            lever_burst: 300,
            ..Tuning::default()
        };
        let fast = format!("{:?}", access(fast).limiters);
        assert!(
            fast.contains("rate_per_sec: 500.0") && fast.contains("burst: 300"),
            "{fast}"
        );
    }
}
