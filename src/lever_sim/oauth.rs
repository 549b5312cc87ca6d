//! OAuth in the simulated Lever: registered apps, the grants accounts gave them, one-time
//! authorization codes, rotating refresh tokens and JWT access tokens. Lever runs its OAuth on
//! Auth0; this keeps Auth0's visible behaviour (a rotated refresh token is dead at once).
//!
//! The pages and endpoints are in `oauth_authorize` (consent), `oauth_token` (token and
//! revoke), `control_oauth` (control API) and `page_oauth` (the account page's Connected apps).

use std::collections::HashMap;

use super::oauth_jwt::{self, Claims};
use super::rate_limit::TokenBucket;
use super::state::{new_id, now_ms, random_alphanumeric};

/// Asking for this scope gets a refresh token.
pub(crate) const OFFLINE_ACCESS: &str = "offline_access";

/// The resources the simulator knows scopes for: `R:read:admin` and `R:write:admin` each.
const SCOPE_RESOURCES: &[&str] = &[
    "users",
    "stages",
    "tags",
    "sources",
    "postings",
    "opportunities",
    "notes",
    "files",
    "feedback",
    "feedback_templates",
    "webhooks",
    "interviews",
    "panels",
];

/// An authorization code is good for one exchange within ten minutes.
const CODE_LIFETIME_MS: i64 = 10 * 60 * 1000;

/// The access-token lifetime when an app's registration names none (Lever's hour).
pub(crate) const DEFAULT_TOKEN_LIFETIME_SECS: u64 = 3600;

pub(crate) fn is_known_scope(scope: &str) -> bool {
    scope == OFFLINE_ACCESS
        || scope
            .strip_suffix(":read:admin")
            .or_else(|| scope.strip_suffix(":write:admin"))
            .is_some_and(|resource| SCOPE_RESOURCES.contains(&resource))
}

/// Whether `granted` covers `required`: the scope itself, or for a read scope the matching write
/// scope (Lever's write scopes include the corresponding read permissions).
pub(crate) fn scopes_allow(granted: &[String], required: &str) -> bool {
    granted.iter().any(|s| s == required)
        || required
            .strip_suffix(":read:admin")
            .is_some_and(|resource| granted.contains(&format!("{resource}:write:admin")))
}

/// What a consent screen shows for a scope.
pub(crate) fn scope_description(scope: &str) -> String {
    if scope == OFFLINE_ACCESS {
        return "Stay connected while you are away (a refresh token)".into();
    }
    let words = |resource: &str| resource.replace('_', " ");
    if let Some(resource) = scope.strip_suffix(":read:admin") {
        format!("View all {}", words(resource))
    } else if let Some(resource) = scope.strip_suffix(":write:admin") {
        format!("View and manage all {}", words(resource))
    } else {
        scope.to_string()
    }
}

pub(crate) struct OAuthApp {
    pub client_id: String,
    pub client_secret: String,
    pub name: String,
    /// Each compared exactly with the `redirect_uri` an authorization names.
    pub redirect_uris: Vec<String>,
    pub token_lifetime_secs: u64,
}

/// One consent: an account let an app act through one of its users.
pub(crate) struct Grant {
    pub id: String,
    pub client_id: String,
    pub account_id: String,
    pub user_id: String,
    pub scopes: Vec<String>,
    pub audience: String,
    pub revoked: bool,
    /// Successful `refresh_token` exchanges.
    pub refreshes: u64,
    pub access_tokens_issued: u64,
    pub created_at: i64,
    /// The one live refresh token (rotated at each refresh); none without `offline_access`.
    refresh_token: Option<String>,
    /// Bearer requests share one rate-limit bucket per grant.
    pub bucket: TokenBucket,
}

struct AuthCode {
    code: String,
    grant_id: String,
    redirect_uri: String,
    expires_at: i64,
}

/// An access token the simulator issued, by its `jti`.
struct AccessToken {
    grant_id: String,
    /// Unix seconds, as the token's `exp`.
    exp: i64,
    /// Expired early through the control API.
    expired: bool,
}

/// A token endpoint's answer, before it is written as JSON.
pub(crate) struct Tokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub scope: String,
    pub expires_in: u64,
}

