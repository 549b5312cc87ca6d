//! The contexts an organization's Lever secrets are sealed under at rest: each is bound to its
//! organization and its use, so a sealed value copied to another row cannot be opened.

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
