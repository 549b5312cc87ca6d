//! The Lever account behind a connection, however it was made: its users and stages as the
//! connection caches them, and the rule that one Lever account is connected to one
//! organization.

use crate::db::lever::CachedUser;
use crate::db::{self, DbConn};
use crate::lever::{PermissionReport, User};

/// A Lever user as the connection caches it (named by email when Lever has no name).
pub(super) fn cached_user(u: &User) -> CachedUser {
    CachedUser {
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

/// The stages a connection test read, as the stage cache keeps them: (id, text) in Lever's order.
pub(super) fn stage_pairs(report: &PermissionReport) -> Vec<(String, String)> {
    report
        .stages
        .iter()
        .map(|s| (s.id.clone(), s.text.clone()))
        .collect()
}

/// What an admin is told when the Lever account is another organization's, however either
/// connected.
pub(super) fn account_taken(other: &str) -> String {
    format!("That Lever account is already connected to the organization “{other}”. One Lever account can be connected to one organization; disconnect it there first. Nothing was saved.")
}

/// The name of the other organization already connected to the Lever account these users
/// belong to (`db::lever::org_on_same_account`), however either connected.
pub(super) fn org_on_same_account(
    conn: &mut DbConn,
    users: &[CachedUser],
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
