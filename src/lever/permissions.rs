//! The connection test: reads the lists the settings pages need and probes each permission the
//! table (`permission_table.rs`) requires, without writing to the customer's Lever.

use reqwest::Method;
use serde_json::json;

use super::client::LeverClient;
use super::error::LeverError;
use super::permission_table::{NIL_OPPORTUNITY_ID, REQUIRED_PERMISSIONS};
use super::request::ApiRequest;
use super::types::{Stage, Tag, User};

/// What the connection test found: the account's users, stages and tags (for the settings
/// pages) and the permissions the key lacks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PermissionReport {
    pub users: Vec<User>,
    pub stages: Vec<Stage>,
    pub tags: Vec<Tag>,
    /// Permission names from [`REQUIRED_PERMISSIONS`], empty when everything is granted.
    pub missing: Vec<String>,
}

impl PermissionReport {
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }
}

impl LeverClient {
    /// The connection test. Reads users, stages and tags, then probes every other permission
    /// leverbridge needs, except [`UNTESTED_PERMISSIONS`](super::UNTESTED_PERMISSIONS), by calling its endpoint on
    /// [`NIL_OPPORTUNITY_ID`]: 404 (or 400) means granted, 403 missing. Nothing it sends can
    /// create anything (see `permission_table.rs`). An OAuth connection skips the write probes:
    /// its scopes decide. A 401 anywhere is an error.
    #[tracing::instrument(skip_all, fields(oauth = self.is_oauth()))]
    pub async fn probe_permissions(&self) -> Result<PermissionReport, LeverError> {
        let mut report = PermissionReport::default();
        let mut missing = Vec::new();

        match self.list_users().await {
            Ok(users) => report.users = users,
            Err(error) => missing.extend(forbidden_permission(error, "list users")?),
        }
        match self.list_stages().await {
            Ok(stages) => report.stages = stages,
            Err(error) => missing.extend(forbidden_permission(error, "list stages")?),
        }
        match self.list_tags().await {
            Ok(tags) => report.tags = tags,
            Err(error) => missing.extend(forbidden_permission(error, "list tags")?),
        }

        let perform_as = default_actor(&report.users).unwrap_or_default();
        for (permission, request) in probes(&perform_as, self.is_oauth()) {
            match self.execute(&request).await {
                Ok(_) => {}
                Err(error) => missing.extend(probe_outcome(error, permission)?),
            }
        }

        report.missing = REQUIRED_PERMISSIONS
            .iter()
            .filter(|required| missing.iter().any(|name| name == *required))
            .map(|name| (*name).to_owned())
            .collect();
        Ok(report)
    }
}

/// The user to name in `perform_as` while probing (an active admin if there is one), so that
/// endpoints requiring it answer about the permission rather than the missing parameter.
fn default_actor(users: &[User]) -> Option<String> {
    let active = || {
        users
            .iter()
            .filter(|user| user.is_active() && !user.id.is_empty())
    };
    ["super admin", "admin"]
        .iter()
        .find_map(|role| active().find(|user| user.access_role.eq_ignore_ascii_case(role)))
        .or_else(|| active().next())
        .map(|user| user.id.clone())
}

