//! Endpoint key → organization and its decrypted signature tokens, kept in memory so that a
//! delivery needs no database read before it is verified. A change made on this server drops the
//! organization's entry at once; entries also expire after a few seconds, so a change made on
//! another replica (PostgreSQL deployments) is seen soon after.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::crypto::SecretKey;
use crate::db::{self, Db, DbError};

use crate::db::webhooks::token_context;

/// How long an entry is trusted without asking the database again.
const TTL: Duration = Duration::from_secs(5);

/// One organization's webhook secrets, decrypted.
pub struct OrgKeys {
    pub org_id: String,
    tokens: HashMap<String, Result<String, String>>,
}

impl OrgKeys {
    /// An organization's keys as the cache would hold them, for tests of the checks.
    #[cfg(test)]
    pub fn with_tokens(org_id: &str, tokens: &[(&str, &str)]) -> OrgKeys {
        OrgKeys {
            org_id: org_id.into(),
            tokens: tokens
                .iter()
                .map(|(event, token)| (event.to_string(), Ok(token.to_string())))
                .collect(),
        }
    }

    /// The event's token: `None` when none is saved, `Some(Err)` when it cannot be decrypted.
    pub fn token(&self, event: &str) -> Option<Result<&str, &str>> {
        self.tokens
            .get(event)
            .map(|t| t.as_deref().map_err(String::as_str))
    }
}

struct Entry {
    keys: Arc<OrgKeys>,
    fetched: Instant,
}

#[derive(Default)]
pub struct WebhookKeys {
    entries: RwLock<HashMap<String, Entry>>,
}

impl WebhookKeys {
    /// The organization behind an endpoint key, from memory or the database; `None` for an
    /// unknown key (not remembered, so a key issued elsewhere works at once).
    pub async fn lookup(
        &self,
        db: &Db,
        secret: &SecretKey,
        endpoint_key: &str,
    ) -> Result<Option<Arc<OrgKeys>>, DbError> {
        if let Some(entry) = self.read().get(endpoint_key) {
            if entry.fetched.elapsed() < TTL {
                return Ok(Some(entry.keys.clone()));
            }
        }
        let key = endpoint_key.to_owned();
        let Some((org_id, sealed)) = db
            .run(move |conn| db::webhooks::org_and_tokens(conn, &key).map_err(DbError::from))
            .await?
        else {
            return Ok(None);
        };
        let tokens = sealed
            .into_iter()
            .map(|t| {
                let opened = secret
                    .open(&token_context(&org_id, &t.event), &t.token_sealed)
                    .map_err(|e| e.to_string());
                (t.event, opened)
            })
            .collect();
        let keys = Arc::new(OrgKeys { org_id, tokens });
        self.entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                endpoint_key.to_owned(),
                Entry {
                    keys: keys.clone(),
                    fetched: Instant::now(),
                },
            );
        Ok(Some(keys))
    }

    /// Drops what is remembered of an organization (its key rotated or a token changed).
    pub fn forget_org(&self, org_id: &str) {
        self.entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, entry| entry.keys.org_id != org_id);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Entry>> {
        self.entries.read().unwrap_or_else(|p| p.into_inner())
    }
}
