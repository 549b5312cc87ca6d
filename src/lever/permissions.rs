//! Lever API-key permissions: which one each endpoint needs (by Lever's names for them; the
//! simulator in `lever_sim::api` enforces the same table), and the connection test that finds
//! the missing ones.

use reqwest::Method;
use serde_json::json;

use super::client::LeverClient;
use super::error::LeverError;
use super::request::ApiRequest;
use super::types::{Stage, Tag, User};

/// `(method, path pattern, permission)`; `:x` matches any one path segment.
///
/// # How the connection test probes these without writing to the customer's Lever
///
/// The three lists (`GET /users`, `/stages`, `/tags`) are read in full: the settings pages need
/// them. Every other required permission is probed by one request that Lever authorizes before
/// it looks anything up, so 403 means the permission is missing and 404 (or 400) that it is
/// granted:
///
/// | permission | probe | why nothing can be created |
/// |---|---|---|
/// | read opportunity | `GET /opportunities/NIL` | a read |
/// | read posting | `GET /postings/NIL` | a read |
/// | list opportunity notes, files, feedback | `GET /opportunities/NIL/notes`, `/files`, `/feedback` | reads (the files and feedback are looked for only when a write-back is rerun after a crash) |
/// | list feedback templates | `GET /feedback_templates?limit=1` | a read |
/// | add / remove opportunity tag | `POST /opportunities/NIL/addTags`, `/removeTags` `{"tags":["leverbridge-permission-check"]}` | no opportunity has the id [`NIL_OPPORTUNITY_ID`]: Lever answers 404 |
/// | add / remove opportunity link | `POST /opportunities/NIL/addLinks`, `/removeLinks` `{"links":["https://leverbridge.invalid/permission-check"]}` | the same 404 |
/// | create opportunity note | `POST /opportunities/NIL/notes` `{"value":"leverbridge permission check"}` | a note belongs to an opportunity, and there is none: 404 |
/// | upload opportunity file | `POST /opportunities/NIL/files`, a 28-byte text file | a file belongs to an opportunity: 404 |
/// | create opportunity feedback | `POST /opportunities/NIL/feedback` `{"baseTemplateId":NIL,"fieldValues":[]}` | feedback belongs to an opportunity: 404 |
///
/// `perform_as` names an active admin, so that Lever answers about the permission and not
/// about a missing parameter. An OAuth connection sends only the reads: its scopes decide.
///
/// "create feedback template" is not probed: `POST /feedback_templates` belongs to no
/// opportunity, so the only probe would be a body Lever must reject (a template without its
/// `score-system` field), and a Lever that accepted it would hold a new template. It is listed
/// in [`UNTESTED_PERMISSIONS`] and shown on the Connection page as not tested.
const PERMISSION_TABLE: &[(&str, &str, &str)] = &[
    ("GET", "/users", "list users"),
    ("GET", "/users/:id", "read user"),
    ("GET", "/stages", "list stages"),
    ("GET", "/stages/:id", "read stage"),
    ("GET", "/tags", "list tags"),
    ("GET", "/sources", "list sources"),
    ("GET", "/postings", "list postings"),
    ("GET", "/postings/:id", "read posting"),
    ("GET", "/opportunities", "list opportunities"),
    ("GET", "/opportunities/:id", "read opportunity"),
    (
        "PUT",
        "/opportunities/:id/stage",
        "update opportunity stage",
    ),
    ("POST", "/opportunities/:id/addTags", "add opportunity tag"),
    (
        "POST",
        "/opportunities/:id/removeTags",
        "remove opportunity tag",
    ),
    (
        "POST",
        "/opportunities/:id/addLinks",
        "add opportunity link",
    ),
    (
        "POST",
        "/opportunities/:id/removeLinks",
        "remove opportunity link",
    ),
    ("GET", "/opportunities/:id/notes", "list opportunity notes"),
    (
        "POST",
        "/opportunities/:id/notes",
        "create opportunity note",
    ),
    (
        "DELETE",
        "/opportunities/:id/notes/:noteId",
        "delete opportunity note",
    ),
    ("GET", "/opportunities/:id/files", "list opportunity files"),
    (
        "POST",
        "/opportunities/:id/files",
        "upload opportunity file",
    ),
    (
        "DELETE",
        "/opportunities/:id/files/:fileId",
        "delete opportunity file",
    ),
    (
        "GET",
        "/opportunities/:id/feedback",
        "list opportunity feedback",
    ),
    (
        "POST",
        "/opportunities/:id/feedback",
        "create opportunity feedback",
    ),
    (
        "GET",
        "/opportunities/:id/applications",
        "list opportunity applications",
    ),
    ("GET", "/feedback_templates", "list feedback templates"),
    ("POST", "/feedback_templates", "create feedback template"),
    ("GET", "/webhooks", "list webhooks"),
    ("POST", "/webhooks", "create webhook"),
    ("DELETE", "/webhooks/:id", "delete webhook"),
];

