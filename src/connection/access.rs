//! How leverbridge reaches Lever: which host per environment, one shared HTTP client, one
//! rate-limit bucket per organization, and clients made from a key or a token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use secrecy::SecretString;

use super::buckets::DatabaseBuckets;
use super::sealed::api_key_context;
use crate::config::{LeverHosts, Tuning};
use crate::crypto::SecretKey;
use crate::db::Db;
use crate::lever::oauth::{OAuthApp, OAuthEndpoints};
use crate::lever::{ClientConfig, Credentials, LeverClient, RateLimiters, RenewToken};

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

/// The environment a form named, if it is one.
pub fn parse_environment(name: &str) -> Option<&'static str> {
    ENVIRONMENTS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(n, _, _)| *n)
}

/// An environment's name as stored, or production for anything else.
pub fn environment(name: &str) -> &'static str {
    parse_environment(name).unwrap_or(ENVIRONMENTS[0].0)
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
            let shared = Arc::new(DatabaseBuckets::new(database));
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

    /// A client with an OAuth access token that `renew` renews whenever Lever answers 401 to it
    /// (a stored connection: [`LeverAccess::client_for`]).
    pub(super) fn renewing_client(
        &self,
        org_id: &str,
        environment: &str,
        token: SecretString,
        renew: Arc<dyn RenewToken>,
    ) -> LeverClient {
        LeverClient::new(
            self.http.clone(),
            self.config(environment),
            Credentials::OAuth { token, renew },
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

    pub fn secret_key(&self) -> &SecretKey {
        &self.key
    }
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
