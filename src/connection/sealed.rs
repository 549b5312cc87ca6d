//! The contexts an organization's Lever secrets are sealed under at rest: each is bound to its
//! organization and its use, so a sealed value copied to another row cannot be opened.

use secrecy::ExposeSecret;

use crate::crypto::SecretKey;
use crate::db;
use crate::lever::oauth::Tokens;

pub(super) fn api_key_context(org_id: &str) -> String {
    format!("lever-api-key:{org_id}")
}

pub(super) fn access_context(org_id: &str) -> String {
    format!("lever-oauth-access:{org_id}")
}

pub(super) fn refresh_context(org_id: &str) -> String {
    format!("lever-oauth-refresh:{org_id}")
}

/// When an access token Lever just issued expires, as stored.
pub(super) fn expires_at(tokens: &Tokens) -> Option<chrono::NaiveDateTime> {
    tokens
        .expires_in
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .map(|d| db::now() + d)
}

/// Tokens Lever just issued, sealed for the organization: the access token, the refresh token
/// when Lever sent one, and when the access token expires.
pub(super) struct SealedTokens {
    pub access: String,
    pub refresh: Option<String>,
    pub expires_at: Option<chrono::NaiveDateTime>,
}

pub(super) fn seal_tokens(key: &SecretKey, org_id: &str, tokens: &Tokens) -> SealedTokens {
    SealedTokens {
        access: key.seal(&access_context(org_id), tokens.access_token.expose_secret()),
        refresh: tokens
            .refresh_token
            .as_ref()
            .map(|t| key.seal(&refresh_context(org_id), t.expose_secret())),
        expires_at: expires_at(tokens),
    }
}