/// Why a code or refresh token was refused (`invalid_grant`).
#[derive(Debug)]
pub(crate) struct InvalidGrant(pub &'static str);

/// What a Bearer token on `/v1` turned out to be.
pub(crate) enum Bearer<'a> {
    /// Not a token of this simulator (or of no account it still has).
    Unknown,
    /// A token of a known grant that may no longer be used.
    Refused {
        grant: &'a Grant,
        reason: &'static str,
    },
    Live(&'a Grant),
}

pub(crate) struct OAuth {
    signing_key: [u8; 32],
    pub apps: Vec<OAuthApp>,
    pub grants: Vec<Grant>,
    codes: Vec<AuthCode>,
    access_tokens: HashMap<String, AccessToken>,
}

impl Default for OAuth {
    fn default() -> Self {
        OAuth {
            signing_key: rand::random(),
            apps: Vec::new(),
            grants: Vec::new(),
            codes: Vec::new(),
            access_tokens: HashMap::new(),
        }
    }
}

impl OAuth {
    pub fn app(&self, client_id: &str) -> Option<&OAuthApp> {
        self.apps.iter().find(|a| a.client_id == client_id)
    }

    /// Adds the app, or replaces the registration with the same client id (its grants stay).
    pub fn register(&mut self, app: OAuthApp) {
        match self.apps.iter_mut().find(|a| a.client_id == app.client_id) {
            Some(existing) => *existing = app,
            None => self.apps.push(app),
        }
    }

    pub fn grant(&self, id: &str) -> Option<&Grant> {
        self.grants.iter().find(|g| g.id == id)
    }

    pub fn grant_mut(&mut self, id: &str) -> Option<&mut Grant> {
        self.grants.iter_mut().find(|g| g.id == id)
    }

    /// Records a consent and answers its authorization code.
    pub fn consent(
        &mut self,
        client_id: &str,
        account_id: &str,
        user_id: &str,
        scopes: Vec<String>,
        audience: &str,
        redirect_uri: &str,
    ) -> String {
        let now = now_ms();
        let grant = Grant {
            id: new_id(),
            client_id: client_id.to_string(),
            account_id: account_id.to_string(),
            user_id: user_id.to_string(),
            scopes,
            audience: audience.to_string(),
            revoked: false,
            refreshes: 0,
            access_tokens_issued: 0,
            created_at: now,
            refresh_token: None,
            bucket: TokenBucket::default(),
        };
        let code = random_alphanumeric(32);
        self.codes.retain(|c| c.expires_at > now);
        self.codes.push(AuthCode {
            code: code.clone(),
            grant_id: grant.id.clone(),
            redirect_uri: redirect_uri.to_string(),
            expires_at: now + CODE_LIFETIME_MS,
        });
        self.grants.push(grant);
        code
    }

    /// `grant_type=authorization_code`: the code is used up only by a successful exchange.
    pub fn exchange_code(
        &mut self,
        client_id: &str,
        code: &str,
        redirect_uri: &str,
        issuer: &str,
    ) -> Result<Tokens, InvalidGrant> {
        let now = now_ms();
        let index = self
            .codes
            .iter()
            .position(|c| c.code == code && c.expires_at > now)
            .ok_or(InvalidGrant("Invalid authorization code"))?;
        let grant = self
            .grant(&self.codes[index].grant_id)
            .ok_or(InvalidGrant("Invalid authorization code"))?;
        if grant.client_id != client_id {
            return Err(InvalidGrant("Invalid authorization code"));
        }
        if self.codes[index].redirect_uri != redirect_uri {
            return Err(InvalidGrant(
                "redirect_uri does not match the one used to authorize",
            ));
        }
        if grant.revoked {
            return Err(InvalidGrant("The grant has been revoked"));
        }
        let grant_id = self.codes.remove(index).grant_id;
        Ok(self.issue(&grant_id, issuer))
    }

    /// `grant_type=refresh_token`: answers a new refresh token; the old one is dead at once.
    pub fn refresh(
        &mut self,
        client_id: &str,
        refresh_token: &str,
        issuer: &str,
    ) -> Result<Tokens, InvalidGrant> {
        let grant = self
            .grant_of_refresh_token(client_id, refresh_token)
            .ok_or(InvalidGrant("Unknown or invalid refresh token."))?;
        if grant.revoked {
            return Err(InvalidGrant("The grant has been revoked"));
        }
        let grant_id = grant.id.clone();
        let tokens = self.issue(&grant_id, issuer);
        if let Some(grant) = self.grant_mut(&grant_id) {
            grant.refreshes += 1;
        }
        Ok(tokens)
    }

    /// RFC 7009 through a refresh token: revokes its whole grant; an unknown token is no error.
    pub fn revoke_refresh_token(&mut self, client_id: &str, refresh_token: &str) {
        if let Some(grant) = self.grant_of_refresh_token(client_id, refresh_token) {
            let id = grant.id.clone();
            self.revoke_grant(&id);
        }
    }

    /// Lever's *Revoke Access*: every token of the grant stops working. `false` when unknown.
    pub fn revoke_grant(&mut self, id: &str) -> bool {
        let Some(grant) = self.grant_mut(id) else {
            return false;
        };
        grant.revoked = true;
        true
    }

    /// Every access token issued so far for the grant answers 401 from now on; refresh tokens
    /// keep working. The number of tokens expired, `None` when the grant is unknown.
    pub fn expire_access_tokens(&mut self, grant_id: &str) -> Option<usize> {
        self.grant(grant_id)?;
        let mut count = 0;
        for token in self.access_tokens.values_mut() {
            if token.grant_id == grant_id && !token.expired {
                token.expired = true;
                count += 1;
            }
        }
        Some(count)
    }

    /// The grant behind a Bearer token.
    pub fn bearer(&self, token: &str) -> Bearer<'_> {
        let Some(claims) = oauth_jwt::verify(&self.signing_key, token) else {
            return Bearer::Unknown;
        };
        let Some(record) = self.access_tokens.get(&claims.jti) else {
            return Bearer::Unknown;
        };
        let Some(grant) = self.grant(&record.grant_id) else {
            return Bearer::Unknown;
        };
        let refused = |reason| Bearer::Refused { grant, reason };
        if grant.revoked {
            refused("The access token has been revoked")
        } else if record.expired || now_ms() / 1000 >= record.exp {
            refused("The access token has expired")
        } else {
            Bearer::Live(grant)
        }
    }

    fn grant_of_refresh_token(&self, client_id: &str, refresh_token: &str) -> Option<&Grant> {
        self.grants
            .iter()
            .find(|g| g.client_id == client_id && g.refresh_token.as_deref() == Some(refresh_token))
    }

    /// A new access token, and a new refresh token (replacing the old one) when `offline_access`
    /// was granted.
    fn issue(&mut self, grant_id: &str, issuer: &str) -> Tokens {
        let lifetime = self
            .grant(grant_id)
            .and_then(|g| self.app(&g.client_id))
            .map_or(DEFAULT_TOKEN_LIFETIME_SECS, |a| a.token_lifetime_secs);
        let grant = self
            .grants
            .iter_mut()
            .find(|g| g.id == grant_id)
            .expect("the grant was just found");
        let iat = now_ms() / 1000;
        let exp = iat.saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX));
        let scope = grant.scopes.join(" ");
        let claims = Claims {
            iss: issuer.to_string(),
            sub: grant.user_id.clone(),
            aud: vec![grant.audience.clone()],
            azp: grant.client_id.clone(),
            iat,
            exp,
            scope: scope.clone(),
            jti: new_id(),
            account_id: grant.account_id.clone(),
            user_id: grant.user_id.clone(),
        };
        let access_token = oauth_jwt::sign(&self.signing_key, &claims);
        grant.access_tokens_issued += 1;
        if grant.scopes.iter().any(|s| s == OFFLINE_ACCESS) {
            grant.refresh_token = Some(random_alphanumeric(48));
        }
        let refresh_token = grant.refresh_token.clone();
        self.access_tokens.insert(
            claims.jti,
            AccessToken {
                grant_id: grant_id.to_string(),
                exp,
                expired: false,
            },
        );
        Tokens {
            access_token,
            refresh_token,
            scope,
            expires_in: lifetime,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_scopes_are_read_or_write_admin_scopes_of_known_resources() {
        assert!(is_known_scope("offline_access"));
        assert!(is_known_scope("feedback_templates:write:admin"));
        assert!(!is_known_scope("feedback_templates:write"));
        assert!(!is_known_scope("spaceships:read:admin"));
    }

    #[test]
    fn a_write_scope_covers_its_read_scope_but_not_the_reverse() {
        let granted = vec!["notes:write:admin".to_string()];
        assert!(scopes_allow(&granted, "notes:read:admin"));
        assert!(scopes_allow(&granted, "notes:write:admin"));
        assert!(!scopes_allow(&granted, "files:read:admin"));
        let read = vec!["notes:read:admin".to_string()];
        assert!(!scopes_allow(&read, "notes:write:admin"));
    }
}