/// The permissions an API key needs for everything leverbridge does, in the order the
/// connection test reports them.
pub const REQUIRED_PERMISSIONS: &[&str] = &[
    "list users",
    "list stages",
    "list tags",
    "read opportunity",
    "read posting",
    "add opportunity tag",
    "remove opportunity tag",
    "add opportunity link",
    "remove opportunity link",
    "list opportunity notes",
    "create opportunity note",
    "upload opportunity file",
    "list opportunity files",
    "create opportunity feedback",
    "list opportunity feedback",
    "list feedback templates",
    "create feedback template",
];

/// Required permissions the connection test cannot probe without writing to Lever (see
/// [`PERMISSION_TABLE`]): the admin is asked to check them in Lever.
pub const UNTESTED_PERMISSIONS: &[&str] = &["create feedback template"];

/// The id the connection test writes to: no opportunity has it, so a call that passes the
/// permission check ends in 404 and changes nothing.
pub const NIL_OPPORTUNITY_ID: &str = "00000000-0000-0000-0000-000000000000";

/// The permission `method path` needs; `path` is relative to the API base (`/users`,
/// `/opportunities/ID/addTags`), a query string is ignored.
pub fn permission_for(method: &str, path: &str) -> Option<&'static str> {
    let path = path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path
        .split('/')
        .filter(|segment| !segment.is_empty())
        .collect();
    permission_for_segments(method, &segments)
}

pub(crate) fn permission_for_segments<S: AsRef<str>>(
    method: &str,
    segments: &[S],
) -> Option<&'static str> {
    table_row(method, segments).map(|(_, _, permission)| *permission)
}

/// The path pattern `method segments` matches in the table, e.g. `/opportunities/:id/notes`:
/// how the metrics name an endpoint without the ids in its path.
pub(crate) fn endpoint_pattern<S: AsRef<str>>(
    method: &str,
    segments: &[S],
) -> Option<&'static str> {
    table_row(method, segments).map(|(_, pattern, _)| *pattern)
}

fn table_row<S: AsRef<str>>(
    method: &str,
    segments: &[S],
) -> Option<&'static (&'static str, &'static str, &'static str)> {
    PERMISSION_TABLE.iter().find(|(table_method, pattern, _)| {
        let pattern: Vec<&str> = pattern
            .split('/')
            .filter(|segment| !segment.is_empty())
            .collect();
        table_method.eq_ignore_ascii_case(method)
            && pattern.len() == segments.len()
            && pattern
                .iter()
                .zip(segments)
                .all(|(expected, actual)| expected.starts_with(':') || *expected == actual.as_ref())
    })
}

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
    /// leverbridge needs, except [`UNTESTED_PERMISSIONS`], by calling its endpoint on
    /// [`NIL_OPPORTUNITY_ID`]: 404 (or 400) means granted, 403 missing. Nothing it sends can
    /// create anything (see [`PERMISSION_TABLE`]). An OAuth connection skips the write probes:
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

/// The requests that probe each permission beyond the three lists, as [`PERMISSION_TABLE`]'s
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
    use super::*;

    #[test]
    fn endpoints_map_to_permissions() {
        assert_eq!(
            permission_for("GET", "/users?limit=100"),
            Some("list users")
        );
        assert_eq!(
            permission_for("POST", "/opportunities/abc/addTags"),
            Some("add opportunity tag")
        );
        assert_eq!(
            permission_for("DELETE", "/opportunities/a/files/b"),
            Some("delete opportunity file")
        );
        assert_eq!(
            permission_for("PUT", "/opportunities/a/stage"),
            Some("update opportunity stage")
        );
        assert_eq!(permission_for("GET", "/opportunities/a/stage"), None);
        assert_eq!(permission_for("PATCH", "/users"), None);
    }

    #[test]
    fn every_required_permission_is_in_the_table() {
        for required in REQUIRED_PERMISSIONS {
            assert!(
                PERMISSION_TABLE.iter().any(|(_, _, name)| name == required),
                "{required}"
            );
        }
    }

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
