//! How leverbridge reaches an organization's Lever: which host, which key, one shared HTTP
//! client and one rate-limit bucket per organization, and the record of the calls made.

use secrecy::SecretString;

use crate::config::{LeverHosts, Tuning};
use crate::crypto::SecretKey;
use crate::db::lever_calls::LeverCallRecord;
use crate::db::{self, DbConn};
use crate::lever::{ClientConfig, Credentials, LeverCall, LeverClient, RateLimiters};

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
}

impl LeverAccess {
    pub fn new(hosts: LeverHosts, tuning: Tuning, key: SecretKey) -> LeverAccess {
        LeverAccess {
            http: crate::lever::http_client(),
            limiters: RateLimiters::default(),
            hosts,
            tuning,
            key,
        }
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
        let config = ClientConfig {
            api_base: self.api_base(environment),
            timeout: self.tuning.lever_timeout,
            max_retries: self.tuning.lever_max_retries,
            backoff_base: self.tuning.lever_backoff_base,
        };
        let credentials = Credentials::ApiKey(SecretString::from(api_key.to_owned()));
        LeverClient::new(
            self.http.clone(),
            config,
            credentials,
            org_id.to_owned(),
            self.limiters.clone(),
        )
    }

    /// The sealed form of an organization's API key, bound to that organization.
    pub fn seal_api_key(&self, org_id: &str, api_key: &str) -> String {
        self.key.seal(&api_key_context(org_id), api_key)
    }

    /// A client from the stored connection.
    pub fn client_for(
        &self,
        connection: &db::lever::LeverConnection,
    ) -> anyhow::Result<LeverClient> {
        let api_key = self.key.open(
            &api_key_context(&connection.org_id),
            &connection.api_key_sealed,
        )?;
        Ok(self.client(&connection.org_id, &connection.environment, &api_key))
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
