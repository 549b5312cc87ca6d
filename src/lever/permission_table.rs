//! Lever API-key permissions: which one each endpoint needs, by Lever's names for them (the
//! simulator in `lever_sim::api` enforces the same table), and which ones leverbridge requires.
//! The client names a refused call's permission and a metric's endpoint from it; the
//! connection test (`permissions.rs`) probes the required ones.

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
}