/// The requests that probe each permission beyond the three lists, as `PERMISSION_TABLE`'s
/// documentation lists them: reads, and writes to an opportunity that does not exist.
fn probes(perform_as: &str, oauth: bool) -> Vec<(&'static str, ApiRequest)> {
    let nil = NIL_OPPORTUNITY_ID;
    let write = |action: &str| {
        ApiRequest::new(Method::POST, &["opportunities", nil, action]).perform_as(perform_as)
    };
    let mut probes = vec![
        (
            "read opportunity",
            ApiRequest::new(Method::GET, &["opportunities", nil]),
        ),
        (
            "read posting",
            ApiRequest::new(Method::GET, &["postings", nil]),
        ),
        (
            "list opportunity notes",
            ApiRequest::new(Method::GET, &["opportunities", nil, "notes"]),
        ),
        (
            "list opportunity files",
            ApiRequest::new(Method::GET, &["opportunities", nil, "files"]),
        ),
        (
            "list opportunity feedback",
            ApiRequest::new(Method::GET, &["opportunities", nil, "feedback"]),
        ),
        (
            "list feedback templates",
            ApiRequest::new(Method::GET, &["feedback_templates"]).query("limit", "1"),
        ),
    ];
    if oauth {
        return probes;
    }
    let tag = json!({ "tags": ["leverbridge-permission-check"] });
    let link = json!({ "links": ["https://leverbridge.invalid/permission-check"] });
    probes.extend([
        ("add opportunity tag", write("addTags").json(tag.clone())),
        ("remove opportunity tag", write("removeTags").json(tag)),
        ("add opportunity link", write("addLinks").json(link.clone())),
        ("remove opportunity link", write("removeLinks").json(link)),
        (
            "create opportunity note",
            write("notes").json(json!({ "value": "leverbridge permission check" })),
        ),
        (
            "upload opportunity file",
            write("files").file(
                "permission-check.txt",
                "text/plain",
                b"leverbridge permission check".to_vec(),
            ),
        ),
        (
            "create opportunity feedback",
            write("feedback").json(json!({ "baseTemplateId": nil, "fieldValues": [] })),
        ),
    ]);
    probes
}

/// A failed list read: 403 names the missing permission, anything else is the test's error.
fn forbidden_permission(
    error: LeverError,
    permission: &'static str,
) -> Result<Option<&'static str>, LeverError> {
    match error {
        LeverError::Forbidden { .. } => Ok(Some(permission)),
        other => Err(other),
    }
}

/// A probe's failure: 404 and 400 passed the permission check, 403 did not.
fn probe_outcome(
    error: LeverError,
    permission: &'static str,
) -> Result<Option<&'static str>, LeverError> {
    match error {
        LeverError::NotFound { .. } | LeverError::BadRequest { .. } | LeverError::Decode(_) => {
            Ok(None)
        }
        other => forbidden_permission(other, permission),
    }
}

#[cfg(test)]
mod tests {
    use super::super::permission_table::{permission_for_segments, UNTESTED_PERMISSIONS};
    use super::*;

    #[test]
    fn probes_cover_exactly_the_required_permissions_beyond_the_lists() {
        let probed: Vec<&str> = probes("u1", false).iter().map(|(name, _)| *name).collect();
        let expected: Vec<&str> = REQUIRED_PERMISSIONS[3..]
            .iter()
            .copied()
            .filter(|name| !UNTESTED_PERMISSIONS.contains(name))
            .collect();
        let mut sorted_probed = probed.clone();
        sorted_probed.sort_unstable();
        let mut sorted_expected = expected.clone();
        sorted_expected.sort_unstable();
        assert_eq!(sorted_probed, sorted_expected);
        // Each probe really calls the endpoint of the permission it claims to test, and every
        // write goes to the opportunity that does not exist.
        for (name, request) in probes("u1", false) {
            assert_eq!(
                permission_for_segments(request.method_str(), request.segments()),
                Some(name)
            );
            if request.method_str() != "GET" {
                assert_eq!(
                    request.segments()[..2],
                    ["opportunities", NIL_OPPORTUNITY_ID],
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn the_actor_is_an_active_admin_when_there_is_one() {
        let user = |id: &str, role: &str, deactivated: bool| User {
            id: id.into(),
            access_role: role.into(),
            deactivated_at: deactivated.then_some(1),
            ..User::default()
        };
        let users = vec![
            user("a", "interviewer", false),
            user("b", "super admin", true),
            user("c", "admin", false),
        ];
        assert_eq!(default_actor(&users).as_deref(), Some("c"));
        assert_eq!(default_actor(&users[..1]).as_deref(), Some("a"));
        assert_eq!(default_actor(&[]), None);
    }
}
